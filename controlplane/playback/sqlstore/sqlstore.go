// Package sqlstore implements playback.Store with gorm on PostgreSQL and the
// embedded SQLite database. Tenant-facing methods run in the tenant's scoped
// transaction and name the tenant in every query; the public lookups of the
// playback hot path (a playback id, a signing key by id) run in System
// transactions, since the tenant is what they find out.
package sqlstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/marquee-video/marquee/controlplane/playback"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/errs"
)

// Store is the SQL playback.Store.
type Store struct{ db *db.DB }

var _ playback.Store = (*Store)(nil)

// New returns a Store on d.
func New(d *db.DB) *Store { return &Store{db: d} }

type playbackIDRow struct {
	ID        string `gorm:"primaryKey"`
	TenantID  string
	AssetID   string
	Policy    string
	Access    string
	CreatedAt time.Time
}

func (playbackIDRow) TableName() string { return "playback_ids" }

func (r playbackIDRow) domain() playback.PlaybackID {
	p := playback.PlaybackID{ID: r.ID, TenantID: r.TenantID, AssetID: r.AssetID, Policy: playback.Policy(r.Policy), CreatedAt: r.CreatedAt.UTC()}
	_ = json.Unmarshal([]byte(r.Access), &p.Access) // written by us
	if p.Access.Model == "" {
		p.Access.Model = playback.ModelFree
	}
	return p
}

func pbNotFound(id string) error { return errs.NotFoundf("playback id %q not found", id) }

// CreatePlaybackID implements playback.Store.
func (s *Store) CreatePlaybackID(ctx context.Context, p playback.PlaybackID) error {
	access, err := json.Marshal(p.Access)
	if err != nil {
		return err
	}
	return db.Translate(s.db.Tx(ctx, p.TenantID, func(tx *db.Tx) error {
		var n int64
		if err := tx.Table("assets").Where("tenant_id = ? AND id = ?", p.TenantID, p.AssetID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return errs.NotFoundf("asset %q not found", p.AssetID)
		}
		return tx.Create(&playbackIDRow{ID: p.ID, TenantID: p.TenantID, AssetID: p.AssetID, Policy: string(p.Policy), Access: string(access), CreatedAt: p.CreatedAt}).Error
	}))
}

// PlaybackIDs implements playback.Store.
func (s *Store) PlaybackIDs(ctx context.Context, tenant, assetID string) ([]playback.PlaybackID, error) {
	var rows []playbackIDRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Where("tenant_id = ? AND asset_id = ?", tenant, assetID).Order("id").Find(&rows).Error
	})
	out := make([]playback.PlaybackID, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, db.Translate(err)
}

// DeletePlaybackID implements playback.Store.
func (s *Store) DeletePlaybackID(ctx context.Context, tenant, id string) error {
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		res := tx.Where("tenant_id = ? AND id = ?", tenant, id).Delete(&playbackIDRow{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return pbNotFound(id)
		}
		return nil
	}))
}

// PlaybackIDByID implements playback.Store.
func (s *Store) PlaybackIDByID(ctx context.Context, id string) (playback.PlaybackID, error) {
	var r playbackIDRow
	err := s.db.System(ctx, func(tx *db.Tx) error {
		return tx.Where("id = ?", id).Take(&r).Error
	})
	if errs.Is(db.Translate(err), errs.NotFound) {
		return playback.PlaybackID{}, pbNotFound(id)
	}
	return r.domain(), db.Translate(err)
}

type signingKeyRow struct {
	ID        string `gorm:"primaryKey"`
	TenantID  string
	Alg       string
	PublicKey string
	CreatedAt time.Time
	RevokedAt *time.Time
}

func (signingKeyRow) TableName() string { return "signing_keys" }

func (r signingKeyRow) domain() playback.SigningKey {
	return playback.SigningKey{ID: r.ID, TenantID: r.TenantID, Alg: r.Alg, PublicKey: r.PublicKey, CreatedAt: r.CreatedAt.UTC(), RevokedAt: utcp(r.RevokedAt)}
}

func keyNotFound(id string) error { return errs.NotFoundf("signing key %q not found", id) }

// CreateSigningKey implements playback.Store.
func (s *Store) CreateSigningKey(ctx context.Context, k playback.SigningKey) error {
	return db.Translate(s.db.Tx(ctx, k.TenantID, func(tx *db.Tx) error {
		return tx.Create(&signingKeyRow{ID: k.ID, TenantID: k.TenantID, Alg: k.Alg, PublicKey: k.PublicKey, CreatedAt: k.CreatedAt}).Error
	}))
}

// SigningKeys implements playback.Store.
func (s *Store) SigningKeys(ctx context.Context, tenant string) ([]playback.SigningKey, error) {
	var rows []signingKeyRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Where("tenant_id = ?", tenant).Order("id").Find(&rows).Error
	})
	out := make([]playback.SigningKey, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, db.Translate(err)
}

// RevokeSigningKey implements playback.Store.
func (s *Store) RevokeSigningKey(ctx context.Context, tenant, id string, at time.Time) error {
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		res := tx.Model(&signingKeyRow{}).Where("tenant_id = ? AND id = ? AND revoked_at IS NULL", tenant, id).Update("revoked_at", at)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return keyNotFound(id)
		}
		return nil
	}))
}

// SigningKeyByID implements playback.Store.
func (s *Store) SigningKeyByID(ctx context.Context, id string) (playback.SigningKey, error) {
	var r signingKeyRow
	err := s.db.System(ctx, func(tx *db.Tx) error {
		return tx.Where("id = ?", id).Take(&r).Error
	})
	if errs.Is(db.Translate(err), errs.NotFound) {
		return playback.SigningKey{}, keyNotFound(id)
	}
	return r.domain(), db.Translate(err)
}

type cdnRow struct {
	TenantID   string `gorm:"primaryKey"`
	ID         string `gorm:"primaryKey"`
	Name       string
	Provider   string
	BaseURL    string `gorm:"column:base_url"`
	KeyID      string
	Secret     string
	Weight     int
	Regions    string
	CanaryPath string
	CreatedAt  time.Time
}

func (cdnRow) TableName() string { return "cdn_configs" }

// PutCDN implements playback.Store: it adds or replaces the CDN.
func (s *Store) PutCDN(ctx context.Context, c playback.CDN, max int) error {
	regions, err := json.Marshal(c.Regions)
	if err != nil {
		return err
	}
	return db.Translate(s.db.Tx(ctx, c.TenantID, func(tx *db.Tx) error {
		var n int64
		if err := tx.Model(&cdnRow{}).Where("tenant_id = ? AND id <> ?", c.TenantID, c.ID).Count(&n).Error; err != nil {
			return err
		}
		if n >= int64(max) {
			return errs.E(errs.Conflict, "too_many_cdns", "a tenant may have at most %d CDNs", max)
		}
		row := cdnRow{TenantID: c.TenantID, ID: c.ID, Name: c.Name, Provider: c.Provider, BaseURL: c.BaseURL, KeyID: c.KeyID, Secret: c.Secret, Weight: c.Weight, Regions: string(regions), CanaryPath: c.CanaryPath, CreatedAt: c.CreatedAt}
		return tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error
	}))
}

// CDNs implements playback.Store.
func (s *Store) CDNs(ctx context.Context, tenant string) ([]playback.CDN, error) {
	var rows []cdnRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Where("tenant_id = ?", tenant).Order("id").Find(&rows).Error
	})
	out := make([]playback.CDN, len(rows))
	for i, r := range rows {
		c := playback.CDN{ID: r.ID, TenantID: r.TenantID, Name: r.Name, Provider: r.Provider, BaseURL: r.BaseURL, KeyID: r.KeyID, Secret: r.Secret, Weight: r.Weight, CanaryPath: r.CanaryPath, CreatedAt: r.CreatedAt.UTC(), Regions: []string{}}
		_ = json.Unmarshal([]byte(r.Regions), &c.Regions)
		out[i] = c
	}
	return out, db.Translate(err)
}

// DeleteCDN implements playback.Store.
func (s *Store) DeleteCDN(ctx context.Context, tenant, id string) error {
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		res := tx.Where("tenant_id = ? AND id = ?", tenant, id).Delete(&cdnRow{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.NotFoundf("CDN %q not found", id)
		}
		return nil
	}))
}

type drmRow struct {
	TenantID  string `gorm:"primaryKey"`
	Config    string
	UpdatedAt time.Time
}

func (drmRow) TableName() string { return "drm_configs" }

// PutDRMConfig implements playback.Store.
func (s *Store) PutDRMConfig(ctx context.Context, tenant string, c playback.DRMConfig) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&drmRow{TenantID: tenant, Config: string(b), UpdatedAt: c.UpdatedAt}).Error
	}))
}

// DRMConfig implements playback.Store; a tenant without one gets the zero
// config.
func (s *Store) DRMConfig(ctx context.Context, tenant string) (playback.DRMConfig, error) {
	var rows []drmRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Where("tenant_id = ?", tenant).Limit(1).Find(&rows).Error
	})
	var c playback.DRMConfig
	if err == nil && len(rows) == 1 {
		err = json.Unmarshal([]byte(rows[0].Config), &c)
	}
	return c, db.Translate(err)
}

type contentKeyRow struct {
	TenantID  string `gorm:"primaryKey"`
	AssetID   string `gorm:"primaryKey"`
	KID       string `gorm:"primaryKey;column:kid"`
	KEKID     string `gorm:"column:kek_id"`
	Wrapped   string
	CreatedAt time.Time
}

func (contentKeyRow) TableName() string { return "content_keys" }

func (r contentKeyRow) domain() playback.ContentKey {
	w, _ := base64.StdEncoding.DecodeString(r.Wrapped) // written by us
	return playback.ContentKey{AssetID: r.AssetID, KID: r.KID, KEKID: r.KEKID, Wrapped: w}
}

// PutContentKeys implements playback.Store: keys are added, or rewrapped
// (rotation) when the key id exists.
func (s *Store) PutContentKeys(ctx context.Context, tenant string, keys []playback.ContentKey) error {
	if len(keys) == 0 {
		return nil
	}
	now := time.Now().UTC()
	rows := make([]contentKeyRow, len(keys))
	for i, k := range keys {
		rows[i] = contentKeyRow{TenantID: tenant, AssetID: k.AssetID, KID: k.KID, KEKID: k.KEKID, Wrapped: base64.StdEncoding.EncodeToString(k.Wrapped), CreatedAt: now}
	}
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "asset_id"}, {Name: "kid"}},
			DoUpdates: clause.AssignmentColumns([]string{"kek_id", "wrapped"}),
		}).Create(&rows).Error
	}))
}

// ContentKeys implements playback.Store.
func (s *Store) ContentKeys(ctx context.Context, tenant, assetID string) ([]playback.ContentKey, error) {
	var rows []contentKeyRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Where("tenant_id = ? AND asset_id = ?", tenant, assetID).Order("kid").Find(&rows).Error
	})
	out := make([]playback.ContentKey, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, db.Translate(err)
}

// ContentKeysByKID implements playback.Store.
func (s *Store) ContentKeysByKID(ctx context.Context, tenant string, kids []string) ([]playback.ContentKey, error) {
	var rows []contentKeyRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Where("tenant_id = ? AND kid IN ?", tenant, kids).Order("kid").Find(&rows).Error
	})
	out := make([]playback.ContentKey, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, db.Translate(err)
}

type viewerRow struct {
	TenantID  string `gorm:"primaryKey"`
	ID        string `gorm:"primaryKey"`
	AVOD      bool   `gorm:"column:avod"`
	CreatedAt time.Time
}

func (viewerRow) TableName() string { return "viewers" }

type profileRow struct {
	TenantID    string `gorm:"primaryKey"`
	ViewerID    string `gorm:"primaryKey"`
	ID          string `gorm:"primaryKey"`
	Name        string
	RatingLimit string
	PINHash     string `gorm:"column:pin_hash"`
	CreatedAt   time.Time
}

func (profileRow) TableName() string { return "viewer_profiles" }

type entitlementRow struct {
	TenantID      string `gorm:"primaryKey"`
	ID            string `gorm:"primaryKey"`
	ViewerID      string
	Kind          string
	Tier          string
	AssetID       string
	WindowSeconds int64
	FirstPlayAt   *time.Time
	ExpiresAt     *time.Time
	RevokedAt     *time.Time
	CreatedAt     time.Time
}

func (entitlementRow) TableName() string { return "entitlements" }

func (r entitlementRow) domain() playback.Entitlement {
	return playback.Entitlement{
		ID: r.ID, ViewerID: r.ViewerID, Kind: r.Kind, Tier: r.Tier, AssetID: r.AssetID, Window: time.Duration(r.WindowSeconds) * time.Second,
		FirstPlayAt: utcp(r.FirstPlayAt), ExpiresAt: utcp(r.ExpiresAt), RevokedAt: utcp(r.RevokedAt), CreatedAt: r.CreatedAt.UTC(),
	}
}

// PutViewer implements playback.Store: it creates the viewer or updates
// its flags.
func (s *Store) PutViewer(ctx context.Context, tenant string, v playback.Viewer) error {
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "id"}},
			DoUpdates: clause.AssignmentColumns([]string{"avod"}),
		}).Create(&viewerRow{TenantID: tenant, ID: v.ID, AVOD: v.AVOD, CreatedAt: v.CreatedAt}).Error
	}))
}

func viewerNotFound(id string) error { return errs.NotFoundf("viewer %q not found", id) }

// Viewer implements playback.Store.
func (s *Store) Viewer(ctx context.Context, tenant, id string) (playback.Viewer, error) {
	var (
		v        viewerRow
		profiles []profileRow
		ents     []entitlementRow
	)
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		if err := tx.Where("tenant_id = ? AND id = ?", tenant, id).Take(&v).Error; err != nil {
			if errs.Is(db.Translate(err), errs.NotFound) {
				return viewerNotFound(id)
			}
			return err
		}
		if err := tx.Where("tenant_id = ? AND viewer_id = ?", tenant, id).Order("id").Find(&profiles).Error; err != nil {
			return err
		}
		return tx.Where("tenant_id = ? AND viewer_id = ?", tenant, id).Order("created_at, id").Find(&ents).Error
	})
	if err != nil {
		return playback.Viewer{}, db.Translate(err)
	}
	out := playback.Viewer{ID: v.ID, AVOD: v.AVOD, CreatedAt: v.CreatedAt.UTC(), Profiles: []playback.Profile{}, Entitlements: []playback.Entitlement{}}
	for _, p := range profiles {
		out.Profiles = append(out.Profiles, playback.Profile{ID: p.ID, Name: p.Name, RatingLimit: p.RatingLimit, HasPIN: p.PINHash != ""})
	}
	for _, e := range ents {
		out.Entitlements = append(out.Entitlements, e.domain())
	}
	return out, nil
}

// PutProfile implements playback.Store. The PIN hash is kept when the
// profile's PIN is not being changed (empty hash in p).
func (s *Store) PutProfile(ctx context.Context, tenant, viewerID string, p playback.Profile) error {
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		var n int64
		if err := tx.Model(&viewerRow{}).Where("tenant_id = ? AND id = ?", tenant, viewerID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return viewerNotFound(viewerID)
		}
		cols := []string{"name", "rating_limit"}
		hash := p.PINHash
		if hash != "" {
			cols = append(cols, "pin_hash")
		}
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "viewer_id"}, {Name: "id"}},
			DoUpdates: clause.AssignmentColumns(cols),
		}).Create(&profileRow{TenantID: tenant, ViewerID: viewerID, ID: p.ID, Name: p.Name, RatingLimit: p.RatingLimit, PINHash: hash, CreatedAt: time.Now().UTC()}).Error
	}))
}

// ProfilePINHash implements playback.Store.
func (s *Store) ProfilePINHash(ctx context.Context, tenant, viewerID, profileID string) (string, error) {
	var r profileRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Where("tenant_id = ? AND viewer_id = ? AND id = ?", tenant, viewerID, profileID).Take(&r).Error
	})
	if errs.Is(db.Translate(err), errs.NotFound) {
		return "", errs.NotFoundf("profile %q not found", profileID)
	}
	return r.PINHash, db.Translate(err)
}

// Grant implements playback.Store.
func (s *Store) Grant(ctx context.Context, tenant string, e playback.Entitlement) error {
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		var n int64
		if err := tx.Model(&viewerRow{}).Where("tenant_id = ? AND id = ?", tenant, e.ViewerID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return viewerNotFound(e.ViewerID)
		}
		row := entitlementRow{TenantID: tenant, ID: e.ID, ViewerID: e.ViewerID, Kind: e.Kind, Tier: e.Tier, AssetID: e.AssetID, WindowSeconds: int64(e.Window / time.Second), ExpiresAt: e.ExpiresAt, CreatedAt: e.CreatedAt}
		return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error
	}))
}

// Revoke implements playback.Store.
func (s *Store) Revoke(ctx context.Context, tenant, id string, at time.Time) error {
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		res := tx.Model(&entitlementRow{}).Where("tenant_id = ? AND id = ?", tenant, id).Update("revoked_at", gorm.Expr("COALESCE(revoked_at, ?)", at))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.NotFoundf("entitlement %q not found", id)
		}
		return nil
	}))
}

// StartRental implements playback.Store.
func (s *Store) StartRental(ctx context.Context, tenant, id string, at time.Time) error {
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Model(&entitlementRow{}).Where("tenant_id = ? AND id = ? AND first_play_at IS NULL", tenant, id).Update("first_play_at", at).Error
	}))
}

func utcp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
