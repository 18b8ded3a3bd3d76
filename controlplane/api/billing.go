package api

import (
	"bytes"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/marquee-video/marquee/billing/commerce"
	"github.com/marquee-video/marquee/billing/invoices"
	"github.com/marquee-video/marquee/billing/metering"
	"github.com/marquee-video/marquee/billing/plans"
	bstripe "github.com/marquee-video/marquee/billing/stripe"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/tenants"
)

// Billing is what the billing routes serve: metering, price books,
// invoices, dunning, Stripe (possibly off) and viewer commerce.
type Billing struct {
	Metering *metering.Ingester
	Book     *plans.Book
	Invoices *invoices.Invoicer
	Stripe   *bstripe.Billing
	Commerce *commerce.Store
}

// Param kinds of the billing routes.
const (
	ParamPlan    = "plan"
	ParamInvoice = "invoice"
)

// billingRoutes registers the billing routes (none without Billing).
func (s *Server) billingRoutes() []Route {
	if s.cfg.Billing == nil {
		return nil
	}
	planParam := map[string]string{"id": ParamPlan}
	invoiceParam := map[string]string{"id": ParamInvoice}
	return []Route{
		{Method: "GET", Path: "/v1/usage", Summary: "Usage from the hourly rollups: the acting tenant's, or its subtree's with descendants=true; grouped by meter and group_by (hour|day|month, tenant, dimensions, or dimension names)", Object: "usage", Action: "read", Query: []string{"from", "to", "meter", "group_by", "descendants"}, Response: "UsageReport", Status: 200, Handler: s.getUsage},
		{Method: "GET", Path: "/v1/plans", Summary: "The acting tenant's price book: the plans it sells to its sub-tenants", Object: "plan", Action: "read", Response: "PlanList", Status: 200, Handler: s.listPlans},
		{Method: "POST", Path: "/v1/plans", Summary: "Add a plan to the price book", Object: "plan", Action: "write", Request: "PlanInput", Response: "Plan", Status: 201, Idempotent: true, Handler: s.createPlan},
		{Method: "GET", Path: "/v1/plans/:id", Summary: "A plan of the price book", Object: "plan", Action: "read", Params: planParam, Response: "Plan", Status: 200, Handler: s.getPlan},
		{Method: "PUT", Path: "/v1/plans/:id", Summary: "Replace a plan (drafts are re-rated; finalized invoices keep their lines)", Object: "plan", Action: "write", Params: planParam, Request: "PlanInput", Response: "Plan", Status: 200, Handler: s.putPlan},
		{Method: "PUT", Path: "/v1/tenants/:id/billing", Summary: "Put a direct sub-tenant on a plan of the price book from now on (prorated); with Stripe on, its customer and subscription are created", Object: "plan", Action: "write", Params: map[string]string{"id": ParamTenant}, Request: "AssignPlanRequest", Response: "BillingAccount", Status: 200, Handler: s.assignPlan},
		{Method: "GET", Path: "/v1/billing", Summary: "The acting tenant's billing account: its plan, issuer and dunning state", Object: "invoice", Action: "read", Response: "BillingAccount", Status: 200, Handler: s.getBillingAccount},
		{Method: "PUT", Path: "/v1/billing/connect", Summary: "Set the Stripe Connect account the storefront's checkouts are made on (empty removes it)", Object: "invoice", Action: "write", Request: "ConnectRequest", Response: "BillingAccount", Status: 200, Handler: s.putConnect},
		{Method: "GET", Path: "/v1/invoices", Summary: "Invoices the acting tenant receives (issued=true: that it issued to its sub-tenants)", Object: "invoice", Action: "read", Query: []string{"period", "issued", "limit", "cursor"}, Response: "InvoiceList", Status: 200, Handler: s.listInvoices},
		{Method: "GET", Path: "/v1/invoices/:id", Summary: "An invoice with its lines", Object: "invoice", Action: "read", Params: invoiceParam, Response: "Invoice", Status: 200, Handler: s.getInvoice},
		{Method: "POST", Path: "/v1/invoices/generate", Summary: "Compute a period's draft invoices for every sub-tenant the acting tenant bills (finalized ones are kept)", Object: "invoice", Action: "write", Request: "GenerateInvoicesRequest", Response: "InvoiceList", Status: 200, Handler: s.generateInvoices},
		{Method: "POST", Path: "/v1/invoices/:id/finalize", Summary: "Finalize a draft invoice the acting tenant issued; with Stripe on, it is mirrored to Stripe and collected", Object: "invoice", Action: "write", Params: invoiceParam, Response: "Invoice", Status: 200, Handler: s.finalizeInvoice},
		{Method: "GET", Path: "/v1/ops/usage", Summary: "Every tenant's usage and invoices for a period, as JSON or CSV (format=csv) (platform operators)", Object: "ops", Action: "read", Query: []string{"period", "format"}, Response: "UsageExport", Status: 200, Handler: s.opsUsage},
		{Method: "GET", Path: "/v1/offers", Summary: "The storefront's offers: SVOD tiers, rentals, purchases", Object: "offer", Action: "read", Response: "OfferList", Status: 200, Handler: s.listOffers},
		{Method: "POST", Path: "/v1/offers", Summary: "Add an offer to the storefront", Object: "offer", Action: "write", Request: "OfferInput", Response: "Offer", Status: 201, Idempotent: true, Handler: s.createOffer},
		{Method: "POST", Path: "/v1/checkout-sessions", Summary: "Start a Stripe Checkout for a viewer and an offer (on the tenant's Connect account when it has one)", Object: "offer", Action: "write", Request: "CheckoutInput", Response: "Checkout", Status: 201, Idempotent: true, Handler: s.startCheckout},
		{Method: "POST", Path: "/v1/stripe/webhook", Summary: "Stripe's webhook (Stripe-Signature verified; idempotent by event id; out-of-order safe)", Request: "StripeEvent", Status: 204, Handler: s.stripeWebhook},
		{Method: "POST", Path: "/internal/v1/usage", Summary: "Report usage events (exactly once by tenant, month and id; one bad event refuses the batch)", Node: true, Request: "UsageBatch", Response: "UsageIngested", Status: 200, Handler: s.ingestUsage},
	}
}

func (s *Server) billing() *Billing { return s.cfg.Billing }

func parseTime(c *fiber.Ctx, name string) (time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		e := errs.E(errs.Invalid, metering.CodeInvalidTime, "%s must be an RFC 3339 time", name)
		e.Field = name
		return time.Time{}, e
	}
	return t, nil
}

func (s *Server) getUsage(c *fiber.Ctx) error {
	t := acting(c)
	from, err := parseTime(c, "from")
	if err != nil {
		return err
	}
	to, err := parseTime(c, "to")
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if to.IsZero() {
		to = now
	}
	if from.IsZero() {
		from = time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, time.UTC)
		if !to.After(from) {
			from = from.AddDate(0, -1, 0)
		}
	}
	desc := false
	switch c.Query("descendants") {
	case "", "false":
	case "true":
		desc = true
	default:
		return errs.Field("descendants", "descendants must be true or false")
	}
	q := metering.Query{Tenant: t.ID, Descendants: desc, From: from, To: to, Meter: c.Query("meter"), GroupBy: metering.ParseGroupBy(c.Query("group_by"))}
	points, err := s.billing().Metering.Usage(c.UserContext(), t.ID, q)
	if err != nil {
		return err
	}
	if points == nil {
		points = []metering.Point{}
	}
	return c.JSON(fiber.Map{"tenant_id": t.ID, "from": q.From.UTC().Truncate(time.Hour), "to": q.To.UTC(), "descendants": desc, "data": points})
}

func (s *Server) listPlans(c *fiber.Ctx) error {
	ps, err := s.billing().Book.Plans(c.UserContext(), acting(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(list(ps, ""))
}

func (s *Server) createPlan(c *fiber.Ctx) error {
	var in plans.Input
	if err := decode(c, &in); err != nil {
		return err
	}
	p, err := s.billing().Book.Create(c.UserContext(), acting(c).ID, in)
	if err != nil {
		return err
	}
	return c.Status(201).JSON(p)
}

func (s *Server) getPlan(c *fiber.Ctx) error {
	p, err := s.billing().Book.Plan(c.UserContext(), acting(c).ID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) putPlan(c *fiber.Ctx) error {
	var in plans.Input
	if err := decode(c, &in); err != nil {
		return err
	}
	p, err := s.billing().Book.Update(c.UserContext(), acting(c).ID, c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

// AssignPlanRequest puts a sub-tenant on a plan.
type AssignPlanRequest struct {
	PlanID string `json:"plan_id"`
}

func (s *Server) assignPlan(c *fiber.Ctx) error {
	var in AssignPlanRequest
	if err := decode(c, &in); err != nil {
		return err
	}
	ctx := c.UserContext()
	issuer := acting(c)
	child, err := s.cfg.Tenants.Tenant(ctx, issuer, c.Params("id"))
	if err != nil {
		return err
	}
	if child.ParentID == nil || *child.ParentID != issuer.ID {
		return errs.E(errs.NotFound, "not_found", "tenant %s is not a direct sub-tenant; its parent bills it", child.ID)
	}
	acct, err := s.billing().Book.Assign(ctx, issuer.ID, child.ID, in.PlanID)
	if err != nil {
		return err
	}
	if st := s.billing().Stripe; st.Enabled() {
		p, err := s.billing().Book.Plan(ctx, issuer.ID, in.PlanID)
		if err != nil {
			return err
		}
		cus, err := st.EnsureCustomer(ctx, child.ID, child.Name)
		if err != nil {
			return err
		}
		if _, err := st.Subscribe(ctx, child.ID, cus, p); err != nil {
			return err
		}
		if acct, err = s.billing().Book.Account(ctx, issuer.ID, child.ID); err != nil {
			return err
		}
	}
	return c.JSON(acct)
}

func (s *Server) getBillingAccount(c *fiber.Ctx) error {
	t := acting(c)
	a, err := s.billing().Book.Account(c.UserContext(), t.ID, t.ID)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

// ConnectRequest names a Stripe Connect account.
type ConnectRequest struct {
	ConnectAccountID string `json:"connect_account_id"`
}

func (s *Server) putConnect(c *fiber.Ctx) error {
	var in ConnectRequest
	if err := decode(c, &in); err != nil {
		return err
	}
	a, err := s.billing().Book.SetConnect(c.UserContext(), acting(c).ID, in.ConnectAccountID)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

func (s *Server) listInvoices(c *fiber.Ctx) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	issued := false
	switch c.Query("issued") {
	case "", "false":
	case "true":
		issued = true
	default:
		return errs.Field("issued", "issued must be true or false")
	}
	t := acting(c)
	invs, next, err := s.billing().Invoices.List(c.UserContext(), t.ID, invoices.Filter{Tenant: t.ID, Issued: issued, Period: c.Query("period"), Limit: p.Limit, After: p.After})
	if err != nil {
		return err
	}
	return c.JSON(list(invs, next))
}

func (s *Server) getInvoice(c *fiber.Ctx) error {
	inv, err := s.billing().Invoices.Get(c.UserContext(), acting(c).ID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(inv)
}

// GenerateInvoicesRequest names the period to invoice.
type GenerateInvoicesRequest struct {
	Period string `json:"period"`
}

func (s *Server) generateInvoices(c *fiber.Ctx) error {
	var in GenerateInvoicesRequest
	if err := decode(c, &in); err != nil {
		return err
	}
	invs, err := s.billing().Invoices.Generate(c.UserContext(), acting(c).ID, in.Period)
	if err != nil {
		return err
	}
	return c.JSON(list(invs, ""))
}

func (s *Server) finalizeInvoice(c *fiber.Ctx) error {
	ctx := c.UserContext()
	issuer := acting(c)
	inv, err := s.billing().Invoices.Finalize(ctx, issuer.ID, c.Params("id"))
	if err != nil {
		return err
	}
	if st := s.billing().Stripe; st.Enabled() && inv.Status == invoices.StatusOpen {
		acct, err := s.billing().Book.Account(ctx, issuer.ID, inv.TenantID)
		if err != nil {
			return err
		}
		if acct.StripeCustomerID != nil {
			if _, err := st.Mirror(ctx, inv, *acct.StripeCustomerID); err != nil {
				return err
			}
			if inv, err = s.billing().Invoices.Get(ctx, issuer.ID, inv.ID); err != nil {
				return err
			}
		}
	}
	return c.JSON(inv)
}

func (s *Server) opsUsage(c *fiber.Ctx) error {
	root := acting(c)
	if root.Kind != tenants.KindPlatform {
		return errs.E(errs.Forbidden, "forbidden", "the usage export is for platform operators")
	}
	period := c.Query("period")
	if period == "" {
		period = time.Now().UTC().Format("2006-01")
	}
	e, err := invoices.BuildExport(c.UserContext(), s.billing().Metering, s.billing().Invoices, root.ID, period)
	if err != nil {
		return err
	}
	switch c.Query("format") {
	case "", "json":
		return c.JSON(e)
	case "csv":
		var buf bytes.Buffer
		if err := invoices.WriteCSV(&buf, e); err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="marquee-usage-`+period+`.csv"`)
		return c.Send(buf.Bytes())
	default:
		return errs.Field("format", "format must be json or csv")
	}
}

func (s *Server) listOffers(c *fiber.Ctx) error {
	os, err := s.billing().Commerce.Offers(c.UserContext(), acting(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(list(os, ""))
}

func (s *Server) createOffer(c *fiber.Ctx) error {
	var in commerce.OfferInput
	if err := decode(c, &in); err != nil {
		return err
	}
	o, err := s.billing().Commerce.CreateOffer(c.UserContext(), acting(c).ID, in)
	if err != nil {
		return err
	}
	return c.Status(201).JSON(o)
}

func (s *Server) startCheckout(c *fiber.Ctx) error {
	var in commerce.CheckoutInput
	if err := decode(c, &in); err != nil {
		return err
	}
	ctx := c.UserContext()
	t := acting(c)
	acct, err := s.billing().Book.Account(ctx, t.ID, t.ID)
	if err != nil {
		return err
	}
	connect := ""
	if acct.ConnectAccountID != nil {
		connect = *acct.ConnectAccountID
	}
	co, err := s.billing().Commerce.StartCheckout(ctx, t.ID, connect, in)
	if err != nil {
		return err
	}
	return c.Status(201).JSON(co)
}

// maxWebhookBody is the largest Stripe event accepted (Stripe's are far
// smaller).
const maxWebhookBody = 512 << 10

func (s *Server) stripeWebhook(c *fiber.Ctx) error {
	body := c.Body()
	if len(body) > maxWebhookBody {
		return errs.E(errs.TooLarge, "too_large", "the event is larger than %d bytes", maxWebhookBody)
	}
	// The signature covers the exact bytes Stripe sent.
	payload := append([]byte(nil), body...)
	if err := s.billing().Stripe.HandleWebhook(c.UserContext(), payload, c.Get("Stripe-Signature")); err != nil {
		return err
	}
	return c.SendStatus(204)
}

// UsageBatch is what workers and edges report.
type UsageBatch struct {
	Events []metering.Event `json:"events"`
}

func (s *Server) ingestUsage(c *fiber.Ctx) error {
	var in UsageBatch
	if err := decode(c, &in); err != nil {
		return err
	}
	if len(in.Events) == 0 {
		return errs.Field("events", "events must hold at least one event")
	}
	n, err := s.billing().Metering.Ingest(c.UserContext(), in.Events)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"received": len(in.Events), "inserted": n, "duplicates": len(in.Events) - n})
}

// billingSchemas are the OpenAPI schemas the billing routes name.
func billingSchemas() map[string]any {
	str := map[string]any{"type": "string"}
	strOrNull := map[string]any{"type": []string{"string", "null"}}
	integer := map[string]any{"type": "integer"}
	boolean := map[string]any{"type": "boolean"}
	timeStr := map[string]any{"type": "string", "format": "date-time"}
	timeNull := map[string]any{"type": []string{"string", "null"}, "format": "date-time"}
	decimal := map[string]any{"type": "string", "pattern": `^-?[0-9]+(\.[0-9]+)?$`, "description": "an exact decimal"}
	decimalIn := map[string]any{"type": []string{"string", "number"}, "description": "an exact decimal, as a string or a number"}
	dims := map[string]any{"type": "object", "additionalProperties": str}
	meter := map[string]any{"type": "string", "enum": metering.Meters}
	listOf := func(item string) map[string]any {
		return obj([]string{"data", "next_cursor"}, map[string]any{"data": map[string]any{"type": "array", "items": ref(item)}, "next_cursor": strOrNull})
	}
	tier := obj([]string{"up_to", "unit_amount"}, map[string]any{"up_to": map[string]any{"type": []string{"string", "number", "null"}}, "unit_amount": decimalIn, "flat_amount": integer})
	priceIn := obj([]string{"meter", "model", "unit", "unit_amount", "included"}, map[string]any{
		"meter": meter, "dimensions": dims, "model": map[string]any{"type": "string", "enum": []string{plans.PerUnit, plans.Graduated}},
		"unit": decimalIn, "unit_name": str, "unit_amount": decimalIn, "included": decimalIn, "tiers": map[string]any{"type": "array", "items": tier},
	})
	tierOut := obj([]string{"up_to", "unit_amount"}, map[string]any{"up_to": map[string]any{"type": []string{"string", "null"}}, "unit_amount": decimal, "flat_amount": integer})
	priceOut := obj([]string{"meter", "model", "unit", "unit_amount", "included"}, map[string]any{
		"meter": meter, "dimensions": dims, "model": str, "unit": decimal, "unit_name": str, "unit_amount": decimal, "included": decimal,
		"tiers": map[string]any{"type": "array", "items": tierOut},
	})
	line := obj([]string{"kind", "description", "plan_id", "quantity", "units", "billable_units", "period_start", "period_end", "amount"}, map[string]any{
		"kind": map[string]any{"type": "string", "enum": []string{"base_fee", "usage"}}, "description": str, "plan_id": str, "meter": str, "dimensions": dims,
		"quantity": decimal, "units": decimal, "billable_units": decimal, "period_start": timeStr, "period_end": timeStr, "amount": integer,
	})
	invoice := obj([]string{"tenant_id", "id", "issuer_id", "period", "status", "currency", "subtotal", "total", "lines", "created_at", "updated_at"}, map[string]any{
		"tenant_id": str, "id": str, "issuer_id": str, "period": str,
		"status":   map[string]any{"type": "string", "enum": []string{invoices.StatusDraft, invoices.StatusOpen, invoices.StatusPaid, invoices.StatusVoid, invoices.StatusUncollectible}},
		"currency": str, "subtotal": integer, "total": integer, "lines": map[string]any{"type": "array", "items": line},
		"stripe_invoice_id": str, "created_at": timeStr, "updated_at": timeStr, "finalized_at": timeStr, "paid_at": timeStr,
	})
	point := obj([]string{"meter", "quantity", "events"}, map[string]any{
		"tenant_id": str, "period_start": timeStr, "meter": meter, "dimensions": dims, "quantity": decimal, "events": integer,
	})
	offer := obj([]string{"tenant_id", "id", "kind", "name", "price", "currency", "ad_free", "active", "created_at"}, map[string]any{
		"tenant_id": str, "id": str, "kind": map[string]any{"type": "string", "enum": []string{commerce.KindSVOD, commerce.KindRental, commerce.KindPurchase}},
		"name": str, "price": integer, "currency": str, "tier": str, "ad_free": boolean, "window_hours": integer, "title_id": str, "active": boolean, "created_at": timeStr,
	})
	return map[string]any{
		"UsageReport": obj([]string{"tenant_id", "from", "to", "descendants", "data"}, map[string]any{
			"tenant_id": str, "from": timeStr, "to": timeStr, "descendants": boolean, "data": map[string]any{"type": "array", "items": point},
		}),
		"PlanInput": obj([]string{"name", "currency", "base_fee", "prices"}, map[string]any{
			"name": str, "currency": map[string]any{"type": "string", "pattern": "^[a-z]{3}$"}, "base_fee": integer, "prices": map[string]any{"type": "array", "items": priceIn},
		}),
		"Plan": obj([]string{"tenant_id", "id", "name", "currency", "base_fee", "prices", "archived", "created_at", "updated_at"}, map[string]any{
			"tenant_id": str, "id": str, "name": str, "currency": str, "base_fee": integer, "prices": map[string]any{"type": "array", "items": priceOut},
			"archived": boolean, "created_at": timeStr, "updated_at": timeStr,
		}),
		"PlanList":          listOf("Plan"),
		"AssignPlanRequest": obj([]string{"plan_id"}, map[string]any{"plan_id": str}),
		"ConnectRequest":    obj([]string{"connect_account_id"}, map[string]any{"connect_account_id": str}),
		"BillingAccount": obj([]string{"tenant_id", "issuer_id", "plan_id", "dunning", "suspended_by_billing", "updated_at"}, map[string]any{
			"tenant_id": str, "issuer_id": str, "plan_id": strOrNull, "stripe_customer_id": str, "stripe_subscription_id": str, "connect_account_id": str,
			"dunning":        map[string]any{"type": "string", "enum": []string{plans.DunningOK, plans.DunningPastDue, plans.DunningSuspended}},
			"past_due_since": timeNull, "suspended_by_billing": boolean, "updated_at": timeStr,
		}),
		"Invoice":                 invoice,
		"InvoiceList":             listOf("Invoice"),
		"GenerateInvoicesRequest": obj([]string{"period"}, map[string]any{"period": map[string]any{"type": "string", "pattern": `^[0-9]{4}-[0-9]{2}$`}}),
		"UsageExport": obj([]string{"period", "usage", "invoices"}, map[string]any{
			"period": str, "usage": map[string]any{"type": "array", "items": point}, "invoices": map[string]any{"type": "array", "items": invoice},
		}),
		"OfferInput": obj([]string{"kind", "name", "price", "currency"}, map[string]any{
			"kind": map[string]any{"type": "string", "enum": []string{commerce.KindSVOD, commerce.KindRental, commerce.KindPurchase}},
			"name": str, "price": integer, "currency": str, "tier": str, "ad_free": boolean, "window_hours": integer, "title_id": str,
		}),
		"Offer":     offer,
		"OfferList": listOf("Offer"),
		"CheckoutInput": obj([]string{"offer_id", "viewer_id", "success_url", "cancel_url"}, map[string]any{
			"offer_id": str, "viewer_id": str, "success_url": str, "cancel_url": str,
		}),
		"Checkout": obj([]string{"id", "tenant_id", "offer_id", "viewer_id", "status", "stripe_session_id", "url", "created_at"}, map[string]any{
			"id": str, "tenant_id": str, "offer_id": str, "viewer_id": str, "status": str, "stripe_session_id": str, "url": str, "created_at": timeStr,
		}),
		"StripeEvent": map[string]any{"type": "object", "description": "a Stripe event, exactly as Stripe sends it"},
		"UsageBatch": obj([]string{"events"}, map[string]any{"events": map[string]any{"type": "array", "maxItems": metering.MaxBatch, "items": obj([]string{"tenant_id", "id", "meter", "quantity", "at"}, map[string]any{
			"tenant_id": str, "id": str, "meter": meter, "quantity": decimalIn, "dimensions": dims, "at": timeStr,
		})}}),
		"UsageIngested": obj([]string{"received", "inserted", "duplicates"}, map[string]any{"received": integer, "inserted": integer, "duplicates": integer}),
	}
}
