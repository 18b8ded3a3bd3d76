// Package plans holds price books and the rating of usage against them.
//
// A price book is the set of plans one issuer sells: the platform to its
// direct tenants and resellers, and each reseller to its sub-tenants (its
// markup). A plan is a flat monthly fee plus a price per meter and,
// optionally, per dimension value. Rating is a pure function of a plan, the
// usage of a period and the share of the period the plan was in force, so an
// invoice is reproducible from the raw events.
//
// Money is an integer count of the currency's minor units (cents); unit
// prices may be fractional minor units (a tenth of a cent per GB), and
// amounts are exact decimals until each invoice line is rounded, half away
// from zero, to a whole minor unit.
package plans

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/marquee-video/marquee/billing/metering"
	"github.com/marquee-video/marquee/internal/errs"
)

// Pricing models.
const (
	// PerUnit charges UnitAmount for every unit past the included allowance.
	PerUnit = "per_unit"
	// Graduated charges each unit at the price of the tier it falls in
	// (units past the included allowance, counted from zero).
	Graduated = "graduated"
)

// Error codes.
const (
	CodeInvalidPlan  = "invalid_plan"
	CodePlanNotFound = "plan_not_found"
)

// Tier is one step of a graduated price: units up to UpTo (nil: no limit)
// cost UnitAmount each, plus FlatAmount once when any unit falls in it.
type Tier struct {
	UpTo       *decimal.Decimal `json:"up_to"`
	UnitAmount decimal.Decimal  `json:"unit_amount"`
	FlatAmount int64            `json:"flat_amount,omitempty"`
}

// Price is how one meter is charged. Dimensions, when set, narrows the
// price to usage with those dimension values (e.g. {"tier": "uhd"}); the
// usage of a dimension set is charged by the matching price with the most
// dimensions, and usage no price matches is free. Unit is the quantity one
// unit of price covers in the meter's own unit (60 for a price per minute
// of transcode_seconds, 1e9 for a price per GB of egress_bytes). Included
// units are free each period, before tiers.
type Price struct {
	Meter      string            `json:"meter"`
	Dimensions map[string]string `json:"dimensions,omitempty"`
	Model      string            `json:"model"`
	Unit       decimal.Decimal   `json:"unit"`
	UnitName   string            `json:"unit_name,omitempty"`
	UnitAmount decimal.Decimal   `json:"unit_amount"`
	Included   decimal.Decimal   `json:"included"`
	Tiers      []Tier            `json:"tiers,omitempty"`
}

// Plan is one offer of a price book. TenantID is the issuer.
type Plan struct {
	TenantID  string    `json:"tenant_id"`
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Currency  string    `json:"currency"`
	BaseFee   int64     `json:"base_fee"`
	Prices    []Price   `json:"prices"`
	Archived  bool      `json:"archived"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Input is what a client sends to create or replace a plan.
type Input struct {
	Name     string  `json:"name"`
	Currency string  `json:"currency"`
	BaseFee  int64   `json:"base_fee"`
	Prices   []Price `json:"prices"`
}

var currencyRE = regexp.MustCompile(`^[a-z]{3}$`)

func invalid(field, format string, args ...any) error {
	e := errs.E(errs.Invalid, CodeInvalidPlan, format, args...)
	e.Field = field
	return e
}

// Validate checks the plan's shape: known meters, positive units,
// non-negative amounts, tiers ascending and ending unbounded, and no two
// prices for the same meter and dimensions.
func (in Input) Validate() error {
	if n := len(strings.TrimSpace(in.Name)); n == 0 || n > 100 {
		return invalid("name", "name must be 1 to 100 characters")
	}
	if !currencyRE.MatchString(in.Currency) {
		return invalid("currency", "currency must be a lower-case ISO 4217 code such as \"usd\"")
	}
	if in.BaseFee < 0 || in.BaseFee > 1e12 {
		return invalid("base_fee", "base_fee must be 0 to 10^12 minor units")
	}
	if len(in.Prices) > 50 {
		return invalid("prices", "at most 50 prices")
	}
	seen := map[string]bool{}
	for i, p := range in.Prices {
		f := fmt.Sprintf("prices[%d]", i)
		if !metering.KnownMeter(p.Meter) {
			return invalid(f+".meter", "unknown meter %q", p.Meter)
		}
		k := p.Meter + "|" + metering.DimensionsKey(p.Dimensions)
		if seen[k] {
			return invalid(f, "two prices for meter %s with the same dimensions", p.Meter)
		}
		seen[k] = true
		if len(p.Dimensions) > metering.MaxDimensions {
			return invalid(f+".dimensions", "at most %d dimensions", metering.MaxDimensions)
		}
		if p.Unit.Sign() <= 0 {
			return invalid(f+".unit", "unit must be > 0")
		}
		if p.Included.Sign() < 0 {
			return invalid(f+".included", "included must be ≥ 0")
		}
		switch p.Model {
		case PerUnit:
			if p.UnitAmount.Sign() < 0 {
				return invalid(f+".unit_amount", "unit_amount must be ≥ 0")
			}
			if len(p.Tiers) > 0 {
				return invalid(f+".tiers", "tiers belong to the graduated model")
			}
		case Graduated:
			if len(p.Tiers) == 0 || len(p.Tiers) > 20 {
				return invalid(f+".tiers", "a graduated price has 1 to 20 tiers")
			}
			prev := decimal.Zero
			for j, t := range p.Tiers {
				tf := fmt.Sprintf("%s.tiers[%d]", f, j)
				if t.UnitAmount.Sign() < 0 || t.FlatAmount < 0 {
					return invalid(tf, "tier amounts must be ≥ 0")
				}
				last := j == len(p.Tiers)-1
				switch {
				case last && t.UpTo != nil:
					return invalid(tf+".up_to", "the last tier has no up_to")
				case !last && (t.UpTo == nil || !t.UpTo.GreaterThan(prev)):
					return invalid(tf+".up_to", "up_to must rise from tier to tier")
				}
				if t.UpTo != nil {
					prev = *t.UpTo
				}
			}
		default:
			return invalid(f+".model", "model must be %q or %q", PerUnit, Graduated)
		}
	}
	return nil
}

// Usage is the quantity of one meter and dimension set in a period.
type Usage struct {
	Meter      string
	Dimensions map[string]string
	Quantity   decimal.Decimal
}

// Line is one charge of an invoice.
type Line struct {
	Kind        string            `json:"kind"` // "base_fee" or "usage"
	Description string            `json:"description"`
	PlanID      string            `json:"plan_id"`
	Meter       string            `json:"meter,omitempty"`
	Dimensions  map[string]string `json:"dimensions,omitempty"`
	Quantity    decimal.Decimal   `json:"quantity"`       // in the meter's unit
	Units       decimal.Decimal   `json:"units"`          // quantity / price unit
	Billable    decimal.Decimal   `json:"billable_units"` // units past the allowance
	From        time.Time         `json:"period_start"`
	To          time.Time         `json:"period_end"`
	Amount      int64             `json:"amount"` // minor units
}

// Segment is a stretch of a period under one plan: [From, To).
type Segment struct {
	Plan     Plan
	From, To time.Time
	// Fraction is the segment's share of the whole period; the base fee
	// and the included allowances are prorated by it.
	Fraction decimal.Decimal
}

// Fraction is (to-from)/(periodEnd-periodStart) as an exact decimal of 12
// places, rounded down.
func Fraction(from, to, periodStart, periodEnd time.Time) decimal.Decimal {
	num := decimal.NewFromInt(int64(to.Sub(from) / time.Second))
	den := decimal.NewFromInt(int64(periodEnd.Sub(periodStart) / time.Second))
	if den.Sign() <= 0 {
		return decimal.Zero
	}
	return num.DivRound(den, 16).Truncate(12)
}

// match returns the index of the price charging usage u: the price of
// u's meter whose dimensions are all in u's, with the most dimensions
// (ties: the smaller dimensions key). -1 when none.
func match(prices []Price, u Usage) int {
	best := -1
	for i, p := range prices {
		if p.Meter != u.Meter {
			continue
		}
		ok := true
		for k, v := range p.Dimensions {
			if u.Dimensions[k] != v {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		if best < 0 || len(p.Dimensions) > len(prices[best].Dimensions) ||
			len(p.Dimensions) == len(prices[best].Dimensions) && metering.DimensionsKey(p.Dimensions) < metering.DimensionsKey(prices[best].Dimensions) {
			best = i
		}
	}
	return best
}

// Rate charges a segment's usage: a base-fee line (prorated) and one line
// per meter and dimension set. Usage rows are rated in order of meter and
// dimensions key; rows charged by the same price share its allowance and
// climb its tiers together, in that order.
func Rate(seg Segment, usage []Usage) []Line {
	var lines []Line
	if seg.Plan.BaseFee > 0 {
		amt := decimal.NewFromInt(seg.Plan.BaseFee).Mul(seg.Fraction)
		lines = append(lines, Line{
			Kind: "base_fee", Description: seg.Plan.Name + " (base fee)", PlanID: seg.Plan.ID,
			Quantity: seg.Fraction, Units: seg.Fraction, Billable: seg.Fraction,
			From: seg.From, To: seg.To, Amount: round(amt),
		})
	}
	sorted := append([]Usage(nil), usage...)
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].Meter != sorted[j].Meter {
			return sorted[i].Meter < sorted[j].Meter
		}
		return metering.DimensionsKey(sorted[i].Dimensions) < metering.DimensionsKey(sorted[j].Dimensions)
	})
	used := make([]decimal.Decimal, len(seg.Plan.Prices)) // units already rated per price
	for _, u := range sorted {
		if u.Quantity.Sign() == 0 {
			continue
		}
		i := match(seg.Plan.Prices, u)
		line := Line{
			Kind: "usage", Description: describe(u), PlanID: seg.Plan.ID, Meter: u.Meter, Dimensions: u.Dimensions,
			Quantity: u.Quantity, From: seg.From, To: seg.To,
		}
		if i < 0 {
			line.Units, line.Billable = u.Quantity, decimal.Zero
			lines = append(lines, line)
			continue
		}
		p := seg.Plan.Prices[i]
		units := u.Quantity.DivRound(p.Unit, 12)
		included := p.Included.Mul(seg.Fraction)
		start, end := used[i], used[i].Add(units)
		used[i] = end
		// Units in [start, end) of the price's running count; the first
		// `included` of the period are free.
		billStart, billEnd := decimal.Max(start, included).Sub(included), decimal.Max(end, included).Sub(included)
		line.Units, line.Billable = units, billEnd.Sub(billStart)
		line.Amount = round(charge(p, billStart, billEnd))
		if p.UnitName != "" {
			line.Description += " per " + p.UnitName
		}
		lines = append(lines, line)
	}
	return lines
}

// charge is the exact amount for billable units [from, to) of price p.
func charge(p Price, from, to decimal.Decimal) decimal.Decimal {
	if !to.GreaterThan(from) {
		return decimal.Zero
	}
	if p.Model == PerUnit {
		return to.Sub(from).Mul(p.UnitAmount)
	}
	total := decimal.Zero
	lo := decimal.Zero
	for _, t := range p.Tiers {
		hi := decimal.Zero
		unbounded := t.UpTo == nil
		if !unbounded {
			hi = *t.UpTo
		}
		// The overlap of [from, to) with the tier [lo, hi).
		a := decimal.Max(from, lo)
		b := to
		if !unbounded {
			b = decimal.Min(to, hi)
		}
		if b.GreaterThan(a) {
			total = total.Add(b.Sub(a).Mul(t.UnitAmount))
			// The flat fee is charged by the line whose units enter the
			// tier first.
			if t.FlatAmount > 0 && from.LessThanOrEqual(lo) {
				total = total.Add(decimal.NewFromInt(t.FlatAmount))
			}
		}
		if unbounded {
			break
		}
		lo = hi
	}
	return total
}

// round rounds an exact amount to whole minor units, half away from zero.
func round(d decimal.Decimal) int64 { return d.Round(0).IntPart() }

func describe(u Usage) string {
	if len(u.Dimensions) == 0 {
		return u.Meter
	}
	return u.Meter + " (" + strings.ReplaceAll(metering.DimensionsKey(u.Dimensions), ";", ", ") + ")"
}
