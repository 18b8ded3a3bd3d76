package cdn

import (
	"crypto/md5" //nolint:gosec // nginx secure_link_md5 is defined as MD5.
	"encoding/base64"
	"net/url"
	"time"

	"github.com/marquee-video/marquee/internal/errs"
)

// nginxSecureLink issues links for ngx_http_secure_link_module configured as
//
//	secure_link $arg_md5,$arg_expires;
//	secure_link_md5 "$secure_link_expires$uri <secret>";
//
// md5 = base64url(MD5("<expires><uri> <secret>")) without padding. $uri is the
// decoded, normalised path, so the path is signed decoded.
type nginxSecureLink struct {
	suffix []byte // " " + secret
}

func newNginx(cfg SignerConfig) (*nginxSecureLink, error) {
	if cfg.Key == "" {
		return nil, errs.Field("key", "nginx secure_link needs the secret of secure_link_md5")
	}
	if cfg.PathPrefix != "" {
		return nil, errs.Field("path_prefix", "nginx secure_link_md5 with $uri signs the exact path")
	}
	return &nginxSecureLink{suffix: []byte(" " + cfg.Key)}, nil
}

func (n *nginxSecureLink) Sign(u *url.URL, expires time.Time) (*url.URL, error) {
	if err := signable(u, expires, ""); err != nil {
		return nil, err
	}
	exp := unix(expires)
	h := md5.New() //nolint:gosec // required by the scheme.
	h.Write([]byte(exp))
	h.Write([]byte(u.Path))
	h.Write(n.suffix)
	return withParams(u, "md5="+base64.RawURLEncoding.EncodeToString(h.Sum(nil))+"&expires="+exp), nil
}
