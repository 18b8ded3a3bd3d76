package drm_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Test inputs are made by ffmpeg the way the transcoder makes them (see
// dataplane/packager), once per test binary, in a folder removed at the end.
var (
	mediaDir  string
	mediaMu   sync.Mutex
	mediaMade = map[string]error{}
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "drm-media-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mediaDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

const fragFlags = "+frag_keyframe+empty_moov+default_base_moof"

var clipArgs = map[string][]string{
	"v240": {"-f", "lavfi", "-i", "testsrc2=size=426x240:rate=30", "-t", "6",
		"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-b:v", "250k", "-pix_fmt", "yuv420p",
		"-force_key_frames", "expr:gte(t,n_forced*2)", "-sc_threshold", "0", "-movflags", fragFlags},
	"v180": {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "6",
		"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-b:v", "150k", "-pix_fmt", "yuv420p",
		"-force_key_frames", "expr:gte(t,n_forced*2)", "-sc_threshold", "0", "-movflags", fragFlags},
	"hevc": {"-f", "lavfi", "-i", "testsrc2=size=426x240:rate=30", "-t", "6",
		"-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1", "-x265-params", "log-level=error",
		"-b:v", "250k", "-pix_fmt", "yuv420p",
		"-force_key_frames", "expr:gte(t,n_forced*2)", "-sc_threshold", "0", "-movflags", fragFlags},
	"audio": {"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "6",
		"-ac", "2", "-c:a", "aac", "-b:a", "96k", "-frag_duration", "2000000", "-movflags", fragFlags},
}

// media returns the path of the named clip, making it on first use; tests
// that need media skip when ffmpeg is missing.
func media(t testing.TB, name string) string {
	t.Helper()
	args, ok := clipArgs[name]
	if !ok {
		t.Fatalf("no clip %q", name)
	}
	path := filepath.Join(mediaDir, name+".mp4")
	mediaMu.Lock()
	defer mediaMu.Unlock()
	if err, done := mediaMade[name]; done {
		if err != nil {
			t.Fatalf("make %s: %v", name, err)
		}
		return path
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg is not installed; it makes the test inputs")
	}
	full := append(append([]string{"-v", "error", "-y"}, args...), path)
	out, err := exec.Command("ffmpeg", full...).CombinedOutput()
	if err != nil {
		err = fmt.Errorf("ffmpeg %v: %w\n%s", full, err, out)
	}
	mediaMade[name] = err
	if err != nil {
		t.Fatalf("make %s: %v", name, err)
	}
	return path
}
