package invoices

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/marquee-video/marquee/billing/metering"
)

// Export is every tenant's usage and invoices for one period, for
// platform operations.
type Export struct {
	Period   string           `json:"period"`
	Usage    []metering.Point `json:"usage"`
	Invoices []Invoice        `json:"invoices"`
}

// BuildExport gathers root's whole tree's usage (per tenant, meter and
// dimension set) and every invoice of period.
func BuildExport(ctx context.Context, ing *metering.Ingester, v *Invoicer, root, period string) (Export, error) {
	start, end, err := ParsePeriod(period)
	if err != nil {
		return Export{}, err
	}
	usage, err := ing.Usage(ctx, root, metering.Query{Tenant: root, Descendants: true, From: start, To: end, GroupBy: []string{metering.GroupTenant, metering.GroupDimensions}})
	if err != nil {
		return Export{}, err
	}
	invs, err := v.All(ctx, period)
	if err != nil {
		return Export{}, err
	}
	if usage == nil {
		usage = []metering.Point{}
	}
	if invs == nil {
		invs = []Invoice{}
	}
	sort.SliceStable(usage, func(i, j int) bool { return usage[i].TenantID < usage[j].TenantID })
	return Export{Period: period, Usage: usage, Invoices: invs}, nil
}

// CSVHeader is the header row of WriteCSV: usage rows fill the meter
// columns, invoice rows the invoice columns.
var CSVHeader = []string{"record", "period", "tenant_id", "meter", "dimensions", "quantity", "events", "invoice_id", "issuer_id", "status", "currency", "total"}

// WriteCSV writes e as CSV: one "usage" row per tenant, meter and
// dimension set, then one "invoice" row per invoice.
func WriteCSV(w io.Writer, e Export) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, u := range e.Usage {
		if err := cw.Write([]string{"usage", e.Period, u.TenantID, u.Meter, metering.DimensionsKey(u.Dimensions), u.Quantity.String(), strconv.FormatInt(u.Events, 10), "", "", "", "", ""}); err != nil {
			return err
		}
	}
	for _, inv := range e.Invoices {
		if err := cw.Write([]string{"invoice", e.Period, inv.TenantID, "", "", "", "", inv.ID, inv.IssuerID, inv.Status, inv.Currency, strconv.FormatInt(inv.Total, 10)}); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write usage export: %w", err)
	}
	return nil
}
