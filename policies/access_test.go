package policies

import (
	"context"
	_ "embed"
	"testing"
)

//go:embed access_test.rego
var accessTestModule string

func TestAccessRego(t *testing.T) {
	runRegoTests(t, map[string]string{accessModuleFile: accessModule, "policies/access_test.rego": accessTestModule}, 6)
}

func TestAccessDecide(t *testing.T) {
	a, err := NewAccessPolicy(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		status, object, action string
		allow                  bool
		code                   string
	}{
		{"active", "subtenant", "create", true, ""},
		{"active", "branding", "read", true, ""},
		{"suspended", "branding", "read", true, ""},
		{"suspended", "branding", "write", false, "tenant_suspended"},
		{"suspended", "api_key", "create", false, "tenant_suspended"},
		{"suspended", "invoice", "write", true, ""},
		{"", "tenant", "read", false, "invalid_request"},
	}
	for _, tc := range tests {
		d, err := a.Decide(context.Background(), AccessRequest{TenantKind: "creator", TenantStatus: tc.status, Object: tc.object, Action: tc.action})
		if err != nil {
			t.Fatal(err)
		}
		if d.Allow != tc.allow || d.Code != tc.code {
			t.Errorf("%s %s %s: got %+v, want allow=%v code=%q", tc.status, tc.object, tc.action, d, tc.allow, tc.code)
		}
	}
}

func BenchmarkAccessDecide(b *testing.B) {
	a, err := NewAccessPolicy(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	req := AccessRequest{TenantKind: "creator", TenantStatus: "active", Object: "quota", Action: "read"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Decide(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// The memo must give the same answers as evaluating afresh.
func TestAccessDecideMemoMatchesEvaluation(t *testing.T) {
	a, err := NewAccessPolicy(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, status := range []string{"active", "suspended", "bogus"} {
		for _, action := range []string{"read", "write", "create", "delete"} {
			r := AccessRequest{TenantKind: "creator", TenantStatus: status, Object: "branding", Action: action}
			first, err1 := a.Decide(ctx, r)
			second, err2 := a.Decide(ctx, r)
			fresh, err3 := a.eval(ctx, r)
			if err1 != nil || err2 != nil || err3 != nil || first != fresh || second != fresh {
				t.Errorf("%+v: first %+v second %+v fresh %+v", r, first, second, fresh)
			}
		}
	}
}
