package drm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Proxy defaults and limits.
const (
	DefaultProxyTimeout       = 5 * time.Second
	DefaultProxyCooldown      = 30 * time.Second
	DefaultMaxLicenseRequest  = 256 << 10
	DefaultMaxLicenseResponse = 1 << 20
	proxySystemToken          = "{system}"
	licenseProblemContentType = "application/problem+json"
	licenseDefaultContentType = "application/octet-stream"
)

// Proxy forwards DRM license requests (Widevine, PlayReady, FairPlay: opaque
// bytes) to a vendor's license server, failing over to a backup.
//
// A connection error, a timeout or a 5xx answer from the primary marks it
// down for Cooldown and the request is retried on the backup; while the
// primary is down, requests go to the backup first and the first request
// after the cooldown probes the primary again. A 4xx answer is the vendor's
// verdict on the request (bad token, no entitlement) and is returned as-is,
// never failed over. A request whose caller has gone is not retried.
//
// Primary and Backup are URLs; "{system}" in them is replaced by the
// system's name ("widevine", "playready", "fairplay"). A Proxy must not be
// copied after first use; it holds its own state, nothing is package-level.
type Proxy struct {
	Primary, Backup string
	// Client makes the upstream calls; http.DefaultClient when nil.
	Client *http.Client
	// Timeout bounds each upstream attempt (DefaultProxyTimeout when zero).
	Timeout time.Duration
	// Cooldown is how long a failed primary is skipped (DefaultProxyCooldown
	// when zero).
	Cooldown time.Duration
	// MaxRequestBytes and MaxResponseBytes bound the bodies
	// (DefaultMaxLicenseRequest and DefaultMaxLicenseResponse when zero).
	MaxRequestBytes, MaxResponseBytes int64
	Log                               *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu        sync.Mutex
	downUntil time.Time
}

// hop-by-hop and framing headers that are never forwarded either way.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Host", "Content-Length", "Accept-Encoding"}

func (p *Proxy) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Proxy) log() *slog.Logger {
	if p.Log != nil {
		return p.Log
	}
	return slog.New(slog.DiscardHandler)
}

func orDefault[T int64 | time.Duration](v, d T) T {
	if v <= 0 {
		return d
	}
	return v
}

// PrimaryDown reports whether the primary is in its cooldown.
func (p *Proxy) PrimaryDown() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.now().Before(p.downUntil)
}

func (p *Proxy) markPrimary(ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ok {
		p.downUntil = time.Time{}
	} else {
		p.downUntil = p.now().Add(orDefault(p.Cooldown, DefaultProxyCooldown))
	}
}

type upstream struct {
	name, url string
	backup    bool
}

// attemptError is one upstream's failure, for the final error.
type attemptError struct {
	upstream string
	status   int
	err      error
}

// Forward sends body with header to the license server for system and
// returns its answer. err is ErrTooLarge for an oversized request, the
// context's error when ctx ends, and ErrUnavailable when no upstream gave
// an answer below 500.
func (p *Proxy) Forward(ctx context.Context, system string, body []byte, header http.Header) (status int, respHeader http.Header, respBody []byte, usedBackup bool, err error) {
	sys, err := ParseSystem(system)
	if err != nil {
		return 0, nil, nil, false, err
	}
	if limit := orDefault(p.MaxRequestBytes, DefaultMaxLicenseRequest); int64(len(body)) > limit {
		return 0, nil, nil, false, errorf(CodeTooLarge, "license request is %d bytes, limit %d", len(body), limit)
	}
	if p.Primary == "" {
		return 0, nil, nil, false, errorf(CodeUnavailable, "no license server configured")
	}
	order := []upstream{{"primary", p.Primary, false}}
	if p.Backup != "" {
		if p.PrimaryDown() {
			order = []upstream{{"backup", p.Backup, true}, order[0]}
		} else {
			order = append(order, upstream{"backup", p.Backup, true})
		}
	}
	var failures []attemptError
	for _, u := range order {
		if err := ctx.Err(); err != nil {
			return 0, nil, nil, false, err
		}
		st, h, b, aerr := p.attempt(ctx, u.url, sys, body, header)
		if aerr == nil && st < 500 {
			if !u.backup {
				p.markPrimary(true)
			}
			if u.backup {
				p.log().Info("drm license answered by backup", "system", sys.Name(), "status", st)
			}
			return st, h, b, u.backup, nil
		}
		if ctx.Err() != nil {
			// The caller went away; that says nothing about the upstream.
			return 0, nil, nil, false, ctx.Err()
		}
		failures = append(failures, attemptError{u.name, st, aerr})
		if !u.backup {
			p.markPrimary(false)
		}
		p.log().Warn("drm license server failed", "upstream", u.name, "system", sys.Name(), "status", st, "err", aerr)
	}
	var msgs []string
	var errs []error
	for _, f := range failures {
		if f.err != nil {
			msgs = append(msgs, fmt.Sprintf("%s: %v", f.upstream, f.err))
			errs = append(errs, f.err)
		} else {
			msgs = append(msgs, fmt.Sprintf("%s: status %d", f.upstream, f.status))
		}
	}
	return 0, nil, nil, false, &Error{Code: CodeUnavailable, Message: "no license server answered: " + strings.Join(msgs, "; "), Err: errors.Join(errs...)}
}

func (p *Proxy) attempt(ctx context.Context, url string, sys System, body []byte, header http.Header) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, orDefault(p.Timeout, DefaultProxyTimeout))
	defer cancel()
	url = strings.ReplaceAll(url, proxySystemToken, sys.Name())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("build request: %w", err)
	}
	for k, v := range header {
		req.Header[k] = append([]string(nil), v...)
	}
	for _, h := range hopHeaders {
		req.Header.Del(h)
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", licenseDefaultContentType)
	}
	client := p.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	limit := orDefault(p.MaxResponseBytes, DefaultMaxLicenseResponse)
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read answer: %w", err)
	}
	if int64(len(b)) > limit {
		return 0, nil, nil, errorf(CodeTooLarge, "license answer is over %d bytes", limit)
	}
	h := resp.Header.Clone()
	for _, k := range hopHeaders {
		h.Del(k)
	}
	return resp.StatusCode, h, b, nil
}

// Handler serves license requests for system over HTTP with Forward: the
// body and headers go upstream and the answer comes back unchanged. An
// oversized request is 413, and no answer from any upstream 502, both as
// application/problem+json with the package's error code.
func (p *Proxy) Handler(system string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeProblem(w, http.StatusMethodNotAllowed, CodeBadRequest, "license requests are POST")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, orDefault(p.MaxRequestBytes, DefaultMaxLicenseRequest)))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				writeProblem(w, http.StatusRequestEntityTooLarge, CodeTooLarge, "license request too large")
				return
			}
			writeProblem(w, http.StatusBadRequest, CodeBadRequest, "cannot read license request")
			return
		}
		header := r.Header.Clone()
		header.Del("Cookie")
		status, h, b, _, err := p.Forward(r.Context(), system, body, header)
		if err != nil {
			switch {
			case errors.Is(err, ErrInvalidSystem):
				writeProblem(w, http.StatusNotFound, CodeInvalidSystem, "unknown DRM system")
			case errors.Is(err, ErrTooLarge):
				writeProblem(w, http.StatusRequestEntityTooLarge, CodeTooLarge, "license request too large")
			default:
				// Upstream details are logged by Forward, never shown.
				writeProblem(w, http.StatusBadGateway, CodeUnavailable, "license server unavailable")
			}
			return
		}
		for k, v := range h {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = w.Write(b)
	})
}

func writeProblem(w http.ResponseWriter, status int, code, title string) {
	w.Header().Set("Content-Type", licenseProblemContentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": title, "status": status, "code": code})
}
