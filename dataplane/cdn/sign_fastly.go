package cdn

import (
	"crypto/sha1" //nolint:gosec // Fastly's published token VCL uses HMAC-SHA1.
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"time"

	"github.com/marquee-video/marquee/internal/errs"
)

// fastly issues tokens for Fastly's "Enabling URL token validation" VCL
// (fastly/token-functions): token=<expiry>_<hex HMAC-SHA1(key, path+expiry)>,
// where the VCL checks digest.hmac_sha1(digest.base64_decode(KEY),
// req.url.path + expiry) and the key is configured in base64.
type fastly struct {
	mac   *macPool
	param string
}

func newFastly(cfg SignerConfig) (*fastly, error) {
	if cfg.Key == "" {
		return nil, errs.Field("key", "Fastly needs the token key (base64)")
	}
	key, err := base64.StdEncoding.DecodeString(cfg.Key)
	if err != nil {
		return nil, errs.Field("key", "Fastly token key must be standard base64, as in the VCL")
	}
	if cfg.PathPrefix != "" {
		return nil, errs.Field("path_prefix", "Fastly's token VCL signs the exact path; it has no prefix form")
	}
	param := cfg.ParamName
	if param == "" {
		param = "token"
	}
	return &fastly{mac: newMACPool(sha1.New, key), param: param}, nil
}

func (f *fastly) Sign(u *url.URL, expires time.Time) (*url.URL, error) {
	if err := signable(u, expires, ""); err != nil {
		return nil, err
	}
	exp := unix(expires)
	sig := hex.EncodeToString(f.mac.sum(u.EscapedPath(), exp))
	return withParams(u, url.QueryEscape(f.param)+"="+exp+"_"+sig), nil
}
