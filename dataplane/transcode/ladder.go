package transcode

import (
	"fmt"
	"math"
	"regexp"
)

// Video codecs a rung may ask for.
const (
	CodecH264 = "h264"
	CodecHEVC = "hevc"
	CodecAV1  = "av1"
)

// Rung is one rendition of a bitrate ladder.
//
// In a ladder profile (DefaultLadder, a tenant's profile) Height names the tier,
// the short side of the picture ("720p"), and Width is the 16:9 width, for
// information. PlanLadder turns a profile into rungs whose Width and Height are
// the exact output size for one source, portrait or landscape.
type Rung struct {
	Name         string // file-name safe and unique in the ladder: "720p"
	Width        int
	Height       int
	VideoBitrate int    // target, bits per second
	Codec        string // CodecH264 (default), CodecHEVC or CodecAV1
}

// tier is the rung's short side, which is what "720p" means for both a 16:9
// rung of a profile and a planned 9:16 rung; planning is therefore idempotent.
func (r Rung) tier() int {
	if r.Width > 0 && r.Width < r.Height {
		return r.Width
	}
	return r.Height
}

func (r Rung) codec() string {
	if r.Codec == "" {
		return CodecH264
	}
	return r.Codec
}

// DefaultLadder is the ladder a tenant without a profile gets: H.264 from 1080p
// at 5 Mbps down to 240p at 400 kbps.
func DefaultLadder() []Rung {
	return []Rung{
		{Name: "1080p", Width: 1920, Height: 1080, VideoBitrate: 5_000_000, Codec: CodecH264},
		{Name: "720p", Width: 1280, Height: 720, VideoBitrate: 3_000_000, Codec: CodecH264},
		{Name: "480p", Width: 854, Height: 480, VideoBitrate: 1_200_000, Codec: CodecH264},
		{Name: "360p", Width: 640, Height: 360, VideoBitrate: 800_000, Codec: CodecH264},
		{Name: "240p", Width: 426, Height: 240, VideoBitrate: 400_000, Codec: CodecH264},
	}
}

// PlanLadder fits a ladder profile to a source. Rungs above the source's short
// side are dropped (never upscale); each kept rung gets the source's display
// aspect ratio with even dimensions. A source smaller than every rung keeps the
// smallest rung(s), brought down to the source's size, so that the result is
// empty only when the ladder is empty or the source has no picture size.
// The order of the profile is kept.
func PlanLadder(info MediaInfo, ladder []Rung) []Rung {
	srcW, srcH := info.Video.DisplaySize()
	if srcW <= 0 || srcH <= 0 || len(ladder) == 0 {
		return nil
	}
	short := min(srcW, srcH)

	var planned []Rung
	for _, r := range ladder {
		if t := r.tier(); t > 0 && t <= short {
			planned = append(planned, fitRung(r, t, srcW, srcH))
		}
	}
	if len(planned) > 0 {
		return planned
	}

	smallest := ladder[0].tier()
	for _, r := range ladder[1:] {
		smallest = min(smallest, r.tier())
	}
	t := max(short&^1, 2)
	for _, r := range ladder {
		if r.tier() != smallest {
			continue
		}
		r = fitRung(r, t, srcW, srcH)
		r.Name = fmt.Sprintf("%dp", t)
		if r.Codec != CodecH264 {
			r.Name += "-" + r.Codec
		}
		planned = append(planned, r)
	}
	return planned
}

// fitRung sizes r so that its short side is tier and its long side follows the
// source's aspect ratio, both even and never above the source.
func fitRung(r Rung, tier, srcW, srcH int) Rung {
	r.Codec = r.codec()
	short := roundEven(float64(tier))
	if srcW >= srcH {
		r.Height = min(short, srcH&^1)
		r.Width = min(roundEven(float64(r.Height)*float64(srcW)/float64(srcH)), srcW&^1)
	} else {
		r.Width = min(short, srcW&^1)
		r.Height = min(roundEven(float64(r.Width)*float64(srcH)/float64(srcW)), srcH&^1)
	}
	r.Width, r.Height = max(r.Width, 2), max(r.Height, 2)
	return r
}

// roundEven rounds to the nearest even integer: 4:2:0 video needs even sides.
func roundEven(x float64) int { return 2 * int(math.Round(x/2)) }

var rungName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$`)

// validateLadder checks what the command line and the file names rely on.
func validateLadder(ladder []Rung) error {
	if len(ladder) == 0 {
		return jobError("the ladder is empty")
	}
	seen := map[string]bool{}
	for _, r := range ladder {
		switch {
		case !rungName.MatchString(r.Name):
			return jobError("rung name %q: want 1–32 letters, digits, '.', '_' or '-'", r.Name)
		case seen[r.Name]:
			return jobError("rung name %q is used twice", r.Name)
		case r.tier() <= 0 || r.Width < 0 || r.Width > MaxDimension || r.Height > MaxDimension:
			return jobError("rung %q: bad size %dx%d", r.Name, r.Width, r.Height)
		case r.VideoBitrate < 10_000 || r.VideoBitrate > 200_000_000:
			return jobError("rung %q: video bitrate %d bps is out of range", r.Name, r.VideoBitrate)
		}
		switch r.codec() {
		case CodecH264, CodecHEVC, CodecAV1:
		default:
			return jobError("rung %q: unknown codec %q (want h264, hevc or av1)", r.Name, r.Codec)
		}
		seen[r.Name] = true
	}
	return nil
}
