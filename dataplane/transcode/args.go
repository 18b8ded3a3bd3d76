package transcode

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Encoder families a Transcoder may use.
const (
	EncoderCPU   = "cpu"   // libx264, libx265, libsvtav1
	EncoderNVENC = "nvenc" // h264_nvenc, hevc_nvenc with CUDA decode and scaling; AV1 stays on libsvtav1
)

// Audio every rendition set gets: AAC-LC, stereo, 48 kHz, which every player decodes.
const (
	audioBitrate    = 128_000
	audioChannels   = 2
	audioSampleRate = 48_000
	audioCodec      = "mp4a.40.2"
	audioFile       = "audio.mp4"
)

// fragmentFlags make every output a fragmented MP4 whose fragments each start
// at a keyframe, ready for CMAF packaging without re-muxing.
const fragmentFlags = "+frag_keyframe+empty_moov+default_base_moof"

func videoFile(r Rung) string { return "video_" + r.Name + ".mp4" }

// commandSpec is everything the ffmpeg command line depends on. buildArgs is a
// pure function of it, so that the command is tested without running it.
type commandSpec struct {
	Input   string // local source file
	OutDir  string // where the outputs are written
	Source  VideoStream
	Rungs   []Rung // planned: exact output sizes
	Audio   bool   // the source has audio to encode
	Segment time.Duration
	Encoder string // EncoderCPU or EncoderNVENC
	Preset  string // x264 preset name
}

// nvdecCodecs and nvdecPixelFormats are what NVDEC decodes into CUDA frames on
// every GPU since Turing; other sources decode on the CPU.
var (
	nvdecCodecs = map[string]bool{
		"h264": true, "hevc": true, "av1": true, "vp9": true, "vp8": true,
		"mpeg1video": true, "mpeg2video": true, "mpeg4": true, "vc1": true,
	}
	nvdecPixelFormats = map[string]bool{
		"yuv420p": true, "yuvj420p": true, "nv12": true, "yuv420p10le": true, "p010le": true,
	}
)

// gpuFrames says whether frames stay on the GPU from decoder to encoder. A
// rotated source does not: ffmpeg's automatic rotation inserts a CPU transpose
// filter, which cannot take CUDA frames.
func (s commandSpec) gpuFrames() bool {
	return s.Encoder == EncoderNVENC && nvdecCodecs[s.Source.Codec] &&
		nvdecPixelFormats[s.Source.PixelFormat] && s.Source.Rotation == 0
}

// gop is the keyframe interval in frames: one segment. It is rounded up so
// that -g never forces an extra keyframe just before a time-forced one.
func (s commandSpec) gop() int {
	fps := s.Source.FrameRate.Float()
	if fps <= 0 {
		fps = 30
	}
	return max(1, int(math.Ceil(fps*s.Segment.Seconds()-1e-9)))
}

// videoEncoder is the ffmpeg encoder for a codec under an encoder family.
func videoEncoder(family, codec string) string {
	switch {
	case codec == CodecAV1:
		return "libsvtav1" // no NVENC AV1 before Ada GPUs and ffmpeg 6
	case family == EncoderNVENC && codec == CodecHEVC:
		return "hevc_nvenc"
	case family == EncoderNVENC:
		return "h264_nvenc"
	case codec == CodecHEVC:
		return "libx265"
	default:
		return "libx264"
	}
}

// buildArgs is the whole ffmpeg argument list (without the program name) for
// one job: one input, one decode, split to every rung, one fragmented MP4 per
// video rung and one for the audio.
func buildArgs(s commandSpec) []string {
	args := []string{
		"-hide_banner", "-nostdin", "-nostats", "-y", "-loglevel", "warning",
		"-progress", "pipe:1", "-stats_period", "0.5",
	}
	if s.Encoder == EncoderNVENC {
		// Without an output format the decoder falls back to the CPU by itself
		// for what NVDEC cannot do, and hands over system-memory frames.
		args = append(args, "-hwaccel", "cuda")
		if s.gpuFrames() {
			args = append(args, "-hwaccel_output_format", "cuda")
		}
	}
	args = append(args, inputArgs(s.Input)...)
	args = append(args, "-filter_complex", filterGraph(s))
	for i, r := range s.Rungs {
		args = append(args, videoOutputArgs(s, i, r)...)
	}
	if s.Audio {
		args = append(args, audioOutputArgs(s)...)
	}
	return args
}

// filterGraph decodes once and splits into one scaled branch per rung, labelled
// [v0], [v1] … in rung order.
func filterGraph(s commandSpec) string {
	var b strings.Builder
	src := fmt.Sprintf("[0:%d]", s.Source.Index)
	n := len(s.Rungs)
	if n > 1 {
		b.WriteString(src + "split=" + strconv.Itoa(n))
		for i := range n {
			fmt.Fprintf(&b, "[s%d]", i)
		}
		b.WriteString(";")
	}
	for i, r := range s.Rungs {
		if i > 0 {
			b.WriteString(";")
		}
		if n > 1 {
			fmt.Fprintf(&b, "[s%d]", i)
		} else {
			b.WriteString(src)
		}
		b.WriteString(scaleChain(s, r))
		fmt.Fprintf(&b, "[v%d]", i)
	}
	return b.String()
}

// scaleChain scales one branch to the rung's size with square pixels, in the
// pixel format its encoder takes.
func scaleChain(s commandSpec, r Rung) string {
	if !s.gpuFrames() {
		return fmt.Sprintf("scale=w=%d:h=%d:flags=bicubic,setsar=1,format=yuv420p", r.Width, r.Height)
	}
	// nv12 is 8-bit 4:2:0, which h264_nvenc and Main-profile hevc_nvenc take;
	// scale_cuda converts a 10-bit source on the way.
	chain := fmt.Sprintf("scale_cuda=w=%d:h=%d:interp_algo=bicubic:format=nv12,setsar=1", r.Width, r.Height)
	if videoEncoder(s.Encoder, r.codec()) == "libsvtav1" {
		chain += ",hwdownload,format=nv12,format=yuv420p"
	}
	return chain
}

func videoOutputArgs(s commandSpec, i int, r Rung) []string {
	g := strconv.Itoa(s.gop())
	d := seconds(s.Segment)
	enc := videoEncoder(s.Encoder, r.codec())
	args := []string{"-map", fmt.Sprintf("[v%d]", i), "-c:v", enc}

	rate := []string{
		"-b:v", strconv.Itoa(r.VideoBitrate),
		"-maxrate", strconv.Itoa(r.VideoBitrate * 11 / 10),
		"-bufsize", strconv.Itoa(r.VideoBitrate * 2),
	}
	switch enc {
	case "libx264":
		args = append(args, "-preset", s.Preset, "-profile:v", h264Profile(r))
		args = append(args, rate...)
		args = append(args, "-g", g, "-keyint_min", g, "-sc_threshold", "0", "-bf", "2",
			"-x264-params", "keyint="+g+":min-keyint="+g+":scenecut=0:open-gop=0")
	case "libx265":
		args = append(args, "-preset", s.Preset, "-profile:v", "main", "-tag:v", "hvc1")
		args = append(args, rate...)
		args = append(args, "-g", g, "-keyint_min", g, "-bf", "2", "-forced-idr", "1",
			"-x265-params", "keyint="+g+":min-keyint="+g+":scenecut=0:open-gop=0:log-level=error")
	case "libsvtav1":
		// SVT-AV1 takes no VBV cap in VBR mode; its GOPs are closed (key frame
		// refresh) by default, and scene-change keyframes are turned off.
		args = append(args, "-preset", strconv.Itoa(svtPreset(s.Preset)),
			"-b:v", strconv.Itoa(r.VideoBitrate), "-g", g, "-svtav1-params", "scd=0")
	case "h264_nvenc", "hevc_nvenc":
		profile := h264Profile(r)
		if enc == "hevc_nvenc" {
			profile = "main"
		}
		args = append(args, "-preset", nvencPreset(s.Preset), "-tune", "hq", "-profile:v", profile)
		if enc == "hevc_nvenc" {
			args = append(args, "-tag:v", "hvc1")
		}
		args = append(args, "-rc", "vbr")
		args = append(args, rate...)
		// B-frames without B-references: no pyramid, so every GOP closes at
		// its IDR and decode order stays simple for every player.
		args = append(args, "-g", g, "-keyint_min", g, "-bf", "2", "-b_ref_mode", "disabled",
			"-forced-idr", "1", "-strict_gop", "1", "-no-scenecut", "1")
	}
	args = append(args, "-force_key_frames", "expr:gte(t,n_forced*"+d+")")
	return append(args, containerArgs(filepath.Join(s.OutDir, videoFile(r)))...)
}

func audioOutputArgs(s commandSpec) []string {
	args := []string{
		"-map", "0:a:0", "-c:a", "aac", "-profile:a", "aac_low",
		"-b:a", strconv.Itoa(audioBitrate), "-ac", strconv.Itoa(audioChannels), "-ar", strconv.Itoa(audioSampleRate),
		// Every audio frame is a keyframe, so audio fragments are cut by time.
		"-frag_duration", strconv.FormatInt(s.Segment.Microseconds(), 10),
	}
	return append(args, containerArgs(filepath.Join(s.OutDir, audioFile))...)
}

// containerArgs end every output. Metadata and chapters are dropped because a
// chapter list becomes a text track and a timecode a tmcd track, and each file
// must hold exactly one track.
func containerArgs(path string) []string {
	return []string{
		"-map_metadata", "-1", "-map_chapters", "-1", "-write_tmcd", "0",
		"-movflags", fragmentFlags, "-f", "mp4", path,
	}
}

// h264Profile is High for 480p and up, Main below, for the old and cheap
// devices that the small rungs are for.
func h264Profile(r Rung) string {
	if r.tier() < 480 {
		return "main"
	}
	return "high"
}

// x264Presets are the presets Config.Preset may name, fastest first.
var x264Presets = []string{"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"}

// svtPreset maps an x264 preset to the SVT-AV1 preset of similar speed.
func svtPreset(p string) int {
	for i, name := range x264Presets {
		if name == p {
			return 12 - i
		}
	}
	return 10
}

// nvencPreset maps an x264 preset to NVENC's p1 (fastest) … p7 (best).
func nvencPreset(p string) string {
	if n, ok := nvencPresets[p]; ok {
		return n
	}
	return "p4"
}

var nvencPresets = map[string]string{
	"ultrafast": "p1", "superfast": "p1", "veryfast": "p2", "faster": "p3", "fast": "p3",
	"medium": "p4", "slow": "p5", "slower": "p6", "veryslow": "p7",
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }
