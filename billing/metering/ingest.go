package metering

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/shopspring/decimal"

	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/errs"
)

// Ingester stores usage events and their hourly rollups.
type Ingester struct {
	db  *db.DB
	now func() time.Time

	mu     sync.Mutex
	months map[string]bool // usage partitions known to exist
	// skipFast counts batches left to send straight to the
	// insert-if-absent path after a batch held repeats: a stream that
	// repeats events is likely to go on doing so.
	skipFast atomic.Int32
}

// skipFastBatches is how many batches go straight to insert-if-absent after
// a batch's fast path met a repeat.
const skipFastBatches = 16

// NewIngester returns an Ingester over d.
func NewIngester(d *db.DB) *Ingester {
	return &Ingester{db: d, now: time.Now, months: map[string]bool{}}
}

// SetClock replaces the ingester's clock (tests of the future-time rule).
func (g *Ingester) SetClock(now func() time.Time) { g.now = now }

// deadlockRetries is how often a batch is retried when PostgreSQL picks it as
// a deadlock victim. Rows are locked in key order, so it should not happen;
// the retry is a safety net, and safe since the batch is idempotent.
const deadlockRetries = 3

// Ingest validates the whole batch (one bad event refuses it, nothing is
// written), drops repeats within it, and stores in one system transaction the
// events not stored before, adding exactly those to the rollups. inserted is
// how many events were new.
func (g *Ingester) Ingest(ctx context.Context, events []Event) (inserted int, err error) {
	orig := events
	events, err = g.prepare(events)
	if err != nil || len(events) == 0 {
		return 0, err
	}
	if g.db.Dialect() != db.Postgres {
		err = g.db.System(ctx, func(tx *db.Tx) error {
			if err := checkTenants(tx, orig); err != nil {
				return err
			}
			inserted, err = record(tx, events, g)
			return err
		})
		return inserted, db.Translate(err)
	}
	for attempt := 0; ; attempt++ {
		inserted, err = g.ingestPostgres(ctx, events, orig)
		var pg *pgconn.PgError
		if err != nil && errors.As(err, &pg) && (pg.Code == "40P01" || pg.Code == "40001") && attempt < deadlockRetries {
			continue
		}
		return inserted, db.Translate(err)
	}
}

// Record stores events inside tx, a transaction the caller already holds
// (a finished job's usage is stored with the job's result), with the same
// rules as Ingest and now as the clock. Meant for a handful of events;
// Ingest is the bulk path. The caller's transaction must be allowed to write
// the events' tenants (a tenant transaction writes its own usage).
func Record(tx *db.Tx, events []Event, now time.Time) (int, error) {
	events, err := prepare(events, now)
	if err != nil || len(events) == 0 {
		return 0, err
	}
	return record(tx, events, nil)
}

func (g *Ingester) prepare(events []Event) ([]Event, error) { return prepare(events, g.now()) }

// prepare validates, de-duplicates and sorts a batch by key, so that
// concurrent batches lock the same rows in the same order.
func prepare(events []Event, now time.Time) ([]Event, error) {
	if err := validateBatch(events, now); err != nil {
		return nil, err
	}
	events = dedupe(events)
	sort.Slice(events, func(i, j int) bool {
		a, b := events[i], events[j]
		if a.TenantID != b.TenantID {
			return a.TenantID < b.TenantID
		}
		if ma, mb := monthNumber(a.At), monthNumber(b.At); ma != mb {
			return ma < mb
		}
		return a.ID < b.ID
	})
	return events, nil
}

// monthNumber orders months as Month's strings do, without formatting.
func monthNumber(t time.Time) int {
	y, m, _ := t.UTC().Date()
	return y*12 + int(m)
}

// checkTenants refuses a batch naming a tenant that does not exist.
func checkTenants(tx *db.Tx, events []Event) error {
	want := distinct(events, func(e Event) string { return e.TenantID })
	var found []string
	if err := tx.Raw("SELECT id FROM tenants WHERE id IN ?", want).Scan(&found).Error; err != nil {
		return err
	}
	if len(found) == len(want) {
		return nil
	}
	have := map[string]bool{}
	for _, id := range found {
		have[id] = true
	}
	for i, e := range events {
		if !have[e.TenantID] {
			err := errs.E(errs.Invalid, CodeUnknownTenant, "event %d (id %q): no tenant %q", i, e.ID, e.TenantID)
			err.Field = fmt.Sprintf("events[%d].tenant_id", i)
			return err
		}
	}
	return nil
}

func distinct(events []Event, f func(Event) string) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range events {
		if k := f(e); !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// ensureMonths creates the usage partitions of the batch's months that this
// ingester has not seen yet (PostgreSQL).
func (g *Ingester) ensureMonths(ctx context.Context, exec func(ctx context.Context, month string) error, events []Event) error {
	for _, m := range distinct(events, func(e Event) string { return Month(e.At) }) {
		g.mu.Lock()
		known := g.months[m]
		g.mu.Unlock()
		if known {
			continue
		}
		if err := exec(ctx, m); err != nil {
			return fmt.Errorf("usage partition %s: %w", m, err)
		}
		g.mu.Lock()
		g.months[m] = true
		g.mu.Unlock()
	}
	return nil
}

// ingestPostgres stores the batch in one transaction. It first tries a plain
// INSERT of the whole batch; when an event was stored before, that fails on
// the key and the batch is inserted with one INSERT … SELECT FROM
// unnest of column arrays, ON CONFLICT DO NOTHING RETURNING the keys it
// actually inserted. Exactly the inserted events are summed here and added
// to the rollups by a second statement in the same transaction. Sending arrays needs the pgx connection, which database/sql
// hides inside a *sql.Tx, so the transaction is begun on the raw connection
// and scoped exactly as db.System scopes one: role marquee_app, app.scope
// 'system'.
func (g *Ingester) ingestPostgres(ctx context.Context, events, orig []Event) (int, error) {
	n := len(events)
	var (
		tenantCol = make([]string, n)
		monthCol  = make([]string, n)
		idCol     = make([]string, n)
		meterCol  = make([]string, n)
		qtyCol    = make([]pgtype.Numeric, n)
		dimsCol   = make([]string, n)
		atCol     = make([]time.Time, n)
		months    = make([]string, n)
		keys      = make([]string, n)
	)
	for i, e := range events {
		key, dims, err := encodeDimensions(e.Dimensions)
		if err != nil {
			return 0, err
		}
		keys[i] = key
		months[i] = Month(e.At)
		tenantCol[i], monthCol[i], idCol[i], meterCol[i] = e.TenantID, months[i], e.ID, e.Meter
		qtyCol[i], dimsCol[i], atCol[i] = numeric(e.Quantity), dims, e.At.UTC()
	}
	tenants := distinct(events, func(e Event) string { return e.TenantID })
	conn, err := g.db.SQL().Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var inserted []int
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		return pgx.BeginFunc(ctx, pc, func(tx pgx.Tx) error {
			var found int
			if err := tx.QueryRow(ctx, `SELECT set_config('role', $1, true), set_config('app.scope', 'system', true),
				(SELECT count(*) FROM tenants WHERE id = ANY($2))`, db.AppRole, tenants).Scan(nil, nil, &found); err != nil {
				return fmt.Errorf("begin system transaction: %w", err)
			}
			if found != len(tenants) {
				return errUnknownTenant
			}
			if err := g.ensureMonths(ctx, func(ctx context.Context, m string) error {
				_, err := tx.Exec(ctx, "SELECT marquee_usage_partition($1)", m)
				return err
			}, events); err != nil {
				return err
			}
			// Fast path: most batches hold only new events (repeats are
			// retries), so insert them without conflict handling, which
			// costs PostgreSQL a speculative insertion per row. A repeat
			// fails the insert on the primary key; then the batch takes
			// the insert-if-absent path from the savepoint. (COPY straight
			// into usage_events would be cheaper still, but PostgreSQL
			// refuses COPY FROM into a table with row-level security.)
			if g.skipFast.Load() > 0 {
				g.skipFast.Add(-1)
			} else {
				sp, err := tx.Begin(ctx)
				if err != nil {
					return err
				}
				_, err = sp.Exec(ctx, `
					INSERT INTO usage_events (tenant_id, month, id, meter, quantity, dimensions, at)
					SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::jsonb[], $7::timestamptz[])`,
					tenantCol, monthCol, idCol, meterCol, qtyCol, dimsCol, atCol)
				var pgErr *pgconn.PgError
				switch {
				case err == nil:
					if err := sp.Commit(ctx); err != nil {
						return err
					}
					inserted = make([]int, n)
					for i := range inserted {
						inserted[i] = i
					}
					return addRollups(ctx, tx, events, keys, inserted)
				case errors.As(err, &pgErr) && pgErr.Code == "23505":
					if err := sp.Rollback(ctx); err != nil {
						return err
					}
					g.skipFast.Store(skipFastBatches)
				default:
					return fmt.Errorf("insert usage events: %w", err)
				}
			}
			rows, err := tx.Query(ctx, `
				INSERT INTO usage_events (tenant_id, month, id, meter, quantity, dimensions, at)
				SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::jsonb[], $7::timestamptz[])
				ON CONFLICT (tenant_id, month, id) DO NOTHING
				RETURNING tenant_id, month, id`,
				tenantCol, monthCol, idCol, meterCol, qtyCol, dimsCol, atCol)
			if err != nil {
				return fmt.Errorf("insert usage events: %w", err)
			}
			type key struct{ tenant, month, id string }
			index := make(map[key]int, n)
			for i, e := range events {
				index[key{e.TenantID, months[i], e.ID}] = i
			}
			var k key
			_, err = pgx.ForEachRow(rows, []any{&k.tenant, &k.month, &k.id}, func() error {
				i, ok := index[k]
				if !ok {
					return fmt.Errorf("insert usage events: returned unknown key %v", k)
				}
				inserted = append(inserted, i)
				return nil
			})
			if err != nil {
				return fmt.Errorf("insert usage events: %w", err)
			}
			return addRollups(ctx, tx, events, keys, inserted)
		})
	})
	if errors.Is(err, errUnknownTenant) {
		// Name the first offending event of the batch as sent.
		var named error
		_ = g.db.System(ctx, func(tx *db.Tx) error { named = checkTenants(tx, orig); return nil })
		if named != nil {
			return 0, named
		}
	}
	if err != nil {
		return 0, err
	}
	return len(inserted), nil
}

// encodeDimensions returns dims' canonical key and its JSON object, in one
// pass over the sorted keys. Keys are validated ([a-z0-9_]); values are
// written as they are unless they need escaping, when encoding/json does it.
func encodeDimensions(dims map[string]string) (key, js string, err error) {
	if len(dims) == 0 {
		return "", "{}", nil
	}
	names := make([]string, 0, len(dims))
	for k := range dims {
		names = append(names, k)
	}
	sort.Strings(names)
	var kb, jb strings.Builder
	jb.WriteByte('{')
	for i, k := range names {
		v := dims[k]
		if i > 0 {
			kb.WriteByte(';')
			jb.WriteByte(',')
		}
		kb.WriteString(k)
		kb.WriteByte('=')
		kb.WriteString(v)
		jb.WriteByte('"')
		jb.WriteString(k)
		jb.WriteString(`":`)
		if plainJSON(v) {
			jb.WriteByte('"')
			jb.WriteString(v)
			jb.WriteByte('"')
		} else {
			b, err := json.Marshal(v)
			if err != nil {
				return "", "", err
			}
			jb.Write(b)
		}
	}
	jb.WriteByte('}')
	return kb.String(), jb.String(), nil
}

// plainJSON reports whether v is printable ASCII needing no JSON escape
// (encoding/json also escapes <, > and &).
func plainJSON(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// addRollups sums the inserted events by tenant, hour, meter and
// dimensions and adds the sums to the rollups, in key order.
func addRollups(ctx context.Context, tx pgx.Tx, events []Event, keys []string, inserted []int) error {
	if len(inserted) == 0 {
		return nil
	}
	sums := map[rollupKey]*rollupSum{}
	for _, i := range inserted {
		e := events[i]
		k := rollupKey{e.TenantID, e.At.UTC().Truncate(time.Hour), e.Meter, keys[i]}
		s, ok := sums[k]
		if !ok {
			s = &rollupSum{dims: nonNil(e.Dimensions)}
			sums[k] = s
		}
		s.quantity = s.quantity.Add(e.Quantity)
		s.events++
	}
	for _, table := range rollupTables {
		if err := upsertRollups(ctx, tx, table.name, table.of(sums)); err != nil {
			return err
		}
	}
	return nil
}

// rollupTables are the rollups every inserted event is added to: hourly,
// and daily (whose hour column holds the start of the UTC day) for queries
// over whole days.
var rollupTables = []struct {
	name string
	of   func(hourly map[rollupKey]*rollupSum) map[rollupKey]*rollupSum
}{
	{"usage_rollups_hourly", func(h map[rollupKey]*rollupSum) map[rollupKey]*rollupSum { return h }},
	{"usage_rollups_daily", daily},
}

// daily sums hourly rollups by UTC day.
func daily(hourly map[rollupKey]*rollupSum) map[rollupKey]*rollupSum {
	out := make(map[rollupKey]*rollupSum, len(hourly))
	for k, s := range hourly {
		k.hour = k.hour.Truncate(24 * time.Hour)
		d, ok := out[k]
		if !ok {
			d = &rollupSum{dims: s.dims}
			out[k] = d
		}
		d.quantity = d.quantity.Add(s.quantity)
		d.events += s.events
	}
	return out
}

func upsertRollups(ctx context.Context, tx pgx.Tx, table string, sums map[rollupKey]*rollupSum) error {
	order := sortedKeys(sums)
	m := len(order)
	var (
		tenantCol = make([]string, m)
		hourCol   = make([]time.Time, m)
		meterCol  = make([]string, m)
		keyCol    = make([]string, m)
		dimsCol   = make([]string, m)
		qtyCol    = make([]pgtype.Numeric, m)
		nCol      = make([]int64, m)
	)
	for i, k := range order {
		s := sums[k]
		dims, err := json.Marshal(s.dims)
		if err != nil {
			return err
		}
		tenantCol[i], hourCol[i], meterCol[i], keyCol[i] = k.tenant, k.hour, k.meter, k.dims
		dimsCol[i], qtyCol[i], nCol[i] = string(dims), numeric(s.quantity), s.events
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO `+table+` AS r (tenant_id, hour, meter, dimensions_key, dimensions, quantity, events)
		SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::jsonb[], $6::numeric[], $7::bigint[])
		ON CONFLICT (tenant_id, hour, meter, dimensions_key) DO UPDATE
		SET quantity = r.quantity + excluded.quantity, events = r.events + excluded.events`,
		tenantCol, hourCol, meterCol, keyCol, dimsCol, qtyCol, nCol)
	if err != nil {
		return fmt.Errorf("update %s: %w", table, err)
	}
	return nil
}

func sortedKeys(sums map[rollupKey]*rollupSum) []rollupKey {
	order := make([]rollupKey, 0, len(sums))
	for k := range sums {
		order = append(order, k)
	}
	sort.Slice(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if a.tenant != b.tenant {
			return a.tenant < b.tenant
		}
		if !a.hour.Equal(b.hour) {
			return a.hour.Before(b.hour)
		}
		if a.meter != b.meter {
			return a.meter < b.meter
		}
		return a.dims < b.dims
	})
	return order
}

var errUnknownTenant = errs.E(errs.Invalid, CodeUnknownTenant, "a usage event names a tenant that does not exist")

// numeric converts q for pgx's binary encoding.
func numeric(q decimal.Decimal) pgtype.Numeric {
	return pgtype.Numeric{Int: new(big.Int).Set(q.Coefficient()), Exp: q.Exponent(), Valid: true}
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

type rollupKey struct {
	tenant string
	hour   time.Time
	meter  string
	dims   string
}

type rollupSum struct {
	dims     map[string]string
	quantity decimal.Decimal
	events   int64
}

// record inserts event by event in tx and adds to the rollups only those
// its insert actually wrote. g, when not nil, remembers the partitions
// known to exist.
func record(tx *db.Tx, events []Event, g *Ingester) (int, error) {
	if tx.Dialect() == db.Postgres {
		ensure := func(_ context.Context, m string) error {
			return tx.Exec("SELECT marquee_usage_partition(?)", m).Error
		}
		var err error
		if g != nil {
			err = g.ensureMonths(context.Background(), ensure, events)
		} else {
			for _, m := range distinct(events, func(e Event) string { return Month(e.At) }) {
				if err = ensure(context.Background(), m); err != nil {
					break
				}
			}
		}
		if err != nil {
			return 0, fmt.Errorf("usage partition: %w", err)
		}
	}
	inserted := 0
	sums := map[rollupKey]*rollupSum{}
	for _, e := range events {
		dims, err := json.Marshal(nonNil(e.Dimensions))
		if err != nil {
			return 0, err
		}
		res := tx.Exec(`INSERT INTO usage_events (tenant_id, month, id, meter, quantity, dimensions, at)
			VALUES (?, ?, ?, ?, `+castNumeric(tx)+`, ?, ?) ON CONFLICT (tenant_id, month, id) DO NOTHING`,
			e.TenantID, Month(e.At), e.ID, e.Meter, e.Quantity.String(), string(dims), e.At.UTC())
		if res.Error != nil {
			return 0, fmt.Errorf("insert usage event: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			continue
		}
		inserted++
		k := rollupKey{e.TenantID, e.At.UTC().Truncate(time.Hour), e.Meter, DimensionsKey(e.Dimensions)}
		s, ok := sums[k]
		if !ok {
			s = &rollupSum{dims: nonNil(e.Dimensions)}
			sums[k] = s
		}
		s.quantity = s.quantity.Add(e.Quantity)
		s.events++
	}
	for _, table := range rollupTables {
		if err := bumpRollups(tx, table.name, table.of(sums)); err != nil {
			return 0, err
		}
	}
	return inserted, nil
}

// bumpRollups adds sums to table inside tx.
func bumpRollups(tx *db.Tx, table string, sums map[rollupKey]*rollupSum) error {
	for _, k := range sortedKeys(sums) {
		s := sums[k]
		dims, err := json.Marshal(s.dims)
		if err != nil {
			return err
		}
		if tx.Dialect() != db.Postgres {
			// SQLite has no exact decimal type: the quantity is text and
			// the sum is made here. The embedded database has one writer,
			// so reading and writing the row in this transaction is safe.
			var cur struct {
				Quantity string
				Events   int64
			}
			res := tx.Raw(`SELECT quantity, events FROM `+table+`
				WHERE tenant_id = ? AND hour = ? AND meter = ? AND dimensions_key = ?`, k.tenant, k.hour, k.meter, k.dims).Scan(&cur)
			if res.Error != nil {
				return fmt.Errorf("read %s: %w", table, res.Error)
			}
			if res.RowsAffected > 0 {
				q, err := decimal.NewFromString(cur.Quantity)
				if err != nil {
					return fmt.Errorf("usage rollup quantity %q: %w", cur.Quantity, err)
				}
				if err := tx.Exec(`UPDATE `+table+` SET quantity = ?, events = ?
					WHERE tenant_id = ? AND hour = ? AND meter = ? AND dimensions_key = ?`,
					q.Add(s.quantity).String(), cur.Events+s.events, k.tenant, k.hour, k.meter, k.dims).Error; err != nil {
					return fmt.Errorf("update %s: %w", table, err)
				}
				continue
			}
			if err := tx.Exec(`INSERT INTO `+table+` (tenant_id, hour, meter, dimensions_key, dimensions, quantity, events)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, k.tenant, k.hour, k.meter, k.dims, string(dims), s.quantity.String(), s.events).Error; err != nil {
				return fmt.Errorf("insert %s: %w", table, err)
			}
			continue
		}
		if err := tx.Exec(`INSERT INTO `+table+` AS r (tenant_id, hour, meter, dimensions_key, dimensions, quantity, events)
			VALUES (?, ?, ?, ?, ?, CAST(? AS numeric), ?)
			ON CONFLICT (tenant_id, hour, meter, dimensions_key) DO UPDATE
			SET quantity = r.quantity + excluded.quantity, events = r.events + excluded.events`,
			k.tenant, k.hour, k.meter, k.dims, string(dims), s.quantity.String(), s.events).Error; err != nil {
			return fmt.Errorf("update %s: %w", table, err)
		}
	}
	return nil
}

// castNumeric is the bind parameter for a quantity sent as its decimal string:
// numeric on PostgreSQL, text on SQLite.
func castNumeric(tx *db.Tx) string {
	if tx.Dialect() == db.Postgres {
		return "CAST(? AS numeric)"
	}
	return "?"
}

// Rollups lists tenant's hourly rollups with from ≤ hour < to (from is
// rounded down to its hour), for one meter or, with meter "", all, ordered
// by hour, meter and dimensions. It runs as the tenant, so row-level
// security backs the filter.
func (g *Ingester) Rollups(ctx context.Context, tenant string, from, to time.Time, meter string) ([]Rollup, error) {
	if tenant == "" {
		return nil, errs.Field("tenant_id", "tenant_id is required")
	}
	if meter != "" && !KnownMeter(meter) {
		return nil, errs.E(errs.Invalid, CodeUnknownMeter, "unknown meter %q", meter)
	}
	if !to.After(from) {
		return nil, errs.E(errs.Invalid, CodeInvalidTime, "to must be after from")
	}
	var out []Rollup
	err := g.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		q := `SELECT tenant_id, hour, meter, dimensions, quantity, events FROM usage_rollups_hourly
			WHERE tenant_id = ? AND hour >= ? AND hour < ?`
		args := []any{tenant, from.UTC().Truncate(time.Hour), to.UTC()}
		if meter != "" {
			q += " AND meter = ?"
			args = append(args, meter)
		}
		q += " ORDER BY hour, meter, dimensions_key"
		rows, err := tx.Raw(q, args...).Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r Rollup
			var dims string
			if err := rows.Scan(&r.TenantID, &r.Hour, &r.Meter, &dims, &r.Quantity, &r.Events); err != nil {
				return err
			}
			r.Hour = r.Hour.UTC()
			if err := json.Unmarshal([]byte(dims), &r.Dimensions); err != nil {
				return fmt.Errorf("rollup dimensions: %w", err)
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, db.Translate(err)
	}
	return out, nil
}
