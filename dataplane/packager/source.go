package packager

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/Eyevinn/mp4ff/mp4"
)

// source reads one fragmented single-track MP4 box by box, so memory stays at
// about one input fragment plus one output segment however long the title is.
type source struct {
	track Track
	f     *os.File
	r     *bufio.Reader
	pos   uint64
	size  uint64

	ftyp    *mp4.FtypBox
	moov    *mp4.MoovBox
	trak    *mp4.TrakBox
	trex    *mp4.TrexBox
	trackID uint32
	// nextDTS is where the next fragment must start: gaps and overlaps in
	// decode time would make the playlists' durations lie.
	nextDTS  uint64
	started  bool
	fragment int

	// Sample data is read into reused buffers: inUse[len-1] holds the
	// current fragment, older ones are held by the pending segment until
	// it is written, then recycled.
	inUse, free [][]byte
}

// mdatPayload is an mdat box read into a reused buffer instead of a fresh
// allocation per fragment.
type mdatPayload struct {
	start uint64 // file offset of the payload
	data  []byte
}

func openSource(t Track) (*source, error) {
	f, err := os.Open(t.Path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, inputErr(CodeInvalidInput, "track %q: %s does not exist", t.ID, t.Path)
		}
		return nil, fmt.Errorf("packager: open %s: %w", t.Path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("packager: stat %s: %w", t.Path, err)
	}
	s := &source{track: t, f: f, r: bufio.NewReaderSize(f, 1<<20), size: uint64(fi.Size())}
	if err := s.readHeader(); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

func (s *source) Close() error { return s.f.Close() }

func (s *source) bad(format string, args ...any) *Error {
	return inputErr(CodeInvalidInput, "track %q: "+format, append([]any{s.track.ID}, args...)...)
}

// readBox decodes the next top-level box, or returns an mdat's payload. Box
// sizes are checked against the file size before anything is allocated, and a
// panic inside the decoder (a malformed box) becomes invalid_input.
func (s *source) readBox() (box mp4.Box, mdat *mdatPayload, err error) {
	defer func() {
		if p := recover(); p != nil {
			box, mdat, err = nil, nil, s.bad("malformed box at byte %d: %v", s.pos, p)
		}
	}()
	if s.pos == s.size {
		return nil, nil, io.EOF
	}
	hdr, err := mp4.DecodeHeader(s.r)
	if err != nil {
		return nil, nil, s.bad("truncated or malformed box header at byte %d", s.pos)
	}
	if hdr.Size > s.size-s.pos {
		return nil, nil, s.bad("box %q at byte %d runs past the end of the file (truncated?)", hdr.Name, s.pos)
	}
	start := s.pos
	s.pos += hdr.Size
	if hdr.Name == "mdat" {
		m := &mdatPayload{start: start + uint64(hdr.Hdrlen), data: s.buffer(int(hdr.Size) - hdr.Hdrlen)}
		if _, err := io.ReadFull(s.r, m.data); err != nil {
			return nil, nil, s.bad("read mdat at byte %d: %v", start, err)
		}
		return nil, m, nil
	}
	box, err = mp4.DecodeBoxBody(start, hdr, s.r)
	if err != nil {
		return nil, nil, s.bad("decode box %q at byte %d: %v", hdr.Name, start, err)
	}
	return box, nil, nil
}

// buffer returns a buffer of n bytes for the next fragment's samples.
func (s *source) buffer(n int) []byte {
	var b []byte
	for i, f := range s.free {
		if cap(f) >= n {
			b = f[:n]
			s.free = slices.Delete(s.free, i, i+1)
			break
		}
	}
	if b == nil {
		b = make([]byte, n, n+n/4)
	}
	s.inUse = append(s.inUse, b)
	return b
}

// recycle is called once the samples handed out so far, except those of the
// current fragment, are written and no longer referenced.
func (s *source) recycle() {
	if n := len(s.inUse); n > 1 {
		s.free = append(s.free, s.inUse[:n-1]...)
		s.inUse = append(s.inUse[:0], s.inUse[n-1])
	}
}

// readHeader reads up to and including the moov box and checks that the file
// is a fragmented MP4 with one track of the declared kind.
func (s *source) readHeader() error {
	if s.size == 0 {
		return s.bad("file is empty")
	}
	for s.moov == nil {
		box, mdat, err := s.readBox()
		if errors.Is(err, io.EOF) {
			return s.bad("no moov box: not an MP4 file")
		}
		if err != nil {
			return err
		}
		if _, moof := box.(*mp4.MoofBox); moof || mdat != nil {
			return s.bad("media data before the moov box: not a fragmented MP4 with empty_moov")
		}
		switch b := box.(type) {
		case *mp4.FtypBox:
			s.ftyp = b
		case *mp4.MoovBox:
			s.moov = b
		}
	}
	if len(s.moov.Traks) != 1 {
		return s.bad("has %d tracks, want exactly one", len(s.moov.Traks))
	}
	s.trak = s.moov.Trak
	if s.moov.Mvex == nil || s.moov.Mvex.Trex == nil {
		return s.bad("not a fragmented MP4 (no mvex/trex)")
	}
	if s.trak.Mdia == nil || s.trak.Mdia.Mdhd == nil || s.trak.Mdia.Hdlr == nil || s.trak.Mdia.Minf == nil ||
		s.trak.Mdia.Minf.Stbl == nil || s.trak.Mdia.Minf.Stbl.Stsd == nil || s.trak.Tkhd == nil {
		return s.bad("incomplete track header")
	}
	if s.trak.Mdia.Mdhd.Timescale == 0 {
		return s.bad("track timescale is 0")
	}
	s.trex = s.moov.Mvex.Trex
	s.trackID = s.trak.Tkhd.TrackID
	want := map[string]string{KindVideo: "vide", KindAudio: "soun"}[s.track.Kind]
	if got := s.trak.Mdia.Hdlr.HandlerType; got != want {
		return s.bad("handler is %q but the track is declared %s", got, s.track.Kind)
	}
	if n := len(s.trak.Mdia.Minf.Stbl.Stsd.Children); n != 1 {
		return s.bad("has %d sample descriptions, want one", n)
	}
	return nil
}

func (s *source) timescale() uint32 { return s.trak.Mdia.Mdhd.Timescale }

// next returns the samples of the next fragment, io.EOF after the last one.
// Sample data slices point into that fragment's mdat.
func (s *source) next() ([]mp4.FullSample, error) {
	var moof *mp4.MoofBox
	for {
		box, mdat, err := s.readBox()
		if errors.Is(err, io.EOF) {
			if moof != nil {
				return nil, s.bad("file ends after a moof without its mdat (truncated?)")
			}
			if !s.started {
				return nil, s.bad("no media fragments")
			}
			return nil, io.EOF
		}
		if err != nil {
			return nil, err
		}
		if mdat != nil {
			if moof == nil {
				return nil, s.bad("mdat at byte %d without a moof", mdat.start)
			}
			samples, err := s.fragmentSamples(moof, mdat)
			if err != nil {
				return nil, err
			}
			if len(samples) == 0 {
				moof = nil
				continue
			}
			return samples, nil
		}
		switch b := box.(type) {
		case *mp4.MoofBox:
			if moof != nil {
				return nil, s.bad("two moof boxes without an mdat between them")
			}
			moof = b
		case *mp4.MoovBox:
			return nil, s.bad("second moov box")
		}
	}
}

// fragmentSamples is mp4.Fragment.GetFullSamples with the bounds checks a
// file from outside needs: sizes must fit the mdat, decode times must be
// contiguous.
func (s *source) fragmentSamples(moof *mp4.MoofBox, mdat *mdatPayload) ([]mp4.FullSample, error) {
	s.fragment++
	if len(moof.Trafs) != 1 {
		return nil, s.bad("fragment %d has %d track fragments, want one", s.fragment, len(moof.Trafs))
	}
	traf := moof.Traf
	if traf.Tfhd == nil || traf.Tfhd.TrackID != s.trackID {
		return nil, s.bad("fragment %d is not for track %d", s.fragment, s.trackID)
	}
	if traf.Tfdt == nil {
		return nil, s.bad("fragment %d has no tfdt", s.fragment)
	}
	tfhd := traf.Tfhd
	if tfhd.HasSampleDescriptionIndex() && tfhd.SampleDescriptionIndex != 1 {
		return nil, s.bad("fragment %d uses sample description %d", s.fragment, tfhd.SampleDescriptionIndex)
	}
	dts := traf.Tfdt.BaseMediaDecodeTime()
	if !s.started {
		s.started, s.nextDTS = true, dts
	}
	if dts != s.nextDTS {
		return nil, s.bad("fragment %d starts at decode time %d, want %d (gap or overlap)", s.fragment, dts, s.nextDTS)
	}
	payloadStart := mdat.start
	var samples []mp4.FullSample
	for _, trun := range traf.Truns {
		trun.AddSampleDefaultValues(tfhd, s.trex)
		base := moof.StartPos
		if tfhd.HasBaseDataOffset() {
			base = tfhd.BaseDataOffset
		}
		off := int64(base)
		if trun.HasDataOffset() {
			off += int64(trun.DataOffset)
		}
		off -= int64(payloadStart)
		for _, smp := range trun.Samples {
			end := off + int64(smp.Size)
			if off < 0 || end > int64(len(mdat.data)) {
				return nil, s.bad("fragment %d: sample data outside its mdat", s.fragment)
			}
			if smp.Dur == 0 {
				return nil, s.bad("fragment %d: sample with zero duration", s.fragment)
			}
			samples = append(samples, mp4.FullSample{Sample: smp, DecodeTime: dts, Data: mdat.data[off:end:end]})
			off = end
			dts += uint64(smp.Dur)
		}
	}
	s.nextDTS = dts
	return samples, nil
}

// isSync is the normative test (sample_is_non_sync_sample clear), tolerant of
// writers that leave sample_depends_on unknown, which mp4.Sample.IsSync is not.
func isSync(s mp4.Sample) bool {
	f := mp4.DecodeSampleFlags(s.Flags)
	return !f.SampleIsNonSync && f.SampleDependsOn != 1
}
