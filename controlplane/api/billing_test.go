package api_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/marquee-video/marquee/billing/commerce"
	"github.com/marquee-video/marquee/billing/stripe/stripetest"
	"github.com/marquee-video/marquee/controlplane"
	"github.com/marquee-video/marquee/controlplane/cptest"
)

func enrollNode(t *testing.T, s *cptest.Server) string {
	t.Helper()
	return s.Must(t, 201, cptest.Request{Method: "POST", Path: "/internal/v1/nodes", Token: s.App.NodeKey(),
		Body: map[string]any{"name": "meter-node", "cores": 1, "encoders": []string{"libx264"}, "hwaccels": []string{}, "queues": []string{"media-cpu"}, "capacity": 1}}).Str(t, "token")
}

func usageEvent(tenant, id, meter, qty string, at time.Time, dims map[string]string) map[string]any {
	e := map[string]any{"tenant_id": tenant, "id": id, "meter": meter, "quantity": qty, "at": at.Format(time.RFC3339Nano)}
	if dims != nil {
		e["dimensions"] = dims
	}
	return e
}

func usageData(t *testing.T, res cptest.Response) []map[string]any {
	t.Helper()
	var body struct {
		Data []map[string]any `json:"data"`
	}
	if err := json.Unmarshal(res.Body, &body); err != nil {
		t.Fatal(err)
	}
	return body.Data
}

// TestUsageIngestAndQuery reports usage through the internal API (with
// repeats), refuses bad batches whole, and reads usage as the tenant, as
// an ancestor over its subtree, and as platform operations (JSON and CSV).
func TestUsageIngestAndQuery(t *testing.T) {
	cptest.Each(t, cptest.Options{}, func(t *testing.T, s *cptest.Server) {
		ops, _ := s.PlatformOwner(t, "owner")
		r1 := s.CreateTenant(t, ops, "", "Reseller", "reseller")
		c1 := s.CreateTenant(t, ops, r1, "Creator One", "creator")
		c2 := s.CreateTenant(t, ops, r1, "Creator Two", "creator")
		c3 := s.CreateTenant(t, ops, "", "Creator Three", "creator")
		node := enrollNode(t, s)
		at := time.Now().UTC().Add(-2 * time.Hour)
		batch := []any{
			usageEvent(c1, "u1", "transcode_seconds", "90.5", at, map[string]string{"tier": "hd", "encoder": "x264"}),
			usageEvent(c1, "u2", "transcode_seconds", "30", at, map[string]string{"tier": "uhd", "encoder": "x264"}),
			usageEvent(c2, "u1", "egress_bytes", "1000", at, map[string]string{"cdn": "fastly"}),
			usageEvent(r1, "u9", "egress_bytes", "5", at, map[string]string{"cdn": "akamai"}),
			usageEvent(c3, "u1", "drm_licenses", "3", at, nil),
		}
		res := s.Must(t, 200, cptest.Request{Method: "POST", Path: "/internal/v1/usage", Token: node, Body: map[string]any{"events": batch}}).JSON(t)
		if res["inserted"] != 5.0 || res["duplicates"] != 0.0 {
			t.Fatalf("first batch: %v", res)
		}
		res = s.Must(t, 200, cptest.Request{Method: "POST", Path: "/internal/v1/usage", Token: node, Body: map[string]any{"events": append(batch, batch[0])}}).JSON(t)
		if res["inserted"] != 0.0 || res["duplicates"] != 6.0 {
			t.Fatalf("repeated batch: %v", res)
		}
		good := usageEvent(c1, "fresh", "playback_seconds", "1", at, nil)
		for _, bad := range []struct {
			name  string
			event map[string]any
			code  string
		}{
			{"negative quantity", usageEvent(c1, "b1", "egress_bytes", "-1", at, nil), "invalid_quantity"},
			{"unknown meter", usageEvent(c1, "b2", "free_lunches", "1", at, nil), "unknown_meter"},
			{"far future", usageEvent(c1, "b3", "egress_bytes", "1", time.Now().Add(24*time.Hour), nil), "invalid_time"},
			{"another tenant's id", usageEvent("ten_01J00000000000000000000000", "b4", "egress_bytes", "1", at, nil), "unknown_tenant"},
			{"bad dimension", usageEvent(c1, "b5", "egress_bytes", "1", at, map[string]string{"CDN": "x"}), "invalid_event"},
		} {
			r := s.Do(t, cptest.Request{Method: "POST", Path: "/internal/v1/usage", Token: node, Body: map[string]any{"events": []any{good, bad.event}}})
			if r.Status != 400 || r.Str(t, "code") != bad.code || !strings.Contains(r.Str(t, "detail"), "event 1") {
				t.Errorf("%s: %d %s, want 400 %s naming event 1", bad.name, r.Status, r.Body, bad.code)
			}
		}
		s.Must(t, 401, cptest.Request{Method: "POST", Path: "/internal/v1/usage", Token: "nope", Body: map[string]any{"events": batch}})

		c1Key := s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/api-keys", Token: ops, Tenant: c1, Body: map[string]string{"name": "k", "role": "analyst"}}).Str(t, "key")
		from := at.Add(-time.Hour).Format(time.RFC3339)
		q := "/v1/usage?from=" + from
		own := usageData(t, s.Must(t, 200, cptest.Request{Method: "GET", Path: q + "&group_by=dimensions", Token: c1Key}))
		if len(own) != 2 || own[0]["quantity"] != "90.5" || own[1]["quantity"] != "30" {
			t.Errorf("c1's usage = %v", own)
		}
		// The refused batches wrote nothing, not even their good event.
		if all := usageData(t, s.Must(t, 200, cptest.Request{Method: "GET", Path: q + "&meter=playback_seconds", Token: c1Key})); len(all) != 0 {
			t.Errorf("a refused batch left %v", all)
		}
		// A descendant cannot widen its view; an ancestor sees its subtree.
		if v := usageData(t, s.Must(t, 200, cptest.Request{Method: "GET", Path: q + "&descendants=true&group_by=tenant", Token: c1Key})); len(v) != 1 || v[0]["tenant_id"] != c1 {
			t.Errorf("c1 with descendants=true sees %v", v)
		}
		sub := usageData(t, s.Must(t, 200, cptest.Request{Method: "GET", Path: q + "&descendants=true&group_by=tenant,tier&meter=egress_bytes", Token: ops, Tenant: r1}))
		if len(sub) != 2 || sub[0]["tenant_id"] == c3 || sub[1]["tenant_id"] == c3 {
			t.Errorf("r1's egress by tenant = %v", sub)
		}
		tiers := usageData(t, s.Must(t, 200, cptest.Request{Method: "GET", Path: q + "&group_by=day,tier&meter=transcode_seconds", Token: ops, Tenant: c1}))
		if len(tiers) != 2 || tiers[0]["period_start"] == nil {
			t.Errorf("c1 by day and tier = %v", tiers)
		}
		for _, bad := range []string{q + "&group_by=day,hour", q + "&meter=nope", "/v1/usage?from=yesterday", q + "&descendants=maybe", q + "&to=" + at.Add(-3*time.Hour).Format(time.RFC3339)} {
			if r := s.Do(t, cptest.Request{Method: "GET", Path: bad, Token: c1Key}); r.Status != 400 {
				t.Errorf("GET %s: %d %s", bad, r.Status, r.Body)
			}
		}

		period := at.Format("2006-01")
		exp := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/ops/usage?period=" + period, Token: ops}).JSON(t)
		if n := len(exp["usage"].([]any)); n != 5 {
			t.Errorf("ops export holds %d usage rows, want 5: %v", n, exp["usage"])
		}
		// The export adds up: per meter, what was sent, across the reseller
		// and its sub-tenants, and per tenant of the subtree.
		sums, perTenant := map[string]float64{}, map[string]float64{}
		for _, row := range exp["usage"].([]any) {
			m := row.(map[string]any)
			q, err := strconv.ParseFloat(fmt.Sprint(m["quantity"]), 64)
			if err != nil {
				t.Fatalf("export row %v: %v", m, err)
			}
			sums[m["meter"].(string)] += q
			perTenant[m["tenant_id"].(string)] += q
		}
		if sums["transcode_seconds"] != 120.5 || sums["egress_bytes"] != 1005 || sums["drm_licenses"] != 3 {
			t.Errorf("ops export sums %v, want transcode 120.5, egress 1005, licenses 3", sums)
		}
		if perTenant[c1] != 120.5 || perTenant[c2] != 1000 || perTenant[r1] != 5 || perTenant[c3] != 3 {
			t.Errorf("ops export per tenant %v", perTenant)
		}
		csvRes := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/ops/usage?format=csv&period=" + period, Token: ops})
		rows, err := csv.NewReader(strings.NewReader(string(csvRes.Body))).ReadAll()
		if err != nil || len(rows) != 6 || rows[0][0] != "record" || !strings.HasPrefix(csvRes.Header.Get("Content-Type"), "text/csv") {
			t.Errorf("CSV export: %v rows %v", err, rows)
		}
		s.Must(t, 403, cptest.Request{Method: "GET", Path: "/v1/ops/usage?period=" + period, Token: ops, Tenant: r1})
		s.Must(t, 400, cptest.Request{Method: "GET", Path: "/v1/ops/usage?period=2026-13", Token: ops})
	})
}

// recordingGranter records grants and revocations.
type recordingGranter struct {
	mu      sync.Mutex
	grants  map[string]commerce.Grant
	revoked map[string]bool
}

func (g *recordingGranter) Grant(_ context.Context, gr commerce.Grant) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.grants[gr.ID] = gr
	return nil
}

func (g *recordingGranter) Revoke(_ context.Context, tenant, id string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.revoked[tenant+"/"+id] = true
	return nil
}

const webhookSecret = "whsec_test_marquee"

type stripeEnv struct {
	s   *cptest.Server
	rec *stripetest.Recorder
	g   *recordingGranter
}

func startWithStripe(t *testing.T, pg bool) stripeEnv {
	mock := stripetest.Start(t)
	rec := &stripetest.Recorder{}
	g := &recordingGranter{grants: map[string]commerce.Grant{}, revoked: map[string]bool{}}
	s := cptest.Start(t, cptest.Options{Postgres: pg, Billing: controlplane.BillingConfig{
		StripeSecretKey: "sk_test_123", StripeWebhookSecret: webhookSecret, StripeAPIURL: mock,
		StripeHTTPClient: &http.Client{Transport: rec, Timeout: 30 * time.Second}, DunningGrace: time.Nanosecond, Granter: g,
	}})
	return stripeEnv{s: s, rec: rec, g: g}
}

// sendEvent signs a Stripe event with Stripe's scheme and posts it.
func sendEvent(t *testing.T, s *cptest.Server, id, typ string, created time.Time, object map[string]any) cptest.Response {
	t.Helper()
	payload, err := json.Marshal(map[string]any{
		"id": id, "object": "event", "api_version": "2024-06-20", "created": created.Unix(), "type": typ,
		"livemode": false, "pending_webhooks": 1, "data": map[string]any{"object": object},
	})
	if err != nil {
		t.Fatal(err)
	}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: webhookSecret})
	return s.Do(t, cptest.Request{Method: "POST", Path: "/v1/stripe/webhook", Body: payload, ContentType: "application/json", Header: map[string]string{"Stripe-Signature": signed.Header}})
}

func each(t *testing.T, fn func(t *testing.T, pg bool)) {
	for _, pg := range []bool{true, false} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) { fn(t, pg) })
	}
}

// TestStripeDunning walks the dunning path end to end: a plan with a
// Stripe customer and subscription, an invoice finalized and mirrored to
// Stripe, a failed payment (past due), the grace period over (suspended
// through the tenant service: writes refused), then paid (resumed); with
// webhook replays and an older event arriving last changing nothing.
func TestStripeDunning(t *testing.T) {
	each(t, func(t *testing.T, pg bool) {
		env := startWithStripe(t, pg)
		s := env.s
		ops, _ := s.PlatformOwner(t, "owner")
		c1 := s.CreateTenant(t, ops, "", "Creator One", "creator")
		plan := s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/plans", Token: ops, Body: billingSamples()["PlanInput"]}).Str(t, "id")
		acct := s.Must(t, 200, cptest.Request{Method: "PUT", Path: "/v1/tenants/" + c1 + "/billing", Token: ops, Body: map[string]string{"plan_id": plan}}).JSON(t)
		if acct["stripe_customer_id"] == nil || acct["stripe_subscription_id"] == nil || acct["dunning"] != "ok" {
			t.Fatalf("account after assigning a plan: %v", acct)
		}
		cus := env.rec.Calls("POST", "/v1/customers")
		if len(cus) != 1 || cus[0].Form.Get("metadata[marquee_tenant_id]") != c1 || cus[0].IdempotencyKey != "customer-"+c1 {
			t.Fatalf("customer calls: %+v\n%s", cus, env.rec)
		}
		subs := env.rec.Calls("POST", "/v1/subscriptions")
		if len(subs) != 1 || subs[0].Form.Get("items[0][price_data][unit_amount]") != "2900" || subs[0].Form.Get("items[0][price_data][recurring][interval]") != "month" ||
			subs[0].Form.Get("metadata[marquee_tenant_id]") != c1 {
			t.Fatalf("subscription calls: %+v", subs)
		}

		node := enrollNode(t, s)
		at := time.Now().UTC() // the plan applies from the hour it was assigned in
		// 130 minutes, of which the plan's 100 included minutes prorated to
		// the part of the month it covers are free; the rest × 2.5.
		s.Must(t, 200, cptest.Request{Method: "POST", Path: "/internal/v1/usage", Token: node, Body: map[string]any{"events": []any{
			usageEvent(c1, "t1", "transcode_seconds", "7800", at, map[string]string{"tier": "hd"}),
		}}})
		period := at.Format("2006-01")
		invs := s.Must(t, 200, cptest.Request{Method: "POST", Path: "/v1/invoices/generate", Token: ops, Body: map[string]string{"period": period}}).JSON(t)["data"].([]any)
		if len(invs) != 1 {
			t.Fatalf("generated %v", invs)
		}
		inv := invs[0].(map[string]any)
		id := inv["id"].(string)
		baseLine := inv["lines"].([]any)[0].(map[string]any)
		frac := decimal.RequireFromString(baseLine["quantity"].(string))
		wantBase := decimal.NewFromInt(2900).Mul(frac).Round(0).IntPart()
		billable := decimal.NewFromInt(130).Sub(decimal.NewFromInt(100).Mul(frac))
		wantUsage := billable.Mul(decimal.RequireFromString("2.5")).Round(0).IntPart()
		if int64(baseLine["amount"].(float64)) != wantBase || int64(inv["total"].(float64)) != wantBase+wantUsage {
			t.Errorf("invoice total %v (base %v), want %d + %d", inv["total"], baseLine["amount"], wantBase, wantUsage)
		}
		fin := s.Must(t, 200, cptest.Request{Method: "POST", Path: "/v1/invoices/" + id + "/finalize", Token: ops}).JSON(t)
		if fin["status"] != "open" || fin["stripe_invoice_id"] == nil {
			t.Fatalf("finalized: %v", fin)
		}
		items := env.rec.Calls("POST", "/v1/invoiceitems")
		if len(items) != 2 || items[1].Form.Get("amount") != fmt.Sprint(wantUsage) || items[1].Form.Get("metadata[marquee_invoice_id]") != id {
			t.Errorf("invoice items: %+v", items)
		}
		meters := env.rec.Calls("POST", "/v1/billing/meter_events")
		if len(meters) != 1 || meters[0].Form.Get("event_name") != "marquee_transcode_seconds" || meters[0].Form.Get("payload[value]") != billable.String() ||
			meters[0].Form.Get("identifier") != id+"-1" {
			t.Errorf("meter events: %+v", meters)
		}
		stripeInv := env.rec.Calls("POST", "/v1/invoices")
		if len(stripeInv) != 2 || stripeInv[0].Form.Get("metadata[marquee_invoice_id]") != id || !strings.HasSuffix(stripeInv[1].Path, "/finalize") {
			t.Errorf("Stripe invoice calls: %+v", stripeInv)
		}

		obj := func(status string) map[string]any {
			return map[string]any{"id": "in_mirror_" + id, "object": "invoice", "status": status, "customer": acct["stripe_customer_id"],
				"metadata": map[string]string{"marquee_invoice_id": id, "marquee_tenant_id": c1}}
		}
		t0 := time.Now().Add(-time.Hour)
		if r := sendEvent(t, s, "evt_fail_1", "invoice.payment_failed", t0, obj("open")); r.Status != 204 {
			t.Fatalf("payment_failed: %d %s", r.Status, r.Body)
		}
		billing := func() map[string]any {
			return s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/billing", Token: ops, Tenant: c1}).JSON(t)
		}
		if b := billing(); b["dunning"] != "past_due" {
			t.Fatalf("after a failed payment: %v", b)
		}
		done, err := s.App.SweepDunning(context.Background())
		if err != nil || len(done) != 1 || done[0] != c1 {
			t.Fatalf("sweep = %v, %v", done, err)
		}
		ten := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/tenants/" + c1, Token: ops}).JSON(t)
		if ten["status"] != "suspended" {
			t.Fatalf("tenant after the grace period: %v", ten)
		}
		if b := billing(); b["dunning"] != "suspended" || b["suspended_by_billing"] != true {
			t.Errorf("account after the sweep: %v", b)
		}
		r := s.Do(t, cptest.Request{Method: "PUT", Path: "/v1/branding", Token: ops, Tenant: c1, Body: map[string]string{"display_name": "x"}})
		if r.Status != 403 || r.Str(t, "code") != "tenant_suspended" {
			t.Errorf("a suspended tenant wrote: %d %s", r.Status, r.Body)
		}
		// Paid: resumed. The replayed failure and an older failure that
		// arrives after the payment change nothing.
		if r := sendEvent(t, s, "evt_paid_1", "invoice.paid", t0.Add(2*time.Minute), obj("paid")); r.Status != 204 {
			t.Fatalf("paid: %d %s", r.Status, r.Body)
		}
		for _, ev := range []struct {
			id string
			at time.Time
		}{{"evt_fail_1", t0}, {"evt_fail_0", t0.Add(time.Minute)}} {
			if r := sendEvent(t, s, ev.id, "invoice.payment_failed", ev.at, obj("open")); r.Status != 204 {
				t.Fatalf("late %s: %d %s", ev.id, r.Status, r.Body)
			}
		}
		if r := sendEvent(t, s, "evt_paid_1", "invoice.paid", t0.Add(2*time.Minute), obj("paid")); r.Status != 204 {
			t.Fatalf("replayed paid: %d", r.Status)
		}
		ten = s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/tenants/" + c1, Token: ops}).JSON(t)
		if ten["status"] != "active" {
			t.Errorf("tenant after payment: %v", ten)
		}
		if b := billing(); b["dunning"] != "ok" || b["suspended_by_billing"] != false {
			t.Errorf("account after payment: %v", b)
		}
		got := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/invoices/" + id, Token: ops}).JSON(t)
		if got["status"] != "paid" {
			t.Errorf("invoice after payment: %v", got["status"])
		}

		// A suspension billing did not cause is not lifted by a payment.
		s.Must(t, 200, cptest.Request{Method: "PATCH", Path: "/v1/tenants/" + c1, Token: ops, Body: map[string]string{"status": "suspended"}})
		if r := sendEvent(t, s, "evt_fail_2", "invoice.payment_failed", t0.Add(3*time.Minute), obj("open")); r.Status != 204 {
			t.Fatal(r.Status)
		}
		if _, err := s.App.SweepDunning(context.Background()); err != nil {
			t.Fatal(err)
		}
		if b := billing(); b["suspended_by_billing"] != false {
			t.Errorf("billing claims a suspension it did not cause: %v", b)
		}
		sendEvent(t, s, "evt_paid_2", "invoice.paid", t0.Add(4*time.Minute), obj("paid"))
		if ten := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/tenants/" + c1, Token: ops}).JSON(t); ten["status"] != "suspended" {
			t.Errorf("a payment lifted the parent's suspension: %v", ten)
		}

		// Bad signatures are refused.
		payload := []byte(`{"id":"evt_x","object":"event","type":"invoice.paid","created":1,"data":{"object":{"id":"in_x"}}}`)
		bad := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: "whsec_wrong"})
		r = s.Do(t, cptest.Request{Method: "POST", Path: "/v1/stripe/webhook", Body: payload, ContentType: "application/json", Header: map[string]string{"Stripe-Signature": bad.Header}})
		if r.Status != 400 || r.Str(t, "code") != "invalid_signature" {
			t.Errorf("bad signature: %d %s", r.Status, r.Body)
		}
	})
}

// TestStripeCheckoutGrants sells an SVOD tier and a rental through Checkout
// and grants them from the webhook, once each however often it arrives.
func TestStripeCheckoutGrants(t *testing.T) {
	env := startWithStripe(t, true)
	s := env.s
	ops, _ := s.PlatformOwner(t, "owner")
	c1 := s.CreateTenant(t, ops, "", "Creator One", "creator")
	s.Must(t, 400, cptest.Request{Method: "PUT", Path: "/v1/billing/connect", Token: ops, Tenant: c1, Body: map[string]string{"connect_account_id": "nope"}})
	if a := s.Must(t, 200, cptest.Request{Method: "PUT", Path: "/v1/billing/connect", Token: ops, Tenant: c1, Body: map[string]string{"connect_account_id": "acct_1Creator"}}).JSON(t); a["connect_account_id"] != "acct_1Creator" {
		t.Fatalf("connect: %v", a)
	}
	svod := s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/offers", Token: ops, Tenant: c1, Body: billingSamples()["OfferInput"]}).Str(t, "id")
	rental := s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/offers", Token: ops, Tenant: c1,
		Body: map[string]any{"kind": "rental", "name": "Film", "price": 399, "currency": "usd", "window_hours": 48, "title_id": "ttl_1"}}).Str(t, "id")
	s.Must(t, 400, cptest.Request{Method: "POST", Path: "/v1/offers", Token: ops, Tenant: c1, Body: map[string]any{"kind": "rental", "name": "x", "price": 1, "currency": "usd"}})
	start := func(offer, viewer string) map[string]any {
		return s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/checkout-sessions", Token: ops, Tenant: c1, Body: map[string]string{
			"offer_id": offer, "viewer_id": viewer, "success_url": "https://shop.example.com/ok", "cancel_url": "https://shop.example.com/no"}}).JSON(t)
	}
	co1, co2 := start(svod, "viewer_a"), start(rental, "viewer_b")
	calls := env.rec.Calls("POST", "/v1/checkout/sessions")
	if len(calls) != 2 || calls[0].Form.Get("mode") != "subscription" || calls[0].Form.Get("line_items[0][price_data][unit_amount]") != "999" ||
		calls[0].Form.Get("subscription_data[metadata][marquee_checkout_id]") != co1["id"] || calls[1].Form.Get("mode") != "payment" ||
		calls[1].Form.Get("metadata[marquee_viewer_id]") != "viewer_b" || calls[0].StripeAccount != "acct_1Creator" {
		t.Fatalf("checkout calls: %+v", calls)
	}
	meta := func(co map[string]any, kind string) map[string]string {
		return map[string]string{"marquee_tenant_id": c1, "marquee_checkout_id": co["id"].(string), "marquee_kind": kind}
	}
	now := time.Now()
	for range 2 { // a replay grants nothing more
		sendEvent(t, s, "evt_cs_1", "checkout.session.completed", now, map[string]any{"id": "cs_1", "object": "checkout.session", "subscription": "sub_viewer_a", "metadata": meta(co1, "viewer_svod")})
		sendEvent(t, s, "evt_cs_2", "checkout.session.completed", now, map[string]any{"id": "cs_2", "object": "checkout.session", "metadata": meta(co2, "viewer_rental")})
	}
	env.g.mu.Lock()
	a, b := env.g.grants["sub_viewer_a"], env.g.grants["cs_2"]
	n := len(env.g.grants)
	env.g.mu.Unlock()
	if n != 2 || a.Kind != "svod" || a.Tier != "premium" || a.ViewerID != "viewer_a" || a.TenantID != c1 || !a.ExpiresAt.IsZero() {
		t.Errorf("svod grant: %+v (%d grants)", a, n)
	}
	if b.Kind != "rental" || b.TitleID != "ttl_1" || b.Window != 48*time.Hour || !b.ExpiresAt.Equal(time.Unix(now.Unix(), 0).UTC().Add(48*time.Hour)) {
		t.Errorf("rental grant: %+v", b)
	}
	sendEvent(t, s, "evt_sub_del", "customer.subscription.deleted", now.Add(time.Minute), map[string]any{"id": "sub_viewer_a", "object": "subscription", "status": "canceled", "metadata": meta(co1, "viewer_svod")})
	env.g.mu.Lock()
	revoked := env.g.revoked[c1+"/sub_viewer_a"]
	env.g.mu.Unlock()
	if !revoked {
		t.Error("the ended subscription's grant was not revoked")
	}
}

// TestBillingWithoutStripe: with no Stripe key, plans and invoices work and
// the Stripe routes say payments are off.
func TestBillingWithoutStripe(t *testing.T) {
	s := cptest.Start(t, cptest.Options{})
	ops, _ := s.PlatformOwner(t, "owner")
	c1 := s.CreateTenant(t, ops, "", "Creator One", "creator")
	plan := s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/plans", Token: ops, Body: billingSamples()["PlanInput"]}).Str(t, "id")
	acct := s.Must(t, 200, cptest.Request{Method: "PUT", Path: "/v1/tenants/" + c1 + "/billing", Token: ops, Body: map[string]string{"plan_id": plan}}).JSON(t)
	if acct["plan_id"] != plan || acct["stripe_customer_id"] != nil {
		t.Errorf("account: %v", acct)
	}
	invs := s.Must(t, 200, cptest.Request{Method: "POST", Path: "/v1/invoices/generate", Token: ops, Body: map[string]string{"period": time.Now().UTC().Format("2006-01")}}).JSON(t)["data"].([]any)
	if len(invs) != 1 {
		t.Fatalf("invoices: %v", invs)
	}
	id := invs[0].(map[string]any)["id"].(string)
	if fin := s.Must(t, 200, cptest.Request{Method: "POST", Path: "/v1/invoices/" + id + "/finalize", Token: ops}).JSON(t); fin["status"] != "open" {
		t.Errorf("finalized: %v", fin)
	}
	list := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/invoices", Token: ops, Tenant: c1}).JSON(t)["data"].([]any)
	if len(list) != 1 {
		t.Errorf("c1's invoices: %v", list)
	}
	offer := s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/offers", Token: ops, Tenant: c1, Body: billingSamples()["OfferInput"]}).Str(t, "id")
	r := s.Do(t, cptest.Request{Method: "POST", Path: "/v1/checkout-sessions", Token: ops, Tenant: c1, Body: map[string]string{
		"offer_id": offer, "viewer_id": "v", "success_url": "https://a.example.com/", "cancel_url": "https://a.example.com/"}})
	if r.Status != 503 || r.Str(t, "code") != "stripe_disabled" {
		t.Errorf("checkout without Stripe: %d %s", r.Status, r.Body)
	}
	if r := sendEvent(t, s, "evt_1", "invoice.paid", time.Now(), map[string]any{"id": "in_1"}); r.Status != 503 {
		t.Errorf("webhook without Stripe: %d %s", r.Status, r.Body)
	}
}

// TestUsageQuotaBlocksNewWork: metered usage at a monthly quota (the
// tenant's own, or an ancestor's over its subtree) refuses new assets with
// quota_exceeded.
func TestUsageQuotaBlocksNewWork(t *testing.T) {
	cptest.Each(t, cptest.Options{}, func(t *testing.T, s *cptest.Server) {
		ops, _ := s.PlatformOwner(t, "owner")
		r1 := s.CreateTenant(t, ops, "", "Reseller", "reseller")
		c1 := s.CreateTenant(t, ops, r1, "Creator One", "creator")
		c2 := s.CreateTenant(t, ops, r1, "Creator Two", "creator")
		s.Must(t, 200, cptest.Request{Method: "PUT", Path: "/v1/tenants/" + r1 + "/quotas", Token: ops, Body: map[string]any{"egress_gb_per_month": 2}})
		s.Must(t, 200, cptest.Request{Method: "PUT", Path: "/v1/tenants/" + c1 + "/quotas", Token: ops, Tenant: r1, Body: map[string]any{"transcode_minutes_per_month": 2, "egress_gb_per_month": 2}})
		asset := func(tenant string) cptest.Response {
			return s.Do(t, cptest.Request{Method: "POST", Path: "/v1/assets", Token: ops, Tenant: tenant, Body: map[string]string{"input": "https://media.example.com/a.mp4"}})
		}
		if r := asset(c1); r.Status != 201 {
			t.Fatalf("under quota: %d %s", r.Status, r.Body)
		}
		node := enrollNode(t, s)
		now := time.Now().UTC()
		report := func(events ...any) {
			s.Must(t, 200, cptest.Request{Method: "POST", Path: "/internal/v1/usage", Token: node, Body: map[string]any{"events": events}})
		}
		report(usageEvent(c1, "q1", "transcode_seconds", "119.5", now, nil))
		if r := asset(c1); r.Status != 201 {
			t.Fatalf("just under the transcode quota: %d %s", r.Status, r.Body)
		}
		report(usageEvent(c1, "q2", "transcode_seconds", "0.5", now, nil))
		if r := asset(c1); r.Str(t, "code") != "quota_exceeded" {
			t.Errorf("at the transcode quota: %d %s", r.Status, r.Body)
		}
		if r := asset(c2); r.Status != 201 {
			t.Errorf("c2 blocked by c1's quota: %d %s", r.Status, r.Body)
		}
		// r1's egress quota covers its subtree: c1 and c2 together reach it.
		report(usageEvent(c1, "e1", "egress_bytes", "1500000000", now, nil), usageEvent(c2, "e1", "egress_bytes", "500000000", now, nil))
		if r := asset(c2); r.Str(t, "code") != "quota_exceeded" || !strings.Contains(r.Str(t, "detail"), r1) {
			t.Errorf("at the reseller's egress quota: %d %s", r.Status, r.Body)
		}
	})
}
