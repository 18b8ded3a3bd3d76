package drm_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/marquee-video/marquee/dataplane/drm"
	"github.com/marquee-video/marquee/dataplane/packager"
)

// The packager defines the seam; drm implements it.
var _ packager.Encryptor = (*drm.Encryptor)(nil)

// fixedKey is a deterministic content key for tests.
func fixedKey(seed byte) drm.ContentKey {
	k, err := drm.NewContentKey(bytes.NewReader(bytes.Repeat([]byte{seed}, 48)))
	if err != nil {
		panic(err)
	}
	return k
}

type mpd struct {
	Periods []struct {
		AdaptationSets []struct {
			ContentType       string `xml:"contentType,attr"`
			ContentProtection []cp   `xml:"ContentProtection"`
			Representations   []struct {
				ID                string `xml:"id,attr"`
				ContentProtection []cp   `xml:"ContentProtection"`
			} `xml:"Representation"`
		} `xml:"AdaptationSet"`
	} `xml:"Period"`
}

type cp struct {
	SchemeIDURI string `xml:"schemeIdUri,attr"`
	Value       string `xml:"value,attr"`
	DefaultKID  string `xml:"urn:mpeg:cenc:2013 default_KID,attr"`
	PSSH        string `xml:"urn:mpeg:cenc:2013 pssh"`
	Pro         string `xml:"urn:microsoft:playready pro"`
	Laurl       struct {
		URL         string `xml:",chardata"`
		LicenseType string `xml:"licenseType,attr"`
	} `xml:"https://dashif.org/CPS Laurl"`
}

func TestEncryptPackage(t *testing.T) {
	tracks := []packager.Track{
		{ID: "v240", Kind: packager.KindVideo, Path: media(t, "v240")},
		{ID: "v180", Kind: packager.KindVideo, Path: media(t, "v180")},
		{ID: "audio", Kind: packager.KindAudio, Path: media(t, "audio"), Language: "en"},
	}
	ctx := context.Background()
	clearOut, err := packager.Package(ctx, tracks, filepath.Join(t.TempDir(), "clear"), packager.Options{})
	if err != nil {
		t.Fatal(err)
	}
	shared := fixedKey(1)
	perTrack := map[string]drm.ContentKey{"v240": fixedKey(2), "v180": fixedKey(3), "audio": fixedKey(4)}
	cases := []struct {
		name    string
		scheme  string
		keys    map[string]drm.ContentKey
		sig     drm.Signalling
		hlsKeys []string // KEYFORMATs expected in each media playlist, in order
	}{
		{"cenc all systems one key", drm.SchemeCENC, map[string]drm.ContentKey{drm.AllTracks: shared},
			drm.Signalling{Systems: []drm.System{drm.Widevine, drm.PlayReady, drm.ClearKey},
				ClearKeyLicenseURL: "https://lic.example/ck?a=1&b=2", PlayReadyLicenseURL: "https://pr.example/rightsmanager.asmx",
				ClearKeyHLSKeyURI: "https://keys.example/{kid}"},
			[]string{"urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed", "com.microsoft.playready", "identity"}},
		{"cbcs fairplay widevine per-track keys", drm.SchemeCBCS, perTrack,
			drm.Signalling{Systems: []drm.System{drm.FairPlay, drm.Widevine}},
			[]string{"com.apple.streamingkeydelivery", "urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"}},
		{"cbcs clearkey only", drm.SchemeCBCS, map[string]drm.ContentKey{drm.AllTracks: shared},
			drm.Signalling{Systems: []drm.System{drm.ClearKey}, ClearKeyLicenseURL: "https://lic.example/ck"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			enc, err := drm.NewEncryptor(c.scheme, c.keys, c.sig)
			if err != nil {
				t.Fatal(err)
			}
			out, err := packager.Package(ctx, tracks, filepath.Join(t.TempDir(), "pkg"), packager.Options{Encryptor: enc})
			if err != nil {
				t.Fatal(err)
			}
			ivPrefixes := map[string]string{}
			for i, tr := range out.Tracks {
				key, err := enc.Key(tr.ID)
				if err != nil {
					t.Fatal(err)
				}
				checkInit(t, filepath.Join(out.Dir, tr.InitPath), c.scheme, key, c.sig)
				checkSegments(t, out, clearOut, i, key, c.scheme, ivPrefixes)
				checkPlaylist(t, filepath.Join(out.Dir, tr.Playlist), c.scheme, key, c.hlsKeys)
			}
			checkMPD(t, filepath.Join(out.Dir, out.DASHManifest), enc, c.scheme, c.sig)
		})
	}
}

func checkInit(t *testing.T, path, scheme string, key drm.ContentKey, sig drm.Signalling) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := mp4.DecodeFile(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	moov := f.Init.Moov
	se := moov.Trak.Mdia.Minf.Stbl.Stsd.Children[0]
	var sinf *mp4.SinfBox
	switch e := se.(type) {
	case *mp4.VisualSampleEntryBox:
		sinf = e.Sinf
	case *mp4.AudioSampleEntryBox:
		sinf = e.Sinf
	}
	if sinf == nil || sinf.Schm.SchemeType != scheme || !bytes.Equal(sinf.Schi.Tenc.DefaultKID, key.KID) {
		t.Fatalf("%s: sample entry %s lacks %s protection with the KID", path, se.Type(), scheme)
	}
	if scheme == drm.SchemeCBCS && !bytes.Equal(sinf.Schi.Tenc.DefaultConstantIV, key.IV) {
		t.Errorf("%s: constant IV %x, want %x", path, sinf.Schi.Tenc.DefaultConstantIV, key.IV)
	}
	var got []string
	for _, p := range moov.Psshs {
		sys := drm.System(p.SystemID.String())
		got = append(got, sys.Name())
		switch sys {
		case drm.Widevine:
			w, err := drm.ParseWidevinePSSH(p.Data)
			if err != nil || len(w.KeyIDs) != 1 || !bytes.Equal(w.KeyIDs[0], key.KID) || w.Scheme != scheme {
				t.Errorf("widevine pssh %+v, %v", w, err)
			}
		case drm.PlayReady:
			x, err := drm.ParsePlayReadyObject(p.Data)
			if err != nil || !strings.Contains(x, drm.GUIDBase64(key.KID)) {
				t.Errorf("playready pssh %q, %v", x, err)
			}
		case drm.ClearKey:
			if p.Version != 1 || len(p.KIDs) != 1 || !bytes.Equal(p.KIDs[0], key.KID) {
				t.Errorf("common pssh v%d KIDs %v", p.Version, p.KIDs)
			}
		}
	}
	var want []string
	for _, s := range []drm.System{drm.Widevine, drm.PlayReady, drm.ClearKey} {
		if slices.Contains(sig.Systems, s) {
			want = append(want, s.Name())
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: pssh boxes %v, want %v", path, got, want)
	}
}

// checkSegments decrypts every segment of track i with mp4ff and compares
// its samples with the clear package's, byte for byte.
func checkSegments(t *testing.T, out, clearOut packager.Output, i int, key drm.ContentKey, scheme string, ivPrefixes map[string]string) {
	t.Helper()
	tr := out.Tracks[i]
	initRaw, err := os.ReadFile(filepath.Join(out.Dir, tr.InitPath))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Segments) != len(clearOut.Tracks[i].Segments) || len(tr.Segments) < 2 {
		t.Fatalf("%s: %d segments, clear has %d", tr.ID, len(tr.Segments), len(clearOut.Tracks[i].Segments))
	}
	for j, s := range tr.Segments {
		raw, err := os.ReadFile(filepath.Join(out.Dir, s.Path))
		if err != nil {
			t.Fatal(err)
		}
		clearRaw, err := os.ReadFile(filepath.Join(clearOut.Dir, clearOut.Tracks[i].Segments[j].Path))
		if err != nil {
			t.Fatal(err)
		}
		f, err := mp4.DecodeFile(bytes.NewReader(append(slices.Clip(initRaw), raw...)))
		if err != nil {
			t.Fatalf("%s: %v", s.Path, err)
		}
		frag := f.Segments[0].Fragments[0]
		cf, err := mp4.DecodeFile(bytes.NewReader(clearRaw))
		if err != nil {
			t.Fatal(err)
		}
		clearData := cf.Segments[0].Fragments[0].Mdat.Data
		if bytes.Equal(frag.Mdat.Data, clearData) {
			t.Errorf("%s: mdat is not encrypted", s.Path)
		}
		if scheme == drm.SchemeCENC {
			senc := frag.Moof.Traf.Senc
			if senc.ReadButNotParsed() {
				if err := senc.ParseReadBox(16, frag.Moof.Traf.Saiz); err != nil {
					t.Fatal(err)
				}
			}
			p := string(senc.IVs[0][:8])
			if prev, dup := ivPrefixes[p]; dup {
				t.Errorf("%s reuses the IV range of %s", s.Path, prev)
			}
			ivPrefixes[p] = s.Path
		}
		di, err := mp4.DecryptInit(f.Init)
		if err != nil {
			t.Fatal(err)
		}
		if err := mp4.DecryptSegment(f.Segments[0], di, key.Key); err != nil {
			t.Fatalf("%s: decrypt: %v", s.Path, err)
		}
		if !bytes.Equal(frag.Mdat.Data, clearData) {
			t.Errorf("%s: decrypted samples differ from the clear package", s.Path)
		}
	}
}

func checkPlaylist(t *testing.T, path, scheme string, key drm.ContentKey, formats []string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	method := map[string]string{drm.SchemeCENC: "SAMPLE-AES-CTR", drm.SchemeCBCS: "SAMPLE-AES"}[scheme]
	var got []string
	for line := range strings.Lines(string(raw)) {
		if strings.HasPrefix(line, "#EXT-X-MAP") {
			break
		}
		if !strings.HasPrefix(line, "#EXT-X-KEY:") {
			continue
		}
		attrs := hlsAttrs(strings.TrimSpace(strings.TrimPrefix(line, "#EXT-X-KEY:")))
		if attrs["METHOD"] != method {
			t.Errorf("%s: METHOD=%s, want %s", path, attrs["METHOD"], method)
		}
		kf := strings.Trim(attrs["KEYFORMAT"], `"`)
		got = append(got, kf)
		uri := strings.Trim(attrs["URI"], `"`)
		switch kf {
		case "com.apple.streamingkeydelivery":
			if uri != "skd://"+key.KIDHex() {
				t.Errorf("fairplay URI %q", uri)
			}
		case "urn:uuid:" + string(drm.Widevine):
			b64, ok := strings.CutPrefix(uri, "data:text/plain;base64,")
			boxes, err := mp4.PsshBoxesFromBase64(b64)
			if !ok || err != nil || len(boxes) != 1 {
				t.Fatalf("widevine URI %q: %v", uri, err)
			}
			w, err := drm.ParseWidevinePSSH(boxes[0].Data)
			if err != nil || !bytes.Equal(w.KeyIDs[0], key.KID) || attrs["KEYID"] != "0x"+key.KIDHex() {
				t.Errorf("widevine key tag %q: %+v %v", line, w, err)
			}
		case "com.microsoft.playready":
			b64, _ := strings.CutPrefix(uri, "data:text/plain;charset=UTF-16;base64,")
			pro, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				t.Fatal(err)
			}
			if x, err := drm.ParsePlayReadyObject(pro); err != nil || !strings.Contains(x, drm.GUIDBase64(key.KID)) {
				t.Errorf("playready key tag %q: %v", x, err)
			}
		case "identity":
			if uri != "https://keys.example/"+key.KIDHex() {
				t.Errorf("identity URI %q", uri)
			}
		}
	}
	if !slices.Equal(got, formats) {
		t.Errorf("%s: KEYFORMATs %q, want %q", path, got, formats)
	}
}

// hlsAttrs splits an attribute list, keeping quoted values whole.
func hlsAttrs(s string) map[string]string {
	m := map[string]string{}
	for s != "" {
		k, rest, _ := strings.Cut(s, "=")
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := strings.Index(rest[1:], `"`) + 2
			v, rest = rest[:end], rest[end:]
		} else {
			v, rest, _ = strings.Cut(rest, ",")
			rest = "," + rest
		}
		m[k] = v
		s = strings.TrimPrefix(rest, ",")
	}
	return m
}

func checkMPD(t *testing.T, path string, enc *drm.Encryptor, scheme string, sig drm.Signalling) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m mpd
	if err := xml.Unmarshal(raw, &m); err != nil {
		t.Fatalf("MPD is not well-formed XML: %v", err)
	}
	for _, as := range m.Periods[0].AdaptationSets {
		for _, r := range as.Representations {
			cps := append(slices.Clone(as.ContentProtection), r.ContentProtection...)
			key, _ := enc.Key(r.ID)
			if len(cps) != 1+len(sig.Systems)-boolInt(slices.Contains(sig.Systems, drm.FairPlay)) {
				t.Errorf("%s: %d ContentProtection elements", r.ID, len(cps))
			}
			for _, c := range cps {
				switch c.SchemeIDURI {
				case "urn:mpeg:dash:mp4protection:2011":
					if c.Value != scheme || c.DefaultKID != key.KIDUUID() {
						t.Errorf("%s: mp4protection %+v", r.ID, c)
					}
				case "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e":
					if c.Laurl.URL != sig.ClearKeyLicenseURL || c.Laurl.LicenseType != "EME-1.0" {
						t.Errorf("%s: clearkey Laurl %+v", r.ID, c.Laurl)
					}
				case "urn:uuid:" + string(drm.Widevine), "urn:uuid:" + string(drm.PlayReady):
					boxes, err := mp4.PsshBoxesFromBase64(c.PSSH)
					if err != nil || len(boxes) != 1 || "urn:uuid:"+boxes[0].SystemID.String() != c.SchemeIDURI {
						t.Errorf("%s: cenc:pssh of %s: %v", r.ID, c.SchemeIDURI, err)
					}
					if c.SchemeIDURI == "urn:uuid:"+string(drm.PlayReady) {
						pro, _ := base64.StdEncoding.DecodeString(c.Pro)
						if !bytes.Equal(pro, boxes[0].Data) {
							t.Errorf("%s: mspr:pro differs from the PSSH payload", r.ID)
						}
					}
				default:
					t.Errorf("%s: unexpected ContentProtection %s", r.ID, c.SchemeIDURI)
				}
			}
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestNewEncryptorRejects(t *testing.T) {
	k := fixedKey(9)
	noIV := drm.ContentKey{KID: k.KID, Key: k.Key}
	cases := []struct {
		name   string
		scheme string
		keys   map[string]drm.ContentKey
		sig    drm.Signalling
		want   error
	}{
		{"bad scheme", "cens", map[string]drm.ContentKey{drm.AllTracks: k}, drm.Signalling{}, drm.ErrInvalidScheme},
		{"no keys", drm.SchemeCENC, nil, drm.Signalling{}, drm.ErrNoKey},
		{"short key", drm.SchemeCENC, map[string]drm.ContentKey{"v": {KID: k.KID, Key: k.Key[:8]}}, drm.Signalling{}, drm.ErrInvalidKey},
		{"cbcs without IV", drm.SchemeCBCS, map[string]drm.ContentKey{"v": noIV}, drm.Signalling{}, drm.ErrInvalidKey},
		{"fairplay with cenc", drm.SchemeCENC, map[string]drm.ContentKey{"v": k}, drm.Signalling{Systems: []drm.System{drm.FairPlay}}, drm.ErrInvalidSystem},
		{"unknown system", drm.SchemeCENC, map[string]drm.ContentKey{"v": k}, drm.Signalling{Systems: []drm.System{"x"}}, drm.ErrInvalidSystem},
		{"quote in URL", drm.SchemeCENC, map[string]drm.ContentKey{"v": k}, drm.Signalling{Systems: []drm.System{drm.ClearKey}, ClearKeyLicenseURL: `https://x/"`}, drm.ErrInvalidSystem},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := drm.NewEncryptor(c.scheme, c.keys, c.sig)
			if !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
		})
	}
	// Systems may be named; the DASH Clear Key id is Clear Key.
	named := []drm.System{"widevine", "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e"}
	enc, err := drm.NewEncryptor(drm.SchemeCENC, map[string]drm.ContentKey{"v": k}, drm.Signalling{Systems: named})
	if err != nil {
		t.Fatal(err)
	}
	if cps := enc.DASHContentProtection("v"); len(cps) != 3 || !strings.Contains(cps[1], string(drm.ClearKeyDASH)) || !strings.Contains(cps[2], string(drm.Widevine)) {
		t.Errorf("named systems: %q", cps)
	}
	if _, err := enc.Key("other"); !errors.Is(err, drm.ErrNoKey) {
		t.Errorf("key of an unknown track: %v", err)
	}
}

func TestEncryptHEVC(t *testing.T) {
	tracks := []packager.Track{{ID: "hevc", Kind: packager.KindVideo, Path: media(t, "hevc")}}
	ctx := context.Background()
	clearOut, err := packager.Package(ctx, tracks, filepath.Join(t.TempDir(), "clear"), packager.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, scheme := range []string{drm.SchemeCENC, drm.SchemeCBCS} {
		t.Run(scheme, func(t *testing.T) {
			key := fixedKey(7)
			enc, err := drm.NewEncryptor(scheme, map[string]drm.ContentKey{drm.AllTracks: key}, drm.Signalling{Systems: []drm.System{drm.Widevine}})
			if err != nil {
				t.Fatal(err)
			}
			out, err := packager.Package(ctx, tracks, filepath.Join(t.TempDir(), "pkg"), packager.Options{Encryptor: enc})
			if err != nil {
				t.Fatal(err)
			}
			checkSegments(t, out, clearOut, 0, key, scheme, map[string]string{})
		})
	}
}

// The packager promises that the same input gives the same bytes; the
// Encryptor keeps that promise (IVs are derived, not drawn).
func TestEncryptDeterministic(t *testing.T) {
	tracks := []packager.Track{{ID: "v180", Kind: packager.KindVideo, Path: media(t, "v180")}}
	for _, scheme := range []string{drm.SchemeCENC, drm.SchemeCBCS} {
		t.Run(scheme, func(t *testing.T) {
			var outs []packager.Output
			for range 2 {
				enc, err := drm.NewEncryptor(scheme, map[string]drm.ContentKey{drm.AllTracks: fixedKey(3)}, drm.Signalling{Systems: []drm.System{drm.ClearKey}})
				if err != nil {
					t.Fatal(err)
				}
				out, err := packager.Package(context.Background(), tracks, filepath.Join(t.TempDir(), "pkg"), packager.Options{Encryptor: enc})
				if err != nil {
					t.Fatal(err)
				}
				outs = append(outs, out)
			}
			tr := outs[0].Tracks[0]
			for _, p := range append([]string{tr.InitPath, outs[0].DASHManifest}, segPaths(tr)...) {
				a, errA := os.ReadFile(filepath.Join(outs[0].Dir, p))
				b, errB := os.ReadFile(filepath.Join(outs[1].Dir, p))
				if errA != nil || errB != nil || !bytes.Equal(a, b) {
					t.Errorf("%s differs between runs (%v %v)", p, errA, errB)
				}
			}
		})
	}
}

func segPaths(tr packager.PackagedTrack) []string {
	var out []string
	for _, s := range tr.Segments {
		out = append(out, s.Path)
	}
	return out
}
