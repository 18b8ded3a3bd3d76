package api_test

import (
	"testing"
	"time"

	"github.com/marquee-video/marquee/controlplane/cptest"
)

// billingFixtures gives every tenant of the isolation tree a plan in its
// price book and an invoice: root bills r1 and r2, r1 bills c1 and c2, r2
// bills c3; root's invoice is the one it issued to r1.
func billingFixtures(t *testing.T, s *cptest.Server, tr *tree) {
	t.Helper()
	for _, name := range []string{"root", "r1", "r2", "c1", "c2", "c3"} {
		p := s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/plans", Token: tr.opsToken, Tenant: tr.ids[name], Body: billingSamples()["PlanInput"]})
		tr.put("plan", name, p.Str(t, "id"))
	}
	for child, parent := range map[string]string{"r1": "root", "r2": "root", "c1": "r1", "c2": "r1", "c3": "r2"} {
		s.Must(t, 200, cptest.Request{Method: "PUT", Path: "/v1/tenants/" + tr.ids[child] + "/billing", Token: tr.opsToken, Tenant: tr.ids[parent],
			Body: map[string]string{"plan_id": tr.objs["plan"][parent]}})
	}
	period := time.Now().UTC().Format("2006-01")
	for _, issuer := range []string{"root", "r1", "r2"} {
		invs := s.Must(t, 200, cptest.Request{Method: "POST", Path: "/v1/invoices/generate", Token: tr.opsToken, Tenant: tr.ids[issuer], Body: map[string]string{"period": period}}).JSON(t)["data"].([]any)
		for _, x := range invs {
			inv := x.(map[string]any)
			for name, id := range tr.ids {
				if inv["tenant_id"] == id {
					tr.put("invoice", name, inv["id"].(string))
				}
			}
			if inv["tenant_id"] == tr.ids["r1"] {
				tr.put("invoice", "root", inv["id"].(string))
			}
		}
	}
	for _, name := range []string{"root", "r1", "r2", "c1", "c2", "c3"} {
		if tr.objs["invoice"][name] == "" {
			t.Fatalf("no invoice fixture for %s", name)
		}
	}
}

// billingSamples are valid request bodies for the billing schemas.
func billingSamples() map[string]any {
	return map[string]any{
		"PlanInput": map[string]any{"name": "Standard", "currency": "usd", "base_fee": 2900, "prices": []any{
			map[string]any{"meter": "transcode_seconds", "model": "per_unit", "unit": "60", "unit_name": "minute", "unit_amount": "2.5", "included": "100"},
		}},
		"AssignPlanRequest":       map[string]string{"plan_id": "pln_00000000000000000000000000"},
		"ConnectRequest":          map[string]string{"connect_account_id": "acct_intruder"},
		"GenerateInvoicesRequest": map[string]string{"period": "2026-11"},
		"OfferInput":              map[string]any{"kind": "svod", "name": "Premium", "price": 999, "currency": "usd", "tier": "premium", "ad_free": true},
		"CheckoutInput":           map[string]string{"offer_id": "off_x", "viewer_id": "viewer_1", "success_url": "https://shop.example.com/ok", "cancel_url": "https://shop.example.com/no"},
		"UsageBatch":              map[string]any{"events": []any{}},
	}
}
