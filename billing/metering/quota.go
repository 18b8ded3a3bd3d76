package metering

import (
	"context"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/errs"
)

// CodeQuotaExceeded is the code of work refused for usage past a quota.
const CodeQuotaExceeded = "quota_exceeded"

// usageQuotas are the monthly quotas measured from metered usage: the
// tenant_quotas column, its meter, and how many meter units one quota unit
// is.
var usageQuotas = []struct {
	column, meter, name string
	unit                int64
}{
	{"transcode_minutes_per_month", TranscodeSeconds, "transcode minutes", 60},
	{"egress_gb_per_month", EgressBytes, "egress GB", 1_000_000_000},
}

// CheckQuotas refuses new work for tenant (quota_exceeded) when this
// month's metered usage has reached a monthly quota (transcode minutes,
// egress GB) of the tenant or of any ancestor: an ancestor's quota bounds
// its whole subtree's usage. now picks the month.
func (g *Ingester) CheckQuotas(ctx context.Context, tenant string, now time.Time) error {
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	return db.Translate(g.db.System(ctx, func(tx *db.Tx) error {
		var path string
		if err := tx.Raw("SELECT path FROM tenants WHERE id = ?", tenant).Scan(&path).Error; err != nil {
			return err
		}
		for _, a := range strings.Split(strings.Trim(path, "/"), "/") {
			if a == "" {
				continue
			}
			for _, q := range usageQuotas {
				var limit *int64
				if err := tx.Raw("SELECT "+q.column+" FROM tenant_quotas WHERE tenant_id = ?", a).Scan(&limit).Error; err != nil {
					return err
				}
				if limit == nil {
					continue
				}
				points, err := scanRollups(tx, Query{Tenant: a, Descendants: true, From: month, To: month.AddDate(0, 1, 0), Meter: q.meter}, "", false)
				if err != nil {
					return err
				}
				used := decimal.Zero
				for _, p := range points {
					used = used.Add(p.quantity)
				}
				if used.GreaterThanOrEqual(decimal.NewFromInt(*limit).Mul(decimal.NewFromInt(q.unit))) {
					who := "this tenant"
					if a != tenant {
						who = "tenant " + a
					}
					return errs.E(errs.QuotaExceeded, CodeQuotaExceeded, "%s has used its %d %s this month", who, *limit, q.name)
				}
			}
		}
		return nil
	}))
}
