package cdn

import (
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/marquee-video/marquee/internal/errs"
)

// bunny issues Bunny CDN token authentication (v2, SHA256) query tokens, as
// Bunny's reference signing code builds them:
//
//	token = base64url(SHA256(key + signedPath + expires + paramData)), no padding
//
// signedPath is the URL path or, for a directory token, token_path; paramData
// is every other query parameter, token_path included, sorted by name and
// joined as name=value&… with raw (decoded) values.
type bunny struct {
	key    string
	prefix string
}

func newBunny(cfg SignerConfig) (*bunny, error) {
	if cfg.Key == "" {
		return nil, errs.Field("key", "Bunny needs the pull zone's token authentication key")
	}
	return &bunny{key: cfg.Key, prefix: cfg.PathPrefix}, nil
}

func (b *bunny) Sign(u *url.URL, expires time.Time) (*url.URL, error) {
	if err := signable(u, expires, b.prefix); err != nil {
		return nil, err
	}
	exp := unix(expires)
	h := sha256.New()
	h.Write([]byte(b.key))
	if b.prefix == "" {
		h.Write([]byte(u.Path))
	} else {
		h.Write([]byte(b.prefix))
	}
	h.Write([]byte(exp))
	if b.prefix != "" || u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			return nil, errs.Wrap(errs.Invalid, "invalid_request", err, "URL query is malformed")
		}
		if b.prefix != "" {
			q.Set("token_path", b.prefix)
		}
		h.Write([]byte(bunnyParamData(q)))
	}
	params := "token=" + base64.RawURLEncoding.EncodeToString(h.Sum(nil))
	if b.prefix != "" {
		params += "&token_path=" + url.QueryEscape(b.prefix)
	}
	return withParams(u, params+"&expires="+exp), nil
}

func bunnyParamData(q url.Values) string {
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, k := range names {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		// PHP's parse_str keeps the last of repeated names.
		b.WriteString(k + "=" + q[k][len(q[k])-1])
	}
	return b.String()
}
