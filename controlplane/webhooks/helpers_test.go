package webhooks_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/marquee-video/marquee/controlplane/webhooks"
	"github.com/marquee-video/marquee/controlplane/webhooks/sqlstore"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/ids"
	"github.com/marquee-video/marquee/internal/netguard"
)

// loopback is the allow list tests run with: receivers are httptest
// servers on 127.0.0.1.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// tinyBackoff keeps retries within a test's patience.
func tinyBackoff(int) time.Duration { return time.Millisecond }

// newTenants writes a platform root and n creators under it, returning the
// creators' ids.
func newTenants(t *testing.T, d *db.DB, n int) []string {
	t.Helper()
	root := ids.New(ids.Tenant)
	at := time.Now().UTC()
	var out []string
	err := d.System(context.Background(), func(tx *db.Tx) error {
		const insert = `INSERT INTO tenants (id, parent_id, path, slug, name, kind, status, plan, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 'active', 'free', ?, ?)`
		if err := tx.Exec(insert, root, nil, "/"+root+"/", "platform", "Platform", "platform", at, at).Error; err != nil {
			return err
		}
		for range n {
			id := ids.New(ids.Tenant)
			if err := tx.Exec(insert, id, root, "/"+root+"/"+id+"/", id, "Creator", "creator", at, at).Error; err != nil {
				return err
			}
			out = append(out, id)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("tenants: %v", err)
	}
	return out
}

func newService(d *db.DB) (*webhooks.Service, *sqlstore.Store) {
	s := sqlstore.New(d)
	return webhooks.NewService(s, netguard.Policy{Allow: loopback}), s
}

// startDispatcher runs a dispatcher until the test ends.
func startDispatcher(t *testing.T, s webhooks.Store, cfg webhooks.DispatcherConfig) {
	t.Helper()
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 10 * time.Millisecond
	}
	if cfg.Backoff == nil {
		cfg.Backoff = tinyBackoff
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- webhooks.NewDispatcher(s, cfg).Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// received is one request a receiver got.
type received struct {
	header http.Header
	body   []byte
}

// receiver is a webhook endpoint on 127.0.0.1 that answers the nth request
// (1-based) with status(n), and counts connections, so a test can tell a
// refused request from one never attempted.
type receiver struct {
	srv    *httptest.Server
	status func(n int) int

	mu    sync.Mutex
	reqs  []received
	conns int
}

func newReceiver(t *testing.T, status func(n int) int) *receiver {
	r := &receiver{status: status}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, received{header: req.Header.Clone(), body: body})
		n := len(r.reqs)
		r.mu.Unlock()
		w.WriteHeader(r.status(n))
	}))
	r.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			r.mu.Lock()
			r.conns++
			r.mu.Unlock()
		}
	}
	r.srv.Start()
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.reqs...)
}

func (r *receiver) connections() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.conns
}

func always(code int) func(int) int { return func(int) int { return code } }

// waitFor polls cond until it holds or 15 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settled waits until the endpoint's deliveries are all delivered or
// failed, and returns them.
func settled(t *testing.T, svc *webhooks.Service, tenant, endpoint string, want int) []webhooks.Delivery {
	t.Helper()
	var ds []webhooks.Delivery
	waitFor(t, "deliveries to settle", func() bool {
		var err error
		ds, err = svc.Deliveries(context.Background(), tenant, endpoint, 100, "")
		if err != nil {
			t.Fatalf("Deliveries: %v", err)
		}
		if len(ds) != want {
			return false
		}
		for _, d := range ds {
			if d.Status == webhooks.StatusPending {
				return false
			}
		}
		return true
	})
	return ds
}

func emit(t *testing.T, d *db.DB, svc *webhooks.Service, tenant, event string, data any) {
	t.Helper()
	if err := d.Tx(context.Background(), tenant, func(tx *db.Tx) error { return svc.EmitTx(tx, tenant, event, data) }); err != nil {
		t.Fatalf("EmitTx: %v", err)
	}
}
