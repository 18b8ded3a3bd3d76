// Package stripe connects billing to Stripe: a Customer per invoiced
// tenant, a subscription for its base plan, usage reported to Stripe
// billing meters, invoices mirrored, and the webhook that reports payments
// back (dunning) and completes viewers' checkouts.
//
// Stripe is optional. Without a secret key Enabled is false, nothing calls
// Stripe, and invoices are still computed and finalized locally.
//
// The webhook verifies each payload's Stripe-Signature with
// webhook.ConstructEventWithOptions. stripe-go v76 refuses events whose API
// version differs from its own (2023-10-16) unless told otherwise; this
// package does tell it otherwise, deliberately: it reads only fields every
// API version since then carries (event id, type, created; the object's id,
// status, customer, subscription and metadata), an event refused for its
// version would be retried by Stripe and never applied, and the version is
// logged with every event so a change is visible.
package stripe

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	sgo "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/marquee-video/marquee/billing/commerce"
	"github.com/marquee-video/marquee/billing/invoices"
	"github.com/marquee-video/marquee/billing/metering"
	"github.com/marquee-video/marquee/billing/plans"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/errs"
)

// Config configures Stripe. An empty SecretKey turns Stripe off.
type Config struct {
	SecretKey     string
	WebhookSecret string
	// APIURL points the client elsewhere than api.stripe.com (stripe-mock).
	APIURL string
	// HTTPClient is used for API calls (nil: a client with a 30 s timeout).
	HTTPClient *http.Client
	Log        *slog.Logger
}

// Billing is the Stripe side of billing.
type Billing struct {
	api      *client.API
	secret   string
	db       *db.DB
	invoicer *invoices.Invoicer
	dunning  *invoices.Dunning
	commerce *commerce.Store
	log      *slog.Logger
	now      func() time.Time
}

// NewClient returns a Stripe API client for cfg, or nil when Stripe is off.
func NewClient(cfg Config) *client.API {
	if cfg.SecretKey == "" {
		return nil
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	bc := &sgo.BackendConfig{HTTPClient: hc, LeveledLogger: &sgo.LeveledLogger{Level: sgo.LevelError}, MaxNetworkRetries: sgo.Int64(2)}
	if cfg.APIURL != "" {
		bc.URL = sgo.String(cfg.APIURL)
	}
	return client.New(cfg.SecretKey, &sgo.Backends{
		API:     sgo.GetBackendWithConfig(sgo.APIBackend, bc),
		Connect: sgo.GetBackendWithConfig(sgo.ConnectBackend, bc),
		Uploads: sgo.GetBackendWithConfig(sgo.UploadsBackend, bc),
	})
}

// New returns the Stripe side of billing over api (nil: off).
func New(cfg Config, api *client.API, d *db.DB, inv *invoices.Invoicer, dun *invoices.Dunning, com *commerce.Store) *Billing {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Billing{api: api, secret: cfg.WebhookSecret, db: d, invoicer: inv, dunning: dun, commerce: com, log: log, now: time.Now}
}

// Enabled reports whether Stripe is configured.
func (b *Billing) Enabled() bool { return b != nil && b.api != nil }

func disabled() error {
	return errs.E(errs.Unavailable, commerce.CodeStripeDisabled, "payments are not configured on this platform")
}

func stripeErr(err error, what string) error {
	return errs.Wrap(errs.Unavailable, "stripe_error", err, "Stripe refused to %s", what)
}

// EnsureCustomer creates tenant's Stripe Customer once and records its id.
func (b *Billing) EnsureCustomer(ctx context.Context, tenant, name string) (string, error) {
	if !b.Enabled() {
		return "", disabled()
	}
	var existing struct{ StripeCustomerID *string }
	if err := b.db.System(ctx, func(tx *db.Tx) error {
		return tx.Raw("SELECT stripe_customer_id FROM billing_accounts WHERE tenant_id = ?", tenant).Scan(&existing).Error
	}); err != nil {
		return "", db.Translate(err)
	}
	if existing.StripeCustomerID != nil && *existing.StripeCustomerID != "" {
		return *existing.StripeCustomerID, nil
	}
	p := &sgo.CustomerParams{Name: sgo.String(name)}
	p.AddMetadata("marquee_tenant_id", tenant)
	p.SetIdempotencyKey("customer-" + tenant)
	c, err := b.api.Customers.New(p)
	if err != nil {
		return "", stripeErr(err, "create the customer")
	}
	err = b.db.System(ctx, func(tx *db.Tx) error {
		res := tx.Exec("UPDATE billing_accounts SET stripe_customer_id = ?, updated_at = ? WHERE tenant_id = ?", c.ID, b.now().UTC(), tenant)
		if res.Error == nil && res.RowsAffected == 0 {
			return errs.E(errs.Conflict, "no_billing_account", "tenant %s is on no plan", tenant)
		}
		return res.Error
	})
	return c.ID, db.Translate(err)
}

// Subscribe puts tenant's Stripe customer on a subscription for plan's base
// fee and records the subscription id.
func (b *Billing) Subscribe(ctx context.Context, tenant, customer string, plan plans.Plan) (string, error) {
	if !b.Enabled() {
		return "", disabled()
	}
	pp := &sgo.ProductParams{Name: sgo.String(plan.Name)}
	pp.AddMetadata("marquee_plan_id", plan.ID)
	pp.SetIdempotencyKey(fmt.Sprintf("product-%s-%d", plan.ID, plan.UpdatedAt.Unix()))
	prod, err := b.api.Products.New(pp)
	if err != nil {
		return "", stripeErr(err, "create the plan's product")
	}
	sp := &sgo.SubscriptionParams{
		Customer: sgo.String(customer),
		Items: []*sgo.SubscriptionItemsParams{{PriceData: &sgo.SubscriptionItemPriceDataParams{
			Currency: sgo.String(plan.Currency), Product: sgo.String(prod.ID), UnitAmount: sgo.Int64(plan.BaseFee),
			Recurring: &sgo.SubscriptionItemPriceDataRecurringParams{Interval: sgo.String("month")},
		}}},
	}
	sp.AddMetadata("marquee_tenant_id", tenant)
	sp.AddMetadata("marquee_plan_id", plan.ID)
	sp.AddMetadata("marquee_kind", "tenant_plan")
	sp.SetIdempotencyKey(fmt.Sprintf("subscription-%s-%s", tenant, plan.ID))
	sub, err := b.api.Subscriptions.New(sp)
	if err != nil {
		return "", stripeErr(err, "create the subscription")
	}
	err = b.db.System(ctx, func(tx *db.Tx) error {
		return tx.Exec("UPDATE billing_accounts SET stripe_subscription_id = ?, updated_at = ? WHERE tenant_id = ?", sub.ID, b.now().UTC(), tenant).Error
	})
	return sub.ID, db.Translate(err)
}

// MeterEventName is the Stripe billing meter event name of a meter.
func MeterEventName(meter string) string { return "marquee_" + meter }

// EnsureMeters creates a Stripe billing meter per Marquee meter (sum of
// "value", customer from "stripe_customer_id").
func (b *Billing) EnsureMeters(ctx context.Context) error {
	if !b.Enabled() {
		return disabled()
	}
	for _, m := range metering.Meters {
		p := &sgo.BillingMeterParams{
			DisplayName:        sgo.String(m),
			EventName:          sgo.String(MeterEventName(m)),
			DefaultAggregation: &sgo.BillingMeterDefaultAggregationParams{Formula: sgo.String("sum")},
			CustomerMapping:    &sgo.BillingMeterCustomerMappingParams{EventPayloadKey: sgo.String("stripe_customer_id"), Type: sgo.String("by_id")},
			ValueSettings:      &sgo.BillingMeterValueSettingsParams{EventPayloadKey: sgo.String("value")},
		}
		p.SetIdempotencyKey("meter-" + m)
		if _, err := b.api.BillingMeters.New(p); err != nil {
			return stripeErr(err, "create billing meter "+m)
		}
	}
	return nil
}

// Mirror copies a finalized invoice to Stripe: one invoice item per line,
// then an invoice, finalized, that Stripe collects; and reports each usage
// line's billable units to the meter of its meter. Every call carries an
// idempotency key derived from the invoice, so mirroring twice is harmless.
func (b *Billing) Mirror(ctx context.Context, inv invoices.Invoice, customer string) (string, error) {
	if !b.Enabled() {
		return "", disabled()
	}
	if inv.Status == invoices.StatusDraft {
		return "", errs.E(errs.Conflict, invoices.CodeNotDraft, "finalize invoice %s before mirroring it", inv.ID)
	}
	for i, l := range inv.Lines {
		if l.Amount != 0 {
			ip := &sgo.InvoiceItemParams{
				Customer: sgo.String(customer), Currency: sgo.String(inv.Currency), Amount: sgo.Int64(l.Amount),
				Description: sgo.String(l.Description),
			}
			ip.AddMetadata("marquee_invoice_id", inv.ID)
			ip.AddMetadata("marquee_line", fmt.Sprint(i))
			ip.SetIdempotencyKey(fmt.Sprintf("invoiceitem-%s-%d", inv.ID, i))
			if _, err := b.api.InvoiceItems.New(ip); err != nil {
				return "", stripeErr(err, "add an invoice item")
			}
		}
		if l.Kind == "usage" && l.Billable.Sign() > 0 {
			mp := &sgo.BillingMeterEventParams{
				EventName:  sgo.String(MeterEventName(l.Meter)),
				Identifier: sgo.String(fmt.Sprintf("%s-%d", inv.ID, i)),
				Timestamp:  sgo.Int64(l.To.Add(-time.Second).Unix()),
				Payload:    map[string]string{"stripe_customer_id": customer, "value": l.Billable.String()},
			}
			mp.SetIdempotencyKey(fmt.Sprintf("meterevent-%s-%d", inv.ID, i))
			if _, err := b.api.BillingMeterEvents.New(mp); err != nil {
				return "", stripeErr(err, "report usage")
			}
		}
	}
	p := &sgo.InvoiceParams{
		Customer:                    sgo.String(customer),
		Currency:                    sgo.String(inv.Currency),
		AutoAdvance:                 sgo.Bool(true),
		CollectionMethod:            sgo.String(string(sgo.InvoiceCollectionMethodChargeAutomatically)),
		PendingInvoiceItemsBehavior: sgo.String("include"),
		Description:                 sgo.String("Marquee " + inv.Period),
	}
	p.AddMetadata("marquee_invoice_id", inv.ID)
	p.AddMetadata("marquee_tenant_id", inv.TenantID)
	p.SetIdempotencyKey("invoice-" + inv.ID)
	si, err := b.api.Invoices.New(p)
	if err != nil {
		return "", stripeErr(err, "create the invoice")
	}
	fp := &sgo.InvoiceFinalizeInvoiceParams{AutoAdvance: sgo.Bool(true)}
	fp.SetIdempotencyKey("invoice-finalize-" + inv.ID)
	if _, err := b.api.Invoices.FinalizeInvoice(si.ID, fp); err != nil {
		return "", stripeErr(err, "finalize the invoice")
	}
	if err := b.invoicer.SetStripeInvoice(ctx, inv.TenantID, inv.ID, si.ID); err != nil {
		return "", err
	}
	return si.ID, nil
}

// Webhook errors.
const (
	CodeBadSignature = "invalid_signature"
)

// HandleWebhook verifies and applies one webhook delivery. A repeated
// event (same id) is acknowledged and ignored; an event older than one
// already applied to the same object is acknowledged and ignored, so
// out-of-order delivery never undoes a newer state.
func (b *Billing) HandleWebhook(ctx context.Context, payload []byte, sigHeader string) error {
	if b == nil || b.secret == "" {
		return disabled()
	}
	ev, err := webhook.ConstructEventWithOptions(payload, sigHeader, b.secret, webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
	if err != nil {
		return errs.Wrap(errs.Invalid, CodeBadSignature, err, "the Stripe-Signature header does not verify this payload")
	}
	var obj struct {
		ID           string            `json:"id"`
		Status       string            `json:"status"`
		Customer     json.RawMessage   `json:"customer"`
		Subscription json.RawMessage   `json:"subscription"`
		Metadata     map[string]string `json:"metadata"`
	}
	if ev.Data == nil || json.Unmarshal(ev.Data.Raw, &obj) != nil || obj.ID == "" {
		return errs.E(errs.Invalid, "invalid_event", "event %s has no object", ev.ID)
	}
	b.log.InfoContext(ctx, "stripe event", "event", ev.ID, "type", ev.Type, "object", obj.ID, "api_version", ev.APIVersion)
	at := time.Unix(ev.Created, 0).UTC()

	// Claim the event and check the object's newest applied event in one
	// transaction; apply after (the handlers are idempotent), and release
	// the claim if applying fails so Stripe's retry applies it.
	fresh, stale := false, false
	err = b.db.System(ctx, func(tx *db.Tx) error {
		res := tx.Exec(`INSERT INTO stripe_events (id, type, object_id, created, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			ev.ID, string(ev.Type), obj.ID, ev.Created, b.now().UTC())
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil
		}
		fresh = true
		var newest struct{ Created int64 }
		r := tx.Raw("SELECT created FROM stripe_objects WHERE object_id = ?", obj.ID).Scan(&newest)
		if r.Error != nil {
			return r.Error
		}
		if r.RowsAffected > 0 && newest.Created > ev.Created {
			stale = true
			return nil
		}
		return tx.Exec(`INSERT INTO stripe_objects (object_id, created, event_id) VALUES (?, ?, ?)
			ON CONFLICT (object_id) DO UPDATE SET created = excluded.created, event_id = excluded.event_id`, obj.ID, ev.Created, ev.ID).Error
	})
	if err != nil {
		return db.Translate(err)
	}
	if !fresh || stale {
		return nil
	}
	if err := b.apply(ctx, string(ev.Type), obj.ID, obj.Status, obj.Metadata, obj.Subscription, at); err != nil {
		_ = b.db.System(ctx, func(tx *db.Tx) error {
			return tx.Exec("DELETE FROM stripe_events WHERE id = ?", ev.ID).Error
		})
		return err
	}
	return nil
}

func (b *Billing) apply(ctx context.Context, typ, objectID, status string, meta map[string]string, subscription json.RawMessage, at time.Time) error {
	tenant := meta["marquee_tenant_id"]
	switch typ {
	case "invoice.paid", "invoice.payment_failed":
		inv, err := b.invoiceFor(ctx, objectID, meta)
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				b.log.WarnContext(ctx, "stripe invoice not ours", "invoice", objectID)
				return nil
			}
			return err
		}
		if typ == "invoice.paid" {
			return b.dunning.Paid(ctx, inv, at)
		}
		return b.dunning.PaymentFailed(ctx, inv.TenantID, at)
	case "customer.subscription.updated", "customer.subscription.deleted":
		if tenant == "" {
			return nil
		}
		if meta["marquee_kind"] == "viewer_svod" {
			if typ == "customer.subscription.deleted" || status == "canceled" || status == "unpaid" {
				return b.commerce.Revoked(ctx, tenant, objectID)
			}
			return nil
		}
		switch {
		case typ == "customer.subscription.deleted":
			return db.Translate(b.db.System(ctx, func(tx *db.Tx) error {
				return tx.Exec("UPDATE billing_accounts SET stripe_subscription_id = NULL, updated_at = ? WHERE tenant_id = ? AND stripe_subscription_id = ?",
					b.now().UTC(), tenant, objectID).Error
			}))
		case status == "past_due" || status == "unpaid":
			return b.dunning.PaymentFailed(ctx, tenant, at)
		}
		return nil
	case "checkout.session.completed":
		if tenant == "" || meta["marquee_checkout_id"] == "" {
			return nil
		}
		grantID := objectID
		if meta["marquee_kind"] == "viewer_svod" {
			var sub string
			if json.Unmarshal(subscription, &sub) == nil && sub != "" {
				grantID = sub
			} else {
				var o struct{ ID string }
				if json.Unmarshal(subscription, &o) == nil && o.ID != "" {
					grantID = o.ID
				}
			}
		}
		return b.commerce.Completed(ctx, tenant, meta["marquee_checkout_id"], grantID, at)
	case "charge.refunded":
		if tenant != "" && meta["marquee_checkout_id"] != "" {
			return b.commerce.RevokedCheckout(ctx, tenant, meta["marquee_checkout_id"])
		}
	}
	return nil
}

// invoiceFor finds our invoice for a Stripe invoice: by the metadata we
// set when mirroring, else by the stored Stripe id.
func (b *Billing) invoiceFor(ctx context.Context, sid string, meta map[string]string) (invoices.Invoice, error) {
	if id, tenant := meta["marquee_invoice_id"], meta["marquee_tenant_id"]; id != "" && tenant != "" {
		inv, err := b.invoicer.Get(ctx, tenant, id)
		if err == nil || !errs.Is(err, errs.NotFound) {
			return inv, err
		}
	}
	return b.invoicer.ByStripeInvoice(ctx, sid)
}
