package transcode

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestProbeGoodClip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := makeClip(t, dir, clip{Width: 640, Height: 360, Seconds: 4})

	info, err := Probe(testContext(t), "ffprobe", src)
	if err != nil {
		t.Fatal(err)
	}
	if d := info.Duration; d < 3900*time.Millisecond || d > 4100*time.Millisecond {
		t.Errorf("duration %v, want about 4s", d)
	}
	if !strings.Contains(info.Container, "mp4") {
		t.Errorf("container %q", info.Container)
	}
	v := info.Video
	if v.Codec != "h264" || v.Width != 640 || v.Height != 360 || v.FrameRate != (Rational{30, 1}) || v.Rotation != 0 {
		t.Errorf("video %+v", v)
	}
	if v.Bitrate <= 0 || info.Bitrate <= 0 || info.Size <= 0 {
		t.Errorf("bitrates %d/%d, size %d", v.Bitrate, info.Bitrate, info.Size)
	}
	if w, h := v.DisplaySize(); w != 640 || h != 360 {
		t.Errorf("display size %dx%d", w, h)
	}
	if a := info.Audio; a == nil || a.Codec != "aac" || a.Channels != 1 || a.SampleRate != 48000 {
		t.Errorf("audio %+v", a)
	}
}

func TestProbeRotatedClip(t *testing.T) {
	t.Parallel()
	src := makeClip(t, t.TempDir(), clip{Width: 320, Height: 180, Seconds: 1, NoAudio: true, Rotate: 90})
	info, err := Probe(testContext(t), "ffprobe", src)
	if err != nil {
		t.Fatal(err)
	}
	if r := info.Video.Rotation; r != 90 && r != 270 {
		t.Fatalf("rotation %d, want a quarter turn", r)
	}
	if w, h := info.Video.DisplaySize(); w != 180 || h != 320 {
		t.Errorf("display size %dx%d, want 180x320", w, h)
	}
	if info.Audio != nil {
		t.Errorf("audio %+v in a clip without sound", info.Audio)
	}
}

func TestProbeFailures(t *testing.T) {
	t.Parallel()
	requireFFmpeg(t)
	dir := t.TempDir()
	good := makeClip(t, dir, clip{Width: 320, Height: 180, Seconds: 2}) // moov at the end: no faststart

	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	goodBytes, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	segment := filepath.Join(dir, "seg.ts")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-i", good, "-c", "copy", segment).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	png := filepath.Join(dir, "still.png")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x64", "-frames:v", "1", png).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	huge := filepath.Join(dir, "huge.mkv")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=size=8200x16:rate=1", "-t", "1",
		"-c:v", "ffv1", huge).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name      string
		ffprobe   string
		ctx       context.Context
		input     string
		code      string
		retryable bool
	}{
		{name: "zero-byte", input: write("empty.mp4", nil), code: CodeInvalidMedia},
		{name: "text", input: write("notes.txt", []byte("this is not a video\n")), code: CodeInvalidMedia},
		{name: "text named mp4", input: write("notes.mp4", []byte("this is not a video either\n")), code: CodeInvalidMedia},
		{name: "random bytes", input: write("noise.mov", []byte(strings.Repeat("\x13\x37\xbe\xef", 4096))), code: CodeInvalidMedia},
		{name: "truncated", input: write("truncated.mp4", goodBytes[:len(goodBytes)/2]), code: CodeInvalidMedia},
		{name: "still image", input: png, code: CodeInvalidMedia},
		{name: "audio only", input: makeClip(t, dir, clip{NoVideo: true, Seconds: 1, Ext: "m4a"}), code: CodeNoVideoStream},
		{name: "over 8192 px", input: huge, code: CodeUnsupportedMedia},
		// A playlist would make ffmpeg open what it names: refused unread.
		{name: "hls playlist", input: write("list.m3u8", []byte("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n"+segment+"\n#EXT-X-ENDLIST\n")), code: CodeInvalidMedia},
		{name: "concat list", input: write("list.ffconcat", []byte("ffconcat version 1.0\nfile '"+good+"'\n")), code: CodeInvalidMedia},
		{name: "missing file", input: filepath.Join(dir, "gone.mp4"), code: CodeUnavailable, retryable: true},
		{name: "ffprobe missing", ffprobe: filepath.Join(dir, "no-ffprobe"), input: good, code: CodeUnavailable, retryable: true},
		{name: "context cancelled", ctx: cancelled, input: good, code: CodeCanceled, retryable: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, ffprobe := tc.ctx, tc.ffprobe
			if ctx == nil {
				ctx = testContext(t)
			}
			if ffprobe == "" {
				ffprobe = "ffprobe"
			}
			info, err := Probe(ctx, ffprobe, tc.input)
			e := wantCode(t, err, tc.code, tc.retryable)
			if e.Message == "" {
				t.Error("no message")
			}
			if !tc.retryable && strings.Contains(e.Message, dir) {
				t.Errorf("the tenant-facing message shows the node's paths: %s", e.Message)
			}
			if tc.code == CodeNoVideoStream && (info.Audio == nil || info.Duration <= 0) {
				t.Errorf("audio-only info %+v: want its audio described", info)
			}
		})
	}

	if _, err := Probe(cancelled, "ffprobe", good); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled probe's error does not unwrap to context.Canceled: %v", err)
	}
}

// TestProbeParsing covers what generated clips do not: cover art, anamorphic
// pixels, display matrices, broken numbers.
func TestProbeParsing(t *testing.T) {
	t.Parallel()
	parse := func(t *testing.T, js string) (MediaInfo, error) {
		t.Helper()
		var p probeOutput
		if err := json.Unmarshal([]byte(js), &p); err != nil {
			t.Fatal(err)
		}
		return p.mediaInfo(1000)
	}

	t.Run("cover art is not video", func(t *testing.T) {
		_, err := parse(t, `{"format":{"format_name":"mp3","duration":"180.0"},"streams":[
			{"index":0,"codec_type":"audio","codec_name":"mp3","channels":2,"sample_rate":"44100"},
			{"index":1,"codec_type":"video","codec_name":"mjpeg","width":600,"height":600,"disposition":{"attached_pic":1}}]}`)
		wantCode(t, err, CodeNoVideoStream, false)
	})
	t.Run("anamorphic and rotated", func(t *testing.T) {
		info, err := parse(t, `{"format":{"format_name":"mpeg","duration":"10.5"},"streams":[
			{"index":3,"codec_type":"video","codec_name":"mpeg2video","width":720,"height":480,"sample_aspect_ratio":"32:27",
			 "r_frame_rate":"90000/1","avg_frame_rate":"30000/1001","side_data_list":[{"side_data_type":"Display Matrix","rotation":-90}]}]}`)
		if err != nil {
			t.Fatal(err)
		}
		v := info.Video
		if v.Index != 3 || v.FrameRate != (Rational{30000, 1001}) || v.Rotation != 270 || info.Duration != 10500*time.Millisecond {
			t.Fatalf("%+v", info)
		}
		if w, h := v.DisplaySize(); w != 480 || h != 853 {
			t.Errorf("display size %dx%d, want 480x853", w, h)
		}
	})
	t.Run("legacy rotate tag", func(t *testing.T) {
		info, err := parse(t, `{"format":{"duration":"1"},"streams":[{"codec_type":"video","codec_name":"h264","width":4,"height":2,"tags":{"rotate":"90"}}]}`)
		if err != nil || info.Video.Rotation != 270 {
			t.Fatalf("%+v %v", info.Video, err)
		}
	})
	t.Run("duration from the stream", func(t *testing.T) {
		info, err := parse(t, `{"format":{"duration":"N/A"},"streams":[{"codec_type":"video","codec_name":"h264","width":4,"height":2,"duration":"3.0"}]}`)
		if err != nil || info.Duration != 3*time.Second {
			t.Fatalf("%+v %v", info, err)
		}
	})
	t.Run("no duration", func(t *testing.T) {
		_, err := parse(t, `{"format":{"duration":"N/A"},"streams":[{"codec_type":"video","codec_name":"h264","width":4,"height":2}]}`)
		wantCode(t, err, CodeInvalidMedia, false)
	})
	t.Run("no picture size", func(t *testing.T) {
		_, err := parse(t, `{"format":{"duration":"2"},"streams":[{"codec_type":"video","codec_name":"h264","width":0,"height":0}]}`)
		wantCode(t, err, CodeInvalidMedia, false)
	})
	t.Run("unknown codec", func(t *testing.T) {
		_, err := parse(t, `{"format":{"duration":"2"},"streams":[{"codec_type":"video","width":640,"height":360}]}`)
		wantCode(t, err, CodeUnsupportedMedia, false)
	})
	t.Run("absurd height", func(t *testing.T) {
		_, err := parse(t, `{"format":{"duration":"2"},"streams":[{"codec_type":"video","codec_name":"h264","width":640,"height":20000}]}`)
		wantCode(t, err, CodeUnsupportedMedia, false)
	})
	t.Run("nothing", func(t *testing.T) {
		_, err := parse(t, `{"format":{"duration":"2"},"streams":[]}`)
		wantCode(t, err, CodeInvalidMedia, false)
	})
}
