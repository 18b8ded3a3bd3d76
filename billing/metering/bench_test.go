package metering_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/marquee-video/marquee/billing/metering"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/db/dbtest"
)

// BenchmarkIngest ingests 200,000 events in batches of 10,000 through the
// deduplicating path, then COPYs the same rows into a plain copy of
// usage_events (same columns, keys and checks; no RLS, no foreign key, no
// rollups) in the same run, and reports both rates and their ratio.
func BenchmarkIngest(b *testing.B) {
	const total, batch = 200_000, 10_000
	ctx := context.Background()
	url := dbtest.NewPostgresDatabase(b)
	d, err := db.OpenPostgres(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	tenantIDs := []string{"ten_a", "ten_b", "ten_c"}
	seedTenants(b, d, tenantIDs...)
	raw, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close(ctx)
	if _, err := raw.Exec(ctx, "CREATE TABLE usage_events_raw (LIKE usage_events INCLUDING ALL)"); err != nil {
		b.Fatal(err)
	}
	g := metering.NewIngester(d)
	base := time.Now().UTC().Add(-24 * time.Hour)
	dimSets := []map[string]string{nil, {"cdn": "fastly"}, {"tier": "hd", "encoder": "x264"}}

	var ingestTime, copyTime time.Duration
	for iter := 0; iter < b.N; iter++ {
		events := make([]metering.Event, total)
		for i := range events {
			events[i] = metering.Event{
				TenantID:   tenantIDs[i%3],
				ID:         fmt.Sprintf("it%d_evt_%07d", iter, i),
				Meter:      metering.Meters[i%len(metering.Meters)],
				Quantity:   float64(i % 1000),
				Dimensions: dimSets[i%len(dimSets)],
				At:         base.Add(time.Duration(i) * 400 * time.Millisecond),
			}
		}
		start := time.Now()
		for i := 0; i < total; i += batch {
			n, err := g.Ingest(ctx, events[i:i+batch])
			if err != nil || n != batch {
				b.Fatalf("Ingest = %d, %v", n, err)
			}
		}
		ingestTime += time.Since(start)

		rows := make([][]any, total)
		for i, e := range events {
			dims := e.Dimensions
			if dims == nil {
				dims = map[string]string{}
			}
			js, _ := json.Marshal(dims)
			rows[i] = []any{e.TenantID, e.ID, e.Meter, e.Quantity, string(js), e.At}
		}
		start = time.Now()
		for i := 0; i < total; i += batch {
			if _, err := raw.CopyFrom(ctx, pgx.Identifier{"usage_events_raw"},
				[]string{"tenant_id", "id", "meter", "quantity", "dimensions", "at"},
				pgx.CopyFromRows(rows[i:i+batch])); err != nil {
				b.Fatal(err)
			}
		}
		copyTime += time.Since(start)
	}
	ingestRate := float64(total*b.N) / ingestTime.Seconds()
	copyRate := float64(total*b.N) / copyTime.Seconds()
	b.ReportMetric(ingestRate, "ingest_events/s")
	b.ReportMetric(copyRate, "copy_events/s")
	b.ReportMetric(ingestRate/copyRate, "ingest/copy")
}
