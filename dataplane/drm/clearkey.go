package drm

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"
)

// Limits on W3C Clear Key license requests.
const (
	MaxClearKeyRequestBytes = 8 << 10
	MaxClearKeyKIDs         = 64
)

// Clear Key session types (EME MediaKeySessionType).
const (
	SessionTemporary         = "temporary"
	SessionPersistentLicense = "persistent-license"
)

// ClearKeyRequest is a decoded W3C Clear Key license request.
type ClearKeyRequest struct {
	KIDs [][]byte
	Type string // SessionTemporary unless the request said otherwise
}

// ParseClearKeyRequest validates a Clear Key license request
// ({"kids":["<base64url>",...],"type":"temporary"}) and returns its KIDs.
func ParseClearKeyRequest(body []byte) ([][]byte, error) {
	r, err := DecodeClearKeyRequest(body)
	return r.KIDs, err
}

// DecodeClearKeyRequest is ParseClearKeyRequest that also returns the session
// type. It is strict: one JSON object, no unknown fields, 1 to
// MaxClearKeyKIDs distinct KIDs in unpadded base64url of exactly 16 bytes, a
// known type, at most MaxClearKeyRequestBytes. Errors are ErrBadRequest or
// ErrTooLarge.
func DecodeClearKeyRequest(body []byte) (ClearKeyRequest, error) {
	if len(body) > MaxClearKeyRequestBytes {
		return ClearKeyRequest{}, errorf(CodeTooLarge, "clear key request is %d bytes, limit %d", len(body), MaxClearKeyRequestBytes)
	}
	var in struct {
		KIDs *[]string `json:"kids"`
		Type *string   `json:"type"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return ClearKeyRequest{}, wrapErr(CodeBadRequest, err, "clear key request is not the expected JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return ClearKeyRequest{}, errorf(CodeBadRequest, "clear key request has data after the JSON object")
	}
	if in.KIDs == nil || len(*in.KIDs) == 0 {
		return ClearKeyRequest{}, errorf(CodeBadRequest, "clear key request lists no kids")
	}
	if len(*in.KIDs) > MaxClearKeyKIDs {
		return ClearKeyRequest{}, errorf(CodeTooLarge, "clear key request lists %d kids, limit %d", len(*in.KIDs), MaxClearKeyKIDs)
	}
	out := ClearKeyRequest{Type: SessionTemporary}
	if in.Type != nil {
		switch *in.Type {
		case SessionTemporary, SessionPersistentLicense:
			out.Type = *in.Type
		default:
			return ClearKeyRequest{}, errorf(CodeBadRequest, "clear key session type %q is not temporary or persistent-license", *in.Type)
		}
	}
	seen := map[string]bool{}
	for i, s := range *in.KIDs {
		if strings.ContainsAny(s, "=+/") {
			return ClearKeyRequest{}, errorf(CodeBadRequest, "kid %d is not unpadded base64url", i)
		}
		kid, err := base64.RawURLEncoding.Strict().DecodeString(s)
		if err != nil || len(kid) != KeySize {
			return ClearKeyRequest{}, errorf(CodeBadRequest, "kid %d is not 16 bytes of unpadded base64url", i)
		}
		if seen[string(kid)] {
			return ClearKeyRequest{}, errorf(CodeBadRequest, "kid %d is listed twice", i)
		}
		seen[string(kid)] = true
		out.KIDs = append(out.KIDs, kid)
	}
	return out, nil
}

type clearKeyJWK struct {
	Kty string `json:"kty"`
	KID string `json:"kid"`
	K   string `json:"k"`
}

// ClearKeyResponse is the Clear Key license (a JSON Web Key Set) for keys:
// {"keys":[{"kty":"oct","kid":"…","k":"…"}],"type":"temporary"}, base64url
// without padding. An empty typ means SessionTemporary. Keys the caller may
// not release must not be passed; a KID the player asked for but that is
// missing here is simply not decryptable.
func ClearKeyResponse(keys []ContentKey, typ string) []byte {
	if typ == "" {
		typ = SessionTemporary
	}
	out := struct {
		Keys []clearKeyJWK `json:"keys"`
		Type string        `json:"type"`
	}{Keys: make([]clearKeyJWK, 0, len(keys)), Type: typ}
	for _, k := range keys {
		out.Keys = append(out.Keys, clearKeyJWK{Kty: "oct",
			KID: base64.RawURLEncoding.EncodeToString(k.KID), K: base64.RawURLEncoding.EncodeToString(k.Key)})
	}
	b, _ := json.Marshal(out) // strings only: cannot fail
	return b
}
