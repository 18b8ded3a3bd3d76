package uploads

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/marquee-video/marquee/internal/errs"
)

// An upload token is "<upload id>.<tenant id>.<expiry, unix seconds>.<mac>",
// the MAC an HMAC-SHA256 over the first three fields. It travels in the tus
// URL's path, so a browser can send chunks without the API credential; it
// opens exactly one upload, and only until it expires.

func (s *Service) sign(g Grant) string {
	payload := g.UploadID + "." + g.TenantID + "." + strconv.FormatInt(g.ExpiresAt.Unix(), 10)
	return payload + "." + base64.RawURLEncoding.EncodeToString(s.mac(payload))
}

func (s *Service) mac(payload string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("marquee upload\x00" + payload))
	return m.Sum(nil)
}

// Authorize verifies an upload token. A malformed or forged token is
// Forbidden (upload_token_invalid), an expired one Forbidden
// (upload_token_expired); neither says whether the upload exists.
func (s *Service) Authorize(token string) (Grant, error) {
	invalid := errs.E(errs.Forbidden, "upload_token_invalid", "this upload URL is not valid; create a new upload")
	if len(token) > 256 {
		return Grant{}, invalid
	}
	parts := strings.Split(token, ".")
	if len(parts) != 4 || !validID(parts[0]) || parts[1] == "" || strings.ContainsAny(parts[1], "/\\") {
		return Grant{}, invalid
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[3])
	if err != nil || !hmac.Equal(sig, s.mac(parts[0]+"."+parts[1]+"."+parts[2])) {
		return Grant{}, invalid
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return Grant{}, invalid
	}
	g := Grant{UploadID: parts[0], TenantID: parts[1], ExpiresAt: time.Unix(exp, 0).UTC()}
	if !s.now().Before(g.ExpiresAt) {
		return Grant{}, errs.E(errs.Forbidden, "upload_token_expired", "this upload URL expired at %s; create a new upload", g.ExpiresAt.Format(time.RFC3339))
	}
	return g, nil
}
