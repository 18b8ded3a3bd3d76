package transcode

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// progressLog records Progress calls and checks their contract.
type progressLog struct {
	mu  sync.Mutex
	pct []float64
}

func (p *progressLog) report(pct float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pct = append(p.pct, pct)
}

func (p *progressLog) check(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.pct) < 2 {
		t.Fatalf("progress reported %v: want updates, then 100", p.pct)
	}
	for i, x := range p.pct {
		if x < 0 || x > 100 || (i > 0 && x <= p.pct[i-1]) {
			t.Fatalf("progress not increasing within 0–100: %v", p.pct)
		}
	}
	if last := p.pct[len(p.pct)-1]; last != 100 || slices.Index(p.pct, 100) != len(p.pct)-1 {
		t.Fatalf("progress %v: want exactly one 100, last", p.pct)
	}
}

func sameTimes(a, b []float64, tolerance float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Abs(x-y) < tolerance })
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// assertRendition checks one video output against its Rendition and ffprobe
// and returns its keyframe times.
func assertRendition(t *testing.T, r Rendition, width, height int, target int) []float64 {
	t.Helper()
	p := inspect(t, r.Path)
	if types := p.streamTypes(); !slices.Equal(types, []string{"video"}) {
		t.Fatalf("%s holds %v, want one video track", r.Name, types)
	}
	if p.get("width") != strconv.Itoa(width) || p.get("height") != strconv.Itoa(height) || r.Width != width || r.Height != height {
		t.Errorf("%s: file %sx%s, rendition %dx%d, want %dx%d", r.Name, p.get("width"), p.get("height"), r.Width, r.Height, width, height)
	}
	if r.Bitrate < target/4 || r.Bitrate > target*2 {
		t.Errorf("%s: measured %d bps for a %d bps target", r.Name, r.Bitrate, target)
	}
	// The codec string read from avcC agrees with ffprobe's profile and level.
	if p.get("codec_name") == "h264" {
		level, _ := strconv.Atoi(p.get("level"))
		prefix := map[string]string{"High": "avc1.64", "Main": "avc1.4d"}[p.get("profile")]
		if prefix == "" || !strings.HasPrefix(r.Codec, prefix) || !strings.HasSuffix(r.Codec, fmt.Sprintf("%02x", level)) {
			t.Errorf("%s: codec %s, but ffprobe says %s level %d", r.Name, r.Codec, p.get("profile"), level)
		}
	}
	if strings.HasPrefix(r.Codec, "hvc1") && p.get("codec_tag_string") != "hvc1" {
		t.Errorf("%s: HEVC tagged %s, want hvc1 (Apple players need it)", r.Name, p.get("codec_tag_string"))
	}
	return p.Keyframes
}

func TestTranscodeLadder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := makeClip(t, dir, clip{Width: 640, Height: 360, Seconds: 5})
	out := filepath.Join(dir, "out")
	var progress progressLog

	res, err := newTestTranscoder(t, Config{}).Transcode(testContext(t), Job{Input: src, OutDir: out, Progress: progress.report})
	if err != nil {
		t.Fatal(err)
	}
	progress.check(t)
	if math.Abs(res.Duration.Seconds()-5) > 0.1 || res.EncodeSeconds <= 0 {
		t.Errorf("duration %v, encode %.2fs", res.Duration, res.EncodeSeconds)
	}
	if names := dirNames(t, out); !slices.Equal(names, []string{"audio.mp4", "video_240p.mp4", "video_360p.mp4"}) {
		t.Errorf("out holds %v", names)
	}
	if len(res.Renditions) != 2 {
		t.Fatalf("renditions %+v", res.Renditions)
	}
	want := []struct {
		name  string
		w, h  int
		rate  int
		codec string
	}{{"360p", 640, 360, 800_000, "avc1.4d"}, {"240p", 426, 240, 400_000, "avc1.4d"}}
	var aligned []float64
	for i, r := range res.Renditions {
		w := want[i]
		if r.Name != w.name || r.Encoder != "libx264" || r.Path != filepath.Join(out, "video_"+w.name+".mp4") ||
			!strings.HasPrefix(r.Codec, w.codec) {
			t.Errorf("rendition %+v", r)
		}
		kf := assertSegmentKeyframes(t, r.Path, assertRendition(t, r, w.w, w.h, w.rate), 2, 5, 30)
		if aligned == nil {
			aligned = kf
		} else if !sameTimes(kf, aligned, 0.5/30) {
			t.Errorf("%s keyframes at %v, others at %v", r.Name, kf, aligned)
		}
		// Fragments begin exactly at keyframes: one moof per keyframe.
		if boxes := topLevelBoxes(t, r.Path); boxes["moof"] != len(kf) || boxes["moov"] != 1 {
			t.Errorf("%s: boxes %v for %d keyframes", r.Name, boxes, len(kf))
		}
	}

	a := res.Audio
	if a == nil {
		t.Fatal("no audio track")
	}
	if a.Path != filepath.Join(out, "audio.mp4") || a.Codec != "mp4a.40.2" || a.Channels != 2 || a.SampleRate != 48000 ||
		a.Bitrate < 100_000 || a.Bitrate > 200_000 {
		t.Errorf("audio %+v", a)
	}
	p := inspect(t, a.Path)
	if types := p.streamTypes(); !slices.Equal(types, []string{"audio"}) {
		t.Errorf("audio.mp4 holds %v", types)
	}
	if p.get("codec_name") != "aac" || p.get("profile") != "LC" || p.get("channels") != "2" || p.get("sample_rate") != "48000" {
		t.Errorf("audio.mp4: %v", p.Streams)
	}
	if moofs := topLevelBoxes(t, a.Path)["moof"]; moofs < 2 || moofs > 4 {
		t.Errorf("audio.mp4 has %d fragments for 5s at 2s each", moofs)
	}
}

func TestTranscode720pWithHEVCAndAV1(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := makeClip(t, dir, clip{Width: 1280, Height: 720, Seconds: 4, NoAudio: true})
	ladder := []Rung{
		{Name: "720p", Height: 720, VideoBitrate: 3_000_000, Codec: CodecH264},
		{Name: "360p-hevc", Height: 360, VideoBitrate: 600_000, Codec: CodecHEVC},
		{Name: "240p-av1", Height: 240, VideoBitrate: 300_000, Codec: CodecAV1},
		{Name: "1080p", Height: 1080, VideoBitrate: 5_000_000}, // above the source: dropped
	}
	// superfast is the fastest preset that still makes High-profile H.264.
	tr := newTestTranscoder(t, Config{Preset: "superfast"})
	res, err := tr.Transcode(testContext(t), Job{Input: src, OutDir: filepath.Join(dir, "out"), Ladder: ladder})
	if err != nil {
		t.Fatal(err)
	}
	if res.Audio != nil {
		t.Errorf("audio %+v from a silent source", res.Audio)
	}
	want := []struct {
		name, encoder, codec string
		w, h, rate           int
	}{
		{"720p", "libx264", "avc1.64", 1280, 720, 3_000_000},
		{"360p-hevc", "libx265", "hvc1.1.6.L", 640, 360, 600_000},
		{"240p-av1", "libsvtav1", "av01.0.", 426, 240, 300_000},
	}
	if len(res.Renditions) != len(want) {
		t.Fatalf("renditions %+v", res.Renditions)
	}
	var aligned []float64
	for i, r := range res.Renditions {
		w := want[i]
		if r.Name != w.name || r.Encoder != w.encoder || !strings.HasPrefix(r.Codec, w.codec) {
			t.Errorf("rendition %+v, want %+v", r, w)
		}
		kf := assertSegmentKeyframes(t, r.Path, assertRendition(t, r, w.w, w.h, w.rate), 2, 4, 30)
		if aligned == nil {
			aligned = kf
		} else if !sameTimes(kf, aligned, 0.5/30) {
			t.Errorf("%s keyframes at %v, others at %v", r.Name, kf, aligned)
		}
	}
}

func TestTranscodeSmallRotatedSilentSource(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := makeClip(t, dir, clip{Width: 320, Height: 180, Seconds: 2, NoAudio: true, Rotate: 90})
	out := filepath.Join(dir, "out")
	res, err := newTestTranscoder(t, Config{Preset: "ultrafast"}).Transcode(testContext(t), Job{Input: src, OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Renditions) != 1 || res.Renditions[0].Name != "180p" || res.Audio != nil {
		t.Fatalf("result %+v", res)
	}
	// Smaller than every rung: one rung at the source's size, turned upright.
	assertRendition(t, res.Renditions[0], 180, 320, 400_000)
	if names := dirNames(t, out); !slices.Equal(names, []string{"video_180p.mp4"}) {
		t.Errorf("out holds %v", names)
	}
}

func TestTranscodeCancelRemovesPartialOutputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := makeClip(t, dir, clip{Width: 640, Height: 360, Seconds: 12})
	// veryslow: the job must still be running when it is stopped, on any machine.
	tr := newTestTranscoder(t, Config{Preset: "veryslow"})

	t.Run("cancelled mid-run", func(t *testing.T) {
		out := filepath.Join(dir, "cancelled")
		ctx, cancel := context.WithCancel(testContext(t))
		defer cancel()
		var staged []string
		_, err := tr.Transcode(ctx, Job{Input: src, OutDir: out, Progress: func(float64) {
			if staged == nil {
				staged, _ = filepath.Glob(filepath.Join(out, ".transcode-*", "*.mp4"))
				cancel()
			}
		}})
		wantCode(t, err, CodeCanceled, true)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%v does not unwrap to context.Canceled", err)
		}
		if len(staged) == 0 {
			t.Error("nothing was being written when the job was cancelled")
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("output folder left behind: %v", err)
		}
	})

	t.Run("time limit in a folder with other files", func(t *testing.T) {
		out := filepath.Join(dir, "shared")
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, "keep.txt"), []byte("not ours"), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := tr.Transcode(ctx, Job{Input: src, OutDir: out})
		wantCode(t, err, CodeTimeout, true)
		if waited := time.Since(start); waited > 10*time.Second {
			t.Errorf("returned %v after the deadline", waited)
		}
		if names := dirNames(t, out); !slices.Equal(names, []string{"keep.txt"}) {
			t.Errorf("out holds %v after a timeout", names)
		}
	})
}

func TestTranscodeRefusesBadSources(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	text := filepath.Join(dir, "readme.mp4")
	if err := os.WriteFile(text, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	tr := newTestTranscoder(t, Config{})
	for name, tc := range map[string]struct {
		input, code string
	}{
		"audio only": {makeClip(t, dir, clip{NoVideo: true, Seconds: 2, Ext: "m4a"}), CodeNoVideoStream},
		"text":       {text, CodeInvalidMedia},
	} {
		out := filepath.Join(dir, "out-"+strings.ReplaceAll(name, " ", "-"))
		_, err := tr.Transcode(testContext(t), Job{Input: tc.input, OutDir: out})
		wantCode(t, err, tc.code, false)
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: output folder created for a refused source", name)
		}
	}
}

func TestTranscodeFFmpegFailures(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := makeClip(t, dir, clip{Width: 320, Height: 180, Seconds: 1})
	tests := []struct {
		fake, code string
		retryable  bool
	}{
		{"ffmpeg-unexplained", CodeFailed, true},
		{"ffmpeg-disk-full", CodeUnavailable, true},
		{"ffmpeg-gpu-gone", CodeUnavailable, true},
		{"ffmpeg-bad-data", CodeInvalidMedia, false},
	}
	for _, tc := range tests {
		t.Run(tc.fake, func(t *testing.T) {
			t.Parallel()
			tr := newTestTranscoder(t, Config{FFmpegPath: fakeTools[tc.fake]})
			out := filepath.Join(t.TempDir(), "out")
			_, err := tr.Transcode(testContext(t), Job{Input: src, OutDir: out})
			e := wantCode(t, err, tc.code, tc.retryable)
			// The stderr tail, and only the tail, is in the message.
			if !strings.Contains(e.Message, "stderr line 50") || strings.Count(e.Message, "stderr line") != stderrTailLines-1 ||
				strings.Contains(e.Message, "stderr line 30\n") || strings.Count(e.Message, "\n") > stderrTailLines+1 {
				t.Errorf("message:\n%s", e.Message)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Error("partial output left behind")
			}
		})
	}
	t.Run("ffmpeg missing", func(t *testing.T) {
		tr := newTestTranscoder(t, Config{FFmpegPath: filepath.Join(dir, "nowhere", "ffmpeg")})
		_, err := tr.Transcode(testContext(t), Job{Input: src, OutDir: filepath.Join(dir, "out")})
		wantCode(t, err, CodeUnavailable, true)
	})
}

func TestTranscodeRejectsBadJobs(t *testing.T) {
	t.Parallel()
	tr := newTestTranscoder(t, Config{})
	for name, job := range map[string]Job{
		"no input":      {OutDir: "/tmp/x"},
		"no out dir":    {Input: "/tmp/x.mp4"},
		"bad rung name": {Input: "/tmp/x.mp4", OutDir: "/tmp/x", Ladder: []Rung{{Name: "../../etc", Height: 240, VideoBitrate: 400_000}}},
	} {
		_, err := tr.Transcode(context.Background(), job)
		if e := Classify(err); e == nil || e.Code != CodeInvalidJob || e.Retryable {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestNewConfig(t *testing.T) {
	t.Parallel()
	tr, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{FFmpegPath: "ffmpeg", FFprobePath: "ffprobe", SegmentDuration: 2 * time.Second, Encoder: EncoderCPU, Preset: "veryfast"}
	if tr.Config() != want {
		t.Errorf("defaults %+v", tr.Config())
	}
	for name, cfg := range map[string]Config{
		"unknown encoder":    {Encoder: "quicksync"},
		"unknown preset":     {Preset: "ludicrous"},
		"injected preset":    {Preset: "veryfast -i /etc/passwd"},
		"tiny segments":      {SegmentDuration: time.Millisecond},
		"segments over 30s":  {SegmentDuration: time.Minute},
		"fractional segment": {SegmentDuration: 2*time.Second + time.Microsecond},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestProgressWriter(t *testing.T) {
	t.Parallel()
	var got []float64
	w := &progressWriter{total: 10 * time.Second, report: func(p float64) { got = append(got, p) }}
	for _, chunk := range []string{
		"frame=0\nout_time_us=N/A\nprogress=continue\n",
		"out_time_us=2500", "000\nprogress=continue\n", // split across writes
		"out_time_us=2000000\n", // backwards: ignored
		"out_time_us=5000000\nout_time_us=5000000\n",
		"out_time_us=12000000\nprogress=end\n", // past the end: held below 100
	} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	w.stop()
	_, _ = w.Write([]byte("out_time_us=9999999\n"))
	if want := []float64{25, 50, progressCeiling}; !slices.Equal(got, want) {
		t.Errorf("reported %v, want %v", got, want)
	}
}

func TestTailWriter(t *testing.T) {
	t.Parallel()
	w := &tailWriter{max: 3}
	_, _ = w.Write([]byte("one\ntwo\r\nthree\n\nfour\nfi"))
	_, _ = w.Write([]byte("ve"))
	if got := w.String(); got != "three\nfour\nfive" {
		t.Errorf("tail %q", got)
	}
	_, _ = w.Write([]byte(strings.Repeat("x", 5000) + "\n"))
	for line := range strings.Lines(w.String()) {
		if len(line) > stderrLineMax+8 {
			t.Errorf("kept a %d-byte line", len(line))
		}
	}
}
