package metering_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/shopspring/decimal"

	"github.com/marquee-video/marquee/billing/metering"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/db/dbtest"
	"github.com/marquee-video/marquee/internal/errs"
)

// seedTenants creates a platform tenant and the given creators under it.
func seedTenants(t testing.TB, d *db.DB, ids ...string) {
	t.Helper()
	now := time.Now().UTC()
	err := d.System(context.Background(), func(tx *db.Tx) error {
		if err := tx.Exec(`INSERT INTO tenants (id, parent_id, path, slug, name, kind, created_at, updated_at)
			VALUES ('ten_root', NULL, '/ten_root/', 'root', 'Root', 'platform', ?, ?)`, now, now).Error; err != nil {
			return err
		}
		for _, id := range ids {
			if err := tx.Exec(`INSERT INTO tenants (id, parent_id, path, slug, name, kind, created_at, updated_at)
				VALUES (?, 'ten_root', ?, ?, ?, 'creator', ?, ?)`, id, "/ten_root/"+id+"/", id, id, now, now).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func countRows(t *testing.T, d *db.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := d.System(context.Background(), func(tx *db.Tx) error { return tx.Table(table).Count(&n).Error }); err != nil {
		t.Fatal(err)
	}
	return n
}

type key struct {
	tenant string
	hour   time.Time
	meter  string
	dims   string
}

type sum struct {
	quantity decimal.Decimal
	events   int64
}

// TestIngestExactlyOnce sends every event three times, shuffled, from four
// goroutines at once while a third of the ingest calls are killed (their
// context cancelled before or while they run) and retried on a restarted
// ingester, and checks the rollups against sums computed here from the
// events themselves, to the unit.
func TestIngestExactlyOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		tenantIDs := []string{"ten_a", "ten_b", "ten_c"}
		seedTenants(t, d, tenantIDs...)
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(1, 2))
		base := time.Now().UTC().Add(-48 * time.Hour)
		dimSets := []map[string]string{nil, {"cdn": "fastly"}, {"cdn": "akamai"}, {"tier": "hd", "encoder": "x264"}, {"encoder": "x265", "tier": "uhd"}}

		var events []metering.Event
		want := map[key]*sum{}
		for i := range 2000 {
			e := metering.Event{
				TenantID:   tenantIDs[rng.IntN(len(tenantIDs))],
				ID:         fmt.Sprintf("evt_%05d", i),
				Meter:      metering.Meters[rng.IntN(len(metering.Meters))],
				Quantity:   decimal.New(int64(rng.IntN(1_000_000)), -int32(rng.IntN(4))),
				Dimensions: dimSets[rng.IntN(len(dimSets))],
				At:         base.Add(time.Duration(rng.Int64N(int64(47 * time.Hour)))),
			}
			events = append(events, e)
			k := key{e.TenantID, e.At.Truncate(time.Hour), e.Meter, metering.DimensionsKey(e.Dimensions)}
			if want[k] == nil {
				want[k] = &sum{}
			}
			want[k].quantity = want[k].quantity.Add(e.Quantity)
			want[k].events++
		}
		sends := append(append(append([]metering.Event{}, events...), events...), events...)
		rng.Shuffle(len(sends), func(i, j int) { sends[i], sends[j] = sends[j], sends[i] })

		batches := make(chan []metering.Event)
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			killed   int
			firstErr error
		)
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				wr := rand.New(rand.NewPCG(uint64(w), 99))
				g := metering.NewIngester(d)
				for b := range batches {
					for {
						// A third of the calls are killed: before they start
						// (an expired context) or while they run; the
						// producer restarts its ingester and sends again.
						ctx, cancel := context.WithCancel(context.Background())
						switch wr.IntN(6) {
						case 0:
							cancel()
						case 1:
							ctx, cancel = context.WithTimeout(ctx, time.Duration(wr.IntN(4000))*time.Microsecond)
						}
						_, err := g.Ingest(ctx, b)
						// Killed: cancelled, or past its deadline. A dial can
						// time out on the deadline a moment before the
						// context's own timer marks it done.
						dl, hasDL := ctx.Deadline()
						dead := ctx.Err() != nil || (hasDL && !time.Now().Before(dl))
						cancel()
						if err == nil {
							break
						}
						mu.Lock()
						if !dead && firstErr == nil {
							firstErr = err
						}
						killed++
						mu.Unlock()
						if !dead {
							return
						}
						g = metering.NewIngester(d)
					}
				}
			}()
		}
		for i := 0; i < len(sends); {
			n := 50 + rng.IntN(400)
			end := min(i+n, len(sends))
			batches <- sends[i:end]
			i = end
		}
		close(batches)
		wg.Wait()
		if firstErr != nil {
			t.Fatal(firstErr)
		}
		if killed == 0 {
			t.Fatal("no ingest call was killed")
		}
		t.Logf("%d ingest calls killed and retried", killed)
		g := metering.NewIngester(d)
		if n := countRows(t, d, "usage_events"); n != int64(len(events)) {
			t.Errorf("usage_events holds %d rows, want %d", n, len(events))
		}

		got := map[key]sum{}
		for _, ten := range tenantIDs {
			rs, err := g.Rollups(ctx, ten, base.Add(-time.Hour), time.Now().Add(time.Hour), "")
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				if r.TenantID != ten {
					t.Fatalf("Rollups(%s) returned a row of %s", ten, r.TenantID)
				}
				k := key{r.TenantID, r.Hour, r.Meter, metering.DimensionsKey(r.Dimensions)}
				if _, dup := got[k]; dup {
					t.Fatalf("two rollups for %+v", k)
				}
				got[k] = sum{r.Quantity, r.Events}
			}
		}
		if len(got) != len(want) {
			t.Errorf("%d rollups, want %d", len(got), len(want))
		}
		for k, w := range want {
			g, ok := got[k]
			if !ok {
				t.Errorf("missing rollup %+v", k)
				continue
			}
			if !g.quantity.Equal(w.quantity) || g.events != w.events {
				t.Errorf("rollup %+v = %v over %d events, want %v over %d", k, g.quantity, g.events, w.quantity, w.events)
			}
		}
		// The daily rollups, read through the usage query over whole days,
		// hold the same sums by day.
		wantDay := map[key]sum{}
		for k, w := range want {
			k.hour = k.hour.Truncate(24 * time.Hour)
			s := wantDay[k]
			wantDay[k] = sum{s.quantity.Add(w.quantity), s.events + w.events}
		}
		from := base.Truncate(24 * time.Hour)
		gotDay := 0
		for _, ten := range tenantIDs {
			ps, err := g.Usage(ctx, ten, metering.Query{Tenant: ten, From: from, To: from.Add(72 * time.Hour), GroupBy: []string{"day", "dimensions"}})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				k := key{ten, *p.PeriodStart, p.Meter, metering.DimensionsKey(p.Dimensions)}
				if w := wantDay[k]; !w.quantity.Equal(p.Quantity) || w.events != p.Events {
					t.Errorf("day %+v = %v over %d, want %v over %d", k, p.Quantity, p.Events, w.quantity, w.events)
				}
				gotDay++
			}
		}
		if gotDay != len(wantDay) {
			t.Errorf("%d daily groups, want %d", gotDay, len(wantDay))
		}
	})
}

// TestIngestRefusesBadBatch checks that one bad event refuses its whole
// batch with a clear code and the event's index, and nothing is written.
func TestIngestRefusesBadBatch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		seedTenants(t, d, "ten_a")
		ctx := context.Background()
		g := metering.NewIngester(d)
		now := time.Now().UTC()
		good := func(i int) metering.Event {
			return metering.Event{TenantID: "ten_a", ID: fmt.Sprintf("ok_%d", i), Meter: metering.EgressBytes, Quantity: decimal.NewFromInt(10), At: now.Add(-time.Minute)}
		}
		cases := []struct {
			name string
			bad  func(e *metering.Event)
			code string
		}{
			{"negative quantity", func(e *metering.Event) { e.Quantity = decimal.NewFromInt(-1) }, metering.CodeInvalidQuantity},
			{"too precise quantity", func(e *metering.Event) { e.Quantity = decimal.New(1, -10) }, metering.CodeInvalidQuantity},
			{"too large quantity", func(e *metering.Event) { e.Quantity = decimal.New(1, 40) }, metering.CodeInvalidQuantity},
			{"unknown meter", func(e *metering.Event) { e.Meter = "free_lunches" }, metering.CodeUnknownMeter},
			{"far future", func(e *metering.Event) { e.At = now.Add(time.Hour) }, metering.CodeInvalidTime},
			{"before 2020", func(e *metering.Event) { e.At = time.Date(2019, 12, 31, 0, 0, 0, 0, time.UTC) }, metering.CodeInvalidTime},
			{"empty id", func(e *metering.Event) { e.ID = "" }, metering.CodeInvalidEvent},
			{"long id", func(e *metering.Event) { e.ID = strings.Repeat("x", 201) }, metering.CodeInvalidEvent},
			{"too many dimensions", func(e *metering.Event) {
				e.Dimensions = map[string]string{}
				for i := range 9 {
					e.Dimensions[fmt.Sprintf("k%d", i)] = "v"
				}
			}, metering.CodeInvalidEvent},
			{"bad dimension value", func(e *metering.Event) { e.Dimensions = map[string]string{"cdn": "a;b=c"} }, metering.CodeInvalidEvent},
		}
		for _, c := range cases {
			batch := []metering.Event{good(0), good(1), good(2), good(3), good(4)}
			c.bad(&batch[3])
			n, err := g.Ingest(ctx, batch)
			if err == nil {
				t.Errorf("%s: accepted", c.name)
				continue
			}
			if n != 0 || errs.KindOf(err) != errs.Invalid || errs.CodeOf(err) != c.code || !strings.Contains(err.Error(), "event 3") {
				t.Errorf("%s: got n=%d err=%v (code %s), want code %s naming event 3", c.name, n, err, errs.CodeOf(err), c.code)
			}
		}
		if n := countRows(t, d, "usage_events"); n != 0 {
			t.Errorf("usage_events holds %d rows after refused batches", n)
		}
		if n := countRows(t, d, "usage_rollups_hourly"); n != 0 {
			t.Errorf("usage_rollups_hourly holds %d rows after refused batches", n)
		}
		// The edge of the allowed skew is accepted.
		e := good(9)
		e.At = now.Add(4 * time.Minute)
		if _, err := g.Ingest(ctx, []metering.Event{e}); err != nil {
			t.Errorf("event 4 minutes ahead refused: %v", err)
		}
	})
}

// TestRollupsTenantIsolation checks that a tenant sees only its own
// rollups, through Rollups and, on PostgreSQL, through row-level security.
func TestRollupsTenantIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		seedTenants(t, d, "ten_a", "ten_b")
		ctx := context.Background()
		g := metering.NewIngester(d)
		at := time.Now().UTC().Add(-2 * time.Hour)
		batch := []metering.Event{
			{TenantID: "ten_a", ID: "same_id", Meter: metering.PlaybackSeconds, Quantity: decimal.NewFromInt(5), At: at},
			{TenantID: "ten_b", ID: "same_id", Meter: metering.PlaybackSeconds, Quantity: decimal.NewFromInt(7), At: at},
			{TenantID: "ten_b", ID: "other", Meter: metering.DRMLicenses, Quantity: decimal.NewFromInt(1), At: at},
		}
		if n, err := g.Ingest(ctx, batch); err != nil || n != 3 {
			t.Fatalf("Ingest = %d, %v; want 3 (the same id in two tenants is two events)", n, err)
		}
		from, to := at.Add(-time.Hour), time.Now().Add(time.Hour)
		a, err := g.Rollups(ctx, "ten_a", from, to, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != 1 || a[0].TenantID != "ten_a" || !a[0].Quantity.Equal(decimal.NewFromInt(5)) || a[0].Events != 1 {
			t.Errorf("ten_a rollups = %+v, want one of 5", a)
		}
		b, err := g.Rollups(ctx, "ten_b", from, to, metering.PlaybackSeconds)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != 1 || b[0].TenantID != "ten_b" || !b[0].Quantity.Equal(decimal.NewFromInt(7)) {
			t.Errorf("ten_b playback rollups = %+v, want one of 7", b)
		}
		if d.Dialect() == db.Postgres {
			var n int64
			err := d.Tx(ctx, "ten_a", func(tx *db.Tx) error { return tx.Table("usage_rollups_hourly").Count(&n).Error })
			if err != nil || n != 1 {
				t.Errorf("ten_a sees %d rollup rows through RLS (err %v), want 1", n, err)
			}
		}
		if _, err := g.Rollups(ctx, "ten_a", from, to, "nope"); errs.CodeOf(err) != metering.CodeUnknownMeter {
			t.Errorf("unknown meter filter: %v", err)
		}
	})
}

// TestSampleStorage turns stored bytes into byte-hours once per tenant and
// hour, however often the job runs.
func TestSampleStorage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		seedTenants(t, d, "ten_a", "ten_b", "ten_c")
		ctx := context.Background()
		err := d.System(ctx, func(tx *db.Tx) error {
			for ten, used := range map[string]int64{"ten_a": 5_000_000_000, "ten_b": 7, "ten_c": 0} {
				if err := tx.Exec("INSERT INTO quota_usage (tenant_id, resource, used) VALUES (?, 'storage_bytes', ?)", ten, used).Error; err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		g := metering.NewIngester(d)
		now := time.Now().UTC()
		for i, want := range []int{2, 0} {
			if n, err := g.SampleStorage(ctx, now); err != nil || n != want {
				t.Fatalf("sample %d = %d, %v; want %d new events", i, n, err, want)
			}
		}
		if err := g.HandleSampleStorage(ctx, asynq.NewTask(metering.TaskSampleStorage, nil)); err != nil {
			t.Fatal(err)
		}
		hour := now.Truncate(time.Hour).Add(-time.Hour)
		for ten, want := range map[string]int64{"ten_a": 5_000_000_000, "ten_b": 7} {
			rs, err := g.Rollups(ctx, ten, hour, hour.Add(time.Hour), metering.StorageByteHours)
			if err != nil || len(rs) != 1 || !rs[0].Quantity.Equal(decimal.NewFromInt(want)) || rs[0].Events != 1 {
				t.Errorf("%s byte-hours = %+v, %v; want one of %d", ten, rs, err, want)
			}
		}
		if rs, _ := g.Rollups(ctx, "ten_c", hour, hour.Add(time.Hour), ""); len(rs) != 0 {
			t.Errorf("a tenant storing nothing has rollups %+v", rs)
		}
	})
}
