package api_test

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/marquee-video/marquee/controlplane/cptest"
)

// sessionSecret is the key cptest signs session tokens with.
var sessionSecret = bytes.Repeat([]byte{7}, 32)

// wantProblem checks that res is an application/problem+json error with the
// given status and stable code (and field, when field is not empty), and
// that it carries its request id in the body and in X-Request-Id.
func wantProblem(t *testing.T, res cptest.Response, status int, code, field string) {
	t.Helper()
	if res.Status >= 500 {
		t.Errorf("status %d: a server error for bad input: %s", res.Status, res.Body)
	}
	if res.Status != status {
		t.Errorf("status %d, want %d %s: %s", res.Status, status, code, res.Body)
		return
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json: %s", ct, res.Body)
	}
	var p struct {
		Type      string `json:"type"`
		Title     string `json:"title"`
		Status    int    `json:"status"`
		Code      string `json:"code"`
		Field     string `json:"field"`
		Detail    string `json:"detail"`
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal(res.Body, &p); err != nil {
		t.Fatalf("body is not a problem document: %v: %s", err, res.Body)
	}
	if p.Code != code {
		t.Errorf("code %q, want %q: %s", p.Code, code, res.Body)
	}
	if field != "" && p.Field != field {
		t.Errorf("field %q, want %q: %s", p.Field, field, res.Body)
	}
	if p.Status != res.Status || p.Title == "" || p.Type != "https://docs.marquee.video/errors/"+p.Code {
		t.Errorf("inconsistent problem document for status %d: %s", res.Status, res.Body)
	}
	hdr := res.Header.Get("X-Request-Id")
	if p.RequestID == "" || hdr == "" || p.RequestID != hdr {
		t.Errorf("request_id %q and X-Request-Id %q must both be set and equal: %s", p.RequestID, hdr, res.Body)
	}
}

// forgeJWT builds a compact JWT by hand, so tests can make tokens the
// server must refuse: alg none, other algorithms, other keys.
func forgeJWT(header, claims map[string]any, secret []byte) string {
	seg := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := seg(header) + "." + seg(claims)
	var h func() hash.Hash
	switch header["alg"] {
	case "HS256", "RS256":
		// RS256 signed with the HMAC secret is the algorithm-confusion attack.
		h = sha256.New
	case "HS384":
		h = sha512.New384
	default:
		return signing + "."
	}
	mac := hmac.New(h, secret)
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// jwtClaims decodes the claims of a token the server issued.
func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// with returns a copy of m with the changes applied; a nil value deletes.
func with(m map[string]any, changes map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// badInputFixture is the tenants and credentials the bad-input cases use:
//
//	root ── R (reseller, assets ≤ 10) ── C (creator)
//	root ── A (creator, signed up)
type badInputFixture struct {
	ops, rootID     string
	resellerID      string
	creatorID       string
	a               cptest.Account
	ownerKey        string
	analystKey      string
	revokedKey      string
	ownerKeyID      string
	sessionClaims   map[string]any
	unknownKey      string
	wrongSecretKey  string
	sessionResigned string
}

func newBadInputFixture(t *testing.T, s *cptest.Server) badInputFixture {
	t.Helper()
	fx := badInputFixture{}
	fx.ops, fx.rootID = s.PlatformOwner(t, "owner")
	fx.resellerID = s.CreateTenant(t, fx.ops, "", "Reseller R", "reseller")
	s.Must(t, 200, cptest.Request{Method: "PUT", Path: "/v1/tenants/" + fx.resellerID + "/quotas", Token: fx.ops, Body: map[string]any{"assets": 10}})
	fx.creatorID = s.CreateTenant(t, fx.ops, fx.resellerID, "Creator C", "creator")
	fx.a = s.Signup(t, "Creator A")

	key := func(role string) (string, string) {
		res := s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/api-keys", Token: fx.a.Token, Body: map[string]string{"name": role + " key", "role": role}})
		return res.Str(t, "key"), res.Str(t, "id")
	}
	fx.ownerKey, fx.ownerKeyID = key("owner")
	fx.analystKey, _ = key("analyst")
	revoked, revokedID := key("editor")
	// Used once before revocation, so that any cache of keys holds it.
	s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/tenant", Token: revoked})
	s.Must(t, 204, cptest.Request{Method: "DELETE", Path: "/v1/api-keys/" + revokedID, Token: fx.a.Token})
	fx.revokedKey = revoked

	// A key of the right shape whose prefix exists but whose secret is
	// wrong, and one whose prefix does not exist.
	last := fx.ownerKey[len(fx.ownerKey)-1]
	swap := byte('a')
	if last == 'a' {
		swap = 'b'
	}
	fx.wrongSecretKey = fx.ownerKey[:len(fx.ownerKey)-1] + string(swap)
	fx.unknownKey = "mq_" + strings.Repeat("a", 12) + "_" + strings.Repeat("b", 32)

	fx.sessionClaims = jwtClaims(t, fx.a.Token)
	// The forging helper itself must produce tokens the server accepts when
	// nothing is wrong with them, or the refusals below prove nothing.
	fx.sessionResigned = forgeJWT(map[string]any{"alg": "HS256", "typ": "JWT"}, fx.sessionClaims, sessionSecret)
	s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/tenant", Token: fx.sessionResigned})
	return fx
}

type badInputCase struct {
	name   string
	req    cptest.Request
	status int
	code   string
	field  string
}

// jsonReq is a request with a raw JSON body.
func jsonReq(method, path, token, body string) cptest.Request {
	return cptest.Request{Method: method, Path: path, Token: token, Body: body, ContentType: "application/json"}
}

// authReq sends GET /v1/tenant with a literal Authorization header.
func authReq(value string) cptest.Request {
	r := cptest.Request{Method: "GET", Path: "/v1/tenant"}
	if value != "" {
		r.Header = map[string]string{"Authorization": value}
	}
	return r
}

func badInputCases(fx badInputFixture) []badInputCase {
	ops, a := fx.ops, fx.a.Token
	validSignup := `{"email":"new-%s@example.com","password":"correct horse battery staple","name":"New"}`
	longName := strings.Repeat("n", 101)
	now := time.Now().Unix()
	hdr := func(alg string) map[string]any { return map[string]any{"alg": alg, "typ": "JWT"} }
	claims := fx.sessionClaims
	cTenant := "/v1/tenants/" + fx.creatorID
	cQuotas := cTenant + "/quotas"
	b64 := base64.RawURLEncoding.EncodeToString

	return []badInputCase{
		// Body shape, on the public sign-up route and on authenticated ones.
		{"malformed json", jsonReq("POST", "/v1/signup", "", `{"email":`), 400, "invalid_json", ""},
		{"syntax error", jsonReq("POST", "/v1/signup", "", `{email: "x"}`), 400, "invalid_json", ""},
		{"not json at all", jsonReq("POST", "/v1/signup", "", `hello`), 400, "invalid_json", ""},
		{"trailing data", jsonReq("POST", "/v1/signup", "", `{"email":"x@example.com"} {"a":1}`), 400, "invalid_json", ""},
		{"empty body", jsonReq("POST", "/v1/signup", "", ``), 400, "invalid_json", ""},
		{"whitespace body", jsonReq("POST", "/v1/signup", "", " \n\t "), 400, "invalid_json", ""},
		{"no body, no content type", cptest.Request{Method: "POST", Path: "/v1/signup"}, 400, "invalid_json", ""},
		{"null body", jsonReq("POST", "/v1/signup", "", `null`), 400, "invalid_request", "email"},
		{"array body", jsonReq("POST", "/v1/signup", "", `[]`), 400, "invalid_request", "body"},
		{"string body", jsonReq("POST", "/v1/signup", "", `"x"`), 400, "invalid_request", "body"},
		{"email is a number", jsonReq("POST", "/v1/signup", "", `{"email":1}`), 400, "invalid_request", "email"},
		{"password is an object", jsonReq("POST", "/v1/signup", "", `{"email":"x@example.com","password":{}}`), 400, "invalid_request", "password"},
		{"name is an array", jsonReq("POST", "/v1/api-keys", a, `{"name":["k"],"role":"owner"}`), 400, "invalid_request", "name"},
		{"kind is a number", jsonReq("POST", "/v1/tenants", ops, `{"name":"X","kind":5}`), 400, "invalid_request", "kind"},
		{"status is a boolean", jsonReq("PATCH", cTenant, ops, `{"status":true}`), 400, "invalid_request", "status"},
		{"unknown field", jsonReq("POST", "/v1/signup", "", `{"email":"u@example.com","password":"correct horse battery staple","name":"U","admin":true}`), 400, "unknown_field", "admin"},
		{"unknown field on branding", jsonReq("PUT", "/v1/branding", a, `{"logo_url":"https://evil.example.com/x.png"}`), 400, "unknown_field", "logo_url"},
		{"unknown field on tenant create", jsonReq("POST", "/v1/tenants", ops, `{"name":"X","kind":"creator","parent_id":"ten_x"}`), 400, "unknown_field", "parent_id"},
		{"text/plain", cptest.Request{Method: "POST", Path: "/v1/signup", Body: fmt.Sprintf(validSignup, "plain"), ContentType: "text/plain"}, 400, "unsupported_media_type", ""},
		{"form encoded", cptest.Request{Method: "POST", Path: "/v1/api-keys", Token: a, Body: "name=k&role=owner", ContentType: "application/x-www-form-urlencoded"}, 400, "unsupported_media_type", ""},
		{"unparsable content type", cptest.Request{Method: "POST", Path: "/v1/signup", Body: fmt.Sprintf(validSignup, "ct"), ContentType: "application/json; ;;="}, 400, "unsupported_media_type", ""},

		// Field validation.
		{"bad email", jsonReq("POST", "/v1/signup", "", `{"email":"not-an-email","password":"correct horse battery staple","name":"X"}`), 400, "invalid_request", "email"},
		{"email without a dot in the domain", jsonReq("POST", "/v1/signup", "", `{"email":"a@localhost","password":"correct horse battery staple","name":"X"}`), 400, "invalid_request", "email"},
		{"email with a display name", jsonReq("POST", "/v1/signup", "", `{"email":"Eve <eve@example.com>","password":"correct horse battery staple","name":"X"}`), 400, "invalid_request", "email"},
		{"missing email", jsonReq("POST", "/v1/signup", "", `{"password":"correct horse battery staple","name":"X"}`), 400, "invalid_request", "email"},
		{"short password", jsonReq("POST", "/v1/signup", "", `{"email":"short@example.com","password":"short","name":"X"}`), 400, "invalid_request", "password"},
		{"huge password", jsonReq("POST", "/v1/signup", "", `{"email":"huge@example.com","password":"`+strings.Repeat("p", 257)+`","name":"X"}`), 400, "invalid_request", "password"},
		{"empty name", jsonReq("POST", "/v1/signup", "", `{"email":"empty@example.com","password":"correct horse battery staple","name":"   "}`), 400, "invalid_request", "name"},
		{"too long name", jsonReq("POST", "/v1/signup", "", `{"email":"long@example.com","password":"correct horse battery staple","name":"`+longName+`"}`), 400, "invalid_request", "name"},
		{"control character in name", jsonReq("POST", "/v1/signup", "", `{"email":"ctl@example.com","password":"correct horse battery staple","name":"a\u0007b"}`), 400, "invalid_request", "name"},
		{"taken email", jsonReq("POST", "/v1/signup", "", `{"email":"`+fx.a.Email+`","password":"correct horse battery staple","name":"Again"}`), 409, "email_taken", ""},
		{"login without password", jsonReq("POST", "/v1/login", "", `{"email":"x@example.com"}`), 400, "invalid_request", "password"},
		{"login with a wrong password", jsonReq("POST", "/v1/login", "", `{"email":"`+fx.a.Email+`","password":"wrong password!"}`), 401, "invalid_credentials", ""},
		{"login with an unknown email", jsonReq("POST", "/v1/login", "", `{"email":"nobody@example.com","password":"wrong password!"}`), 401, "invalid_credentials", ""},
		{"login with a foreign tenant", jsonReq("POST", "/v1/login", "", `{"email":"`+fx.a.Email+`","password":"correct horse battery staple","tenant_id":"`+fx.rootID+`"}`), 401, "invalid_credentials", ""},

		{"tenant kind platform", jsonReq("POST", "/v1/tenants", ops, `{"name":"X","kind":"platform"}`), 400, "invalid_request", "kind"},
		{"tenant without kind", jsonReq("POST", "/v1/tenants", ops, `{"name":"X"}`), 400, "invalid_request", "kind"},
		{"tenant with a bad slug", jsonReq("POST", "/v1/tenants", ops, `{"name":"X","kind":"creator","slug":"a"}`), 400, "invalid_request", "slug"},
		{"tenant slug with double hyphen", jsonReq("POST", "/v1/tenants", ops, `{"name":"X","kind":"creator","slug":"ab--cd"}`), 400, "invalid_request", "slug"},
		{"tenant slug with a dot", jsonReq("POST", "/v1/tenants", ops, `{"name":"X","kind":"creator","slug":"a.b.c"}`), 400, "invalid_request", "slug"},
		{"tenant reserved slug", jsonReq("POST", "/v1/tenants", ops, `{"name":"X","kind":"creator","slug":"admin"}`), 409, "slug_taken", "slug"},
		{"tenant bad plan", jsonReq("POST", "/v1/tenants", ops, `{"name":"X","kind":"creator","plan":"Pro Plan"}`), 400, "invalid_request", "plan"},
		{"tenant name too long", jsonReq("POST", "/v1/tenants", ops, `{"name":"`+longName+`","kind":"creator"}`), 400, "invalid_request", "name"},
		{"tenant name with a newline", jsonReq("POST", "/v1/tenants", ops, `{"name":"a\nb","kind":"creator"}`), 400, "invalid_request", "name"},
		{"creator creates a sub-tenant", jsonReq("POST", "/v1/tenants", a, `{"name":"Child","kind":"creator"}`), 403, "forbidden", ""},
		{"creator key creates a sub-tenant", jsonReq("POST", "/v1/tenants", fx.ownerKey, `{"name":"Child","kind":"creator"}`), 403, "forbidden", ""},
		{"analyst creates an API key", jsonReq("POST", "/v1/api-keys", fx.analystKey, `{"name":"k","role":"owner"}`), 403, "forbidden", ""},
		{"empty tenant patch", jsonReq("PATCH", cTenant, ops, `{}`), 400, "invalid_request", ""},
		{"unknown status", jsonReq("PATCH", cTenant, ops, `{"status":"deleted"}`), 400, "invalid_request", "status"},
		{"empty name patch", jsonReq("PATCH", cTenant, ops, `{"name":""}`), 400, "invalid_request", "name"},
		{"patch the acting tenant itself", jsonReq("PATCH", "/v1/tenants/"+fx.rootID, ops, `{"name":"Mine"}`), 404, "not_found", ""},

		{"api key without role", jsonReq("POST", "/v1/api-keys", a, `{"name":"k"}`), 400, "invalid_request", "role"},
		{"api key unknown role", jsonReq("POST", "/v1/api-keys", a, `{"name":"k","role":"god"}`), 400, "invalid_request", "role"},
		{"api key internal role", jsonReq("POST", "/v1/api-keys", a, `{"name":"k","role":"viewer"}`), 400, "invalid_request", "role"},
		{"api key platform role in a creator", jsonReq("POST", "/v1/api-keys", a, `{"name":"k","role":"platform_ops"}`), 400, "invalid_request", "role"},
		{"idempotency key too long", cptest.Request{Method: "POST", Path: "/v1/api-keys", Token: a, Body: map[string]string{"name": "k", "role": "owner"}, Header: map[string]string{"Idempotency-Key": strings.Repeat("k", 256)}}, 400, "invalid_request", ""},

		{"colour name", jsonReq("PUT", "/v1/branding", a, `{"primary_color":"red"}`), 400, "invalid_request", "primary_color"},
		{"short colour", jsonReq("PUT", "/v1/branding", a, `{"accent_color":"#fff"}`), 400, "invalid_request", "accent_color"},
		{"colour with alpha", jsonReq("PUT", "/v1/branding", a, `{"background_color":"#11223344"}`), 400, "invalid_request", "background_color"},
		{"colour with a trailing newline", jsonReq("PUT", "/v1/branding", a, `{"primary_color":"#112233\n"}`), 400, "invalid_request", "primary_color"},
		{"empty display name", jsonReq("PUT", "/v1/branding", a, `{"display_name":""}`), 400, "invalid_request", "display_name"},
		{"display name with NUL", jsonReq("PUT", "/v1/branding", a, `{"display_name":"a\u0000b"}`), 400, "invalid_request", "display_name"},
		{"sender name with an address", jsonReq("PUT", "/v1/branding", a, `{"email_sender_name":"Evil <evil@example.com>"}`), 400, "invalid_request", "email_sender_name"},
		{"sender name with a header injection", jsonReq("PUT", "/v1/branding", a, `{"email_sender_name":"A\r\nBcc: x@example.com"}`), 400, "invalid_request", "email_sender_name"},
		{"single-label domain", jsonReq("POST", "/v1/branding/domains", a, `{"domain":"localhost"}`), 400, "invalid_request", "domain"},
		{"domain with a bad label", jsonReq("POST", "/v1/branding/domains", a, `{"domain":"-bad-.example.com"}`), 400, "invalid_request", "domain"},
		{"domain with an empty label", jsonReq("POST", "/v1/branding/domains", a, `{"domain":"a..example.com"}`), 400, "invalid_request", "domain"},
		{"domain that is a URL", jsonReq("POST", "/v1/branding/domains", a, `{"domain":"https://watch.example.com/"}`), 400, "invalid_request", "domain"},
		{"verify an unknown domain", cptest.Request{Method: "POST", Path: "/v1/branding/domains/nope.example.com/verify", Token: a}, 404, "not_found", ""},
		{"logo as text", cptest.Request{Method: "PUT", Path: "/v1/branding/logo", Token: a, Body: "hello", ContentType: "text/plain"}, 400, "unsupported_media_type", ""},
		{"empty logo", cptest.Request{Method: "PUT", Path: "/v1/branding/logo", Token: a, Body: []byte{}, ContentType: "image/png"}, 400, "invalid_request", ""},
		{"logo that is not a png", cptest.Request{Method: "PUT", Path: "/v1/branding/logo", Token: a, Body: "GIF89a not a png", ContentType: "image/png"}, 400, "invalid_image", ""},

		// Quotas.
		{"negative quota", jsonReq("PUT", cQuotas, ops, `{"assets":-1}`), 400, "invalid_request", "assets"},
		{"quota as a string", jsonReq("PUT", cQuotas, ops, `{"assets":"ten"}`), 400, "invalid_request", "assets"},
		{"fractional quota", jsonReq("PUT", cQuotas, ops, `{"assets":1.5}`), 400, "invalid_request", "assets"},
		{"quota beyond int64", jsonReq("PUT", cQuotas, ops, `{"assets":99999999999999999999}`), 400, "invalid_request", "assets"},
		{"quota beyond the maximum", jsonReq("PUT", cQuotas, ops, `{"assets":4611686018427387905}`), 400, "invalid_request", "assets"},
		{"unknown quota resource", jsonReq("PUT", cQuotas, ops, `{"widgets":1}`), 400, "invalid_request", "widgets"},
		{"empty quota patch", jsonReq("PUT", cQuotas, ops, `{}`), 400, "invalid_request", ""},
		{"quota as an array", jsonReq("PUT", cQuotas, ops, `[1]`), 400, "invalid_request", "body"},
		{"quota above the parent", jsonReq("PUT", cQuotas, ops, `{"assets":11}`), 400, "quota_above_parent", ""},
		{"unlimited quota under a limited parent", jsonReq("PUT", cQuotas, ops, `{"assets":null}`), 400, "quota_above_parent", ""},
		{"quota above the parent, acting as the parent", cptest.Request{Method: "PUT", Path: cQuotas, Token: ops, Tenant: fx.resellerID, Body: map[string]any{"assets": 11}}, 400, "quota_above_parent", ""},
		{"own quotas", jsonReq("PUT", "/v1/tenants/"+fx.a.TenantID+"/quotas", a, `{"assets":1000000}`), 404, "not_found", ""},

		// Lists.
		{"limit not a number", cptest.Request{Method: "GET", Path: "/v1/api-keys?limit=abc", Token: a}, 400, "invalid_request", "limit"},
		{"limit zero", cptest.Request{Method: "GET", Path: "/v1/api-keys?limit=0", Token: a}, 400, "invalid_request", "limit"},
		{"limit too high", cptest.Request{Method: "GET", Path: "/v1/api-keys?limit=999", Token: a}, 400, "invalid_request", "limit"},
		{"limit negative", cptest.Request{Method: "GET", Path: "/v1/tenants?limit=-1", Token: ops}, 400, "invalid_request", "limit"},
		{"limit huge", cptest.Request{Method: "GET", Path: "/v1/tenants?limit=99999999999999999999", Token: ops}, 400, "invalid_request", "limit"},
		{"limit abc on tenants", cptest.Request{Method: "GET", Path: "/v1/tenants?limit=abc", Token: ops}, 400, "invalid_request", "limit"},
		{"cursor not base64", cptest.Request{Method: "GET", Path: "/v1/api-keys?cursor=" + url.QueryEscape("!!!"), Token: a}, 400, "invalid_cursor", ""},
		{"cursor not utf-8", cptest.Request{Method: "GET", Path: "/v1/tenants?cursor=" + b64([]byte{0xff, 0xfe}), Token: ops}, 400, "invalid_cursor", ""},
		{"cursor too long", cptest.Request{Method: "GET", Path: "/v1/tenants?cursor=" + b64(bytes.Repeat([]byte("x"), 65)), Token: ops}, 400, "invalid_cursor", ""},
		{"cursor padded", cptest.Request{Method: "GET", Path: "/v1/tenants?cursor=" + url.QueryEscape(base64.URLEncoding.EncodeToString([]byte("ten_x"))), Token: ops}, 400, "invalid_cursor", ""},

		// Paths and tenants that do not exist.
		{"tenant id nope", cptest.Request{Method: "GET", Path: "/v1/tenants/nope", Token: ops}, 404, "not_found", ""},
		{"tenant id of another kind", cptest.Request{Method: "GET", Path: "/v1/tenants/" + fx.ownerKeyID, Token: ops}, 404, "not_found", ""},
		{"tenant id well formed but unknown", cptest.Request{Method: "GET", Path: "/v1/tenants/ten_01hzzzzzzzzzzzzzzzzzzzzzzz", Token: ops}, 404, "not_found", ""},
		{"tenant id with sql", cptest.Request{Method: "GET", Path: "/v1/tenants/" + url.PathEscape("' OR 1=1 --"), Token: ops}, 404, "not_found", ""},
		{"patch tenant nope", jsonReq("PATCH", "/v1/tenants/nope", ops, `{"name":"X"}`), 404, "not_found", ""},
		{"delete tenant nope", cptest.Request{Method: "DELETE", Path: "/v1/tenants/nope", Token: ops}, 404, "not_found", ""},
		{"quotas of tenant nope", cptest.Request{Method: "GET", Path: "/v1/tenants/nope/quotas", Token: ops}, 404, "not_found", ""},
		{"revoke api key nope", cptest.Request{Method: "DELETE", Path: "/v1/api-keys/nope", Token: a}, 404, "not_found", ""},
		{"revoke api key dot-dot", cptest.Request{Method: "DELETE", Path: "/v1/api-keys/../x", Token: a}, 404, "not_found", ""},
		{"revoke api key encoded dot-dot", cptest.Request{Method: "DELETE", Path: "/v1/api-keys/..%2Fx", Token: a}, 404, "not_found", ""},
		{"unknown route", cptest.Request{Method: "GET", Path: "/v1/nope", Token: a}, 404, "not_found", ""},
		{"Marquee-Tenant nope", cptest.Request{Method: "GET", Path: "/v1/tenant", Token: a, Tenant: "nope"}, 404, "not_found", ""},
		{"Marquee-Tenant unknown id", cptest.Request{Method: "GET", Path: "/v1/tenant", Token: a, Tenant: "ten_01hzzzzzzzzzzzzzzzzzzzzzzz"}, 404, "not_found", ""},
		{"public branding without host", cptest.Request{Method: "GET", Path: "/v1/public/branding"}, 400, "invalid_request", "host"},
		{"public branding unknown host", cptest.Request{Method: "GET", Path: "/v1/public/branding?host=nope.example.com"}, 404, "not_found", ""},
		{"public branding bad host", cptest.Request{Method: "GET", Path: "/v1/public/branding?host=" + url.QueryEscape("<script>")}, 404, "not_found", ""},
		{"public branding bad slug", cptest.Request{Method: "GET", Path: "/v1/public/tenants/NOPE!/branding"}, 404, "not_found", ""},
		{"public logo that does not exist", cptest.Request{Method: "GET", Path: "/v1/public/tenants/" + fx.a.Slug + "/logo"}, 404, "not_found", ""},

		// Playback.
		{"signing key HS256", jsonReq("POST", "/v1/signing-keys", a, `{"alg":"HS256"}`), 400, "invalid_request", "alg"},
		{"signing key alg number", jsonReq("POST", "/v1/signing-keys", a, `{"alg":256}`), 400, "invalid_request", "alg"},
		{"CDN unknown provider", jsonReq("POST", "/v1/cdns", a, `{"name":"x","provider":"acme","base_url":"https://x.example.com","secret":"0123456789abcdef"}`), 400, "invalid_request", "provider"},
		{"CDN relative base URL", jsonReq("POST", "/v1/cdns", a, `{"name":"x","provider":"nginx","base_url":"/edge","secret":"0123456789abcdef"}`), 400, "invalid_request", "base_url"},
		{"CDN short secret", jsonReq("POST", "/v1/cdns", a, `{"name":"x","provider":"nginx","base_url":"https://x.example.com","secret":"short"}`), 400, "invalid_request", "secret"},
		{"CDN negative weight", jsonReq("POST", "/v1/cdns", a, `{"name":"x","provider":"nginx","base_url":"https://x.example.com","secret":"0123456789abcdef","weight":-1}`), 400, "invalid_request", "weight"},
		{"CDN bad CloudFront key", jsonReq("POST", "/v1/cdns", a, `{"name":"x","provider":"cloudfront","base_url":"https://x.example.com","key_id":"K1","secret":"not a pem"}`), 400, "invalid_request", ""},
		{"DRM backup without primary", jsonReq("PUT", "/v1/drm", a, `{"widevine":{"backup":"https://b.example.com"}}`), 400, "invalid_request", "widevine.primary"},
		{"DRM non-URL", jsonReq("PUT", "/v1/drm", a, `{"playready":{"primary":"ftp://x"}}`), 400, "invalid_request", "playready.primary"},
		{"viewer bad id", jsonReq("POST", "/v1/viewers", a, `{"id":"a b"}`), 400, "invalid_request", "id"},
		{"viewer unknown field", jsonReq("POST", "/v1/viewers", a, `{"id":"v1","tier":"gold"}`), 400, "unknown_field", "tier"},
		{"viewer that does not exist", cptest.Request{Method: "GET", Path: "/v1/viewers/nobody", Token: a}, 404, "not_found", ""},
		{"manifest of an unknown playback id", cptest.Request{Method: "GET", Path: "/play/pb_01hzzzzzzzzzzzzzzzzzzzzzzz.m3u8"}, 404, "not_found", ""},
		{"manifest of garbage", cptest.Request{Method: "GET", Path: "/play/%00%ff.mpd"}, 404, "not_found", ""},
		{"manifest of another extension", cptest.Request{Method: "GET", Path: "/play/pb_01hzzzzzzzzzzzzzzzzzzzzzzz.mp4"}, 404, "not_found", ""},
		{"origin with a bad expiry", cptest.Request{Method: "GET", Path: "/t/AAAAAAAAAAAAAAAAAAAAAA/soon/a/ast_01hzzzzzzzzzzzzzzzzzzzzzzz/cenc/x.m4s"}, 404, "not_found", ""},
		{"license of an unknown playback id", jsonReq("POST", "/license/clearkey/pb_01hzzzzzzzzzzzzzzzzzzzzzzz", "", `{"kids":[]}`), 404, "not_found", ""},

		// Authentication.
		{"no Authorization", authReq(""), 401, "unauthenticated", ""},
		{"Basic scheme", authReq("Basic x"), 401, "unauthenticated", ""},
		{"Basic scheme with a key", authReq("Basic " + fx.ownerKey), 401, "unauthenticated", ""},
		{"Bearer without credential", authReq("Bearer "), 401, "unauthenticated", ""},
		{"Bearer only", authReq("Bearer"), 401, "unauthenticated", ""},
		{"credential without scheme", authReq(fx.ownerKey), 401, "unauthenticated", ""},
		{"garbage token", authReq("Bearer garbage"), 401, "invalid_token", ""},
		{"three empty segments", authReq("Bearer .."), 401, "invalid_token", ""},
		{"expired token", authReq("Bearer " + forgeJWT(hdr("HS256"), with(claims, map[string]any{"iat": now - 7200, "nbf": now - 7200, "exp": now - 3600}), sessionSecret)), 401, "token_expired", ""},
		{"token without exp", authReq("Bearer " + forgeJWT(hdr("HS256"), with(claims, map[string]any{"exp": nil}), sessionSecret)), 401, "invalid_token", ""},
		{"token not yet valid", authReq("Bearer " + forgeJWT(hdr("HS256"), with(claims, map[string]any{"nbf": now + 3600, "exp": now + 7200}), sessionSecret)), 401, "invalid_token", ""},
		{"token from another issuer", authReq("Bearer " + forgeJWT(hdr("HS256"), with(claims, map[string]any{"iss": "evil"}), sessionSecret)), 401, "invalid_token", ""},
		{"token without tenant", authReq("Bearer " + forgeJWT(hdr("HS256"), with(claims, map[string]any{"tid": nil}), sessionSecret)), 401, "invalid_token", ""},
		{"token without subject", authReq("Bearer " + forgeJWT(hdr("HS256"), with(claims, map[string]any{"sub": nil}), sessionSecret)), 401, "invalid_token", ""},
		{"token without role", authReq("Bearer " + forgeJWT(hdr("HS256"), with(claims, map[string]any{"role": nil}), sessionSecret)), 401, "invalid_token", ""},
		{"alg none", authReq("Bearer " + forgeJWT(hdr("none"), claims, nil)), 401, "invalid_token", ""},
		{"alg None", authReq("Bearer " + forgeJWT(hdr("None"), claims, nil)), 401, "invalid_token", ""},
		{"another secret", authReq("Bearer " + forgeJWT(hdr("HS256"), claims, bytes.Repeat([]byte{8}, 32))), 401, "invalid_token", ""},
		{"HS384", authReq("Bearer " + forgeJWT(hdr("HS384"), claims, sessionSecret)), 401, "invalid_token", ""},
		{"RS256 label", authReq("Bearer " + forgeJWT(hdr("RS256"), claims, sessionSecret)), 401, "invalid_token", ""},
		{"tampered claims", authReq("Bearer " + tamper(fx.a.Token, with(claims, map[string]any{"role": "platform_ops", "tid": fx.rootID}))), 401, "invalid_token", ""},
		{"revoked api key", authReq("Bearer " + fx.revokedKey), 401, "invalid_api_key", ""},
		{"malformed api key", authReq("Bearer mq_short"), 401, "invalid_api_key", ""},
		{"api key with a wrong secret", authReq("Bearer " + fx.wrongSecretKey), 401, "invalid_api_key", ""},
		{"api key with an unknown prefix", authReq("Bearer " + fx.unknownKey), 401, "invalid_api_key", ""},
		{"api key with a missing separator", authReq("Bearer " + strings.Replace(fx.ownerKey, "_", "x", 2)), 401, "invalid_token", ""},
		{"api key with sql", authReq("Bearer mq_' OR '1'='1_" + strings.Repeat("a", 32)), 401, "invalid_api_key", ""},
	}
}

// tamper replaces a real token's claims and keeps its signature.
func tamper(tok string, claims map[string]any) string {
	parts := strings.Split(tok, ".")
	b, _ := json.Marshal(claims)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
}

// TestBadInput sends malformed, invalid, unauthorized and unauthenticated
// requests: each is a 4xx problem document with its stable code, never a
// server error.
func TestBadInput(t *testing.T) {
	cptest.Each(t, cptest.Options{}, func(t *testing.T, s *cptest.Server) {
		fx := newBadInputFixture(t, s)
		for _, tc := range badInputCases(fx) {
			t.Run(tc.name, func(t *testing.T) {
				wantProblem(t, s.Do(t, tc.req), tc.status, tc.code, tc.field)
			})
		}
		// None of the refused requests changed anything.
		kids := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/tenants", Token: fx.ops}).JSON(t)["data"].([]any)
		if len(kids) != 2 {
			t.Errorf("the root has %d children, want 2 (R and A)", len(kids))
		}
		q := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/tenants/" + fx.creatorID + "/quotas", Token: fx.ops}).JSON(t)
		if got := q["limits"].(map[string]any)["assets"]; got != float64(10) {
			t.Errorf("C's assets limit is %v, want 10", got)
		}
	})
}

// TestBodyTooLarge sends a request whose declared body is over 1 MiB. Only
// the head is sent: the server refuses on Content-Length alone, and a body
// it never reads would make the kernel reset the connection under the reply.
func TestBodyTooLarge(t *testing.T) {
	cptest.Each(t, cptest.Options{}, func(t *testing.T, s *cptest.Server) {
		for _, route := range []string{"POST /v1/signup", "PUT /v1/branding/logo"} {
			t.Run(route, func(t *testing.T) {
				res := rawRequest(t, s, route+" HTTP/1.1\r\nHost: marquee.test\r\nContent-Type: application/json\r\nContent-Length: "+fmt.Sprint(1<<20+1)+"\r\n\r\n")
				wantProblem(t, res, 413, "payload_too_large", "")
			})
		}
		t.Run("exactly 1 MiB", func(t *testing.T) {
			// At the limit, the body is read and judged as JSON.
			body := `{"email":"` + strings.Repeat("a", 1<<20-12) + `"}`
			res := s.Do(t, jsonReq("POST", "/v1/signup", "", body))
			if len(body) != 1<<20 {
				t.Fatalf("body is %d bytes", len(body))
			}
			wantProblem(t, res, 400, "invalid_request", "email")
		})
	})
}

// rawRequest writes head to the server on a fresh connection and reads one
// response.
func rawRequest(t *testing.T, s *cptest.Server, head string) cptest.Response {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(res.Body); err != nil {
		t.Fatal(err)
	}
	return cptest.Response{Status: res.StatusCode, Header: res.Header, Body: buf.Bytes()}
}

// TestRequestID checks that a client's X-Request-Id is kept when it is
// sensible and replaced when it is not, on successes and errors alike.
func TestRequestID(t *testing.T) {
	s := cptest.Start(t, cptest.Options{})
	cases := []struct {
		name, sent string
		keep       bool
	}{
		{"none", "", false},
		{"sensible", "client-req_1.2", true},
		{"with spaces", "a b", false},
		{"too long", strings.Repeat("r", 65), false},
		{"with a quote", `x"y`, false},
	}
	for _, tc := range cases {
		for _, path := range []string{"/healthz", "/v1/tenant"} {
			t.Run(tc.name+path, func(t *testing.T) {
				r := cptest.Request{Method: "GET", Path: path}
				if tc.sent != "" {
					r.Header = map[string]string{"X-Request-Id": tc.sent}
				}
				res := s.Do(t, r)
				got := res.Header.Get("X-Request-Id")
				if got == "" || (tc.keep && got != tc.sent) || (!tc.keep && got == tc.sent) {
					t.Errorf("sent X-Request-Id %q, got %q", tc.sent, got)
				}
				if res.Status >= 400 {
					if id := res.Str(t, "request_id"); id != got {
						t.Errorf("request_id %q, header %q", id, got)
					}
				}
			})
		}
	}
}
