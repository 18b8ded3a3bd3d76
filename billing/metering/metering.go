// Package metering records usage events exactly once and keeps hourly
// rollups of them per tenant, meter and dimension set, the numbers invoices
// are computed from.
//
// An event's id is its idempotency key within its tenant: producers may send
// an event as often as they like (retries, replays, a restarted worker), and
// it is stored and counted once. The ingester writes the raw event and adds it
// to its rollup in one transaction, and adds only what its own insert actually
// wrote, so concurrent or repeated batches never double-count.
package metering

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/marquee-video/marquee/internal/errs"
)

// The meters usage is recorded on.
const (
	TranscodeSeconds = "transcode_seconds"
	StorageByteHours = "storage_byte_hours"
	EgressBytes      = "egress_bytes"
	DRMLicenses      = "drm_licenses"
	PlaybackSeconds  = "playback_seconds"
	AdImpressions    = "ad_impressions"
	StoredBytes      = "stored_bytes"
)

// Meters lists every known meter.
var Meters = []string{TranscodeSeconds, StorageByteHours, EgressBytes, DRMLicenses, PlaybackSeconds, AdImpressions, StoredBytes}

// KnownMeter reports whether m is one of Meters.
func KnownMeter(m string) bool {
	for _, k := range Meters {
		if k == m {
			return true
		}
	}
	return false
}

// Limits on an event's shape. Dimensions are part of a rollup's key, so they
// are kept few and short.
const (
	MaxIDLen          = 200
	MaxDimensions     = 8
	MaxDimensionKey   = 32
	MaxDimensionValue = 64
	// MaxFutureSkew is how far ahead of the ingester's clock an event may be
	// stamped (producers' clocks drift; a larger lead is a bug).
	MaxFutureSkew = 5 * time.Minute
	// MaxBatch is the most events one Ingest call takes.
	MaxBatch = 50_000
	// MaxScale is the most fractional digits a quantity may have, and
	// MaxDigits the most digits in all: quantities are exact decimals.
	MaxScale  = 9
	MaxDigits = 30
)

// Earliest is the earliest time an event may carry.
var Earliest = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// Error codes, beside errs' defaults.
const (
	CodeUnknownMeter    = "unknown_meter"
	CodeInvalidQuantity = "invalid_quantity"
	CodeInvalidTime     = "invalid_time"
	CodeInvalidEvent    = "invalid_event"
	CodeUnknownTenant   = "unknown_tenant"
	CodeTenantMismatch  = "tenant_mismatch"
)

// Event is one metered consumption. ID is the idempotency key within the
// tenant and the month of At: a repeat of an event carries its time (on
// PostgreSQL the events are partitioned by month, and uniqueness holds per
// partition). Quantity is an exact decimal in the meter's unit.
type Event struct {
	TenantID   string            `json:"tenant_id"`
	ID         string            `json:"id"`
	Meter      string            `json:"meter"`
	Quantity   decimal.Decimal   `json:"quantity"`
	Dimensions map[string]string `json:"dimensions,omitempty"`
	At         time.Time         `json:"at"`
}

// Month is the partition an event at t belongs to: "YYYY-MM" in UTC.
func Month(t time.Time) string { return t.UTC().Format("2006-01") }

// Validate checks e against the meter list and the limits above, with now
// as the ingester's clock.
func (e Event) Validate(now time.Time) error {
	invalid := func(code, field, format string, args ...any) error {
		err := errs.E(errs.Invalid, code, format, args...)
		err.Field = field
		return err
	}
	if e.TenantID == "" {
		return invalid(CodeInvalidEvent, "tenant_id", "tenant_id is required")
	}
	if n := len(e.ID); n == 0 || n > MaxIDLen {
		return invalid(CodeInvalidEvent, "id", "id must be 1 to %d characters", MaxIDLen)
	}
	if !KnownMeter(e.Meter) {
		return invalid(CodeUnknownMeter, "meter", "unknown meter %q", e.Meter)
	}
	if e.Quantity.Sign() < 0 {
		return invalid(CodeInvalidQuantity, "quantity", "quantity must be ≥ 0")
	}
	if -e.Quantity.Exponent() > MaxScale || digits(e.Quantity) > MaxDigits {
		return invalid(CodeInvalidQuantity, "quantity", "quantity must have at most %d digits, %d after the point", MaxDigits, MaxScale)
	}
	if e.At.IsZero() || e.At.Before(Earliest) {
		return invalid(CodeInvalidTime, "at", "at must be on or after %s", Earliest.Format("2006-01-02"))
	}
	if e.At.After(now.Add(MaxFutureSkew)) {
		return invalid(CodeInvalidTime, "at", "at is more than %s in the future", MaxFutureSkew)
	}
	if len(e.Dimensions) > MaxDimensions {
		return invalid(CodeInvalidEvent, "dimensions", "at most %d dimensions", MaxDimensions)
	}
	for k, v := range e.Dimensions {
		if !validKey(k) {
			return invalid(CodeInvalidEvent, "dimensions", "dimension key %q must be 1 to %d of a-z, 0-9, _ and start with a letter", k, MaxDimensionKey)
		}
		if len(v) == 0 || len(v) > MaxDimensionValue || strings.ContainsAny(v, ";=") || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return invalid(CodeInvalidEvent, "dimensions", "dimension %s: value must be 1 to %d printable characters without ';' or '='", k, MaxDimensionValue)
		}
	}
	return nil
}

// digits counts q's significant digits.
func digits(q decimal.Decimal) int {
	c := q.Coefficient()
	if c.Sign() == 0 {
		return 1
	}
	return len(c.Abs(c).String()) + max(0, int(q.Exponent()))
}

func validKey(k string) bool {
	if len(k) == 0 || len(k) > MaxDimensionKey || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// DimensionsKey is the canonical form of dims: "k=v;k=v" sorted by key
// (byte order), "" for none. Validate guarantees it is unambiguous.
func DimensionsKey(dims map[string]string) string {
	if len(dims) == 0 {
		return ""
	}
	keys := make([]string, 0, len(dims))
	for k := range dims {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(dims[k])
	}
	return b.String()
}

// Rollup is the usage of one meter and dimension set by one tenant in one
// hour (UTC).
type Rollup struct {
	TenantID   string
	Hour       time.Time
	Meter      string
	Dimensions map[string]string
	Quantity   decimal.Decimal
	Events     int64
}

// validateBatch checks every event before anything is written: one bad
// event refuses the batch, and the error names its index.
func validateBatch(events []Event, now time.Time) error {
	if len(events) > MaxBatch {
		return errs.E(errs.TooLarge, CodeInvalidEvent, "a batch holds at most %d events, got %d", MaxBatch, len(events))
	}
	for i, e := range events {
		if err := e.Validate(now); err != nil {
			ee := errs.As(err)
			out := errs.E(ee.Kind, ee.Code, "event %d (id %q): %s", i, e.ID, ee.Message)
			out.Field = fmt.Sprintf("events[%d].%s", i, ee.Field)
			return out
		}
	}
	return nil
}

// dedupe keeps the first event of each (tenant, month, id); a repeat within
// the batch is the same event sent twice.
func dedupe(events []Event) []Event {
	type key struct {
		tenant string
		month  int
		id     string
	}
	seen := make(map[key]struct{}, len(events))
	out := make([]Event, 0, len(events))
	for _, e := range events {
		k := key{e.TenantID, monthNumber(e.At), e.ID}
		if _, ok := seen[k]; ok {
			continue
		}
		seen[k] = struct{}{}
		out = append(out, e)
	}
	return out
}
