// Package invoices computes monthly invoices from the usage rollups and the
// plan history, stores them as drafts, finalizes them, and keeps each
// billing account's dunning state.
//
// Every tenant on a plan is invoiced by its issuer (the parent whose price
// book the plan is from) for the usage of its whole subtree: a creator's
// subtree is itself, and a reseller pays the platform for everything under
// it, at the platform's prices, while invoicing each of its sub-tenants at
// its own. An invoice is a pure function of the rollups, the plans and the
// plan history, so it can be recomputed; a finalized invoice never changes.
package invoices

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/marquee-video/marquee/billing/metering"
	"github.com/marquee-video/marquee/billing/plans"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/ids"
)

// Prefix is the id prefix of invoices.
const Prefix = "inv"

// Statuses.
const (
	StatusDraft         = "draft"
	StatusOpen          = "open" // finalized, awaiting payment
	StatusPaid          = "paid"
	StatusVoid          = "void"
	StatusUncollectible = "uncollectible"
)

// Error codes.
const (
	CodeInvalidPeriod = "invalid_period"
	CodeNotDraft      = "invoice_not_draft"
)

// Invoice is what a tenant owes its issuer for one month.
type Invoice struct {
	TenantID        string       `json:"tenant_id"`
	ID              string       `json:"id"`
	IssuerID        string       `json:"issuer_id"`
	Period          string       `json:"period"`
	Status          string       `json:"status"`
	Currency        string       `json:"currency"`
	Subtotal        int64        `json:"subtotal"`
	Total           int64        `json:"total"`
	Lines           []plans.Line `json:"lines"`
	StripeInvoiceID *string      `json:"stripe_invoice_id,omitempty"`
	CreatedAt       time.Time    `json:"created_at"`
	UpdatedAt       time.Time    `json:"updated_at"`
	FinalizedAt     *time.Time   `json:"finalized_at,omitempty"`
	PaidAt          *time.Time   `json:"paid_at,omitempty"`
}

// ParsePeriod turns "YYYY-MM" into its first instant and the next month's.
func ParsePeriod(p string) (start, end time.Time, err error) {
	t, perr := time.Parse("2006-01", p)
	if perr != nil || len(p) != 7 {
		e := errs.E(errs.Invalid, CodeInvalidPeriod, "period must be YYYY-MM, got %q", p)
		e.Field = "period"
		return time.Time{}, time.Time{}, e
	}
	return t.UTC(), t.AddDate(0, 1, 0).UTC(), nil
}

// Invoicer computes and stores invoices.
type Invoicer struct {
	db  *db.DB
	now func() time.Time
}

// New returns an Invoicer over d.
func New(d *db.DB) *Invoicer { return &Invoicer{db: d, now: time.Now} }

// SetClock replaces the invoicer's clock.
func (v *Invoicer) SetClock(now func() time.Time) { v.now = now }

// Compute rates tenant's subtree usage in period under its plan history,
// without storing anything. It runs in the system scope: the plans belong
// to the issuer and the usage to the subtree. ok is false when the tenant
// was on no plan during the period.
func (v *Invoicer) Compute(ctx context.Context, tenant, period string) (inv Invoice, ok bool, err error) {
	start, end, err := ParsePeriod(period)
	if err != nil {
		return Invoice{}, false, err
	}
	err = v.db.System(ctx, func(tx *db.Tx) error {
		inv, ok, err = compute(tx, tenant, period, start, end)
		return err
	})
	return inv, ok, db.Translate(err)
}

func compute(tx *db.Tx, tenant, period string, start, end time.Time) (Invoice, bool, error) {
	hist, err := plans.History(tx, tenant)
	if err != nil {
		return Invoice{}, false, err
	}
	segs, err := plans.Segments(hist, start, end, func(issuer, id string) (plans.Plan, error) { return plans.Load(tx, issuer, id) })
	if err != nil || len(segs) == 0 {
		return Invoice{}, false, err
	}
	last := segs[len(segs)-1]
	inv := Invoice{TenantID: tenant, IssuerID: last.Plan.TenantID, Period: period, Currency: last.Plan.Currency, Lines: []plans.Line{}}
	for _, s := range segs {
		if s.Plan.Currency != inv.Currency || s.Plan.TenantID != inv.IssuerID {
			return Invoice{}, false, errs.E(errs.Conflict, "mixed_plans", "tenant %s changed issuer or currency within %s; invoice it by hand", tenant, period)
		}
		// Usage is kept by the hour: the hour in which the plan changed
		// is rated entirely under the new plan.
		points, err := metering.SubtreeUsage(tx, tenant, s.From.Truncate(time.Hour), s.To.Truncate(time.Hour))
		if err != nil {
			return Invoice{}, false, err
		}
		usage := make([]plans.Usage, len(points))
		for i, p := range points {
			usage[i] = plans.Usage{Meter: p.Meter, Dimensions: p.Dimensions, Quantity: p.Quantity}
		}
		inv.Lines = append(inv.Lines, plans.Rate(s, usage)...)
	}
	for _, l := range inv.Lines {
		inv.Subtotal += l.Amount
	}
	inv.Total = inv.Subtotal
	return inv, true, nil
}

type invoiceRow struct {
	TenantID        string `gorm:"primaryKey"`
	ID              string `gorm:"primaryKey"`
	IssuerID        string
	Period          string
	Status          string
	Currency        string
	Subtotal        int64
	Total           int64
	Lines           string
	StripeInvoiceID *string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	FinalizedAt     *time.Time
	PaidAt          *time.Time
}

func (invoiceRow) TableName() string { return "invoices" }

func (r invoiceRow) domain() (Invoice, error) {
	inv := Invoice{TenantID: r.TenantID, ID: r.ID, IssuerID: r.IssuerID, Period: r.Period, Status: r.Status, Currency: r.Currency,
		Subtotal: r.Subtotal, Total: r.Total, StripeInvoiceID: r.StripeInvoiceID, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		FinalizedAt: utc(r.FinalizedAt), PaidAt: utc(r.PaidAt)}
	if err := json.Unmarshal([]byte(r.Lines), &inv.Lines); err != nil {
		return Invoice{}, fmt.Errorf("invoice %s lines: %w", r.ID, err)
	}
	return inv, nil
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Generate computes the period's invoice of every tenant issuer bills and
// stores it as a draft, replacing an older draft; finalized invoices are
// left alone. It returns the drafts written.
func (v *Invoicer) Generate(ctx context.Context, issuer, period string) ([]Invoice, error) {
	start, end, err := ParsePeriod(period)
	if err != nil {
		return nil, err
	}
	var out []Invoice
	err = v.db.System(ctx, func(tx *db.Tx) error {
		var tenantIDs []string
		if err := tx.Raw(`SELECT DISTINCT tenant_id FROM billing_plan_history WHERE issuer_id = ? ORDER BY tenant_id`, issuer).Scan(&tenantIDs).Error; err != nil {
			return err
		}
		now := v.now().UTC()
		for _, t := range tenantIDs {
			inv, ok, err := compute(tx, t, period, start, end)
			if err != nil {
				return err
			}
			if !ok || inv.IssuerID != issuer {
				continue
			}
			var existing invoiceRow
			res := tx.Where("tenant_id = ? AND issuer_id = ? AND period = ?", t, issuer, period).Limit(1).Find(&existing)
			if res.Error != nil {
				return res.Error
			}
			lines, err := json.Marshal(inv.Lines)
			if err != nil {
				return err
			}
			if res.RowsAffected > 0 {
				if existing.Status != StatusDraft {
					continue
				}
				existing.Lines, existing.Subtotal, existing.Total, existing.Currency, existing.UpdatedAt = string(lines), inv.Subtotal, inv.Total, inv.Currency, now
				if err := tx.Save(&existing).Error; err != nil {
					return err
				}
				d, err := existing.domain()
				if err != nil {
					return err
				}
				out = append(out, d)
				continue
			}
			r := invoiceRow{TenantID: t, ID: ids.New(Prefix), IssuerID: issuer, Period: period, Status: StatusDraft, Currency: inv.Currency,
				Subtotal: inv.Subtotal, Total: inv.Total, Lines: string(lines), CreatedAt: now, UpdatedAt: now}
			if err := tx.Create(&r).Error; err != nil {
				return err
			}
			d, err := r.domain()
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, db.Translate(err)
	}
	return out, nil
}

func notFound(id string) error { return errs.E(errs.NotFound, "not_found", "no invoice %q", id) }

// Finalize makes a draft invoice of issuer's final (status open). Only the
// issuer finalizes.
func (v *Invoicer) Finalize(ctx context.Context, issuer, id string) (Invoice, error) {
	var r invoiceRow
	err := v.db.Tx(ctx, issuer, func(tx *db.Tx) error {
		if err := tx.Where("issuer_id = ? AND id = ?", issuer, id).Take(&r).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return notFound(id)
			}
			return err
		}
		if r.Status != StatusDraft {
			return errs.E(errs.Conflict, CodeNotDraft, "invoice %s is %s, not a draft", id, r.Status)
		}
		now := v.now().UTC()
		r.Status, r.FinalizedAt, r.UpdatedAt = StatusOpen, &now, now
		if r.Total == 0 {
			r.Status, r.PaidAt = StatusPaid, &now
		}
		return tx.Save(&r).Error
	})
	if err != nil {
		return Invoice{}, db.Translate(err)
	}
	return r.domain()
}

// Filter selects invoices for List.
type Filter struct {
	// Tenant lists the invoices this tenant receives; Issued lists those
	// it issued to its sub-tenants instead.
	Tenant string
	Issued bool
	Period string
	Limit  int
	After  string // invoice id
}

// List lists invoices as actor (the tenant or an ancestor), newest period
// first.
func (v *Invoicer) List(ctx context.Context, actor string, f Filter) ([]Invoice, string, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	if f.Period != "" {
		if _, _, err := ParsePeriod(f.Period); err != nil {
			return nil, "", err
		}
	}
	var rows []invoiceRow
	err := v.db.Tx(ctx, actor, func(tx *db.Tx) error {
		q := tx.Model(&invoiceRow{})
		if f.Issued {
			q = q.Where("issuer_id = ?", f.Tenant)
		} else {
			q = q.Where("tenant_id = ?", f.Tenant)
		}
		if f.Period != "" {
			q = q.Where("period = ?", f.Period)
		}
		if f.After != "" {
			q = q.Where("id < ?", f.After)
		}
		return q.Order("id DESC").Limit(f.Limit + 1).Find(&rows).Error
	})
	if err != nil {
		return nil, "", db.Translate(err)
	}
	next := ""
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		next = rows[len(rows)-1].ID
	}
	out := make([]Invoice, 0, len(rows))
	for _, r := range rows {
		d, err := r.domain()
		if err != nil {
			return nil, "", err
		}
		out = append(out, d)
	}
	return out, next, nil
}

// Get returns invoice id if actor receives or issued it (or is an ancestor
// of its tenant).
func (v *Invoicer) Get(ctx context.Context, actor, id string) (Invoice, error) {
	var r invoiceRow
	err := v.db.Tx(ctx, actor, func(tx *db.Tx) error {
		// Scoped in Go too (SQLite has no row-level security): the
		// invoice's tenant must be actor or below it.
		within := "strpos(path, ?) > 0"
		if tx.Dialect() != db.Postgres {
			within = "instr(path, ?) > 0"
		}
		err := tx.Where("id = ? AND tenant_id IN (SELECT id FROM tenants WHERE "+within+")", id, "/"+actor+"/").Take(&r).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return notFound(id)
		}
		return err
	})
	if err != nil {
		return Invoice{}, db.Translate(err)
	}
	return r.domain()
}

// All lists every invoice of a period, for platform operations (system
// scope).
func (v *Invoicer) All(ctx context.Context, period string) ([]Invoice, error) {
	if _, _, err := ParsePeriod(period); err != nil {
		return nil, err
	}
	var rows []invoiceRow
	if err := v.db.System(ctx, func(tx *db.Tx) error {
		return tx.Where("period = ?", period).Order("tenant_id, issuer_id").Find(&rows).Error
	}); err != nil {
		return nil, db.Translate(err)
	}
	out := make([]Invoice, 0, len(rows))
	for _, r := range rows {
		d, err := r.domain()
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// ClosePeriod invoices a finished month for every issuer: it computes the
// drafts (Generate) and finalizes each, calling finalized (when not nil)
// with every invoice it finalized, e.g. to mirror it to Stripe. Invoices
// finalized before are left alone, so running it twice changes nothing.
func (v *Invoicer) ClosePeriod(ctx context.Context, period string, finalized func(context.Context, Invoice) error) ([]Invoice, error) {
	if _, end, err := ParsePeriod(period); err != nil {
		return nil, err
	} else if end.After(v.now()) {
		return nil, errs.E(errs.Conflict, "period_open", "period %s has not ended", period)
	}
	var issuers []string
	if err := v.db.System(ctx, func(tx *db.Tx) error {
		return tx.Raw("SELECT DISTINCT issuer_id FROM billing_plan_history ORDER BY issuer_id").Scan(&issuers).Error
	}); err != nil {
		return nil, db.Translate(err)
	}
	var out []Invoice
	for _, issuer := range issuers {
		drafts, err := v.Generate(ctx, issuer, period)
		if err != nil {
			return out, fmt.Errorf("close %s for %s: %w", period, issuer, err)
		}
		for _, d := range drafts {
			inv, err := v.Finalize(ctx, issuer, d.ID)
			if err != nil {
				return out, fmt.Errorf("close %s: finalize %s: %w", period, d.ID, err)
			}
			if finalized != nil {
				if err := finalized(ctx, inv); err != nil {
					return out, fmt.Errorf("close %s: %s: %w", period, inv.ID, err)
				}
			}
			out = append(out, inv)
		}
	}
	return out, nil
}
