package transcode

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// File names of the storyboard, relative to its folder; the VTT refers to the
// sprite by this relative name, so the two travel together.
const (
	SpriteFile     = "sprite.jpg"
	StoryboardFile = "storyboard.vtt"
)

// posterTier is the short side of a poster: players never show one larger.
const posterTier = 1080

// maxSpriteSide keeps a sprite within what browsers decode comfortably (and
// far within JPEG's 65,535-pixel limit).
const maxSpriteSide = 16384

// Poster writes one JPEG frame of input, at most 1080p, taken at `at` into the
// video (the middle, if at is past the end). out is replaced only on success.
func (t *Transcoder) Poster(ctx context.Context, input, out string, at time.Duration) error {
	info, err := Probe(ctx, t.cfg.FFprobePath, input)
	if err != nil {
		return err
	}
	if at < 0 || at >= info.Duration {
		at = info.Duration / 2
	}
	size := PlanLadder(info, []Rung{{Name: "poster", Height: posterTier}})[0]
	tmp, err := tempSibling(out)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)

	args := []string{"-hide_banner", "-nostdin", "-nostats", "-y", "-loglevel", "warning", "-ss", seconds(at)}
	args = append(args, inputArgs(input)...)
	args = append(args,
		"-map", fmt.Sprintf("0:%d", info.Video.Index), "-frames:v", "1",
		"-vf", fmt.Sprintf("scale=w=%d:h=%d:flags=bicubic,setsar=1", size.Width, size.Height),
		"-c:v", "mjpeg", "-q:v", "2", "-f", "image2", "-update", "1", tmp)
	if err := t.runImageJob(ctx, input, args, io.Discard); err != nil {
		return err
	}
	return replaceFile(tmp, out)
}

// Storyboard is a sprite of thumbnails and the WebVTT file that maps time
// ranges to tiles of it (sprite.jpg#xywh=x,y,w,h), as players' seek previews use.
type Storyboard struct {
	SpritePath string
	VTTPath    string
	Interval   time.Duration // between tiles; wider than asked for very long videos
	Tiles      int           // cues in the VTT, tiles in use in the sprite
	Columns    int
	TileWidth  int
	TileHeight int
}

// Storyboard writes sprite.jpg and storyboard.vtt into outDir: a thumbnail
// tileW pixels wide every interval, cols tiles to a row.
func (t *Transcoder) Storyboard(ctx context.Context, input, outDir string, interval time.Duration, tileW, cols int) (Storyboard, error) {
	switch {
	case interval < 100*time.Millisecond:
		return Storyboard{}, jobError("storyboard interval %v is under 100ms", interval)
	case tileW < 16 || tileW > 1920:
		return Storyboard{}, jobError("storyboard tile width %d: want 16–1920", tileW)
	case cols < 1 || cols*tileW > maxSpriteSide:
		return Storyboard{}, jobError("storyboard columns %d: want 1 to %d", cols, maxSpriteSide/tileW)
	}
	info, err := Probe(ctx, t.cfg.FFprobePath, input)
	if err != nil {
		return Storyboard{}, err
	}
	dw, dh := info.Video.DisplaySize()
	tileW &^= 1
	tileH := max(2, roundEven(float64(tileW)*float64(dh)/float64(dw)))
	if tileH > maxSpriteSide/2 {
		return Storyboard{}, mediaError(CodeUnsupportedMedia, "picture %dx%d is too tall for a storyboard", dw, dh)
	}
	interval = interval.Truncate(time.Millisecond)
	// The fps filter emits up to ceil(duration/interval)+1 frames; widen the
	// interval until that many tiles fit in the sprite.
	maxTiles := (maxSpriteSide / tileH) * cols
	if need := info.Duration / time.Duration(maxTiles-1); interval < need {
		interval = (need + time.Millisecond - 1).Truncate(time.Millisecond)
	}
	capacity := int((info.Duration+interval-1)/interval) + 1
	rows := (capacity + cols - 1) / cols

	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return Storyboard{}, machineError(CodeUnavailable, err, "storyboard folder: %v", err)
	}
	sb := Storyboard{
		SpritePath: filepath.Join(outDir, SpriteFile), VTTPath: filepath.Join(outDir, StoryboardFile),
		Interval: interval, Columns: cols, TileWidth: tileW, TileHeight: tileH,
	}
	spriteTmp, err := tempSibling(sb.SpritePath)
	if err != nil {
		return Storyboard{}, err
	}
	defer os.Remove(spriteTmp)

	// The fps output is also sent to a null muxer first in line, so that
	// -progress counts exactly the frames that went into the tiles.
	graph := fmt.Sprintf("[0:%d]fps=1000/%d,split[count][tiles];[tiles]scale=w=%d:h=%d:flags=bicubic,setsar=1,tile=%dx%d[sprite]",
		info.Video.Index, interval.Milliseconds(), tileW, tileH, cols, rows)
	args := []string{"-hide_banner", "-nostdin", "-nostats", "-y", "-loglevel", "warning", "-progress", "pipe:1"}
	args = append(args, inputArgs(input)...)
	args = append(args, "-filter_complex", graph,
		"-map", "[count]", "-f", "null", "-",
		"-map", "[sprite]", "-frames:v", "1", "-c:v", "mjpeg", "-q:v", "3", "-f", "image2", "-update", "1", spriteTmp)
	var counter frameCounter
	if err := t.runImageJob(ctx, input, args, &counter); err != nil {
		return Storyboard{}, err
	}
	sb.Tiles = min(counter.frames, rows*cols)
	if sb.Tiles == 0 {
		return Storyboard{}, machineError(CodeFailed, nil, "storyboard: ffmpeg produced no thumbnails")
	}
	vtt := storyboardVTT(info.Duration, sb)
	vttTmp, err := tempSibling(sb.VTTPath)
	if err != nil {
		return Storyboard{}, err
	}
	defer os.Remove(vttTmp)
	if err := os.WriteFile(vttTmp, vtt, 0o644); err != nil {
		return Storyboard{}, machineError(CodeUnavailable, err, "storyboard: %v", err)
	}
	if err := replaceFile(spriteTmp, sb.SpritePath); err != nil {
		return Storyboard{}, err
	}
	if err := replaceFile(vttTmp, sb.VTTPath); err != nil {
		return Storyboard{}, err
	}
	return sb, nil
}

// storyboardVTT writes one cue a tile; the last cue runs to the end of the video.
func storyboardVTT(duration time.Duration, sb Storyboard) []byte {
	var b bytes.Buffer
	b.WriteString("WEBVTT\n")
	cols := max(1, sb.Columns)
	for k := range sb.Tiles {
		start := time.Duration(k) * sb.Interval
		if start >= duration {
			break
		}
		end := min(start+sb.Interval, duration)
		if k == sb.Tiles-1 {
			end = duration
		}
		x, y := (k%cols)*sb.TileWidth, (k/cols)*sb.TileHeight
		fmt.Fprintf(&b, "\n%s --> %s\n%s#xywh=%d,%d,%d,%d\n",
			vttTime(start), vttTime(end), SpriteFile, x, y, sb.TileWidth, sb.TileHeight)
	}
	return b.Bytes()
}

func vttTime(d time.Duration) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3_600_000, ms/60_000%60, ms/1000%60, ms%1000)
}

func (t *Transcoder) runImageJob(ctx context.Context, input string, args []string, stdout io.Writer) error {
	tail, err := runTool(ctx, t.cfg.FFmpegPath, args, stdout)
	if err != nil {
		if e := startFailure(ctx, "ffmpeg", err); e != nil {
			return e
		}
		return ffmpegFailure("ffmpeg", err, redact(tail, input, ""))
	}
	return nil
}

// frameCounter keeps the last frame= of ffmpeg's -progress output: the frames
// of the first video output.
type frameCounter struct {
	frames  int
	partial []byte
}

func (c *frameCounter) Write(p []byte) (int, error) {
	c.partial = append(c.partial, p...)
	for {
		i := bytes.IndexByte(c.partial, '\n')
		if i < 0 {
			break
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(string(c.partial[:i])), "frame="); ok {
			if n, err := strconv.Atoi(v); err == nil {
				c.frames = n
			}
		}
		c.partial = c.partial[i+1:]
	}
	return len(p), nil
}

// tempSibling names a temporary file next to path, so that the final rename
// stays on one file system.
func tempSibling(path string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", machineError(CodeUnavailable, err, "%v", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return "", machineError(CodeUnavailable, err, "%v", err)
	}
	name := f.Name()
	_ = f.Close()
	return name, nil
}

func replaceFile(tmp, path string) error {
	fi, err := os.Stat(tmp)
	if err != nil || fi.Size() == 0 {
		return machineError(CodeFailed, err, "ffmpeg wrote no %s", filepath.Base(path))
	}
	if err := os.Rename(tmp, path); err != nil {
		return machineError(CodeUnavailable, err, "%v", err)
	}
	return nil
}
