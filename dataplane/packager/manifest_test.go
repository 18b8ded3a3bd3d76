package packager

import (
	"encoding/xml"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test reads the manifests back with its own minimal parsers, written
// from the specifications rather than from the writer's types, so a mistake
// in the writer is not mirrored by the reader.

type testMPD struct {
	XMLName                   xml.Name `xml:"urn:mpeg:dash:schema:mpd:2011 MPD"`
	Profiles                  string   `xml:"profiles,attr"`
	Type                      string   `xml:"type,attr"`
	MediaPresentationDuration string   `xml:"mediaPresentationDuration,attr"`
	MinBufferTime             string   `xml:"minBufferTime,attr"`
	Periods                   []struct {
		AdaptationSets []testAdaptationSet `xml:"AdaptationSet"`
	} `xml:"Period"`
}

type testAdaptationSet struct {
	ContentType       string          `xml:"contentType,attr"`
	MimeType          string          `xml:"mimeType,attr"`
	Lang              string          `xml:"lang,attr"`
	SegmentAlignment  string          `xml:"segmentAlignment,attr"`
	ContentProtection []testCP        `xml:"ContentProtection"`
	SegmentTemplate   *testTemplate   `xml:"SegmentTemplate"`
	Representations   []testRepresent `xml:"Representation"`
}

type testRepresent struct {
	ID                string        `xml:"id,attr"`
	Bandwidth         int           `xml:"bandwidth,attr"`
	Codecs            string        `xml:"codecs,attr"`
	Width             int           `xml:"width,attr"`
	Height            int           `xml:"height,attr"`
	ContentProtection []testCP      `xml:"ContentProtection"`
	SegmentTemplate   *testTemplate `xml:"SegmentTemplate"`
}

type testCP struct {
	SchemeIDURI string `xml:"schemeIdUri,attr"`
	Value       string `xml:"value,attr"`
	DefaultKID  string `xml:"urn:mpeg:cenc:2013 default_KID,attr"`
}

type testTemplate struct {
	Timescale      uint64 `xml:"timescale,attr"`
	Initialization string `xml:"initialization,attr"`
	Media          string `xml:"media,attr"`
	StartNumber    int    `xml:"startNumber,attr"`
	S              []struct {
		T *uint64 `xml:"t,attr"`
		D uint64  `xml:"d,attr"`
		R int     `xml:"r,attr"`
	} `xml:"SegmentTimeline>S"`
}

// dashRep is one Representation resolved: its files and its timeline.
type dashRep struct {
	kind      string
	rep       testRepresent
	cp        []testCP // ContentProtection in force (AdaptationSet's or its own)
	timescale uint64
	init      string
	media     []string
	starts    []uint64
	durs      []uint64
}

func readMPD(t *testing.T, file string) (testMPD, []dashRep) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var m testMPD
	if err := xml.Unmarshal(raw, &m); err != nil {
		t.Fatalf("MPD does not parse: %v\n%s", err, raw)
	}
	if len(m.Periods) != 1 {
		t.Fatalf("MPD has %d periods, want 1", len(m.Periods))
	}
	var reps []dashRep
	for _, as := range m.Periods[0].AdaptationSets {
		for _, r := range as.Representations {
			tmpl := r.SegmentTemplate
			if tmpl == nil {
				tmpl = as.SegmentTemplate
			}
			if tmpl == nil {
				t.Fatalf("representation %s has no SegmentTemplate", r.ID)
			}
			cp := as.ContentProtection
			if len(r.ContentProtection) > 0 {
				cp = r.ContentProtection
			}
			d := dashRep{kind: as.ContentType, rep: r, cp: cp, timescale: tmpl.Timescale,
				init: strings.ReplaceAll(tmpl.Initialization, "$RepresentationID$", r.ID)}
			var next uint64
			n := tmpl.StartNumber
			for _, s := range tmpl.S {
				if s.T != nil {
					next = *s.T
				}
				for range s.R + 1 {
					media := strings.ReplaceAll(tmpl.Media, "$RepresentationID$", r.ID)
					d.media = append(d.media, strings.ReplaceAll(media, "$Number$", strconv.Itoa(n)))
					d.starts = append(d.starts, next)
					d.durs = append(d.durs, s.D)
					next += s.D
					n++
				}
			}
			reps = append(reps, d)
		}
	}
	return m, reps
}

var xsDurationRe = regexp.MustCompile(`^PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?$`)

func parseXSDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	m := xsDurationRe.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("bad xs:duration %q", s)
	}
	var d time.Duration
	if m[1] != "" {
		h, _ := strconv.Atoi(m[1])
		d += time.Duration(h) * time.Hour
	}
	if m[2] != "" {
		mi, _ := strconv.Atoi(m[2])
		d += time.Duration(mi) * time.Minute
	}
	if m[3] != "" {
		f, _ := strconv.ParseFloat(m[3], 64)
		d += time.Duration(f * float64(time.Second))
	}
	return d
}

// hlsAttrs parses an HLS attribute list (RFC 8216 4.2).
func hlsAttrs(s string) map[string]string {
	out := map[string]string{}
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			break
		}
		key := s[:eq]
		s = s[eq+1:]
		var val string
		if strings.HasPrefix(s, `"`) {
			end := strings.IndexByte(s[1:], '"') + 1
			val, s = s[1:end], s[end+1:]
		} else if i := strings.IndexByte(s, ','); i >= 0 {
			val, s = s[:i], s[i:]
		} else {
			val, s = s, ""
		}
		out[key] = val
		s = strings.TrimPrefix(s, ",")
	}
	return out
}

type hlsVariant struct {
	attrs map[string]string
	uri   string
}

type hlsMaster struct {
	lines    []string
	media    []map[string]string
	variants []hlsVariant
}

func readMaster(t *testing.T, file string) hlsMaster {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var m hlsMaster
	m.lines = strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if m.lines[0] != "#EXTM3U" {
		t.Fatalf("master does not start with #EXTM3U")
	}
	for i := 0; i < len(m.lines); i++ {
		l := m.lines[i]
		switch {
		case strings.HasPrefix(l, "#EXT-X-MEDIA:"):
			m.media = append(m.media, hlsAttrs(strings.TrimPrefix(l, "#EXT-X-MEDIA:")))
		case strings.HasPrefix(l, "#EXT-X-STREAM-INF:"):
			m.variants = append(m.variants, hlsVariant{hlsAttrs(strings.TrimPrefix(l, "#EXT-X-STREAM-INF:")), m.lines[i+1]})
			i++
		}
	}
	return m
}

type hlsMedia struct {
	lines      []string
	target     int
	mapURI     string
	keysBefore []string // tags between the header and EXT-X-MAP that are not header tags
	durs       []float64
	uris       []string
	endList    bool
}

func readMediaPlaylist(t *testing.T, file string) hlsMedia {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var p hlsMedia
	p.lines = strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	header := regexp.MustCompile(`^#(EXTM3U|EXT-X-VERSION|EXT-X-TARGETDURATION|EXT-X-MEDIA-SEQUENCE|EXT-X-PLAYLIST-TYPE|EXT-X-INDEPENDENT-SEGMENTS)\b`)
	extinf := regexp.MustCompile(`^#EXTINF:(\d+\.\d{3,}),`)
	for _, l := range p.lines {
		switch {
		case strings.HasPrefix(l, "#EXT-X-TARGETDURATION:"):
			p.target, _ = strconv.Atoi(strings.TrimPrefix(l, "#EXT-X-TARGETDURATION:"))
		case strings.HasPrefix(l, "#EXT-X-MAP:"):
			p.mapURI = hlsAttrs(strings.TrimPrefix(l, "#EXT-X-MAP:"))["URI"]
		case strings.HasPrefix(l, "#EXTINF:"):
			m := extinf.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("%s: EXTINF without 3+ decimals: %q", file, l)
			}
			d, _ := strconv.ParseFloat(m[1], 64)
			p.durs = append(p.durs, d)
		case l == "#EXT-X-ENDLIST":
			p.endList = true
		case strings.HasPrefix(l, "#") && p.mapURI == "" && !header.MatchString(l):
			p.keysBefore = append(p.keysBefore, l)
		case !strings.HasPrefix(l, "#") && l != "":
			p.uris = append(p.uris, l)
		}
	}
	return p
}

// packageFiles lists every file of a package, relative, with '/'.
func packageFiles(t *testing.T, dir string) map[string]bool {
	t.Helper()
	files := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func resolveRef(base, ref string) string { return path.Join(path.Dir(base), ref) }
