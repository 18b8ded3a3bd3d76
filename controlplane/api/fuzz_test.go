package api

// The fuzz targets live inside the package: FuzzDecode drives the
// unexported decodeJSON, and FuzzBearer builds a Server directly (cptest
// imports this package, so an internal test cannot use it).

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/marquee-video/marquee/internal/db/dbtest"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/objects"
	"github.com/marquee-video/marquee/policies"
	"github.com/marquee-video/marquee/tenants"
	"github.com/marquee-video/marquee/tenants/sqlstore"
)

type validatable interface{ Validate() error }

// decodeAs decodes a request's body as one handler does.
type decodeAs func(c *fiber.Ctx) (validatable, error)

func decodeInto[T any, P interface {
	*T
	validatable
}]() decodeAs {
	return func(c *fiber.Ctx) (validatable, error) {
		v := P(new(T))
		return v, decode(c, v)
	}
}

// requestBodies maps each request schema of the route table to the way its
// handler decodes it.
var requestBodies = map[string]decodeAs{
	"SignupRequest":       decodeInto[tenants.SignupInput](),
	"LoginRequest":        decodeInto[tenants.LoginInput](),
	"CreateAPIKeyRequest": decodeInto[tenants.CreateAPIKeyInput](),
	"CreateTenantRequest": decodeInto[tenants.CreateTenantInput](),
	"UpdateTenantRequest": decodeInto[tenants.UpdateTenantInput](),
	"BrandingRequest":     decodeInto[tenants.BrandingInput](),
	"AddDomainRequest":    decodeInto[tenants.AddDomainInput](),
	"Limits": func(c *fiber.Ctx) (validatable, error) {
		l, err := decodeLimits(c)
		return l, err
	},
}

// requireClientError fails unless err is a classified error the client
// caused: a 4xx kind with a code.
func requireClientError(t *testing.T, what string, err error) {
	t.Helper()
	e := errs.As(err)
	if e == nil {
		t.Fatalf("%s: unclassified error %T: %v", what, err, err)
	}
	if st := e.Kind.Status(); st < 400 || st >= 500 || e.Code == "" {
		t.Fatalf("%s: error of status %d code %q: %v", what, st, e.Code, err)
	}
}

// FuzzDecode feeds arbitrary bytes, as a JSON request body, to the decoding
// and the validation of every request body type, as the handlers do them. Each either succeeds or fails with
// a client error; a valid input stays valid (and unchanged) when validated
// again, since handlers may pass a normalized input on.
func FuzzDecode(f *testing.F) {
	for _, r := range (&Server{}).routes() {
		if r.Request != "" && r.Request != "binary" && requestBodies[r.Request] == nil {
			f.Fatalf("route %s %s takes %s, which FuzzDecode does not know; add it to requestBodies", r.Method, r.Path, r.Request)
		}
	}
	for _, seed := range []string{
		`{"email":"a@example.com","password":"correct horse battery staple","name":"A"}`,
		`{"email":"A@Example.com ","password":"x","tenant_id":"ten_01hzzzzzzzzzzzzzzzzzzzzzzz"}`,
		`{"name":"ci","role":"editor"}`,
		`{"name":"Shop","kind":"creator","slug":"my-shop","plan":"pro"}`,
		`{"name":" Renamed ","status":"suspended"}`,
		`{"assets":10,"storage_bytes":null,"sub_tenants":0}`,
		`{"display_name":"TV","primary_color":"#ABCDEF","email_sender_name":"TV"}`,
		`{"domain":"Watch.Example.com."}`,
		`{"email":1}`,
		`{"assets":-1,"widgets":"x"}`,
		`{"name":"a\u0007b","kind":"platform"}`,
		`{"a":1}{"b":2}`,
		`{"email":`,
		`[]`,
		`null`,
		"",
		"\xff\xfe",
		`{"domain":"` + strings.Repeat("a.", 130) + `com"}`,
	} {
		f.Add([]byte(seed))
	}
	app := fiber.New()
	f.Fuzz(func(t *testing.T, body []byte) {
		for name, decodeBody := range requestBodies {
			c := app.AcquireCtx(&fasthttp.RequestCtx{})
			c.Request().Header.SetContentType("application/json")
			c.Request().SetBody(body)
			v, err := decodeBody(c)
			app.ReleaseCtx(c)
			if err != nil {
				requireClientError(t, name+" decode", err)
				continue
			}
			if err := v.Validate(); err != nil {
				requireClientError(t, name+" validate", err)
				continue
			}
			before, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("%s: a valid input does not marshal: %v", name, err)
			}
			if err := v.Validate(); err != nil {
				t.Fatalf("%s: valid input %s is invalid when validated again: %v", name, before, err)
			}
			if after, _ := json.Marshal(v); !bytes.Equal(before, after) {
				t.Fatalf("%s: validating again changed %s into %s", name, before, after)
			}
		}
	})
}

// fuzzServer is a Server on a fresh SQLite database with one signed-up
// creator, its session token and an API key.
func fuzzServer(tb testing.TB) (s *Server, token, key string) {
	tb.Helper()
	ctx := context.Background()
	d := dbtest.SQLite(tb)
	objs, err := objects.NewLocal(filepath.Join(tb.TempDir(), "objects"))
	if err != nil {
		tb.Fatal(err)
	}
	quotas, err := policies.NewQuotaPolicy(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	access, err := policies.NewAccessPolicy(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	authz, err := policies.NewAuthorizer()
	if err != nil {
		tb.Fatal(err)
	}
	sessions, err := tenants.NewSessions(bytes.Repeat([]byte{7}, 32), 0)
	if err != nil {
		tb.Fatal(err)
	}
	svc, err := tenants.NewService(tenants.Config{Store: sqlstore.New(d), Quotas: quotas, Objects: objs, Sessions: sessions})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := svc.EnsureRoot(ctx); err != nil {
		tb.Fatal(err)
	}
	ten, _, token, err := svc.Signup(ctx, tenants.SignupInput{Email: "fuzz@example.com", Password: "correct horse battery staple", Name: "Fuzz"})
	if err != nil {
		tb.Fatal(err)
	}
	_, key, err = svc.CreateAPIKey(ctx, ten, tenants.CreateAPIKeyInput{Name: "fuzz", Role: "owner"})
	if err != nil {
		tb.Fatal(err)
	}
	s, err = New(Config{Tenants: svc, Authz: authz, Access: access})
	if err != nil {
		tb.Fatal(err)
	}
	return s, token, key
}

// sendable reports whether an HTTP client could send v as a header value.
func sendable(v string) bool {
	return !strings.ContainsFunc(v, func(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7f })
}

// authCodes are the codes an authentication failure may carry.
var authCodes = []string{"unauthenticated", "invalid_token", "token_expired", "invalid_api_key", "not_found", "headers_too_large", "invalid_request"}

// FuzzBearer sends arbitrary Authorization and Marquee-Tenant values
// through authentication: the answer is a success or a 4xx problem with an
// authentication code, never a server error.
func FuzzBearer(f *testing.F) {
	s, token, key := fuzzServer(f)
	for _, cred := range []string{token, key} {
		req := httptest.NewRequest("GET", "/v1/tenant", nil)
		req.Header.Set("Authorization", "Bearer "+cred)
		res, err := s.App().Test(req, -1)
		if err != nil || res.StatusCode != 200 {
			f.Fatalf("a valid credential is refused: %v %v", res, err)
		}
		res.Body.Close()
	}
	parts := strings.Split(token, ".")
	for _, seed := range [][2]string{
		{"", ""},
		{"Bearer " + token, ""},
		{"bearer " + key, ""},
		{"Bearer " + key, "ten_01hzzzzzzzzzzzzzzzzzzzzzzz"},
		{"Bearer " + token, "nope"},
		{"Basic x", ""},
		{"Bearer ", ""},
		{"Bearer  \t ", ""},
		{"Bearer garbage", ""},
		{"Bearer " + parts[0] + "." + parts[1] + ".", ""},
		{"Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + ".", ""},
		{"Bearer mq_short", ""},
		{"Bearer " + key[:len(key)-1] + "x", ""},
		{"Bearer mq_" + strings.Repeat("%", 12) + "_" + strings.Repeat("a", 32), ""},
		{"Bearer " + strings.Repeat(".", 3) + "\u00e9", "ten_\u00e9"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, auth, tenant string) {
		if !sendable(auth) || !sendable(tenant) {
			t.Skip("not a header value a client can send")
		}
		req := httptest.NewRequest("GET", "/v1/tenant", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if tenant != "" {
			req.Header.Set("Marquee-Tenant", tenant)
		}
		res, err := s.App().Test(req, -1)
		if err != nil {
			t.Fatalf("app.Test: %v", err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 500 {
			t.Fatalf("Authorization %q, Marquee-Tenant %q: %d %s", auth, tenant, res.StatusCode, body)
		}
		if res.StatusCode == 200 {
			return
		}
		var p Problem
		if res.Header.Get("Content-Type") != "application/problem+json" || json.Unmarshal(body, &p) != nil || !slices.Contains(authCodes, p.Code) {
			t.Fatalf("Authorization %q, Marquee-Tenant %q: %d %s %s", auth, tenant, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
	})
}
