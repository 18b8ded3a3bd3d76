// Package sqlstore implements assets.Store with gorm on PostgreSQL and the
// embedded SQLite database. Tenant-facing methods run in the tenant's scoped
// transaction; the relay's methods run in System transactions, since
// dispatch spans tenants.
package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/marquee-video/marquee/billing/metering"
	"github.com/marquee-video/marquee/controlplane/assets"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/wire"
)

// Store is the SQL assets.Store.
type Store struct {
	db     *db.DB
	events assets.Events
}

var _ assets.Store = (*Store)(nil)

// New returns a Store on d that emits asset events to events (nil: none).
func New(d *db.DB, events assets.Events) *Store { return &Store{db: d, events: events} }

func (s *Store) emit(tx *db.Tx, tenant, event string, assetID string) error {
	if s.events == nil {
		return nil
	}
	var r assetRow
	if err := tx.Where("tenant_id = ? AND id = ?", tenant, assetID).Take(&r).Error; err != nil {
		return err
	}
	return s.events.EmitTx(tx, tenant, event, r.domain())
}

type assetRow struct {
	TenantID       string `gorm:"primaryKey"`
	ID             string `gorm:"primaryKey"`
	Status         string
	Progress       float64
	SourceKey      *string
	SourceURL      *string `gorm:"column:source_url"`
	SourceBytes    int64
	StoredBytes    int64
	Duration       *float64
	Renditions     string
	HasAudio       bool
	Protected      bool
	PlaybackPrefix *string
	ErrorCode      *string
	ErrorMessage   *string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (assetRow) TableName() string { return "assets" }

func (r assetRow) domain() assets.Asset {
	a := assets.Asset{
		ID: r.ID, TenantID: r.TenantID, Status: assets.Status(r.Status), Progress: r.Progress, Duration: r.Duration,
		HasAudio: r.HasAudio, Protected: r.Protected, SourceKey: deref(r.SourceKey), SourceURL: deref(r.SourceURL), SourceBytes: r.SourceBytes,
		PlaybackPrefix: deref(r.PlaybackPrefix), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		Renditions: []wire.Rendition{},
	}
	_ = json.Unmarshal([]byte(r.Renditions), &a.Renditions) // written by us; a bad value reads as none
	if r.ErrorCode != nil {
		a.Error = &assets.AssetError{Code: *r.ErrorCode, Message: deref(r.ErrorMessage)}
	}
	return a
}

type jobRow struct {
	TenantID   string `gorm:"primaryKey"`
	ID         string `gorm:"primaryKey"`
	AssetID    string
	Kind       string
	State      string
	Queue      string
	Payload    string
	Attempts   int
	Generation int
	Attempt    *string
	NodeID     *string
	LeaseUntil *time.Time
	ErrorCode  *string
	CreatedAt  time.Time
	QueuedAt   *time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
}

func (jobRow) TableName() string { return "jobs" }

func (r jobRow) domain() assets.Job {
	j := assets.Job{
		ID: r.ID, TenantID: r.TenantID, AssetID: r.AssetID, Kind: r.Kind, State: assets.JobState(r.State), Queue: r.Queue,
		Attempts: r.Attempts, Generation: r.Generation, Attempt: deref(r.Attempt), NodeID: deref(r.NodeID), LeaseUntil: r.LeaseUntil, CreatedAt: r.CreatedAt.UTC(),
	}
	_ = json.Unmarshal([]byte(r.Payload), &j.Payload)
	return j
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func ptr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// CreateAsset implements assets.Store.
func (s *Store) CreateAsset(ctx context.Context, tenant string, a assets.Asset, j assets.Job, admit assets.Admit) error {
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		var limit struct{ Assets *int64 }
		if err := tx.Raw("SELECT assets FROM tenant_quotas WHERE tenant_id = ?"+tx.ForUpdate(), tenant).Scan(&limit).Error; err != nil {
			return err
		}
		var used int64
		if err := tx.Model(&assetRow{}).Where("tenant_id = ?", tenant).Count(&used).Error; err != nil {
			return err
		}
		if err := admit(ctx, "assets", limit.Assets, used, 1); err != nil {
			return err
		}
		now := a.CreatedAt
		if err := tx.Create(&assetRow{
			TenantID: tenant, ID: a.ID, Status: string(assets.StatusWaiting), SourceKey: ptr(a.SourceKey), SourceURL: ptr(a.SourceURL),
			SourceBytes: a.SourceBytes, Protected: a.Protected, Renditions: "[]", CreatedAt: now, UpdatedAt: now,
		}).Error; err != nil {
			return err
		}
		payload, err := json.Marshal(j.Payload)
		if err != nil {
			return err
		}
		if err := tx.Create(&jobRow{
			TenantID: tenant, ID: j.ID, AssetID: a.ID, Kind: j.Kind, State: string(assets.JobPending), Queue: j.Queue,
			Payload: string(payload), CreatedAt: now,
		}).Error; err != nil {
			return err
		}
		return s.emit(tx, tenant, assets.EventCreated, a.ID)
	}))
}

// Asset implements assets.Store.
func (s *Store) Asset(ctx context.Context, tenant, id string) (assets.Asset, error) {
	var r assetRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Where("tenant_id = ? AND id = ?", tenant, id).Take(&r).Error
	})
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return assets.Asset{}, errs.NotFoundf("asset %q not found", id)
	}
	return r.domain(), db.Translate(err)
}

// Assets implements assets.Store.
func (s *Store) Assets(ctx context.Context, tenant string, limit int, after string) ([]assets.Asset, error) {
	var rows []assetRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Where("tenant_id = ? AND id > ?", tenant, after).Order("id").Limit(limit).Find(&rows).Error
	})
	out := make([]assets.Asset, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, db.Translate(err)
}

// DeleteAsset implements assets.Store.
func (s *Store) DeleteAsset(ctx context.Context, tenant, id string) (assets.Asset, error) {
	var r assetRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		if err := tx.Where("tenant_id = ? AND id = ?", tenant, id).Take(&r).Error; err != nil {
			return err
		}
		if r.Status == string(assets.StatusReady) {
			if err := addStorage(tx, tenant, -(r.SourceBytes + r.StoredBytes)); err != nil {
				return err
			}
		}
		return tx.Where("tenant_id = ? AND id = ?", tenant, id).Delete(&assetRow{}).Error
	})
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return assets.Asset{}, errs.NotFoundf("asset %q not found", id)
	}
	return r.domain(), db.Translate(err)
}

type profileRow struct {
	TenantID  string `gorm:"primaryKey"`
	Ladder    string
	UpdatedAt time.Time
}

func (profileRow) TableName() string { return "encoding_profiles" }

// Ladder implements assets.Store.
func (s *Store) Ladder(ctx context.Context, tenant string) ([]wire.Rung, bool, error) {
	var r profileRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error { return tx.Where("tenant_id = ?", tenant).Take(&r).Error })
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, db.Translate(err)
	}
	var ladder []wire.Rung
	if err := json.Unmarshal([]byte(r.Ladder), &ladder); err != nil {
		return nil, false, err
	}
	return ladder, true, nil
}

// SetLadder implements assets.Store.
func (s *Store) SetLadder(ctx context.Context, tenant string, ladder []wire.Rung) error {
	b, err := json.Marshal(ladder)
	if err != nil {
		return err
	}
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		row := profileRow{TenantID: tenant, Ladder: string(b), UpdatedAt: time.Now().UTC()}
		return tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "tenant_id"}}, DoUpdates: clause.AssignmentColumns([]string{"ladder", "updated_at"})}).Create(&row).Error
	}))
}

// ReadyAsset implements assets.Store.
func (s *Store) ReadyAsset(ctx context.Context, id string) (assets.Asset, error) {
	var r assetRow
	err := s.db.System(ctx, func(tx *db.Tx) error {
		return tx.Where("id = ? AND status = ?", id, assets.StatusReady).Take(&r).Error
	})
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return assets.Asset{}, errs.NotFoundf("asset %q not found", id)
	}
	return r.domain(), db.Translate(err)
}

// Dispatchable implements assets.Store.
func (s *Store) Dispatchable(ctx context.Context, max int) ([]assets.Job, error) {
	var rows []jobRow
	now := time.Now().UTC()
	err := s.db.System(ctx, func(tx *db.Tx) error {
		return tx.Raw(`
			SELECT j.* FROM jobs j
			JOIN tenant_quotas q ON q.tenant_id = j.tenant_id
			WHERE j.state = 'pending' AND (j.lease_until IS NULL OR j.lease_until <= ?)
			  AND j.id = (SELECT min(j2.id) FROM jobs j2 WHERE j2.tenant_id = j.tenant_id AND j2.state = 'pending'
			              AND (j2.lease_until IS NULL OR j2.lease_until <= ?))
			  AND (q.concurrent_jobs IS NULL OR q.concurrent_jobs > (
			       SELECT count(*) FROM jobs j3 WHERE j3.tenant_id = j.tenant_id AND j3.state IN ('queued', 'running')))
			ORDER BY j.id
			LIMIT ?`, now, now, max).Scan(&rows).Error
	})
	out := make([]assets.Job, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, db.Translate(err)
}

// MarkQueued implements assets.Store.
func (s *Store) MarkQueued(ctx context.Context, tenant, jobID string, leaseUntil time.Time) error {
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		now := time.Now().UTC()
		return tx.Model(&jobRow{}).Where("tenant_id = ? AND id = ? AND state = 'pending'", tenant, jobID).
			Updates(map[string]any{"state": assets.JobQueued, "queued_at": now, "lease_until": leaseUntil}).Error
	}))
}

// Requeue implements assets.Store.
func (s *Store) Requeue(ctx context.Context, now time.Time) (int, error) {
	var moved int64
	err := s.db.System(ctx, func(tx *db.Tx) error {
		var spent []jobRow
		if err := tx.Where("state IN ('queued', 'running') AND lease_until < ? AND attempts >= ?", now, assets.MaxAttempts).Find(&spent).Error; err != nil {
			return err
		}
		for _, j := range spent {
			if err := s.finalFailure(tx, j, "attempts_exhausted", "the job failed on every attempt; the last worker stopped answering", now); err != nil {
				return err
			}
		}
		// The attempt is cleared, so a late report from the lost attempt is
		// refused and its staged output never published.
		res := tx.Model(&jobRow{}).Where("state IN ('queued', 'running') AND lease_until < ?", now).
			Updates(map[string]any{"state": assets.JobPending, "attempt": nil, "lease_until": nil, "node_id": nil, "generation": gorm.Expr("generation + 1")})
		moved = res.RowsAffected + int64(len(spent))
		return res.Error
	})
	return int(moved), db.Translate(err)
}

func (s *Store) lockJob(tx *db.Tx, tenant, jobID string) (jobRow, error) {
	var j jobRow
	err := tx.Raw("SELECT * FROM jobs WHERE tenant_id = ? AND id = ?"+tx.ForUpdate(), tenant, jobID).Scan(&j).Error
	if err == nil && j.ID == "" {
		err = errs.NotFoundf("job %q not found", jobID)
	}
	return j, err
}

// Start implements assets.Store.
func (s *Store) Start(ctx context.Context, tenant, jobID, attempt, nodeID string, leaseUntil time.Time) (assets.Job, error) {
	var out jobRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		j, err := s.lockJob(tx, tenant, jobID)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		switch {
		case j.State == string(assets.JobSucceeded) || j.State == string(assets.JobFailed):
			return errs.E(errs.Conflict, "job_final", "job %s has already %s", jobID, j.State)
		case j.State == string(assets.JobRunning) && deref(j.Attempt) != attempt && j.LeaseUntil != nil && j.LeaseUntil.After(now):
			return errs.E(errs.Conflict, "job_leased", "job %s is held by another attempt", jobID)
		}
		upd := map[string]any{"state": assets.JobRunning, "attempt": attempt, "node_id": nodeID, "lease_until": leaseUntil, "started_at": now}
		if deref(j.Attempt) != attempt {
			upd["attempts"] = j.Attempts + 1
		}
		if err := tx.Model(&jobRow{}).Where("tenant_id = ? AND id = ?", tenant, jobID).Updates(upd).Error; err != nil {
			return err
		}
		if err := tx.Model(&assetRow{}).Where("tenant_id = ? AND id = ? AND status IN ('waiting', 'processing')", tenant, j.AssetID).
			Updates(map[string]any{"status": assets.StatusProcessing, "updated_at": now}).Error; err != nil {
			return err
		}
		out, err = s.lockJob(tx, tenant, jobID)
		return err
	})
	return out.domain(), db.Translate(err)
}

// Progress implements assets.Store.
func (s *Store) Progress(ctx context.Context, tenant, jobID, attempt string, pct float64, leaseUntil time.Time) error {
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		j, err := s.lockJob(tx, tenant, jobID)
		if err != nil {
			return err
		}
		if j.State != string(assets.JobRunning) || deref(j.Attempt) != attempt {
			return errs.E(errs.Conflict, "stale_attempt", "attempt %s no longer holds job %s", attempt, jobID)
		}
		if err := tx.Model(&jobRow{}).Where("tenant_id = ? AND id = ?", tenant, jobID).Update("lease_until", leaseUntil).Error; err != nil {
			return err
		}
		pct = min(max(pct, 0), 99.9) // 100 means ready, which only Finish says
		return tx.Model(&assetRow{}).Where("tenant_id = ? AND id = ? AND progress < ?", tenant, j.AssetID, pct).
			Updates(map[string]any{"progress": pct, "updated_at": time.Now().UTC()}).Error
	}))
}

// Finish implements assets.Store.
func (s *Store) Finish(ctx context.Context, tenant string, r wire.JobResult, now time.Time) (assets.Asset, error) {
	var out assetRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		j, err := s.lockJob(tx, tenant, r.JobID)
		if err != nil {
			return err
		}
		final := j.State == string(assets.JobSucceeded) || j.State == string(assets.JobFailed)
		switch {
		case deref(j.Attempt) != r.Attempt:
			return errs.E(errs.Conflict, "stale_attempt", "attempt %s no longer holds job %s", r.Attempt, r.JobID)
		case final:
			// The same attempt reporting again (its first reply was lost).
		case r.Error != nil && r.Error.Retryable && j.Attempts < assets.MaxAttempts:
			err = tx.Model(&jobRow{}).Where("tenant_id = ? AND id = ?", tenant, r.JobID).
				// A pending job's lease_until is the time before which it is
				// not dispatched: the retry's backoff.
				Updates(map[string]any{"state": assets.JobPending, "attempt": nil, "lease_until": now.Add(assets.RetryBackoff(j.Attempts)), "node_id": nil, "error_code": r.Error.Code,
					// A new generation, so the retry's task id cannot collide
					// with the reporting task, which is still active.
					"generation": gorm.Expr("generation + 1")}).Error
		case r.Error != nil:
			err = s.finalFailure(tx, j, r.Error.Code, r.Error.Message, now)
		default:
			err = s.succeed(tx, j, r, now)
		}
		if err != nil {
			return err
		}
		return tx.Where("tenant_id = ? AND id = ?", tenant, j.AssetID).Take(&out).Error
	})
	return out.domain(), db.Translate(err)
}

func (s *Store) finalFailure(tx *db.Tx, j jobRow, code, message string, now time.Time) error {
	if err := tx.Model(&jobRow{}).Where("tenant_id = ? AND id = ?", j.TenantID, j.ID).
		Updates(map[string]any{"state": assets.JobFailed, "error_code": code, "finished_at": now, "lease_until": nil}).Error; err != nil {
		return err
	}
	if err := tx.Model(&assetRow{}).Where("tenant_id = ? AND id = ?", j.TenantID, j.AssetID).
		Updates(map[string]any{"status": assets.StatusErrored, "error_code": code, "error_message": message, "updated_at": now}).Error; err != nil {
		return err
	}
	return s.emit(tx, j.TenantID, assets.EventErrored, j.AssetID)
}

func (s *Store) succeed(tx *db.Tx, j jobRow, r wire.JobResult, now time.Time) error {
	renditions, err := json.Marshal(r.Renditions)
	if err != nil {
		return err
	}
	if err := tx.Model(&jobRow{}).Where("tenant_id = ? AND id = ?", j.TenantID, j.ID).
		Updates(map[string]any{"state": assets.JobSucceeded, "finished_at": now, "lease_until": nil, "error_code": nil}).Error; err != nil {
		return err
	}
	var stored int64
	for _, u := range r.Usage {
		if u.Meter == assets.MeterStoredBytes {
			stored += int64(u.Quantity)
		}
	}
	var a assetRow
	if err := tx.Where("tenant_id = ? AND id = ?", j.TenantID, j.AssetID).Take(&a).Error; err != nil {
		return err
	}
	// The tenant's storage use grows by the source and the package, which
	// the storage_bytes quota is checked against before new bytes arrive.
	if err := addStorage(tx, j.TenantID, a.SourceBytes+stored); err != nil {
		return err
	}
	if err := tx.Model(&assetRow{}).Where("tenant_id = ? AND id = ?", j.TenantID, j.AssetID).Updates(map[string]any{
		"stored_bytes": stored,
		"status":       assets.StatusReady, "progress": 100, "duration": r.Duration, "renditions": string(renditions),
		"has_audio": r.Audio, "playback_prefix": r.StagingKey, "error_code": nil, "error_message": nil, "updated_at": now,
	}).Error; err != nil {
		return err
	}
	// Insert-if-absent on the event id, with the hourly rollups, in this
	// transaction: a repeated report counts once.
	usage := make([]metering.Event, len(r.Usage))
	for i, u := range r.Usage {
		// A dimension the worker could not tell (empty) is left out
		// rather than failing the job's result.
		dims := make(map[string]string, len(u.Dimensions))
		for k, v := range u.Dimensions {
			if v != "" {
				dims[k] = v
			}
		}
		usage[i] = metering.Event{TenantID: j.TenantID, ID: u.ID, Meter: u.Meter, Quantity: decimal.NewFromFloat(u.Quantity), Dimensions: dims, At: u.At}
	}
	if _, err := metering.Record(tx, usage, now); err != nil {
		return err
	}
	return s.emit(tx, j.TenantID, assets.EventReady, j.AssetID)
}

// addStorage changes the tenant's storage_bytes use by delta, never below 0.
func addStorage(tx *db.Tx, tenant string, delta int64) error {
	if delta == 0 {
		return nil
	}
	return tx.Exec(`INSERT INTO quota_usage (tenant_id, resource, used) VALUES (?, 'storage_bytes', ?)
		ON CONFLICT (tenant_id, resource) DO UPDATE SET used = CASE WHEN quota_usage.used + ? < 0 THEN 0 ELSE quota_usage.used + ? END`,
		tenant, max(delta, 0), delta, delta).Error
}
