package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/marquee-video/marquee/controlplane/catalog"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/errs"
)

var _ catalog.ModelStore = (*Store)(nil)

// PublishedTitles implements catalog.ModelStore.
func (s *Store) PublishedTitles(ctx context.Context, tenant string) ([]catalog.Title, error) {
	var rows []titleRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Raw("SELECT "+titleColumns+" FROM titles t WHERE t.tenant_id = ? AND t.status = 'published' ORDER BY t.id", tenant).Scan(&rows).Error
	})
	out := make([]catalog.Title, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, db.Translate(err)
}

// AllProgress implements catalog.ModelStore.
func (s *Store) AllProgress(ctx context.Context, tenant string) ([]catalog.Progress, error) {
	var rows []progressRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Where("tenant_id = ?", tenant).Find(&rows).Error
	})
	out := make([]catalog.Progress, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, db.Translate(err)
}

type modelRow struct {
	TenantID string `gorm:"primaryKey"`
	Model    []byte
	Stats    string
	BuildMS  int `gorm:"column:build_ms"`
	BuiltAt  time.Time
}

func (modelRow) TableName() string { return "recommendation_models" }

// SaveModel implements catalog.ModelStore.
func (s *Store) SaveModel(ctx context.Context, tenant string, m catalog.StoredModel) error {
	stats, err := json.Marshal(m.Stats)
	if err != nil {
		return err
	}
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Exec(`INSERT INTO recommendation_models (tenant_id, model, stats, build_ms, built_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id) DO UPDATE SET model = excluded.model, stats = excluded.stats, build_ms = excluded.build_ms, built_at = excluded.built_at`,
			tenant, m.Blob, string(stats), m.Stats.BuildMS, m.BuiltAt).Error
	}))
}

// LoadModel implements catalog.ModelStore.
func (s *Store) LoadModel(ctx context.Context, tenant string) (catalog.StoredModel, error) {
	var rows []modelRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Where("tenant_id = ?", tenant).Find(&rows).Error
	})
	if err != nil {
		return catalog.StoredModel{}, db.Translate(err)
	}
	if len(rows) == 0 {
		return catalog.StoredModel{}, errs.E(errs.NotFound, "model_not_built", "no recommendation model is built yet; POST /v1/recommendations/rebuild")
	}
	m := catalog.StoredModel{Blob: rows[0].Model, BuiltAt: rows[0].BuiltAt.UTC()}
	_ = json.Unmarshal([]byte(rows[0].Stats), &m.Stats) // written by us
	return m, nil
}

// ModelBuiltAt implements catalog.ModelStore.
func (s *Store) ModelBuiltAt(ctx context.Context, tenant string) (time.Time, error) {
	var rows []modelRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Select("tenant_id", "built_at").Where("tenant_id = ?", tenant).Find(&rows).Error
	})
	if err != nil || len(rows) == 0 {
		return time.Time{}, db.Translate(err)
	}
	return rows[0].BuiltAt.UTC(), nil
}

type factsRow struct {
	ID               string
	Status           string
	AvailableFrom    *time.Time
	AvailableUntil   *time.Time
	AllowedCountries string
	BlockedCountries string
	Rating           *string
}

// TitleFacts implements catalog.ModelStore.
func (s *Store) TitleFacts(ctx context.Context, tenant string) ([]catalog.TitleFacts, error) {
	var rows []factsRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Raw(`SELECT id, status, available_from, available_until, allowed_countries, blocked_countries, rating
			FROM titles WHERE tenant_id = ?`, tenant).Scan(&rows).Error
	})
	out := make([]catalog.TitleFacts, len(rows))
	for i, r := range rows {
		out[i] = catalog.TitleFacts{ID: r.ID, Status: catalog.Status(r.Status), From: utcp(r.AvailableFrom), Until: utcp(r.AvailableUntil),
			AllowedCountries: unkey(r.AllowedCountries), BlockedCountries: unkey(r.BlockedCountries)}
		if r.Rating != nil {
			out[i].Rating = *r.Rating
		}
	}
	return out, db.Translate(err)
}

// CatalogTenants implements catalog.ModelStore. It runs as System: the
// rebuild schedule serves every tenant.
func (s *Store) CatalogTenants(ctx context.Context) ([]string, error) {
	var out []string
	err := s.db.System(ctx, func(tx *db.Tx) error {
		return tx.Raw("SELECT DISTINCT tenant_id FROM titles ORDER BY tenant_id").Scan(&out).Error
	})
	return out, db.Translate(err)
}
