package invoices_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/marquee-video/marquee/billing/invoices"
	"github.com/marquee-video/marquee/billing/metering"
	"github.com/marquee-video/marquee/billing/plans"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/db/dbtest"
	"github.com/marquee-video/marquee/internal/errs"
)

// The tree: root ─┬─ r1 (reseller) ─┬─ c1
//
//	│                 └─ c2 (changes plan on Oct 16)
//	└─ c3 (creator)
var tree = map[string]string{"ten_r1": "ten_root", "ten_c1": "ten_r1", "ten_c2": "ten_r1", "ten_c3": "ten_root"}

func paths() map[string]string {
	return map[string]string{"ten_root": "/ten_root/", "ten_r1": "/ten_root/ten_r1/", "ten_c1": "/ten_root/ten_r1/ten_c1/", "ten_c2": "/ten_root/ten_r1/ten_c2/", "ten_c3": "/ten_root/ten_c3/"}
}

func seed(t *testing.T, d *db.DB) {
	t.Helper()
	now := time.Now().UTC()
	err := d.System(context.Background(), func(tx *db.Tx) error {
		for _, id := range []string{"ten_root", "ten_r1", "ten_c1", "ten_c2", "ten_c3"} {
			kind := map[string]string{"ten_root": "platform", "ten_r1": "reseller"}[id]
			if kind == "" {
				kind = "creator"
			}
			var parent any
			if p, ok := tree[id]; ok {
				parent = p
			}
			if err := tx.Exec(`INSERT INTO tenants (id, parent_id, path, slug, name, kind, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				id, parent, paths()[id], strings.TrimPrefix(id, "ten_"), id, kind, now, now).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func dd(s string) decimal.Decimal { return decimal.RequireFromString(s) }
func dp(s string) *decimal.Decimal {
	v := dd(s)
	return &v
}

var (
	oct   = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	nov   = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	oct16 = time.Date(2026, 10, 16, 0, 0, 0, 0, time.UTC)
)

func platformPlan() plans.Input {
	return plans.Input{Name: "Platform", Currency: "usd", BaseFee: 10000, Prices: []plans.Price{
		{Meter: metering.TranscodeSeconds, Model: plans.PerUnit, Unit: dd("60"), UnitName: "minute", UnitAmount: dd("1.5"), Included: dd("100")},
		{Meter: metering.TranscodeSeconds, Dimensions: map[string]string{"tier": "uhd"}, Model: plans.PerUnit, Unit: dd("60"), UnitAmount: dd("6"), Included: dd("0")},
		{Meter: metering.EgressBytes, Model: plans.Graduated, Unit: dd("1000000"), UnitName: "MB", Included: dd("50"), Tiers: []plans.Tier{
			{UpTo: dp("500"), UnitAmount: dd("0.8"), FlatAmount: 300}, {UpTo: dp("5000"), UnitAmount: dd("0.5")}, {UnitAmount: dd("0.2")},
		}},
		{Meter: metering.DRMLicenses, Model: plans.PerUnit, Unit: dd("1"), UnitAmount: dd("0.25"), Included: dd("0")},
	}}
}

func resellerPlan(name string, mult string) plans.Input {
	p := platformPlan()
	p.Name, p.BaseFee = name, 15000
	for i := range p.Prices {
		p.Prices[i].UnitAmount = p.Prices[i].UnitAmount.Mul(dd(mult))
		for j := range p.Prices[i].Tiers {
			p.Prices[i].Tiers[j].UnitAmount = p.Prices[i].Tiers[j].UnitAmount.Mul(dd(mult))
		}
	}
	return p
}

type rawEvent struct {
	tenant, meter string
	dims          map[string]string
	qty           decimal.Decimal
	at            time.Time
}

// TestInvoicesRecomputedFromRawEvents ingests random October usage across
// the tree, invoices it, and checks every invoice against a recomputation
// made here from the raw events (read back from usage_events) with its own
// implementation of the pricing rules; a reseller's invoice covers its
// whole subtree at the platform's prices.
func TestInvoicesRecomputedFromRawEvents(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		seed(t, d)
		book := plans.NewBook(d)
		book.SetClock(func() time.Time { return oct })
		pp, err := book.Create(ctx, "ten_root", platformPlan())
		if err != nil {
			t.Fatal(err)
		}
		q1, err := book.Create(ctx, "ten_r1", resellerPlan("R1 Basic", "2"))
		if err != nil {
			t.Fatal(err)
		}
		q2, err := book.Create(ctx, "ten_r1", resellerPlan("R1 Pro", "1.5"))
		if err != nil {
			t.Fatal(err)
		}
		for tenant, plan := range map[string]plans.Plan{"ten_r1": pp, "ten_c3": pp, "ten_c1": q1, "ten_c2": q1} {
			if _, err := book.Assign(ctx, tree[tenant], tenant, plan.ID); err != nil {
				t.Fatal(err)
			}
		}
		book.SetClock(func() time.Time { return oct16 })
		if _, err := book.Assign(ctx, "ten_r1", "ten_c2", q2.ID); err != nil {
			t.Fatal(err)
		}

		rng := rand.New(rand.NewPCG(7, 8))
		tenantIDs := []string{"ten_r1", "ten_c1", "ten_c2", "ten_c3"}
		dimSets := map[string][]map[string]string{
			metering.TranscodeSeconds: {{"tier": "hd", "encoder": "x264"}, {"tier": "sd", "encoder": "x264"}, {"tier": "uhd", "encoder": "nvenc"}},
			metering.EgressBytes:      {{"cdn": "fastly"}, {"cdn": "akamai"}, nil},
			metering.DRMLicenses:      {nil},
			metering.PlaybackSeconds:  {nil}, // unpriced: free lines
		}
		meters := []string{metering.TranscodeSeconds, metering.EgressBytes, metering.DRMLicenses, metering.PlaybackSeconds}
		var events []metering.Event
		for i := range 1500 {
			m := meters[rng.IntN(len(meters))]
			events = append(events, metering.Event{
				TenantID: tenantIDs[rng.IntN(len(tenantIDs))], ID: fmt.Sprintf("e%04d", i), Meter: m,
				Quantity:   decimal.New(rng.Int64N(5_000_000), -int32(rng.IntN(3))),
				Dimensions: dimSets[m][rng.IntN(len(dimSets[m]))],
				At:         oct.Add(time.Duration(rng.Int64N(int64(nov.Sub(oct))))),
			})
		}
		// Usage outside October must not count.
		events = append(events, metering.Event{TenantID: "ten_c1", ID: "nov", Meter: metering.DRMLicenses, Quantity: dd("1000"), At: nov.Add(time.Hour)})
		ing := metering.NewIngester(d)
		for i := 0; i < len(events); i += 400 {
			if _, err := ing.Ingest(ctx, events[i:min(i+400, len(events))]); err != nil {
				t.Fatal(err)
			}
		}

		v := invoices.New(d)
		var all []invoices.Invoice
		for _, issuer := range []string{"ten_root", "ten_r1"} {
			got, err := v.Generate(ctx, issuer, "2026-10")
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, got...)
		}
		if len(all) != 4 {
			t.Fatalf("%d invoices, want 4", len(all))
		}
		raw := readRaw(t, d)
		inputs := map[string]plans.Input{pp.ID: platformPlan(), q1.ID: resellerPlan("R1 Basic", "2"), q2.ID: resellerPlan("R1 Pro", "1.5")}
		for _, inv := range all {
			type seg struct {
				plan     string
				from, to time.Time
			}
			segs := []seg{{pp.ID, oct, nov}}
			switch inv.TenantID {
			case "ten_c1":
				segs = []seg{{q1.ID, oct, nov}}
			case "ten_c2":
				segs = []seg{{q1.ID, oct, oct16}, {q2.ID, oct16, nov}}
			}
			wantIssuer := tree[inv.TenantID]
			if inv.IssuerID != wantIssuer || inv.Status != invoices.StatusDraft || inv.Period != "2026-10" {
				t.Errorf("invoice %s: issuer %s status %s period %s", inv.TenantID, inv.IssuerID, inv.Status, inv.Period)
			}
			var want int64
			for _, s := range segs {
				frac := new(big.Rat).SetFrac64(int64(s.to.Sub(s.from)/time.Second), int64(nov.Sub(oct)/time.Second))
				want += recompute(inputs[s.plan], frac, subtreeUsage(raw, inv.TenantID, s.from, s.to))
			}
			if inv.Total != want || inv.Subtotal != want {
				t.Errorf("invoice of %s: total %d, recomputed %d", inv.TenantID, inv.Total, want)
			}
		}

		// The reseller's usage lines hold its whole subtree's quantities.
		var r1 invoices.Invoice
		for _, inv := range all {
			if inv.TenantID == "ten_r1" {
				r1 = inv
			}
		}
		perMeter := map[string]decimal.Decimal{}
		for _, l := range r1.Lines {
			if l.Kind == "usage" {
				perMeter[l.Meter] = perMeter[l.Meter].Add(l.Quantity)
			}
		}
		wantMeter := map[string]decimal.Decimal{}
		for _, e := range raw {
			if (e.tenant == "ten_r1" || e.tenant == "ten_c1" || e.tenant == "ten_c2") && !e.at.Before(oct) && e.at.Before(nov) {
				wantMeter[e.meter] = wantMeter[e.meter].Add(e.qty)
			}
		}
		for m, w := range wantMeter {
			if !perMeter[m].Equal(w) {
				t.Errorf("r1's %s lines sum to %s, its subtree used %s", m, perMeter[m], w)
			}
		}

		// Finalized invoices are kept as they are; drafts follow the usage.
		fin, err := v.Finalize(ctx, "ten_root", r1.ID)
		if err != nil || fin.Status != invoices.StatusOpen || fin.FinalizedAt == nil {
			t.Fatalf("finalize = %+v, %v", fin, err)
		}
		if _, err := v.Finalize(ctx, "ten_root", r1.ID); errs.CodeOf(err) != invoices.CodeNotDraft {
			t.Errorf("finalizing twice: %v", err)
		}
		if _, err := v.Finalize(ctx, "ten_r1", r1.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("r1 finalized its own invoice from root: %v", err)
		}
		late := []metering.Event{
			{TenantID: "ten_c1", ID: "late1", Meter: metering.DRMLicenses, Quantity: dd("400"), At: oct16},
		}
		if _, err := ing.Ingest(ctx, late); err != nil {
			t.Fatal(err)
		}
		again, err := v.Generate(ctx, "ten_root", "2026-10")
		if err != nil {
			t.Fatal(err)
		}
		for _, inv := range again {
			if inv.TenantID == "ten_r1" {
				t.Errorf("a finalized invoice was regenerated")
			}
		}
		got, err := v.Get(ctx, "ten_r1", r1.ID)
		if err != nil || got.Total != r1.Total {
			t.Errorf("finalized invoice changed: %d → %d (%v)", r1.Total, got.Total, err)
		}
		c1, err := v.Generate(ctx, "ten_r1", "2026-10")
		if err != nil {
			t.Fatal(err)
		}
		for _, inv := range c1 {
			if inv.TenantID == "ten_c1" {
				prev := findTotal(all, "ten_c1")
				if inv.Total-prev != 200 { // 400 licences × 0.25 × 2 = 200
					t.Errorf("c1's draft went from %d to %d after 400 more licences, want +200", prev, inv.Total)
				}
			}
		}
		// Closing the month finalizes every remaining draft once.
		closed, err := v.ClosePeriod(ctx, "2026-10", nil)
		if err != nil || len(closed) != 3 {
			t.Fatalf("close = %d invoices, %v; want the 3 drafts", len(closed), err)
		}
		for _, inv := range closed {
			if inv.Status != invoices.StatusOpen && inv.Status != invoices.StatusPaid {
				t.Errorf("closed invoice %s is %s", inv.TenantID, inv.Status)
			}
		}
		if again, err := v.ClosePeriod(ctx, "2026-10", nil); err != nil || len(again) != 0 {
			t.Errorf("closing again = %d, %v", len(again), err)
		}
		if _, err := v.ClosePeriod(ctx, time.Now().UTC().Format("2006-01"), nil); errs.CodeOf(err) != "period_open" {
			t.Errorf("closing the current month: %v", err)
		}
		// Isolation: c3 cannot read r1's invoice; r1 reads c1's.
		if _, err := v.Get(ctx, "ten_c3", r1.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("c3 read r1's invoice: %v", err)
		}
		list, _, err := v.List(ctx, "ten_r1", invoices.Filter{Tenant: "ten_r1", Issued: true})
		if err != nil || len(list) != 2 {
			t.Errorf("r1 issued %d invoices (%v), want 2", len(list), err)
		}
	})
}

func findTotal(invs []invoices.Invoice, tenant string) int64 {
	for _, inv := range invs {
		if inv.TenantID == tenant {
			return inv.Total
		}
	}
	return -1
}

func readRaw(t *testing.T, d *db.DB) []rawEvent {
	t.Helper()
	var out []rawEvent
	err := d.System(context.Background(), func(tx *db.Tx) error {
		rows, err := tx.Raw("SELECT tenant_id, meter, CAST(quantity AS TEXT), CAST(dimensions AS TEXT), at FROM usage_events").Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e rawEvent
			var q, dims string
			if err := rows.Scan(&e.tenant, &e.meter, &q, &dims, &e.at); err != nil {
				return err
			}
			e.qty = dd(q)
			if err := json.Unmarshal([]byte(dims), &e.dims); err != nil {
				return err
			}
			e.at = e.at.UTC()
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type usageKey struct{ meter, dims string }

func dimsKey(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		keys = append(keys, k+"="+v)
	}
	sort.Strings(keys)
	return strings.Join(keys, ";")
}

// subtreeUsage sums the raw events of tenant's subtree whose hour starts
// in [from, to).
func subtreeUsage(raw []rawEvent, tenant string, from, to time.Time) map[usageKey]decimal.Decimal {
	out := map[usageKey]decimal.Decimal{}
	for _, e := range raw {
		if !strings.Contains(paths()[e.tenant], "/"+tenant+"/") {
			continue
		}
		h := e.at.Truncate(time.Hour)
		if h.Before(from) || !h.Before(to) {
			continue
		}
		k := usageKey{e.meter, dimsKey(e.dims)}
		out[k] = out[k].Add(e.qty)
	}
	return out
}

func rat(d decimal.Decimal) *big.Rat { return d.Rat() }

// recompute prices usage under plan for a segment that is frac of the
// period, in exact rationals: the base fee and allowances prorated, each
// line charged by its most specific price, lines of one price sharing its
// allowance and climbing its tiers in order of meter and dimensions, each
// line rounded half away from zero to a minor unit.
func recompute(plan plans.Input, frac *big.Rat, usage map[usageKey]decimal.Decimal) int64 {
	roundRat := func(r *big.Rat) int64 {
		f, _ := decimal.NewFromString(r.FloatString(20))
		return f.Round(0).IntPart()
	}
	total := int64(0)
	if plan.BaseFee > 0 {
		total += roundRat(new(big.Rat).Mul(big.NewRat(plan.BaseFee, 1), truncFrac(frac)))
	}
	keys := make([]usageKey, 0, len(usage))
	for k := range usage {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].meter != keys[j].meter {
			return keys[i].meter < keys[j].meter
		}
		return keys[i].dims < keys[j].dims
	})
	consumed := map[int]*big.Rat{}
	for _, k := range keys {
		best := -1
		for i, p := range plan.Prices {
			if p.Meter != k.meter {
				continue
			}
			ok := true
			for dk, dv := range p.Dimensions {
				if !strings.Contains(";"+k.dims+";", ";"+dk+"="+dv+";") {
					ok = false
				}
			}
			if ok && (best < 0 || len(p.Dimensions) > len(plan.Prices[best].Dimensions)) {
				best = i
			}
		}
		if best < 0 {
			continue
		}
		p := plan.Prices[best]
		units := rat(usage[k].DivRound(p.Unit, 12))
		if consumed[best] == nil {
			consumed[best] = new(big.Rat)
		}
		start := new(big.Rat).Set(consumed[best])
		end := new(big.Rat).Add(start, units)
		consumed[best] = end
		included := new(big.Rat).Mul(rat(p.Included), truncFrac(frac))
		amount := new(big.Rat)
		// Walk unit by unit range: [start, end) minus the allowance.
		bs, be := sub0(start, included), sub0(end, included)
		if p.Model == plans.PerUnit {
			amount.Mul(new(big.Rat).Sub(be, bs), rat(p.UnitAmount))
		} else {
			lo := new(big.Rat)
			for _, tr := range p.Tiers {
				var hi *big.Rat
				if tr.UpTo != nil {
					hi = rat(*tr.UpTo)
				}
				a := maxRat(bs, lo)
				b := be
				if hi != nil && hi.Cmp(be) < 0 {
					b = hi
				}
				if b.Cmp(a) > 0 {
					amount.Add(amount, new(big.Rat).Mul(new(big.Rat).Sub(b, a), rat(tr.UnitAmount)))
					if tr.FlatAmount > 0 && bs.Cmp(lo) <= 0 {
						amount.Add(amount, big.NewRat(tr.FlatAmount, 1))
					}
				}
				if hi == nil {
					break
				}
				lo = hi
			}
		}
		total += roundRat(amount)
	}
	return total
}

// truncFrac is the period share as the invoicer states it: 12 decimal
// places, rounded down.
func truncFrac(r *big.Rat) *big.Rat {
	d, _ := decimal.NewFromString(r.FloatString(20))
	return d.Truncate(12).Rat()
}

func sub0(a, b *big.Rat) *big.Rat {
	r := new(big.Rat).Sub(a, b)
	if r.Sign() < 0 {
		return new(big.Rat)
	}
	return r
}

func maxRat(a, b *big.Rat) *big.Rat {
	if a.Cmp(b) >= 0 {
		return a
	}
	return b
}
