package metering

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/errs"
)

// Time buckets and other group_by keys a usage query accepts. Any other key
// names a dimension ("tier", "cdn", …).
const (
	GroupHour       = "hour"
	GroupDay        = "day"
	GroupMonth      = "month"
	GroupTenant     = "tenant"
	GroupDimensions = "dimensions" // every dimension
)

// MaxQueryRange is the longest span one usage query covers.
const MaxQueryRange = 366 * 24 * time.Hour

// Query asks for usage from the hourly rollups.
type Query struct {
	// Tenant is whose usage; with Descendants, its whole subtree.
	Tenant      string
	Descendants bool
	From, To    time.Time
	Meter       string // "" for every meter
	GroupBy     []string
}

// Point is one group of a usage query. Quantities of different meters are
// never summed together: the meter is always part of the group.
type Point struct {
	TenantID    string            `json:"tenant_id,omitempty"`
	PeriodStart *time.Time        `json:"period_start,omitempty"`
	Meter       string            `json:"meter"`
	Dimensions  map[string]string `json:"dimensions,omitempty"`
	Quantity    decimal.Decimal   `json:"quantity"`
	Events      int64             `json:"events"`
}

// Validate checks q and normalizes its times to UTC hours.
func (q *Query) Validate() error {
	if q.Tenant == "" {
		return errs.Field("tenant", "tenant is required")
	}
	if q.From.IsZero() || q.To.IsZero() {
		return errs.E(errs.Invalid, CodeInvalidTime, "from and to are required (RFC 3339)")
	}
	q.From, q.To = q.From.UTC().Truncate(time.Hour), q.To.UTC()
	if !q.To.After(q.From) {
		return errs.E(errs.Invalid, CodeInvalidTime, "to must be after from")
	}
	if q.To.Sub(q.From) > MaxQueryRange {
		return errs.E(errs.Invalid, CodeInvalidTime, "a usage query spans at most 366 days")
	}
	if q.Meter != "" && !KnownMeter(q.Meter) {
		return errs.E(errs.Invalid, CodeUnknownMeter, "unknown meter %q", q.Meter)
	}
	buckets := 0
	for _, g := range q.GroupBy {
		switch g {
		case GroupHour, GroupDay, GroupMonth:
			buckets++
		case GroupTenant, GroupDimensions:
		default:
			if !validKey(g) {
				e := errs.E(errs.Invalid, "invalid_group_by", "group_by %q is not hour, day, month, tenant, dimensions or a dimension name", g)
				e.Field = "group_by"
				return e
			}
		}
	}
	if buckets > 1 {
		return errs.E(errs.Invalid, "invalid_group_by", "group_by takes one of hour, day, month")
	}
	return nil
}

// Usage answers q from the rollups, read as actor (q.Tenant itself or an
// ancestor: row-level security backs the subtree filter). Points are ordered
// by period, tenant, meter and dimensions.
func (g *Ingester) Usage(ctx context.Context, actor string, q Query) ([]Point, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	bucket := ""
	for _, k := range q.GroupBy {
		if k == GroupHour || k == GroupDay || k == GroupMonth {
			bucket = k
		}
	}
	byTenant := has(q.GroupBy, GroupTenant)
	var rows []rollupRow
	err := g.db.Tx(ctx, actor, func(tx *db.Tx) error {
		var err error
		rows, err = scanRollups(tx, q, bucket, byTenant)
		return err
	})
	if err != nil {
		return nil, db.Translate(err)
	}
	return group(rows, q, bucket, byTenant), nil
}

type rollupRow struct {
	tenant   string
	hour     time.Time
	meter    string
	dimsKey  string
	dims     map[string]string
	quantity decimal.Decimal
	events   int64
}

// scanRollups reads the rollups of q: whole UTC days from the daily
// rollups (unless grouped by hour), the hours before the first and after
// the last whole day from the hourly ones.
func scanRollups(tx *db.Tx, q Query, bucket string, byTenant bool) ([]rollupRow, error) {
	if tx.Dialect() == db.Postgres {
		// The planner's JIT costs more than these short aggregates save
		// (600 ms on a reseller's month).
		if err := tx.Exec("SET LOCAL jit = off").Error; err != nil {
			return nil, err
		}
	}
	day := 24 * time.Hour
	d0, d1 := q.From.Truncate(day), q.To.Truncate(day)
	if !d0.Equal(q.From) {
		d0 = d0.Add(day)
	}
	if bucket == GroupHour || !d1.After(d0) {
		return scanTable(tx, "usage_rollups_hourly", q, q.From, q.To, bucket, byTenant)
	}
	var out []rollupRow
	for _, part := range []struct {
		table    string
		from, to time.Time
	}{
		{"usage_rollups_hourly", q.From, d0},
		{"usage_rollups_daily", d0, d1},
		{"usage_rollups_hourly", d1, q.To},
	} {
		if !part.to.After(part.from) {
			continue
		}
		rows, err := scanTable(tx, part.table, q, part.from, part.to, bucket, byTenant)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// scanTable reads one rollup table for from ≤ hour < to. On PostgreSQL the
// sum by bucket, tenant, meter and dimension set is made in SQL; SQLite's
// quantities are text and are summed in Go. Dimensions come back from
// their canonical key.
func scanTable(tx *db.Tx, table string, q Query, from, to time.Time, bucket string, byTenant bool) ([]rollupRow, error) {
	pg := tx.Dialect() == db.Postgres
	where := "r.hour >= ? AND r.hour < ?"
	args := []any{from, to}
	if q.Descendants {
		if pg {
			where += " AND r.tenant_id IN (SELECT id FROM tenants WHERE strpos(path, ?) > 0)"
		} else {
			where += " AND r.tenant_id IN (SELECT id FROM tenants WHERE instr(path, ?) > 0)"
		}
		args = append(args, "/"+q.Tenant+"/")
	} else {
		where += " AND r.tenant_id = ?"
		args = append(args, q.Tenant)
	}
	if q.Meter != "" {
		where += " AND r.meter = ?"
		args = append(args, q.Meter)
	}
	var sqlText string
	if pg {
		hour := "r.hour"
		if bucket == GroupDay || bucket == GroupMonth {
			hour = fmt.Sprintf("date_trunc('%s', r.hour AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'", bucket)
		} else if bucket == "" {
			hour = "CAST(? AS timestamptz)"
			args = append([]any{from}, args...)
		}
		tenant := "''"
		if byTenant {
			tenant = "r.tenant_id"
		}
		sqlText = `SELECT ` + tenant + `, ` + hour + `, r.meter, r.dimensions_key, sum(r.quantity)::text, sum(r.events)
			FROM ` + table + ` r WHERE ` + where + ` GROUP BY 1, 2, 3, 4`
	} else {
		sqlText = `SELECT r.tenant_id, r.hour, r.meter, r.dimensions_key, r.quantity, r.events
			FROM ` + table + ` r WHERE ` + where
	}
	res, err := tx.Raw(sqlText, args...).Rows()
	if err != nil {
		return nil, err
	}
	defer res.Close()
	var out []rollupRow
	for res.Next() {
		var r rollupRow
		var qty string
		if err := res.Scan(&r.tenant, &r.hour, &r.meter, &r.dimsKey, &qty, &r.events); err != nil {
			return nil, err
		}
		if r.quantity, err = decimal.NewFromString(qty); err != nil {
			return nil, fmt.Errorf("usage quantity %q: %w", qty, err)
		}
		r.dims = ParseDimensionsKey(r.dimsKey)
		r.hour = r.hour.UTC()
		out = append(out, r)
	}
	return out, res.Err()
}

// ParseDimensionsKey is the inverse of DimensionsKey.
func ParseDimensionsKey(key string) map[string]string {
	if key == "" {
		return map[string]string{}
	}
	out := map[string]string{}
	for _, kv := range strings.Split(key, ";") {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}

// group sums rows into q's groups.
func group(rows []rollupRow, q Query, bucket string, byTenant bool) []Point {
	allDims := has(q.GroupBy, GroupDimensions)
	var dimKeys []string
	for _, k := range q.GroupBy {
		switch k {
		case GroupHour, GroupDay, GroupMonth, GroupTenant, GroupDimensions:
		default:
			dimKeys = append(dimKeys, k)
		}
	}
	type key struct {
		tenant string
		at     time.Time
		meter  string
		dims   string
	}
	points := map[key]*Point{}
	for _, r := range rows {
		k := key{meter: r.meter}
		if byTenant {
			k.tenant = r.tenant
		}
		switch bucket {
		case GroupHour:
			k.at = r.hour
		case GroupDay:
			k.at = r.hour.Truncate(24 * time.Hour)
		case GroupMonth:
			k.at = time.Date(r.hour.Year(), r.hour.Month(), 1, 0, 0, 0, 0, time.UTC)
		}
		var dims map[string]string
		switch {
		case allDims:
			dims = r.dims
		case len(dimKeys) > 0:
			dims = map[string]string{}
			for _, d := range dimKeys {
				if v, ok := r.dims[d]; ok {
					dims[d] = v
				}
			}
		}
		k.dims = DimensionsKey(dims)
		p, ok := points[k]
		if !ok {
			p = &Point{TenantID: k.tenant, Meter: r.meter, Dimensions: dims}
			if bucket != "" {
				at := k.at
				p.PeriodStart = &at
			}
			if len(dims) == 0 {
				p.Dimensions = nil
			}
			points[k] = p
		}
		p.Quantity = p.Quantity.Add(r.quantity)
		p.Events += r.events
	}
	keys := make([]key, 0, len(points))
	for k := range points {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if !a.at.Equal(b.at) {
			return a.at.Before(b.at)
		}
		if a.tenant != b.tenant {
			return a.tenant < b.tenant
		}
		if a.meter != b.meter {
			return a.meter < b.meter
		}
		return a.dims < b.dims
	})
	out := make([]Point, len(keys))
	for i, k := range keys {
		out[i] = *points[k]
	}
	return out
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ParseGroupBy splits a comma-separated group_by.
func ParseGroupBy(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// SubtreeUsage sums, inside tx (any scope that sees the rows), the usage of
// tenant's subtree with from ≤ hour < to per meter and dimension set: what
// an invoice rates.
func SubtreeUsage(tx *db.Tx, tenant string, from, to time.Time) ([]Point, error) {
	q := Query{Tenant: tenant, Descendants: true, From: from, To: to, GroupBy: []string{GroupDimensions}}
	rows, err := scanRollups(tx, q, "", false)
	if err != nil {
		return nil, err
	}
	return group(rows, q, "", false), nil
}
