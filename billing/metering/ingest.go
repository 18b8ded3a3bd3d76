package metering

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/errs"
)

// Ingester stores usage events and their hourly rollups.
type Ingester struct {
	db  *db.DB
	now func() time.Time
}

// NewIngester returns an Ingester over d.
func NewIngester(d *db.DB) *Ingester {
	return &Ingester{db: d, now: time.Now}
}

// deadlockRetries is how often a batch is retried when PostgreSQL picks it as
// a deadlock victim. Rows are locked in key order, so it should not happen;
// the retry is a safety net, and safe since the batch is idempotent.
const deadlockRetries = 3

// Ingest validates the whole batch (one bad event refuses it, nothing is
// written), drops repeats within it, and stores in one system transaction the
// events not stored before, adding exactly those to the rollups. inserted is
// how many events were new.
func (g *Ingester) Ingest(ctx context.Context, events []Event) (inserted int, err error) {
	if err := validateBatch(events, g.now()); err != nil {
		return 0, err
	}
	events = dedupe(events)
	if len(events) == 0 {
		return 0, nil
	}
	// Sorted by key so that concurrent batches lock the same event rows in
	// the same order.
	sort.Slice(events, func(i, j int) bool {
		if events[i].TenantID != events[j].TenantID {
			return events[i].TenantID < events[j].TenantID
		}
		return events[i].ID < events[j].ID
	})
	if g.db.Dialect() != db.Postgres {
		return g.ingestSQLite(ctx, events)
	}
	for attempt := 0; ; attempt++ {
		inserted, err = g.ingestPostgres(ctx, events)
		var pg *pgconn.PgError
		if err != nil && errors.As(err, &pg) && (pg.Code == "40P01" || pg.Code == "40001") && attempt < deadlockRetries {
			continue
		}
		return inserted, db.Translate(err)
	}
}

// ingestPostgres copies the batch into a temporary staging table and moves
// it into usage_events and the rollups with one statement. CopyFrom needs the
// pgx connection, which database/sql hides inside a *sql.Tx, so the
// transaction is begun on the raw connection and scoped exactly as
// db.System scopes one: role marquee_app, app.scope 'system'.
func (g *Ingester) ingestPostgres(ctx context.Context, events []Event) (int, error) {
	rows := make([][]any, len(events))
	for i, e := range events {
		dims, err := json.Marshal(nonNil(e.Dimensions))
		if err != nil {
			return 0, err
		}
		rows[i] = []any{e.TenantID, e.ID, e.Meter, e.Quantity, string(dims), DimensionsKey(e.Dimensions), e.At.UTC()}
	}
	conn, err := g.db.SQL().Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var inserted int
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		return pgx.BeginFunc(ctx, pc, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT set_config('role', $1, true), set_config('app.scope', 'system', true)", db.AppRole); err != nil {
				return fmt.Errorf("begin system transaction: %w", err)
			}
			if _, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE usage_staging (
				tenant_id text NOT NULL, id text NOT NULL, meter text NOT NULL,
				quantity double precision NOT NULL, dimensions text NOT NULL,
				dimensions_key text NOT NULL, at timestamptz NOT NULL
			) ON COMMIT DROP`); err != nil {
				return fmt.Errorf("create staging table: %w", err)
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"usage_staging"},
				[]string{"tenant_id", "id", "meter", "quantity", "dimensions", "dimensions_key", "at"},
				pgx.CopyFromRows(rows)); err != nil {
				return fmt.Errorf("copy usage events: %w", err)
			}
			// RETURNING yields only the rows this statement inserted, so a
			// repeated event adds nothing; the join back to staging (1:1,
			// the batch is deduplicated) supplies the dimensions key.
			err := tx.QueryRow(ctx, `
				WITH ins AS (
					INSERT INTO usage_events (tenant_id, id, meter, quantity, dimensions, at)
					SELECT tenant_id, id, meter, quantity, dimensions::jsonb, at
					FROM usage_staging ORDER BY tenant_id, id
					ON CONFLICT (tenant_id, id) DO NOTHING
					RETURNING tenant_id, id, meter, dimensions, date_trunc('hour', at) AS hour, quantity
				)
				, up AS (
				INSERT INTO usage_rollups_hourly AS r (tenant_id, hour, meter, dimensions_key, dimensions, quantity, events)
				SELECT ins.tenant_id, ins.hour, ins.meter, s.dimensions_key, min(ins.dimensions::text)::jsonb, sum(ins.quantity), count(*)
				FROM ins JOIN usage_staging s ON s.tenant_id = ins.tenant_id AND s.id = ins.id
				GROUP BY ins.tenant_id, ins.hour, ins.meter, s.dimensions_key
				ORDER BY ins.tenant_id, ins.hour, ins.meter, s.dimensions_key
				ON CONFLICT (tenant_id, hour, meter, dimensions_key) DO UPDATE
				SET quantity = r.quantity + excluded.quantity, events = r.events + excluded.events
				)
				SELECT count(*) FROM ins`).Scan(&inserted)
			if err != nil {
				return fmt.Errorf("insert usage events: %w", err)
			}
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	return inserted, nil
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
	quantity float64
	events   int64
}

// ingestSQLite inserts event by event (the embedded engine has no COPY) and
// adds to the rollups only those its insert actually wrote.
func (g *Ingester) ingestSQLite(ctx context.Context, events []Event) (int, error) {
	inserted := 0
	err := g.db.System(ctx, func(tx *db.Tx) error {
		sums := map[rollupKey]*rollupSum{}
		var order []rollupKey
		for _, e := range events {
			dims, err := json.Marshal(nonNil(e.Dimensions))
			if err != nil {
				return err
			}
			res := tx.Exec(`INSERT INTO usage_events (tenant_id, id, meter, quantity, dimensions, at)
				VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, id) DO NOTHING`,
				e.TenantID, e.ID, e.Meter, e.Quantity, string(dims), e.At.UTC())
			if res.Error != nil {
				return fmt.Errorf("insert usage event: %w", res.Error)
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
				order = append(order, k)
			}
			s.quantity += e.Quantity
			s.events++
		}
		for _, k := range order {
			s := sums[k]
			dims, err := json.Marshal(s.dims)
			if err != nil {
				return err
			}
			if err := tx.Exec(`INSERT INTO usage_rollups_hourly AS r (tenant_id, hour, meter, dimensions_key, dimensions, quantity, events)
				VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (tenant_id, hour, meter, dimensions_key) DO UPDATE
				SET quantity = r.quantity + excluded.quantity, events = r.events + excluded.events`,
				k.tenant, k.hour, k.meter, k.dims, string(dims), s.quantity, s.events).Error; err != nil {
				return fmt.Errorf("update usage rollup: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, db.Translate(err)
	}
	return inserted, nil
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
