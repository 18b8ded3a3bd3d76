package cdn

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"time"

	"github.com/marquee-video/marquee/internal/errs"
)

// akamai issues Akamai EdgeAuth (Auth Token 2.0) query-string tokens,
// <name>=exp=<unix>~acl=<acl>~hmac=<hex HMAC-SHA256>, as the EdgeAuth-Token
// SDKs do with SHA256, no start time, escape_early off and the default "~"
// field delimiter. The HMAC key is the hex-decoded secret.
type akamai struct {
	mac    *macPool
	param  string
	prefix string
}

func newAkamai(cfg SignerConfig) (*akamai, error) {
	if cfg.Key == "" {
		return nil, errs.Field("key", "Akamai needs the EdgeAuth key (hex)")
	}
	key, err := hex.DecodeString(cfg.Key)
	if err != nil {
		return nil, errs.Field("key", "Akamai EdgeAuth key must be an even-length hex string")
	}
	param := cfg.ParamName
	if param == "" {
		param = "hdnts"
	}
	return &akamai{mac: newMACPool(sha256.New, key), param: param, prefix: cfg.PathPrefix}, nil
}

// akamaiToken is the token value for acl, valid until expires.
func (a *akamai) token(acl string, expires time.Time) string {
	fields := "exp=" + unix(expires) + "~acl=" + acl
	return fields + "~hmac=" + hex.EncodeToString(a.mac.sum(fields))
}

func (a *akamai) Sign(u *url.URL, expires time.Time) (*url.URL, error) {
	if err := signable(u, expires, a.prefix); err != nil {
		return nil, err
	}
	acl := u.EscapedPath()
	if a.prefix != "" {
		acl = a.prefix + "*"
	}
	// The token's "=" and "~" stay raw, as Akamai's SDKs emit them; both are
	// legal in a query value.
	return withParams(u, url.QueryEscape(a.param)+"="+a.token(acl, expires)), nil
}
