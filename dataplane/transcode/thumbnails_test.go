package transcode

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPoster(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := makeClip(t, dir, clip{Width: 640, Height: 360, Seconds: 3, NoAudio: true})
	tr := newTestTranscoder(t, Config{})

	for name, at := range map[string]time.Duration{"inside": 1500 * time.Millisecond, "past the end": time.Hour} {
		out := filepath.Join(dir, "posters", strings.ReplaceAll(name, " ", "-")+".jpg")
		if err := tr.Poster(testContext(t), src, out, at); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !isJPEG(t, out) {
			t.Errorf("%s: not a JPEG", name)
		}
		if p := inspect(t, out); p.get("width") != "640" || p.get("height") != "360" {
			t.Errorf("%s: poster %v", name, p.Streams)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "posters", ".*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	text := filepath.Join(dir, "x.mp4")
	if err := os.WriteFile(text, []byte("no"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantCode(t, tr.Poster(testContext(t), text, filepath.Join(dir, "bad.jpg"), 0), CodeInvalidMedia, false)
}

var cuePattern = regexp.MustCompile(`^(\d\d):(\d\d):(\d\d)\.(\d\d\d) --> (\d\d):(\d\d):(\d\d)\.(\d\d\d)$`)

func vttDuration(m []string) time.Duration {
	n := func(s string) time.Duration { v, _ := strconv.Atoi(s); return time.Duration(v) }
	return n(m[0])*time.Hour + n(m[1])*time.Minute + n(m[2])*time.Second + n(m[3])*time.Millisecond
}

func TestStoryboard(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := makeClip(t, dir, clip{Width: 640, Height: 360, Seconds: 7, NoAudio: true})
	out := filepath.Join(dir, "thumbs")
	sb, err := newTestTranscoder(t, Config{}).Storyboard(testContext(t), src, out, 2*time.Second, 160, 3)
	if err != nil {
		t.Fatal(err)
	}
	if sb.SpritePath != filepath.Join(out, "sprite.jpg") || sb.VTTPath != filepath.Join(out, "storyboard.vtt") ||
		sb.TileWidth != 160 || sb.TileHeight != 90 || sb.Interval != 2*time.Second || sb.Tiles != 4 {
		t.Errorf("storyboard %+v", sb)
	}
	if !isJPEG(t, sb.SpritePath) {
		t.Fatal("sprite is not a JPEG")
	}
	p := inspect(t, sb.SpritePath)
	spriteW, _ := strconv.Atoi(p.get("width"))
	spriteH, _ := strconv.Atoi(p.get("height"))
	if spriteW != 3*160 || spriteH%90 != 0 {
		t.Errorf("sprite %dx%d", spriteW, spriteH)
	}

	// Parse the WebVTT: a header, then cues that tile the whole video without
	// gaps, each naming a tile inside the sprite.
	vtt, err := os.ReadFile(sb.VTTPath)
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(strings.TrimSpace(string(vtt)), "\n\n")
	if blocks[0] != "WEBVTT" {
		t.Fatalf("header %q", blocks[0])
	}
	var next time.Duration
	seen := map[string]bool{}
	for i, block := range blocks[1:] {
		lines := strings.Split(block, "\n")
		if len(lines) != 2 {
			t.Fatalf("cue %d: %q", i, block)
		}
		m := cuePattern.FindStringSubmatch(lines[0])
		if m == nil {
			t.Fatalf("cue %d timing %q", i, lines[0])
		}
		start, end := vttDuration(m[1:5]), vttDuration(m[5:9])
		if start != next || end <= start {
			t.Errorf("cue %d: %v → %v after %v", i, start, end, next)
		}
		next = end
		ref, frag, ok := strings.Cut(lines[1], "#xywh=")
		if !ok || ref != "sprite.jpg" {
			t.Fatalf("cue %d refers to %q", i, lines[1])
		}
		if _, err := os.Stat(filepath.Join(out, ref)); err != nil {
			t.Errorf("cue %d: %v", i, err)
		}
		var xywh []int
		for _, f := range strings.Split(frag, ",") {
			v, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("cue %d: %q", i, frag)
			}
			xywh = append(xywh, v)
		}
		if len(xywh) != 4 || xywh[2] != 160 || xywh[3] != 90 || xywh[0]+xywh[2] > spriteW || xywh[1]+xywh[3] > spriteH ||
			xywh[0]%160 != 0 || xywh[1]%90 != 0 {
			t.Errorf("cue %d: tile %v outside a %dx%d sprite", i, xywh, spriteW, spriteH)
		}
		if seen[frag] {
			t.Errorf("cue %d reuses tile %s", i, frag)
		}
		seen[frag] = true
	}
	if len(blocks)-1 != sb.Tiles {
		t.Errorf("%d cues for %d tiles", len(blocks)-1, sb.Tiles)
	}
	if next < 6900*time.Millisecond || next > 7100*time.Millisecond {
		t.Errorf("cues end at %v, want the end of the 7s video", next)
	}
}

func TestStoryboardArguments(t *testing.T) {
	t.Parallel()
	tr := newTestTranscoder(t, Config{})
	for name, a := range map[string]struct {
		interval    time.Duration
		tileW, cols int
	}{
		"tiny interval": {time.Millisecond, 160, 5},
		"tiny tiles":    {time.Second, 4, 5},
		"no columns":    {time.Second, 160, 0},
		"too wide":      {time.Second, 1920, 20},
	} {
		_, err := tr.Storyboard(testContext(t), "/nonexistent.mp4", t.TempDir(), a.interval, a.tileW, a.cols)
		if e := Classify(err); e == nil || e.Code != CodeInvalidJob {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestStoryboardVTTLongVideo(t *testing.T) {
	t.Parallel()
	sb := Storyboard{Interval: 10 * time.Second, Tiles: 3, Columns: 2, TileWidth: 100, TileHeight: 56}
	got := string(storyboardVTT(25*time.Second+500*time.Millisecond, sb))
	want := "WEBVTT\n\n" +
		"00:00:00.000 --> 00:00:10.000\nsprite.jpg#xywh=0,0,100,56\n\n" +
		"00:00:10.000 --> 00:00:20.000\nsprite.jpg#xywh=100,0,100,56\n\n" +
		"00:00:20.000 --> 00:00:25.500\nsprite.jpg#xywh=0,56,100,56\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if s := vttTime(2*time.Hour + 3*time.Minute + 4*time.Second + 5*time.Millisecond); s != "02:03:04.005" {
		t.Errorf("vttTime %s", s)
	}
}
