package metering_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"

	"github.com/marquee-video/marquee/billing/metering"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/db/dbtest"
)

// BenchmarkIngest ingests 200,000 events in batches of 10,000 through the
// deduplicating path (all new, or with every tenth event of a batch a repeat
// of an earlier one), then COPYs the same rows, under other ids, into the same
// partitioned usage_events table in the same run, and reports both rates and
// their ratio. Sub-benchmarks use 1 and 2 concurrent ingesters; the COPY is
// one stream.
func BenchmarkIngest(b *testing.B) {
	for _, repeats := range []bool{false, true} {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("repeats=%v/ingesters=%d", repeats, workers), func(b *testing.B) { benchIngest(b, workers, repeats) })
		}
	}
}

func benchIngest(b *testing.B, workers int, repeats bool) {
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
				Quantity:   decimal.NewFromInt(int64(i % 1000)),
				Dimensions: dimSets[i%len(dimSets)],
				At:         base.Add(time.Duration(i) * 400 * time.Millisecond),
			}
		}
		batches := make(chan []metering.Event, total/batch)
		for i := 0; i < total; i += batch {
			bt := append([]metering.Event(nil), events[i:i+batch]...)
			if repeats && i > 0 {
				for j := 0; j < batch; j += 10 {
					bt[j] = events[(i+j)/2] // a repeat of an event of an earlier batch
				}
			}
			batches <- bt
		}
		close(batches)
		start := time.Now()
		var wg sync.WaitGroup
		errc := make(chan error, workers)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for bt := range batches {
					if _, err := g.Ingest(ctx, bt); err != nil {
						errc <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		ingestTime += time.Since(start)
		close(errc)
		if err := <-errc; err != nil {
			b.Fatal(err)
		}

		rows := make([][]any, total)
		for i, e := range events {
			dims := e.Dimensions
			if dims == nil {
				dims = map[string]string{}
			}
			js, _ := json.Marshal(dims)
			q := pgtype.Numeric{Int: new(big.Int).Set(e.Quantity.Coefficient()), Exp: e.Quantity.Exponent(), Valid: true}
			rows[i] = []any{e.TenantID, metering.Month(e.At), "raw_" + e.ID, e.Meter, q, string(js), e.At}
		}
		start = time.Now()
		for i := 0; i < total; i += batch {
			if _, err := raw.CopyFrom(ctx, pgx.Identifier{"usage_events"},
				[]string{"tenant_id", "month", "id", "meter", "quantity", "dimensions", "at"},
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
