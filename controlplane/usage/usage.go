// Package usage counts usage where it happens on hot paths (bytes the origin
// serves, licenses issued) without a database write per request: counts
// are summed in memory per tenant, meter and dimension set, and flushed as
// usage events every interval. Each flush's events carry ids made of the
// process's random prefix and the flush number, so a flush retried after a
// failed ingest is counted once; counts not yet flushed when a process dies
// are lost (at most one interval's).
package usage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/marquee-video/marquee/billing/metering"
)

// Ingest stores usage events exactly once by id (metering.Ingester).
type Ingest func(ctx context.Context, events []metering.Event) (int, error)

// Counter sums usage between flushes. Safe for concurrent use.
type Counter struct {
	ingest Ingest
	log    *slog.Logger
	prefix string

	mu      sync.Mutex
	counts  map[key]int64
	pending []metering.Event // a failed flush, retried first with its ids
	flushes uint64
}

type key struct {
	tenant, meter, dims string
}

// New returns a Counter that flushes through ingest.
func New(ingest Ingest, log *slog.Logger) *Counter {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Counter{ingest: ingest, log: log, prefix: "use_" + hex.EncodeToString(b), counts: map[key]int64{}}
}

// Add counts n of meter for tenant with the given dimensions ("k=v" pairs,
// at most a few).
func (c *Counter) Add(tenant, meter string, n int64, dims ...string) {
	if c == nil || n <= 0 {
		return
	}
	k := key{tenant: tenant, meter: meter, dims: strings.Join(dims, ";")}
	c.mu.Lock()
	c.counts[k] += n
	c.mu.Unlock()
}

// Flush ingests what was counted since the last flush.
func (c *Counter) Flush(ctx context.Context, now time.Time) error {
	c.mu.Lock()
	events := c.pending
	if events == nil && len(c.counts) > 0 {
		c.flushes++
		id := c.prefix + "_" + strconv.FormatUint(c.flushes, 36) + "_"
		keys := make([]key, 0, len(c.counts))
		for k := range c.counts {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b key) int {
			return strings.Compare(a.tenant+a.meter+a.dims, b.tenant+b.meter+b.dims)
		})
		for i, k := range keys {
			e := metering.Event{TenantID: k.tenant, ID: id + strconv.Itoa(i), Meter: k.meter, Quantity: decimal.NewFromInt(c.counts[k]), At: now.UTC()}
			if k.dims != "" {
				e.Dimensions = map[string]string{}
				for _, kv := range strings.Split(k.dims, ";") {
					name, v, _ := strings.Cut(kv, "=")
					e.Dimensions[name] = v
				}
			}
			events = append(events, e)
		}
		clear(c.counts)
	}
	c.pending = events
	c.mu.Unlock()
	if len(events) == 0 {
		return nil
	}
	if _, err := c.ingest(ctx, events); err != nil {
		return err // kept in pending: the next flush retries the same ids
	}
	c.mu.Lock()
	c.pending = nil
	c.mu.Unlock()
	return nil
}

// Run flushes every interval until ctx ends, then once more.
func (c *Counter) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := c.Flush(fctx, time.Now()); err != nil {
				c.log.Error("usage: last flush", "err", err)
			}
			cancel()
			return
		case now := <-t.C:
			if err := c.Flush(ctx, now); err != nil {
				c.log.Warn("usage: flush failed; retried next interval", "err", err)
			}
		}
	}
}
