package packager

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Test inputs are made by ffmpeg the way the transcoder makes them, once per
// test binary, in a folder removed when the tests end.
var (
	mediaDir  string
	mediaMu   sync.Mutex
	mediaMade = map[string]error{}
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "packager-media-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mediaDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// fragFlags are the transcoder's movflags (the input contract).
const fragFlags = "+frag_keyframe+empty_moov+default_base_moof"

// clip describes one generated input file.
type clip struct {
	name string
	args []string // ffmpeg arguments between the input and the output
	in   []string // ffmpeg input arguments
}

func videoClip(name, size string, kbps int, seconds, keyEvery float64, codec ...string) clip {
	c := []string{"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high"}
	if len(codec) > 0 {
		c = codec
	}
	args := append(c, "-b:v", fmt.Sprintf("%dk", kbps), "-pix_fmt", "yuv420p",
		"-force_key_frames", fmt.Sprintf("expr:gte(t,n_forced*%g)", keyEvery), "-sc_threshold", "0",
		"-movflags", fragFlags)
	return clip{
		name: name,
		in:   []string{"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%s:rate=30", size), "-t", fmt.Sprint(seconds)},
		args: args,
	}
}

func audioClip(name string, seconds float64, fragSeconds float64) clip {
	args := []string{"-ac", "2", "-c:a", "aac", "-b:a", "128k"}
	if fragSeconds > 0 {
		args = append(args, "-frag_duration", fmt.Sprint(int(fragSeconds*1e6)))
	}
	args = append(args, "-movflags", fragFlags)
	return clip{
		name: name,
		in:   []string{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", fmt.Sprint(seconds)},
		args: args,
	}
}

// The library of inputs the tests use, by name.
var clips = map[string]clip{}

func init() {
	for _, c := range []clip{
		videoClip("v480", "854x480", 900, 8, 2),
		videoClip("v360", "640x360", 500, 8, 2),
		videoClip("v240", "426x240", 250, 8, 2),
		videoClip("v360k3", "640x360", 500, 8, 3),
		videoClip("v240k3", "426x240", 250, 8, 3),
		videoClip("v240k1", "426x240", 250, 8, 1),
		videoClip("hevc", "426x240", 250, 8, 2, "-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1", "-x265-params", "log-level=error"),
		videoClip("av1", "426x240", 250, 8, 2, "-c:v", "libsvtav1", "-preset", "12", "-g", "60"),
		videoClip("mpeg4", "426x240", 250, 4, 2, "-c:v", "mpeg4"),
		audioClip("audio", 8, 2),
		audioClip("audio1frag", 8, 0),
		{name: "progressive", in: []string{"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "2"},
			args: []string{"-c:v", "libx264", "-preset", "ultrafast"}},
		{name: "muxed", in: []string{"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-f", "lavfi", "-i", "sine", "-t", "2"},
			args: []string{"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-movflags", fragFlags}},
	} {
		clips[c.name] = c
	}
}

// media returns the path of the named input, making it on first use. Tests
// that need media skip when ffmpeg is missing.
func media(t testing.TB, name string) string {
	t.Helper()
	c, ok := clips[name]
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
	args := append([]string{"-v", "error", "-y"}, c.in...)
	args = append(args, c.args...)
	args = append(args, path)
	out, err := exec.Command("ffmpeg", args...).CombinedOutput()
	if err != nil {
		err = fmt.Errorf("ffmpeg %v: %w\n%s", args, err, out)
	}
	mediaMade[name] = err
	if err != nil {
		t.Fatalf("make %s: %v", name, err)
	}
	return path
}

// ladder is the usual test package: three aligned H.264 renditions and AAC.
func ladder(t testing.TB) []Track {
	return []Track{
		{ID: "v480", Kind: KindVideo, Path: media(t, "v480")},
		{ID: "v360", Kind: KindVideo, Path: media(t, "v360")},
		{ID: "v240", Kind: KindVideo, Path: media(t, "v240")},
		{ID: "audio", Kind: KindAudio, Path: media(t, "audio"), Language: "en"},
	}
}
