// Package fetch downloads an ingest source from a tenant-supplied URL without
// letting the tenant reach anything but the public internet (SSRF). The
// check is made on the address of every connection actually opened, in the
// dialer, so DNS rebinding, redirects and odd address spellings all meet the
// same rule; URLs with a literal address are refused before any dial. The
// rule itself, which addresses are public, is internal/netguard's, shared
// with the other clients that connect on a tenant's behalf.
package fetch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/marquee-video/marquee/internal/netguard"
)

// MaxRedirects is how many redirects a fetch follows; each target is checked
// like the original URL.
const MaxRedirects = 5

// DefaultUserAgent is sent when Config.UserAgent is empty.
const DefaultUserAgent = "Marquee-Ingest/1.0"

// Config sets a Fetcher's limits.
type Config struct {
	// AllowCIDRs are non-public ranges ingest may reach anyway; see
	// ParseAllowCIDRs and EnvAllowCIDRs. Empty: the public internet only.
	AllowCIDRs []netip.Prefix
	// MaxBytes caps the body; 0 or less means no cap. Callers pass what is
	// left of the tenant's quota.
	MaxBytes int64
	// Timeout bounds a whole fetch, body included; 0 leaves it to ctx.
	Timeout time.Duration
	// UserAgent defaults to DefaultUserAgent.
	UserAgent string
}

// Fetcher downloads sources. It is safe for concurrent use and keeps
// connections alive between fetches.
type Fetcher struct {
	cfg    Config
	policy netguard.Policy
	client *http.Client
}

// New returns a Fetcher enforcing cfg.
func New(cfg Config) *Fetcher {
	return newFetcher(cfg, nil, nil)
}

// newFetcher lets tests replace the resolver and observe each dial: a
// non-nil observe runs before the address check.
func newFetcher(cfg Config, resolver *net.Resolver, observe func(network, address string) error) *Fetcher {
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	f := &Fetcher{cfg: cfg, policy: netguard.Policy{Allow: cfg.AllowCIDRs}}
	dialer := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Resolver:  resolver,
		// Control runs after the name is resolved and the socket is made,
		// before connect: address is the IP actually about to be reached.
		Control: func(network, address string, _ syscall.RawConn) error {
			if observe != nil {
				if err := observe(network, address); err != nil {
					return err
				}
			}
			return f.checkDial(network, address)
		},
	}
	transport := &http.Transport{
		// No proxy: a proxy would make the connection, and the check,
		// meaningless.
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  30 * time.Second,
		ExpectContinueTimeout:  time.Second,
		IdleConnTimeout:        90 * time.Second,
		MaxIdleConnsPerHost:    4,
		MaxResponseHeaderBytes: 64 << 10,
		// Bytes as the server stores them: the size cap and the media
		// probe see the real file.
		DisableCompression: true,
	}
	f.client = &http.Client{
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > MaxRedirects {
				return fail(CodeTooManyRedirects, false, nil, fmt.Sprintf("more than %d redirects", MaxRedirects))
			}
			return f.checkURL(req.URL)
		},
	}
	return f
}

// Fetch downloads rawURL into w and returns the bytes written and the
// response's Content-Type. A failure is an *Error, except when ctx itself
// ends (ctx's error) or w fails (w's error, wrapped).
func (f *Fetcher) Fetch(ctx context.Context, rawURL string, w io.Writer) (n int64, contentType string, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return 0, "", fail(CodeInvalidURL, false, err, "the source URL does not parse")
	}
	if err := f.checkURL(u); err != nil {
		return 0, "", err
	}
	parent := ctx
	if f.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.cfg.Timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, "", fail(CodeInvalidURL, false, err, "the source URL is not a valid request")
	}
	req.Header.Set("User-Agent", f.cfg.UserAgent)
	req.Header.Set("Accept", "*/*")

	resp, err := f.client.Do(req)
	if err != nil {
		return 0, "", f.transportError(parent, err)
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10)) // let the connection be reused
		return 0, "", statusError(resp.StatusCode)
	}
	limit := f.cfg.MaxBytes
	if limit > 0 && resp.ContentLength > limit {
		return 0, "", tooLarge(limit)
	}
	contentType = resp.Header.Get("Content-Type")

	body := io.Reader(resp.Body)
	if limit > 0 {
		body = io.LimitReader(resp.Body, limit)
	}
	sink := &sinkWriter{w: w}
	n, err = io.Copy(sink, body)
	if sink.err != nil {
		return n, contentType, fmt.Errorf("fetch: writing the source: %w", sink.err)
	}
	if err != nil {
		return n, contentType, f.transportError(parent, err)
	}
	if limit > 0 && n == limit {
		// The cap was reached: one more byte means the source is over it.
		var one [1]byte
		if m, _ := io.ReadFull(resp.Body, one[:]); m > 0 {
			return n, contentType, tooLarge(limit)
		}
	}
	return n, contentType, nil
}

// checkURL applies the rules a URL must meet before any connection: an
// absolute http(s) URL, no credentials, a host, and, when the host is an
// address literal, an allowed address.
func (f *Fetcher) checkURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fail(CodeInvalidURL, false, nil, "only http and https sources are supported")
	}
	if u.Opaque != "" || u.Host == "" {
		return fail(CodeInvalidURL, false, nil, "the source URL has no host")
	}
	if u.User != nil {
		return fail(CodeInvalidURL, false, nil, "source URLs may not carry credentials")
	}
	host := u.Hostname()
	if host == "" {
		return fail(CodeInvalidURL, false, nil, "the source URL has no host")
	}
	if p := u.Port(); p != "" {
		if port, err := strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return fail(CodeInvalidURL, false, nil, "the source URL's port is not valid")
		}
	}
	if a, err := netip.ParseAddr(host); err == nil && !f.allowed(a) {
		return fail(CodeForbiddenAddress, false, nil, "the source host is not on the public internet")
	}
	return nil
}

// checkDial is the rule every connection meets: netguard's, reported as a
// fetch error.
func (f *Fetcher) checkDial(network, address string) error {
	if err := f.policy.DialControl(network, address, nil); err != nil {
		return fail(CodeForbiddenAddress, false, err, "the source host is not on the public internet")
	}
	return nil
}

// transportError classifies a failure to get or read a response.
func (f *Fetcher) transportError(parent context.Context, err error) error {
	if parent.Err() != nil {
		return parent.Err() // the caller gave up; not the source's fault
	}
	var fe *Error
	if errors.As(err, &fe) {
		return fe // from the dialer's check or CheckRedirect
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fail(CodeUnreachable, true, err, "the source did not answer in time")
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fail(CodeUnreachable, !dnsErr.IsNotFound, err, "the source host name does not resolve")
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return fail(CodeUnreachable, false, err, "the source's TLS certificate is not valid")
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) && strings.Contains(urlErr.Err.Error(), "unsupported protocol scheme") {
		return fail(CodeInvalidURL, false, err, "only http and https sources are supported")
	}
	return fail(CodeUnreachable, true, err, "the source could not be reached")
}

// statusError: 408 and 429 are worth a retry like a 5xx; other 4xx are not.
func statusError(status int) *Error {
	retryable := status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests
	return fail(CodeHTTPStatus, retryable, nil,
		fmt.Sprintf("the source answered %d %s", status, http.StatusText(status)))
}

func tooLarge(limit int64) *Error {
	return fail(CodeTooLarge, false, nil, fmt.Sprintf("the source is over the %d-byte limit", limit))
}

// sinkWriter tells the caller's write errors apart from the network's.
type sinkWriter struct {
	w   io.Writer
	err error
}

func (s *sinkWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err != nil {
		s.err = err
	}
	return n, err
}
