// Package drm is Marquee's DRM library: content keys, their encryption at
// rest, Common Encryption of CMAF packages through the packager's Encryptor
// seam, the DRM signalling that goes with it (PSSH boxes, DASH
// ContentProtection, HLS EXT-X-KEY), a W3C Clear Key license server core, CPIX
// 2.3 exchange with key vendors, and a failover proxy in front of commercial
// license servers. It holds no package-level state and does no I/O of its own
// apart from Proxy's HTTP calls; the playback service and the worker wire it.
//
// Choices, and why:
//
//   - One ContentKey is a 16-byte KID, a 16-byte AES-128 key and a 16-byte
//     constant IV. KIDs are random (UUID version 4 bits set) so they never
//     collide across tenants and leak nothing. The constant IV is only used by
//     cbcs, where FairPlay and the CMAF profile expect a constant IV in tenc
//     and no per-sample IVs.
//   - cenc (AES-CTR) uses 16-byte per-sample IVs. The 8 high bytes of each
//     segment's first IV are an HMAC (under the content key) of the track,
//     the sequence number and a hash of the clear samples; the 8 low bytes
//     are the block counter. A key shared by several tracks, or reused for a
//     re-transcoded asset, never reuses a counter block, and the same input
//     still gives the same bytes (the packager promises that).
//   - Keys at rest are wrapped with AES-256-GCM under a key-encryption key
//     from a KeyRing. The additional data binds a wrapped key to its tenant and
//     KID, so a row copied to another tenant or key does not unwrap. The KEK id
//     travels with the ciphertext, so rotation is: add a KEK, make it active,
//     Rewrap rows at leisure, then drop the old KEK.
//   - PSSH payloads are built by hand: the Widevine protobuf has four fields
//     and the PlayReady Object is a length-prefixed UTF-16LE XML document; a
//     protobuf or XML-signing dependency would be larger than the code. The
//     PlayReady header is WRMHEADER 4.3.0.0, the version that can say AESCBC
//     for cbcs.
//   - Signalling is the same for every consumer: the Encryptor's manifests
//     and init segments and the CPIX export are built by the same functions.
//     Init segments carry PSSH boxes for Widevine, PlayReady (a version 0 box
//     each, KIDs in the payload, which older CDMs need) and the W3C Common
//     box for Clear Key (version 1, KIDs in the box). DASH gets the
//     mp4protection element with cenc:default_KID plus one element per
//     system with cenc:pssh (and mspr:pro, dashif:Laurl); every prefix other
//     than cenc is declared on the element, as the packager requires.
//   - HLS gets one EXT-X-KEY per KEYFORMAT, METHOD=SAMPLE-AES for cbcs and
//     SAMPLE-AES-CTR for cenc: FairPlay (skd:// URI, cbcs only, since Apple
//     devices decrypt nothing else), Widevine and PlayReady as data URIs of
//     their PSSH / PlayReady Object, which is what Shaka Player parses, and
//     Clear Key as KEYFORMAT="identity" only when a key URI is configured,
//     because Shaka fetches the raw key from that URI and HLS has no other
//     Clear Key signalling. cbcs is the scheme to choose when one package
//     must play everywhere; cenc reaches Widevine, PlayReady and Clear Key.
//   - License requests to commercial DRM vendors are opaque bytes: Proxy only
//     forwards them, failing over to a backup on transport errors and 5xx, and
//     never on 4xx, which are the vendor's verdict about the request.
package drm

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// Protection schemes of ISO/IEC 23001-7 that Encryptor implements.
const (
	SchemeCENC = "cenc"
	SchemeCBCS = "cbcs"
)

// System identifies a DRM system by its ISO/IEC 23001-7 SystemID.
type System string

// DRM systems and their SystemIDs.
const (
	Widevine  System = "edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"
	PlayReady System = "9a04f079-9840-4286-ab92-e65be0885f95"
	FairPlay  System = "94ce86fb-07ff-4f43-adb8-93d2fa968ca2"
	// ClearKey is the W3C Common PSSH SystemID, which is what Clear Key
	// players look for in the init segment.
	ClearKey System = "1077efec-c0b2-4d02-ace3-3c1e52e2fb4b"
	// ClearKeyDASH is the DASH-IF scheme id of Clear Key ContentProtection.
	ClearKeyDASH System = "e2719d58-a985-b3c9-781a-b030af78d30e"
)

// Name is the system's usual name ("widevine", "playready", "fairplay",
// "clearkey"), or the SystemID when it is unknown.
func (s System) Name() string {
	switch s {
	case Widevine:
		return "widevine"
	case PlayReady:
		return "playready"
	case FairPlay:
		return "fairplay"
	case ClearKey, ClearKeyDASH:
		return "clearkey"
	}
	return string(s)
}

// ParseSystem accepts a name ("widevine", ...) or a SystemID in UUID form,
// with or without "urn:uuid:".
func ParseSystem(s string) (System, error) {
	v := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "urn:uuid:"))
	switch v {
	case "widevine", string(Widevine):
		return Widevine, nil
	case "playready", string(PlayReady):
		return PlayReady, nil
	case "fairplay", string(FairPlay):
		return FairPlay, nil
	case "clearkey", string(ClearKey), string(ClearKeyDASH):
		return ClearKey, nil
	}
	return "", errorf(CodeInvalidSystem, "unknown DRM system %q", s)
}

// ContentKey is one content encryption key.
type ContentKey struct {
	// KID is the 16-byte key id, written in tenc, PSSH and manifests.
	KID []byte
	// Key is the 16-byte AES-128 content key.
	Key []byte
	// IV is the 16-byte constant IV that cbcs uses; cenc ignores it.
	IV []byte
	// Scheme is the protection scheme the key is used with (SchemeCENC or
	// SchemeCBCS), when known; CPIX records it as commonEncryptionScheme.
	Scheme string
}

// KeySize is the size of a KID, a content key and a constant IV.
const KeySize = 16

// NewContentKey draws a fresh KID (a version 4 UUID), key and constant IV
// from rand, which is crypto/rand.Reader when nil.
func NewContentKey(rnd io.Reader) (ContentKey, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	buf := make([]byte, 3*KeySize)
	if _, err := io.ReadFull(rnd, buf); err != nil {
		return ContentKey{}, fmt.Errorf("drm: draw content key: %w", err)
	}
	k := ContentKey{KID: buf[:16:16], Key: buf[16:32:32], IV: buf[32:48:48]}
	k.KID[6] = k.KID[6]&0x0f | 0x40 // version 4
	k.KID[8] = k.KID[8]&0x3f | 0x80 // RFC 4122 variant
	return k, nil
}

// Validate checks the sizes of the key's fields; IV may be empty when the key
// is only used with cenc.
func (k ContentKey) Validate() error {
	if len(k.KID) != KeySize {
		return errorf(CodeInvalidKey, "KID is %d bytes, want %d", len(k.KID), KeySize)
	}
	if len(k.Key) != KeySize {
		return errorf(CodeInvalidKey, "key is %d bytes, want %d", len(k.Key), KeySize)
	}
	if len(k.IV) != 0 && len(k.IV) != KeySize && len(k.IV) != 8 {
		return errorf(CodeInvalidKey, "IV is %d bytes, want 8 or 16", len(k.IV))
	}
	if k.Scheme != "" && k.Scheme != SchemeCENC && k.Scheme != SchemeCBCS {
		return errorf(CodeInvalidScheme, "scheme %q is neither cenc nor cbcs", k.Scheme)
	}
	return nil
}

// KIDUUID is the KID as a lower-case UUID string, as DASH cenc:default_KID
// and CPIX write it.
func (k ContentKey) KIDUUID() string { return UUIDString(k.KID) }

// KIDHex is the KID as 32 lower-case hex digits.
func (k ContentKey) KIDHex() string { return hex.EncodeToString(k.KID) }

// KIDBase64URL is the KID in unpadded base64url, as EME Clear Key writes it.
func (k ContentKey) KIDBase64URL() string { return base64.RawURLEncoding.EncodeToString(k.KID) }

// UUIDString formats 16 bytes as 8-4-4-4-12 lower-case hex.
func UUIDString(b []byte) string {
	if len(b) != 16 {
		return hex.EncodeToString(b)
	}
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ParseKID reads a KID written as a UUID, 32 hex digits, or base64 (standard
// or URL alphabet, padded or not).
func ParseKID(s string) ([]byte, error) {
	t := strings.TrimSpace(s)
	if u := strings.ReplaceAll(t, "-", ""); len(u) == 32 {
		if b, err := hex.DecodeString(u); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(strings.TrimRight(t, "=")); err == nil && len(b) == 16 {
			return b, nil
		}
	}
	return nil, errorf(CodeInvalidKey, "KID %q is not 16 bytes as UUID, hex or base64", s)
}

// Error codes. Every error this package returns for bad input, bad keys or a
// failed license upstream is an *Error with one of them.
const (
	CodeInvalidKey     = "drm_invalid_key"     // malformed content key or KID
	CodeInvalidSystem  = "drm_invalid_system"  // unknown DRM system
	CodeInvalidScheme  = "drm_invalid_scheme"  // neither cenc nor cbcs
	CodeNoKey          = "drm_no_key"          // no content key for a track
	CodeInvalidKeyRing = "drm_invalid_keyring" // malformed KEK ring spec
	CodeUnknownKEK     = "drm_unknown_kek"     // wrapped under a KEK the ring lacks
	CodeUnwrap         = "drm_unwrap_failed"   // wrong KEK, tampered, or wrong AAD
	CodeBadRequest     = "drm_bad_request"     // malformed license request
	CodeTooLarge       = "drm_too_large"       // request or answer over the limit
	CodeInvalidCPIX    = "drm_invalid_cpix"    // malformed CPIX document
	CodeUnavailable    = "drm_unavailable"     // no license server answered
)

// Error is a typed failure. Match it with errors.As, or errors.Is against the
// sentinels below (same Code).
type Error struct {
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrInvalidKey     = &Error{Code: CodeInvalidKey}
	ErrInvalidSystem  = &Error{Code: CodeInvalidSystem}
	ErrInvalidScheme  = &Error{Code: CodeInvalidScheme}
	ErrNoKey          = &Error{Code: CodeNoKey}
	ErrInvalidKeyRing = &Error{Code: CodeInvalidKeyRing}
	ErrUnknownKEK     = &Error{Code: CodeUnknownKEK}
	ErrUnwrap         = &Error{Code: CodeUnwrap}
	ErrBadRequest     = &Error{Code: CodeBadRequest}
	ErrTooLarge       = &Error{Code: CodeTooLarge}
	ErrInvalidCPIX    = &Error{Code: CodeInvalidCPIX}
	ErrUnavailable    = &Error{Code: CodeUnavailable}
)

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func wrapErr(code string, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...) + ": " + err.Error(), Err: err}
}
