package plans

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"gorm.io/gorm"

	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/ids"
)

// PlanPrefix is the id prefix of plans.
const PlanPrefix = "pln"

// Account is how a tenant is billed: by its parent (the issuer), on one of
// the issuer's plans.
type Account struct {
	TenantID             string     `json:"tenant_id"`
	IssuerID             string     `json:"issuer_id"`
	PlanID               *string    `json:"plan_id"`
	StripeCustomerID     *string    `json:"stripe_customer_id,omitempty"`
	StripeSubscriptionID *string    `json:"stripe_subscription_id,omitempty"`
	ConnectAccountID     *string    `json:"connect_account_id,omitempty"`
	Dunning              string     `json:"dunning"`
	PastDueSince         *time.Time `json:"past_due_since,omitempty"`
	SuspendedByBilling   bool       `json:"suspended_by_billing"`
	UpdatedAt            time.Time  `json:"updated_at"`
}

// Dunning states.
const (
	DunningOK        = "ok"
	DunningPastDue   = "past_due"
	DunningSuspended = "suspended"
)

// HistoryEntry is one plan a tenant was put on, from StartsAt.
type HistoryEntry struct {
	StartsAt time.Time `json:"starts_at"`
	IssuerID string    `json:"issuer_id"`
	PlanID   string    `json:"plan_id"`
}

// Book stores price books, billing accounts and plan history.
type Book struct {
	db  *db.DB
	now func() time.Time
}

// NewBook returns a Book over d.
func NewBook(d *db.DB) *Book { return &Book{db: d, now: time.Now} }

// SetClock replaces the book's clock (tests of proration).
func (b *Book) SetClock(now func() time.Time) { b.now = now }

type planRow struct {
	TenantID  string `gorm:"primaryKey"`
	ID        string `gorm:"primaryKey"`
	Name      string
	Currency  string
	BaseFee   int64
	Prices    string
	Archived  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (planRow) TableName() string { return "billing_plans" }

func (r planRow) domain() (Plan, error) {
	p := Plan{TenantID: r.TenantID, ID: r.ID, Name: r.Name, Currency: r.Currency, BaseFee: r.BaseFee, Archived: r.Archived,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if err := json.Unmarshal([]byte(r.Prices), &p.Prices); err != nil {
		return Plan{}, fmt.Errorf("plan %s prices: %w", r.ID, err)
	}
	if p.Prices == nil {
		p.Prices = []Price{}
	}
	return p, nil
}

func planNotFound(id string) error {
	return errs.E(errs.NotFound, CodePlanNotFound, "no plan %q in this price book", id)
}

// Create adds a plan to issuer's price book.
func (b *Book) Create(ctx context.Context, issuer string, in Input) (Plan, error) {
	if err := in.Validate(); err != nil {
		return Plan{}, err
	}
	prices, err := json.Marshal(nonNilPrices(in.Prices))
	if err != nil {
		return Plan{}, err
	}
	now := b.now().UTC()
	r := planRow{TenantID: issuer, ID: ids.New(PlanPrefix), Name: in.Name, Currency: in.Currency, BaseFee: in.BaseFee, Prices: string(prices), CreatedAt: now, UpdatedAt: now}
	if err := b.db.Tx(ctx, issuer, func(tx *db.Tx) error { return tx.Create(&r).Error }); err != nil {
		return Plan{}, db.Translate(err)
	}
	return r.domain()
}

// Update replaces a plan of issuer's book. Invoices already finalized keep
// their lines; drafts are rated with the new prices when next refreshed.
func (b *Book) Update(ctx context.Context, issuer, id string, in Input) (Plan, error) {
	if err := in.Validate(); err != nil {
		return Plan{}, err
	}
	prices, err := json.Marshal(nonNilPrices(in.Prices))
	if err != nil {
		return Plan{}, err
	}
	var r planRow
	err = b.db.Tx(ctx, issuer, func(tx *db.Tx) error {
		res := tx.Model(&planRow{}).Where("tenant_id = ? AND id = ?", issuer, id).Updates(map[string]any{
			"name": in.Name, "currency": in.Currency, "base_fee": in.BaseFee, "prices": string(prices), "updated_at": b.now().UTC(),
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return planNotFound(id)
		}
		return tx.Where("tenant_id = ? AND id = ?", issuer, id).Take(&r).Error
	})
	if err != nil {
		return Plan{}, db.Translate(err)
	}
	return r.domain()
}

// Plans lists issuer's price book.
func (b *Book) Plans(ctx context.Context, issuer string) ([]Plan, error) {
	var rows []planRow
	if err := b.db.Tx(ctx, issuer, func(tx *db.Tx) error {
		return tx.Where("tenant_id = ?", issuer).Order("created_at, id").Find(&rows).Error
	}); err != nil {
		return nil, db.Translate(err)
	}
	out := make([]Plan, 0, len(rows))
	for _, r := range rows {
		p, err := r.domain()
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Plan returns one plan of issuer's book.
func (b *Book) Plan(ctx context.Context, issuer, id string) (Plan, error) {
	var r planRow
	err := b.db.Tx(ctx, issuer, func(tx *db.Tx) error {
		err := tx.Where("tenant_id = ? AND id = ?", issuer, id).Take(&r).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return planNotFound(id)
		}
		return err
	})
	if err != nil {
		return Plan{}, db.Translate(err)
	}
	return r.domain()
}

func nonNilPrices(p []Price) []Price {
	if p == nil {
		return []Price{}
	}
	return p
}

type accountRow struct {
	TenantID             string `gorm:"primaryKey"`
	IssuerID             string
	PlanID               *string
	StripeCustomerID     *string
	StripeSubscriptionID *string
	ConnectAccountID     *string
	Dunning              string
	PastDueSince         *time.Time
	SuspendedByBilling   bool
	UpdatedAt            time.Time
}

func (accountRow) TableName() string { return "billing_accounts" }

func (r accountRow) domain() Account {
	a := Account{TenantID: r.TenantID, IssuerID: r.IssuerID, PlanID: r.PlanID, StripeCustomerID: r.StripeCustomerID,
		StripeSubscriptionID: r.StripeSubscriptionID, ConnectAccountID: r.ConnectAccountID, Dunning: r.Dunning,
		SuspendedByBilling: r.SuspendedByBilling, UpdatedAt: r.UpdatedAt.UTC()}
	if r.PastDueSince != nil {
		t := r.PastDueSince.UTC()
		a.PastDueSince = &t
	}
	return a
}

// Assign puts tenant (a child of issuer) on issuer's plan planID from now
// on. The change is recorded in the plan history, which invoices prorate
// by.
func (b *Book) Assign(ctx context.Context, issuer, tenant, planID string) (Account, error) {
	var out accountRow
	now := b.now().UTC().Truncate(time.Second)
	err := b.db.Tx(ctx, issuer, func(tx *db.Tx) error {
		var parent struct{ ParentID *string }
		res := tx.Raw("SELECT parent_id FROM tenants WHERE id = ?", tenant).Scan(&parent)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 || parent.ParentID == nil || *parent.ParentID != issuer {
			return errs.E(errs.NotFound, "not_found", "no sub-tenant %q", tenant)
		}
		var p planRow
		if err := tx.Where("tenant_id = ? AND id = ?", issuer, planID).Take(&p).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return planNotFound(planID)
			}
			return err
		}
		if p.Archived {
			return errs.E(errs.Conflict, "plan_archived", "plan %s is archived", planID)
		}
		err := tx.Exec(`INSERT INTO billing_accounts (tenant_id, issuer_id, plan_id, dunning, updated_at) VALUES (?, ?, ?, 'ok', ?)
			ON CONFLICT (tenant_id) DO UPDATE SET issuer_id = excluded.issuer_id, plan_id = excluded.plan_id, updated_at = excluded.updated_at`,
			tenant, issuer, planID, now).Error
		if err != nil {
			return err
		}
		if err := tx.Exec(`INSERT INTO billing_plan_history (tenant_id, starts_at, issuer_id, plan_id) VALUES (?, ?, ?, ?)
			ON CONFLICT (tenant_id, starts_at) DO UPDATE SET issuer_id = excluded.issuer_id, plan_id = excluded.plan_id`,
			tenant, now, issuer, planID).Error; err != nil {
			return err
		}
		return tx.Where("tenant_id = ?", tenant).Take(&out).Error
	})
	if err != nil {
		return Account{}, db.Translate(err)
	}
	return out.domain(), nil
}

// Account returns tenant's billing account, read as actor (the tenant or
// an ancestor). A tenant never put on a plan has a zero account with
// Dunning "ok".
func (b *Book) Account(ctx context.Context, actor, tenant string) (Account, error) {
	var r accountRow
	found := false
	err := b.db.Tx(ctx, actor, func(tx *db.Tx) error {
		res := tx.Where("tenant_id = ?", tenant).Limit(1).Find(&r)
		found = res.RowsAffected > 0
		return res.Error
	})
	if err != nil {
		return Account{}, db.Translate(err)
	}
	if !found {
		return Account{TenantID: tenant, Dunning: DunningOK}, nil
	}
	return r.domain(), nil
}

// History lists tenant's plan changes, oldest first (system scope: the
// invoicer reads the issuer's plans for the tenant).
func History(tx *db.Tx, tenant string) ([]HistoryEntry, error) {
	var rows []HistoryEntry
	if err := tx.Raw("SELECT starts_at, issuer_id, plan_id FROM billing_plan_history WHERE tenant_id = ? ORDER BY starts_at", tenant).Scan(&rows).Error; err != nil {
		return nil, err
	}
	for i := range rows {
		rows[i].StartsAt = rows[i].StartsAt.UTC()
	}
	return rows, nil
}

// Load reads a plan inside tx, whatever the transaction's scope allows.
func Load(tx *db.Tx, issuer, id string) (Plan, error) {
	var r planRow
	if err := tx.Where("tenant_id = ? AND id = ?", issuer, id).Take(&r).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return Plan{}, planNotFound(id)
		}
		return Plan{}, err
	}
	return r.domain()
}

// Segments splits [start, end) by the plan history: each stretch under one
// plan, in order. Stretches before the first plan are not billed.
func Segments(hist []HistoryEntry, start, end time.Time, load func(issuer, id string) (Plan, error)) ([]Segment, error) {
	var out []Segment
	for i, h := range hist {
		from := h.StartsAt
		to := end
		if i+1 < len(hist) {
			to = hist[i+1].StartsAt
		}
		if from.Before(start) {
			from = start
		}
		if to.After(end) {
			to = end
		}
		if !to.After(from) {
			continue
		}
		p, err := load(h.IssuerID, h.PlanID)
		if err != nil {
			return nil, err
		}
		out = append(out, Segment{Plan: p, From: from, To: to, Fraction: Fraction(from, to, start, end)})
	}
	return out, nil
}

var connectRE = regexp.MustCompile(`^acct_[A-Za-z0-9]{1,64}$`)

// SetConnect records tenant's Stripe Connect account, on which its
// storefront's checkouts are made ("" removes it).
func (b *Book) SetConnect(ctx context.Context, tenant, account string) (Account, error) {
	if account != "" && !connectRE.MatchString(account) {
		e := errs.E(errs.Invalid, "invalid_connect_account", "connect_account_id must look like acct_…")
		e.Field = "connect_account_id"
		return Account{}, e
	}
	var out accountRow
	err := b.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		var parent struct{ ParentID *string }
		if err := tx.Raw("SELECT parent_id FROM tenants WHERE id = ?", tenant).Scan(&parent).Error; err != nil {
			return err
		}
		issuer := tenant
		if parent.ParentID != nil {
			issuer = *parent.ParentID
		}
		var acct *string
		if account != "" {
			acct = &account
		}
		if err := tx.Exec(`INSERT INTO billing_accounts (tenant_id, issuer_id, connect_account_id, dunning, updated_at) VALUES (?, ?, ?, 'ok', ?)
			ON CONFLICT (tenant_id) DO UPDATE SET connect_account_id = excluded.connect_account_id, updated_at = excluded.updated_at`,
			tenant, issuer, acct, b.now().UTC()).Error; err != nil {
			return err
		}
		return tx.Where("tenant_id = ?", tenant).Take(&out).Error
	})
	if err != nil {
		return Account{}, db.Translate(err)
	}
	return out.domain(), nil
}
