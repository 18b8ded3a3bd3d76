package cdn

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // CloudFront's signed-URL scheme is defined as RSA-SHA1.
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/marquee-video/marquee/internal/errs"
)

// cloudFront signs URLs the way AWS documents in "Create a signed URL using
// a canned policy" (and, with a path prefix, a custom policy): RSA-SHA1 over
// the policy JSON, encoded in CloudFront's URL-safe base64.
type cloudFront struct {
	keyPairID string
	key       *rsa.PrivateKey
	prefix    string

	// An RSA signature costs far more than the rest of a manifest, and with
	// a custom policy every segment of a manifest shares one (prefix,
	// expiry) policy, so recent policies' parameters are remembered.
	mu     sync.Mutex
	params map[string]string // policy → encoded query parameters
}

// cloudFrontCacheSize bounds the custom-policy cache; it is emptied when
// full, which costs one signature per live policy.
const cloudFrontCacheSize = 1024

// cfBase64 is CloudFront's base64: standard alphabet, then + → -, = → _,
// / → ~.
var cfBase64 = strings.NewReplacer("+", "-", "=", "_", "/", "~")

func cloudFrontEncode(b []byte) string {
	return cfBase64.Replace(base64.StdEncoding.EncodeToString(b))
}

func newCloudFront(cfg SignerConfig) (*cloudFront, error) {
	if cfg.KeyPairID == "" {
		return nil, errs.Field("key_pair_id", "CloudFront needs the key pair (public key) id")
	}
	key, err := parseRSAPrivateKey(cfg.PrivateKeyPEM)
	if err != nil {
		return nil, err
	}
	return &cloudFront{keyPairID: cfg.KeyPairID, key: key, prefix: cfg.PathPrefix, params: make(map[string]string)}, nil
}

func parseRSAPrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errs.Field("private_key", "CloudFront private key is not PEM")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, "invalid_request", err, "CloudFront private key is neither PKCS#1 nor PKCS#8 RSA")
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errs.Field("private_key", "CloudFront private key is %T, want RSA", k)
	}
	return rk, nil
}

// cloudFrontPolicy is the policy statement CloudFront verifies, byte for
// byte: no whitespace, keys in this order.
func cloudFrontPolicy(resource string, expires time.Time) string {
	var b strings.Builder
	b.Grow(len(resource) + 80)
	b.WriteString(`{"Statement":[{"Resource":"`)
	b.WriteString(jsonEscape(resource))
	b.WriteString(`","Condition":{"DateLessThan":{"AWS:EpochTime":`)
	b.WriteString(unix(expires))
	b.WriteString(`}}}]}`)
	return b.String()
}

// jsonEscape escapes the few characters a URL could carry that JSON cannot
// hold raw.
func jsonEscape(s string) string {
	if !strings.ContainsAny(s, `"\`) {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

func (c *cloudFront) sign(policy string) (string, error) {
	h := sha1.Sum([]byte(policy)) //nolint:gosec // required by the scheme.
	sig, err := rsa.SignPKCS1v15(rand.Reader, c.key, crypto.SHA1, h[:])
	if err != nil {
		return "", errs.Wrap(errs.Internal, "", err, "sign CloudFront policy")
	}
	return cloudFrontEncode(sig), nil
}

func (c *cloudFront) Sign(u *url.URL, expires time.Time) (*url.URL, error) {
	if err := signable(u, expires, c.prefix); err != nil {
		return nil, err
	}
	if u.Scheme == "" || u.Host == "" {
		return nil, errs.Field("url", "CloudFront signs absolute URLs, got %q", u.Redacted())
	}
	if c.prefix == "" {
		// Canned policy: the resource is the URL as the viewer will request
		// it, query included, minus the signing parameters (and any
		// fragment, which never reaches CloudFront).
		resource := *u
		resource.Fragment, resource.RawFragment = "", ""
		sig, err := c.sign(cloudFrontPolicy(resource.String(), expires))
		if err != nil {
			return nil, err
		}
		return withParams(u, "Expires="+unix(expires)+"&Signature="+sig+"&Key-Pair-Id="+url.QueryEscape(c.keyPairID)), nil
	}
	policy := cloudFrontPolicy(u.Scheme+"://"+u.Host+c.prefix+"*", expires)
	c.mu.Lock()
	params, ok := c.params[policy]
	c.mu.Unlock()
	if ok {
		return withParams(u, params), nil
	}
	sig, err := c.sign(policy)
	if err != nil {
		return nil, err
	}
	params = "Policy=" + cloudFrontEncode([]byte(policy)) + "&Signature=" + sig + "&Key-Pair-Id=" + url.QueryEscape(c.keyPairID)
	c.mu.Lock()
	if len(c.params) >= cloudFrontCacheSize {
		clear(c.params)
	}
	c.params[policy] = params
	c.mu.Unlock()
	return withParams(u, params), nil
}
