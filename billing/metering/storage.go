package metering

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/shopspring/decimal"

	"github.com/marquee-video/marquee/internal/db"
)

// Storage sampling: an hourly asynq job turns each tenant's stored bytes
// into storage_byte_hours.
const (
	// TaskSampleStorage is the asynq task type of the hourly sample.
	TaskSampleStorage = "billing:sample_storage"
	// QueueBilling is the asynq queue billing's periodic jobs run on.
	QueueBilling = "billing"
	// SampleStorageCron is when the sample runs: a few minutes past every
	// hour, for the hour that just ended.
	SampleStorageCron = "3 * * * *"
)

// SampleStorage records, for the hour before now's hour, one
// storage_byte_hours event per tenant storing anything: its stored bytes
// (the storage_bytes in use) times one hour. The event id names the hour,
// so a sample taken twice, by a retried or duplicated job, counts once.
func (g *Ingester) SampleStorage(ctx context.Context, now time.Time) (int, error) {
	hour := now.UTC().Truncate(time.Hour).Add(-time.Hour)
	var rows []struct {
		TenantID string
		Used     int64
	}
	if err := g.db.System(ctx, func(tx *db.Tx) error {
		return tx.Raw(`SELECT q.tenant_id, q.used FROM quota_usage q JOIN tenants t ON t.id = q.tenant_id
			WHERE q.resource = 'storage_bytes' AND q.used > 0 ORDER BY q.tenant_id`).Scan(&rows).Error
	}); err != nil {
		return 0, db.Translate(err)
	}
	if len(rows) == 0 {
		return 0, nil
	}
	events := make([]Event, len(rows))
	for i, r := range rows {
		events[i] = Event{TenantID: r.TenantID, ID: "storage_" + hour.Format("2006010215"), Meter: StorageByteHours, Quantity: decimal.NewFromInt(r.Used), At: hour}
	}
	n := 0
	for i := 0; i < len(events); i += MaxBatch {
		k, err := g.Ingest(ctx, events[i:min(i+MaxBatch, len(events))])
		if err != nil {
			return n, fmt.Errorf("sample storage: %w", err)
		}
		n += k
	}
	return n, nil
}

// HandleSampleStorage is the asynq handler of TaskSampleStorage.
func (g *Ingester) HandleSampleStorage(ctx context.Context, _ *asynq.Task) error {
	_, err := g.SampleStorage(ctx, g.now())
	return err
}
