package packager

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DASH profiles: the MPD is a live-profile (SegmentTemplate) static MPD whose
// segments are CMAF.
const dashProfiles = "urn:mpeg:dash:profile:isoff-live:2011,urn:mpeg:dash:profile:cmaf:2019"

type mpdXML struct {
	XMLName                   xml.Name  `xml:"urn:mpeg:dash:schema:mpd:2011 MPD"`
	XMLNSCenc                 string    `xml:"xmlns:cenc,attr"`
	Profiles                  string    `xml:"profiles,attr"`
	Type                      string    `xml:"type,attr"`
	MediaPresentationDuration string    `xml:"mediaPresentationDuration,attr"`
	MinBufferTime             string    `xml:"minBufferTime,attr"`
	Period                    periodXML `xml:"Period"`
}

type periodXML struct {
	ID             string             `xml:"id,attr"`
	Start          string             `xml:"start,attr"`
	AdaptationSets []adaptationSetXML `xml:"AdaptationSet"`
}

// Field order is element order, which the MPD schema fixes: descriptors,
// ContentProtection, Role, SegmentTemplate, Representation.
type adaptationSetXML struct {
	ID                int                 `xml:"id,attr"`
	ContentType       string              `xml:"contentType,attr"`
	MimeType          string              `xml:"mimeType,attr"`
	Lang              string              `xml:"lang,attr,omitempty"`
	SegmentAlignment  bool                `xml:"segmentAlignment,attr"`
	StartWithSAP      int                 `xml:"startWithSAP,attr"`
	MaxWidth          int                 `xml:"maxWidth,attr,omitempty"`
	MaxHeight         int                 `xml:"maxHeight,attr,omitempty"`
	MaxFrameRate      string              `xml:"maxFrameRate,attr,omitempty"`
	ContentProtection string              `xml:",innerxml"`
	Role              descriptorXML       `xml:"Role"`
	SegmentTemplate   *segmentTemplateXML `xml:"SegmentTemplate,omitempty"`
	Representations   []representationXML `xml:"Representation"`
}

type representationXML struct {
	ID                        string              `xml:"id,attr"`
	Bandwidth                 int                 `xml:"bandwidth,attr"`
	Codecs                    string              `xml:"codecs,attr"`
	Width                     int                 `xml:"width,attr,omitempty"`
	Height                    int                 `xml:"height,attr,omitempty"`
	FrameRate                 string              `xml:"frameRate,attr,omitempty"`
	AudioSamplingRate         int                 `xml:"audioSamplingRate,attr,omitempty"`
	AudioChannelConfiguration *descriptorXML      `xml:"AudioChannelConfiguration,omitempty"`
	ContentProtection         string              `xml:",innerxml"`
	SegmentTemplate           *segmentTemplateXML `xml:"SegmentTemplate,omitempty"`
}

type descriptorXML struct {
	SchemeIDURI string `xml:"schemeIdUri,attr"`
	Value       string `xml:"value,attr"`
}

type segmentTemplateXML struct {
	Timescale       uint32 `xml:"timescale,attr"`
	Initialization  string `xml:"initialization,attr"`
	Media           string `xml:"media,attr"`
	StartNumber     int    `xml:"startNumber,attr"`
	SegmentTimeline []sXML `xml:"SegmentTimeline>S"`
}

type sXML struct {
	T *uint64 `xml:"t,attr,omitempty"`
	D uint64  `xml:"d,attr"`
	R int     `xml:"r,attr,omitempty"`
}

// writeDASH writes manifest.mpd: one Period, one AdaptationSet per video codec
// family and one per audio language and codec family, every Representation
// addressed by the same SegmentTemplate with an exact SegmentTimeline.
func writeDASH(dir string, results []*trackResult, enc Encryptor) error {
	var maxSeg time.Duration
	var total time.Duration
	for _, r := range results {
		total = max(total, r.packaged.Duration)
		for _, s := range r.packaged.Segments {
			maxSeg = max(maxSeg, s.Duration)
		}
	}
	m := mpdXML{
		XMLNSCenc:                 "urn:mpeg:cenc:2013",
		Profiles:                  dashProfiles,
		Type:                      "static",
		MediaPresentationDuration: xsDuration(total),
		MinBufferTime:             xsDuration(maxSeg.Round(time.Second)),
		Period:                    periodXML{ID: "0", Start: "PT0S"},
	}
	for _, group := range adaptationGroups(results) {
		as, err := adaptationSet(len(m.Period.AdaptationSets), group, enc)
		if err != nil {
			return err
		}
		m.Period.AdaptationSets = append(m.Period.AdaptationSets, as)
	}
	out, err := xml.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("packager: marshal MPD: %w", err)
	}
	out = append([]byte(xml.Header), out...)
	out = append(out, '\n')
	if err := os.WriteFile(filepath.Join(dir, DASHManifestName), out, 0o644); err != nil {
		return fmt.Errorf("packager: %w", err)
	}
	return nil
}

// adaptationGroups groups tracks that a player may switch between, in the
// order their first member appears.
func adaptationGroups(results []*trackResult) [][]*trackResult {
	var keys []string
	groups := map[string][]*trackResult{}
	for _, r := range results {
		key := r.track.Kind + "/" + r.info.family
		if r.track.Kind == KindAudio {
			key += "/" + r.info.language
		}
		if _, ok := groups[key]; !ok {
			keys = append(keys, key)
		}
		groups[key] = append(groups[key], r)
	}
	out := make([][]*trackResult, 0, len(keys))
	for _, k := range keys {
		out = append(out, groups[k])
	}
	return out
}

func adaptationSet(id int, group []*trackResult, enc Encryptor) (adaptationSetXML, error) {
	first := group[0]
	kind := first.track.Kind
	as := adaptationSetXML{
		ID:               id,
		ContentType:      kind,
		MimeType:         kind + "/mp4",
		Lang:             first.info.language,
		SegmentAlignment: true,
		StartWithSAP:     1,
		Role:             descriptorXML{SchemeIDURI: "urn:mpeg:dash:role:2011", Value: "main"},
	}
	protections := make([]string, len(group))
	templates := make([]*segmentTemplateXML, len(group))
	var maxRate float64
	for i, r := range group {
		p := r.packaged
		rep := representationXML{ID: p.ID, Bandwidth: p.Bandwidth, Codecs: p.Codecs}
		if kind == KindVideo {
			rep.Width, rep.Height = p.Width, p.Height
			rep.FrameRate = frameRate(r.timescale, r.frameDur)
			as.MaxWidth, as.MaxHeight = max(as.MaxWidth, p.Width), max(as.MaxHeight, p.Height)
			if p.FrameRate > maxRate {
				maxRate, as.MaxFrameRate = p.FrameRate, rep.FrameRate
			}
		} else {
			rep.AudioSamplingRate = r.info.sampleRate
			if r.info.channels > 0 {
				rep.AudioChannelConfiguration = &descriptorXML{
					SchemeIDURI: "urn:mpeg:dash:23003:3:audio_channel_configuration:2011",
					Value:       strconv.Itoa(r.info.channels),
				}
			}
		}
		if enc != nil {
			cp, err := contentProtection(p.ID, enc.DASHContentProtection(p.ID))
			if err != nil {
				return as, err
			}
			protections[i] = cp
		}
		templates[i] = segmentTemplate(r)
		as.Representations = append(as.Representations, rep)
	}
	// What every Representation shares is said once, in the AdaptationSet.
	if allEqual(protections) {
		as.ContentProtection = protections[0]
	} else {
		for i := range as.Representations {
			as.Representations[i].ContentProtection = protections[i]
		}
	}
	shared := true
	for _, t := range templates[1:] {
		shared = shared && t.Timescale == templates[0].Timescale && slices.EqualFunc(t.SegmentTimeline, templates[0].SegmentTimeline, sEqual)
	}
	if shared {
		as.SegmentTemplate = templates[0]
	} else {
		for i := range as.Representations {
			as.Representations[i].SegmentTemplate = templates[i]
		}
	}
	return as, nil
}

func segmentTemplate(r *trackResult) *segmentTemplateXML {
	st := &segmentTemplateXML{
		Timescale:      r.timescale,
		Initialization: "$RepresentationID$/" + InitName,
		Media:          "$RepresentationID$/seg-$Number$.m4s",
		StartNumber:    1,
	}
	for i, d := range r.durs {
		if n := len(st.SegmentTimeline); n > 0 && st.SegmentTimeline[n-1].D == d {
			st.SegmentTimeline[n-1].R++
			continue
		}
		s := sXML{D: d}
		if i == 0 {
			t := r.starts[0]
			s.T = &t
		}
		st.SegmentTimeline = append(st.SegmentTimeline, s)
	}
	return st
}

func sEqual(a, b sXML) bool {
	return a.D == b.D && a.R == b.R && (a.T == nil) == (b.T == nil) && (a.T == nil || *a.T == *b.T)
}

// contentProtection joins the Encryptor's elements after checking that each is
// well-formed XML, so a bad one fails the package instead of the players.
func contentProtection(track string, elems []string) (string, error) {
	var b strings.Builder
	for _, e := range elems {
		d := xml.NewDecoder(strings.NewReader(e))
		depth, roots := 0, 0
		for {
			tok, err := d.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return "", fmt.Errorf("packager: encryptor's ContentProtection for %q is not well-formed XML: %w", track, err)
			}
			switch tok.(type) {
			case xml.StartElement:
				if depth == 0 {
					roots++
				}
				depth++
			case xml.EndElement:
				depth--
			}
		}
		if roots != 1 || depth != 0 {
			return "", fmt.Errorf("packager: encryptor's ContentProtection for %q must be exactly one element: %q", track, e)
		}
		b.WriteString(e)
	}
	return b.String(), nil
}

func allEqual(s []string) bool {
	for _, v := range s[1:] {
		if v != s[0] {
			return false
		}
	}
	return true
}

// frameRate is the DASH FrameRateType: an integer, or a reduced fraction such
// as 30000/1001.
func frameRate(ts uint32, frameDur uint32) string {
	if frameDur == 0 {
		return ""
	}
	g := gcd(ts, frameDur)
	n, d := ts/g, frameDur/g
	if d == 1 {
		return strconv.FormatUint(uint64(n), 10)
	}
	return fmt.Sprintf("%d/%d", n, d)
}

func gcd(a, b uint32) uint32 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// xsDuration formats d as an xs:duration in seconds, rounded up to the
// millisecond so that a presentation is never declared shorter than it is.
func xsDuration(d time.Duration) string {
	ms := (d + time.Millisecond - 1) / time.Millisecond
	s := strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)
	return "PT" + s + "S"
}
