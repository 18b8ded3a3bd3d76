package packager

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/Eyevinn/mp4ff/mp4"
)

// testEncryptor records how the packager calls the seam, contributes manifest
// signalling, and, with a scheme, really encrypts with mp4ff the way the DRM
// work of issue 4 will.
type testEncryptor struct {
	scheme   string // "", "cenc" or "cbcs"
	perTrack bool   // ContentProtection that differs per track
	key, kid []byte

	mu    sync.Mutex
	inits map[string]int
	seqs  map[string][]uint32
	ipd   map[string]*mp4.InitProtectData
	bad   []string // contract violations seen
}

func newTestEncryptor(scheme string, perTrack bool) *testEncryptor {
	return &testEncryptor{
		scheme: scheme, perTrack: perTrack,
		key:   bytes.Repeat([]byte{0x3c}, 16),
		kid:   bytes.Repeat([]byte{0xa1}, 16),
		inits: map[string]int{}, seqs: map[string][]uint32{}, ipd: map[string]*mp4.InitProtectData{},
	}
}

func (e *testEncryptor) iv(seq uint32) []byte {
	iv := make([]byte, 8)
	if e.scheme == "cenc" {
		binary.BigEndian.PutUint32(iv, seq) // a fresh counter block range per segment
	} else {
		copy(iv, "constIV!")
	}
	return iv
}

func (e *testEncryptor) EncryptInit(track string, init *mp4.InitSegment) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.inits[track]++
	if init.Ftyp == nil || init.Ftyp.MajorBrand() != "cmf2" || init.Moov == nil {
		e.bad = append(e.bad, track+": init is not the CMAF header")
	}
	if e.scheme == "" {
		return nil
	}
	ipd, err := mp4.InitProtect(init, e.key, e.iv(0), e.scheme, e.kid, nil)
	e.ipd[track] = ipd
	return err
}

func (e *testEncryptor) EncryptSegment(track string, seg *mp4.MediaSegment, init *mp4.InitSegment) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.inits[track] != 1 {
		e.bad = append(e.bad, track+": segment before its init")
	}
	if seg.Styp == nil || len(seg.Fragments) != 1 {
		e.bad = append(e.bad, track+": segment is not styp + one fragment")
	}
	seq := seg.Fragments[0].Moof.Mfhd.SequenceNumber
	e.seqs[track] = append(e.seqs[track], seq)
	if e.scheme == "" {
		return nil
	}
	return mp4.EncryptFragment(seg.Fragments[0], e.key, e.iv(seq), e.ipd[track])
}

func (e *testEncryptor) HLSKeyTags(track string) []string {
	method := map[string]string{"": "SAMPLE-AES", "cbcs": "SAMPLE-AES", "cenc": "SAMPLE-AES-CTR"}[e.scheme]
	return []string{fmt.Sprintf(`#EXT-X-KEY:METHOD=%s,URI="skd://%s",KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"`, method, track)}
}

func (e *testEncryptor) kidString(track string) string {
	k := hex.EncodeToString(e.kid)
	if e.perTrack {
		k = hex.EncodeToString(append([]byte(track), make([]byte, 16-len(track))...))
	}
	return fmt.Sprintf("%s-%s-%s-%s-%s", k[:8], k[8:12], k[12:16], k[16:20], k[20:])
}

func (e *testEncryptor) DASHContentProtection(track string) []string {
	return []string{
		fmt.Sprintf(`<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" cenc:default_KID="%s"/>`, e.kidString(track)),
		`<ContentProtection schemeIdUri="urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e" value="ClearKey1.0"/>`,
	}
}

func TestEncryptorSeam(t *testing.T) {
	tracks := ladder(t)
	clear, err := Package(context.Background(), tracks, filepath.Join(t.TempDir(), "clear"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		scheme   string
		perTrack bool
	}{
		{"signalling only", "", false},
		{"per-track keys", "", true},
		{"cenc", "cenc", false},
		{"cbcs", "cbcs", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			enc := newTestEncryptor(c.scheme, c.perTrack)
			out, err := Package(context.Background(), tracks, filepath.Join(t.TempDir(), "pkg"), Options{Encryptor: enc})
			if err != nil {
				t.Fatal(err)
			}
			if len(enc.bad) > 0 {
				t.Errorf("contract violations: %v", enc.bad)
			}
			for _, tr := range out.Tracks {
				if enc.inits[tr.ID] != 1 {
					t.Errorf("%s: EncryptInit called %d times", tr.ID, enc.inits[tr.ID])
				}
				var want []uint32
				for i := range tr.Segments {
					want = append(want, uint32(i+1))
				}
				if !slices.Equal(enc.seqs[tr.ID], want) {
					t.Errorf("%s: EncryptSegment saw segments %v, want %v", tr.ID, enc.seqs[tr.ID], want)
				}
				p := readMediaPlaylist(t, filepath.Join(out.Dir, tr.Playlist))
				if !slices.Equal(p.keysBefore, enc.HLSKeyTags(tr.ID)) {
					t.Errorf("%s: tags before EXT-X-MAP %q, want the key tags", tr.ID, p.keysBefore)
				}
			}
			checkHLS(t, out)
			checkDASH(t, out)
			m, reps := readMPD(t, filepath.Join(out.Dir, out.DASHManifest))
			for _, r := range reps {
				if len(r.cp) != 2 || r.cp[0].DefaultKID != enc.kidString(r.rep.ID) || r.cp[1].Value != "ClearKey1.0" {
					t.Errorf("%s: ContentProtection %+v", r.rep.ID, r.cp)
				}
			}
			for _, as := range m.Periods[0].AdaptationSets {
				shared := len(as.ContentProtection) > 0
				if shared == (c.perTrack && len(as.Representations) > 1) {
					t.Errorf("%s AdaptationSet: ContentProtection at AdaptationSet level is %v", as.ContentType, shared)
				}
			}
			if c.scheme != "" {
				checkDecryptsToClear(t, enc, clear, out)
			}
		})
	}
}

// checkDecryptsToClear decrypts every encrypted segment with mp4ff and
// compares the samples with the clear package's: the seam hands the
// Encryptor exactly the segments that are written, and what it does to them
// is what gets written.
func checkDecryptsToClear(t *testing.T, enc *testEncryptor, clear, out Output) {
	t.Helper()
	for i, tr := range out.Tracks {
		initRaw, err := os.ReadFile(filepath.Join(out.Dir, tr.InitPath))
		if err != nil {
			t.Fatal(err)
		}
		for j, s := range tr.Segments {
			raw, err := os.ReadFile(filepath.Join(out.Dir, s.Path))
			if err != nil {
				t.Fatal(err)
			}
			f, err := mp4.DecodeFile(bytes.NewReader(append(slices.Clip(initRaw), raw...)))
			if err != nil {
				t.Fatalf("%s: %v", s.Path, err)
			}
			if got := f.Init.Moov.Trak.Mdia.Minf.Stbl.Stsd.Children[0].Type(); got != "encv" && got != "enca" {
				t.Errorf("%s: sample entry %s after encryption", tr.ID, got)
			}
			di, err := mp4.DecryptInit(f.Init)
			if err != nil {
				t.Fatal(err)
			}
			seg := f.Segments[0]
			if err := mp4.DecryptSegment(seg, di, enc.key); err != nil {
				t.Fatalf("%s: decrypt: %v", s.Path, err)
			}
			clearRaw, err := os.ReadFile(filepath.Join(clear.Dir, clear.Tracks[i].Segments[j].Path))
			if err != nil {
				t.Fatal(err)
			}
			cf, err := mp4.DecodeFile(bytes.NewReader(clearRaw))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(seg.Fragments[0].Mdat.Data, cf.Segments[0].Fragments[0].Mdat.Data) {
				t.Errorf("%s: decrypted samples differ from the clear package", s.Path)
			}
			if bytes.Equal(raw, clearRaw) {
				t.Errorf("%s: not encrypted", s.Path)
			}
		}
	}
}
