package api_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marquee-video/marquee/controlplane/cptest"
)

// openAPIDoc fetches and decodes the served document.
func openAPIDoc(t *testing.T, s *cptest.Server) map[string]any {
	t.Helper()
	res := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/openapi.json"})
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	var doc map[string]any
	if err := json.Unmarshal(res.Body, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	return doc
}

var fiberParamRE = regexp.MustCompile(`:([A-Za-z_][A-Za-z0-9_]*)`)

// TestOpenAPIDocument checks the document against the router: every route
// fiber serves is documented with its method, nothing documented is missing
// from the router, path parameters are declared, and every $ref resolves.
func TestOpenAPIDocument(t *testing.T) {
	s := cptest.Start(t, cptest.Options{})
	doc := openAPIDoc(t, s)
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", doc["openapi"])
	}
	paths, _ := doc["paths"].(map[string]any)
	if len(paths) == 0 {
		t.Fatal("no paths")
	}

	registered := map[string]bool{}
	for _, r := range s.App.Server().App().GetRoutes(true) {
		if r.Method == "HEAD" {
			continue // fiber's Get adds HEAD to every GET
		}
		// A trailing "*" (the rest of the path) is documented as {file};
		// optional or other wildcards cannot be described.
		rest := strings.TrimSuffix(r.Path, "/*")
		if strings.ContainsAny(rest, "*?+") {
			t.Errorf("route %s %s has a wildcard or optional parameter the document cannot describe", r.Method, r.Path)
			continue
		}
		p := fiberParamRE.ReplaceAllString(rest, "{$1}")
		if rest != r.Path {
			p += "/{file}"
		}
		op := strings.ToLower(r.Method)
		registered[op+" "+p] = true
		item, _ := paths[p].(map[string]any)
		if _, ok := item[op]; !ok {
			t.Errorf("route %s %s is not documented as %s %s", r.Method, r.Path, op, p)
		}
	}
	if len(registered) < 20 {
		t.Fatalf("only %d routes registered; GetRoutes is not what this test thinks", len(registered))
	}

	opIDs := map[string]string{}
	for p, item := range paths {
		for method, raw := range item.(map[string]any) {
			if !registered[method+" "+p] {
				t.Errorf("documented %s %s is not served", method, p)
			}
			op := raw.(map[string]any)
			if id, _ := op["operationId"].(string); id == "" {
				t.Errorf("%s %s has no operationId", method, p)
			} else if other, dup := opIDs[id]; dup {
				t.Errorf("operationId %s is used by %s and %s %s", id, other, method, p)
			} else {
				opIDs[id] = method + " " + p
			}
			resps, _ := op["responses"].(map[string]any)
			if len(resps) == 0 {
				t.Errorf("%s %s documents no responses", method, p)
			}
			// Every {param} in the path is declared, required, in: path.
			declared := map[string]bool{}
			for _, prm := range asSlice(op["parameters"]) {
				pm := resolve(t, doc, prm)
				if pm["in"] == "path" {
					if pm["required"] != true {
						t.Errorf("%s %s: path parameter %v is not required", method, p, pm["name"])
					}
					declared[pm["name"].(string)] = true
				}
			}
			for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(p, -1) {
				if !declared[m[1]] {
					t.Errorf("%s %s: path parameter %s is not declared", method, p, m[1])
				}
				delete(declared, m[1])
			}
			for name := range declared {
				t.Errorf("%s %s declares path parameter %s that is not in the path", method, p, name)
			}
		}
	}

	refs := 0
	walkJSON(doc, func(v map[string]any) {
		ref, ok := v["$ref"].(string)
		if !ok {
			return
		}
		refs++
		if _, err := pointer(doc, ref); err != nil {
			t.Errorf("$ref %q: %v", ref, err)
		}
	})
	if refs < 20 {
		t.Errorf("only %d $refs found", refs)
	}
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func walkJSON(v any, fn func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(x)
		for _, c := range x {
			walkJSON(c, fn)
		}
	case []any:
		for _, c := range x {
			walkJSON(c, fn)
		}
	}
}

// pointer resolves a local JSON reference such as #/components/schemas/X.
func pointer(doc map[string]any, ref string) (any, error) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("not a local reference")
	}
	var cur any = doc
	for _, tok := range strings.Split(rest, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%q is not an object", tok)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("no %q", tok)
		}
	}
	return cur, nil
}

// resolve follows $ref until it reaches an object.
func resolve(t *testing.T, doc map[string]any, v any) map[string]any {
	t.Helper()
	for range 10 {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("schema %v is not an object", v)
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		var err error
		if v, err = pointer(doc, ref); err != nil {
			t.Fatalf("$ref %q: %v", ref, err)
		}
	}
	t.Fatal("$ref loop")
	return nil
}

// conform checks v against the subset of JSON Schema the document uses:
// $ref, type, const, enum, properties, required, additionalProperties,
// items, pattern, minimum and format date-time.
func conform(t *testing.T, doc map[string]any, schema any, v any, at string) []string {
	t.Helper()
	sc := resolve(t, doc, schema)
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, args...)) }
	if c, ok := sc["const"]; ok && v != c {
		fail("%v is not the constant %v", v, c)
	}
	if e, ok := sc["enum"]; ok && !slices.Contains(asSlice(e), v) {
		fail("%v is not one of %v", v, e)
	}
	if ty, ok := sc["type"]; ok {
		var types []string
		switch x := ty.(type) {
		case string:
			types = []string{x}
		case []any:
			for _, s := range x {
				types = append(types, s.(string))
			}
		}
		if !slices.ContainsFunc(types, func(ty string) bool { return jsonIs(ty, v) }) {
			fail("%s is not of type %v", compact(v), types)
			return errs
		}
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := sc["properties"].(map[string]any)
		for _, r := range asSlice(sc["required"]) {
			if _, ok := x[r.(string)]; !ok {
				fail("required property %q is missing", r)
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ps, ok := props[k]; ok {
				errs = append(errs, conform(t, doc, ps, x[k], at+"."+k)...)
				continue
			}
			switch ap := sc["additionalProperties"].(type) {
			case bool:
				if !ap {
					fail("property %q is not in the schema", k)
				}
			case map[string]any:
				errs = append(errs, conform(t, doc, ap, x[k], at+"."+k)...)
			}
		}
	case []any:
		if items, ok := sc["items"]; ok {
			for i, e := range x {
				errs = append(errs, conform(t, doc, items, e, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	case string:
		if p, ok := sc["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(x) {
			fail("%q does not match %s", x, p)
		}
		if sc["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339, x); err != nil {
				fail("%q is not a date-time", x)
			}
		}
	case float64:
		if m, ok := sc["minimum"].(float64); ok && x < m {
			fail("%v is below the minimum %v", x, m)
		}
	}
	return errs
}

func jsonIs(ty string, v any) bool {
	switch ty {
	case "null":
		return v == nil
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == math.Trunc(f)
	}
	return false
}

func compact(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// TestOpenAPIResponses sends real requests and checks each response against
// what the document promises for its route: the documented success status
// and schema (no undocumented properties: the schemas forbid them), or the
// Problem schema for errors.
func TestOpenAPIResponses(t *testing.T) {
	dns := &txtRecords{}
	s := cptest.Start(t, cptest.Options{Resolver: dns})
	doc := openAPIDoc(t, s)
	paths := doc["paths"].(map[string]any)
	checked := map[string]bool{}

	// check validates res as the response of the route method+route.
	check := func(route string, req cptest.Request) cptest.Response {
		t.Helper()
		res := s.Do(t, req)
		p := fiberParamRE.ReplaceAllString(route, "{$1}")
		item, _ := paths[p].(map[string]any)
		op, _ := item[strings.ToLower(req.Method)].(map[string]any)
		if op == nil {
			t.Errorf("%s %s is not documented", req.Method, route)
			return res
		}
		resps := op["responses"].(map[string]any)
		var success string
		for code := range resps {
			if code != "default" {
				success = code
			}
		}
		name := req.Method + " " + route
		var spec map[string]any
		if res.Status < 400 {
			if strconv.Itoa(res.Status) != success {
				t.Errorf("%s: status %d, documented %s: %s", name, res.Status, success, res.Body)
				return res
			}
			checked[req.Method+" "+p] = true
			spec = resolve(t, doc, resps[success])
		} else {
			spec = resolve(t, doc, resps["default"])
		}
		content, _ := spec["content"].(map[string]any)
		ct := res.Header.Get("Content-Type")
		if len(content) == 0 {
			if len(res.Body) != 0 {
				t.Errorf("%s: documented without a body, got %q: %s", name, ct, res.Body)
			}
			return res
		}
		mt, _, _ := strings.Cut(ct, ";")
		media, ok := content[mt].(map[string]any)
		if !ok {
			for k, v := range content {
				if strings.HasSuffix(k, "/*") && strings.HasPrefix(mt, strings.TrimSuffix(k, "*")) {
					media, ok = v.(map[string]any), true
				}
			}
		}
		if !ok {
			t.Errorf("%s: Content-Type %q is not among the documented %v", name, ct, slices.Sorted(maps.Keys(content)))
			return res
		}
		if !strings.HasSuffix(mt, "json") {
			return res
		}
		var v any
		if err := json.Unmarshal(res.Body, &v); err != nil {
			t.Errorf("%s: body is not JSON: %v", name, err)
			return res
		}
		for _, e := range conform(t, doc, media["schema"], v, "body") {
			t.Errorf("%s: %s", name, e)
		}
		return res
	}

	signup := check("/v1/signup", cptest.Request{Method: "POST", Path: "/v1/signup", Body: map[string]string{"email": "schema@example.com", "password": "correct horse battery staple", "name": "Schema"}})
	a := signup.JSON(t)
	tok := a["token"].(string)
	slug := a["tenant"].(map[string]any)["slug"].(string)
	check("/v1/login", cptest.Request{Method: "POST", Path: "/v1/login", Body: map[string]string{"email": "schema@example.com", "password": "correct horse battery staple"}})
	check("/healthz", cptest.Request{Method: "GET", Path: "/healthz"})
	check("/readyz", cptest.Request{Method: "GET", Path: "/readyz"})
	check("/v1/openapi.json", cptest.Request{Method: "GET", Path: "/v1/openapi.json"})
	check("/v1/tenant", cptest.Request{Method: "GET", Path: "/v1/tenant", Token: tok})

	key := check("/v1/api-keys", cptest.Request{Method: "POST", Path: "/v1/api-keys", Token: tok, Body: map[string]string{"name": "ci", "role": "editor"}})
	check("/v1/tenant", cptest.Request{Method: "GET", Path: "/v1/tenant", Token: key.Str(t, "key")}) // sets last_used_at
	spare := s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/api-keys", Token: tok, Body: map[string]string{"name": "spare", "role": "analyst"}}).Str(t, "id")
	check("/v1/api-keys", cptest.Request{Method: "GET", Path: "/v1/api-keys?limit=1", Token: tok})
	check("/v1/api-keys", cptest.Request{Method: "GET", Path: "/v1/api-keys", Token: tok})
	check("/v1/api-keys/:id", cptest.Request{Method: "DELETE", Path: "/v1/api-keys/" + spare, Token: tok})

	check("/v1/quotas", cptest.Request{Method: "GET", Path: "/v1/quotas", Token: tok})
	check("/v1/branding", cptest.Request{Method: "PUT", Path: "/v1/branding", Token: tok, Body: map[string]string{"primary_color": "#ABCDEF", "display_name": "Schema TV"}})
	check("/v1/branding/logo", cptest.Request{Method: "PUT", Path: "/v1/branding/logo", Token: tok, Body: tinyPNG(t), ContentType: "image/png"})
	dom := check("/v1/branding/domains", cptest.Request{Method: "POST", Path: "/v1/branding/domains", Token: tok, Body: map[string]string{"domain": "tv.schema.example"}})
	ver := dom.JSON(t)["verification"].(map[string]any)
	dns.set(ver["name"].(string), ver["value"].(string))
	check("/v1/branding/domains/:domain/verify", cptest.Request{Method: "POST", Path: "/v1/branding/domains/tv.schema.example/verify", Token: tok})
	s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/branding/domains", Token: tok, Body: map[string]string{"domain": "unverified.schema.example"}})
	check("/v1/branding", cptest.Request{Method: "GET", Path: "/v1/branding", Token: tok})
	check("/v1/public/tenants/:slug/branding", cptest.Request{Method: "GET", Path: "/v1/public/tenants/" + slug + "/branding"})
	check("/v1/public/tenants/:slug/logo", cptest.Request{Method: "GET", Path: "/v1/public/tenants/" + slug + "/logo"})
	check("/v1/public/branding", cptest.Request{Method: "GET", Path: "/v1/public/branding?host=tv.schema.example"})
	check("/v1/branding/domains/:domain", cptest.Request{Method: "DELETE", Path: "/v1/branding/domains/unverified.schema.example", Token: tok})
	check("/v1/branding/logo", cptest.Request{Method: "DELETE", Path: "/v1/branding/logo", Token: tok})

	// The tenant tree, as the platform.
	ops, _ := s.PlatformOwner(t, "owner")
	r := check("/v1/tenants", cptest.Request{Method: "POST", Path: "/v1/tenants", Token: ops, Body: map[string]string{"name": "Schema Reseller", "kind": "reseller", "plan": "pro"}}).Str(t, "id")
	c := s.CreateTenant(t, ops, r, "Schema Creator", "creator")
	check("/v1/tenants", cptest.Request{Method: "GET", Path: "/v1/tenants?limit=1", Token: ops})
	check("/v1/tenants/:id", cptest.Request{Method: "GET", Path: "/v1/tenants/" + c, Token: ops})
	check("/v1/tenants/:id", cptest.Request{Method: "PATCH", Path: "/v1/tenants/" + r, Token: ops, Body: map[string]string{"status": "suspended"}})
	check("/v1/tenants/:id", cptest.Request{Method: "GET", Path: "/v1/tenants/" + c, Token: ops}) // suspended_by
	check("/v1/tenants/:id", cptest.Request{Method: "PATCH", Path: "/v1/tenants/" + r, Token: ops, Body: map[string]string{"status": "active", "name": "Renamed"}})
	check("/v1/tenants/:id/quotas", cptest.Request{Method: "PUT", Path: "/v1/tenants/" + r + "/quotas", Token: ops, Body: map[string]any{"assets": 10, "egress_gb_per_month": nil}})
	check("/v1/tenants/:id/quotas", cptest.Request{Method: "GET", Path: "/v1/tenants/" + c + "/quotas", Token: ops})
	check("/v1/tenants/:id", cptest.Request{Method: "DELETE", Path: "/v1/tenants/" + c, Token: ops})

	// Errors are Problems.
	check("/v1/tenant", cptest.Request{Method: "GET", Path: "/v1/tenant"})
	check("/v1/signup", cptest.Request{Method: "POST", Path: "/v1/signup", Body: `{"email":1}`, ContentType: "application/json"})
	check("/v1/tenants/:id", cptest.Request{Method: "GET", Path: "/v1/tenants/nope", Token: ops})

	var missed []string
	for p, item := range paths {
		for method := range item.(map[string]any) {
			if k := strings.ToUpper(method) + " " + p; !checked[k] && p != "/metrics" {
				missed = append(missed, k)
			}
		}
	}
	sort.Strings(missed)
	if len(missed) > 0 {
		t.Logf("routes without a sampled success response here (add one): %v", missed)
	}
	if len(checked) < 20 {
		t.Errorf("only %d routes checked", len(checked))
	}
}

// TestConformCatchesViolations keeps the schema checker above honest: a
// checker that accepts everything would make TestOpenAPIResponses pass.
func TestConformCatchesViolations(t *testing.T) {
	s := cptest.Start(t, cptest.Options{})
	doc := openAPIDoc(t, s)
	tenant := map[string]any{"$ref": "#/components/schemas/Tenant"}
	good := map[string]any{"id": "ten_x", "parent_id": nil, "slug": "abc", "name": "A", "kind": "creator", "status": "active", "plan": "free", "created_at": "2025-01-02T03:04:05Z", "updated_at": "2025-01-02T03:04:05.123456Z"}
	if errs := conform(t, doc, tenant, good, "body"); len(errs) > 0 {
		t.Fatalf("a valid tenant is refused: %v", errs)
	}
	for name, bad := range map[string]map[string]any{
		"extra property":   with(good, map[string]any{"path": "/x/"}),
		"missing required": with(good, map[string]any{"slug": nil}),
		"wrong type":       with(good, map[string]any{"name": 5.0}),
		"not in enum":      with(good, map[string]any{"kind": "emperor"}),
		"bad date-time":    with(good, map[string]any{"created_at": "yesterday"}),
	} {
		if errs := conform(t, doc, tenant, bad, "body"); len(errs) == 0 {
			t.Errorf("%s: accepted", name)
		}
	}
	report := map[string]any{"$ref": "#/components/schemas/QuotaReport"}
	if errs := conform(t, doc, report, map[string]any{"tenant_id": "t", "limits": map[string]any{"assets": -1.0}, "usage": map[string]any{"widgets": 1.0}}, "body"); len(errs) != 2 {
		t.Errorf("quota report violations: %v, want 2", errs)
	}
}
