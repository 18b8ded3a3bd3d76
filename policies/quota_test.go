package policies

import (
	"context"
	_ "embed"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"
)

//go:embed quota_test.rego
var quotaTestModule string

func limit(n int64) *int64 { return &n }

func newQuotaPolicy(tb testing.TB) *QuotaPolicy {
	tb.Helper()
	q, err := NewQuotaPolicy(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return q
}

// TestRego runs the rego unit tests in quota_test.rego.
func TestRego(t *testing.T) {
	runRegoTests(t, map[string]string{
		quotaModuleFile:            quotaModule,
		"policies/quota_test.rego": quotaTestModule,
	}, 1)
}

// runRegoTests runs the rego unit tests among modules, one subtest each, and
// fails unless at least min ran.
func runRegoTests(t *testing.T, sources map[string]string, min int) {
	t.Helper()
	ctx := context.Background()
	modules := map[string]*ast.Module{}
	for file, src := range sources {
		m, err := ast.ParseModuleWithOpts(file, src, ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			t.Fatal(err)
		}
		modules[file] = m
	}
	ch, err := tester.NewRunner().SetModules(modules).RaiseBuiltinErrors(true).RunTests(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for r := range ch {
		ran++
		t.Run(r.Name, func(t *testing.T) {
			switch {
			case r.Error != nil:
				t.Errorf("%s: %v", r.Location, r.Error)
			case r.Fail:
				t.Errorf("%s: failed at %v", r.Location, r.FailedAt)
			case r.Skip:
				t.Skip("OPA skipped this rego test (its name marks it as not ready)")
			}
		})
	}
	if ran < min {
		t.Fatalf("ran %d rego tests, want at least %d", ran, min)
	}
}

func TestDecide(t *testing.T) {
	q := newQuotaPolicy(t)
	tests := []struct {
		name string
		req  QuotaRequest
		want QuotaDecision
	}{
		{"under limit", QuotaRequest{ResourceSubTenants, limit(10), 8, 1}, QuotaDecision{Allow: true}},
		{"reaches limit", QuotaRequest{ResourceSubTenants, limit(10), 9, 1}, QuotaDecision{Allow: true}},
		{"over limit", QuotaRequest{ResourceSubTenants, limit(10), 10, 1},
			QuotaDecision{Reason: "sub_tenants quota of 10 reached (10 used, 1 requested)"}},
		{"request exceeds headroom", QuotaRequest{ResourceStorageBytes, limit(1 << 40), 1<<40 - 10, 11},
			QuotaDecision{Reason: "storage_bytes quota of 1099511627776 reached (1099511627766 used, 11 requested)"}},
		{"unlimited", QuotaRequest{ResourceEgressGBPerMonth, nil, math.MaxInt64, math.MaxInt64}, QuotaDecision{Allow: true}},
		{"zero limit", QuotaRequest{ResourceConcurrentJobs, limit(0), 0, 1},
			QuotaDecision{Reason: "concurrent_jobs quota of 0 reached (0 used, 1 requested)"}},
		{"no int64 overflow", QuotaRequest{ResourceAssets, limit(math.MaxInt64), math.MaxInt64, 1},
			QuotaDecision{Reason: "assets quota of 9223372036854775807 reached (9223372036854775807 used, 1 requested)"}},
		{"zero requested", QuotaRequest{ResourceAssets, nil, 0, 0},
			QuotaDecision{Reason: "assets: requested must be a positive integer, got 0"}},
		{"negative requested", QuotaRequest{ResourceAssets, limit(10), 0, -5},
			QuotaDecision{Reason: "assets: requested must be a positive integer, got -5"}},
		{"negative used", QuotaRequest{ResourceAssets, limit(10), -1, 1},
			QuotaDecision{Reason: "assets: used must be a non-negative integer, got -1"}},
		{"unknown resource", QuotaRequest{"bananas", limit(10), 0, 1},
			QuotaDecision{Reason: `unknown quota resource "bananas"`}},
		{"every resource", QuotaRequest{ResourceTranscodeMinutesPerMonth, limit(600), 599, 1}, QuotaDecision{Allow: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := q.Decide(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Decide(%+v) = %+v, want %+v", tt.req, got, tt.want)
			}
		})
	}
}

func TestChildLimitViolations(t *testing.T) {
	q := newQuotaPolicy(t)
	tests := []struct {
		name          string
		parent, child Limits
		want          []string
	}{
		{"equal", Limits{ResourceStorageBytes: limit(100)}, Limits{ResourceStorageBytes: limit(100)}, nil},
		{"below", Limits{ResourceAssets: limit(100)}, Limits{ResourceAssets: limit(0)}, nil},
		{"unlimited parent", Limits{ResourceAssets: nil}, Limits{ResourceAssets: nil, ResourceSubTenants: limit(1e9)}, nil},
		{"both empty", nil, nil, nil},
		{"unlimited child", Limits{ResourceStorageBytes: limit(100)}, Limits{ResourceStorageBytes: nil},
			[]string{"storage_bytes: child is unlimited but the parent's limit is 100"}},
		{"missing child entry", Limits{ResourceConcurrentJobs: limit(4)}, Limits{},
			[]string{"concurrent_jobs: child is unlimited but the parent's limit is 4"}},
		{"above parent", Limits{ResourceTranscodeMinutesPerMonth: limit(600)}, Limits{ResourceTranscodeMinutesPerMonth: limit(601)},
			[]string{"transcode_minutes_per_month: child limit 601 exceeds the parent's limit 600"}},
		{"negative", Limits{}, Limits{ResourceEgressGBPerMonth: limit(-1)},
			[]string{"egress_gb_per_month: child limit -1 is negative"}},
		{"unknown resource", Limits{}, Limits{"bananas": limit(1)},
			[]string{`unknown quota resource "bananas"`}},
		{"several, sorted",
			Limits{ResourceSubTenants: limit(3), ResourceAssets: limit(10), ResourceStorageBytes: limit(math.MaxInt64)},
			Limits{ResourceSubTenants: nil, ResourceAssets: limit(20), ResourceStorageBytes: limit(math.MaxInt64), ResourceConcurrentJobs: limit(-2)},
			[]string{
				"assets: child limit 20 exceeds the parent's limit 10",
				"concurrent_jobs: child limit -2 is negative",
				"sub_tenants: child is unlimited but the parent's limit is 3",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := q.ChildLimitViolations(context.Background(), tt.parent, tt.child)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 && len(tt.want) == 0 {
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ChildLimitViolations = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestQuotaPolicyConcurrent(t *testing.T) {
	q := newQuotaPolicy(t)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for j := range 50 {
				used := int64(i + j)
				d, err := q.Decide(context.Background(), QuotaRequest{ResourceAssets, limit(40), used, 1})
				if err != nil {
					t.Error(err)
					return
				}
				if want := used+1 <= 40; d.Allow != want {
					t.Errorf("used %d: allow = %v, want %v", used, d.Allow, want)
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkQuotaDecide(b *testing.B) {
	q := newQuotaPolicy(b)
	ctx := context.Background()
	req := QuotaRequest{ResourceSubTenants, limit(10), 9, 1}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := q.Decide(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChildLimitViolations(b *testing.B) {
	q := newQuotaPolicy(b)
	ctx := context.Background()
	parent := Limits{ResourceStorageBytes: limit(1 << 40), ResourceAssets: limit(1000), ResourceSubTenants: limit(10)}
	child := Limits{ResourceStorageBytes: limit(1 << 30), ResourceAssets: limit(2000), ResourceSubTenants: nil}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := q.ChildLimitViolations(ctx, parent, child); err != nil {
			b.Fatal(err)
		}
	}
}
