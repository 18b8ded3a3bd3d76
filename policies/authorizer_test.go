package policies

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

type grant struct {
	object, action string
	roles          []string
}

// grants is the permission matrix from the spec, written out independently of
// rbac_policy.csv: for each object and action, the roles allowed. Every role
// not listed is denied.
func grants() []grant {
	return []grant{
		{"tenant", "read", []string{"owner", "admin", "editor", "analyst", "billing", "platform_ops"}},
		{"tenant", "write", []string{"owner", "admin", "platform_ops"}},

		{"subtenant", "read", []string{"owner", "admin", "analyst", "billing", "platform_ops"}},
		{"subtenant", "create", []string{"owner", "admin", "platform_ops"}},
		{"subtenant", "write", []string{"owner", "admin", "platform_ops"}},
		{"subtenant", "delete", []string{"owner", "admin", "platform_ops"}},

		{"quota", "read", []string{"owner", "admin", "editor", "analyst", "billing", "platform_ops"}},
		{"quota", "write", []string{"owner", "admin", "platform_ops"}},

		{"api_key", "read", []string{"owner", "admin", "platform_ops"}},
		{"api_key", "create", []string{"owner", "admin", "platform_ops"}},
		{"api_key", "delete", []string{"owner", "admin", "platform_ops"}},

		{"branding", "read", []string{"owner", "admin", "editor", "analyst", "billing", "platform_ops"}},
		{"branding", "write", []string{"owner", "admin", "editor", "platform_ops"}},

		{"member", "read", []string{"owner", "admin", "platform_ops"}},
		{"member", "write", []string{"owner"}},

		{"asset", "read", []string{"owner", "admin", "editor", "analyst", "billing", "platform_ops"}},
		{"asset", "write", []string{"owner", "admin", "editor", "platform_ops"}},
		{"asset", "delete", []string{"owner", "admin", "editor", "platform_ops"}},

		{"usage", "read", []string{"owner", "admin", "analyst", "billing", "platform_ops"}},

		{"invoice", "read", []string{"owner", "admin", "billing", "platform_ops"}},
		{"invoice", "write", []string{"owner", "billing", "platform_ops"}},

		{"webhook", "read", []string{"owner", "admin", "editor", "platform_ops"}},
		{"webhook", "write", []string{"owner", "admin", "platform_ops"}},

		{"ops", "read", []string{"owner", "platform_ops"}},
		{"ops", "write", []string{"platform_ops"}},
	}
}

type authzCase struct {
	role, object, action string
	want                 bool
}

// matrix expands grants to every role × object × action, the pairs the spec
// does not mention (such as usage write) included as denials, plus unknown
// roles, objects and actions.
func matrix() []authzCase {
	roles := append(Roles(), "viewer", "", "OWNER", "owner ", "root")
	objects := []string{"tenant", "subtenant", "quota", "api_key", "branding", "member", "asset", "usage", "invoice", "ops", "webhook", "", "billing", "*"}
	actions := []string{"read", "write", "create", "delete", "", "*", "admin"}
	spec := grants()
	var cases []authzCase
	for _, role := range roles {
		for _, object := range objects {
			for _, action := range actions {
				want := false
				for _, g := range spec {
					if g.object == object && g.action == action && slices.Contains(g.roles, role) {
						want = true
					}
				}
				cases = append(cases, authzCase{role, object, action, want})
			}
		}
	}
	return cases
}

func TestAllowedMatrix(t *testing.T) {
	a, err := NewAuthorizer()
	if err != nil {
		t.Fatal(err)
	}
	for _, tenant := range []string{"ten_01jh3k5q8x2v7r6m4n9p0s1t2w", "ten_01jh3k5q8x2v7r6m4n9p0s1t2x", "platform"} {
		for _, c := range matrix() {
			t.Run(fmt.Sprintf("%s/%s/%s:%s", tenant, c.role, c.object, c.action), func(t *testing.T) {
				got, err := a.Allowed(c.role, tenant, c.object, c.action)
				if err != nil {
					t.Fatal(err)
				}
				if got != c.want {
					t.Errorf("Allowed(%q, %q, %q, %q) = %v, want %v", c.role, tenant, c.object, c.action, got, c.want)
				}
			})
		}
	}
}

func TestAllowedEmptyTenant(t *testing.T) {
	a, err := NewAuthorizer()
	if err != nil {
		t.Fatal(err)
	}
	ok, err := a.Allowed(RoleOwner, "", ObjectTenant, ActionRead)
	if err == nil || ok {
		t.Fatalf("Allowed with empty tenant = %v, %v; want false and an error", ok, err)
	}
}

// TestPolicyRoles keeps the csv and Roles in step: every role the policy
// names is a caller role or the internal viewer, and every caller role has a
// permission row.
func TestPolicyRoles(t *testing.T) {
	rules, err := parsePolicy(rbacPolicy)
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{}
	for _, r := range rules {
		named[r[1]] = true
		if r[0] == "g" {
			named[r[2]] = true
		}
	}
	for r := range named {
		if !ValidRole(r) && r != "viewer" {
			t.Errorf("policy names role %q, which is not in Roles()", r)
		}
	}
	for _, r := range Roles() {
		if !named[r] {
			t.Errorf("role %q has no policy row", r)
		}
	}
}

func TestParsePolicyRejectsMalformedLines(t *testing.T) {
	tests := []struct {
		name, text string
		wantErr    bool
	}{
		{"valid", "# c\n\np, admin, *, asset, read\ng, owner, admin, *\n", false},
		{"short p", "p, admin, *, asset\n", true},
		{"long g", "g, owner, admin, *, extra\n", true},
		{"unknown ptype", "x, admin, *, asset, read\n", true},
		{"empty field", "p, admin, , asset, read\n", true},
		{"bad quoting", "p, \"admin, *, asset, read\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parsePolicy(tt.text)
			if (err != nil) != tt.wantErr {
				t.Errorf("parsePolicy error = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

// TestAllowedConcurrent asks from many goroutines at once, cold and then hot,
// across tenants; run with -race.
func TestAllowedConcurrent(t *testing.T) {
	a, err := NewAuthorizer()
	if err != nil {
		t.Fatal(err)
	}
	cases := matrix()
	const workers = 16
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for round := range 2 {
				for i, c := range cases {
					tenant := fmt.Sprintf("ten_%d", (i+w+round)%7)
					got, err := a.Allowed(c.role, tenant, c.object, c.action)
					if err != nil {
						errc <- err
						return
					}
					if got != c.want {
						errc <- fmt.Errorf("Allowed(%q, %q, %q, %q) = %v, want %v", c.role, tenant, c.object, c.action, got, c.want)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}

func TestRoles(t *testing.T) {
	roles := Roles()
	roles[0] = "mutated"
	if Roles()[0] != RoleOwner {
		t.Fatal("Roles returns shared state")
	}
	for _, r := range Roles() {
		if !ValidRole(r) {
			t.Errorf("ValidRole(%q) = false", r)
		}
	}
	for _, r := range []string{"", "viewer", "Owner", "superuser"} {
		if ValidRole(r) {
			t.Errorf("ValidRole(%q) = true", r)
		}
	}
}

func TestDecisionCacheIsBounded(t *testing.T) {
	c := newDecisionCache(3)
	for i := range 10 {
		if err := c.Set(fmt.Sprint(i), true); err != nil {
			t.Fatal(err)
		}
		if n := len(c.decisions); n > 3 {
			t.Fatalf("after %d sets the cache holds %d decisions, want at most 3", i+1, n)
		}
		if v, err := c.Get(fmt.Sprint(i)); err != nil || !v {
			t.Fatalf("Get(%d) = %v, %v right after Set", i, v, err)
		}
	}
	if err := c.Delete("9"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get("9"); err == nil {
		t.Fatal("Get after Delete found the decision")
	}
	if err := c.Clear(); err != nil || len(c.decisions) != 0 {
		t.Fatalf("Clear = %v, %d decisions left", err, len(c.decisions))
	}
}

// benchTenants is the number of distinct tenant domains the benchmarks spread
// their requests over.
const benchTenants = 100

func benchRequests() []authzCase {
	var reqs []authzCase
	for _, g := range grants() {
		for _, role := range Roles() {
			reqs = append(reqs, authzCase{role: role, object: g.object, action: g.action})
		}
	}
	return reqs
}

func tenantIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("ten_%026d", i)
	}
	return ids
}

// BenchmarkEnforce measures hot, cached decisions over 100 tenants.
func BenchmarkEnforce(b *testing.B) {
	a, err := NewAuthorizer()
	if err != nil {
		b.Fatal(err)
	}
	reqs, tenants := benchRequests(), tenantIDs(benchTenants)
	for _, tn := range tenants { // warm the cache
		for _, r := range reqs {
			if _, err := a.Allowed(r.role, tn, r.object, r.action); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := reqs[i%len(reqs)]
		if _, err := a.Allowed(r.role, tenants[i%benchTenants], r.object, r.action); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkEnforceParallel is BenchmarkEnforce from GOMAXPROCS goroutines,
// to show contention on the decision cache.
func BenchmarkEnforceParallel(b *testing.B) {
	a, err := NewAuthorizer()
	if err != nil {
		b.Fatal(err)
	}
	reqs, tenants := benchRequests(), tenantIDs(benchTenants)
	for _, tn := range tenants {
		for _, r := range reqs {
			if _, err := a.Allowed(r.role, tn, r.object, r.action); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			r := reqs[i%len(reqs)]
			if _, err := a.Allowed(r.role, tenants[i%benchTenants], r.object, r.action); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkEnforceUncached measures casbin's own evaluation over 100 tenants,
// the cost of every first decision for a (role, tenant, object, action).
func BenchmarkEnforceUncached(b *testing.B) {
	a, err := NewAuthorizer()
	if err != nil {
		b.Fatal(err)
	}
	a.enforcer.EnableCache(false)
	reqs, tenants := benchRequests(), tenantIDs(benchTenants)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := reqs[i%len(reqs)]
		if _, err := a.Allowed(r.role, tenants[i%benchTenants], r.object, r.action); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
