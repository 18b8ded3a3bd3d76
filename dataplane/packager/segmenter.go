package packager

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"path"
	"path/filepath"
	"time"

	mp4bits "github.com/Eyevinn/mp4ff/bits"
	"github.com/Eyevinn/mp4ff/mp4"
)

// CMAF brands (ISO/IEC 23000-19): cmfc is the CMAF track brand, cmf2 adds the
// second edition's constraints that this packager meets (no edit lists, tfdt
// in every fragment, default-base-is-moof, signed composition offsets), cmfs
// marks a CMAF segment and msdh a DASH media segment.
var (
	headerBrands  = []string{"cmf2", "cmfc", "iso6", "isom"}
	segmentBrands = []string{"cmfs", "cmfc", "cmf2", "msdh"}
)

// trackResult is one packaged track and the exact timing behind it.
type trackResult struct {
	track     Track
	info      trackInfo
	timescale uint32
	starts    []uint64 // segment start decode times, ticks
	durs      []uint64 // segment durations, ticks
	bytes     []int
	frameDur  uint32 // the most common sample duration, ticks
	packaged  PackagedTrack
}

func (r *trackResult) end() uint64 {
	n := len(r.starts)
	return r.starts[n-1] + r.durs[n-1]
}

// cutter decides where segments start. start gets the first sample's
// presentation time; cutBefore is asked for every later sample.
type cutter interface {
	start(pts int64)
	cutBefore(pts int64, dur uint32, sync bool) bool
}

type cutterFactory func(timescale uint32) cutter

// gridCutter starts a segment at the first sync sample whose middle is at or
// after origin + k·D, for the next k not yet passed: keyframes on the grid give
// segments of exactly D, sparser keyframes give longer segments.
func gridCutter(d time.Duration) cutterFactory {
	return func(ts uint32) cutter { return &grid{d: uint64(d), ts: uint64(ts)} }
}

type grid struct {
	d, ts  uint64
	origin int64
	k      uint64
}

func (g *grid) target() int64 {
	return g.origin + int64(mulDivRound(g.k*g.d, g.ts, uint64(time.Second)))
}

func (g *grid) start(pts int64) { g.origin, g.k = pts, 1 }

func (g *grid) cutBefore(pts int64, dur uint32, sync bool) bool {
	mid2 := 2*pts + int64(dur)
	if !sync || mid2 < 2*g.target() {
		return false
	}
	for mid2 >= 2*g.target() {
		g.k++
	}
	return true
}

// followCutter cuts at the sample nearest to each segment start of ref (the
// first video track), so audio segments line up with video segments.
func followCutter(ref *trackResult) cutterFactory {
	return func(ts uint32) cutter {
		f := &follow{}
		for _, s := range ref.starts[1:] {
			f.targets = append(f.targets, int64(mulDivRound(s, uint64(ts), uint64(ref.timescale))))
		}
		return f
	}
}

type follow struct {
	targets []int64
	i       int
}

func (f *follow) start(int64) {}

func (f *follow) cutBefore(pts int64, dur uint32, _ bool) bool {
	mid2 := 2*pts + int64(dur)
	if f.i == len(f.targets) || mid2 < 2*f.targets[f.i] {
		return false
	}
	for f.i < len(f.targets) && mid2 >= 2*f.targets[f.i] {
		f.i++
	}
	return true
}

// mulDivRound is a·b/c rounded to nearest, without overflowing in a·b.
func mulDivRound(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	lo, carry := bits.Add64(lo, c/2, 0)
	hi += carry
	if hi >= c {
		return math.MaxUint64
	}
	q, _ := bits.Div64(hi, lo, c)
	return q
}

func ticksToDuration(ticks uint64, ts uint32) time.Duration {
	return time.Duration(mulDivRound(ticks, uint64(time.Second), uint64(ts)))
}

// packageTrack writes one track's CMAF header and segments under dir/<id>/.
func packageTrack(ctx context.Context, t Track, dir string, opt Options, newCutter cutterFactory) (*trackResult, error) {
	src, err := openSource(t)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	info, err := describe(src)
	if err != nil {
		return nil, err
	}
	res := &trackResult{track: t, info: info, timescale: src.timescale()}
	trackDir := filepath.Join(dir, t.ID)
	if err := os.Mkdir(trackDir, 0o755); err != nil {
		return nil, fmt.Errorf("packager: %w", err)
	}

	init := cmafHeader(src)
	if opt.Encryptor != nil {
		if err := opt.Encryptor.EncryptInit(t.ID, init); err != nil {
			return nil, fmt.Errorf("packager: encrypt init of %q: %w", t.ID, err)
		}
	}
	w := &segmentWriter{res: res, dir: trackDir, init: init, enc: opt.Encryptor, trackID: src.trackID,
		styp: mp4.NewStyp(segmentBrands[0], 0, segmentBrands)}
	if _, err := w.write(InitName, init.Size(), init.EncodeSW); err != nil {
		return nil, err
	}

	video := t.Kind == KindVideo
	durCount := map[uint32]int{}
	var cut cutter
	var shift int64 // subtracted from composition offsets so that the first frame is presented at its decode time
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		samples, err := src.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		for i := range samples {
			s := &samples[i]
			sync := !video || isSync(s.Sample)
			if cut == nil {
				if !sync {
					return nil, inputErr(CodeNotAligned, "track %q does not start with a sync sample", t.ID)
				}
				if video {
					shift = int64(s.CompositionTimeOffset)
				}
				cut = newCutter(res.timescale)
				cut.start(int64(s.DecodeTime))
			}
			pts := int64(s.DecodeTime) + int64(s.CompositionTimeOffset) - shift
			if len(w.pending) > 0 && cut.cutBefore(pts, s.Dur, sync) {
				if err := w.flush(); err != nil {
					return nil, err
				}
				src.recycle()
			}
			s.CompositionTimeOffset = int32(int64(s.CompositionTimeOffset) - shift)
			w.add(*s)
			if video {
				durCount[s.Dur]++
			}
		}
	}
	if err := w.flush(); err != nil {
		return nil, err
	}
	for d, n := range durCount {
		if n > durCount[res.frameDur] || (n == durCount[res.frameDur] && d < res.frameDur) {
			res.frameDur = d
		}
	}
	res.packaged = packagedTrack(res)
	return res, nil
}

// cmafHeader is the input's ftyp+moov turned into a CMAF header: CMAF brands
// and no edit list. Players apply edit lists inconsistently; for video the
// composition shift does the edit list's usual job (hiding the B-frame delay),
// and an audio priming edit (about one AAC frame) is dropped.
func cmafHeader(src *source) *mp4.InitSegment {
	init := mp4.NewMP4Init()
	init.AddChild(mp4.NewFtyp(headerBrands[0], 0, headerBrands))
	trak := src.trak
	if trak.Edts != nil {
		kept := trak.Children[:0]
		for _, c := range trak.Children {
			if c.Type() != "edts" {
				kept = append(kept, c)
			}
		}
		trak.Children, trak.Edts = kept, nil
	}
	init.AddChild(src.moov)
	return init
}

type segmentWriter struct {
	res     *trackResult
	dir     string
	init    *mp4.InitSegment
	enc     Encryptor
	trackID uint32
	styp    *mp4.StypBox
	pending []mp4.FullSample
	size    int
	buf     []byte // encoded file, reused
	mdat    []byte // sample data of the segment being built, reused
}

func (w *segmentWriter) add(s mp4.FullSample) {
	w.pending = append(w.pending, s)
	w.size += len(s.Data)
}

// flush writes the pending samples as segment n: styp, one moof, one mdat.
func (w *segmentWriter) flush() error {
	if len(w.pending) == 0 {
		return nil
	}
	n := len(w.res.starts) + 1
	frag, err := mp4.CreateFragment(uint32(n), w.trackID)
	if err != nil {
		return fmt.Errorf("packager: %w", err)
	}
	frag.Mdat.Data = grow(w.mdat, w.size)[:0]
	var dur uint64
	for _, s := range w.pending {
		frag.AddFullSample(s)
		dur += uint64(s.Dur)
	}
	if err := frag.Moof.Traf.OptimizeTfhdTrun(); err != nil {
		return fmt.Errorf("packager: %w", err)
	}
	seg := mp4.NewMediaSegmentWithStyp(w.styp)
	seg.AddFragment(frag)
	if w.enc != nil {
		if err := w.enc.EncryptSegment(w.res.track.ID, seg, w.init); err != nil {
			return fmt.Errorf("packager: encrypt segment %d of %q: %w", n, w.res.track.ID, err)
		}
	}
	size, err := w.write(fmt.Sprintf("seg-%d.m4s", n), seg.Size(), seg.EncodeSW)
	if err != nil {
		return err
	}
	w.mdat = frag.Mdat.Data[:0]
	w.res.starts = append(w.res.starts, w.pending[0].DecodeTime)
	w.res.durs = append(w.res.durs, dur)
	w.res.bytes = append(w.res.bytes, size)
	clear(w.pending)
	w.pending, w.size = w.pending[:0], 0
	return nil
}

// write encodes a box sequence of the given size into the reused buffer and
// writes it as name; it returns the bytes written.
func (w *segmentWriter) write(name string, size uint64, encode func(mp4bits.SliceWriter) error) (int, error) {
	w.buf = grow(w.buf, int(size))
	sw := mp4bits.NewFixedSliceWriterFromSlice(w.buf)
	err := encode(sw)
	if err == nil {
		err = sw.AccError()
	}
	if err != nil {
		return 0, fmt.Errorf("packager: encode %s/%s: %w", w.res.track.ID, name, err)
	}
	if err := os.WriteFile(filepath.Join(w.dir, name), sw.Bytes(), 0o644); err != nil {
		return 0, fmt.Errorf("packager: %w", err)
	}
	return sw.Len(), nil
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// packagedTrack fills the public description of a track from its timeline.
func packagedTrack(r *trackResult) PackagedTrack {
	t := r.track
	p := PackagedTrack{
		ID:       t.ID,
		Kind:     t.Kind,
		Codecs:   r.info.codecs,
		Width:    r.info.width,
		Height:   r.info.height,
		Language: r.info.language,
		InitPath: path.Join(t.ID, InitName),
		Playlist: path.Join(t.ID, PlaylistName),
		Duration: ticksToDuration(r.end()-r.starts[0], r.timescale),
	}
	if t.Kind == KindVideo && r.frameDur > 0 {
		p.FrameRate = float64(r.timescale) / float64(r.frameDur)
	}
	var total int
	peak := 0
	for i, start := range r.starts {
		total += r.bytes[i]
		peak = max(peak, bitrate(r.bytes[i], r.durs[i], r.timescale))
		p.Segments = append(p.Segments, Segment{
			Path:     path.Join(t.ID, fmt.Sprintf("seg-%d.m4s", i+1)),
			Start:    ticksToDuration(start, r.timescale),
			Duration: ticksToDuration(r.durs[i], r.timescale),
			Bytes:    r.bytes[i],
		})
	}
	p.Bandwidth = max(peak, t.Bandwidth)
	p.AverageBandwidth = bitrate(total, r.end()-r.starts[0], r.timescale)
	return p
}

// bitrate is bytes over ticks in bits/s, rounded up.
func bitrate(bytes int, ticks uint64, ts uint32) int {
	if ticks == 0 {
		return 0
	}
	bits := uint64(bytes) * 8 * uint64(ts)
	return int((bits + ticks - 1) / ticks)
}

// sameTimeline checks that r's segments start where ref's do, to within half
// a frame: players switch renditions only at segment boundaries, and the
// manifests promise segmentAlignment.
func sameTimeline(ref, r *trackResult) error {
	if len(ref.starts) != len(r.starts) {
		return inputErr(CodeNotAligned, "track %q has %d segments but track %q has %d: keyframes are not aligned across renditions",
			r.track.ID, len(r.starts), ref.track.ID, len(ref.starts))
	}
	tol := 0.5 * math.Min(float64(ref.frameDur)/float64(ref.timescale), float64(r.frameDur)/float64(r.timescale))
	for i := range ref.starts {
		a := float64(ref.starts[i]) / float64(ref.timescale)
		b := float64(r.starts[i]) / float64(r.timescale)
		if math.Abs(a-b) > tol {
			return inputErr(CodeNotAligned, "segment %d of track %q starts at %.3fs but of track %q at %.3fs: keyframes are not aligned across renditions",
				i+1, r.track.ID, b, ref.track.ID, a)
		}
	}
	return nil
}
