package metering_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/marquee-video/marquee/billing/metering"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/db/dbtest"
)

// BenchmarkUsageQuery measures GET /v1/usage's query for a tenant with 10
// million events in a month. Usage queries read the hourly rollups, never
// the raw events, so the benchmark writes the rollups those events make:
// 15 series (transcode by tier and encoder, egress by CDN, and the other
// meters) × 720 hours for the tenant, whose event counts sum to 10,000,000,
// beside 100 other tenants (a reseller's subtree) with the same shape, and
// the daily rollups made from them. It reports the p50 and p95 latency of
// each query shape; whole-day ranges read the daily rollups, the by-hour
// query the hourly ones.
func BenchmarkUsageQuery(b *testing.B) {
	ctx := context.Background()
	url := dbtest.NewPostgresDatabase(b)
	d, err := db.OpenPostgres(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	month := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	err = d.System(ctx, func(tx *db.Tx) error {
		now := time.Now()
		if err := tx.Exec(`INSERT INTO tenants (id, parent_id, path, slug, name, kind, created_at, updated_at) VALUES
			('ten_root', NULL, '/ten_root/', 'root', 'Root', 'platform', ?, ?),
			('ten_res', 'ten_root', '/ten_root/ten_res/', 'res', 'Res', 'reseller', ?, ?),
			('ten_big', 'ten_res', '/ten_root/ten_res/ten_big/', 'big', 'Big', 'creator', ?, ?)`, now, now, now, now, now, now).Error; err != nil {
			return err
		}
		if err := tx.Exec(`INSERT INTO tenants (id, parent_id, path, slug, name, kind, created_at, updated_at)
			SELECT 'ten_o' || i, 'ten_res', '/ten_root/ten_res/ten_o' || i || '/', 'o' || i, 'O', 'creator', ?, ? FROM generate_series(1, 100) i`, now, now).Error; err != nil {
			return err
		}
		// 15 series per tenant and hour; the big tenant's 10,800 rows
		// carry 10,000,000 events (925 or 926 each).
		return tx.Exec(`
			WITH series(meter, dims, key) AS (VALUES
				('transcode_seconds', '{"tier":"sd","encoder":"x264"}', 'encoder=x264;tier=sd'),
				('transcode_seconds', '{"tier":"hd","encoder":"x264"}', 'encoder=x264;tier=hd'),
				('transcode_seconds', '{"tier":"fhd","encoder":"x264"}', 'encoder=x264;tier=fhd'),
				('transcode_seconds', '{"tier":"uhd","encoder":"x264"}', 'encoder=x264;tier=uhd'),
				('transcode_seconds', '{"tier":"sd","encoder":"nvenc"}', 'encoder=nvenc;tier=sd'),
				('transcode_seconds', '{"tier":"hd","encoder":"nvenc"}', 'encoder=nvenc;tier=hd'),
				('transcode_seconds', '{"tier":"fhd","encoder":"nvenc"}', 'encoder=nvenc;tier=fhd'),
				('transcode_seconds', '{"tier":"uhd","encoder":"nvenc"}', 'encoder=nvenc;tier=uhd'),
				('egress_bytes', '{"cdn":"fastly"}', 'cdn=fastly'),
				('egress_bytes', '{"cdn":"akamai"}', 'cdn=akamai'),
				('egress_bytes', '{"cdn":"cloudfront"}', 'cdn=cloudfront'),
				('playback_seconds', '{}', ''), ('drm_licenses', '{}', ''), ('ad_impressions', '{}', ''), ('storage_byte_hours', '{}', '')
			), ts(id) AS (SELECT id FROM tenants WHERE kind = 'creator')
			INSERT INTO usage_rollups_hourly (tenant_id, hour, meter, dimensions_key, dimensions, quantity, events)
			SELECT ts.id, ?::timestamptz + h * interval '1 hour', s.meter, s.key, s.dims::jsonb,
			       (h * 7919 + length(s.key)) % 100000 + 0.25, 925 + CASE WHEN (h * 15 + row_number() OVER (PARTITION BY ts.id, h ORDER BY s.key, s.meter)) <= 10000 THEN 1 ELSE 0 END
			FROM ts, series s, generate_series(0, 719) h`, month).Error
	})
	if err != nil {
		b.Fatal(err)
	}
	// The daily rollups the ingester keeps beside the hourly ones.
	if _, err := d.SQL().ExecContext(ctx, `INSERT INTO usage_rollups_daily (tenant_id, hour, meter, dimensions_key, dimensions, quantity, events)
		SELECT tenant_id, date_trunc('day', hour AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', meter, dimensions_key, min(dimensions::text)::jsonb, sum(quantity), sum(events)
		FROM usage_rollups_hourly GROUP BY 1, 2, 3, 4`); err != nil {
		b.Fatal(err)
	}
	if _, err := d.SQL().ExecContext(ctx, "ANALYZE usage_rollups_hourly, usage_rollups_daily"); err != nil {
		b.Fatal(err)
	}
	var events int64
	if err := d.SQL().QueryRowContext(ctx, "SELECT sum(events) FROM usage_rollups_hourly WHERE tenant_id = 'ten_big'").Scan(&events); err != nil || events != 10_000_000 {
		b.Fatalf("big tenant holds %d events (%v), want 10,000,000", events, err)
	}
	g := metering.NewIngester(d)
	shapes := []struct {
		name  string
		actor string
		q     metering.Query
	}{
		{"tenant_month_by_day", "ten_big", metering.Query{Tenant: "ten_big", GroupBy: []string{"day"}}},
		{"tenant_month_by_hour_egress", "ten_big", metering.Query{Tenant: "ten_big", Meter: metering.EgressBytes, GroupBy: []string{"hour", "cdn"}}},
		{"tenant_month_by_dimensions", "ten_big", metering.Query{Tenant: "ten_big", GroupBy: []string{"dimensions"}}},
		{"reseller_subtree_by_tenant", "ten_res", metering.Query{Tenant: "ten_res", Descendants: true, GroupBy: []string{"tenant"}}},
	}
	for _, sh := range shapes {
		b.Run(sh.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for range b.N {
				q := sh.q
				q.From, q.To = month, month.AddDate(0, 1, 0)
				start := time.Now()
				ps, err := g.Usage(ctx, sh.actor, q)
				lat = append(lat, time.Since(start))
				if err != nil || len(ps) == 0 {
					b.Fatalf("%d points, %v", len(ps), err)
				}
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
			b.ReportMetric(pct(0.5), "p50_ms")
			b.ReportMetric(pct(0.95), "p95_ms")
		})
	}
}
