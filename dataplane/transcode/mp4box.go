package transcode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"strings"
)

// mp4Track is what the outputs' moov says about one track.
type mp4Track struct {
	SampleEntry string // "avc1", "hvc1", "av01", "mp4a" …
	Codec       string // RFC 6381 codecs parameter; "" when not understood
}

// moovLimit bounds how much of a file is read as its moov. The outputs are
// fragmented with an empty moov of a few kilobytes.
const moovLimit = 4 << 20

// readTracks reads the sample description of every track of an MP4 file. It is
// how outputs are checked (exactly one track) and how their codec strings are
// read: from the very configuration records a player will see.
func readTracks(path string) ([]mp4Track, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	moov, err := topLevelBox(f, "moov")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var tracks []mp4Track
	eachBox(moov, func(typ string, trak []byte) {
		if typ != "trak" {
			return
		}
		var t mp4Track
		stsd := childPath(trak, "mdia", "minf", "stbl", "stsd")
		if len(stsd) > 8 { // version, flags, entry count; then the first entry
			eachBox(stsd[8:], func(entry string, body []byte) {
				if t.SampleEntry == "" {
					t.SampleEntry = entry
					t.Codec = codecString(entry, body)
				}
			})
		}
		tracks = append(tracks, t)
	})
	return tracks, nil
}

// topLevelBox finds a top-level box by walking headers, without reading the
// media data in between.
func topLevelBox(r io.ReaderAt, want string) ([]byte, error) {
	var off int64
	hdr := make([]byte, 16)
	for {
		n, err := r.ReadAt(hdr, off)
		if n < 8 {
			if err == nil || errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("no %s box", want)
			}
			return nil, err
		}
		size, head := int64(binary.BigEndian.Uint32(hdr)), int64(8)
		switch size {
		case 0:
			return nil, fmt.Errorf("no %s box", want)
		case 1:
			if n < 16 {
				return nil, fmt.Errorf("truncated box header at %d", off)
			}
			size, head = int64(binary.BigEndian.Uint64(hdr[8:])), 16
		}
		if size < head {
			return nil, fmt.Errorf("bad box size at %d", off)
		}
		if string(hdr[4:8]) == want {
			if size > moovLimit {
				return nil, fmt.Errorf("%s box of %d bytes is too large", want, size)
			}
			body := make([]byte, size-head)
			if _, err := r.ReadAt(body, off+head); err != nil {
				return nil, err
			}
			return body, nil
		}
		off += size
	}
}

// eachBox calls fn for every well-formed box in b, in order.
func eachBox(b []byte, fn func(typ string, body []byte)) {
	for len(b) >= 8 {
		size, head := uint64(binary.BigEndian.Uint32(b)), uint64(8)
		switch size {
		case 0:
			size = uint64(len(b))
		case 1:
			if len(b) < 16 {
				return
			}
			size, head = binary.BigEndian.Uint64(b[8:]), 16
		}
		if size < head || size > uint64(len(b)) {
			return
		}
		fn(string(b[4:8]), b[head:size])
		b = b[size:]
	}
}

func childPath(b []byte, path ...string) []byte {
	for _, want := range path {
		var next []byte
		eachBox(b, func(typ string, body []byte) {
			if next == nil && typ == want {
				next = body
			}
		})
		if next == nil {
			return nil
		}
		b = next
	}
	return b
}

// visualEntryHeader is the fixed part of a VisualSampleEntry before its child
// boxes (ISO/IEC 14496-12 §12.1.3).
const visualEntryHeader = 78

// codecString builds the RFC 6381 codecs parameter from a sample entry.
func codecString(entry string, body []byte) string {
	switch entry {
	case "mp4a":
		return audioCodec // the outputs are always AAC-LC
	case "avc1", "avc3", "hvc1", "hev1", "av01":
	default:
		return ""
	}
	if len(body) < visualEntryHeader {
		return ""
	}
	var codec string
	eachBox(body[visualEntryHeader:], func(typ string, c []byte) {
		switch {
		case codec != "":
		case typ == "avcC" && len(c) >= 4:
			codec = fmt.Sprintf("%s.%02x%02x%02x", entry, c[1], c[2], c[3])
		case typ == "hvcC" && len(c) >= 13:
			codec = hevcCodec(entry, c)
		case typ == "av1C" && len(c) >= 4:
			codec = av1Codec(c)
		}
	})
	return codec
}

// hevcCodec follows ISO/IEC 14496-15 Annex E: hvc1.1.6.L93.B0.
func hevcCodec(entry string, c []byte) string {
	space := []string{"", "A", "B", "C"}[c[1]>>6]
	tier := "L"
	if c[1]&0x20 != 0 {
		tier = "H"
	}
	profile := c[1] & 0x1f
	compat := bits.Reverse32(binary.BigEndian.Uint32(c[2:6]))
	s := fmt.Sprintf("%s.%s%d.%X.%s%d", entry, space, profile, compat, tier, c[12])
	constraints := c[6:12]
	last := len(constraints)
	for last > 0 && constraints[last-1] == 0 {
		last--
	}
	var b strings.Builder
	b.WriteString(s)
	for _, x := range constraints[:last] {
		fmt.Fprintf(&b, ".%X", x)
	}
	return b.String()
}

// av1Codec follows the AV1 ISOBMFF binding §5: av01.0.04M.08.
func av1Codec(c []byte) string {
	profile := c[1] >> 5
	level := c[1] & 0x1f
	tier := "M"
	if c[2]&0x80 != 0 {
		tier = "H"
	}
	depth := 8
	if c[2]&0x40 != 0 {
		depth = 10
		if profile == 2 && c[2]&0x20 != 0 {
			depth = 12
		}
	}
	return fmt.Sprintf("av01.%d.%02d%s.%02d", profile, level, tier, depth)
}
