package drm

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/Eyevinn/mp4ff/mp4"
)

// AllTracks is the keys map entry used for every track without its own key.
const AllTracks = "*"

// Signalling says which DRM systems a package is signalled for and where
// their licenses come from. ClearKey, Widevine and PlayReady get a PSSH box
// in every init segment and a DASH ContentProtection element; HLS gets
// EXT-X-KEY lines for FairPlay (cbcs only), Widevine, PlayReady and, when
// ClearKeyHLSKeyURI is set, Clear Key.
type Signalling struct {
	Systems []System
	// ClearKeyLicenseURL is the Clear Key license server (dashif:Laurl).
	ClearKeyLicenseURL string
	// ClearKeyHLSKeyURI is fetched by HLS players for the raw 16-byte key of
	// KEYFORMAT="identity" (Shaka Player); "{kid}" is replaced by the KID in
	// hex. Empty leaves Clear Key out of HLS.
	ClearKeyHLSKeyURI string
	// PlayReadyLicenseURL is written as LA_URL in the PlayReady header.
	PlayReadyLicenseURL string
	// FairPlayKeyURI is the EXT-X-KEY URI for FairPlay; "{kid}" is replaced by
	// the KID in hex. Empty means "skd://{kid}".
	FairPlayKeyURI string
	// ContentID and WidevineProvider go into the Widevine PSSH, optional.
	ContentID        []byte
	WidevineProvider string
}

// Validate checks the systems and URLs.
func (s Signalling) Validate(scheme string) error {
	seen := map[System]bool{}
	for _, sys := range s.Systems {
		switch sys {
		case Widevine, PlayReady, ClearKey:
		case FairPlay:
			if scheme != SchemeCBCS {
				return errorf(CodeInvalidSystem, "FairPlay needs cbcs, not %s", scheme)
			}
		default:
			return errorf(CodeInvalidSystem, "unsupported DRM system %q", sys)
		}
		if seen[sys] {
			return errorf(CodeInvalidSystem, "%s listed twice", sys.Name())
		}
		seen[sys] = true
	}
	for _, u := range []string{s.ClearKeyLicenseURL, s.ClearKeyHLSKeyURI, s.PlayReadyLicenseURL, s.FairPlayKeyURI} {
		if strings.ContainsAny(u, "\"\r\n<>") {
			return errorf(CodeInvalidSystem, "URL %q contains a forbidden character", u)
		}
	}
	return nil
}

func (s Signalling) has(sys System) bool { return slices.Contains(s.Systems, sys) }

// normalizeSystems maps names and alternative ids ("widevine", the DASH
// Clear Key id) to the System constants, in a new slice.
func normalizeSystems(in []System) ([]System, error) {
	out := make([]System, 0, len(in))
	for _, s := range in {
		sys, err := ParseSystem(string(s))
		if err != nil {
			return nil, err
		}
		out = append(out, sys)
	}
	return out, nil
}

// Encryptor encrypts a CMAF package with Common Encryption as the packager
// writes it, and contributes the manifest signalling. It satisfies
// packager.Encryptor. One Encryptor serves one Package call.
type Encryptor struct {
	scheme string
	keys   map[string]ContentKey
	sig    Signalling

	mu     sync.Mutex
	tracks map[string]*trackState
}

type trackState struct {
	key ContentKey
	ipd *mp4.InitProtectData
}

// NewEncryptor returns an Encryptor for scheme (SchemeCENC or SchemeCBCS)
// with a content key per track id, or one under AllTracks for the tracks
// without their own. cbcs keys need a 16-byte (or 8-byte) IV.
func NewEncryptor(scheme string, keys map[string]ContentKey, sig Signalling) (*Encryptor, error) {
	if scheme != SchemeCENC && scheme != SchemeCBCS {
		return nil, errorf(CodeInvalidScheme, "scheme %q is neither cenc nor cbcs", scheme)
	}
	if len(keys) == 0 {
		return nil, errorf(CodeNoKey, "no content keys")
	}
	for tr, k := range keys {
		if err := k.Validate(); err != nil {
			return nil, fmt.Errorf("track %q: %w", tr, err)
		}
		if k.Scheme != "" && k.Scheme != scheme {
			return nil, errorf(CodeInvalidScheme, "track %q: key is for %s, not %s", tr, k.Scheme, scheme)
		}
		if scheme == SchemeCBCS && len(k.IV) == 0 {
			return nil, errorf(CodeInvalidKey, "track %q: cbcs needs a constant IV", tr)
		}
	}
	systems, err := normalizeSystems(sig.Systems)
	if err != nil {
		return nil, err
	}
	sig.Systems = systems
	if err := sig.Validate(scheme); err != nil {
		return nil, err
	}
	return &Encryptor{scheme: scheme, keys: maps.Clone(keys), sig: sig, tracks: map[string]*trackState{}}, nil
}

// Key returns the content key used for track.
func (e *Encryptor) Key(track string) (ContentKey, error) {
	if k, ok := e.keys[track]; ok {
		return k, nil
	}
	if k, ok := e.keys[AllTracks]; ok {
		return k, nil
	}
	return ContentKey{}, errorf(CodeNoKey, "no content key for track %q", track)
}

// PSSHBoxes are the boxes written into each init segment for key.
func (e *Encryptor) PSSHBoxes(key ContentKey) ([]*mp4.PsshBox, error) {
	var boxes []*mp4.PsshBox
	for _, sys := range psshOrder {
		if !e.sig.has(sys) {
			continue
		}
		b, err := PSSH(sys, [][]byte{key.KID}, psshOptions(e.scheme, e.sig))
		if err != nil {
			return nil, err
		}
		boxes = append(boxes, b)
	}
	return boxes, nil
}

// EncryptInit turns the sample entry into encv/enca with the scheme's sinf
// and adds the PSSH boxes.
func (e *Encryptor) EncryptInit(track string, init *mp4.InitSegment) error {
	key, err := e.Key(track)
	if err != nil {
		return err
	}
	boxes, err := e.PSSHBoxes(key)
	if err != nil {
		return err
	}
	ipd, err := mp4.InitProtect(init, key.Key, e.constantIV(key), e.scheme, mp4.UUID(key.KID), boxes)
	if err != nil {
		return fmt.Errorf("drm: protect init of %s: %w", track, err)
	}
	e.mu.Lock()
	e.tracks[track] = &trackState{key: key, ipd: ipd}
	e.mu.Unlock()
	return nil
}

func (e *Encryptor) constantIV(key ContentKey) []byte {
	if e.scheme == SchemeCBCS {
		return key.IV
	}
	return make([]byte, 16) // InitProtect ignores it for cenc
}

// segmentIV is the first IV of a cenc fragment: 8 bytes of
// HMAC-SHA256(key, track, sequence number, SHA-256 of the clear samples),
// then a zero block counter that mp4ff increments per 16-byte block. The
// same input gives the same bytes (the packager promises that), while a
// different track, segment or content under the same key gets a fresh
// counter range, so a re-transcoded asset packaged again with its stored
// key never reuses keystream.
func segmentIV(key []byte, track string, f *mp4.Fragment) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("marquee-cenc-iv\x00" + track + "\x00"))
	_ = binary.Write(m, binary.BigEndian, f.Moof.Mfhd.SequenceNumber)
	if f.Mdat != nil {
		sum := sha256.New()
		sum.Write(f.Mdat.Data)
		for _, p := range f.Mdat.DataParts {
			sum.Write(p)
		}
		m.Write(sum.Sum(nil))
	}
	iv := make([]byte, 16)
	copy(iv, m.Sum(nil)[:8])
	return iv
}

// EncryptSegment encrypts the samples of the segment's fragment in place and
// adds senc, saiz and saio.
func (e *Encryptor) EncryptSegment(track string, seg *mp4.MediaSegment, _ *mp4.InitSegment) error {
	e.mu.Lock()
	st := e.tracks[track]
	e.mu.Unlock()
	if st == nil {
		return fmt.Errorf("drm: segment of %s before its init", track)
	}
	for _, f := range seg.Fragments {
		var iv []byte
		if e.scheme == SchemeCBCS {
			iv = st.key.IV
		} else {
			iv = segmentIV(st.key.Key, track, f)
		}
		if err := mp4.EncryptFragment(f, st.key.Key, iv, st.ipd); err != nil {
			return fmt.Errorf("drm: encrypt %s segment %d: %w", track, f.Moof.Mfhd.SequenceNumber, err)
		}
	}
	return nil
}

// HLSKeyTags are the track's EXT-X-KEY lines: METHOD=SAMPLE-AES for cbcs,
// SAMPLE-AES-CTR for cenc, one line per KEYFORMAT.
func (e *Encryptor) HLSKeyTags(track string) []string {
	key, err := e.Key(track)
	if err != nil {
		return nil
	}
	var tags []string
	for _, sys := range hlsOrder {
		if !e.sig.has(sys) {
			continue
		}
		if attrs, ok := hlsKeyAttrs(sys, e.scheme, key, e.sig); ok {
			tags = append(tags, "#EXT-X-KEY:"+attrs)
		}
	}
	return tags
}

// DASHContentProtection are the track's ContentProtection elements: the
// mp4protection one with cenc:default_KID, then one per DRM system.
func (e *Encryptor) DASHContentProtection(track string) []string {
	key, err := e.Key(track)
	if err != nil {
		return nil
	}
	cps := []string{fmt.Sprintf(`<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="%s" cenc:default_KID="%s"/>`,
		e.scheme, key.KIDUUID())}
	for _, sys := range dashOrder {
		if !e.sig.has(sys) {
			continue
		}
		if cp, ok := dashContentProtection(sys, e.scheme, key, e.sig); ok {
			cps = append(cps, cp)
		}
	}
	return cps
}
