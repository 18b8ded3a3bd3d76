package transcode

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// MaxDimension is the largest picture side Marquee accepts (8K is 7680).
const MaxDimension = 8192

// MediaInfo is what Probe learns about a source file.
type MediaInfo struct {
	Duration  time.Duration
	Container string // ffprobe's demuxer names, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
	Size      int64  // bytes
	Bitrate   int    // bits per second, all streams
	Video     VideoStream
	Audio     *AudioStream // nil when the source has no audio
}

// VideoStream describes the first video stream of a source (cover art excluded).
type VideoStream struct {
	Index        int
	Codec        string // ffprobe codec name: "h264", "hevc", "prores" …
	Profile      string
	PixelFormat  string
	Width        int // as stored, before rotation
	Height       int
	SampleAspect Rational // pixel aspect ratio; 1:1 unless anamorphic
	FrameRate    Rational // average frame rate; zero when unknown
	Bitrate      int      // bits per second; 0 when the container does not say
	Rotation     int      // display rotation, degrees counter-clockwise: 0, 90, 180 or 270
}

// DisplaySize is the picture as a player shows it: rotation applied and
// non-square pixels stretched out.
func (v VideoStream) DisplaySize() (width, height int) {
	w := float64(v.Width)
	if sar := v.SampleAspect.Float(); sar > 0 && sar != 1 {
		w *= sar
	}
	width, height = int(math.Round(w)), v.Height
	if v.Rotation == 90 || v.Rotation == 270 {
		width, height = height, width
	}
	return width, height
}

// AudioStream describes the first audio stream of a source.
type AudioStream struct {
	Index      int
	Codec      string
	Profile    string
	Channels   int
	SampleRate int
	Bitrate    int
}

// Rational is a ratio such as a frame rate (30000/1001).
type Rational struct{ Num, Den int }

// Float is the ratio's value, 0 when the denominator is 0.
func (r Rational) Float() float64 {
	if r.Den == 0 {
		return 0
	}
	return float64(r.Num) / float64(r.Den)
}

func (r Rational) String() string { return fmt.Sprintf("%d/%d", r.Num, r.Den) }

// parseRational reads "30000/1001" or "16:9"; anything else is zero.
func parseRational(s string) Rational {
	num, den, ok := strings.Cut(s, "/")
	if !ok {
		num, den, ok = strings.Cut(s, ":")
	}
	if !ok {
		return Rational{}
	}
	n, err1 := strconv.Atoi(num)
	d, err2 := strconv.Atoi(den)
	if err1 != nil || err2 != nil || n < 0 || d <= 0 {
		return Rational{}
	}
	return Rational{n, d}
}

// inputFormats are the demuxers a source may use. Everything else is refused
// before a byte is parsed: playlists (hls, concat, dash) would make ffmpeg open
// other files or URLs named inside a tenant's upload, a classic way to read
// another tenant's media or reach internal hosts; text and still-image demuxers
// would turn a .txt or a .png into a "video". Audio-only formats stay so that
// an audio file is reported as no_video_stream rather than invalid_media.
var inputFormats = strings.Join([]string{
	"mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm", "avi", "mpegts", "mpeg",
	"mpegvideo", "flv", "live_flv", "mxf", "asf", "ogg", "dv", "gxf", "nut", "rm", "ivf",
	"h264", "hevc", "m4v", "vc1", "obu", "yuv4mpegpipe", "gif",
	"wav", "w64", "mp3", "aac", "flac", "aiff", "caf", "amr", "ac3", "eac3", "dts", "truehd",
	"wv", "ape", "au",
}, ",")

// inputArgs are the options that go before every -i of a source: local files
// only, known demuxers only.
func inputArgs(input string) []string {
	return []string{"-protocol_whitelist", "file", "-format_whitelist", inputFormats, "-i", fileURL(input)}
}

// fileURL makes ffmpeg read input as a plain file even when its name contains a
// colon or looks like a protocol.
func fileURL(path string) string { return "file:" + path }

// Probe inspects a local source file with ffprobe. It fails with an *Error:
// CodeInvalidMedia, CodeNoVideoStream or CodeUnsupportedMedia for the file's
// faults (not retryable), or a retryable code for the machine's. With
// CodeNoVideoStream the returned MediaInfo still describes the audio.
func Probe(ctx context.Context, ffprobePath, input string) (MediaInfo, error) {
	if input == "" {
		return MediaInfo{}, jobError("probe: no input")
	}
	fi, err := os.Stat(input)
	switch {
	case err != nil && (os.IsNotExist(err) || os.IsPermission(err)):
		return MediaInfo{}, machineError(CodeUnavailable, err, "probe: input not readable: %v", err)
	case err != nil:
		return MediaInfo{}, machineError(CodeUnavailable, err, "probe: %v", err)
	case !fi.Mode().IsRegular():
		return MediaInfo{}, jobError("probe: input %s is not a regular file", input)
	case fi.Size() == 0:
		return MediaInfo{}, mediaError(CodeInvalidMedia, "the file is empty")
	}

	args := []string{"-v", "error", "-print_format", "json", "-show_format", "-show_streams"}
	args = append(args, inputArgs(input)...)
	var out bytes.Buffer
	tail, err := runTool(ctx, ffprobePath, args, &out)
	if err != nil {
		if e := startFailure(ctx, "ffprobe", err); e != nil {
			return MediaInfo{}, e
		}
		if containsAny(tail, machineMarkers) {
			return MediaInfo{}, machineError(CodeUnavailable, err, "ffprobe failed: %s", redact(tail, input, ""))
		}
		// ffprobe itself works (it ran and exited); it could not read this file.
		return MediaInfo{}, &Error{Code: CodeInvalidMedia, Message: "not a readable media file: " + firstLine(redact(tail, input, "")), cause: err}
	}
	var raw probeOutput
	if err := json.Unmarshal(out.Bytes(), &raw); err != nil {
		return MediaInfo{}, machineError(CodeFailed, err, "ffprobe printed unreadable JSON: %v", err)
	}
	return raw.mediaInfo(fi.Size())
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if s == "" {
		return "ffprobe found no media"
	}
	return s
}

// probeOutput is the part of ffprobe's JSON that Probe reads.
type probeOutput struct {
	Streams []probeStream `json:"streams"`
	Format  struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
		BitRate    string `json:"bit_rate"`
	} `json:"format"`
}

type probeStream struct {
	Index             int               `json:"index"`
	CodecType         string            `json:"codec_type"`
	CodecName         string            `json:"codec_name"`
	Profile           string            `json:"profile"`
	PixFmt            string            `json:"pix_fmt"`
	Width             int               `json:"width"`
	Height            int               `json:"height"`
	SampleAspectRatio string            `json:"sample_aspect_ratio"`
	RFrameRate        string            `json:"r_frame_rate"`
	AvgFrameRate      string            `json:"avg_frame_rate"`
	BitRate           string            `json:"bit_rate"`
	Duration          string            `json:"duration"`
	Channels          int               `json:"channels"`
	SampleRate        string            `json:"sample_rate"`
	Tags              map[string]string `json:"tags"`
	Disposition       struct {
		AttachedPic int `json:"attached_pic"`
	} `json:"disposition"`
	SideDataList []struct {
		Rotation *float64 `json:"rotation"`
	} `json:"side_data_list"`
}

func (p probeOutput) mediaInfo(size int64) (MediaInfo, error) {
	info := MediaInfo{Container: p.Format.FormatName, Size: size, Bitrate: atoi(p.Format.BitRate)}
	var video *probeStream
	for i := range p.Streams {
		s := &p.Streams[i]
		switch {
		case s.CodecType == "video" && s.Disposition.AttachedPic == 0 && video == nil:
			video = s
		case s.CodecType == "audio" && info.Audio == nil:
			info.Audio = &AudioStream{
				Index: s.Index, Codec: s.CodecName, Profile: s.Profile, Channels: s.Channels,
				SampleRate: atoi(s.SampleRate), Bitrate: atoi(s.BitRate),
			}
		}
	}
	duration := parseSeconds(p.Format.Duration)
	if video == nil {
		if info.Audio != nil {
			info.Duration = duration
			return info, mediaError(CodeNoVideoStream, "the file has audio but no video")
		}
		return info, mediaError(CodeInvalidMedia, "the file has no video stream")
	}
	if duration <= 0 {
		duration = parseSeconds(video.Duration)
	}
	info.Duration = duration
	info.Video = VideoStream{
		Index: video.Index, Codec: video.CodecName, Profile: video.Profile, PixelFormat: video.PixFmt,
		Width: video.Width, Height: video.Height, SampleAspect: parseRational(video.SampleAspectRatio),
		FrameRate: frameRate(video.AvgFrameRate, video.RFrameRate), Bitrate: atoi(video.BitRate),
		Rotation: rotation(*video),
	}
	switch v := info.Video; {
	case v.Codec == "" || v.Codec == "none":
		return info, mediaError(CodeUnsupportedMedia, "the video codec is not supported")
	case v.Width <= 0 || v.Height <= 0:
		return info, mediaError(CodeInvalidMedia, "the video stream has no picture size (damaged or truncated file)")
	case v.Width > MaxDimension || v.Height > MaxDimension:
		return info, mediaError(CodeUnsupportedMedia, "picture size %dx%d is over the %d-pixel limit", v.Width, v.Height, MaxDimension)
	case duration <= 0:
		return info, mediaError(CodeInvalidMedia, "the file has no duration (damaged or truncated file)")
	}
	return info, nil
}

// frameRate prefers the average rate; r_frame_rate is the lowest rate that
// represents all timestamps and is often a meaningless 90000/1 or 1000/1.
func frameRate(avg, r string) Rational {
	for _, s := range []string{avg, r} {
		if q := parseRational(s); q.Float() > 0 && q.Float() <= 300 {
			return q
		}
	}
	return Rational{}
}

// rotation reads the display matrix (or the legacy rotate tag, clockwise) and
// normalises it to counter-clockwise degrees in [0, 360), multiples of 90.
func rotation(s probeStream) int {
	deg := 0.0
	found := false
	for _, sd := range s.SideDataList {
		if sd.Rotation != nil {
			deg, found = *sd.Rotation, true
			break
		}
	}
	if !found {
		if tag, err := strconv.ParseFloat(s.Tags["rotate"], 64); err == nil {
			deg = -tag
		}
	}
	r := int(math.Round(deg/90)) * 90 % 360
	if r < 0 {
		r += 360
	}
	return r
}

func parseSeconds(s string) time.Duration {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 || f > 1e7 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
