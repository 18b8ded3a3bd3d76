package tenants

// Internal: the tests drive the clock of Sessions and the unexported API
// key and password helpers.

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/golang-jwt/jwt/v5"

	"github.com/marquee-video/marquee/internal/errs"
)

var testSecret = bytes.Repeat([]byte{7}, 32)

// sessionsAt is token handling whose clock reads at.
func sessionsAt(t *testing.T, secret []byte, ttl time.Duration, at time.Time) *Sessions {
	t.Helper()
	s, err := NewSessions(secret, ttl)
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return at }
	return s
}

func TestNewSessions(t *testing.T) {
	if _, err := NewSessions(bytes.Repeat([]byte{1}, 31), time.Hour); err == nil {
		t.Error("a 31-byte secret is accepted")
	}
	s, err := NewSessions(testSecret, 0)
	if err != nil || s.TTL() != time.Hour {
		t.Errorf("ttl 0: %v, %v; want one hour", s, err)
	}
	if s, _ := NewSessions(testSecret, -time.Minute); s.TTL() != time.Hour {
		t.Errorf("a negative ttl gives %v", s.TTL())
	}
}

func TestSessionRoundTrip(t *testing.T) {
	now := time.Now()
	s := sessionsAt(t, testSecret, 15*time.Minute, now)
	m := Membership{TenantID: "ten_a", UserID: "usr_a", Role: RoleAdmin}
	tok, err := s.Issue(m)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if p != (Principal{Kind: "user", ID: "usr_a", TenantID: "ten_a", Role: RoleAdmin}) {
		t.Errorf("principal %+v", p)
	}
	if LooksLikeAPIKey(tok) {
		t.Error("a session token looks like an API key")
	}
	var c sessionClaims
	if _, _, err := jwt.NewParser().ParseUnverified(tok, &c); err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "marquee" || !c.ExpiresAt.Equal(now.Add(15*time.Minute).Truncate(time.Second)) {
		t.Errorf("claims %+v", c)
	}
}

func TestSessionLifetime(t *testing.T) {
	now := time.Now()
	ttl := time.Hour
	tok, err := sessionsAt(t, testSecret, ttl, now).Issue(Membership{TenantID: "ten_a", UserID: "usr_a", Role: RoleOwner})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		at   time.Time
		code string
	}{
		{"just issued", now, ""},
		{"near the end", now.Add(ttl - time.Second), ""},
		{"within the leeway", now.Add(ttl + 3*time.Second), ""},
		{"expired", now.Add(ttl + 10*time.Second), "token_expired"},
		{"long expired", now.Add(30 * 24 * time.Hour), "token_expired"},
		{"clock a little behind", now.Add(-20 * time.Second), ""},
		{"issued in the future", now.Add(-2 * time.Minute), "invalid_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sessionsAt(t, testSecret, ttl, tc.at).Verify(tok)
			wantAuthErr(t, err, tc.code)
		})
	}
}

// wantAuthErr fails unless err is nil (code == "") or an Unauthenticated
// error with code.
func wantAuthErr(t *testing.T, err error, code string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	e := errs.As(err)
	if e == nil || e.Kind != errs.Unauthenticated || e.Code != code {
		t.Fatalf("error %v, want Unauthenticated %s", err, code)
	}
}

func TestSessionForgeries(t *testing.T) {
	now := time.Now()
	s := sessionsAt(t, testSecret, time.Hour, now)
	good := sessionClaims{
		TenantID: "ten_a", Role: RoleOwner,
		RegisteredClaims: jwt.RegisteredClaims{Issuer: "marquee", Subject: "usr_a", IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))},
	}
	sign := func(m jwt.SigningMethod, c sessionClaims, key any) string {
		tok, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	edit := func(f func(*sessionClaims)) sessionClaims { c := good; f(&c); return c }
	real := sign(jwt.SigningMethodHS256, good, testSecret)
	parts := strings.Split(real, ".")

	for _, tc := range []struct {
		name  string
		token string
		code  string
	}{
		{"control: well formed", real, ""},
		{"empty", "", "invalid_token"},
		{"garbage", "garbage", "invalid_token"},
		{"two segments", parts[0] + "." + parts[1], "invalid_token"},
		{"no signature", parts[0] + "." + parts[1] + ".", "invalid_token"},
		{"alg none", sign(jwt.SigningMethodNone, good, jwt.UnsafeAllowNoneSignatureType), "invalid_token"},
		{"another secret", sign(jwt.SigningMethodHS256, good, bytes.Repeat([]byte{8}, 32)), "invalid_token"},
		{"HS384 with the secret", sign(jwt.SigningMethodHS384, good, testSecret), "invalid_token"},
		{"HS512 with the secret", sign(jwt.SigningMethodHS512, good, testSecret), "invalid_token"},
		{"RS256 header on an HMAC signature", relabel(t, real, "RS256"), "invalid_token"},
		{"no tenant", sign(jwt.SigningMethodHS256, edit(func(c *sessionClaims) { c.TenantID = "" }), testSecret), "invalid_token"},
		{"no role", sign(jwt.SigningMethodHS256, edit(func(c *sessionClaims) { c.Role = "" }), testSecret), "invalid_token"},
		{"no subject", sign(jwt.SigningMethodHS256, edit(func(c *sessionClaims) { c.Subject = "" }), testSecret), "invalid_token"},
		{"no expiry", sign(jwt.SigningMethodHS256, edit(func(c *sessionClaims) { c.ExpiresAt = nil }), testSecret), "invalid_token"},
		{"another issuer", sign(jwt.SigningMethodHS256, edit(func(c *sessionClaims) { c.Issuer = "evil" }), testSecret), "invalid_token"},
		{"no issuer", sign(jwt.SigningMethodHS256, edit(func(c *sessionClaims) { c.Issuer = "" }), testSecret), "invalid_token"},
		{"not yet valid", sign(jwt.SigningMethodHS256, edit(func(c *sessionClaims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Hour)) }), testSecret), "invalid_token"},
		{"expired", sign(jwt.SigningMethodHS256, edit(func(c *sessionClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute)) }), testSecret), "token_expired"},
		{"claims swapped under a real signature", swapClaims(t, real, edit(func(c *sessionClaims) { c.Role = RolePlatformOps })), "invalid_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Verify(tc.token)
			wantAuthErr(t, err, tc.code)
		})
	}
}

// swapClaims replaces a token's claims, keeping its header and signature.
func swapClaims(t *testing.T, tok string, c sessionClaims) string {
	t.Helper()
	signing, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SigningString()
	if err != nil {
		t.Fatal(err)
	}
	return signing + tok[strings.LastIndexByte(tok, '.'):]
}

// relabel swaps a token's header for one naming alg, keeping the rest.
func relabel(t *testing.T, tok, alg string) string {
	t.Helper()
	parts := strings.SplitN(tok, ".", 2)
	h := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{})
	h.Header["alg"] = alg
	signing, err := h.SigningString()
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitN(signing, ".", 2)[0] + "." + parts[1]
}

var apiKeyRE = regexp.MustCompile(`^mq_[a-z2-7]{12}_[a-z2-7]{32}$`)

func TestNewAPIKeySecret(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		key, prefix, hash := newAPIKeySecret()
		if !apiKeyRE.MatchString(key) {
			t.Fatalf("key %q does not have the form mq_<12>_<32>", key)
		}
		if !LooksLikeAPIKey(key) || !strings.HasPrefix(key, prefix+"_") || len(prefix) != len("mq_")+12 {
			t.Fatalf("key %q, prefix %q", key, prefix)
		}
		if got, ok := splitAPIKey(key); !ok || got != prefix {
			t.Fatalf("splitAPIKey(%q) = %q, %v", key, got, ok)
		}
		if len(hash) != 64 || strings.Contains(hash, key[len(prefix)+1:]) || hash != hashAPIKey(key) {
			t.Fatalf("hash %q of %q", hash, key)
		}
		if !apiKeyMatches(key, hash) {
			t.Fatal("a key does not match its own hash")
		}
		if seen[prefix] || seen[key] {
			t.Fatalf("a repeated key or prefix after %d keys", len(seen)/2)
		}
		seen[prefix], seen[key] = true, true
	}
}

func TestAPIKeyMatching(t *testing.T) {
	key, prefix, hash := newAPIKeySecret()
	other, _, _ := newAPIKeySecret()
	flipped := []byte(key)
	if flipped[len(flipped)-1] == 'a' {
		flipped[len(flipped)-1] = 'b'
	} else {
		flipped[len(flipped)-1] = 'a'
	}
	for _, tc := range []struct {
		name      string
		candidate string
		want      bool
	}{
		{"the key", key, true},
		{"the last character changed", string(flipped), false},
		{"the prefix with another secret", prefix + other[len(prefix):], false},
		{"upper-cased", strings.ToUpper(key), false},
		{"with a trailing space", key + " ", false},
		{"the prefix only", prefix, false},
		{"the hash itself", hash, false},
		{"empty", "", false},
	} {
		if got := apiKeyMatches(tc.candidate, hash); got != tc.want {
			t.Errorf("%s: apiKeyMatches = %v, want %v", tc.name, got, tc.want)
		}
	}
	if apiKeyMatches(key, strings.ToUpper(hash)) || apiKeyMatches(key, "") {
		t.Error("a key matches a hash that is not its own")
	}
}

func TestSplitAPIKey(t *testing.T) {
	secret := strings.Repeat("b", 32)
	for _, tc := range []struct {
		name, key, prefix string
		ok                bool
	}{
		{"well formed", "mq_aaaaaaaaaaaa_" + secret, "mq_aaaaaaaaaaaa", true},
		{"short", "mq_short", "", false},
		{"empty", "", "", false},
		{"scheme only", "mq_", "", false},
		{"secret one short", "mq_aaaaaaaaaaaa_" + secret[1:], "", false},
		{"secret one long", "mq_aaaaaaaaaaaa_" + secret + "b", "", false},
		{"no separator", "mq_aaaaaaaaaaaax" + secret, "", false},
		{"another scheme", "mk_aaaaaaaaaaaa_" + secret, "", false},
		{"upper-case scheme", "MQ_aaaaaaaaaaaa_" + secret, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix, ok := splitAPIKey(tc.key)
			if ok != tc.ok || prefix != tc.prefix {
				t.Errorf("splitAPIKey(%q) = %q, %v; want %q, %v", tc.key, prefix, ok, tc.prefix, tc.ok)
			}
		})
	}
	for _, s := range []string{"eyJhbGciOiJIUzI1NiJ9.e30.x", "", "MQ_x", " mq_x"} {
		if LooksLikeAPIKey(s) {
			t.Errorf("LooksLikeAPIKey(%q) = true", s)
		}
	}
}

func TestPasswordHashing(t *testing.T) {
	h, err := hashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$") || strings.Contains(h, "horse") {
		t.Errorf("hash %q", h)
	}
	if !passwordMatches("correct horse battery staple", h) {
		t.Error("the password does not match its hash")
	}
	for _, wrong := range []string{"", "correct horse battery stapl", "Correct horse battery staple", "correct horse battery staple "} {
		if passwordMatches(wrong, h) {
			t.Errorf("%q matches", wrong)
		}
	}
	if h2, _ := hashPassword("correct horse battery staple"); h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	if passwordMatches("x", "not a hash") {
		t.Error("a malformed hash matches")
	}
}

// TestDummyHash checks that the hash compared against for unknown emails
// costs what a real one does: it must parse, with the real parameters, or a
// failed login would tell whether the account exists by its speed.
func TestDummyHash(t *testing.T) {
	p, salt, key, err := argon2id.DecodeHash(dummyHash)
	if err != nil {
		t.Fatalf("dummyHash does not parse, so unknown emails skip the hashing: %v", err)
	}
	if p.Memory != passwordParams.Memory || p.Iterations != passwordParams.Iterations || p.Parallelism != passwordParams.Parallelism ||
		uint32(len(salt)) != passwordParams.SaltLength || uint32(len(key)) != passwordParams.KeyLength {
		t.Errorf("dummyHash parameters %+v (salt %d, key %d), real %+v", p, len(salt), len(key), passwordParams)
	}
	if passwordMatches("correct horse battery staple", dummyHash) {
		t.Error("the dummy hash matches a password")
	}
}

func TestRandomToken(t *testing.T) {
	a, b := randomToken(20), randomToken(20)
	if len(a) != 32 || a == b || !regexp.MustCompile(`^[a-z2-7]+$`).MatchString(a) {
		t.Errorf("randomToken(20) = %q, %q", a, b)
	}
}
