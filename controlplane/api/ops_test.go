package api_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/marquee-video/marquee/controlplane/cptest"
)

func TestHealthz(t *testing.T) {
	s := cptest.Start(t, cptest.Options{})
	res := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/healthz"})
	if got := res.Str(t, "status"); got != "ok" {
		t.Errorf("status %q, want ok", got)
	}
}

func TestReadyz(t *testing.T) {
	s := cptest.Start(t, cptest.Options{})
	m := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/readyz"}).JSON(t)
	checks, _ := m["checks"].(map[string]any)
	if m["status"] != "ok" || checks["database"] != "ok" || checks["redis"] != "ok" {
		t.Errorf("readyz = %v, want ok with database and redis ok", m)
	}
}

func TestMetrics(t *testing.T) {
	s := cptest.Start(t, cptest.Options{})
	s.Must(t, 200, cptest.Request{Method: "GET", Path: "/healthz"})
	s.Must(t, 404, cptest.Request{Method: "GET", Path: "/v1/no-such-route-7f3a"})
	res := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/metrics"})
	body := string(res.Body)
	for _, want := range []string{
		`marquee_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`marquee_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`marquee_http_request_duration_seconds_bucket{method="GET",route="/healthz"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// Unmatched paths must not become label values: anyone could grow the
	// series without bound.
	if strings.Contains(body, "no-such-route-7f3a") {
		t.Error("/metrics has the raw path of an unmatched request as a label")
	}
}

// TestAPIKeyRateLimit checks the per-key budget: the request after the
// budget is a 429 with Retry-After; session tokens are not limited; each key
// has its own budget, and that budget is the key's across routes.
func TestAPIKeyRateLimit(t *testing.T) {
	const perMinute = 5
	s := cptest.Start(t, cptest.Options{APIKeyRequestsPerMinute: perMinute})
	a := s.Signup(t, "Limited")
	newKey := func() string {
		return s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/api-keys", Token: a.Token, Body: map[string]string{"name": "k", "role": "owner"}}).Str(t, "key")
	}
	wantLimited := func(t *testing.T, res cptest.Response) {
		t.Helper()
		wantProblem(t, res, 429, "rate_limited", "")
		ra, err := strconv.Atoi(res.Header.Get("Retry-After"))
		if err != nil || ra <= 0 || ra > 60 {
			t.Errorf("Retry-After %q, want whole seconds in 1..60", res.Header.Get("Retry-After"))
		}
	}

	key1, key2, key3 := newKey(), newKey(), newKey()
	t.Run("same route", func(t *testing.T) {
		for range perMinute {
			s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/tenant", Token: key1})
		}
		wantLimited(t, s.Do(t, cptest.Request{Method: "GET", Path: "/v1/tenant", Token: key1}))
	})
	t.Run("session tokens are not limited", func(t *testing.T) {
		for range 3 * perMinute {
			s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/tenant", Token: a.Token})
		}
	})
	t.Run("another key has its own budget", func(t *testing.T) {
		for range perMinute {
			s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/tenant", Token: key2})
		}
		wantLimited(t, s.Do(t, cptest.Request{Method: "GET", Path: "/v1/tenant", Token: key2}))
	})
	t.Run("the budget spans routes", func(t *testing.T) {
		paths := []string{"/v1/tenant", "/v1/quotas", "/v1/branding", "/v1/api-keys", "/v1/tenants"}
		for _, p := range paths[:perMinute] {
			s.Must(t, 200, cptest.Request{Method: "GET", Path: p, Token: key3})
		}
		wantLimited(t, s.Do(t, cptest.Request{Method: "GET", Path: "/v1/tenants/" + a.TenantID + "/quotas", Token: key3}))
	})
}

// TestIdempotencyKey checks that a POST retried with the same
// Idempotency-Key and body replays the first response instead of running
// twice.
func TestIdempotencyKey(t *testing.T) {
	cptest.Each(t, cptest.Options{}, func(t *testing.T, s *cptest.Server) {
		a := s.Signup(t, "Idem")
		b := s.Signup(t, "Other")
		post := func(token, idemKey string, body any) cptest.Response {
			return s.Do(t, cptest.Request{Method: "POST", Path: "/v1/api-keys", Token: token, Body: body, Header: map[string]string{"Idempotency-Key": idemKey}})
		}
		body := map[string]string{"name": "ci", "role": "editor"}

		first := post(a.Token, "idem-1", body)
		if first.Status != 201 || first.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("first: %d replayed=%q: %s", first.Status, first.Header.Get("Idempotent-Replayed"), first.Body)
		}
		second := post(a.Token, "idem-1", body)
		if second.Status != 201 || second.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry: %d replayed=%q: %s", second.Status, second.Header.Get("Idempotent-Replayed"), second.Body)
		}
		if id1, id2 := first.Str(t, "id"), second.Str(t, "id"); id1 == "" || id1 != id2 || first.Str(t, "key") != second.Str(t, "key") {
			t.Errorf("retry created another key: %s then %s", first.Body, second.Body)
		}
		if ct := second.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("replayed Content-Type %q", ct)
		}
		keys := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/api-keys", Token: a.Token}).JSON(t)["data"].([]any)
		if len(keys) != 1 {
			t.Errorf("%d API keys after a retried create, want 1", len(keys))
		}

		wantProblem(t, post(a.Token, "idem-1", map[string]string{"name": "ci", "role": "admin"}), 400, "idempotency_key_reused", "")

		// Keys are per tenant: another tenant's identical request runs.
		other := post(b.Token, "idem-1", body)
		if other.Status != 201 || other.Header.Get("Idempotent-Replayed") != "" || other.Str(t, "id") == first.Str(t, "id") {
			t.Errorf("another tenant's request with the same key: %d replayed=%q: %s", other.Status, other.Header.Get("Idempotent-Replayed"), other.Body)
		}

		// A failed request releases its key, so the fixed request can use it.
		wantProblem(t, post(a.Token, "idem-2", map[string]string{"name": "ci", "role": "god"}), 400, "invalid_request", "role")
		fixed := post(a.Token, "idem-2", map[string]string{"name": "ci2", "role": "editor"})
		if fixed.Status != 201 || fixed.Header.Get("Idempotent-Replayed") != "" {
			t.Errorf("retry after a failure: %d replayed=%q: %s", fixed.Status, fixed.Header.Get("Idempotent-Replayed"), fixed.Body)
		}

		// Without the header, nothing is remembered.
		n1 := s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/api-keys", Token: a.Token, Body: body}).Str(t, "id")
		n2 := s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/api-keys", Token: a.Token, Body: body}).Str(t, "id")
		if n1 == n2 {
			t.Error("two creates without Idempotency-Key returned one key")
		}
	})
}

// TestSuspension suspends a reseller: its subtree can read but not write,
// a tenant suspended by an ancestor cannot be resumed on its own, and
// resuming the reseller undoes exactly its cascade.
func TestSuspension(t *testing.T) {
	cptest.Each(t, cptest.Options{}, func(t *testing.T, s *cptest.Server) {
		ops, _ := s.PlatformOwner(t, "owner")
		r := s.CreateTenant(t, ops, "", "Reseller R", "reseller")
		c := s.CreateTenant(t, ops, r, "Creator C", "creator")
		c2 := s.CreateTenant(t, ops, r, "Creator C2", "creator")
		key := func(tenant string) string {
			return s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/api-keys", Token: ops, Tenant: tenant, Body: map[string]string{"name": "owner", "role": "owner"}}).Str(t, "key")
		}
		rKey, cKey := key(r), key(c)
		cSlug := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/tenant", Token: cKey}).Str(t, "slug")
		s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/public/tenants/" + cSlug + "/branding"})

		patch := func(id, status string) cptest.Response {
			return s.Do(t, cptest.Request{Method: "PATCH", Path: "/v1/tenants/" + id, Token: ops, Body: map[string]string{"status": status}})
		}
		tenant := func(id string) map[string]any {
			return s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/tenants/" + id, Token: ops}).JSON(t)
		}
		brandingWrite := map[string]string{"display_name": "New name"}

		// C2 is suspended on its own first.
		if res := patch(c2, "suspended"); res.Status != 200 {
			t.Fatalf("suspend C2: %d %s", res.Status, res.Body)
		}
		if res := patch(r, "suspended"); res.Status != 200 || res.Str(t, "status") != "suspended" {
			t.Fatalf("suspend R: %d %s", res.Status, res.Body)
		}
		for name, id := range map[string]string{"R": r, "C": c, "C2": c2} {
			if got := tenant(id)["status"]; got != "suspended" {
				t.Errorf("%s status %v, want suspended", name, got)
			}
		}
		if got := tenant(c)["suspended_by"]; got != r {
			t.Errorf("C suspended_by %v, want R %s", got, r)
		}
		if got := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/tenant", Token: cKey}).Str(t, "status"); got != "suspended" {
			t.Errorf("C reads itself as %q", got)
		}

		// Writes are refused, whoever acts as a suspended tenant; reads work.
		for _, req := range []cptest.Request{
			{Method: "PUT", Path: "/v1/branding", Token: cKey, Body: brandingWrite},
			{Method: "PUT", Path: "/v1/branding", Token: ops, Tenant: c, Body: brandingWrite},
			{Method: "POST", Path: "/v1/api-keys", Token: cKey, Body: map[string]string{"name": "k", "role": "owner"}},
			{Method: "POST", Path: "/v1/tenants", Token: rKey, Body: map[string]string{"name": "X", "kind": "creator"}},
			{Method: "PATCH", Path: "/v1/tenants/" + c, Token: rKey, Body: map[string]string{"status": "active"}},
		} {
			wantProblem(t, s.Do(t, req), 403, "tenant_suspended", "")
		}
		for _, p := range []string{"/v1/tenant", "/v1/branding", "/v1/quotas", "/v1/api-keys"} {
			s.Must(t, 200, cptest.Request{Method: "GET", Path: p, Token: cKey})
		}
		// The storefront is offline.
		wantProblem(t, s.Do(t, cptest.Request{Method: "GET", Path: "/v1/public/tenants/" + cSlug + "/branding"}), 404, "not_found", "")

		// C cannot be resumed under a suspended R.
		wantProblem(t, patch(c, "active"), 409, "suspended_by_ancestor", "")

		if res := patch(r, "active"); res.Status != 200 || res.Str(t, "status") != "active" {
			t.Fatalf("resume R: %d %s", res.Status, res.Body)
		}
		for name, want := range map[string]string{r: "active", c: "active", c2: "suspended"} {
			if got := tenant(name)["status"]; got != want {
				t.Errorf("after resuming R, %s is %v, want %s", name, got, want)
			}
		}
		if got, ok := tenant(c)["suspended_by"]; ok {
			t.Errorf("resumed C still has suspended_by %v", got)
		}
		s.Must(t, 200, cptest.Request{Method: "PUT", Path: "/v1/branding", Token: cKey, Body: brandingWrite})
		s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/public/tenants/" + cSlug + "/branding"})
	})
}

// TestDeleteTenant deletes a creator that was just in use: its API key and
// every way of acting as it stop working at once.
func TestDeleteTenant(t *testing.T) {
	cptest.Each(t, cptest.Options{}, func(t *testing.T, s *cptest.Server) {
		ops, _ := s.PlatformOwner(t, "owner")
		r := s.CreateTenant(t, ops, "", "Reseller R", "reseller")
		c := s.CreateTenant(t, ops, r, "Creator C", "creator")
		cKey := s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/api-keys", Token: ops, Tenant: c, Body: map[string]string{"name": "owner", "role": "owner"}}).Str(t, "key")
		s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/tenant", Token: cKey})
		s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/tenant", Token: ops, Tenant: c})

		wantProblem(t, s.Do(t, cptest.Request{Method: "DELETE", Path: "/v1/tenants/" + r, Token: ops}), 409, "tenant_has_children", "")
		s.Must(t, 204, cptest.Request{Method: "DELETE", Path: "/v1/tenants/" + c, Token: ops})

		wantProblem(t, s.Do(t, cptest.Request{Method: "GET", Path: "/v1/tenant", Token: cKey}), 401, "invalid_api_key", "")
		wantProblem(t, s.Do(t, cptest.Request{Method: "GET", Path: "/v1/tenant", Token: ops, Tenant: c}), 404, "not_found", "")
		wantProblem(t, s.Do(t, cptest.Request{Method: "GET", Path: "/v1/tenants/" + c, Token: ops}), 404, "not_found", "")
		wantProblem(t, s.Do(t, cptest.Request{Method: "DELETE", Path: "/v1/tenants/" + c, Token: ops}), 404, "not_found", "")
		s.Must(t, 204, cptest.Request{Method: "DELETE", Path: "/v1/tenants/" + r, Token: ops})
	})
}

// txtRecords is a fake DNS resolver for custom-domain verification.
type txtRecords struct {
	mu  sync.Mutex
	txt map[string][]string
}

func (r *txtRecords) set(name string, values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.txt == nil {
		r.txt = map[string][]string{}
	}
	r.txt[name] = values
}

func (r *txtRecords) LookupTXT(_ context.Context, name string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.txt[name]
	if !ok {
		return nil, errors.New("no such host")
	}
	return v, nil
}

func tinyPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	img.Set(0, 0, color.RGBA{R: 0x6d, G: 0x28, B: 0xd9, A: 0xff})
	img.Set(2, 1, color.RGBA{R: 0xf5, G: 0x9e, B: 0x0b, A: 0xff})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBrandingLogo(t *testing.T) {
	cptest.Each(t, cptest.Options{}, func(t *testing.T, s *cptest.Server) {
		a := s.Signup(t, "Logo Maker")
		pic := tinyPNG(t)
		upload := func(ct string, body []byte) cptest.Response {
			return s.Do(t, cptest.Request{Method: "PUT", Path: "/v1/branding/logo", Token: a.Token, Body: body, ContentType: ct})
		}

		res := upload("image/png", pic)
		if res.Status != 200 {
			t.Fatalf("upload: %d %s", res.Status, res.Body)
		}
		logoURL := res.Str(t, "logo_url")
		if !strings.HasPrefix(logoURL, "/v1/public/tenants/"+a.Slug+"/logo") {
			t.Fatalf("logo_url %q", logoURL)
		}
		got := s.Must(t, 200, cptest.Request{Method: "GET", Path: logoURL})
		if !bytes.Equal(got.Body, pic) || got.Header.Get("Content-Type") != "image/png" || got.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("logo: %d bytes, Content-Type %q, nosniff %q", len(got.Body), got.Header.Get("Content-Type"), got.Header.Get("X-Content-Type-Options"))
		}
		if b := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/branding", Token: a.Token}); b.Str(t, "logo_url") != logoURL {
			t.Errorf("GET /v1/branding logo_url %q, want %q", b.Str(t, "logo_url"), logoURL)
		}

		for _, tc := range []struct {
			name, ct string
			body     []byte
			code     string
		}{
			{"png declared as jpeg", "image/jpeg", pic, "invalid_image"},
			{"text declared as png", "image/png", []byte("definitely not an image"), "invalid_image"},
			{"svg declared as png", "image/png", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), "invalid_image"},
			{"svg with script", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "invalid_image"},
			{"svg with upper-case script", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><SCRIPT>alert(1)</SCRIPT></svg>`), "invalid_image"},
			{"not svg at all", "image/svg+xml", []byte(`<html><body>hi</body></html>`), "invalid_image"},
			{"gif", "image/gif", []byte("GIF89a"), "unsupported_media_type"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantProblem(t, upload(tc.ct, tc.body), 400, tc.code, "")
			})
		}
		// The refused uploads left the logo alone.
		if got := s.Must(t, 200, cptest.Request{Method: "GET", Path: logoURL}); !bytes.Equal(got.Body, pic) {
			t.Error("a refused upload replaced the logo")
		}

		// A script-free SVG is served with a sandboxing CSP.
		svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4" fill="#6d28d9"/></svg>`)
		res = upload("image/svg+xml; charset=utf-8", svg)
		if res.Status != 200 {
			t.Fatalf("svg upload: %d %s", res.Status, res.Body)
		}
		got = s.Must(t, 200, cptest.Request{Method: "GET", Path: res.Str(t, "logo_url")})
		if !bytes.Equal(got.Body, svg) || got.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(got.Header.Get("Content-Security-Policy"), "sandbox") {
			t.Errorf("svg logo: Content-Type %q, CSP %q", got.Header.Get("Content-Type"), got.Header.Get("Content-Security-Policy"))
		}

		// Removing the logo takes it offline.
		if res := s.Must(t, 200, cptest.Request{Method: "DELETE", Path: "/v1/branding/logo", Token: a.Token}); res.JSON(t)["logo_url"] != nil {
			t.Errorf("logo_url after removal: %s", res.Body)
		}
		wantProblem(t, s.Do(t, cptest.Request{Method: "GET", Path: "/v1/public/tenants/" + a.Slug + "/logo"}), 404, "not_found", "")
	})
}

func TestCustomDomain(t *testing.T) {
	dns := &txtRecords{}
	cptest.Each(t, cptest.Options{Resolver: dns}, func(t *testing.T, s *cptest.Server) {
		a := s.Signup(t, "Domain Owner")
		b := s.Signup(t, "Domain Squatter")

		res := s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/branding/domains", Token: a.Token, Body: map[string]string{"domain": " Watch.Example-A.COM. "}})
		d := res.JSON(t)
		ver, _ := d["verification"].(map[string]any)
		const domain = "watch.example-a.com"
		if d["domain"] != domain || d["verified"] != false || ver["type"] != "TXT" || ver["name"] != "_marquee-challenge."+domain {
			t.Fatalf("added domain: %s", res.Body)
		}
		value, _ := ver["value"].(string)
		if !strings.HasPrefix(value, "marquee-verification=") || len(value) < len("marquee-verification=")+16 {
			t.Fatalf("verification value %q", value)
		}
		verify := func(token string) cptest.Response {
			return s.Do(t, cptest.Request{Method: "POST", Path: "/v1/branding/domains/" + domain + "/verify", Token: token})
		}
		byHost := func(host string) cptest.Response {
			return s.Do(t, cptest.Request{Method: "GET", Path: "/v1/public/branding?host=" + host})
		}

		// Not verified: no record, then a wrong one.
		wantProblem(t, verify(a.Token), 409, "domain_unverified", "")
		dns.set("_marquee-challenge."+domain, "marquee-verification=wrong", "v=spf1 -all")
		wantProblem(t, verify(a.Token), 409, "domain_unverified", "")
		wantProblem(t, byHost(domain), 404, "not_found", "")

		// Another tenant cannot take it, verified or not, in any spelling.
		for _, spelling := range []string{domain, "WATCH.example-a.com", domain + "."} {
			wantProblem(t, s.Do(t, cptest.Request{Method: "POST", Path: "/v1/branding/domains", Token: b.Token, Body: map[string]string{"domain": spelling}}), 409, "domain_taken", "")
		}
		// Nor verify it as its own.
		wantProblem(t, verify(b.Token), 404, "not_found", "")

		dns.set("_marquee-challenge."+domain, "v=spf1 -all", value)
		res = verify(a.Token)
		if res.Status != 200 || res.JSON(t)["verified"] != true || res.JSON(t)["verified_at"] == nil {
			t.Fatalf("verify: %d %s", res.Status, res.Body)
		}
		for _, host := range []string{domain, "WATCH.EXAMPLE-A.COM", domain + ":443"} {
			res := byHost(host)
			if res.Status != 200 || res.Str(t, "slug") != a.Slug {
				t.Errorf("public branding for host %q: %d %s", host, res.Status, res.Body)
			}
		}
		br := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/branding", Token: a.Token}).JSON(t)
		doms, _ := br["custom_domains"].([]any)
		if len(doms) != 1 || doms[0].(map[string]any)["verified"] != true {
			t.Errorf("branding custom_domains: %v", br["custom_domains"])
		}
		wantProblem(t, s.Do(t, cptest.Request{Method: "POST", Path: "/v1/branding/domains", Token: b.Token, Body: map[string]string{"domain": domain}}), 409, "domain_taken", "")

		// Removing it frees it.
		s.Must(t, 204, cptest.Request{Method: "DELETE", Path: "/v1/branding/domains/" + domain, Token: a.Token})
		wantProblem(t, byHost(domain), 404, "not_found", "")
		s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/branding/domains", Token: b.Token, Body: map[string]string{"domain": domain}})
		dns.set("_marquee-challenge." + domain)
	})
}
