// Package sqlstore implements webhooks.Store with gorm on PostgreSQL and the
// embedded SQLite database. Tenant-facing methods run in the tenant's scoped
// transaction and name the tenant in every query; Claim runs in a System
// transaction, since the dispatcher serves every tenant.
package sqlstore

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/marquee-video/marquee/controlplane/webhooks"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/errs"
)

// Store is the SQL webhooks.Store.
type Store struct{ db *db.DB }

var _ webhooks.Store = (*Store)(nil)

// New returns a Store on d.
func New(d *db.DB) *Store { return &Store{db: d} }

type endpointRow struct {
	TenantID string `gorm:"primaryKey"`
	ID       string `gorm:"primaryKey"`
	URL      string `gorm:"column:url"`
	Events   string
	// Secret is kept in clear: it signs every request (see
	// webhooks.Service.CreateEndpoint).
	Secret    string
	CreatedAt time.Time
}

func (endpointRow) TableName() string { return "webhook_endpoints" }

func (r endpointRow) domain() webhooks.Endpoint {
	e := webhooks.Endpoint{ID: r.ID, URL: r.URL, Events: []string{}, CreatedAt: r.CreatedAt.UTC()}
	_ = json.Unmarshal([]byte(r.Events), &e.Events) // written by us; a bad value reads as none
	return e
}

type deliveryRow struct {
	TenantID      string `gorm:"primaryKey"`
	ID            string `gorm:"primaryKey"`
	EndpointID    string
	EventType     string
	Payload       string
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	CreatedAt     time.Time
	DeliveredAt   *time.Time
}

func (deliveryRow) TableName() string { return "webhook_deliveries" }

func (r deliveryRow) domain() webhooks.Delivery {
	d := webhooks.Delivery{
		ID: r.ID, EndpointID: r.EndpointID, EventType: r.EventType, Payload: json.RawMessage(r.Payload),
		Status: webhooks.Status(r.Status), Attempts: r.Attempts, CreatedAt: r.CreatedAt.UTC(), DeliveredAt: utcp(r.DeliveredAt),
		AttemptLog: []webhooks.Attempt{},
	}
	if d.Status == webhooks.StatusPending {
		next := r.NextAttemptAt.UTC()
		d.NextAttemptAt = &next
	}
	return d
}

type attemptRow struct {
	TenantID   string `gorm:"primaryKey"`
	DeliveryID string `gorm:"primaryKey"`
	N          int    `gorm:"primaryKey;column:n;autoIncrement:false"`
	At         time.Time
	StatusCode *int
	Error      *string
	DurationMS int `gorm:"column:duration_ms"`
}

func (attemptRow) TableName() string { return "webhook_attempts" }

func (r attemptRow) domain() webhooks.Attempt {
	a := webhooks.Attempt{N: r.N, At: r.At.UTC(), DurationMS: r.DurationMS}
	if r.StatusCode != nil {
		a.StatusCode = *r.StatusCode
	}
	if r.Error != nil {
		a.Error = *r.Error
	}
	return a
}

func utcp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func endpointNotFound(id string) error { return errs.NotFoundf("webhook endpoint %q not found", id) }

// CreateEndpoint implements webhooks.Store.
func (s *Store) CreateEndpoint(ctx context.Context, tenant string, e webhooks.Endpoint, secret string, max int) error {
	events, err := json.Marshal(e.Events)
	if err != nil {
		return err
	}
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		if tx.Dialect() == db.Postgres {
			// Serializes the count and the insert per tenant, so concurrent
			// creations cannot pass the limit together. (SQLite
			// transactions already hold the write lock.)
			if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtextextended('webhook_endpoints/' || ?, 0))", tenant).Error; err != nil {
				return err
			}
		}
		var n int64
		if err := tx.Model(&endpointRow{}).Where("tenant_id = ?", tenant).Count(&n).Error; err != nil {
			return err
		}
		if n >= int64(max) {
			return errs.E(errs.Conflict, "too_many_endpoints", "a tenant may have at most %d webhook endpoints; delete one first", max)
		}
		return tx.Create(&endpointRow{TenantID: tenant, ID: e.ID, URL: e.URL, Events: string(events), Secret: secret, CreatedAt: e.CreatedAt}).Error
	}))
}

// Endpoints implements webhooks.Store.
func (s *Store) Endpoints(ctx context.Context, tenant string) ([]webhooks.Endpoint, error) {
	var rows []endpointRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Where("tenant_id = ?", tenant).Order("id").Find(&rows).Error
	})
	out := make([]webhooks.Endpoint, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, db.Translate(err)
}

// DeleteEndpoint implements webhooks.Store. The schema's cascades remove the
// endpoint's deliveries and their attempts.
func (s *Store) DeleteEndpoint(ctx context.Context, tenant, id string) error {
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		res := tx.Where("tenant_id = ? AND id = ?", tenant, id).Delete(&endpointRow{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return endpointNotFound(id)
		}
		return nil
	}))
}

// Deliveries implements webhooks.Store.
func (s *Store) Deliveries(ctx context.Context, tenant, endpointID string, limit int, after string) ([]webhooks.Delivery, error) {
	var (
		rows     []deliveryRow
		attempts []attemptRow
	)
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		q := tx.Where("tenant_id = ? AND id > ?", tenant, after)
		if endpointID != "" {
			var n int64
			if err := tx.Model(&endpointRow{}).Where("tenant_id = ? AND id = ?", tenant, endpointID).Count(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				return endpointNotFound(endpointID)
			}
			q = q.Where("endpoint_id = ?", endpointID)
		}
		if err := q.Order("id").Limit(limit).Find(&rows).Error; err != nil || len(rows) == 0 {
			return err
		}
		idList := make([]string, len(rows))
		for i, r := range rows {
			idList[i] = r.ID
		}
		return tx.Where("tenant_id = ? AND delivery_id IN ?", tenant, idList).Order("delivery_id, n").Find(&attempts).Error
	})
	if err != nil {
		return nil, db.Translate(err)
	}
	out := make([]webhooks.Delivery, len(rows))
	at := make(map[string]int, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
		at[r.ID] = i
	}
	for _, a := range attempts {
		i := at[a.DeliveryID]
		out[i].AttemptLog = append(out[i].AttemptLog, a.domain())
	}
	return out, nil
}

// SubscribersTx implements webhooks.Store. Subscriptions are filtered here
// rather than in SQL: a tenant has at most webhooks.MaxEndpoints endpoints,
// and the JSON functions differ between the engines.
func (s *Store) SubscribersTx(tx *db.Tx, tenant, eventType string) ([]string, error) {
	var rows []endpointRow
	if err := tx.Select("tenant_id", "id", "events").Where("tenant_id = ?", tenant).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	var out []string
	for _, r := range rows {
		if slices.Contains(r.domain().Events, eventType) {
			out = append(out, r.ID)
		}
	}
	return out, nil
}

// AddDeliveriesTx implements webhooks.Store.
func (s *Store) AddDeliveriesTx(tx *db.Tx, tenant string, ds []webhooks.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	rows := make([]deliveryRow, len(ds))
	for i, d := range ds {
		next := d.CreatedAt
		if d.NextAttemptAt != nil {
			next = *d.NextAttemptAt
		}
		rows[i] = deliveryRow{
			TenantID: tenant, ID: d.ID, EndpointID: d.EndpointID, EventType: d.EventType, Payload: string(d.Payload),
			Status: string(webhooks.StatusPending), NextAttemptAt: next, CreatedAt: d.CreatedAt,
		}
	}
	return tx.Create(&rows).Error
}

type claimRow struct {
	TenantID  string
	ID        string
	EventType string
	Payload   string
	Attempts  int
	URL       string `gorm:"column:url"`
	Secret    string
}

// Claim implements webhooks.Store. On PostgreSQL the due rows are locked
// with SKIP LOCKED, so dispatchers in other processes polling at the same
// moment take other rows instead of waiting; once this transaction commits,
// the moved next_attempt_at keeps them off until the lease ends. On SQLite
// the transaction holds the database's write lock, which serializes claims.
func (s *Store) Claim(ctx context.Context, now time.Time, max int, lease time.Duration) ([]webhooks.Claimed, error) {
	var rows []claimRow
	err := s.db.System(ctx, func(tx *db.Tx) error {
		lock := ""
		if tx.Dialect() == db.Postgres {
			lock = " FOR UPDATE OF d SKIP LOCKED"
		}
		if err := tx.Raw(`
			SELECT d.tenant_id, d.id, d.event_type, d.payload, d.attempts, e.url, e.secret
			FROM webhook_deliveries d
			JOIN webhook_endpoints e ON e.tenant_id = d.tenant_id AND e.id = d.endpoint_id
			WHERE d.status = 'pending' AND d.next_attempt_at <= ?
			ORDER BY d.next_attempt_at, d.id
			LIMIT ?`+lock, now, max).Scan(&rows).Error; err != nil {
			return err
		}
		until := now.Add(lease)
		for _, r := range rows {
			if err := tx.Model(&deliveryRow{}).Where("tenant_id = ? AND id = ?", r.TenantID, r.ID).
				Update("next_attempt_at", until).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, db.Translate(err)
	}
	out := make([]webhooks.Claimed, len(rows))
	for i, r := range rows {
		out[i] = webhooks.Claimed{
			TenantID: r.TenantID, DeliveryID: r.ID, EventType: r.EventType, Payload: []byte(r.Payload),
			Attempts: r.Attempts, URL: r.URL, Secret: r.Secret,
		}
	}
	return out, nil
}

// Record implements webhooks.Store. The attempt count read at claim time
// fences the write: a dispatcher whose lease ran out cannot overwrite the
// outcome of the one that claimed the delivery after it.
func (s *Store) Record(ctx context.Context, c webhooks.Claimed, a webhooks.Attempt, status webhooks.Status, next time.Time) error {
	return db.Translate(s.db.Tx(ctx, c.TenantID, func(tx *db.Tx) error {
		var cur deliveryRow
		err := tx.Raw("SELECT * FROM webhook_deliveries WHERE tenant_id = ? AND id = ?"+tx.ForUpdate(), c.TenantID, c.DeliveryID).Scan(&cur).Error
		if err != nil {
			return err
		}
		if cur.ID == "" {
			return errs.NotFoundf("webhook delivery %q not found", c.DeliveryID)
		}
		if cur.Status != string(webhooks.StatusPending) || cur.Attempts != c.Attempts || a.N != c.Attempts+1 {
			return errs.E(errs.Conflict, "stale_claim", "delivery %s has moved on since it was claimed", c.DeliveryID)
		}
		row := attemptRow{TenantID: c.TenantID, DeliveryID: c.DeliveryID, N: a.N, At: a.At, DurationMS: a.DurationMS}
		if a.StatusCode != 0 {
			row.StatusCode = &a.StatusCode
		}
		if a.Error != "" {
			row.Error = &a.Error
		}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		set := map[string]any{"attempts": a.N, "status": string(status)}
		switch status {
		case webhooks.StatusPending:
			set["next_attempt_at"] = next
		case webhooks.StatusDelivered:
			set["delivered_at"] = a.At
			set["next_attempt_at"] = a.At
		default:
			set["next_attempt_at"] = a.At
		}
		return tx.Model(&deliveryRow{}).Where("tenant_id = ? AND id = ?", c.TenantID, c.DeliveryID).Updates(set).Error
	}))
}
