package transcode

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// outputsOf cuts an argument list into the options of each output file, which
// follow the filter graph and end with the file's path.
func outputsOf(t *testing.T, args []string) (global []string, outputs [][]string) {
	t.Helper()
	i := slices.Index(args, "-filter_complex")
	if i < 0 {
		t.Fatalf("no -filter_complex in %q", args)
	}
	global, rest := args[:i+2], args[i+2:]
	for len(rest) > 0 {
		f := slices.Index(rest, "-f")
		if f < 0 || f+2 >= len(rest) {
			t.Fatalf("output options without a file: %q", rest)
		}
		outputs = append(outputs, rest[:f+3])
		rest = rest[f+3:]
	}
	return global, outputs
}

// opt returns the value following name in args, and whether it is there.
func opt(args []string, name string) (string, bool) {
	i := slices.Index(args, name)
	if i < 0 || i+1 >= len(args) {
		return "", false
	}
	return args[i+1], true
}

func TestBuildArgs(t *testing.T) {
	t.Parallel()
	src1080 := VideoStream{Index: 0, Codec: "h264", PixelFormat: "yuv420p", Width: 1920, Height: 1080, FrameRate: Rational{30, 1}}
	ladder5 := PlanLadder(MediaInfo{Video: src1080}, DefaultLadder())
	ladder1 := ladder5[3:4] // 360p

	tests := []struct {
		name    string
		encoder string
		rungs   []Rung
		audio   bool
	}{
		{"cpu, 5 rungs, audio", EncoderCPU, ladder5, true},
		{"cpu, 5 rungs, no audio", EncoderCPU, ladder5, false},
		{"cpu, 1 rung, audio", EncoderCPU, ladder1, true},
		{"cpu, 1 rung, no audio", EncoderCPU, ladder1, false},
		{"nvenc, 5 rungs, audio", EncoderNVENC, ladder5, true},
		{"nvenc, 5 rungs, no audio", EncoderNVENC, ladder5, false},
		{"nvenc, 1 rung, audio", EncoderNVENC, ladder1, true},
		{"nvenc, 1 rung, no audio", EncoderNVENC, ladder1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := commandSpec{
				Input: "/in/source.mov", OutDir: "/out", Source: src1080, Rungs: tc.rungs, Audio: tc.audio,
				Segment: 2 * time.Second, Encoder: tc.encoder, Preset: "veryfast",
			}
			args := buildArgs(spec)
			if !reflect.DeepEqual(args, buildArgs(spec)) {
				t.Fatal("buildArgs is not deterministic")
			}
			global, outputs := outputsOf(t, args)

			// One input, decoded once, split to every rung.
			if n := count(args, "-i"); n != 1 {
				t.Errorf("%d inputs", n)
			}
			if in, _ := opt(global, "-i"); in != "file:/in/source.mov" {
				t.Errorf("input %q", in)
			}
			if wl, _ := opt(global, "-protocol_whitelist"); wl != "file" {
				t.Errorf("protocol whitelist %q", wl)
			}
			if p, _ := opt(global, "-progress"); p != "pipe:1" {
				t.Errorf("progress to %q", p)
			}
			graph, _ := opt(global, "-filter_complex")
			n := len(tc.rungs)
			if n > 1 && !strings.HasPrefix(graph, "[0:0]split=5[s0][s1][s2][s3][s4];") {
				t.Errorf("graph does not split the one decode: %s", graph)
			}
			if n == 1 && strings.Contains(graph, "split") {
				t.Errorf("one rung needs no split: %s", graph)
			}
			if strings.Count(graph, "[0:0]") != 1 {
				t.Errorf("graph reads the input more than once: %s", graph)
			}

			nvenc := tc.encoder == EncoderNVENC
			if hw, _ := opt(global, "-hwaccel"); (hw == "cuda") != nvenc {
				t.Errorf("-hwaccel %q with encoder %s", hw, tc.encoder)
			}
			if f, _ := opt(global, "-hwaccel_output_format"); (f == "cuda") != nvenc {
				t.Errorf("-hwaccel_output_format %q with encoder %s", f, tc.encoder)
			}
			scaler := "scale=w="
			if nvenc {
				scaler = "scale_cuda=w="
			}
			if c := strings.Count(graph, scaler); c != n {
				t.Errorf("%d %s… in %s, want %d", c, scaler, graph, n)
			}

			wantOutputs := n
			if tc.audio {
				wantOutputs++
			}
			if len(outputs) != wantOutputs {
				t.Fatalf("%d outputs, want %d: %q", len(outputs), wantOutputs, outputs)
			}
			for i, r := range tc.rungs {
				out := outputs[i]
				path := out[len(out)-1]
				if path != filepath.Join("/out", "video_"+r.Name+".mp4") {
					t.Errorf("rung %s written to %s", r.Name, path)
				}
				assertOutputCommon(t, out)
				if m, _ := opt(out, "-map"); m != fmt.Sprintf("[v%d]", i) {
					t.Errorf("rung %s maps %s", r.Name, m)
				}
				if !strings.Contains(graph, "w="+itoa(r.Width)+":h="+itoa(r.Height)) {
					t.Errorf("rung %s: no %dx%d scaler in %s", r.Name, r.Width, r.Height, graph)
				}
				for name, want := range map[string]string{
					"-g": "60", "-keyint_min": "60", "-force_key_frames": "expr:gte(t,n_forced*2)",
					"-b:v": itoa(r.VideoBitrate), "-maxrate": itoa(r.VideoBitrate * 11 / 10), "-bufsize": itoa(r.VideoBitrate * 2),
				} {
					if got, _ := opt(out, name); got != want {
						t.Errorf("rung %s: %s %q, want %q", r.Name, name, got, want)
					}
				}
				wantProfile := "high"
				if r.Height < 480 {
					wantProfile = "main"
				}
				if p, _ := opt(out, "-profile:v"); p != wantProfile {
					t.Errorf("rung %s: profile %s, want %s", r.Name, p, wantProfile)
				}
				enc, _ := opt(out, "-c:v")
				if nvenc {
					if enc != "h264_nvenc" {
						t.Errorf("rung %s: encoder %s", r.Name, enc)
					}
					for name, want := range map[string]string{"-forced-idr": "1", "-rc": "vbr", "-b_ref_mode": "disabled", "-preset": "p2"} {
						if got, _ := opt(out, name); got != want {
							t.Errorf("rung %s: %s %q, want %q", r.Name, name, got, want)
						}
					}
				} else {
					if enc != "libx264" {
						t.Errorf("rung %s: encoder %s", r.Name, enc)
					}
					x264, _ := opt(out, "-x264-params")
					if x264 != "keyint=60:min-keyint=60:scenecut=0:open-gop=0" {
						t.Errorf("rung %s: x264 params %q", r.Name, x264)
					}
					if sc, _ := opt(out, "-sc_threshold"); sc != "0" {
						t.Errorf("rung %s: sc_threshold %q", r.Name, sc)
					}
					if p, _ := opt(out, "-preset"); p != "veryfast" {
						t.Errorf("rung %s: preset %q", r.Name, p)
					}
				}
			}
			if tc.audio {
				out := outputs[n]
				assertOutputCommon(t, out)
				want := []string{"-map", "0:a:0", "-c:a", "aac", "-profile:a", "aac_low", "-b:a", "128000", "-ac", "2", "-ar", "48000",
					"-frag_duration", "2000000"}
				if !reflect.DeepEqual(out[:len(want)], want) {
					t.Errorf("audio output %q", out)
				}
				if out[len(out)-1] != "/out/audio.mp4" {
					t.Errorf("audio written to %s", out[len(out)-1])
				}
			}
		})
	}
}

func assertOutputCommon(t *testing.T, out []string) {
	t.Helper()
	for name, want := range map[string]string{
		"-movflags": "+frag_keyframe+empty_moov+default_base_moof", "-f": "mp4",
		"-map_chapters": "-1", "-map_metadata": "-1", "-write_tmcd": "0",
	} {
		if got, _ := opt(out, name); got != want {
			t.Errorf("output %s: %s %q, want %q", out[len(out)-1], name, got, want)
		}
	}
	if n := count(out, "-map"); n != 1 {
		t.Errorf("output %s maps %d streams", out[len(out)-1], n)
	}
}

// TestBuildArgsExact pins one whole command line, the one a reviewer reads.
func TestBuildArgsExact(t *testing.T) {
	t.Parallel()
	spec := commandSpec{
		Input: "in.mp4", OutDir: "out", Audio: true, Segment: 2 * time.Second, Encoder: EncoderCPU, Preset: "veryfast",
		Source: VideoStream{Index: 0, Codec: "h264", PixelFormat: "yuv420p", Width: 640, Height: 360, FrameRate: Rational{30, 1}},
		Rungs:  []Rung{{Name: "360p", Width: 640, Height: 360, VideoBitrate: 800_000, Codec: CodecH264}},
	}
	want := strings.Fields(`-hide_banner -nostdin -nostats -y -loglevel warning -progress pipe:1 -stats_period 0.5
		-protocol_whitelist file -format_whitelist ` + inputFormats + ` -i file:in.mp4
		-filter_complex [0:0]scale=w=640:h=360:flags=bicubic,setsar=1,format=yuv420p[v0]
		-map [v0] -c:v libx264 -preset veryfast -profile:v main -b:v 800000 -maxrate 880000 -bufsize 1600000
		-g 60 -keyint_min 60 -sc_threshold 0 -bf 2 -x264-params keyint=60:min-keyint=60:scenecut=0:open-gop=0
		-force_key_frames expr:gte(t,n_forced*2)
		-map_metadata -1 -map_chapters -1 -write_tmcd 0 -movflags +frag_keyframe+empty_moov+default_base_moof -f mp4 out/video_360p.mp4
		-map 0:a:0 -c:a aac -profile:a aac_low -b:a 128000 -ac 2 -ar 48000 -frag_duration 2000000
		-map_metadata -1 -map_chapters -1 -write_tmcd 0 -movflags +frag_keyframe+empty_moov+default_base_moof -f mp4 out/audio.mp4`)
	if got := buildArgs(spec); !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}

func TestBuildArgsCodecsAndSources(t *testing.T) {
	t.Parallel()
	base := commandSpec{
		Input: "in.mp4", OutDir: "out", Segment: 2 * time.Second, Preset: "veryfast",
		Source: VideoStream{Index: 1, Codec: "h264", PixelFormat: "yuv420p", Width: 1280, Height: 720, FrameRate: Rational{30000, 1001}},
		Rungs: []Rung{
			{Name: "720p-hevc", Width: 1280, Height: 720, VideoBitrate: 2_000_000, Codec: CodecHEVC},
			{Name: "360p-av1", Width: 640, Height: 360, VideoBitrate: 500_000, Codec: CodecAV1},
		},
	}

	t.Run("cpu hevc and av1", func(t *testing.T) {
		spec := base
		spec.Encoder = EncoderCPU
		_, outs := outputsOf(t, buildArgs(spec))
		hevc, av1 := outs[0], outs[1]
		for name, want := range map[string]string{"-c:v": "libx265", "-tag:v": "hvc1", "-profile:v": "main", "-forced-idr": "1", "-g": "60"} {
			if got, _ := opt(hevc, name); got != want {
				t.Errorf("hevc %s %q, want %q", name, got, want)
			}
		}
		if p, _ := opt(hevc, "-x265-params"); !strings.Contains(p, "open-gop=0") || !strings.Contains(p, "scenecut=0") {
			t.Errorf("x265 params %q", p)
		}
		for name, want := range map[string]string{"-c:v": "libsvtav1", "-preset": "10", "-g": "60", "-force_key_frames": "expr:gte(t,n_forced*2)"} {
			if got, _ := opt(av1, name); got != want {
				t.Errorf("av1 %s %q, want %q", name, got, want)
			}
		}
	})

	t.Run("nvenc keeps av1 on the cpu", func(t *testing.T) {
		spec := base
		spec.Encoder = EncoderNVENC
		args := buildArgs(spec)
		graph, _ := opt(args, "-filter_complex")
		_, outs := outputsOf(t, args)
		if enc, _ := opt(outs[0], "-c:v"); enc != "hevc_nvenc" {
			t.Errorf("hevc encoder %s", enc)
		}
		if tag, _ := opt(outs[0], "-tag:v"); tag != "hvc1" {
			t.Errorf("hevc tag %s", tag)
		}
		if enc, _ := opt(outs[1], "-c:v"); enc != "libsvtav1" {
			t.Errorf("av1 encoder %s", enc)
		}
		want := "[0:1]split=2[s0][s1];" +
			"[s0]scale_cuda=w=1280:h=720:interp_algo=bicubic:format=nv12,setsar=1[v0];" +
			"[s1]scale_cuda=w=640:h=360:interp_algo=bicubic:format=nv12,setsar=1,hwdownload,format=nv12,format=yuv420p[v1]"
		if graph != want {
			t.Errorf("graph\n%s\nwant\n%s", graph, want)
		}
	})

	// What NVDEC cannot hand over as CUDA frames is decoded (and rotated) on
	// the CPU, then encoded with NVENC all the same.
	for name, mutate := range map[string]func(*VideoStream){
		"nvenc rotated source": func(v *VideoStream) { v.Rotation = 90 },
		"nvenc prores source":  func(v *VideoStream) { v.Codec = "prores" },
		"nvenc 4:2:2 source":   func(v *VideoStream) { v.PixelFormat = "yuv422p10le" },
	} {
		t.Run(name, func(t *testing.T) {
			spec := base
			spec.Encoder = EncoderNVENC
			mutate(&spec.Source)
			args := buildArgs(spec)
			if hw, _ := opt(args, "-hwaccel"); hw != "cuda" {
				t.Errorf("-hwaccel %q", hw)
			}
			if slices.Contains(args, "-hwaccel_output_format") {
				t.Error("CUDA frames requested for a source that needs the CPU")
			}
			graph, _ := opt(args, "-filter_complex")
			if strings.Contains(graph, "cuda") || strings.Count(graph, "scale=w=") != 2 {
				t.Errorf("graph %s", graph)
			}
			_, outs := outputsOf(t, args)
			if enc, _ := opt(outs[0], "-c:v"); enc != "hevc_nvenc" {
				t.Errorf("encoder %s", enc)
			}
		})
	}
}

func TestGOP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fps     Rational
		segment time.Duration
		want    int
	}{
		{Rational{30, 1}, 2 * time.Second, 60},
		{Rational{30000, 1001}, 2 * time.Second, 60},
		{Rational{24000, 1001}, 2 * time.Second, 48},
		{Rational{25, 1}, 2 * time.Second, 50},
		{Rational{60, 1}, 6 * time.Second, 360},
		{Rational{126, 5}, 2 * time.Second, 51}, // 25.2 fps: rounded up
		{Rational{}, 2 * time.Second, 60},       // unknown: 30 fps
		{Rational{1, 10}, 2 * time.Second, 1},
	} {
		spec := commandSpec{Source: VideoStream{FrameRate: tc.fps}, Segment: tc.segment}
		if got := spec.gop(); got != tc.want {
			t.Errorf("%v fps, %v segments: gop %d, want %d", tc.fps, tc.segment, got, tc.want)
		}
	}
}

// TestNVENCOptionsKnown checks the NVENC command against this ffmpeg's own
// option lists, since no GPU is here to run it: a misspelt option or value
// would only fail on a GPU node.
func TestNVENCOptionsKnown(t *testing.T) {
	t.Parallel()
	requireFFmpeg(t)
	help := func(what string) string {
		out, err := exec.Command("ffmpeg", "-hide_banner", "-h", what).CombinedOutput()
		if err != nil {
			t.Fatalf("ffmpeg -h %s: %v", what, err)
		}
		return string(out)
	}
	for _, enc := range []string{"h264_nvenc", "hevc_nvenc"} {
		h := help("encoder=" + enc)
		if strings.Contains(h, "is not recognized") {
			t.Skipf("this ffmpeg has no %s", enc)
		}
		for _, o := range []string{"-preset", "-tune", "-profile", "-rc ", "-forced-idr", "-b_ref_mode", "-strict_gop", "-no-scenecut"} {
			if !strings.Contains(h, "\n  "+o) {
				t.Errorf("%s has no option %s", enc, o)
			}
		}
		for _, v := range []string{"p2", "hq", "vbr", "disabled", "main"} {
			if !strings.Contains(h, "     "+v+" ") {
				t.Errorf("%s has no value %s", enc, v)
			}
		}
		if enc == "h264_nvenc" && !strings.Contains(h, "     high ") {
			t.Errorf("h264_nvenc has no high profile")
		}
	}
	h := help("filter=scale_cuda")
	for _, o := range []string{"interp_algo", "bicubic", "format"} {
		if !strings.Contains(h, o) {
			t.Errorf("scale_cuda has no %s", o)
		}
	}
}

func count(args []string, s string) int {
	n := 0
	for _, a := range args {
		if a == s {
			n++
		}
	}
	return n
}

func itoa(n int) string { return strconv.Itoa(n) }
