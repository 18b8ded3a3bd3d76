// Package api is the control plane's HTTP API (fiber): the /v1 routes, their
// authentication (session tokens and API keys), tenant resolution
// (Marquee-Tenant), authorization (casbin for roles, OPA for data-dependent
// rules), problem+json errors, and the operational endpoints (/healthz,
// /readyz, /metrics). Routes are declared once in a table (routes.go) from
// which the router, the OpenAPI document and the isolation test suite are
// all derived.
package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/gofiber/fiber/v2/middleware/limiter"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/marquee-video/marquee/controlplane/assets"
	"github.com/marquee-video/marquee/controlplane/catalog"
	"github.com/marquee-video/marquee/controlplane/nodes"
	"github.com/marquee-video/marquee/controlplane/playback"
	"github.com/marquee-video/marquee/controlplane/uploads"
	"github.com/marquee-video/marquee/controlplane/webhooks"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/policies"
	"github.com/marquee-video/marquee/tenants"
)

// ReadyCheck is one dependency /readyz checks.
type ReadyCheck struct {
	Name  string
	Check func(context.Context) error
}

// Config is what the API server is built from.
type Config struct {
	Tenants *tenants.Service
	Authz   *policies.Authorizer
	Access  *policies.AccessPolicy
	Ready   []ReadyCheck
	Log     *slog.Logger
	// Portal, when set, is served at "/" as a single-page app.
	Portal fs.FS
	// APIKeyRequestsPerMinute limits each API key; 0 means 1200.
	APIKeyRequestsPerMinute int
	// Idempotency stores responses to POSTs sent with Idempotency-Key.
	Idempotency IdempotencyStore
	// Assets, Nodes and Media serve the media pipeline: the asset routes,
	// the workers' internal API and the clear-playback origin. Without
	// Assets those routes are not registered.
	Assets   *assets.Service
	Nodes    *nodes.Registry
	Media    ObjectReader
	Webhooks *webhooks.Service
	// Uploads serves direct, resumable (tus) uploads; without it the upload
	// routes are not registered.
	Uploads *uploads.Service
	// Playback serves playback ids, tokens, manifests, the origin and
	// licenses; without it those routes are not registered. Geo finds
	// viewers' countries.
	Playback *playback.Service
	Geo      *playback.Geo
	// Billing serves usage, price books, invoices, Stripe and viewer
	// commerce; without it the billing routes are not registered.
	Billing *Billing
	// Catalog serves titles, collections, search and viewer activity;
	// without it those routes are not registered.
	Catalog *catalog.Service
	// Recommendations serves the recommendation routes; without it they
	// are not registered.
	Recommendations *catalog.Recommender
}

// Server is the HTTP API.
type Server struct {
	cfg     Config
	app     *fiber.App
	log     *slog.Logger
	metrics *httpMetrics
	openapi []byte
	// manifestBufs are the manifest renderers' buffers.
	manifestBufs sync.Pool
	reqPrefix    string
	reqSeq       atomic.Uint64
}

// New builds the server and registers every route.
func New(cfg Config) (*Server, error) {
	if cfg.Tenants == nil || cfg.Authz == nil || cfg.Access == nil {
		return nil, errors.New("api: tenants, authz and access are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.APIKeyRequestsPerMinute == 0 {
		cfg.APIKeyRequestsPerMinute = 1200
	}
	s := &Server{cfg: cfg, log: cfg.Log}
	s.app = fiber.New(fiber.Config{
		AppName:   "marquee",
		BodyLimit: 1 << 20,
		// A manifest (a few KB) goes out in one write: with fasthttp's 4 KB
		// default it took two system calls, the largest cost of a manifest
		// request.
		WriteBufferSize:       16 << 10,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           120 * time.Second,
		DisableStartupMessage: true,
		ErrorHandler:          errorHandler(cfg.Log),
		// Parameters are used after the handler returns (logs, metrics), so
		// they must not alias fasthttp's reused buffers.
		Immutable: true,
	})
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.metrics = newHTTPMetrics(reg)

	s.manifestBufs.New = func() any { return new(bytes.Buffer) }
	pfx := make([]byte, 8)
	_, _ = rand.Read(pfx)
	s.reqPrefix = "req_" + hex.EncodeToString(pfx) + "_"
	s.app.Use(s.recoverer, s.requestLog, func(c *fiber.Ctx) error {
		// Browser players read public media answers, refusals included,
		// from other origins.
		if publicMedia(c.Path()) {
			c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
		}
		return c.Next()
	})
	routes := s.routes()
	// One limiter for all routes: a key's budget spans the whole API.
	limit := s.rateLimit()
	for _, r := range routes {
		handlers := []fiber.Handler{}
		switch {
		case r.Node:
			handlers = append(handlers, s.authenticateNode)
		case r.Object != "":
			handlers = append(handlers, s.authenticate, limit, s.authorize(r.Object, r.Action))
		}
		if r.Idempotent && cfg.Idempotency != nil {
			handlers = append(handlers, s.idempotent)
		}
		handlers = append(handlers, r.Handler)
		s.app.Add(r.Method, r.Path, handlers...)
		if r.Method == fiber.MethodGet {
			// As fiber's Get does, and as tus clients need (they resume
			// with HEAD): every GET also answers HEAD.
			s.app.Add(fiber.MethodHead, r.Path, handlers...)
		}
		if r.Object == "" && publicMedia(r.Path) {
			// Players on tenants' own domains call these cross-origin.
			s.app.Add(fiber.MethodOptions, r.Path, corsPreflight)
		}
	}
	s.app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	doc, err := buildOpenAPI(routes)
	if err != nil {
		return nil, err
	}
	s.openapi = doc
	if cfg.Portal != nil {
		s.app.Use("/", filesystem.New(filesystem.Config{
			Root:         http.FS(cfg.Portal),
			Index:        "index.html",
			NotFoundFile: "index.html",
			// No max-age: after an upgrade a browser must not mix cached
			// modules of the old portal with new ones.
			Next: func(c *fiber.Ctx) bool {
				p := c.Path()
				return strings.HasPrefix(p, "/v1/") || p == "/v1" || (c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead)
			},
		}))
	}
	s.app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
	return s, nil
}

// App is the fiber application, for tests that call it in process.
func (s *Server) App() *fiber.App { return s.app }

// Serve answers requests on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.app.Listener(ln) }

// Shutdown stops accepting connections and waits for in-flight requests
// until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.app.ShutdownWithContext(ctx) }

// Locals keys.
const (
	localPrincipal = "principal"
	localTenant    = "tenant"
	localRequestID = "request_id"
)

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestID is the request's id, assigned on first use: errors that fasthttp
// raises before any middleware runs (a body over the limit) get one too.
func requestID(c *fiber.Ctx) string {
	if id, _ := c.Locals(localRequestID).(string); id != "" {
		return id
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return assignRequestID(c, "req_"+hex.EncodeToString(b))
}

// assignRequestID keeps the caller's X-Request-Id when it is sane, else id.
func assignRequestID(c *fiber.Ctx, id string) string {
	if h := c.Get("X-Request-Id"); h != "" && requestIDRE.MatchString(h) {
		id = h
	}
	c.Locals(localRequestID, id)
	c.Set("X-Request-Id", id)
	return id
}

// nextRequestID is a random per-server prefix and a counter: unique without
// a system call per request (ids identify requests, they authenticate
// nothing).
func (s *Server) nextRequestID() string {
	var buf [48]byte
	b := append(buf[:0], s.reqPrefix...)
	return string(strconv.AppendUint(b, s.reqSeq.Add(1), 16))
}

func (s *Server) recoverer(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.ErrorContext(c.UserContext(), "panic", "request_id", requestID(c), "panic", r)
			err = errs.E(errs.Internal, "internal", "something went wrong on our side")
		}
	}()
	return c.Next()
}

// requestLog assigns the request id, then logs and measures the request.
func (s *Server) requestLog(c *fiber.Ctx) error {
	id := assignRequestID(c, s.nextRequestID())
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := s.app.ErrorHandler(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	status := c.Response().StatusCode()
	route := c.Route().Path
	if status == fiber.StatusNotFound && route == "/" {
		route = "unmatched"
	}
	d := time.Since(start)
	s.metrics.observe(c.Method(), route, status, d)
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	if !s.log.Enabled(c.UserContext(), level) {
		return nil
	}
	attrs := []any{"request_id", id, "method", c.Method(), "route", route, "status", status, "duration_ms", float64(d.Microseconds()) / 1000}
	if t, ok := c.Locals(localTenant).(tenants.Tenant); ok {
		attrs = append(attrs, "tenant", t.ID)
	}
	if p, ok := c.Locals(localPrincipal).(tenants.Principal); ok {
		attrs = append(attrs, "principal", p.ID)
	}
	s.log.Log(c.UserContext(), level, "http request", attrs...)
	return nil
}

// authenticate resolves the bearer credential and the acting tenant.
func (s *Server) authenticate(c *fiber.Ctx) error {
	h := c.Get(fiber.HeaderAuthorization)
	scheme, cred, ok := strings.Cut(h, " ")
	if h == "" {
		return errs.E(errs.Unauthenticated, "unauthenticated", "send Authorization: Bearer <session token or API key>")
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(cred) == "" {
		return errs.E(errs.Unauthenticated, "unauthenticated", "the Authorization header must be \"Bearer <credential>\"")
	}
	ctx := c.UserContext()
	p, err := s.cfg.Tenants.Authenticate(ctx, strings.TrimSpace(cred))
	if err != nil {
		return err
	}
	c.Locals(localPrincipal, p)
	t, err := s.cfg.Tenants.Acting(ctx, p, c.Get("Marquee-Tenant"))
	if err != nil {
		return err
	}
	c.Locals(localTenant, t)
	return c.Next()
}

// rateLimit bounds each API key's requests per minute (fixed window); fiber
// sets Retry-After when the limit is reached. Session tokens are for people
// using the portal and are not limited here.
func (s *Server) rateLimit() fiber.Handler {
	return limiter.New(limiter.Config{
		Max:        s.cfg.APIKeyRequestsPerMinute,
		Expiration: time.Minute,
		Next: func(c *fiber.Ctx) bool {
			p, _ := c.Locals(localPrincipal).(tenants.Principal)
			return p.Kind != "api_key"
		},
		KeyGenerator: func(c *fiber.Ctx) string {
			p, _ := c.Locals(localPrincipal).(tenants.Principal)
			return p.ID
		},
		LimitReached: func(c *fiber.Ctx) error {
			if c.Get(fiber.HeaderRetryAfter) == "" {
				c.Set(fiber.HeaderRetryAfter, strconv.Itoa(60))
			}
			return errs.E(errs.RateLimited, "rate_limited", "this API key sent more than %d requests in a minute; retry after %s s", s.cfg.APIKeyRequestsPerMinute, string(c.Response().Header.Peek(fiber.HeaderRetryAfter)))
		},
	})
}

// authorize asks casbin whether the principal's role may do action on
// object in the acting tenant, then OPA whether the tenant's state allows
// it (a suspended tenant may read but not change anything).
func (s *Server) authorize(object, action string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := c.Locals(localPrincipal).(tenants.Principal)
		t := c.Locals(localTenant).(tenants.Tenant)
		ok, err := s.cfg.Authz.Allowed(p.Role, t.ID, object, action)
		if err != nil {
			return err
		}
		if !ok {
			return errs.E(errs.Forbidden, "forbidden", "role %s may not %s %s", p.Role, action, strings.ReplaceAll(object, "_", " "))
		}
		d, err := s.cfg.Access.Decide(c.UserContext(), policies.AccessRequest{
			TenantKind: string(t.Kind), TenantStatus: string(t.Status), Object: object, Action: action,
		})
		if err != nil {
			return err
		}
		if !d.Allow {
			return errs.E(errs.Forbidden, d.Code, "%s", d.Reason)
		}
		return c.Next()
	}
}

func principal(c *fiber.Ctx) tenants.Principal {
	return c.Locals(localPrincipal).(tenants.Principal)
}

func acting(c *fiber.Ctx) tenants.Tenant {
	return c.Locals(localTenant).(tenants.Tenant)
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "marquee_http_requests_total", Help: "HTTP requests by route and status."}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "marquee_http_request_duration_seconds", Help: "HTTP request latency by route.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

func (m *httpMetrics) observe(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(d.Seconds())
}

// publicMedia reports whether a route is one a browser player calls from
// another origin: manifests, steering, licenses and the origin.
func publicMedia(path string) bool {
	for _, p := range []string{"/play/", "/license/", "/t/", "/stream/"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

func corsPreflight(c *fiber.Ctx) error {
	c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
	c.Set(fiber.HeaderAccessControlAllowMethods, "GET, HEAD, POST, OPTIONS")
	c.Set(fiber.HeaderAccessControlAllowHeaders, "Content-Type, Range")
	c.Set(fiber.HeaderAccessControlMaxAge, "86400")
	return c.SendStatus(fiber.StatusNoContent)
}
