// Package cptest starts a real control plane in process for tests: on a
// fresh PostgreSQL database or embedded SQLite file, an embedded Redis, a
// random port and a temporary data directory, with a small HTTP client for
// the JSON API.
package cptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marquee-video/marquee/controlplane"
	"github.com/marquee-video/marquee/internal/db/dbtest"
	"github.com/marquee-video/marquee/tenants"
)

// Server is a running control plane.
type Server struct {
	URL string
	// DataDir holds its embedded database, objects (DataDir/objects) and
	// keys.
	DataDir string
	App     *controlplane.App
	Client  *http.Client
	n       atomic.Int64
}

// Options adjust the server.
type Options struct {
	Postgres                bool
	APIKeyRequestsPerMinute int
	Resolver                tenants.TXTResolver
	SessionTTL              time.Duration
	// QueuedLease and RelayInterval tune the outbox relay; WebhookAllow lets
	// webhooks reach receivers on loopback.
	QueuedLease   time.Duration
	RelayInterval time.Duration
	WebhookAllow  []netip.Prefix
	// WebhookBackoff shortens webhook retries.
	WebhookBackoff func(n int) time.Duration
	// UploadMaxBytes lowers the hard maximum of a direct upload.
	UploadMaxBytes int64
	// Billing configures Stripe (stripe-mock), dunning and entitlements.
	Billing controlplane.BillingConfig
}

// Each runs fn against a server on PostgreSQL and one on SQLite.
func Each(t *testing.T, opts Options, fn func(t *testing.T, s *Server)) {
	t.Helper()
	for _, pg := range []bool{true, false} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			o := opts
			o.Postgres = pg
			fn(t, Start(t, o))
		})
	}
}

// Start starts a server that stops when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	cfg := controlplane.Config{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), Migrate: true,
		SessionSecret:           bytes.Repeat([]byte{7}, 32),
		SessionTTL:              opts.SessionTTL,
		APIKeyRequestsPerMinute: opts.APIKeyRequestsPerMinute,
		Resolver:                opts.Resolver,
		QueuedLease:             opts.QueuedLease,
		RelayInterval:           opts.RelayInterval,
		WebhookAllowCIDRs:       opts.WebhookAllow,
		WebhookPollInterval:     100 * time.Millisecond,
		WebhookBackoff:          opts.WebhookBackoff,
		UploadMaxBytes:          opts.UploadMaxBytes,
		Billing:                 opts.Billing,
	}
	if opts.Postgres {
		cfg.DatabaseURL = dbtest.NewPostgresDatabase(t)
	}
	ctx, cancel := context.WithCancel(context.Background())
	app, err := controlplane.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("cptest: start control plane: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Logf("cptest: serve: %v", err)
		}
	})
	return &Server{URL: app.URL(), DataDir: cfg.DataDir, App: app, Client: &http.Client{Timeout: 30 * time.Second}}
}

// Response is a decoded API response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as an object.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("cptest: body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// Str is a string field of the JSON body.
func (r Response) Str(t testing.TB, key string) string {
	t.Helper()
	v, _ := r.JSON(t)[key].(string)
	return v
}

// Request is one API call.
type Request struct {
	Method string
	Path   string
	Token  string
	// Tenant is sent as Marquee-Tenant.
	Tenant string
	// Body is sent as JSON unless it is []byte or string (sent raw).
	Body        any
	ContentType string
	Header      map[string]string
}

// Do sends r and returns the response.
func (s *Server) Do(t testing.TB, r Request) Response {
	t.Helper()
	var body io.Reader
	ct := r.ContentType
	switch b := r.Body.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(b)
	case string:
		body = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(j)
		if ct == "" {
			ct = "application/json"
		}
	}
	req, err := http.NewRequest(r.Method, s.URL+r.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	if r.Tenant != "" {
		req.Header.Set("Marquee-Tenant", r.Tenant)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	res, err := s.Client.Do(req)
	if err != nil {
		t.Fatalf("cptest: %s %s: %v", r.Method, r.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// Must sends r and fails the test unless the status is want.
func (s *Server) Must(t testing.TB, want int, r Request) Response {
	t.Helper()
	res := s.Do(t, r)
	if res.Status != want {
		t.Fatalf("cptest: %s %s: status %d, want %d: %s", r.Method, r.Path, res.Status, want, res.Body)
	}
	return res
}

// Account is a signed-up creator.
type Account struct {
	Email    string
	Password string
	Token    string
	TenantID string
	Slug     string
}

// Signup creates a creator tenant with a unique email.
func (s *Server) Signup(t testing.TB, name string) Account {
	t.Helper()
	a := Account{Email: fmt.Sprintf("user%d-%d@example.com", s.n.Add(1), time.Now().UnixNano()), Password: "correct horse battery staple"}
	res := s.Must(t, 201, Request{Method: "POST", Path: "/v1/signup", Body: map[string]string{"email": a.Email, "password": a.Password, "name": name}})
	m := res.JSON(t)
	a.Token = m["token"].(string)
	ten := m["tenant"].(map[string]any)
	a.TenantID, a.Slug = ten["id"].(string), ten["slug"].(string)
	return a
}

// PlatformOwner creates a user in the platform root with role and returns a
// session token for it.
func (s *Server) PlatformOwner(t testing.TB, role string) (token, rootID string) {
	t.Helper()
	ctx := context.Background()
	root, err := s.App.Tenants().Root(ctx)
	if err != nil {
		t.Fatal(err)
	}
	email := fmt.Sprintf("ops%d-%d@example.com", s.n.Add(1), time.Now().UnixNano())
	if _, err := s.App.Tenants().CreateUser(ctx, tenants.CreateUserInput{Email: email, Password: "correct horse battery staple", TenantID: root.ID, Role: role}); err != nil {
		t.Fatal(err)
	}
	res := s.Must(t, 200, Request{Method: "POST", Path: "/v1/login", Body: map[string]string{"email": email, "password": "correct horse battery staple"}})
	return res.Str(t, "token"), root.ID
}

// CreateTenant creates a child of the token's acting tenant (or of asTenant).
func (s *Server) CreateTenant(t testing.TB, token, asTenant, name, kind string) string {
	t.Helper()
	res := s.Must(t, 201, Request{Method: "POST", Path: "/v1/tenants", Token: token, Tenant: asTenant, Body: map[string]string{"name": name, "kind": kind}})
	return res.Str(t, "id")
}
