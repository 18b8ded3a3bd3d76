package packager

import (
	"bytes"
	"fmt"
	"math/bits"
	"strings"

	"github.com/Eyevinn/mp4ff/aac"
	"github.com/Eyevinn/mp4ff/mp4"
)

// trackInfo is what the manifests need to know about a track's media.
type trackInfo struct {
	codecs     string // RFC 6381
	family     string // sample entry type family: tracks of one family may share an AdaptationSet
	width      int
	height     int
	channels   int
	sampleRate int
	language   string
}

// describe reads the codecs string and the presentation properties from the
// track header. Codecs the browsers and our players cannot take are refused
// here, before any work is done.
func describe(s *source) (trackInfo, error) {
	t := s.track
	var info trackInfo
	entry := s.trak.Mdia.Minf.Stbl.Stsd.Children[0]
	unsupported := func(format string, args ...any) error {
		return inputErr(CodeUnsupportedCodec, "track %q: "+format, append([]any{t.ID}, args...)...)
	}
	switch se := entry.(type) {
	case *mp4.VisualSampleEntryBox:
		typ := se.Type()
		switch typ {
		case "avc1", "avc3":
			if se.AvcC == nil {
				return info, s.bad("%s sample entry without avcC", typ)
			}
			c := se.AvcC.DecConfRec
			info.codecs = fmt.Sprintf("%s.%02X%02X%02X", typ, c.AVCProfileIndication, c.ProfileCompatibility, c.AVCLevelIndication)
			info.family = "avc"
		case "hvc1", "hev1":
			if se.HvcC == nil {
				return info, s.bad("%s sample entry without hvcC", typ)
			}
			info.codecs = hevcCodecs(typ, se.HvcC)
			info.family = "hevc"
		case "av01":
			if se.Av1C == nil {
				return info, s.bad("av01 sample entry without av1C")
			}
			info.codecs = av1Codecs(se.Av1C)
			info.family = "av1"
		case "encv":
			return info, unsupported("input is already encrypted")
		default:
			return info, unsupported("video sample entry %q is not H.264, HEVC or AV1", typ)
		}
		info.width, info.height = int(se.Width), int(se.Height)
		if w, h := int(s.trak.Tkhd.Width>>16), int(s.trak.Tkhd.Height>>16); w > 0 && h > 0 {
			info.width, info.height = w, h // display size, which HLS RESOLUTION means
		}
	case *mp4.AudioSampleEntryBox:
		typ := se.Type()
		if typ == "enca" {
			return info, unsupported("input is already encrypted")
		}
		if typ != "mp4a" || se.Esds == nil || se.Esds.DecConfigDescriptor.ObjectType != 0x40 {
			return info, unsupported("audio sample entry %q is not MPEG-4 AAC", typ)
		}
		var asc []byte
		if dsi := se.Esds.DecConfigDescriptor.DecSpecificInfo; dsi != nil {
			asc = dsi.DecConfig
		}
		aot, ok := audioObjectType(asc)
		if !ok {
			return info, s.bad("AAC track without a valid AudioSpecificConfig")
		}
		info.codecs = fmt.Sprintf("mp4a.40.%d", aot)
		info.family = "aac"
		info.channels = int(se.ChannelCount)
		info.sampleRate = int(se.SampleRate)
		// ffmpeg writes channel_count 2 even for mono; the ASC is what decoders use.
		if c, err := aac.DecodeAudioSpecificConfig(bytes.NewReader(asc)); err == nil {
			switch {
			case c.ChannelConfiguration >= 1 && c.ChannelConfiguration <= 6:
				info.channels = int(c.ChannelConfiguration)
			case c.ChannelConfiguration == 7:
				info.channels = 8
			}
			if c.SamplingFrequency > 0 {
				info.sampleRate = c.SamplingFrequency
			}
		}
	default:
		return info, unsupported("sample entry %q is neither video nor audio", entry.Type())
	}
	if lang := s.trak.Mdia.Mdhd.GetLanguage(); lang != "und" && strings.Trim(lang, "\x00 ") != "" {
		info.language = lang
	}
	if t.Codecs != "" {
		info.codecs = t.Codecs
	}
	if t.Language != "" {
		info.language = t.Language
	}
	if t.Width > 0 && t.Height > 0 {
		info.width, info.height = t.Width, t.Height
	}
	return info, nil
}

// audioObjectType reads the (possibly escaped) 5-bit audioObjectType that
// starts an AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1).
func audioObjectType(asc []byte) (int, bool) {
	if len(asc) < 2 {
		return 0, false
	}
	aot := int(asc[0] >> 3)
	if aot == 31 {
		aot = 32 + (int(asc[0]&0x07)<<3 | int(asc[1]>>5))
	}
	return aot, aot != 0
}

// hevcCodecs is ISO/IEC 14496-15 Annex E from the decoder configuration
// record, which carries the same profile_tier_level fields as the SPS.
func hevcCodecs(typ string, c *mp4.HvcCBox) string {
	var b strings.Builder
	b.WriteString(typ)
	b.WriteByte('.')
	if c.GeneralProfileSpace > 0 && c.GeneralProfileSpace <= 3 {
		b.WriteByte("ABC"[c.GeneralProfileSpace-1])
	}
	fmt.Fprintf(&b, "%d.%X.", c.GeneralProfileIDC, bits.Reverse32(c.GeneralProfileCompatibilityFlags))
	if c.GeneralTierFlag {
		b.WriteByte('H')
	} else {
		b.WriteByte('L')
	}
	fmt.Fprintf(&b, "%d", c.GeneralLevelIDC)
	cif := c.GeneralConstraintIndicatorFlags & (1<<48 - 1)
	n := 6
	for n > 0 && cif&0xff == 0 {
		cif >>= 8
		n--
	}
	for i := n - 1; i >= 0; i-- {
		fmt.Fprintf(&b, ".%X", (cif>>(8*i))&0xff)
	}
	return b.String()
}

// av1Codecs is the mandatory part of the AV1 codecs parameter
// (av01.P.LLT.DD, AV1-ISOBMFF "Codecs Parameter String").
func av1Codecs(c *mp4.Av1CBox) string {
	depth := 8
	switch {
	case c.SeqProfile == 2 && c.HighBitdepth == 1 && c.TwelveBit == 1:
		depth = 12
	case c.HighBitdepth == 1:
		depth = 10
	}
	tier := "M"
	if c.SeqTier0 == 1 {
		tier = "H"
	}
	return fmt.Sprintf("av01.%d.%02d%s.%02d", c.SeqProfile, c.SeqLevelIdx0, tier, depth)
}
