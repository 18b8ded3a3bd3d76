// Package sqlstore implements tenants.Store with gorm on PostgreSQL and on
// the embedded SQLite database. Every method runs in one transaction scoped
// to the acting tenant, and every query names its tenant as well, so on
// PostgreSQL isolation holds twice (Go filters and row-level security).
package sqlstore

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/tenants"
)

// Store is the SQL tenants.Store.
type Store struct {
	db *db.DB
}

var _ tenants.Store = (*Store)(nil)

// New returns a Store on d.
func New(d *db.DB) *Store { return &Store{db: d} }

type tenantRow struct {
	ID          string `gorm:"primaryKey"`
	ParentID    *string
	Path        string
	Slug        string
	Name        string
	Kind        string
	Status      string
	SuspendedBy *string
	Plan        string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (tenantRow) TableName() string { return "tenants" }

func (r tenantRow) domain() tenants.Tenant {
	return tenants.Tenant{
		ID: r.ID, ParentID: r.ParentID, Path: r.Path, Slug: r.Slug, Name: r.Name, Kind: tenants.Kind(r.Kind),
		Status: tenants.Status(r.Status), SuspendedBy: r.SuspendedBy, Plan: r.Plan, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

func fromTenant(t tenants.Tenant) tenantRow {
	return tenantRow{
		ID: t.ID, ParentID: t.ParentID, Path: t.Path, Slug: t.Slug, Name: t.Name, Kind: string(t.Kind),
		Status: string(t.Status), SuspendedBy: t.SuspendedBy, Plan: t.Plan, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
	}
}

type userRow struct {
	ID           string `gorm:"primaryKey"`
	Email        string
	Name         string
	PasswordHash string
	CreatedAt    time.Time
}

func (userRow) TableName() string { return "users" }

type membershipRow struct {
	TenantID  string `gorm:"primaryKey"`
	UserID    string `gorm:"primaryKey"`
	Role      string
	CreatedAt time.Time
}

func (membershipRow) TableName() string { return "memberships" }

type quotaRow struct {
	TenantID                 string `gorm:"primaryKey"`
	StorageBytes             *int64
	TranscodeMinutesPerMonth *int64 `gorm:"column:transcode_minutes_per_month"`
	Assets                   *int64
	ConcurrentJobs           *int64
	SubTenants               *int64
	EgressGBPerMonth         *int64 `gorm:"column:egress_gb_per_month"`
	UpdatedAt                time.Time
}

func (quotaRow) TableName() string { return "tenant_quotas" }

func (q *quotaRow) fields() map[string]**int64 {
	return map[string]**int64{
		tenants.ResStorageBytes: &q.StorageBytes, tenants.ResTranscodeMinutes: &q.TranscodeMinutesPerMonth,
		tenants.ResAssets: &q.Assets, tenants.ResConcurrentJobs: &q.ConcurrentJobs,
		tenants.ResSubTenants: &q.SubTenants, tenants.ResEgressGBPerMonth: &q.EgressGBPerMonth,
	}
}

func (q quotaRow) limits() tenants.Limits {
	l := tenants.Limits{}
	for k, p := range q.fields() {
		l[k] = *p
	}
	return l
}

func (q *quotaRow) set(l tenants.Limits) {
	for k, p := range q.fields() {
		if v, ok := l[k]; ok {
			*p = v
		}
	}
}

type apiKeyRow struct {
	TenantID   string `gorm:"primaryKey"`
	ID         string `gorm:"primaryKey"`
	Name       string
	Role       string
	Prefix     string
	SecretHash string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

func (apiKeyRow) TableName() string { return "api_keys" }

func (r apiKeyRow) domain() tenants.APIKey {
	return tenants.APIKey{ID: r.ID, TenantID: r.TenantID, Name: r.Name, Role: r.Role, Prefix: r.Prefix, SecretHash: r.SecretHash, CreatedAt: r.CreatedAt.UTC(), LastUsedAt: utcp(r.LastUsedAt), RevokedAt: utcp(r.RevokedAt)}
}

type brandingRow struct {
	TenantID        string `gorm:"primaryKey"`
	DisplayName     string
	PrimaryColor    string
	AccentColor     string
	BackgroundColor string
	EmailSenderName string
	LogoKey         *string
	LogoContentType *string
	UpdatedAt       time.Time
}

func (brandingRow) TableName() string { return "branding" }

type domainRow struct {
	TenantID          string `gorm:"primaryKey"`
	Domain            string `gorm:"primaryKey"`
	VerificationToken string
	VerifiedAt        *time.Time
	CreatedAt         time.Time
}

func (domainRow) TableName() string { return "custom_domains" }

func (r domainRow) domain() tenants.Domain {
	return tenants.WithVerification(tenants.Domain{Domain: r.Domain, Token: r.VerificationToken, VerifiedAt: utcp(r.VerifiedAt)})
}

func utcp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func now() time.Time { return time.Now().UTC() }

// within is the SQL condition "this tenants row is tenant id or under it",
// on the tenants table aliased t (or unaliased when alias is "").
func within(tx *db.Tx, alias string) string {
	col := "path"
	if alias != "" {
		col = alias + ".path"
	}
	if tx.Dialect() == db.Postgres {
		return "strpos(" + col + ", ?) > 0"
	}
	return "instr(" + col + ", ?) > 0"
}

func marker(id string) string { return "/" + id + "/" }

func tenantNotFound(id string) error { return errs.NotFoundf("tenant %q not found", id) }

// EnsureRoot implements tenants.Store.
func (s *Store) EnsureRoot(ctx context.Context, root tenants.Tenant, b tenants.Branding) (tenants.Tenant, error) {
	existing, err := s.Root(ctx)
	if err == nil || !errs.Is(err, errs.NotFound) {
		return existing, err
	}
	err = s.db.System(ctx, func(tx *db.Tx) error {
		r := fromTenant(root)
		if err := tx.Create(&r).Error; err != nil {
			return err
		}
		if err := tx.Create(&quotaRow{TenantID: root.ID, UpdatedAt: root.CreatedAt}).Error; err != nil {
			return err
		}
		return tx.Create(brandingFrom(b)).Error
	})
	if db.IsUniqueViolation(err) {
		return s.Root(ctx) // another process created it first
	}
	if err != nil {
		return tenants.Tenant{}, db.Translate(err)
	}
	return root, nil
}

// Root implements tenants.Store.
func (s *Store) Root(ctx context.Context) (tenants.Tenant, error) {
	var r tenantRow
	err := s.db.System(ctx, func(tx *db.Tx) error {
		return tx.Where("kind = ?", tenants.KindPlatform).Take(&r).Error
	})
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return tenants.Tenant{}, errs.E(errs.NotFound, "not_found", "the platform root does not exist yet: run `marquee migrate up` and start the control plane once")
	}
	return r.domain(), db.Translate(err)
}

func brandingFrom(b tenants.Branding) *brandingRow {
	return &brandingRow{
		TenantID: b.TenantID, DisplayName: b.DisplayName, PrimaryColor: b.PrimaryColor, AccentColor: b.AccentColor,
		BackgroundColor: b.BackgroundColor, EmailSenderName: b.EmailSenderName, UpdatedAt: b.UpdatedAt,
	}
}

// CreateTenant implements tenants.Store.
func (s *Store) CreateTenant(ctx context.Context, acting string, t tenants.Tenant, l tenants.Limits, b tenants.Branding, owner *tenants.User, admit tenants.Admit) (tenants.Tenant, error) {
	if t.ParentID == nil || *t.ParentID != acting {
		return tenants.Tenant{}, errors.New("sqlstore: a new tenant's parent must be the acting tenant")
	}
	err := s.db.Tx(ctx, acting, func(tx *db.Tx) error {
		var q quotaRow
		if err := tx.Raw("SELECT * FROM tenant_quotas WHERE tenant_id = ?"+tx.ForUpdate(), acting).Scan(&q).Error; err != nil {
			return err
		}
		if q.TenantID == "" {
			return tenantNotFound(acting)
		}
		var used int64
		if err := tx.Model(&tenantRow{}).Where("parent_id = ?", acting).Count(&used).Error; err != nil {
			return err
		}
		if err := admit(ctx, tenants.ResSubTenants, q.SubTenants, used, 1); err != nil {
			return err
		}
		if owner != nil {
			if err := tx.Create(&userRow{ID: owner.ID, Email: owner.Email, Name: owner.Name, PasswordHash: owner.PasswordHash, CreatedAt: owner.CreatedAt}).Error; err != nil {
				if db.IsUniqueViolation(err) {
					return errs.E(errs.Conflict, "email_taken", "an account with this email already exists; log in instead")
				}
				return err
			}
		}
		r := fromTenant(t)
		if err := tx.Create(&r).Error; err != nil {
			if db.IsUniqueViolation(err) {
				e := errs.E(errs.Conflict, "slug_taken", "slug %q is taken", t.Slug)
				e.Field = "slug"
				return e
			}
			return err
		}
		// The new tenant's own rows are written as the new tenant.
		if err := tx.Act(t.ID); err != nil {
			return err
		}
		child := quotaRow{TenantID: t.ID, UpdatedAt: t.CreatedAt}
		child.set(l)
		if err := tx.Create(&child).Error; err != nil {
			return err
		}
		b.TenantID = t.ID
		if err := tx.Create(brandingFrom(b)).Error; err != nil {
			return err
		}
		if owner != nil {
			return tx.Create(&membershipRow{TenantID: t.ID, UserID: owner.ID, Role: tenants.RoleOwner, CreatedAt: t.CreatedAt}).Error
		}
		return nil
	})
	if err != nil {
		return tenants.Tenant{}, db.Translate(err)
	}
	return t, nil
}

func (s *Store) tenant(tx *db.Tx, acting, id string) (tenantRow, error) {
	var r tenantRow
	err := tx.Where("id = ? AND "+within(tx, ""), id, marker(acting)).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, tenantNotFound(id)
	}
	return r, err
}

// Tenant implements tenants.Store.
func (s *Store) Tenant(ctx context.Context, acting, id string) (tenants.Tenant, error) {
	var r tenantRow
	err := s.db.Tx(ctx, acting, func(tx *db.Tx) (err error) {
		r, err = s.tenant(tx, acting, id)
		return err
	})
	return r.domain(), db.Translate(err)
}

// Children implements tenants.Store.
func (s *Store) Children(ctx context.Context, acting string, p tenants.Page) ([]tenants.Tenant, error) {
	var rows []tenantRow
	err := s.db.Tx(ctx, acting, func(tx *db.Tx) error {
		return tx.Where("parent_id = ? AND id > ?", acting, p.After).Order("id").Limit(p.Limit).Find(&rows).Error
	})
	out := make([]tenants.Tenant, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, db.Translate(err)
}

// UpdateTenant implements tenants.Store.
func (s *Store) UpdateTenant(ctx context.Context, acting, id string, name, plan *string) (tenants.Tenant, error) {
	var r tenantRow
	err := s.db.Tx(ctx, acting, func(tx *db.Tx) (err error) {
		set := map[string]any{"updated_at": now()}
		if name != nil {
			set["name"] = *name
		}
		if plan != nil {
			set["plan"] = *plan
		}
		res := tx.Model(&tenantRow{}).Where("id = ? AND id <> ? AND "+within(tx, ""), id, acting, marker(acting)).Updates(set)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return tenantNotFound(id)
		}
		r, err = s.tenant(tx, acting, id)
		return err
	})
	return r.domain(), db.Translate(err)
}

// SetSubtreeStatus implements tenants.Store.
func (s *Store) SetSubtreeStatus(ctx context.Context, acting, id string, st tenants.Status) (tenants.Tenant, error) {
	var r tenantRow
	err := s.db.Tx(ctx, acting, func(tx *db.Tx) (err error) {
		if id == acting {
			return tenantNotFound(id)
		}
		if _, err := s.tenant(tx, acting, id); err != nil {
			return err
		}
		q := tx.Model(&tenantRow{}).Where(within(tx, ""), marker(id)).Where(within(tx, ""), marker(acting))
		switch st {
		case tenants.StatusSuspended:
			err = q.Where("status = ?", tenants.StatusActive).Updates(map[string]any{"status": tenants.StatusSuspended, "suspended_by": id, "updated_at": now()}).Error
		default:
			err = q.Where("suspended_by = ?", id).Updates(map[string]any{"status": tenants.StatusActive, "suspended_by": nil, "updated_at": now()}).Error
		}
		if err != nil {
			return err
		}
		r, err = s.tenant(tx, acting, id)
		return err
	})
	return r.domain(), db.Translate(err)
}

// DeleteTenant implements tenants.Store.
func (s *Store) DeleteTenant(ctx context.Context, acting, id string) error {
	err := s.db.Tx(ctx, acting, func(tx *db.Tx) error {
		if id == acting {
			return tenantNotFound(id)
		}
		if _, err := s.tenant(tx, acting, id); err != nil {
			return err
		}
		var children int64
		if err := tx.Model(&tenantRow{}).Where("parent_id = ?", id).Count(&children).Error; err != nil {
			return err
		}
		if children > 0 {
			return errs.E(errs.Conflict, "tenant_has_children", "delete or move this tenant's %d sub-tenants first", children)
		}
		return tx.Where("id = ? AND "+within(tx, ""), id, marker(acting)).Delete(&tenantRow{}).Error
	})
	return db.Translate(err)
}

// CreateUser implements tenants.Store.
func (s *Store) CreateUser(ctx context.Context, u tenants.User, m tenants.Membership) (tenants.User, error) {
	err := s.db.Tx(ctx, m.TenantID, func(tx *db.Tx) error {
		if err := tx.Create(&userRow{ID: u.ID, Email: u.Email, Name: u.Name, PasswordHash: u.PasswordHash, CreatedAt: u.CreatedAt}).Error; err != nil {
			if db.IsUniqueViolation(err) {
				return errs.E(errs.Conflict, "email_taken", "an account with email %s already exists", u.Email)
			}
			return err
		}
		return tx.Create(&membershipRow{TenantID: m.TenantID, UserID: u.ID, Role: m.Role, CreatedAt: m.CreatedAt}).Error
	})
	return u, db.Translate(err)
}

// UserByEmail implements tenants.Store. Login precedes any tenant, so it
// reads across tenants.
func (s *Store) UserByEmail(ctx context.Context, email string) (tenants.User, error) {
	var r userRow
	err := s.db.System(ctx, func(tx *db.Tx) error { return tx.Where("email = ?", email).Take(&r).Error })
	return tenants.User{ID: r.ID, Email: r.Email, Name: r.Name, PasswordHash: r.PasswordHash, CreatedAt: r.CreatedAt.UTC()}, db.Translate(err)
}

// Memberships implements tenants.Store; a user's memberships span tenants.
func (s *Store) Memberships(ctx context.Context, userID string) ([]tenants.Membership, error) {
	var rows []membershipRow
	err := s.db.System(ctx, func(tx *db.Tx) error {
		return tx.Where("user_id = ?", userID).Order("created_at, tenant_id").Find(&rows).Error
	})
	out := make([]tenants.Membership, len(rows))
	for i, r := range rows {
		out[i] = tenants.Membership{TenantID: r.TenantID, UserID: r.UserID, Role: r.Role, CreatedAt: r.CreatedAt.UTC()}
	}
	return out, db.Translate(err)
}

// Membership implements tenants.Store.
func (s *Store) Membership(ctx context.Context, tenant, userID string) (tenants.Membership, error) {
	var r membershipRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Where("tenant_id = ? AND user_id = ?", tenant, userID).Take(&r).Error
	})
	return tenants.Membership{TenantID: r.TenantID, UserID: r.UserID, Role: r.Role, CreatedAt: r.CreatedAt.UTC()}, db.Translate(err)
}

func (s *Store) report(tx *db.Tx, acting, id string) (tenants.QuotaReport, error) {
	var q quotaRow
	err := tx.Raw("SELECT q.* FROM tenant_quotas q JOIN tenants t ON t.id = q.tenant_id WHERE q.tenant_id = ? AND "+within(tx, "t"), id, marker(acting)).Scan(&q).Error
	if err != nil {
		return tenants.QuotaReport{}, err
	}
	if q.TenantID == "" {
		return tenants.QuotaReport{}, tenantNotFound(id)
	}
	usage := tenants.Usage{}
	for _, r := range tenants.Resources() {
		usage[r] = 0
	}
	var children int64
	if err := tx.Model(&tenantRow{}).Where("parent_id = ?", id).Count(&children).Error; err != nil {
		return tenants.QuotaReport{}, err
	}
	usage[tenants.ResSubTenants] = children
	var counters []struct {
		Resource string
		Used     int64
	}
	if err := tx.Table("quota_usage").Select("resource, used").Where("tenant_id = ?", id).Scan(&counters).Error; err != nil {
		return tenants.QuotaReport{}, err
	}
	for _, c := range counters {
		if c.Resource != tenants.ResSubTenants {
			usage[c.Resource] = c.Used
		}
	}
	return tenants.QuotaReport{TenantID: id, Limits: q.limits(), Usage: usage}, nil
}

// Quotas implements tenants.Store.
func (s *Store) Quotas(ctx context.Context, acting, id string) (tenants.QuotaReport, error) {
	var rep tenants.QuotaReport
	err := s.db.Tx(ctx, acting, func(tx *db.Tx) (err error) {
		rep, err = s.report(tx, acting, id)
		return err
	})
	return rep, db.Translate(err)
}

// SetLimits implements tenants.Store.
func (s *Store) SetLimits(ctx context.Context, acting, id string, patch tenants.Limits, check func(parent, child tenants.Limits) error) (tenants.QuotaReport, error) {
	var rep tenants.QuotaReport
	err := s.db.Tx(ctx, acting, func(tx *db.Tx) error {
		t, err := s.tenant(tx, acting, id)
		if err != nil {
			return err
		}
		if t.ID == acting || t.ParentID == nil {
			return tenantNotFound(id)
		}
		var child, parent quotaRow
		if err := tx.Raw("SELECT * FROM tenant_quotas WHERE tenant_id = ?"+tx.ForUpdate(), id).Scan(&child).Error; err != nil {
			return err
		}
		if err := tx.Raw("SELECT * FROM tenant_quotas WHERE tenant_id = ?", *t.ParentID).Scan(&parent).Error; err != nil {
			return err
		}
		if child.TenantID == "" || parent.TenantID == "" {
			return tenantNotFound(id)
		}
		child.set(patch)
		if err := check(parent.limits(), child.limits()); err != nil {
			return err
		}
		child.UpdatedAt = now()
		if err := tx.Select("*").Where("tenant_id = ?", id).Updates(&child).Error; err != nil {
			return err
		}
		rep, err = s.report(tx, acting, id)
		return err
	})
	return rep, db.Translate(err)
}

// CreateAPIKey implements tenants.Store.
func (s *Store) CreateAPIKey(ctx context.Context, tenant string, k tenants.APIKey) (tenants.APIKey, error) {
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Create(&apiKeyRow{TenantID: tenant, ID: k.ID, Name: k.Name, Role: k.Role, Prefix: k.Prefix, SecretHash: k.SecretHash, CreatedAt: k.CreatedAt}).Error
	})
	k.TenantID = tenant
	return k, db.Translate(err)
}

// APIKeys implements tenants.Store.
func (s *Store) APIKeys(ctx context.Context, tenant string, p tenants.Page) ([]tenants.APIKey, error) {
	var rows []apiKeyRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Where("tenant_id = ? AND revoked_at IS NULL AND id > ?", tenant, p.After).Order("id").Limit(p.Limit).Find(&rows).Error
	})
	out := make([]tenants.APIKey, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, db.Translate(err)
}

// RevokeAPIKey implements tenants.Store.
func (s *Store) RevokeAPIKey(ctx context.Context, tenant, id string, at time.Time) error {
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		res := tx.Model(&apiKeyRow{}).Where("tenant_id = ? AND id = ? AND revoked_at IS NULL", tenant, id).Update("revoked_at", at)
		if res.Error == nil && res.RowsAffected == 0 {
			return errs.NotFoundf("API key %q not found", id)
		}
		return res.Error
	})
	return db.Translate(err)
}

// APIKeyByPrefix implements tenants.Store: authentication precedes the
// tenant, so it reads across tenants.
func (s *Store) APIKeyByPrefix(ctx context.Context, prefix string) (tenants.APIKey, error) {
	var r apiKeyRow
	err := s.db.System(ctx, func(tx *db.Tx) error { return tx.Where("prefix = ?", prefix).Take(&r).Error })
	return r.domain(), db.Translate(err)
}

// TouchAPIKey implements tenants.Store.
func (s *Store) TouchAPIKey(ctx context.Context, tenant, id string, at time.Time) error {
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Model(&apiKeyRow{}).Where("tenant_id = ? AND id = ?", tenant, id).Update("last_used_at", at).Error
	}))
}

func (s *Store) branding(tx *db.Tx, tenant string) (tenants.Branding, error) {
	var r brandingRow
	if err := tx.Where("tenant_id = ?", tenant).Take(&r).Error; err != nil {
		return tenants.Branding{}, err
	}
	var domains []domainRow
	if err := tx.Where("tenant_id = ?", tenant).Order("domain").Find(&domains).Error; err != nil {
		return tenants.Branding{}, err
	}
	b := tenants.Branding{
		TenantID: r.TenantID, DisplayName: r.DisplayName, PrimaryColor: r.PrimaryColor, AccentColor: r.AccentColor,
		BackgroundColor: r.BackgroundColor, EmailSenderName: r.EmailSenderName, UpdatedAt: r.UpdatedAt.UTC(),
		CustomDomains: make([]tenants.Domain, len(domains)),
	}
	if r.LogoKey != nil {
		b.LogoKey = *r.LogoKey
	}
	if r.LogoContentType != nil {
		b.LogoContentType = *r.LogoContentType
	}
	for i, d := range domains {
		b.CustomDomains[i] = d.domain()
	}
	return b, nil
}

// Branding implements tenants.Store.
func (s *Store) Branding(ctx context.Context, tenant string) (tenants.Branding, error) {
	var b tenants.Branding
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) (err error) {
		b, err = s.branding(tx, tenant)
		return err
	})
	return b, db.Translate(err)
}

// UpdateBranding implements tenants.Store.
func (s *Store) UpdateBranding(ctx context.Context, tenant string, b tenants.Branding) (tenants.Branding, error) {
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) (err error) {
		err = tx.Model(&brandingRow{}).Where("tenant_id = ?", tenant).Updates(map[string]any{
			"display_name": b.DisplayName, "primary_color": b.PrimaryColor, "accent_color": b.AccentColor,
			"background_color": b.BackgroundColor, "email_sender_name": b.EmailSenderName, "updated_at": b.UpdatedAt,
		}).Error
		if err != nil {
			return err
		}
		b, err = s.branding(tx, tenant)
		return err
	})
	return b, db.Translate(err)
}

// SetLogo implements tenants.Store; an empty key removes the logo.
func (s *Store) SetLogo(ctx context.Context, tenant, key, contentType string) (tenants.Branding, error) {
	var b tenants.Branding
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) (err error) {
		var k, ct any
		if key != "" {
			k, ct = key, contentType
		}
		if err := tx.Model(&brandingRow{}).Where("tenant_id = ?", tenant).Updates(map[string]any{"logo_key": k, "logo_content_type": ct, "updated_at": now()}).Error; err != nil {
			return err
		}
		b, err = s.branding(tx, tenant)
		return err
	})
	return b, db.Translate(err)
}

// AddDomain implements tenants.Store.
func (s *Store) AddDomain(ctx context.Context, tenant string, d tenants.Domain) (tenants.Domain, error) {
	r := domainRow{TenantID: tenant, Domain: d.Domain, VerificationToken: d.Token, CreatedAt: now()}
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error { return tx.Create(&r).Error })
	return r.domain(), db.Translate(err)
}

// MarkDomainVerified implements tenants.Store.
func (s *Store) MarkDomainVerified(ctx context.Context, tenant, domain string, at time.Time) (tenants.Domain, error) {
	var r domainRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		if err := tx.Model(&domainRow{}).Where("tenant_id = ? AND domain = ?", tenant, domain).Update("verified_at", at).Error; err != nil {
			return err
		}
		return tx.Where("tenant_id = ? AND domain = ?", tenant, domain).Take(&r).Error
	})
	return r.domain(), db.Translate(err)
}

// RemoveDomain implements tenants.Store.
func (s *Store) RemoveDomain(ctx context.Context, tenant, domain string) error {
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		res := tx.Where("tenant_id = ? AND domain = ?", tenant, domain).Delete(&domainRow{})
		if res.Error == nil && res.RowsAffected == 0 {
			return errs.NotFoundf("domain %q not found", domain)
		}
		return res.Error
	})
	return db.Translate(err)
}

// PublicBranding implements tenants.Store. A storefront request names no
// tenant yet, so it reads across tenants, and only active tenants answer.
func (s *Store) PublicBranding(ctx context.Context, slug, host string) (tenants.Tenant, tenants.Branding, error) {
	var t tenantRow
	var b tenants.Branding
	err := s.db.System(ctx, func(tx *db.Tx) (err error) {
		q := tx.Where("status = ?", tenants.StatusActive)
		switch {
		case slug != "":
			q = q.Where("slug = ?", slug)
		case host != "":
			q = q.Where("id = (SELECT tenant_id FROM custom_domains WHERE domain = ? AND verified_at IS NOT NULL)", strings.ToLower(host))
		default:
			return errs.NotFoundf("no storefront")
		}
		if err := q.Take(&t).Error; err != nil {
			return err
		}
		b, err = s.branding(tx, t.ID)
		return err
	})
	if errs.Is(db.Translate(err), errs.NotFound) {
		return tenants.Tenant{}, tenants.Branding{}, errs.NotFoundf("no storefront %q", slug+host)
	}
	return t.domain(), b, db.Translate(err)
}
