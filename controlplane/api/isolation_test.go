package api_test

import (
	"bytes"
	"image"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/marquee-video/marquee/controlplane/api"
	"github.com/marquee-video/marquee/controlplane/cptest"
)

// tree is the tenant tree of the isolation suite:
//
//	root ─┬─ r1 (reseller) ─┬─ c1 (creator)   ← "A", the attacker
//	      │                 └─ c2 (creator)   sibling
//	      └─ r2 (reseller) ─── c3 (creator)   cousin
//
// Every tenant gets an owner API key, a custom domain and its default
// branding, so every route has a foreign object to be aimed at.
type tree struct {
	rootID, opsToken                       string
	ids, keys, keyIDs, doms, assets, hooks map[string]string
	uploads                                map[string]string
	// objs holds the objects of later capabilities: kind → tenant name →
	// id, filled by each capability's fixture function (its own file).
	objs map[string]map[string]string
}

// fixtureFuncs give every tenant of the tree the objects of one capability
// and name them in tr.objs under their parameter kinds.
func fixtureFuncs() []func(*testing.T, *cptest.Server, *tree) {
	return []func(*testing.T, *cptest.Server, *tree){playbackFixtures, catalogFixtures, billingFixtures}
}

// put records owner's object of kind.
func (tr *tree) put(kind, owner, id string) {
	if tr.objs[kind] == nil {
		tr.objs[kind] = map[string]string{}
	}
	tr.objs[kind][owner] = id
}

func buildTree(t *testing.T, s *cptest.Server) tree {
	t.Helper()
	tr := tree{ids: map[string]string{}, keys: map[string]string{}, keyIDs: map[string]string{}, doms: map[string]string{}, assets: map[string]string{}, hooks: map[string]string{}, uploads: map[string]string{}, objs: map[string]map[string]string{}}
	tr.opsToken, tr.rootID = s.PlatformOwner(t, "owner")
	tr.ids["root"] = tr.rootID
	tr.ids["r1"] = s.CreateTenant(t, tr.opsToken, "", "Reseller One", "reseller")
	tr.ids["r2"] = s.CreateTenant(t, tr.opsToken, "", "Reseller Two", "reseller")
	tr.ids["c1"] = s.CreateTenant(t, tr.opsToken, tr.ids["r1"], "Creator One", "creator")
	tr.ids["c2"] = s.CreateTenant(t, tr.opsToken, tr.ids["r1"], "Creator Two", "creator")
	tr.ids["c3"] = s.CreateTenant(t, tr.opsToken, tr.ids["r2"], "Creator Three", "creator")
	for name, id := range tr.ids {
		res := s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/api-keys", Token: tr.opsToken, Tenant: id, Body: map[string]string{"name": "owner key", "role": "owner"}})
		tr.keys[name], tr.keyIDs[name] = res.Str(t, "key"), res.Str(t, "id")
		tr.doms[name] = name + "-" + strings.ReplaceAll(strings.TrimPrefix(id, "ten_"), "_", "") + ".example.com"
		s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/branding/domains", Token: tr.opsToken, Tenant: id, Body: map[string]string{"domain": tr.doms[name]}})
		tr.hooks[name] = s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/webhook-endpoints", Token: tr.opsToken, Tenant: id, Body: map[string]any{"url": "https://hooks.example.com/" + name, "events": []string{"asset.ready"}}}).Str(t, "id")
		tr.assets[name] = s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/assets", Token: tr.opsToken, Tenant: id, Body: map[string]string{"input": "https://media.example.com/" + name + ".mp4"}}).Str(t, "id")
		tr.uploads[name] = s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/uploads", Token: tr.opsToken, Tenant: id, Body: map[string]int{"size": 1024}}).Str(t, "id")
	}
	for _, fn := range fixtureFuncs() {
		fn(t, s, &tr)
	}
	return tr
}

// sampleBody is a valid body for each request schema, so that a refused
// request is refused for whom it targets, not for its shape.
func sampleBody(schema string) any {
	switch schema {
	case "CreateAPIKeyRequest":
		return map[string]string{"name": "intruder", "role": "owner"}
	case "CreateTenantRequest":
		return map[string]string{"name": "Intruder", "kind": "creator"}
	case "UpdateTenantRequest":
		return map[string]string{"name": "Pwned"}
	case "Limits":
		return map[string]int{"assets": 1}
	case "BrandingRequest":
		return map[string]string{"display_name": "Pwned"}
	case "AddDomainRequest":
		return map[string]string{"domain": "intruder.example.com"}
	case "CreateWebhookEndpointRequest":
		return map[string]any{"url": "https://intruder.example.com/hook", "events": []string{"asset.ready"}}
	case "CreateAssetRequest":
		return map[string]string{"input": "https://media.example.com/intruder.mp4"}
	case "binary":
		var buf bytes.Buffer
		_ = png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 2, 2)))
		return buf.Bytes()
	case "":
		return nil
	}
	for _, samples := range []map[string]any{playbackSamples(), catalogSamples(), billingSamples()} {
		if v, ok := samples[schema]; ok {
			return v
		}
	}
	return map[string]string{}
}

func contentType(schema string) string {
	if schema == "binary" {
		return "image/png"
	}
	return ""
}

// TestIsolation aims every authenticated route of the route table at other
// tenants, both through Marquee-Tenant and through path parameters naming
// their objects. A route added to the table is covered without anyone
// remembering; a parameter of an unknown kind fails the test.
func TestIsolation(t *testing.T) {
	cptest.Each(t, cptest.Options{}, func(t *testing.T, s *cptest.Server) {
		tr := buildTree(t, s)
		attacker := tr.keys["c1"]
		routes := s.App.Server().Routes()
		covered := 0
		for _, r := range routes {
			if r.Object == "" {
				continue // public by design
			}
			covered++
			// 1. Naming another tenant in Marquee-Tenant: a sibling, a cousin,
			// the parent, an unrelated reseller and the root. None exists for
			// the attacker.
			for _, victim := range []string{"c2", "c3", "r1", "r2", "root"} {
				res := s.Do(t, cptest.Request{Method: r.Method, Path: fillParams(t, r, tr, "c1"), Token: attacker, Tenant: tr.ids[victim], Body: sampleBody(r.Request), ContentType: contentType(r.Request)})
				if res.Status != http.StatusNotFound || res.Str(t, "code") != "not_found" {
					t.Errorf("%s %s as c1 with Marquee-Tenant %s: %d %s, want 404 not_found", r.Method, r.Path, victim, res.Status, res.Body)
				}
			}
			// 2. Path parameters naming another tenant's objects, acting as
			// itself.
			if len(r.Params) == 0 {
				continue
			}
			for _, victim := range []string{"c2", "c3", "r1", "root"} {
				path := fillParams(t, r, tr, victim)
				res := s.Do(t, cptest.Request{Method: r.Method, Path: path, Token: attacker, Body: sampleBody(r.Request), ContentType: contentType(r.Request)})
				if res.Status != http.StatusNotFound && res.Status != http.StatusForbidden {
					t.Errorf("%s %s as c1: %d %s, want 404 or 403", r.Method, path, res.Status, res.Body)
				}
			}
		}
		if covered < 15 {
			t.Fatalf("only %d authenticated routes covered", covered)
		}

		// Nothing of the victims changed.
		for _, victim := range []string{"c2", "c3", "r1", "r2", "root"} {
			id := tr.ids[victim]
			b := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/branding", Token: tr.keys[victim]}).JSON(t)
			if strings.Contains(b["display_name"].(string), "Pwned") || len(b["custom_domains"].([]any)) != 1 {
				t.Errorf("%s's branding changed: %v", victim, b)
			}
			as := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/assets", Token: tr.keys[victim]}).JSON(t)["data"].([]any)
			if len(as) != 1 || as[0].(map[string]any)["id"] != tr.assets[victim] {
				t.Errorf("%s's assets changed: %v", victim, as)
			}
			hooks := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/webhook-endpoints", Token: tr.keys[victim]}).JSON(t)["data"].([]any)
			if len(hooks) != 1 {
				t.Errorf("%s has %d webhook endpoints, want its one", victim, len(hooks))
			}
			keys := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/api-keys", Token: tr.keys[victim]}).JSON(t)["data"].([]any)
			if len(keys) != 1 {
				t.Errorf("%s has %d API keys, want its one", victim, len(keys))
			}
			ten := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/tenant", Token: tr.keys[victim]}).JSON(t)
			if ten["id"] != id || ten["status"] != "active" || strings.Contains(ten["name"].(string), "Pwned") {
				t.Errorf("%s changed: %v", victim, ten)
			}
		}
		kids := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/tenants", Token: tr.keys["r1"]}).JSON(t)["data"].([]any)
		if len(kids) != 2 {
			t.Errorf("r1 has %d children, want 2", len(kids))
		}

		// The walls have doors for ancestors: r1 acts on c1, root on c3.
		for _, tc := range []struct{ actor, target string }{{"r1", "c1"}, {"r1", "c2"}, {"root", "c3"}, {"r2", "c3"}} {
			got := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/tenant", Token: tr.keys[tc.actor], Tenant: tr.ids[tc.target]}).Str(t, "id")
			if got != tr.ids[tc.target] {
				t.Errorf("%s acting as %s got tenant %s", tc.actor, tc.target, got)
			}
			s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/tenants/" + tr.ids[tc.target], Token: tr.keys[tc.actor]})
		}
		// ...but not for cousins' parents.
		s.Must(t, 404, cptest.Request{Method: "GET", Path: "/v1/tenant", Token: tr.keys["r2"], Tenant: tr.ids["c1"]})
		s.Must(t, 404, cptest.Request{Method: "GET", Path: "/v1/tenants/" + tr.ids["c1"], Token: tr.keys["r2"]})
	})
}

// fillParams puts the objects of tenant owner into the route's path.
func fillParams(t *testing.T, r api.Route, tr tree, owner string) string {
	t.Helper()
	path := r.Path
	for name, kind := range r.Params {
		var v string
		switch kind {
		case api.ParamTenant:
			v = tr.ids[owner]
		case api.ParamAPIKey:
			v = tr.keyIDs[owner]
		case api.ParamDomain:
			v = tr.doms[owner]
		case api.ParamAsset:
			v = tr.assets[owner]
		case api.ParamWebhookEndpoint:
			v = tr.hooks[owner]
		case api.ParamUpload:
			v = tr.uploads[owner]
		default:
			id, ok := tr.objs[kind][owner]
			if !ok {
				t.Fatalf("route %s %s: parameter %s of kind %q has no isolation fixture; add one", r.Method, r.Path, name, kind)
			}
			v = id
		}
		path = strings.Replace(path, ":"+name, v, 1)
	}
	if strings.Contains(path, ":") {
		t.Fatalf("route %s %s: a path parameter is not declared in Params", r.Method, r.Path)
	}
	return path
}
