package drm

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// KEKSize is the size of a key-encryption key (AES-256).
const KEKSize = 32

// KeyRing holds the key-encryption keys (KEKs) that wrap content keys at
// rest. One KEK is active: Wrap uses it; Unwrap uses whichever KEK a Wrapped
// names. A KeyRing is immutable and safe for concurrent use.
type KeyRing struct {
	keks   map[string]cipher.AEAD
	ids    []string
	active string
	rand   io.Reader
}

var kekIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// NewKeyRing builds a ring from KEKs by id; active must be one of them.
// rnd draws GCM nonces and is crypto/rand.Reader when nil.
func NewKeyRing(keks map[string][]byte, active string, rnd io.Reader) (*KeyRing, error) {
	if len(keks) == 0 {
		return nil, errorf(CodeInvalidKeyRing, "no key-encryption keys")
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	r := &KeyRing{keks: make(map[string]cipher.AEAD, len(keks)), active: active, rand: rnd}
	for id, k := range keks {
		if !kekIDPattern.MatchString(id) {
			return nil, errorf(CodeInvalidKeyRing, "KEK id %q must be 1-32 letters, digits, '_' or '-'", id)
		}
		if len(k) != KEKSize {
			return nil, errorf(CodeInvalidKeyRing, "KEK %q is %d bytes, want %d", id, len(k), KEKSize)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, wrapErr(CodeInvalidKeyRing, err, "KEK %q", id)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, wrapErr(CodeInvalidKeyRing, err, "KEK %q", id)
		}
		r.keks[id] = aead
		r.ids = append(r.ids, id)
	}
	if _, ok := r.keks[active]; !ok {
		return nil, errorf(CodeInvalidKeyRing, "active KEK %q is not in the ring", active)
	}
	return r, nil
}

// ParseKeyRing reads a ring from configuration: comma-separated
// "id:<64 hex digits>" entries. The last entry is active unless one entry is
// written "id:<hex>:active". Whitespace around entries is ignored. Errors
// never quote key material.
func ParseKeyRing(spec string) (*KeyRing, error) {
	keks := map[string][]byte{}
	active, marked := "", false
	for i, entry := range strings.Split(spec, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		parts := strings.Split(entry, ":")
		if len(parts) < 2 || len(parts) > 3 || (len(parts) == 3 && parts[2] != "active") {
			return nil, errorf(CodeInvalidKeyRing, "entry %d: want id:<64 hex>[:active]", i+1)
		}
		id := parts[0]
		if _, dup := keks[id]; dup {
			return nil, errorf(CodeInvalidKeyRing, "entry %d: duplicate KEK id %q", i+1, id)
		}
		k, err := hex.DecodeString(parts[1])
		if err != nil || len(k) != KEKSize {
			return nil, errorf(CodeInvalidKeyRing, "entry %d (%q): key is not %d hex digits", i+1, id, 2*KEKSize)
		}
		keks[id] = k
		if len(parts) == 3 {
			if marked {
				return nil, errorf(CodeInvalidKeyRing, "more than one active KEK")
			}
			active, marked = id, true
		} else if !marked {
			active = id
		}
	}
	return NewKeyRing(keks, active, nil)
}

// Active is the id of the KEK that Wrap uses.
func (r *KeyRing) Active() string { return r.active }

// IDs lists the ring's KEK ids in no particular order.
func (r *KeyRing) IDs() []string { return append([]string(nil), r.ids...) }

// Wrapped is a content key (or any secret) encrypted under a KEK.
type Wrapped struct {
	KEKID      string
	Nonce      []byte // 12 bytes
	Ciphertext []byte // sealed key and 16-byte GCM tag
}

const wrappedPrefix = "v1"

// String encodes w for a database column: "v1:<kek id>:<base64url(nonce ||
// ciphertext)>".
func (w Wrapped) String() string {
	return wrappedPrefix + ":" + w.KEKID + ":" +
		base64.RawURLEncoding.EncodeToString(append(append([]byte(nil), w.Nonce...), w.Ciphertext...))
}

// ParseWrapped reads what Wrapped.String wrote.
func ParseWrapped(s string) (Wrapped, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 || parts[0] != wrappedPrefix || !kekIDPattern.MatchString(parts[1]) {
		return Wrapped{}, errorf(CodeUnwrap, "not a v1 wrapped key")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(raw) < 12+16 {
		return Wrapped{}, errorf(CodeUnwrap, "wrapped key payload is malformed")
	}
	return Wrapped{KEKID: parts[1], Nonce: raw[:12:12], Ciphertext: raw[12:]}, nil
}

// KeyAAD is the additional authenticated data that binds a wrapped content
// key to its tenant and KID; pass it to Wrap, Unwrap and Rewrap.
func KeyAAD(tenantID string, kid []byte) []byte {
	return fmt.Appendf(nil, "marquee-drm-key\x00%s\x00%x", tenantID, kid)
}

// aad adds the KEK id so that a ciphertext cannot be relabelled with another
// KEK id of the same key.
func aad(kekID string, extra []byte) []byte {
	return append(append([]byte(kekID), 0), extra...)
}

// Wrap seals key under the active KEK with AES-256-GCM and a random nonce.
func (r *KeyRing) Wrap(key, additional []byte) (Wrapped, error) {
	aead := r.keks[r.active]
	nonce := make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(r.rand, nonce); err != nil {
		return Wrapped{}, fmt.Errorf("drm: draw nonce: %w", err)
	}
	return Wrapped{KEKID: r.active, Nonce: nonce, Ciphertext: aead.Seal(nil, nonce, key, aad(r.active, additional))}, nil
}

// Unwrap opens w. It fails with ErrUnknownKEK when the ring lacks w's KEK and
// with ErrUnwrap when the KEK is wrong, the ciphertext was altered or the
// additional data differs.
func (r *KeyRing) Unwrap(w Wrapped, additional []byte) ([]byte, error) {
	aead, ok := r.keks[w.KEKID]
	if !ok {
		return nil, errorf(CodeUnknownKEK, "KEK %q is not in the ring", w.KEKID)
	}
	if len(w.Nonce) != aead.NonceSize() {
		return nil, errorf(CodeUnwrap, "nonce is %d bytes", len(w.Nonce))
	}
	key, err := aead.Open(nil, w.Nonce, w.Ciphertext, aad(w.KEKID, additional))
	if err != nil {
		return nil, errorf(CodeUnwrap, "authentication failed under KEK %q (wrong KEK, altered ciphertext or wrong tenant/KID)", w.KEKID)
	}
	return key, nil
}

// Rewrap moves w to the active KEK; rewrapped reports whether anything
// changed (false when w already uses the active KEK).
func (r *KeyRing) Rewrap(w Wrapped, additional []byte) (out Wrapped, rewrapped bool, err error) {
	if w.KEKID == r.active {
		if _, err := r.Unwrap(w, additional); err != nil {
			return Wrapped{}, false, err
		}
		return w, false, nil
	}
	key, err := r.Unwrap(w, additional)
	if err != nil {
		return Wrapped{}, false, err
	}
	defer clear(key)
	out, err = r.Wrap(key, additional)
	return out, err == nil, err
}
