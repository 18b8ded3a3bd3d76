package playback

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/marquee-video/marquee/internal/errs"
)

// Token audiences, as Mux names them.
const (
	AudienceVideo     = "v"
	AudienceThumbnail = "t"
	AudienceLicense   = "l"
)

// Signing algorithms a tenant key may use. HMAC is deliberately absent:
// the control plane holds only public keys, so a token "signed" with one as
// an HMAC secret must never verify.
const (
	AlgRS256 = "RS256"
	AlgES256 = "ES256"
)

// Claims are a playback token's claims.
type Claims struct {
	jwt.RegisteredClaims
	// Country restricts where the token plays, on top of the playback id's
	// own lists.
	Country *CountryClaim `json:"country,omitempty"`
	// Viewer and Profile name the tenant's viewer, whose entitlements and
	// profile rating limit the policy reads.
	Viewer  string `json:"viewer,omitempty"`
	Profile string `json:"profile,omitempty"`
	// Tier asserts the viewer's subscription tier (the tenant's backend
	// knows it).
	Tier string `json:"tier,omitempty"`
	// MaxResolution caps the renditions: a height ("720" or "720p").
	MaxResolution string `json:"max_resolution,omitempty"`

	kid string // the header's key id
}

// CountryClaim lists ISO 3166-1 alpha-2 countries.
type CountryClaim struct {
	Allow []string `json:"allow,omitempty"`
	Deny  []string `json:"deny,omitempty"`
}

// MaxHeight is the max_resolution claim as a height, 0 for none.
func (c *Claims) MaxHeight() (int, error) {
	if c.MaxResolution == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSuffix(strings.ToLower(c.MaxResolution), "p"))
	if err != nil || n < 144 || n > 4320 {
		return 0, errs.E(errs.Forbidden, "token_invalid", "max_resolution must be a height such as 720p")
	}
	return n, nil
}

// Token errors are 403s with codes, so a player can tell why.
func tokenErr(code, format string, args ...any) error {
	return errs.E(errs.Forbidden, code, format, args...)
}

// verifyKey is a signing key ready to verify with.
type verifyKey struct {
	kid      string
	tenantID string
	alg      string
	pub      crypto.PublicKey
	revoked  bool
}

func parsePublicKey(alg, pemText string) (crypto.PublicKey, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, errors.New("playback: signing key is not PEM")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("playback: signing key: %w", err)
	}
	switch pub.(type) {
	case *rsa.PublicKey:
		if alg != AlgRS256 {
			return nil, errors.New("playback: RSA key with a non-RSA algorithm")
		}
	case *ecdsa.PublicKey:
		if alg != AlgES256 {
			return nil, errors.New("playback: EC key with a non-EC algorithm")
		}
	default:
		return nil, fmt.Errorf("playback: unsupported key type %T", pub)
	}
	return pub, nil
}

// GenerateKeyPair makes a signing key pair: the public key's PEM (stored)
// and the private key's PEM (shown once).
func GenerateKeyPair(alg string) (pubPEM, privPEM string, err error) {
	var (
		priv any
		pub  any
	)
	switch alg {
	case AlgRS256:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return "", "", err
		}
		priv, pub = k, &k.PublicKey
	case AlgES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return "", "", err
		}
		priv, pub = k, &k.PublicKey
	default:
		return "", "", errs.Field("alg", "alg must be RS256 or ES256")
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", "", err
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})), nil
}

// SignToken signs claims with a private key PEM, as a tenant's backend
// does; the SDK-less path for tests, the portal preview and tools.
func SignToken(keyID, privPEM string, claims Claims) (string, error) {
	block, _ := pem.Decode([]byte(privPEM))
	if block == nil {
		return "", errors.New("playback: private key is not PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return "", fmt.Errorf("playback: private key: %w", err)
	}
	var method jwt.SigningMethod
	switch k.(type) {
	case *rsa.PrivateKey:
		method = jwt.SigningMethodRS256
	case *ecdsa.PrivateKey:
		method = jwt.SigningMethodES256
	default:
		return "", fmt.Errorf("playback: unsupported private key %T", k)
	}
	t := jwt.NewWithClaims(method, claims)
	t.Header["kid"] = keyID
	return t.SignedString(k)
}

// maxTokenLen bounds what is parsed at all.
const maxTokenLen = 4096

// Every token failure is a 403 with a code: token_missing, token_invalid
// (malformed, bad signature, an algorithm other than the key's, an unknown
// or revoked key), token_expired, token_wrong_audience,
// token_wrong_playback_id, token_wrong_tenant.

// parseToken verifies a token's signature and expiry and returns its claims
// and the key that signed it.
func parseToken(raw string, key func(kid string) (verifyKey, error)) (*Claims, verifyKey, error) {
	if raw == "" {
		return nil, verifyKey{}, tokenErr("token_missing", "this playback id needs a playback token (?token=)")
	}
	if len(raw) > maxTokenLen {
		return nil, verifyKey{}, tokenErr("token_invalid", "the playback token is too long")
	}
	var vk verifyKey
	claims := &Claims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("no kid")
		}
		claims.kid = kid
		k, err := key(kid)
		if err != nil {
			return nil, err
		}
		if k.revoked {
			return nil, errors.New("revoked key")
		}
		// The algorithm is the key's, never the token's choice.
		if t.Method.Alg() != k.alg {
			return nil, errors.New("algorithm does not match the key")
		}
		vk = k
		return k.pub, nil
	}, jwt.WithValidMethods([]string{AlgRS256, AlgES256}), jwt.WithExpirationRequired(), jwt.WithLeeway(0))
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, vk, tokenErr("token_expired", "the playback token has expired")
	default:
		return nil, vk, tokenErr("token_invalid", "the playback token is not valid")
	}
	if _, err := claims.MaxHeight(); err != nil {
		return nil, vk, err
	}
	vk.kid = claims.kid
	return claims, vk, nil
}

// checkClaims checks what a verified token is for: this tenant, this
// playback id, this audience, and still unexpired at now.
func checkClaims(claims *Claims, tenantID string, pb PlaybackID, aud string, now time.Time) error {
	if claims.ExpiresAt == nil || !now.Before(claims.ExpiresAt.Time) {
		return tokenErr("token_expired", "the playback token has expired")
	}
	if tenantID != pb.TenantID {
		return tokenErr("token_wrong_tenant", "the playback token was signed by another tenant's key")
	}
	if claims.Subject != pb.ID {
		return tokenErr("token_wrong_playback_id", "the playback token is for another playback id")
	}
	if len(claims.Audience) != 1 || claims.Audience[0] != aud {
		return tokenErr("token_wrong_audience", "the playback token's audience must be %q here", aud)
	}
	return nil
}
