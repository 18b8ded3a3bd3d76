// Package commerce sells a tenant's storefront to its viewers: SVOD tiers
// (a monthly price, ad-free or ad-supported), TVOD rentals (a price and a
// viewing window) and purchases, through Stripe Checkout on the tenant's
// behalf (on its Stripe Connect account when it has one). A completed
// checkout becomes an entitlement through a Granter, which the playback
// side implements; this package knows nothing of viewers beyond their id.
package commerce

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	stripe "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"gorm.io/gorm"

	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/ids"
)

// Offer kinds, which are also Grant kinds.
const (
	KindSVOD     = "svod"
	KindRental   = "rental"
	KindPurchase = "purchase"
)

// Grant is an entitlement bought by a viewer. ID is the Stripe object that
// paid for it (the subscription for SVOD, the Checkout Session otherwise),
// so granting twice is harmless.
type Grant struct {
	ID        string
	TenantID  string
	ViewerID  string
	Kind      string // "svod" | "rental" | "purchase"
	Tier      string
	TitleID   string
	Window    time.Duration
	ExpiresAt time.Time // zero: no end (purchases, and SVOD until revoked)
}

// Granter records and withdraws viewers' entitlements. Grant and Revoke
// must be idempotent by grant id.
type Granter interface {
	Grant(ctx context.Context, g Grant) error
	Revoke(ctx context.Context, tenantID, grantID string) error
}

// Offer is something a storefront sells.
type Offer struct {
	TenantID  string        `json:"tenant_id"`
	ID        string        `json:"id"`
	Kind      string        `json:"kind"`
	Name      string        `json:"name"`
	Price     int64         `json:"price"` // minor units; monthly for SVOD
	Currency  string        `json:"currency"`
	Tier      string        `json:"tier,omitempty"` // SVOD tier name
	AdFree    bool          `json:"ad_free"`        // SVOD: no ads
	Window    time.Duration `json:"-"`              // rentals
	WindowH   int64         `json:"window_hours,omitempty"`
	TitleID   string        `json:"title_id,omitempty"` // rentals and purchases
	Active    bool          `json:"active"`
	CreatedAt time.Time     `json:"created_at"`
}

// OfferInput creates an offer.
type OfferInput struct {
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	Price       int64  `json:"price"`
	Currency    string `json:"currency"`
	Tier        string `json:"tier,omitempty"`
	AdFree      bool   `json:"ad_free,omitempty"`
	WindowHours int64  `json:"window_hours,omitempty"`
	TitleID     string `json:"title_id,omitempty"`
}

// Error codes.
const (
	CodeInvalidOffer   = "invalid_offer"
	CodeStripeDisabled = "stripe_disabled"
)

func invalid(field, format string, args ...any) error {
	e := errs.E(errs.Invalid, CodeInvalidOffer, format, args...)
	e.Field = field
	return e
}

// Validate checks an offer by kind.
func (in OfferInput) Validate() error {
	if n := len(strings.TrimSpace(in.Name)); n == 0 || n > 100 {
		return invalid("name", "name must be 1 to 100 characters")
	}
	if in.Price <= 0 || in.Price > 1e9 {
		return invalid("price", "price must be 1 to 10^9 minor units")
	}
	if len(in.Currency) != 3 || strings.ToLower(in.Currency) != in.Currency {
		return invalid("currency", "currency must be a lower-case ISO 4217 code")
	}
	switch in.Kind {
	case KindSVOD:
		if in.Tier == "" || len(in.Tier) > 40 {
			return invalid("tier", "an SVOD offer names its tier (1 to 40 characters)")
		}
		if in.WindowHours != 0 || in.TitleID != "" {
			return invalid("kind", "an SVOD offer has no window or title")
		}
	case KindRental:
		if in.WindowHours <= 0 || in.WindowHours > 24*90 {
			return invalid("window_hours", "a rental's window is 1 to 2160 hours")
		}
		if in.TitleID == "" || len(in.TitleID) > 100 {
			return invalid("title_id", "a rental names its title")
		}
	case KindPurchase:
		if in.TitleID == "" || len(in.TitleID) > 100 {
			return invalid("title_id", "a purchase names its title")
		}
		if in.WindowHours != 0 {
			return invalid("window_hours", "a purchase has no window")
		}
	default:
		return invalid("kind", "kind must be svod, rental or purchase")
	}
	return nil
}

// Store is the commerce service: offers, checkouts and their completion.
type Store struct {
	db      *db.DB
	stripe  *client.API // nil: Stripe is off
	granter Granter
	now     func() time.Time
}

// New returns the commerce service. sc may be nil (Stripe off: offers can
// be managed, checkouts are refused with stripe_disabled).
func New(d *db.DB, sc *client.API, g Granter) *Store {
	return &Store{db: d, stripe: sc, granter: g, now: time.Now}
}

type offerRow struct {
	TenantID      string `gorm:"primaryKey"`
	ID            string `gorm:"primaryKey"`
	Kind          string
	Name          string
	Price         int64
	Currency      string
	Tier          string
	AdFree        bool
	WindowSeconds int64
	TitleID       string
	Active        bool
	CreatedAt     time.Time
}

func (offerRow) TableName() string { return "commerce_offers" }

func (r offerRow) domain() Offer {
	w := time.Duration(r.WindowSeconds) * time.Second
	return Offer{TenantID: r.TenantID, ID: r.ID, Kind: r.Kind, Name: r.Name, Price: r.Price, Currency: r.Currency, Tier: r.Tier,
		AdFree: r.AdFree, Window: w, WindowH: int64(w / time.Hour), TitleID: r.TitleID, Active: r.Active, CreatedAt: r.CreatedAt.UTC()}
}

// CreateOffer adds an offer to tenant's storefront.
func (s *Store) CreateOffer(ctx context.Context, tenant string, in OfferInput) (Offer, error) {
	if err := in.Validate(); err != nil {
		return Offer{}, err
	}
	r := offerRow{TenantID: tenant, ID: ids.New("off"), Kind: in.Kind, Name: in.Name, Price: in.Price, Currency: in.Currency, Tier: in.Tier,
		AdFree: in.AdFree, WindowSeconds: in.WindowHours * 3600, TitleID: in.TitleID, Active: true, CreatedAt: s.now().UTC()}
	if err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error { return tx.Create(&r).Error }); err != nil {
		return Offer{}, db.Translate(err)
	}
	return r.domain(), nil
}

// Offers lists tenant's offers.
func (s *Store) Offers(ctx context.Context, tenant string) ([]Offer, error) {
	var rows []offerRow
	if err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Where("tenant_id = ?", tenant).Order("created_at, id").Find(&rows).Error
	}); err != nil {
		return nil, db.Translate(err)
	}
	out := make([]Offer, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// CheckoutInput starts a checkout for a viewer.
type CheckoutInput struct {
	OfferID    string `json:"offer_id"`
	ViewerID   string `json:"viewer_id"`
	SuccessURL string `json:"success_url"`
	CancelURL  string `json:"cancel_url"`
}

// Checkout is a started Stripe Checkout.
type Checkout struct {
	ID              string    `json:"id"`
	TenantID        string    `json:"tenant_id"`
	OfferID         string    `json:"offer_id"`
	ViewerID        string    `json:"viewer_id"`
	Status          string    `json:"status"`
	StripeSessionID string    `json:"stripe_session_id"`
	URL             string    `json:"url"`
	CreatedAt       time.Time `json:"created_at"`
}

func validURL(field, u string) error {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || len(u) > 2000 {
		return errs.Field(field, "%s must be an absolute http(s) URL", field)
	}
	return nil
}

// StartCheckout creates a Stripe Checkout Session for one of tenant's
// offers, on the tenant's Connect account when connect is not empty.
func (s *Store) StartCheckout(ctx context.Context, tenant, connect string, in CheckoutInput) (Checkout, error) {
	if s.stripe == nil {
		return Checkout{}, errs.E(errs.Unavailable, CodeStripeDisabled, "payments are not configured on this platform")
	}
	if in.ViewerID == "" || len(in.ViewerID) > 200 {
		return Checkout{}, errs.Field("viewer_id", "viewer_id must be 1 to 200 characters")
	}
	if err := validURL("success_url", in.SuccessURL); err != nil {
		return Checkout{}, err
	}
	if err := validURL("cancel_url", in.CancelURL); err != nil {
		return Checkout{}, err
	}
	var o offerRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		err := tx.Where("tenant_id = ? AND id = ? AND active", tenant, in.OfferID).Take(&o).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return errs.E(errs.NotFound, "not_found", "no offer %q", in.OfferID)
		}
		return err
	})
	if err != nil {
		return Checkout{}, db.Translate(err)
	}
	id := ids.New("chk")
	meta := map[string]string{"marquee_tenant_id": tenant, "marquee_checkout_id": id, "marquee_offer_id": o.ID, "marquee_viewer_id": in.ViewerID, "marquee_kind": "viewer_" + o.Kind}
	price := &stripe.CheckoutSessionLineItemPriceDataParams{
		Currency:    stripe.String(o.Currency),
		UnitAmount:  stripe.Int64(o.Price),
		ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String(o.Name)},
	}
	p := &stripe.CheckoutSessionParams{
		SuccessURL:        stripe.String(in.SuccessURL),
		CancelURL:         stripe.String(in.CancelURL),
		ClientReferenceID: stripe.String(id),
		LineItems:         []*stripe.CheckoutSessionLineItemParams{{PriceData: price, Quantity: stripe.Int64(1)}},
	}
	if o.Kind == KindSVOD {
		p.Mode = stripe.String(string(stripe.CheckoutSessionModeSubscription))
		price.Recurring = &stripe.CheckoutSessionLineItemPriceDataRecurringParams{Interval: stripe.String("month")}
		p.SubscriptionData = &stripe.CheckoutSessionSubscriptionDataParams{Metadata: meta}
	} else {
		p.Mode = stripe.String(string(stripe.CheckoutSessionModePayment))
		p.PaymentIntentData = &stripe.CheckoutSessionPaymentIntentDataParams{Metadata: meta}
	}
	p.Metadata = meta
	p.SetIdempotencyKey("checkout-" + id)
	if connect != "" {
		p.SetStripeAccount(connect)
	}
	sess, err := s.stripe.CheckoutSessions.New(p)
	if err != nil {
		return Checkout{}, errs.Wrap(errs.Unavailable, "stripe_error", err, "Stripe refused the checkout")
	}
	now := s.now().UTC()
	c := Checkout{ID: id, TenantID: tenant, OfferID: o.ID, ViewerID: in.ViewerID, Status: "open", StripeSessionID: sess.ID, URL: sess.URL, CreatedAt: now}
	err = s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Exec(`INSERT INTO commerce_checkouts (tenant_id, id, offer_id, stripe_session_id, viewer_id, status, created_at)
			VALUES (?, ?, ?, ?, ?, 'open', ?)`, tenant, id, o.ID, sess.ID, in.ViewerID, now).Error
	})
	if err != nil {
		return Checkout{}, db.Translate(err)
	}
	return c, nil
}

// Completed handles a completed Checkout Session (from the Stripe
// webhook): it grants the offer to the viewer. objectID is the Stripe
// object the grant is keyed by (the subscription for SVOD, else the
// session), at the event's time.
func (s *Store) Completed(ctx context.Context, tenant, checkoutID, objectID string, at time.Time) error {
	var row struct {
		OfferID  string
		ViewerID string
		Status   string
	}
	var o offerRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		res := tx.Raw("SELECT offer_id, viewer_id, status FROM commerce_checkouts WHERE tenant_id = ? AND id = ?", tenant, checkoutID).Scan(&row)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.E(errs.NotFound, "not_found", "no checkout %q", checkoutID)
		}
		return tx.Where("tenant_id = ? AND id = ?", tenant, row.OfferID).Take(&o).Error
	})
	if err != nil {
		return db.Translate(err)
	}
	g := Grant{ID: objectID, TenantID: tenant, ViewerID: row.ViewerID, Kind: o.Kind, Tier: o.Tier, TitleID: o.TitleID}
	if o.Kind == KindRental {
		g.Window = time.Duration(o.WindowSeconds) * time.Second
		g.ExpiresAt = at.UTC().Add(g.Window)
	}
	if err := s.granter.Grant(ctx, g); err != nil {
		return fmt.Errorf("grant %s: %w", objectID, err)
	}
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Exec("UPDATE commerce_checkouts SET status = 'complete', grant_id = ?, completed_at = ? WHERE tenant_id = ? AND id = ?",
			objectID, at.UTC(), tenant, checkoutID).Error
	}))
}

// Revoked withdraws the grant keyed by objectID (an SVOD subscription that
// ended, a refunded rental or purchase).
func (s *Store) Revoked(ctx context.Context, tenant, objectID string) error {
	return s.granter.Revoke(ctx, tenant, objectID)
}

// RevokedCheckout withdraws the grant a completed checkout made (a refund).
func (s *Store) RevokedCheckout(ctx context.Context, tenant, checkoutID string) error {
	var grant struct{ GrantID *string }
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Raw("SELECT grant_id FROM commerce_checkouts WHERE tenant_id = ? AND id = ?", tenant, checkoutID).Scan(&grant).Error
	})
	if err != nil {
		return db.Translate(err)
	}
	if grant.GrantID == nil {
		return nil
	}
	return s.granter.Revoke(ctx, tenant, *grant.GrantID)
}
