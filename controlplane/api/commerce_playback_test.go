package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/marquee-video/marquee/billing/stripe/stripetest"
	"github.com/marquee-video/marquee/controlplane"
	"github.com/marquee-video/marquee/controlplane/cptest"
)

// TestCheckoutGrantsReachPlayback: with the platform's own granter, a
// completed checkout becomes the viewer's entitlement that the playback
// policy reads, once however often the webhook arrives, and an ended
// subscription revokes it.
func TestCheckoutGrantsReachPlayback(t *testing.T) {
	mock := stripetest.Start(t)
	s := cptest.Start(t, cptest.Options{Postgres: true, Billing: controlplane.BillingConfig{
		StripeSecretKey: "sk_test_123", StripeWebhookSecret: webhookSecret, StripeAPIURL: mock,
		StripeHTTPClient: &http.Client{Timeout: 30 * time.Second},
	}})
	ops, _ := s.PlatformOwner(t, "owner")
	c1 := s.CreateTenant(t, ops, "", "Creator One", "creator")
	req := func(method, path string, body any) cptest.Request {
		return cptest.Request{Method: method, Path: path, Token: ops, Tenant: c1, Body: body}
	}
	asset := s.Must(t, 201, req("POST", "/v1/assets", map[string]string{"input": "https://media.example.com/film.mp4"})).Str(t, "id")
	svod := s.Must(t, 201, req("POST", "/v1/offers", billingSamples()["OfferInput"])).Str(t, "id")
	rental := s.Must(t, 201, req("POST", "/v1/offers", map[string]any{"kind": "rental", "name": "Film", "price": 399, "currency": "usd", "window_hours": 48, "title_id": asset})).Str(t, "id")
	start := func(offer, viewer string) string {
		return s.Must(t, 201, req("POST", "/v1/checkout-sessions", map[string]string{
			"offer_id": offer, "viewer_id": viewer, "success_url": "https://shop.example.com/ok", "cancel_url": "https://shop.example.com/no"})).Str(t, "id")
	}
	co1, co2 := start(svod, "viewer_a"), start(rental, "viewer_b")
	meta := func(co, kind string) map[string]string {
		return map[string]string{"marquee_tenant_id": c1, "marquee_checkout_id": co, "marquee_kind": kind}
	}
	now := time.Now()
	for range 2 {
		if r := sendEvent(t, s, "evt_cs_1", "checkout.session.completed", now, map[string]any{"id": "cs_1", "object": "checkout.session", "subscription": "sub_viewer_a", "metadata": meta(co1, "viewer_svod")}); r.Status >= 300 {
			t.Fatalf("svod webhook: %d %s", r.Status, r.Body)
		}
		if r := sendEvent(t, s, "evt_cs_2", "checkout.session.completed", now, map[string]any{"id": "cs_2", "object": "checkout.session", "metadata": meta(co2, "viewer_rental")}); r.Status >= 300 {
			t.Fatalf("rental webhook: %d %s", r.Status, r.Body)
		}
	}
	a := s.Must(t, 200, req("GET", "/v1/viewers/viewer_a", nil)).JSON(t)["entitlements"].([]any)
	if len(a) != 1 || a[0].(map[string]any)["kind"] != "svod" || a[0].(map[string]any)["tier"] != "premium" || a[0].(map[string]any)["id"] != "sub_viewer_a" {
		t.Fatalf("viewer_a entitlements: %v", a)
	}
	b := s.Must(t, 200, req("GET", "/v1/viewers/viewer_b", nil)).JSON(t)["entitlements"].([]any)
	if len(b) != 1 || b[0].(map[string]any)["kind"] != "rental" || b[0].(map[string]any)["asset_id"] != asset {
		t.Fatalf("viewer_b entitlements: %v", b)
	}
	sendEvent(t, s, "evt_sub_del", "customer.subscription.deleted", now.Add(time.Minute), map[string]any{"id": "sub_viewer_a", "object": "subscription", "status": "canceled", "metadata": meta(co1, "viewer_svod")})
	a = s.Must(t, 200, req("GET", "/v1/viewers/viewer_a", nil)).JSON(t)["entitlements"].([]any)
	if len(a) != 1 || a[0].(map[string]any)["revoked_at"] == nil {
		t.Fatalf("the ended subscription is not revoked: %v", a)
	}
}
