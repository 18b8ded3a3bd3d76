package packager

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"
)

func TestPackageStructure(t *testing.T) {
	cases := []struct {
		name     string
		tracks   func(t testing.TB) []Track
		d        time.Duration
		wantSegs int
	}{
		{"three renditions and audio, D=2s", ladder, 2 * time.Second, 4},
		{"same input, D=4s", ladder, 4 * time.Second, 2},
		{"keyframes every 1s, D=2s", func(t testing.TB) []Track {
			return []Track{{ID: "v", Kind: KindVideo, Path: media(t, "v240k1")}, {ID: "a", Kind: KindAudio, Path: media(t, "audio")}}
		}, 2 * time.Second, 4},
		{"audio in one fragment is still cut with the video", func(t testing.TB) []Track {
			return []Track{{ID: "v", Kind: KindVideo, Path: media(t, "v240")}, {ID: "a", Kind: KindAudio, Path: media(t, "audio1frag")}}
		}, 2 * time.Second, 4},
		{"video only", func(t testing.TB) []Track {
			return []Track{{ID: "v", Kind: KindVideo, Path: media(t, "v240")}}
		}, 2 * time.Second, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tracks := c.tracks(t)
			dir := filepath.Join(t.TempDir(), "pkg")
			out, err := Package(context.Background(), tracks, dir, Options{SegmentDuration: c.d})
			if err != nil {
				t.Fatal(err)
			}
			checkPackage(t, tracks, out, c.d)
			for _, tr := range out.Tracks {
				if len(tr.Segments) != c.wantSegs {
					t.Errorf("%s: %d segments, want %d", tr.ID, len(tr.Segments), c.wantSegs)
				}
			}
		})
	}
}

// checkPackage verifies what must hold for every package: the CMAF files,
// the timing against the inputs, alignment, and both manifests.
func checkPackage(t *testing.T, tracks []Track, out Output, d time.Duration) {
	t.Helper()
	if len(out.Tracks) != len(tracks) {
		t.Fatalf("%d tracks out, %d in", len(out.Tracks), len(tracks))
	}
	var videoTimeline []Segment
	for i, tr := range out.Tracks {
		in := tracks[i]
		if tr.ID != in.ID || tr.Kind != in.Kind {
			t.Fatalf("track %d is %s/%s, want %s/%s", i, tr.ID, tr.Kind, in.ID, in.Kind)
		}
		init := checkInit(t, filepath.Join(out.Dir, tr.InitPath))
		ts := init.Moov.Trak.Mdia.Mdhd.Timescale
		inDur, frame := inputDuration(t, in.Path)

		// Never more segments than the grid has cells (sparser keyframes give
		// fewer, longer ones; the callers check exact counts); durations add up.
		if grid := int(math.Ceil(tr.Duration.Seconds()/d.Seconds() - 1e-3)); len(tr.Segments) > grid || len(tr.Segments) == 0 {
			t.Errorf("%s: %d segments for %v at D=%v", tr.ID, len(tr.Segments), tr.Duration, d)
		}
		var sum time.Duration
		for j, s := range tr.Segments {
			if (s.Start - sum).Abs() > time.Duration(j)*time.Nanosecond {
				t.Errorf("%s segment %d starts at %v, want %v", tr.ID, j+1, s.Start, sum)
			}
			sum += s.Duration
			checkSegment(t, out.Dir, tr, j, s, init, ts)
		}
		if diff := (sum - tr.Duration).Abs(); diff > time.Duration(len(tr.Segments))*time.Nanosecond {
			t.Errorf("%s: segment durations add to %v, track is %v", tr.ID, sum, tr.Duration)
		}
		if diff := (tr.Duration - inDur).Abs(); diff > frame {
			t.Errorf("%s: packaged duration %v, input %v: more than a frame (%v) apart", tr.ID, tr.Duration, inDur, frame)
		}
		if tr.Kind == KindVideo {
			if videoTimeline == nil {
				videoTimeline = tr.Segments
			} else if !sameStarts(videoTimeline, tr.Segments) {
				t.Errorf("%s: segment timeline differs from the first video track's", tr.ID)
			}
			if tr.Width == 0 || tr.Height == 0 || tr.FrameRate != 30 {
				t.Errorf("%s: size %dx%d at %v fps", tr.ID, tr.Width, tr.Height, tr.FrameRate)
			}
		}
		if tr.Bandwidth < tr.AverageBandwidth || tr.AverageBandwidth == 0 {
			t.Errorf("%s: bandwidth %d, average %d", tr.ID, tr.Bandwidth, tr.AverageBandwidth)
		}
	}
	checkHLS(t, out)
	checkDASH(t, out)
}

func checkInit(t *testing.T, file string) *mp4.InitSegment {
	t.Helper()
	f, err := mp4.ReadMP4File(file)
	if err != nil {
		t.Fatalf("init %s: %v", file, err)
	}
	if f.Init == nil || len(f.Segments) != 0 {
		t.Fatalf("%s is not a bare CMAF header", file)
	}
	brands := f.Init.Ftyp.CompatibleBrands()
	if !slices.Contains(brands, "cmfc") || !slices.Contains(brands, "cmf2") {
		t.Errorf("%s: ftyp brands %v lack cmfc/cmf2", file, brands)
	}
	if len(f.Init.Moov.Traks) != 1 || f.Init.Moov.Trak.Edts != nil {
		t.Errorf("%s: want one track and no edit list", file)
	}
	return f.Init
}

func checkSegment(t *testing.T, dir string, tr PackagedTrack, j int, s Segment, init *mp4.InitSegment, ts uint32) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, s.Path))
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != s.Bytes {
		t.Errorf("%s: %d bytes, Output says %d", s.Path, len(raw), s.Bytes)
	}
	f, err := mp4.DecodeFile(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", s.Path, err)
	}
	if len(f.Segments) != 1 || len(f.Segments[0].Fragments) != 1 || f.Segments[0].Styp == nil {
		t.Fatalf("%s: want styp and one fragment", s.Path)
	}
	seg := f.Segments[0]
	if seg.Styp.MajorBrand() != "cmfs" || !slices.Contains(seg.Styp.CompatibleBrands(), "cmfc") || !slices.Contains(seg.Styp.CompatibleBrands(), "cmf2") {
		t.Errorf("%s: styp %s %v", s.Path, seg.Styp.MajorBrand(), seg.Styp.CompatibleBrands())
	}
	frag := seg.Fragments[0]
	if n := frag.Moof.Mfhd.SequenceNumber; n != uint32(j+1) {
		t.Errorf("%s: sequence number %d", s.Path, n)
	}
	samples, err := frag.GetFullSamples(init.Moov.Mvex.Trex)
	if err != nil || len(samples) == 0 {
		t.Fatalf("%s: samples: %v", s.Path, err)
	}
	if tr.Kind == KindVideo && !samples[0].IsSync() {
		t.Errorf("%s: does not begin with a sync sample", s.Path)
	}
	if tr.Kind == KindVideo && samples[0].PresentationTime() != int64(samples[0].DecodeTime) {
		t.Errorf("%s: first frame presented at %d, decoded at %d", s.Path, samples[0].PresentationTime(), samples[0].DecodeTime)
	}
	if got := ticksToDuration(samples[0].DecodeTime, ts); got != s.Start {
		t.Errorf("%s: tfdt is %v, Output says %v", s.Path, got, s.Start)
	}
	var dur uint64
	for _, smp := range samples {
		dur += uint64(smp.Dur)
	}
	if got := ticksToDuration(dur, ts); got != s.Duration {
		t.Errorf("%s: samples last %v, Output says %v", s.Path, got, s.Duration)
	}
}

// inputDuration is the sum of the input's sample durations and its usual
// sample duration.
func inputDuration(t *testing.T, file string) (total, frame time.Duration) {
	t.Helper()
	f, err := mp4.ReadMP4File(file)
	if err != nil {
		t.Fatal(err)
	}
	ts := f.Init.Moov.Trak.Mdia.Mdhd.Timescale
	var ticks uint64
	var first uint32
	for _, s := range f.Segments {
		for _, fr := range s.Fragments {
			samples, err := fr.GetFullSamples(f.Init.Moov.Mvex.Trex)
			if err != nil {
				t.Fatal(err)
			}
			for _, smp := range samples {
				ticks += uint64(smp.Dur)
				if first == 0 {
					first = smp.Dur
				}
			}
		}
	}
	return ticksToDuration(ticks, ts), ticksToDuration(uint64(first), ts)
}

func sameStarts(a, b []Segment) bool {
	return slices.EqualFunc(a, b, func(x, y Segment) bool { return x.Start == y.Start && x.Duration == y.Duration })
}

func checkHLS(t *testing.T, out Output) {
	t.Helper()
	files := packageFiles(t, out.Dir)
	referenced := map[string]bool{out.HLSMaster: true}
	m := readMaster(t, filepath.Join(out.Dir, out.HLSMaster))
	for _, tag := range []string{"#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"} {
		if !slices.Contains(m.lines, tag) {
			t.Errorf("master lacks %s", tag)
		}
	}
	byID := map[string]PackagedTrack{}
	var audioCodec string
	var videos int
	for _, tr := range out.Tracks {
		byID[tr.ID] = tr
		if tr.Kind == KindAudio {
			audioCodec = tr.Codecs
		} else {
			videos++
		}
	}
	if len(m.variants) != videos {
		t.Errorf("master has %d variants, want %d", len(m.variants), videos)
	}
	var uris []string
	for _, md := range m.media {
		if md["TYPE"] != "AUDIO" || md["GROUP-ID"] == "" || md["URI"] == "" {
			t.Errorf("bad EXT-X-MEDIA %v", md)
		}
		uris = append(uris, md["URI"])
	}
	for _, v := range m.variants {
		for _, k := range []string{"BANDWIDTH", "AVERAGE-BANDWIDTH", "RESOLUTION", "CODECS", "FRAME-RATE"} {
			if v.attrs[k] == "" {
				t.Errorf("variant %s lacks %s", v.uri, k)
			}
		}
		tr := byID[strings.TrimSuffix(v.uri, "/"+PlaylistName)]
		codecs := strings.Split(v.attrs["CODECS"], ",")
		if codecs[0] != tr.Codecs || (audioCodec != "" && !slices.Contains(codecs, audioCodec)) {
			t.Errorf("variant %s CODECS %q, want %s and %s", v.uri, v.attrs["CODECS"], tr.Codecs, audioCodec)
		}
		if audioCodec != "" && v.attrs["AUDIO"] != m.media[0]["GROUP-ID"] {
			t.Errorf("variant %s AUDIO=%q", v.uri, v.attrs["AUDIO"])
		}
		uris = append(uris, v.uri)
	}
	for _, u := range uris {
		referenced[u] = true
		tr, ok := byID[strings.TrimSuffix(u, "/"+PlaylistName)]
		if !ok {
			t.Fatalf("master refers to %s, no such track", u)
		}
		p := readMediaPlaylist(t, filepath.Join(out.Dir, u))
		for _, tag := range []string{"#EXT-X-VERSION:7", "#EXT-X-PLAYLIST-TYPE:VOD"} {
			if !slices.Contains(p.lines, tag) {
				t.Errorf("%s lacks %s", u, tag)
			}
		}
		if !p.endList || p.mapURI != InitName {
			t.Errorf("%s: ENDLIST %v, MAP %q", u, p.endList, p.mapURI)
		}
		referenced[resolveRef(u, p.mapURI)] = true
		var maxDur, sum float64
		for i, ref := range p.uris {
			referenced[resolveRef(u, ref)] = true
			if resolveRef(u, ref) != tr.Segments[i].Path {
				t.Errorf("%s segment %d is %s, want %s", u, i+1, ref, tr.Segments[i].Path)
			}
			maxDur = max(maxDur, p.durs[i])
			sum += p.durs[i]
		}
		if len(p.uris) != len(tr.Segments) || len(p.durs) != len(p.uris) {
			t.Errorf("%s: %d URIs, %d EXTINF, %d segments", u, len(p.uris), len(p.durs), len(tr.Segments))
		}
		if p.target != int(math.Ceil(maxDur-1e-9)) {
			t.Errorf("%s: TARGETDURATION %d, longest segment %.6f", u, p.target, maxDur)
		}
		if math.Abs(sum-tr.Duration.Seconds()) > 1e-5*float64(len(p.durs)) {
			t.Errorf("%s: EXTINF sum %.6f, track %v", u, sum, tr.Duration)
		}
	}
	for f := range referenced {
		if !files[f] {
			t.Errorf("HLS refers to %s, which does not exist", f)
		}
	}
	for f := range files {
		if !referenced[f] && f != out.DASHManifest {
			t.Errorf("%s is in the package but not in the HLS manifests", f)
		}
	}
}

func checkDASH(t *testing.T, out Output) {
	t.Helper()
	files := packageFiles(t, out.Dir)
	m, reps := readMPD(t, filepath.Join(out.Dir, out.DASHManifest))
	if m.Type != "static" || !strings.Contains(m.Profiles, "urn:mpeg:dash:profile:isoff-live:2011") || !strings.Contains(m.Profiles, "urn:mpeg:dash:profile:cmaf:2019") {
		t.Errorf("MPD type %q profiles %q", m.Type, m.Profiles)
	}
	mpd := parseXSDuration(t, m.MediaPresentationDuration)
	if mpd < out.Duration || mpd > out.Duration+time.Millisecond {
		t.Errorf("mediaPresentationDuration %v, package %v", mpd, out.Duration)
	}
	kinds := map[string]int{}
	for _, as := range m.Periods[0].AdaptationSets {
		kinds[as.ContentType]++
		if as.SegmentAlignment != "true" || as.MimeType != as.ContentType+"/mp4" {
			t.Errorf("AdaptationSet %s: segmentAlignment %q mimeType %q", as.ContentType, as.SegmentAlignment, as.MimeType)
		}
	}
	if kinds["video"] != 1 || kinds["audio"] > 1 {
		t.Errorf("AdaptationSets by type: %v", kinds)
	}
	if len(reps) != len(out.Tracks) {
		t.Fatalf("%d Representations, %d tracks", len(reps), len(out.Tracks))
	}
	referenced := map[string]bool{}
	for i, r := range reps {
		tr := trackByID(out, r.rep.ID)
		if tr.ID == "" {
			t.Fatalf("Representation %s: no such track", r.rep.ID)
		}
		if r.rep.Codecs != tr.Codecs || r.rep.Bandwidth != tr.Bandwidth {
			t.Errorf("Representation %s: codecs %q bandwidth %d", r.rep.ID, r.rep.Codecs, r.rep.Bandwidth)
		}
		if tr.Kind == KindVideo && (r.rep.Width != tr.Width || r.rep.Height != tr.Height) {
			t.Errorf("Representation %s: %dx%d", r.rep.ID, r.rep.Width, r.rep.Height)
		}
		referenced[r.init] = true
		if len(r.media) != len(tr.Segments) {
			t.Fatalf("Representation %s: %d segments in the timeline, %d written", r.rep.ID, len(r.media), len(tr.Segments))
		}
		var sum uint64
		for j, f := range r.media {
			referenced[f] = true
			if f != tr.Segments[j].Path {
				t.Errorf("Representation %s segment %d is %s, want %s", r.rep.ID, j+1, f, tr.Segments[j].Path)
			}
			if got := ticksToDuration(r.starts[j], uint32(r.timescale)); got != tr.Segments[j].Start {
				t.Errorf("Representation %s segment %d: t=%v, want %v", r.rep.ID, j+1, got, tr.Segments[j].Start)
			}
			sum += r.durs[j]
		}
		if got := ticksToDuration(sum, uint32(r.timescale)); got != tr.Duration {
			t.Errorf("Representation %s: timeline lasts %v, track %v", r.rep.ID, got, tr.Duration)
		}
		if i > 0 && r.kind == "video" && reps[0].kind == "video" &&
			(!slices.Equal(r.durs, reps[0].durs) || !slices.Equal(r.starts, reps[0].starts)) {
			t.Errorf("Representation %s: timeline differs from %s", r.rep.ID, reps[0].rep.ID)
		}
	}
	for f := range referenced {
		if !files[f] {
			t.Errorf("MPD refers to %s, which does not exist", f)
		}
	}
	playlist := regexp.MustCompile(`\.m3u8$`)
	for f := range files {
		if !referenced[f] && f != out.DASHManifest && !playlist.MatchString(f) {
			t.Errorf("%s is in the package but not in the MPD", f)
		}
	}
}

func trackByID(out Output, id string) PackagedTrack {
	for _, tr := range out.Tracks {
		if tr.ID == id {
			return tr
		}
	}
	return PackagedTrack{}
}

func TestPackageIsDeterministic(t *testing.T) {
	tracks := ladder(t)
	a := filepath.Join(t.TempDir(), "a")
	b := filepath.Join(t.TempDir(), "b")
	for _, dir := range []string{a, b} {
		if _, err := Package(context.Background(), tracks, dir, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	fa, fb := packageFiles(t, a), packageFiles(t, b)
	if len(fa) != len(fb) {
		t.Fatalf("%d files vs %d", len(fa), len(fb))
	}
	for f := range fa {
		x, _ := os.ReadFile(filepath.Join(a, f))
		y, err := os.ReadFile(filepath.Join(b, f))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs (%v)", f, err)
		}
	}
}

func TestCodecs(t *testing.T) {
	cases := []struct {
		clip string
		kind string
		want string // regexp
	}{
		{"v360", KindVideo, `^avc1\.64001E$`},
		{"v480", KindVideo, `^avc1\.64001F$`},
		{"hevc", KindVideo, `^hvc1\.1\.6\.L\d+(\.[0-9A-F]{1,2})*$`},
		{"av1", KindVideo, `^av01\.0\.\d\dM\.08$`},
		{"audio", KindAudio, `^mp4a\.40\.2$`},
	}
	for _, c := range cases {
		t.Run(c.clip, func(t *testing.T) {
			tracks := []Track{{ID: "t", Kind: c.kind, Path: media(t, c.clip)}}
			if c.kind == KindAudio {
				tracks = append([]Track{{ID: "v", Kind: KindVideo, Path: media(t, "v240")}}, tracks...)
			}
			out, err := Package(context.Background(), tracks, filepath.Join(t.TempDir(), "p"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := trackByID(out, "t").Codecs
			if !regexp.MustCompile(c.want).MatchString(got) {
				t.Errorf("codecs %q, want %s", got, c.want)
			}
			checkPackage(t, tracks, out, DefaultSegmentDuration)
			for _, tr := range out.Tracks {
				if len(tr.Segments) != 4 {
					t.Errorf("%s: %d segments of 8 s at D=2s", tr.ID, len(tr.Segments))
				}
			}
		})
	}
	t.Run("explicit codecs win", func(t *testing.T) {
		tracks := []Track{{ID: "v", Kind: KindVideo, Path: media(t, "v240"), Codecs: "avc1.640028", Width: 1920, Height: 1080, Bandwidth: 1e8}}
		out, err := Package(context.Background(), tracks, filepath.Join(t.TempDir(), "p"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		tr := out.Tracks[0]
		if tr.Codecs != "avc1.640028" || tr.Width != 1920 || tr.Bandwidth != 1e8 {
			t.Errorf("got %s %dx%d %d", tr.Codecs, tr.Width, tr.Height, tr.Bandwidth)
		}
	})
}

func TestPackageRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, err := os.ReadFile(media(t, "v240"))
	if err != nil {
		t.Fatal(err)
	}
	v := func(p string) []Track { return []Track{{ID: "v", Kind: KindVideo, Path: p}} }
	cases := []struct {
		name   string
		tracks []Track
		opt    Options
		code   string
	}{
		{"no tracks", nil, Options{}, CodeInvalidInput},
		{"no video", []Track{{ID: "a", Kind: KindAudio, Path: media(t, "audio")}}, Options{}, CodeInvalidInput},
		{"bad id", []Track{{ID: "../x", Kind: KindVideo, Path: media(t, "v240")}}, Options{}, CodeInvalidInput},
		{"duplicate id", []Track{{ID: "v", Kind: KindVideo, Path: media(t, "v240")}, {ID: "V", Kind: KindVideo, Path: media(t, "v360")}}, Options{}, CodeInvalidInput},
		{"bad kind", []Track{{ID: "v", Kind: "subtitles", Path: media(t, "v240")}}, Options{}, CodeInvalidInput},
		{"segment duration too short", v(media(t, "v240")), Options{SegmentDuration: time.Millisecond}, CodeInvalidInput},
		{"missing file", v(filepath.Join(dir, "nope.mp4")), Options{}, CodeInvalidInput},
		{"empty file", v(write("empty.mp4", nil)), Options{}, CodeInvalidInput},
		{"not media", v(write("text.mp4", bytes.Repeat([]byte("hello world "), 1000))), Options{}, CodeInvalidInput},
		{"truncated", v(write("half.mp4", good[:len(good)/2])), Options{}, CodeInvalidInput},
		{"header only", v(write("head.mp4", good[:1200])), Options{}, CodeInvalidInput},
		{"corrupt box size", v(write("corrupt.mp4", corruptMoofSize(good))), Options{}, CodeInvalidInput},
		{"not fragmented", v(media(t, "progressive")), Options{}, CodeInvalidInput},
		{"two tracks in one file", v(media(t, "muxed")), Options{}, CodeInvalidInput},
		{"audio declared as video", []Track{{ID: "v", Kind: KindVideo, Path: media(t, "audio")}}, Options{}, CodeInvalidInput},
		{"video declared as audio", []Track{{ID: "v", Kind: KindVideo, Path: media(t, "v240")}, {ID: "a", Kind: KindAudio, Path: media(t, "v360")}}, Options{}, CodeInvalidInput},
		{"MPEG-4 Part 2 video", v(media(t, "mpeg4")), Options{}, CodeUnsupportedCodec},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			parent := t.TempDir()
			out := filepath.Join(parent, "pkg")
			_, err := Package(context.Background(), c.tracks, out, c.opt)
			var pe *Error
			if !errors.As(err, &pe) || pe.Code != c.code {
				t.Fatalf("got %v, want code %s", err, c.code)
			}
			if !errors.Is(err, &Error{Code: c.code}) || pe.Message == "" {
				t.Errorf("errors.Is or message broken: %#v", pe)
			}
			assertNothingLeft(t, parent)
		})
	}
}

// corruptMoofSize makes the first moof claim to be larger than the file.
func corruptMoofSize(good []byte) []byte {
	b := bytes.Clone(good)
	i := bytes.Index(b, []byte("moof"))
	copy(b[i-4:i], []byte{0x7f, 0xff, 0xff, 0xff})
	return b
}

// assertNothingLeft checks that a failed Package left parent empty: no
// package, no staging folder.
func assertNothingLeft(t *testing.T, parent string) {
	t.Helper()
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind: %s", e.Name())
	}
}

func TestKeyframeAlignment(t *testing.T) {
	cases := []struct {
		name   string
		clips  []string
		d      time.Duration
		code   string          // "" for success
		starts []time.Duration // expected video segment starts
	}{
		{"keyframes every 2s, D=2s", []string{"v360", "v240"}, 2 * time.Second, "", secs(0, 2, 4, 6)},
		// Keyframes sparser than D: segments start at the next keyframe, so they
		// are longer than D, but every rendition agrees.
		{"keyframes every 3s everywhere, D=2s", []string{"v360k3", "v240k3"}, 2 * time.Second, "", secs(0, 3, 6)},
		{"keyframes every 1s and 2s, D=2s", []string{"v240k1", "v360"}, 2 * time.Second, "", secs(0, 2, 4, 6)},
		// A rendition whose keyframes are not where the others' are cannot be
		// switched to at segment boundaries.
		{"2s and 3s renditions, D=2s", []string{"v360", "v240k3"}, 2 * time.Second, CodeNotAligned, nil},
		{"3s and 2s renditions, D=2s", []string{"v360k3", "v240"}, 2 * time.Second, CodeNotAligned, nil},
		// With D=3s the 1s rendition cuts at 0,3,6 like the 3s one.
		{"1s and 3s renditions, D=3s", []string{"v240k1", "v360k3"}, 3 * time.Second, "", secs(0, 3, 6)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var tracks []Track
			for i, name := range c.clips {
				tracks = append(tracks, Track{ID: "v" + string(rune('a'+i)), Kind: KindVideo, Path: media(t, name)})
			}
			tracks = append(tracks, Track{ID: "audio", Kind: KindAudio, Path: media(t, "audio")})
			parent := t.TempDir()
			out, err := Package(context.Background(), tracks, filepath.Join(parent, "pkg"), Options{SegmentDuration: c.d})
			if c.code != "" {
				if !errors.Is(err, &Error{Code: c.code}) {
					t.Fatalf("got %v, want %s", err, c.code)
				}
				assertNothingLeft(t, parent)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkPackage(t, tracks, out, c.d)
			for _, tr := range out.Tracks {
				var starts []time.Duration
				for _, s := range tr.Segments {
					starts = append(starts, s.Start)
				}
				if tr.Kind == KindVideo && !slices.Equal(starts, c.starts) {
					t.Errorf("%s starts %v, want %v", tr.ID, starts, c.starts)
				}
				if tr.Kind == KindAudio {
					// Audio follows the video to within one AAC frame (1024/48000 s).
					for i, s := range starts {
						if (s - c.starts[i]).Abs() > 1024*time.Second/48000 {
							t.Errorf("audio segment %d starts at %v, video at %v", i+1, s, c.starts[i])
						}
					}
				}
			}
		})
	}
}

func secs(s ...float64) []time.Duration {
	var out []time.Duration
	for _, v := range s {
		out = append(out, time.Duration(v*float64(time.Second)))
	}
	return out
}

func TestPackageReplacesAndNeverLeavesHalfAPackage(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "pkg")
	tracks := ladder(t)
	first, err := Package(context.Background(), tracks, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	before := packageFiles(t, dir)

	// A failing run (the last rendition is not aligned) leaves the old package.
	bad := append(slices.Clone(tracks), Track{ID: "v3", Kind: KindVideo, Path: media(t, "v240k3")})
	if _, err := Package(context.Background(), bad, dir, Options{}); !errors.Is(err, ErrNotAligned) {
		t.Fatalf("got %v, want not_aligned", err)
	}
	if got := packageFiles(t, dir); len(got) != len(before) {
		t.Fatalf("old package changed: %d files, had %d", len(got), len(before))
	}

	// So does a cancelled one.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Package(ctx, tracks, dir, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}

	// A successful run replaces it: D=4s has fewer segments.
	out, err := Package(context.Background(), tracks, dir, Options{SegmentDuration: 4 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	checkPackage(t, tracks, out, 4*time.Second)
	if len(out.Tracks[0].Segments) >= len(first.Tracks[0].Segments) {
		t.Errorf("package was not replaced")
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 || entries[0].Name() != "pkg" {
		t.Errorf("parent holds %v, want only pkg", entries)
	}
}
