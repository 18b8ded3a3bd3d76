package invoices

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/marquee-video/marquee/billing/plans"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/errs"
)

// Suspender suspends and resumes tenants through the tenant service, the
// same way PATCH /v1/tenants/:id does (a suspended tenant is read-only).
// Suspend reports whether this call suspended the tenant (false: it was
// suspended already, by someone else).
type Suspender interface {
	Suspend(ctx context.Context, tenantID string) (bool, error)
	Resume(ctx context.Context, tenantID string) error
}

// Dunning moves billing accounts through ok → past_due → suspended when
// invoices go unpaid, and back to ok when they are paid.
type Dunning struct {
	db        *db.DB
	suspender Suspender
	grace     time.Duration
	now       func() time.Time
}

// DefaultGrace is how long an account stays past due before its tenant is
// suspended.
const DefaultGrace = 7 * 24 * time.Hour

// NewDunning returns a Dunning; grace 0 means DefaultGrace.
func NewDunning(d *db.DB, s Suspender, grace time.Duration) *Dunning {
	if grace <= 0 {
		grace = DefaultGrace
	}
	return &Dunning{db: d, suspender: s, grace: grace, now: time.Now}
}

// SetClock replaces the clock (tests walk past the grace period).
func (d *Dunning) SetClock(now func() time.Time) { d.now = now }

// ByStripeInvoice finds the invoice mirrored as Stripe invoice sid.
func (v *Invoicer) ByStripeInvoice(ctx context.Context, sid string) (Invoice, error) {
	var r invoiceRow
	err := v.db.System(ctx, func(tx *db.Tx) error {
		err := tx.Where("stripe_invoice_id = ?", sid).Take(&r).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return errs.E(errs.NotFound, "not_found", "no invoice mirrors Stripe invoice %q", sid)
		}
		return err
	})
	if err != nil {
		return Invoice{}, db.Translate(err)
	}
	return r.domain()
}

// SetStripeInvoice records the Stripe invoice mirroring invoice id.
func (v *Invoicer) SetStripeInvoice(ctx context.Context, tenant, id, sid string) error {
	return db.Translate(v.db.System(ctx, func(tx *db.Tx) error {
		return tx.Model(&invoiceRow{}).Where("tenant_id = ? AND id = ?", tenant, id).Update("stripe_invoice_id", sid).Error
	}))
}

// PaymentFailed marks the tenant's account past due from at (unless it is
// already past due or suspended).
func (d *Dunning) PaymentFailed(ctx context.Context, tenant string, at time.Time) error {
	return db.Translate(d.db.System(ctx, func(tx *db.Tx) error {
		return tx.Exec(`UPDATE billing_accounts SET dunning = ?, past_due_since = ?, updated_at = ?
			WHERE tenant_id = ? AND dunning = ?`, plans.DunningPastDue, at.UTC(), d.now().UTC(), tenant, plans.DunningOK).Error
	}))
}

// Paid records invoice inv as paid at at. When the tenant owes nothing
// else, its account returns to ok and, if dunning suspended it, it is
// resumed: exactly the suspension billing caused, nothing else.
func (d *Dunning) Paid(ctx context.Context, inv Invoice, at time.Time) error {
	var resume bool
	err := d.db.System(ctx, func(tx *db.Tx) error {
		if err := tx.Model(&invoiceRow{}).Where("tenant_id = ? AND id = ? AND status IN ?", inv.TenantID, inv.ID, []string{StatusOpen, StatusDraft, StatusUncollectible}).
			Updates(map[string]any{"status": StatusPaid, "paid_at": at.UTC(), "updated_at": d.now().UTC()}).Error; err != nil {
			return err
		}
		var unpaid int64
		if err := tx.Model(&invoiceRow{}).Where("tenant_id = ? AND status = ?", inv.TenantID, StatusOpen).Count(&unpaid).Error; err != nil {
			return err
		}
		if unpaid > 0 {
			return nil
		}
		var acct struct {
			Dunning            string
			SuspendedByBilling bool
		}
		res := tx.Raw("SELECT dunning, suspended_by_billing FROM billing_accounts WHERE tenant_id = ?", inv.TenantID).Scan(&acct)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		resume = acct.SuspendedByBilling
		return tx.Exec(`UPDATE billing_accounts SET dunning = ?, past_due_since = NULL, suspended_by_billing = ?, updated_at = ? WHERE tenant_id = ?`,
			plans.DunningOK, false, d.now().UTC(), inv.TenantID).Error
	})
	if err != nil {
		return db.Translate(err)
	}
	if resume {
		if err := d.suspender.Resume(ctx, inv.TenantID); err != nil {
			return fmt.Errorf("resume %s after payment: %w", inv.TenantID, err)
		}
	}
	return nil
}

// Sweep suspends every tenant past due for longer than the grace period,
// and returns the tenants it moved to suspended.
func (d *Dunning) Sweep(ctx context.Context) ([]string, error) {
	var due []string
	cutoff := d.now().UTC().Add(-d.grace)
	if err := d.db.System(ctx, func(tx *db.Tx) error {
		return tx.Raw("SELECT tenant_id FROM billing_accounts WHERE dunning = ? AND past_due_since <= ? ORDER BY tenant_id",
			plans.DunningPastDue, cutoff).Scan(&due).Error
	}); err != nil {
		return nil, db.Translate(err)
	}
	var done []string
	for _, t := range due {
		caused, err := d.suspender.Suspend(ctx, t)
		if err != nil {
			return done, fmt.Errorf("suspend %s for non-payment: %w", t, err)
		}
		var moved int64
		if err := d.db.System(ctx, func(tx *db.Tx) error {
			res := tx.Exec(`UPDATE billing_accounts SET dunning = ?, suspended_by_billing = ?, updated_at = ? WHERE tenant_id = ? AND dunning = ?`,
				plans.DunningSuspended, caused, d.now().UTC(), t, plans.DunningPastDue)
			moved = res.RowsAffected
			return res.Error
		}); err != nil {
			return done, db.Translate(err)
		}
		if moved == 0 {
			// Paid between the read and the suspension: undo it.
			if caused {
				if err := d.suspender.Resume(ctx, t); err != nil {
					return done, fmt.Errorf("resume %s paid during the sweep: %w", t, err)
				}
			}
			continue
		}
		done = append(done, t)
	}
	return done, nil
}
