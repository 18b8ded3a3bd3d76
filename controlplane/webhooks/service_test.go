package webhooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marquee-video/marquee/controlplane/webhooks"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/db/dbtest"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/ids"
	"github.com/marquee-video/marquee/internal/netguard"
)

func TestCreateEndpointInputValidate(t *testing.T) {
	all := webhooks.KnownEvents()
	ready := []string{webhooks.EventAssetReady}
	withLoopback := netguard.Policy{Allow: loopback}
	tests := []struct {
		name      string
		policy    netguard.Policy
		in        webhooks.CreateEndpointInput
		wantField string // "" for valid
	}{
		{name: "https", in: webhooks.CreateEndpointInput{URL: "https://hooks.example.com/marquee", Events: all}},
		{name: "https with port and query", in: webhooks.CreateEndpointInput{URL: " https://hooks.example.com:8443/m?x=1 ", Events: ready}},
		{name: "https to a public address", in: webhooks.CreateEndpointInput{URL: "https://8.8.8.8/hook", Events: ready}},
		{name: "http to an allowed address", policy: withLoopback, in: webhooks.CreateEndpointInput{URL: "http://127.0.0.1:8080/hook", Events: ready}},
		{name: "repeated events", in: webhooks.CreateEndpointInput{URL: "https://example.com/", Events: []string{"asset.ready", "asset.ready"}}},
		{name: "http to the internet", in: webhooks.CreateEndpointInput{URL: "http://hooks.example.com/", Events: ready}, wantField: "url"},
		{name: "http to a public address", policy: withLoopback, in: webhooks.CreateEndpointInput{URL: "http://8.8.8.8/", Events: ready}, wantField: "url"},
		{name: "http to loopback not allowed", in: webhooks.CreateEndpointInput{URL: "http://127.0.0.1:8080/", Events: ready}, wantField: "url"},
		{name: "http to an allowed name", policy: withLoopback, in: webhooks.CreateEndpointInput{URL: "http://localhost:8080/", Events: ready}, wantField: "url"},
		{name: "https to loopback not allowed", in: webhooks.CreateEndpointInput{URL: "https://127.0.0.1/", Events: ready}, wantField: "url"},
		{name: "private", in: webhooks.CreateEndpointInput{URL: "https://10.0.0.1/", Events: ready}, wantField: "url"},
		{name: "metadata, mapped", policy: withLoopback, in: webhooks.CreateEndpointInput{URL: "https://[::ffff:169.254.169.254]/", Events: ready}, wantField: "url"},
		{name: "link-local with zone", in: webhooks.CreateEndpointInput{URL: "https://[fe80::1%25eth0]/", Events: ready}, wantField: "url"},
		{name: "empty url", in: webhooks.CreateEndpointInput{Events: ready}, wantField: "url"},
		{name: "relative", in: webhooks.CreateEndpointInput{URL: "/hook", Events: ready}, wantField: "url"},
		{name: "ftp", in: webhooks.CreateEndpointInput{URL: "ftp://example.com/", Events: ready}, wantField: "url"},
		{name: "opaque", in: webhooks.CreateEndpointInput{URL: "https:example.com", Events: ready}, wantField: "url"},
		{name: "credentials", in: webhooks.CreateEndpointInput{URL: "https://user:pass@example.com/", Events: ready}, wantField: "url"},
		{name: "bad port", in: webhooks.CreateEndpointInput{URL: "https://example.com:99999/", Events: ready}, wantField: "url"},
		{name: "unparsable", in: webhooks.CreateEndpointInput{URL: "https://%zz/", Events: ready}, wantField: "url"},
		{name: "too long", in: webhooks.CreateEndpointInput{URL: "https://example.com/" + strings.Repeat("a", webhooks.MaxURLLength), Events: ready}, wantField: "url"},
		{name: "no events", in: webhooks.CreateEndpointInput{URL: "https://example.com/"}, wantField: "events"},
		{name: "unknown event", in: webhooks.CreateEndpointInput{URL: "https://example.com/", Events: []string{"asset.ready", "asset.deleted"}}, wantField: "events"},
		{name: "wildcard is not an event", in: webhooks.CreateEndpointInput{URL: "https://example.com/", Events: []string{"*"}}, wantField: "events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.in.Validate(tt.policy)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			e := errs.As(err)
			if e == nil || e.Kind != errs.Invalid || e.Field != tt.wantField {
				t.Fatalf("Validate = %v, want Invalid on field %s", err, tt.wantField)
			}
		})
	}
}

func TestEndpoints(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		tenant := newTenants(t, d, 1)[0]
		svc, _ := newService(d)

		e, secret, err := svc.CreateEndpoint(ctx, tenant, webhooks.CreateEndpointInput{
			URL: " https://hooks.example.com/marquee ", Events: []string{"asset.ready", "asset.errored", "asset.ready"},
		})
		if err != nil {
			t.Fatalf("CreateEndpoint: %v", err)
		}
		if !ids.Valid(webhooks.PrefixEndpoint, e.ID) || !strings.HasPrefix(secret, webhooks.SecretPrefix) || len(secret) < 32 {
			t.Fatalf("endpoint %s, secret %q", e.ID, secret)
		}
		if e.URL != "https://hooks.example.com/marquee" || !slices.Equal(e.Events, []string{"asset.ready", "asset.errored"}) {
			t.Fatalf("endpoint not normalized: %+v", e)
		}
		_, secret2, err := svc.CreateEndpoint(ctx, tenant, webhooks.CreateEndpointInput{URL: "http://127.0.0.1:9/x", Events: []string{"asset.created"}})
		if err != nil {
			t.Fatalf("CreateEndpoint on loopback: %v", err)
		}
		if secret2 == secret {
			t.Fatal("two endpoints share a secret")
		}

		list, err := svc.Endpoints(ctx, tenant)
		if err != nil || len(list) != 2 || list[0].ID != e.ID || !list[0].CreatedAt.Equal(e.CreatedAt) {
			t.Fatalf("Endpoints = %+v, %v", list, err)
		}
		if b, _ := json.Marshal(list); strings.Contains(string(b), secret) || strings.Contains(string(b), "secret") {
			t.Fatalf("listing shows the secret: %s", b)
		}

		_, _, err = svc.CreateEndpoint(ctx, tenant, webhooks.CreateEndpointInput{URL: "http://example.com/", Events: []string{"asset.ready"}})
		if !errs.Is(err, errs.Invalid) {
			t.Fatalf("CreateEndpoint(http) = %v, want Invalid", err)
		}

		if err := svc.DeleteEndpoint(ctx, tenant, e.ID); err != nil {
			t.Fatalf("DeleteEndpoint: %v", err)
		}
		for _, id := range []string{e.ID, "whe_nonsense", ""} {
			if err := svc.DeleteEndpoint(ctx, tenant, id); !errs.Is(err, errs.NotFound) {
				t.Fatalf("DeleteEndpoint(%q) = %v, want NotFound", id, err)
			}
		}
		if list, _ := svc.Endpoints(ctx, tenant); len(list) != 1 {
			t.Fatalf("after delete: %+v", list)
		}
	})
}

func TestEndpointLimit(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ts := newTenants(t, d, 2)
		svc, _ := newService(d)
		in := webhooks.CreateEndpointInput{URL: "https://example.com/hook", Events: []string{"asset.ready"}}
		for i := range webhooks.MaxEndpoints {
			if _, _, err := svc.CreateEndpoint(ctx, ts[0], in); err != nil {
				t.Fatalf("endpoint %d: %v", i+1, err)
			}
		}
		_, _, err := svc.CreateEndpoint(ctx, ts[0], in)
		if errs.CodeOf(err) != "too_many_endpoints" || errs.KindOf(err).Status() != 409 {
			t.Fatalf("endpoint %d = %v, want 409 too_many_endpoints", webhooks.MaxEndpoints+1, err)
		}
		// The limit is per tenant.
		if _, _, err := svc.CreateEndpoint(ctx, ts[1], in); err != nil {
			t.Fatalf("other tenant: %v", err)
		}
	})
}

// asset stands for what the assets domain passes as an event's data.
type asset struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

func TestEmitTx(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		tenant := newTenants(t, d, 1)[0]
		svc, _ := newService(d)
		create := func(events ...string) webhooks.Endpoint {
			e, _, err := svc.CreateEndpoint(ctx, tenant, webhooks.CreateEndpointInput{URL: "https://example.com/" + strings.Join(events, "+"), Events: events})
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
		readyOnly := create("asset.ready")
		createdOnly := create("asset.created")
		both := create("asset.ready", "asset.errored")

		// Rolled back: the change did not happen, so neither did its event.
		boom := errors.New("the asset change failed")
		err := d.Tx(ctx, tenant, func(tx *db.Tx) error {
			if err := svc.EmitTx(tx, tenant, webhooks.EventAssetReady, asset{ID: "ast_1", Status: "ready"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx = %v", err)
		}
		if ds, err := svc.Deliveries(ctx, tenant, "", 100, ""); err != nil || len(ds) != 0 {
			t.Fatalf("after rollback: %d deliveries, %v", len(ds), err)
		}

		data := asset{ID: "ast_2", Status: "ready"}
		emit(t, d, svc, tenant, webhooks.EventAssetReady, data)
		ds, err := svc.Deliveries(ctx, tenant, "", 100, "")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, dl := range ds {
			got = append(got, dl.EndpointID)
		}
		slices.Sort(got)
		want := []string{readyOnly.ID, both.ID}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("deliveries to %v, want %v (not %s)", got, want, createdOnly.ID)
		}
		var eventIDs []string
		for _, dl := range ds {
			if !ids.Valid(webhooks.PrefixDelivery, dl.ID) || dl.Status != webhooks.StatusPending || dl.Attempts != 0 ||
				dl.NextAttemptAt == nil || dl.DeliveredAt != nil || len(dl.AttemptLog) != 0 || dl.EventType != webhooks.EventAssetReady {
				t.Fatalf("delivery %+v", dl)
			}
			var ev webhooks.Event
			if err := json.Unmarshal(dl.Payload, &ev); err != nil {
				t.Fatalf("payload %s: %v", dl.Payload, err)
			}
			var gotData asset
			_ = json.Unmarshal(ev.Data, &gotData)
			if !ids.Valid(webhooks.PrefixEvent, ev.ID) || ev.Type != webhooks.EventAssetReady || ev.TenantID != tenant ||
				gotData != data || time.Since(ev.CreatedAt) > time.Minute || ev.CreatedAt.Location() != time.UTC {
				t.Fatalf("payload %s", dl.Payload)
			}
			eventIDs = append(eventIDs, ev.ID)
		}
		if eventIDs[0] != eventIDs[1] {
			t.Fatalf("one event, two ids: %v", eventIDs)
		}

		// The relay fails assets in System transactions; events still land
		// on the right tenant.
		if err := d.System(ctx, func(tx *db.Tx) error {
			return svc.EmitTx(tx, tenant, webhooks.EventAssetErrored, asset{ID: "ast_3", Status: "errored"})
		}); err != nil {
			t.Fatal(err)
		}
		if ds, _ := svc.Deliveries(ctx, tenant, both.ID, 100, ""); len(ds) != 2 {
			t.Fatalf("endpoint subscribed to both: %d deliveries", len(ds))
		}
		if ds, _ := svc.Deliveries(ctx, tenant, createdOnly.ID, 100, ""); len(ds) != 0 {
			t.Fatalf("endpoint subscribed to asset.created only: %d deliveries", len(ds))
		}

		err = d.Tx(ctx, tenant, func(tx *db.Tx) error { return svc.EmitTx(tx, tenant, "asset.deleted", data) })
		if err == nil {
			t.Fatal("EmitTx of an unknown event succeeded")
		}

		// Deleting an endpoint removes its deliveries.
		if err := svc.DeleteEndpoint(ctx, tenant, both.ID); err != nil {
			t.Fatal(err)
		}
		if ds, _ := svc.Deliveries(ctx, tenant, "", 100, ""); len(ds) != 1 || ds[0].EndpointID != readyOnly.ID {
			t.Fatalf("after deleting an endpoint: %+v", ds)
		}
	})
}

func TestDeliveriesPages(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		tenant := newTenants(t, d, 1)[0]
		svc, _ := newService(d)
		if _, _, err := svc.CreateEndpoint(ctx, tenant, webhooks.CreateEndpointInput{URL: "https://example.com/", Events: webhooks.KnownEvents()}); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			emit(t, d, svc, tenant, webhooks.EventAssetCreated, asset{ID: fmt.Sprint(i)})
		}
		var seen []string
		after := ""
		for page := 0; ; page++ {
			ds, err := svc.Deliveries(ctx, tenant, "", 2, after)
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) == 0 {
				break
			}
			if page > 3 || len(ds) > 2 {
				t.Fatalf("page %d has %d deliveries", page, len(ds))
			}
			for _, dl := range ds {
				seen = append(seen, dl.ID)
			}
			after = ds[len(ds)-1].ID
		}
		if len(seen) != 5 || !slices.IsSorted(seen) {
			t.Fatalf("paged through %v", seen)
		}
		if _, err := svc.Deliveries(ctx, tenant, "", 2, "not-an-id"); !errs.Is(err, errs.Invalid) {
			t.Fatalf("bad cursor: %v", err)
		}
		if _, err := svc.Deliveries(ctx, tenant, "whe_x", 2, ""); !errs.Is(err, errs.NotFound) {
			t.Fatalf("bad endpoint id: %v", err)
		}
	})
}

// Tenant B can neither see nor touch A's endpoints and deliveries, and its
// events never reach A's endpoints.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ts := newTenants(t, d, 2)
		a, b := ts[0], ts[1]
		svc, _ := newService(d)
		ea, _, err := svc.CreateEndpoint(ctx, a, webhooks.CreateEndpointInput{URL: "https://a.example.com/", Events: webhooks.KnownEvents()})
		if err != nil {
			t.Fatal(err)
		}
		emit(t, d, svc, a, webhooks.EventAssetReady, asset{ID: "ast_a"})
		emit(t, d, svc, b, webhooks.EventAssetReady, asset{ID: "ast_b"})

		if list, err := svc.Endpoints(ctx, b); err != nil || len(list) != 0 {
			t.Fatalf("B lists %+v, %v", list, err)
		}
		if err := svc.DeleteEndpoint(ctx, b, ea.ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("B deletes A's endpoint: %v", err)
		}
		if _, err := svc.Deliveries(ctx, b, ea.ID, 10, ""); !errs.Is(err, errs.NotFound) {
			t.Fatalf("B lists A's endpoint's deliveries: %v", err)
		}
		if ds, err := svc.Deliveries(ctx, b, "", 10, ""); err != nil || len(ds) != 0 {
			t.Fatalf("B's deliveries: %+v, %v", ds, err)
		}
		// A's endpoint is intact, and got A's event only.
		if list, _ := svc.Endpoints(ctx, a); len(list) != 1 {
			t.Fatalf("A's endpoints: %+v", list)
		}
		ds, err := svc.Deliveries(ctx, a, ea.ID, 10, "")
		if err != nil || len(ds) != 1 || !strings.Contains(string(ds[0].Payload), "ast_a") {
			t.Fatalf("A's deliveries: %+v, %v", ds, err)
		}
	})
}

func TestDefaultBackoff(t *testing.T) {
	for n := 1; n <= 30; n++ {
		ceiling := 6 * time.Hour
		if n <= 10 {
			ceiling = min(30*time.Second<<(n-1), ceiling)
		}
		var lo, hi time.Duration = ceiling, 0
		for range 200 {
			d := webhooks.DefaultBackoff(n)
			if d <= 0 || d > ceiling {
				t.Fatalf("DefaultBackoff(%d) = %s, want in (0, %s]", n, d, ceiling)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		if hi-lo < ceiling/4 {
			t.Fatalf("DefaultBackoff(%d) spans only %s..%s: no jitter", n, lo, hi)
		}
	}
}
