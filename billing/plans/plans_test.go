package plans_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/marquee-video/marquee/billing/plans"
	"github.com/marquee-video/marquee/internal/errs"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }
func dp(s string) *decimal.Decimal {
	v := d(s)
	return &v
}

var (
	nov      = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	dec      = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	fullFrac = decimal.NewFromInt(1)
)

func TestRate(t *testing.T) {
	perMinute := plans.Price{Meter: "transcode_seconds", Model: plans.PerUnit, Unit: d("60"), UnitAmount: d("2.5"), Included: d("100")}
	uhd := plans.Price{Meter: "transcode_seconds", Dimensions: map[string]string{"tier": "uhd"}, Model: plans.PerUnit, Unit: d("60"), UnitAmount: d("10"), Included: d("0")}
	egressGB := plans.Price{Meter: "egress_bytes", Model: plans.Graduated, Unit: d("1000000000"), Included: d("10"), Tiers: []plans.Tier{
		{UpTo: dp("100"), UnitAmount: d("8"), FlatAmount: 500},
		{UpTo: dp("1000"), UnitAmount: d("5")},
		{UnitAmount: d("2")},
	}}
	cases := []struct {
		name   string
		prices []plans.Price
		base   int64
		frac   decimal.Decimal
		usage  []plans.Usage
		want   []int64 // line amounts, base fee first when there is one
	}{
		{"allowance covers it", []plans.Price{perMinute}, 0, fullFrac,
			[]plans.Usage{{Meter: "transcode_seconds", Quantity: d("6000")}}, []int64{0}},
		{"per unit past the allowance", []plans.Price{perMinute}, 0, fullFrac,
			[]plans.Usage{{Meter: "transcode_seconds", Quantity: d("6090")}}, []int64{4}}, // 1.5 min × 2.5 = 3.75 → 4
		{"allowance shared in dimension order", []plans.Price{perMinute}, 0, fullFrac,
			[]plans.Usage{
				{Meter: "transcode_seconds", Dimensions: map[string]string{"tier": "sd"}, Quantity: d("3000")}, // 50 min
				{Meter: "transcode_seconds", Dimensions: map[string]string{"tier": "hd"}, Quantity: d("4200")}, // 70 min: rated first ("hd" < "sd")
			}, []int64{0, 50}}, // hd: 70 free; sd: 30 free, 20 × 2.5
		{"the most specific price wins", []plans.Price{perMinute, uhd}, 0, fullFrac,
			[]plans.Usage{{Meter: "transcode_seconds", Dimensions: map[string]string{"tier": "uhd", "encoder": "nvenc"}, Quantity: d("600")}}, []int64{100}},
		{"graduated across tiers with a flat fee", []plans.Price{egressGB}, 0, fullFrac,
			[]plans.Usage{{Meter: "egress_bytes", Quantity: d("1210000000000")}}, // 1210 GB; 1200 billable
			[]int64{500 + 100*8 + 900*5 + 200*2}},
		{"graduated tiers climbed by two lines", []plans.Price{egressGB}, 0, fullFrac,
			[]plans.Usage{
				{Meter: "egress_bytes", Dimensions: map[string]string{"cdn": "akamai"}, Quantity: d("60000000000")},  // 60 GB: 10 free, 50 in tier 1
				{Meter: "egress_bytes", Dimensions: map[string]string{"cdn": "fastly"}, Quantity: d("100000000000")}, // 100 GB: 50 in tier 1, 50 in tier 2
			}, []int64{500 + 50*8, 50*8 + 50*5}},
		{"base fee prorated, allowance too", []plans.Price{perMinute}, 3000, d("0.5"),
			[]plans.Usage{{Meter: "transcode_seconds", Quantity: d("6000")}}, []int64{1500, 125}}, // 50 free of 100 min; 50 × 2.5
		{"unpriced meter is free", []plans.Price{perMinute}, 0, fullFrac,
			[]plans.Usage{{Meter: "drm_licenses", Quantity: d("7")}}, []int64{0}},
		{"half a cent rounds away from zero", []plans.Price{{Meter: "ad_impressions", Model: plans.PerUnit, Unit: d("1"), UnitAmount: d("0.5"), Included: d("0")}}, 0, fullFrac,
			[]plans.Usage{{Meter: "ad_impressions", Quantity: d("1")}}, []int64{1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			seg := plans.Segment{Plan: plans.Plan{ID: "pln_x", Name: "P", Currency: "usd", BaseFee: c.base, Prices: c.prices}, From: nov, To: dec, Fraction: c.frac}
			lines := plans.Rate(seg, c.usage)
			if len(lines) != len(c.want) {
				t.Fatalf("%d lines, want %d: %+v", len(lines), len(c.want), lines)
			}
			for i, l := range lines {
				if l.Amount != c.want[i] {
					t.Errorf("line %d (%s) = %d, want %d", i, l.Description, l.Amount, c.want[i])
				}
			}
		})
	}
}

func TestFraction(t *testing.T) {
	mid := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	if f := plans.Fraction(nov, mid, nov, dec); !f.Equal(d("0.5")) {
		t.Errorf("half of November = %s", f)
	}
	a, b := plans.Fraction(nov, mid.Add(time.Hour), nov, dec), plans.Fraction(mid.Add(time.Hour), dec, nov, dec)
	if s := a.Add(b); s.GreaterThan(d("1")) || s.LessThan(d("0.999999999999")) {
		t.Errorf("two halves sum to %s", s)
	}
}

func TestSegments(t *testing.T) {
	mid := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	hist := []plans.HistoryEntry{
		{StartsAt: time.Date(2026, 10, 3, 0, 0, 0, 0, time.UTC), IssuerID: "ten_root", PlanID: "pln_a"},
		{StartsAt: mid, IssuerID: "ten_root", PlanID: "pln_b"},
		{StartsAt: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), IssuerID: "ten_root", PlanID: "pln_c"},
	}
	segs, err := plans.Segments(hist, nov, dec, func(issuer, id string) (plans.Plan, error) { return plans.Plan{TenantID: issuer, ID: id}, nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != 2 || segs[0].Plan.ID != "pln_a" || !segs[0].From.Equal(nov) || !segs[0].To.Equal(mid) ||
		segs[1].Plan.ID != "pln_b" || !segs[1].From.Equal(mid) || !segs[1].To.Equal(dec) || !segs[0].Fraction.Equal(d("0.5")) {
		t.Errorf("segments = %+v", segs)
	}
}

func TestInputValidate(t *testing.T) {
	good := func() plans.Input {
		return plans.Input{Name: "Std", Currency: "usd", BaseFee: 100, Prices: []plans.Price{
			{Meter: "egress_bytes", Model: plans.Graduated, Unit: d("1"), Tiers: []plans.Tier{{UpTo: dp("10"), UnitAmount: d("1")}, {UnitAmount: d("0.5")}}},
		}}
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("valid plan refused: %v", err)
	}
	cases := map[string]func(*plans.Input){
		"no name":           func(in *plans.Input) { in.Name = "" },
		"bad currency":      func(in *plans.Input) { in.Currency = "USD" },
		"negative base fee": func(in *plans.Input) { in.BaseFee = -1 },
		"unknown meter":     func(in *plans.Input) { in.Prices[0].Meter = "vibes" },
		"zero unit":         func(in *plans.Input) { in.Prices[0].Unit = d("0") },
		"unknown model":     func(in *plans.Input) { in.Prices[0].Model = "volume" },
		"bounded last tier": func(in *plans.Input) { in.Prices[0].Tiers[1].UpTo = dp("20") },
		"falling tiers": func(in *plans.Input) {
			in.Prices[0].Tiers = append([]plans.Tier{{UpTo: dp("20")}}, in.Prices[0].Tiers...)
		},
		"negative tier price": func(in *plans.Input) { in.Prices[0].Tiers[0].UnitAmount = d("-1") },
		"duplicate price":     func(in *plans.Input) { in.Prices = append(in.Prices, in.Prices[0]) },
		"negative included":   func(in *plans.Input) { in.Prices[0].Included = d("-1") },
	}
	for name, mut := range cases {
		in := good()
		mut(&in)
		if err := in.Validate(); errs.CodeOf(err) != plans.CodeInvalidPlan {
			t.Errorf("%s: %v, want %s", name, err, plans.CodeInvalidPlan)
		}
	}
}
