package webhooks

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/netguard"
)

// Dispatcher defaults.
const (
	DefaultPollInterval = time.Second
	DefaultBatch        = 16
	DefaultMaxAttempts  = 10
	DefaultTimeout      = 10 * time.Second
	// maxResponseBytes of a receiver's answer are read, then dropped: the
	// status is all that counts, and a huge body must not hold the
	// dispatcher.
	maxResponseBytes = 64 << 10
	// UserAgent is sent with every request.
	UserAgent = "Marquee-Webhooks/1.0"
)

// DispatcherConfig tunes a Dispatcher; zero fields take the defaults.
type DispatcherConfig struct {
	// Allow are the non-public ranges endpoints may be on (netguard.Policy).
	Allow []netip.Prefix
	// PollInterval is the wait between polls when nothing is due.
	PollInterval time.Duration
	// Batch is how many deliveries one poll claims and sends concurrently.
	Batch int
	// MaxAttempts: a delivery still failing after this many is failed.
	MaxAttempts int
	// Backoff is the wait after the nth failed attempt; DefaultBackoff.
	Backoff func(n int) time.Duration
	// Timeout bounds one attempt, connection to last byte read.
	Timeout time.Duration
	Log     *slog.Logger
}

// DefaultBackoff waits, after the nth failed attempt, a random time up to
// 30 s · 2^(n-1), capped at 6 h ("full jitter": receivers that failed
// together are not retried together).
func DefaultBackoff(n int) time.Duration {
	const base, ceiling = 30 * time.Second, 6 * time.Hour
	d := ceiling
	if n >= 1 && n <= 20 {
		d = min(base<<(n-1), ceiling)
	}
	return rand.N(d) + 1
}

// Dispatcher sends due deliveries. Several may run against one database (one
// per control-plane process): a delivery is claimed by one of them at a time.
type Dispatcher struct {
	store  Store
	cfg    DispatcherConfig
	client *http.Client
	log    *slog.Logger
}

// NewDispatcher returns a Dispatcher on store.
func NewDispatcher(store Store, cfg DispatcherConfig) *Dispatcher {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Backoff == nil {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	policy := netguard.Policy{Allow: cfg.Allow}
	dialer := &net.Dialer{
		Timeout:   cfg.Timeout,
		KeepAlive: 30 * time.Second,
		// After resolution, before connect: the address judged is the one
		// reached, whatever the URL's host name resolves to this time.
		Control: policy.DialControl,
	}
	transport := &http.Transport{
		// No proxy: a proxy would make the connection and void the check.
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    cfg.Timeout,
		IdleConnTimeout:        90 * time.Second,
		MaxIdleConnsPerHost:    2,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &Dispatcher{
		store: store,
		cfg:   cfg,
		log:   cfg.Log,
		client: &http.Client{
			Transport: transport,
			Timeout:   cfg.Timeout,
			// A redirect is the receiver's answer, recorded as a failure:
			// following it would send a signed payload somewhere the tenant
			// did not register.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// lease is how long a claim keeps other dispatchers off a delivery: well
// past the longest an attempt can take, so an attempt is never sent twice
// at once; only a dispatcher that died mid-attempt makes it wait that long.
func (d *Dispatcher) lease() time.Duration { return 2*d.cfg.Timeout + 30*time.Second }

// Run dispatches until ctx ends, polling every PollInterval, and at once
// again after a full batch. It returns nil when ctx ends, after the attempts
// in flight are recorded.
func (d *Dispatcher) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		n, err := d.DispatchDue(ctx)
		if err != nil && ctx.Err() == nil {
			d.log.Error("webhooks: claiming due deliveries", "err", err)
		}
		wait := d.cfg.PollInterval
		if err == nil && n == d.cfg.Batch {
			wait = 0
		}
		timer.Reset(wait)
	}
}

// DispatchDue claims up to Batch due deliveries, sends them concurrently,
// records each attempt, and returns how many it claimed.
func (d *Dispatcher) DispatchDue(ctx context.Context) (int, error) {
	due, err := d.store.Claim(ctx, now(), d.cfg.Batch, d.lease())
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, c := range due {
		wg.Go(func() { d.attempt(ctx, c) })
	}
	wg.Wait()
	return len(due), nil
}

func (d *Dispatcher) attempt(ctx context.Context, c Claimed) {
	at := now()
	code, failure := d.send(ctx, c, at)
	a := Attempt{N: c.Attempts + 1, At: at, StatusCode: code, Error: failure, DurationMS: int(time.Since(at).Milliseconds())}
	delivered := failure == "" && code >= 200 && code <= 299
	if !delivered && ctx.Err() != nil {
		// Shutting down cut the attempt short: not the receiver's failure.
		// The lease brings the delivery back.
		return
	}
	status, next := StatusPending, time.Time{}
	switch {
	case delivered:
		status = StatusDelivered
	case a.N >= d.cfg.MaxAttempts:
		status = StatusFailed
	default:
		next = now().Add(d.cfg.Backoff(a.N))
	}
	// Recorded even while shutting down: a delivered attempt left
	// unrecorded would be sent again.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := d.store.Record(rctx, c, a, status, next)
	switch {
	case err == nil:
		d.log.Debug("webhook attempt", "tenant", c.TenantID, "delivery", c.DeliveryID, "n", a.N, "status_code", code, "error", failure, "outcome", status)
	case errs.Is(err, errs.NotFound), errs.CodeOf(err) == "stale_claim":
		// The endpoint was deleted meanwhile, or the lease ran out and
		// another dispatcher took over: its record stands.
		d.log.Info("webhook attempt not recorded", "tenant", c.TenantID, "delivery", c.DeliveryID, "n", a.N, "reason", errs.CodeOf(err))
	default:
		d.log.Error("webhooks: recording an attempt", "tenant", c.TenantID, "delivery", c.DeliveryID, "n", a.N, "err", err)
	}
}

// send posts c and returns the receiver's status code, or why there is none.
func (d *Dispatcher) send(ctx context.Context, c Claimed, at time.Time) (int, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(c.Payload))
	if err != nil {
		return 0, "invalid_url: the endpoint URL is not a valid request target"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(HeaderSignature, Sign(c.Secret, at, c.Payload))
	req.Header.Set(HeaderEvent, c.EventType)
	req.Header.Set(HeaderDelivery, c.DeliveryID)
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, describe(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		return resp.StatusCode, "redirect: redirects are not followed; register the final URL"
	}
	return resp.StatusCode, ""
}

// describe says why a request got no response, in words that are safe for
// the tenant: never the resolved address, never an internal error.
func describe(err error) string {
	var dnsErr *net.DNSError
	var netErr net.Error
	var certErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.Is(err, netguard.ErrForbidden):
		return "forbidden_address: the endpoint's host is not on the public internet; no connection was made"
	case errors.As(err, &dnsErr):
		return "dns: the endpoint's host name does not resolve"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout: no response in time"
	case errors.As(err, &certErr):
		return "tls: the endpoint's certificate is not valid"
	case errors.As(err, &recordErr):
		return "tls: the endpoint does not speak TLS"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_refused: the endpoint refused the connection"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection_reset: the endpoint closed the connection without a response"
	default:
		return "connection_failed: the endpoint could not be reached"
	}
}
