package cdn

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/marquee-video/marquee/internal/errs"
)

// Error codes of Generic.Verify, stable for problem+json.
const (
	CodeSignatureMissing = "signature_missing"
	CodeSignatureInvalid = "signature_invalid"
	CodeSignatureExpired = "signature_expired"
)

// Generic is Marquee's own URL token, for our built-in origin and any CDN
// that can run a custom check: query parameters exp, optional pfx, and
// sig = base64url(HMAC-SHA256(key, exp "\n" scope)) without padding, where
// scope is "path:" + the escaped path or "prefix:" + the prefix. The
// separator and the scope kind keep two different (path, expiry) pairs from
// ever hashing the same bytes, which plain path+expiry concatenation allows
// ("/seg1"+"700000000" = "/seg"+"1700000000").
type Generic struct {
	mac    *macPool
	prefix string
}

// NewGeneric builds the generic signer/verifier. The key must be at least 16
// bytes.
func NewGeneric(cfg SignerConfig) (*Generic, error) {
	if len(cfg.Key) < 16 {
		return nil, errs.Field("key", "generic signing key must be at least 16 bytes")
	}
	if cfg.PathPrefix != "" && !strings.HasPrefix(cfg.PathPrefix, "/") {
		return nil, errs.Field("path_prefix", "path prefix %q must start with /", cfg.PathPrefix)
	}
	return &Generic{mac: newMACPool(sha256.New, []byte(cfg.Key)), prefix: cfg.PathPrefix}, nil
}

func (g *Generic) sum(exp, scope string) []byte { return g.mac.sum(exp, "\n", scope) }

// Sign implements Signer.
func (g *Generic) Sign(u *url.URL, expires time.Time) (*url.URL, error) {
	if err := signable(u, expires, g.prefix); err != nil {
		return nil, err
	}
	exp := unix(expires)
	if g.prefix != "" {
		sig := base64.RawURLEncoding.EncodeToString(g.sum(exp, "prefix:"+g.prefix))
		return withParams(u, "exp="+exp+"&pfx="+url.QueryEscape(g.prefix)+"&sig="+sig), nil
	}
	sig := base64.RawURLEncoding.EncodeToString(g.sum(exp, "path:"+u.EscapedPath()))
	return withParams(u, "exp="+exp+"&sig="+sig), nil
}

// Verify checks a request URL signed by Sign (with this key, any prefix) at
// time now. Errors are errs.Forbidden with CodeSignatureMissing,
// CodeSignatureInvalid or CodeSignatureExpired. A prefix token is accepted
// only for paths under its prefix, compared on the decoded path, and a
// path with a "." or ".." segment (however encoded) is refused, so that
// "/pfx/%2e%2e/other" cannot climb out of it.
func (g *Generic) Verify(u *url.URL, now time.Time) error {
	if u == nil {
		return errs.E(errs.Forbidden, CodeSignatureMissing, "no URL")
	}
	q := u.Query()
	// A repeated parameter could be read one way here and another way by a
	// cache or proxy in front of us.
	if len(q["exp"]) > 1 || len(q["sig"]) > 1 || len(q["pfx"]) > 1 {
		return errs.E(errs.Forbidden, CodeSignatureInvalid, "a signature parameter is repeated")
	}
	exp, sig := q.Get("exp"), q.Get("sig")
	if exp == "" || sig == "" {
		return errs.E(errs.Forbidden, CodeSignatureMissing, "the URL carries no signature")
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return errs.E(errs.Forbidden, CodeSignatureInvalid, "the signature is malformed")
	}
	expUnix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || expUnix <= 0 {
		return errs.E(errs.Forbidden, CodeSignatureInvalid, "the expiry is malformed")
	}
	scope := "path:" + u.EscapedPath()
	if _, ok := q["pfx"]; ok {
		pfx := q.Get("pfx")
		if !strings.HasPrefix(pfx, "/") || !strings.HasPrefix(u.Path, pfx) || hasDotSegment(u.Path) {
			return errs.E(errs.Forbidden, CodeSignatureInvalid, "the path is outside the signed prefix")
		}
		scope = "prefix:" + pfx
	}
	if !hmac.Equal(got, g.sum(exp, scope)) {
		return errs.E(errs.Forbidden, CodeSignatureInvalid, "the signature does not match")
	}
	// Expiry is checked after the MAC so that a forged expiry reads as
	// invalid, not expired.
	if now.Unix() >= expUnix {
		return errs.E(errs.Forbidden, CodeSignatureExpired, "the link expired at %s", time.Unix(expUnix, 0).UTC().Format(time.RFC3339))
	}
	return nil
}

func hasDotSegment(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}
