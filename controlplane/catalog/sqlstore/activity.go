package sqlstore

import (
	"context"
	"time"

	"github.com/marquee-video/marquee/controlplane/catalog"
	"github.com/marquee-video/marquee/internal/db"
)

type progressRow struct {
	TenantID        string `gorm:"primaryKey"`
	ViewerID        string `gorm:"primaryKey"`
	ProfileID       string `gorm:"primaryKey"`
	TitleID         string `gorm:"primaryKey"`
	EpisodeID       string
	PositionSeconds float64
	DurationSeconds float64
	Completed       bool
	Plays           int
	UpdatedAt       time.Time
}

func (progressRow) TableName() string { return "watch_progress" }

func (r progressRow) domain() catalog.Progress {
	return catalog.Progress{ViewerID: r.ViewerID, ProfileID: r.ProfileID, TitleID: r.TitleID, EpisodeID: r.EpisodeID,
		PositionSeconds: r.PositionSeconds, DurationSeconds: r.DurationSeconds, Completed: r.Completed, Plays: r.Plays, UpdatedAt: r.UpdatedAt.UTC()}
}

// RecordEvents implements catalog.Store. Each event is inserted unless its
// id is known (ON CONFLICT DO NOTHING); only the ones inserted move the
// progress, read under a row lock, so a retried batch changes nothing.
func (s *Store) RecordEvents(ctx context.Context, tenant string, es []catalog.ViewerEvent) (int, error) {
	n := 0
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		n = 0
		for _, e := range es {
			res := tx.Exec(`INSERT INTO viewer_events (tenant_id, id, viewer_id, profile_id, title_id, episode_id, type, position_seconds, duration_seconds, at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, id) DO NOTHING`,
				tenant, e.ID, e.ViewerID, e.ProfileID, e.TitleID, e.EpisodeID, e.Type, e.PositionSeconds, e.DurationSeconds, *e.At)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				continue
			}
			n++
			var cur []progressRow
			if err := tx.Raw("SELECT * FROM watch_progress WHERE tenant_id = ? AND viewer_id = ? AND profile_id = ? AND title_id = ?"+tx.ForUpdate(),
				tenant, e.ViewerID, e.ProfileID, e.TitleID).Scan(&cur).Error; err != nil {
				return err
			}
			var p catalog.Progress
			if len(cur) == 1 {
				p = cur[0].domain()
			}
			p = catalog.Fold(p, e)
			if err := tx.Exec(`INSERT INTO watch_progress (tenant_id, viewer_id, profile_id, title_id, episode_id, position_seconds, duration_seconds, completed, plays, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (tenant_id, viewer_id, profile_id, title_id) DO UPDATE SET episode_id = excluded.episode_id,
				position_seconds = excluded.position_seconds, duration_seconds = excluded.duration_seconds, completed = excluded.completed,
				plays = excluded.plays, updated_at = excluded.updated_at`,
				tenant, p.ViewerID, p.ProfileID, p.TitleID, p.EpisodeID, p.PositionSeconds, p.DurationSeconds, p.Completed, p.Plays, p.UpdatedAt).Error; err != nil {
				return err
			}
		}
		return nil
	})
	return n, db.Translate(err)
}

// Progress implements catalog.Store.
func (s *Store) Progress(ctx context.Context, tenant, viewer, profile string, unfinished bool, limit, offset int) ([]catalog.Progress, error) {
	var rows []progressRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		q := tx.Where("tenant_id = ? AND viewer_id = ?", tenant, viewer)
		if profile != "" {
			q = q.Where("profile_id = ?", profile)
		}
		if unfinished {
			q = q.Where("completed = ? AND position_seconds > 0", false)
		}
		return q.Order("updated_at DESC, title_id").Limit(limit).Offset(offset).Find(&rows).Error
	})
	out := make([]catalog.Progress, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, db.Translate(err)
}

// ViewerExists implements catalog.Store.
func (s *Store) ViewerExists(ctx context.Context, tenant, viewer string) (bool, error) {
	var n int64
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Model(&progressRow{}).Where("tenant_id = ? AND viewer_id = ?", tenant, viewer).Limit(1).Count(&n).Error
	})
	return n > 0, db.Translate(err)
}
