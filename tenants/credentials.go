package tenants

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/golang-jwt/jwt/v5"

	"github.com/marquee-video/marquee/internal/errs"
)

// Sessions issues and verifies the short-lived signed tokens users get at
// sign-up and login (HS256 JWTs under a server secret). Only HS256 is
// accepted, so "alg: none" and algorithm-confusion tokens fail.
type Sessions struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
}

// NewSessions returns token handling under secret (at least 32 bytes).
func NewSessions(secret []byte, ttl time.Duration) (*Sessions, error) {
	if len(secret) < 32 {
		return nil, errors.New("session secret must be at least 32 bytes")
	}
	if ttl <= 0 {
		ttl = time.Hour
	}
	return &Sessions{secret: secret, ttl: ttl, now: time.Now}, nil
}

// TTL is how long an issued token is valid.
func (s *Sessions) TTL() time.Duration { return s.ttl }

type sessionClaims struct {
	TenantID string `json:"tid"`
	Role     string `json:"role"`
	jwt.RegisteredClaims
}

const tokenIssuer = "marquee"

// Issue signs a token for the user's membership.
func (s *Sessions) Issue(m Membership) (string, error) {
	now := s.now()
	c := sessionClaims{
		TenantID: m.TenantID,
		Role:     m.Role,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    tokenIssuer,
			Subject:   m.UserID,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-30 * time.Second)),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.ttl)),
		},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.secret)
	if err != nil {
		return "", fmt.Errorf("sign session: %w", err)
	}
	return tok, nil
}

// Verify checks a token's signature, algorithm, issuer and lifetime.
func (s *Sessions) Verify(token string) (Principal, error) {
	var c sessionClaims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return s.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(tokenIssuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.now),
		jwt.WithLeeway(5*time.Second),
	)
	if err != nil {
		code := "invalid_token"
		if errors.Is(err, jwt.ErrTokenExpired) {
			code = "token_expired"
		}
		return Principal{}, errs.Wrap(errs.Unauthenticated, code, err, "the session token is invalid or expired; log in again")
	}
	if c.Subject == "" || c.TenantID == "" || c.Role == "" {
		return Principal{}, errs.E(errs.Unauthenticated, "invalid_token", "the session token is incomplete")
	}
	return Principal{Kind: "user", ID: c.Subject, TenantID: c.TenantID, Role: c.Role}, nil
}

// API keys look like mq_<prefix>_<secret>: the prefix (mq_ and 12
// characters) is stored in clear to find the key, the whole key only as a
// SHA-256 hash. A slow hash is unnecessary: the secret has 160 random bits.
const (
	apiKeyScheme    = "mq_"
	apiKeyPrefixLen = 12
	apiKeySecretLen = 32
)

var keyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newAPIKeySecret returns the full key and its stored prefix and hash.
func newAPIKeySecret() (key, prefix, hash string) {
	b := make([]byte, 28)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	enc := keyEncoding.EncodeToString(b)
	prefix = apiKeyScheme + enc[:apiKeyPrefixLen]
	key = prefix + "_" + enc[apiKeyPrefixLen:apiKeyPrefixLen+apiKeySecretLen]
	return key, prefix, hashAPIKey(key)
}

// LooksLikeAPIKey reports whether a bearer credential is an API key rather
// than a session token.
func LooksLikeAPIKey(s string) bool { return strings.HasPrefix(s, apiKeyScheme) }

// splitAPIKey returns the prefix of a well-formed key.
func splitAPIKey(key string) (prefix string, ok bool) {
	if len(key) != len(apiKeyScheme)+apiKeyPrefixLen+1+apiKeySecretLen || !LooksLikeAPIKey(key) {
		return "", false
	}
	prefix = key[:len(apiKeyScheme)+apiKeyPrefixLen]
	if key[len(prefix)] != '_' {
		return "", false
	}
	return prefix, true
}

func hashAPIKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

func apiKeyMatches(key, storedHash string) bool {
	return subtle.ConstantTimeCompare([]byte(hashAPIKey(key)), []byte(storedHash)) == 1
}

// Password hashing: argon2id with the RFC 9106 second recommended option's
// shape, sized for a 2-core control plane (19 MiB, 2 passes).
var passwordParams = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

func hashPassword(p string) (string, error) {
	h, err := argon2id.CreateHash(p, passwordParams)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// dummyHash is compared against when no user has the email, so a login's
// timing does not tell whether an account exists.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3m9x4gUwqQy1VVt5d6fvRk5xZ3QxQ1l5b0ZqZ2p1bGQ"

func passwordMatches(p, hash string) bool {
	ok, err := argon2id.ComparePasswordAndHash(p, hash)
	return err == nil && ok
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return keyEncoding.EncodeToString(b)
}
