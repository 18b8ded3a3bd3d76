package cdn

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Prober fetches each CDN's canary object, signed, and feeds the results to
// Health. A probe succeeds on a 2xx answer whose body could be read within
// Timeout.
type Prober struct {
	Health *Health
	// Client defaults to a client with no redirects followed: a CDN that
	// redirects its canary is misconfigured.
	Client *http.Client
	// Interval between rounds (default 10s) and Timeout of one probe
	// (default 3s).
	Interval time.Duration
	Timeout  time.Duration
	// SignTTL is how long the canary URL's signature is valid (default 60s).
	SignTTL time.Duration
	Logger  *slog.Logger
}

// Run probes every CDN, then again every Interval, until ctx is done; it
// returns ctx's error.
func (p *Prober) Run(ctx context.Context) error {
	interval := p.Interval
	if interval <= 0 {
		interval = 10 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		p.ProbeOnce(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// ProbeOnce probes every CDN concurrently, records the results, and returns
// them by CDN ID (nil error = success).
func (p *Prober) ProbeOnce(ctx context.Context) map[string]error {
	cdns := p.Health.CDNs()
	results := make(map[string]error, len(cdns))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range cdns {
		wg.Go(func() {
			err := p.probe(ctx, c)
			if ctx.Err() != nil {
				// Shutting down is not the CDN's fault.
				return
			}
			msg := ""
			if err != nil {
				msg = err.Error()
				if p.Logger != nil {
					p.Logger.LogAttrs(ctx, slog.LevelWarn, "cdn canary failed", slog.String("cdn", c.ID), slog.String("error", msg))
				}
			}
			p.Health.record(c.ID, err == nil, msg)
			mu.Lock()
			results[c.ID] = err
			mu.Unlock()
		})
	}
	wg.Wait()
	return results
}

func (p *Prober) probe(ctx context.Context, c CDN) error {
	timeout, ttl := p.Timeout, p.SignTTL
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	if ttl <= 0 {
		ttl = time.Minute
	}
	client := p.Client
	if client == nil {
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	u, err := c.URL(c.CanaryPath, p.Health.cfg.Now().Add(ttl))
	if err != nil {
		return fmt.Errorf("canary URL: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("canary request: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("canary GET: %w", err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 16<<20)); err != nil {
		return fmt.Errorf("canary body: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("canary GET: HTTP %d", resp.StatusCode)
	}
	return nil
}
