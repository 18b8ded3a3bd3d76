package webhooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marquee-video/marquee/controlplane/webhooks"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/db/dbtest"
	"github.com/marquee-video/marquee/internal/errs"
)

func TestDispatchSigned(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		tenant := newTenants(t, d, 1)[0]
		svc, store := newService(d)
		rcv := newReceiver(t, always(http.StatusNoContent))
		e, secret, err := svc.CreateEndpoint(ctx, tenant, webhooks.CreateEndpointInput{URL: rcv.srv.URL + "/hook", Events: webhooks.KnownEvents()})
		if err != nil {
			t.Fatal(err)
		}
		emit(t, d, svc, tenant, webhooks.EventAssetCreated, asset{ID: "ast_1", Status: "waiting"})
		startDispatcher(t, store, webhooks.DispatcherConfig{Allow: loopback})

		ds := settled(t, svc, tenant, e.ID, 1)
		dl := ds[0]
		if dl.Status != webhooks.StatusDelivered || dl.Attempts != 1 || dl.DeliveredAt == nil || dl.NextAttemptAt != nil {
			t.Fatalf("delivery %+v", dl)
		}
		if len(dl.AttemptLog) != 1 || dl.AttemptLog[0].N != 1 || dl.AttemptLog[0].StatusCode != http.StatusNoContent || dl.AttemptLog[0].Error != "" {
			t.Fatalf("attempts %+v", dl.AttemptLog)
		}
		reqs := rcv.requests()
		if len(reqs) != 1 {
			t.Fatalf("receiver got %d requests", len(reqs))
		}
		r := reqs[0]
		if r.header.Get("Content-Type") != "application/json" || r.header.Get("Marquee-Event") != webhooks.EventAssetCreated ||
			r.header.Get("Marquee-Delivery") != dl.ID {
			t.Fatalf("headers %v", r.header)
		}
		if string(r.body) != string(dl.Payload) {
			t.Fatalf("body %s, payload %s", r.body, dl.Payload)
		}
		var ev webhooks.Event
		if err := json.Unmarshal(r.body, &ev); err != nil || ev.Type != webhooks.EventAssetCreated || ev.TenantID != tenant || !strings.Contains(string(ev.Data), "ast_1") {
			t.Fatalf("body %s: %v", r.body, err)
		}

		sig := r.header.Get("Marquee-Signature")
		if err := webhooks.VerifySignature(secret, sig, r.body, time.Now(), 5*time.Minute); err != nil {
			t.Fatalf("VerifySignature(%s): %v", sig, err)
		}
		tampered := []byte(strings.Replace(string(r.body), "ast_1", "ast_2", 1))
		if err := webhooks.VerifySignature(secret, sig, tampered, time.Now(), 5*time.Minute); errs.CodeOf(err) != "invalid_signature" {
			t.Fatalf("VerifySignature(tampered body) = %v", err)
		}
		if err := webhooks.VerifySignature(secret+"x", sig, r.body, time.Now(), 5*time.Minute); errs.CodeOf(err) != "invalid_signature" {
			t.Fatalf("VerifySignature(wrong secret) = %v", err)
		}
	})
}

// A receiver that fails twice, then answers 200: three attempts, each with
// its status code, and the delivery delivered.
func TestDispatchRetries(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		tenant := newTenants(t, d, 1)[0]
		svc, store := newService(d)
		codes := []int{http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusOK}
		rcv := newReceiver(t, func(n int) int { return codes[min(n, len(codes))-1] })
		e, secret, err := svc.CreateEndpoint(ctx, tenant, webhooks.CreateEndpointInput{URL: rcv.srv.URL, Events: []string{webhooks.EventAssetReady}})
		if err != nil {
			t.Fatal(err)
		}
		emit(t, d, svc, tenant, webhooks.EventAssetReady, asset{ID: "ast_1", Status: "ready"})
		var (
			mu       sync.Mutex
			backoffs []int
		)
		startDispatcher(t, store, webhooks.DispatcherConfig{Allow: loopback, Backoff: func(n int) time.Duration {
			mu.Lock()
			defer mu.Unlock()
			backoffs = append(backoffs, n)
			return time.Millisecond
		}})

		dl := settled(t, svc, tenant, e.ID, 1)[0]
		if dl.Status != webhooks.StatusDelivered || dl.Attempts != 3 || dl.DeliveredAt == nil {
			t.Fatalf("delivery %+v", dl)
		}
		var got []int
		for i, a := range dl.AttemptLog {
			if a.N != i+1 || a.Error != "" || a.At.IsZero() || a.DurationMS < 0 {
				t.Fatalf("attempt %+v", a)
			}
			got = append(got, a.StatusCode)
		}
		if !slices.Equal(got, codes) {
			t.Fatalf("attempt status codes %v, want %v", got, codes)
		}
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(backoffs, []int{1, 2}) {
			t.Fatalf("backoff asked for %v, want [1 2]", backoffs)
		}
		// Every retry carries the same delivery id and body, freshly signed.
		reqs := rcv.requests()
		for _, r := range reqs {
			if r.header.Get("Marquee-Delivery") != dl.ID || string(r.body) != string(reqs[0].body) {
				t.Fatalf("retry differs: %v %s", r.header, r.body)
			}
			if err := webhooks.VerifySignature(secret, r.header.Get("Marquee-Signature"), r.body, time.Now(), time.Minute); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestDispatchGivesUp(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		tenant := newTenants(t, d, 1)[0]
		svc, store := newService(d)
		rcv := newReceiver(t, always(http.StatusInternalServerError))
		e, _, err := svc.CreateEndpoint(ctx, tenant, webhooks.CreateEndpointInput{URL: rcv.srv.URL, Events: []string{webhooks.EventAssetErrored}})
		if err != nil {
			t.Fatal(err)
		}
		emit(t, d, svc, tenant, webhooks.EventAssetErrored, asset{ID: "ast_1", Status: "errored"})
		startDispatcher(t, store, webhooks.DispatcherConfig{Allow: loopback, MaxAttempts: 3})

		dl := settled(t, svc, tenant, e.ID, 1)[0]
		if dl.Status != webhooks.StatusFailed || dl.Attempts != 3 || len(dl.AttemptLog) != 3 || dl.DeliveredAt != nil || dl.NextAttemptAt != nil {
			t.Fatalf("delivery %+v", dl)
		}
		for _, a := range dl.AttemptLog {
			if a.StatusCode != http.StatusInternalServerError {
				t.Fatalf("attempt %+v", a)
			}
		}
		if n := len(rcv.requests()); n != 3 {
			t.Fatalf("receiver got %d requests, want 3", n)
		}
	})
}

// Endpoints on addresses the dispatcher's policy forbids are never
// connected to, whether the URL names the address or a host name that
// resolves to it; each attempt records why, without the address.
func TestDispatchForbiddenAddress(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		tenant := newTenants(t, d, 1)[0]
		svc, store := newService(d) // the API accepted loopback…
		rcv := newReceiver(t, always(http.StatusOK))
		_, port, _ := net.SplitHostPort(rcv.srv.Listener.Addr().String())
		var endpoints []string
		for _, u := range []string{rcv.srv.URL, "https://localhost:" + port + "/hook"} {
			e, _, err := svc.CreateEndpoint(ctx, tenant, webhooks.CreateEndpointInput{URL: u, Events: []string{webhooks.EventAssetReady}})
			if err != nil {
				t.Fatalf("CreateEndpoint(%s): %v", u, err)
			}
			endpoints = append(endpoints, e.ID)
		}
		emit(t, d, svc, tenant, webhooks.EventAssetReady, asset{ID: "ast_1"})
		startDispatcher(t, store, webhooks.DispatcherConfig{MaxAttempts: 2}) // …the dispatcher does not

		for _, id := range endpoints {
			dl := settled(t, svc, tenant, id, 1)[0]
			if dl.Status != webhooks.StatusFailed || len(dl.AttemptLog) != 2 {
				t.Fatalf("delivery %+v", dl)
			}
			for _, a := range dl.AttemptLog {
				if a.StatusCode != 0 || !strings.HasPrefix(a.Error, "forbidden_address:") || strings.Contains(a.Error, "127.0.0.1") {
					t.Fatalf("attempt %+v", a)
				}
			}
		}
		if n := rcv.connections(); n != 0 {
			t.Fatalf("the receiver saw %d connections", n)
		}
	})
}

// A redirect is an answer, not an instruction: recorded, not followed.
func TestDispatchDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		tenant := newTenants(t, d, 1)[0]
		svc, store := newService(d)
		target := newReceiver(t, always(http.StatusOK))
		redirect := httptest.NewServer(http.RedirectHandler(target.srv.URL, http.StatusTemporaryRedirect))
		t.Cleanup(redirect.Close)
		e, _, err := svc.CreateEndpoint(ctx, tenant, webhooks.CreateEndpointInput{URL: redirect.URL, Events: []string{webhooks.EventAssetReady}})
		if err != nil {
			t.Fatal(err)
		}
		emit(t, d, svc, tenant, webhooks.EventAssetReady, asset{ID: "ast_1"})
		startDispatcher(t, store, webhooks.DispatcherConfig{Allow: loopback, MaxAttempts: 1})
		dl := settled(t, svc, tenant, e.ID, 1)[0]
		if dl.Status != webhooks.StatusFailed || dl.AttemptLog[0].StatusCode != http.StatusTemporaryRedirect || dl.AttemptLog[0].Error == "" {
			t.Fatalf("delivery %+v", dl)
		}
		if target.connections() != 0 {
			t.Fatal("the redirect was followed")
		}
	})
}

// Two dispatchers on one database (two control-plane processes) send every
// delivery exactly once between them.
func TestTwoDispatchersNeverSendTwice(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		tenants := newTenants(t, d, 2)
		svc, store := newService(d)
		rcv := newReceiver(t, always(http.StatusOK))
		const events = 15
		for _, tenant := range tenants {
			for range 2 {
				if _, _, err := svc.CreateEndpoint(ctx, tenant, webhooks.CreateEndpointInput{URL: rcv.srv.URL, Events: webhooks.KnownEvents()}); err != nil {
					t.Fatal(err)
				}
			}
			for i := range events {
				emit(t, d, svc, tenant, webhooks.EventAssetCreated, asset{ID: fmt.Sprint(i)})
			}
		}
		want := len(tenants) * 2 * events
		for range 2 {
			startDispatcher(t, store, webhooks.DispatcherConfig{Allow: loopback, Batch: 4, PollInterval: time.Millisecond})
		}
		waitFor(t, "every delivery", func() bool { return len(rcv.requests()) >= want })
		for _, tenant := range tenants {
			settled(t, svc, tenant, "", want/len(tenants))
		}
		seen := map[string]int{}
		for _, r := range rcv.requests() {
			seen[r.header.Get("Marquee-Delivery")]++
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("delivery %s sent %d times", id, n)
			}
		}
		if len(seen) != want {
			t.Fatalf("%d distinct deliveries, want %d", len(seen), want)
		}
	})
}
