package transcode

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// requireFFmpeg skips a test on a machine without ffmpeg and ffprobe (make
// services installs them); everything here runs the real tools.
func requireFFmpeg(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
}

// clip is a generated test source: testsrc2 picture, 1 kHz sine sound.
type clip struct {
	Width, Height int
	Seconds       float64
	NoVideo       bool
	NoAudio       bool
	Ext           string // container by extension; default "mp4"
	Rotate        int    // display rotation tag, clockwise degrees
}

// makeClip writes c into dir and returns its path.
func makeClip(t testing.TB, dir string, c clip) string {
	t.Helper()
	requireFFmpeg(t)
	if c.Ext == "" {
		c.Ext = "mp4"
	}
	name := fmt.Sprintf("src_%dx%d_%gs", c.Width, c.Height, c.Seconds)
	if c.NoVideo {
		name = fmt.Sprintf("audio_%gs", c.Seconds)
	}
	path := filepath.Join(dir, name+"."+c.Ext)
	args := []string{"-hide_banner", "-nostdin", "-v", "error", "-y"}
	if !c.NoVideo {
		args = append(args, "-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=30", c.Width, c.Height))
	}
	if !c.NoAudio {
		args = append(args, "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000")
	}
	args = append(args, "-t", strconv.FormatFloat(c.Seconds, 'f', -1, 64))
	if !c.NoVideo {
		args = append(args, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
	}
	if !c.NoAudio {
		args = append(args, "-c:a", "aac", "-b:a", "96k")
	}
	args = append(args, path)
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("generating %s: %v\n%s", path, err, out)
	}
	if c.Rotate != 0 {
		// ffmpeg 5 sets the display matrix from the tag only when stream-copying.
		rotated := filepath.Join(dir, "rotated_"+filepath.Base(path))
		out, err := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-i", path, "-c", "copy",
			"-metadata:s:v:0", "rotate="+strconv.Itoa(c.Rotate), rotated).CombinedOutput()
		if err != nil {
			t.Fatalf("rotating %s: %v\n%s", path, err, out)
		}
		return rotated
	}
	return path
}

func newTestTranscoder(t testing.TB, cfg Config) *Transcoder {
	t.Helper()
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// fileReport is what the tests learn about an output with one ffprobe run.
type fileReport struct {
	Streams   []map[string]any // ffprobe's stream entries
	Keyframes []float64        // presentation times of keyframes, sorted
}

// streamTypes lists codec_type of every stream.
func (r fileReport) streamTypes() []string {
	var types []string
	for _, s := range r.Streams {
		types = append(types, fmt.Sprint(s["codec_type"]))
	}
	return types
}

// get returns a field of the first stream as text ("" when absent).
func (r fileReport) get(key string) string {
	if len(r.Streams) == 0 || r.Streams[0][key] == nil {
		return ""
	}
	return fmt.Sprint(r.Streams[0][key])
}

func inspect(t testing.TB, path string) fileReport {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-of", "json", "-show_entries",
		"stream=codec_type,codec_name,codec_tag_string,profile,level,width,height,channels,sample_rate:packet=pts_time,flags",
		path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var raw struct {
		Streams []map[string]any `json:"streams"`
		Packets []struct {
			PTSTime string `json:"pts_time"`
			Flags   string `json:"flags"`
		} `json:"packets"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatal(err)
	}
	r := fileReport{Streams: raw.Streams}
	for _, p := range raw.Packets {
		if !strings.Contains(p.Flags, "K") {
			continue
		}
		f, err := strconv.ParseFloat(p.PTSTime, 64)
		if err != nil {
			t.Fatalf("%s: bad pts %q", path, p.PTSTime)
		}
		r.Keyframes = append(r.Keyframes, f)
	}
	sort.Float64s(r.Keyframes)
	return r
}

// assertSegmentKeyframes checks that keyframes fall exactly every segment
// seconds from the first one, and nowhere else, for a file of that duration.
func assertSegmentKeyframes(t testing.TB, path string, kf []float64, segment, duration, fps float64) []float64 {
	t.Helper()
	want := int(math.Ceil(duration/segment - 1e-6))
	if len(kf) != want {
		t.Fatalf("%s: %d keyframes at %v, want %d (one every %gs)", filepath.Base(path), len(kf), kf, want, segment)
	}
	if kf[0] > 0.2 {
		t.Errorf("%s: first keyframe at %.3fs", filepath.Base(path), kf[0])
	}
	rel := make([]float64, len(kf))
	for i, x := range kf {
		rel[i] = x - kf[0]
		if d := math.Abs(rel[i] - float64(i)*segment); d > 0.5/fps {
			t.Errorf("%s: keyframe %d at +%.3fs, want +%gs", filepath.Base(path), i, rel[i], float64(i)*segment)
		}
	}
	return rel
}

// topLevelBoxes counts the top-level boxes of an MP4 by type.
func topLevelBoxes(t testing.TB, path string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for len(b) >= 8 {
		size := int(binary.BigEndian.Uint32(b))
		if size < 8 || size > len(b) {
			t.Fatalf("%s: bad box size %d", path, size)
		}
		counts[string(b[4:8])]++
		b = b[size:]
	}
	return counts
}

func isJPEG(t testing.TB, path string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff})
}

func wantCode(t testing.TB, err error, code string, retryable bool) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", code)
	}
	e := Classify(err)
	if e.Code != code || e.Retryable != retryable {
		t.Fatalf("got %s (retryable %v): %v; want %s (retryable %v)", e.Code, e.Retryable, err, code, retryable)
	}
	return e
}
