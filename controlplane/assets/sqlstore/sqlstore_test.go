package sqlstore_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/marquee-video/marquee/controlplane/assets"
	"github.com/marquee-video/marquee/controlplane/assets/sqlstore"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/db/dbtest"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/ids"
	"github.com/marquee-video/marquee/internal/objects"
	"github.com/marquee-video/marquee/internal/wire"
	"github.com/marquee-video/marquee/policies"
	"github.com/marquee-video/marquee/tenants"
	tenantstore "github.com/marquee-video/marquee/tenants/sqlstore"
)

func creators(t *testing.T, d *db.DB, n int, concurrentJobs int64) []tenants.Tenant {
	t.Helper()
	ctx := context.Background()
	q, _ := policies.NewQuotaPolicy(ctx)
	objs, _ := objects.NewLocal(t.TempDir())
	sessions, _ := tenants.NewSessions(bytes.Repeat([]byte{1}, 32), time.Hour)
	svc, err := tenants.NewService(tenants.Config{Store: tenantstore.New(d), Quotas: q, Objects: objs, Sessions: sessions})
	if err != nil {
		t.Fatal(err)
	}
	root, err := svc.EnsureRoot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []tenants.Tenant
	for i := range n {
		c, err := svc.CreateChild(ctx, root, tenants.CreateTenantInput{Name: fmt.Sprintf("Creator %d", i), Kind: tenants.KindCreator})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetLimits(ctx, root, c.ID, tenants.Limits{tenants.ResConcurrentJobs: &concurrentJobs}); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func allow(context.Context, string, *int64, int64, int64) error { return nil }

func newAsset(t *testing.T, s *sqlstore.Store, tenant string, at time.Time) (assets.Asset, assets.Job) {
	t.Helper()
	a := assets.Asset{ID: ids.New(ids.Asset), TenantID: tenant, SourceKey: "tenants/" + tenant + "/src", CreatedAt: at}
	j := assets.Job{ID: ids.New(ids.Job), Kind: wire.TaskTranscode, Queue: wire.QueueCPU, Payload: wire.TranscodeTask{JobID: "x", TenantID: tenant, AssetID: a.ID}}
	if err := s.CreateAsset(context.Background(), tenant, a, j, allow); err != nil {
		t.Fatal(err)
	}
	return a, j
}

// A tenant with a backlog of 20 does not delay another tenant's one job.
func TestDispatchIsFairAcrossTenants(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ts := creators(t, d, 2, 2)
		s := sqlstore.New(d, nil)
		now := time.Now().UTC()
		for range 20 {
			newAsset(t, s, ts[0].ID, now)
		}
		_, lone := newAsset(t, s, ts[1].ID, now)
		enqueued := map[string]int{}
		for tick := 0; tick < 3; tick++ {
			js, err := s.Dispatchable(ctx, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range js {
				enqueued[j.TenantID]++
				if err := s.MarkQueued(ctx, j.TenantID, j.ID, now.Add(time.Minute)); err != nil {
					t.Fatal(err)
				}
				if j.TenantID == ts[1].ID && j.ID != lone.ID {
					t.Fatalf("wrong job for the lone tenant")
				}
			}
			if tick == 0 && enqueued[ts[1].ID] != 1 {
				t.Fatalf("the lone tenant's job was not in the first dispatch: %v", enqueued)
			}
		}
		// The busy tenant is capped at its 2 concurrent jobs.
		if enqueued[ts[0].ID] != 2 || enqueued[ts[1].ID] != 1 {
			t.Fatalf("enqueued %v, want 2 for the busy tenant and 1 for the other", enqueued)
		}
	})
}

func TestJobLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ten := creators(t, d, 1, 4)[0].ID
		s := sqlstore.New(d, nil)
		now := time.Now().UTC()
		a, j := newAsset(t, s, ten, now)
		if err := s.MarkQueued(ctx, ten, j.ID, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		// Attempt 1 starts, then its worker dies: the lease ends and the job
		// goes back to pending.
		if _, err := s.Start(ctx, ten, j.ID, "att1", "node1", now.Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Asset(ctx, ten, a.ID); got.Status != assets.StatusProcessing {
			t.Fatalf("status %s, want processing", got.Status)
		}
		if n, err := s.Requeue(ctx, now); err != nil || n != 1 {
			t.Fatalf("requeue: %d %v", n, err)
		}
		js, _ := s.Dispatchable(ctx, 10)
		if len(js) != 1 || js[0].ID != j.ID {
			t.Fatalf("requeued job not dispatchable: %v", js)
		}
		// Attempt 2 holds it; attempt 1's late reports are refused.
		started, err := s.Start(ctx, ten, j.ID, "att2", "node2", now.Add(time.Minute))
		if err != nil || started.Attempts != 2 {
			t.Fatalf("start 2: %+v %v", started, err)
		}
		if _, err := s.Start(ctx, ten, j.ID, "att3", "node3", now.Add(time.Minute)); errs.CodeOf(err) != "job_leased" {
			t.Fatalf("a second live attempt: %v", err)
		}
		if err := s.Progress(ctx, ten, j.ID, "att1", 50, now.Add(time.Minute)); errs.CodeOf(err) != "stale_attempt" {
			t.Fatalf("stale progress: %v", err)
		}
		if err := s.Progress(ctx, ten, j.ID, "att2", 40, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Finish(ctx, ten, wire.JobResult{JobID: j.ID, Attempt: "att1"}, now); errs.CodeOf(err) != "stale_attempt" {
			t.Fatalf("stale result: %v", err)
		}
		res := wire.JobResult{
			JobID: j.ID, Attempt: "att2", Duration: 30, Audio: true, StagingKey: "tenants/x/assets/a/att2",
			Renditions: []wire.Rendition{{Name: "360p", Width: 640, Height: 360, Bitrate: 800000, Codec: "avc1.64001e"}},
			Usage:      []wire.UsageEvent{{ID: "use_" + j.ID + "_360", Meter: "transcode_seconds", Quantity: 30, Dimensions: map[string]string{"tier": "sd"}, At: now}},
		}
		got, err := s.Finish(ctx, ten, res, now)
		if err != nil || got.Status != assets.StatusReady || got.Progress != 100 || len(got.Renditions) != 1 || got.PlaybackPrefix != res.StagingKey {
			t.Fatalf("finish: %+v %v", got, err)
		}
		// The same report again changes nothing and counts usage once.
		if _, err := s.Finish(ctx, ten, res, now); err != nil {
			t.Fatalf("repeated result: %v", err)
		}
		var n int64
		_ = d.System(ctx, func(tx *db.Tx) error { return tx.Table("usage_events").Where("tenant_id = ?", ten).Count(&n).Error })
		if n != 1 {
			t.Fatalf("%d usage events, want 1", n)
		}
		// ...and reaches the hourly rollups once.
		var q struct {
			Quantity string
			Events   int64
		}
		_ = d.System(ctx, func(tx *db.Tx) error {
			return tx.Raw("SELECT CAST(quantity AS TEXT) AS quantity, events FROM usage_rollups_hourly WHERE tenant_id = ? AND meter = 'transcode_seconds'", ten).Scan(&q).Error
		})
		if q.Quantity != "30" || q.Events != 1 {
			t.Fatalf("transcode rollup = %+v, want 30 over 1 event", q)
		}
		if _, err := s.Start(ctx, ten, j.ID, "att4", "node4", now.Add(time.Minute)); errs.CodeOf(err) != "job_final" {
			t.Fatalf("start after success: %v", err)
		}
	})
}

func TestPermanentFailureErrorsTheAsset(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ten := creators(t, d, 1, 4)[0].ID
		s := sqlstore.New(d, nil)
		now := time.Now().UTC()
		a, j := newAsset(t, s, ten, now)
		if _, err := s.Start(ctx, ten, j.ID, "att1", "n", now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		// A retryable failure goes back to pending; a permanent one errors
		// the asset with its code.
		if got, err := s.Finish(ctx, ten, wire.JobResult{JobID: j.ID, Attempt: "att1", Error: &wire.JobError{Code: "unreachable", Retryable: true}}, now); err != nil || got.Status != assets.StatusProcessing {
			t.Fatalf("retryable: %+v %v", got, err)
		}
		// The retry waits out its backoff before it is dispatched again.
		if js, _ := s.Dispatchable(ctx, 10); len(js) != 0 {
			t.Fatalf("a job in backoff was dispatchable: %v", js)
		}
		if err := d.System(ctx, func(tx *db.Tx) error {
			return tx.Exec("UPDATE jobs SET lease_until = ? WHERE id = ?", now.Add(-time.Second), j.ID).Error
		}); err != nil {
			t.Fatal(err)
		}
		if js, _ := s.Dispatchable(ctx, 10); len(js) != 1 || js[0].Generation != 1 {
			t.Fatalf("after the backoff: %+v", js)
		}
		if _, err := s.Start(ctx, ten, j.ID, "att2", "n", now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Finish(ctx, ten, wire.JobResult{JobID: j.ID, Attempt: "att2", Error: &wire.JobError{Code: "invalid_media", Message: "not a video"}}, now)
		if err != nil || got.Status != assets.StatusErrored || got.Error == nil || got.Error.Code != "invalid_media" || got.ID != a.ID {
			t.Fatalf("permanent: %+v %v", got, err)
		}
	})
}

func TestAssetQuotaAndIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ts := creators(t, d, 2, 1)
		s := sqlstore.New(d, nil)
		a, _ := newAsset(t, s, ts[0].ID, time.Now().UTC())
		if _, err := s.Asset(ctx, ts[1].ID, a.ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("another tenant reads the asset: %v", err)
		}
		if _, err := s.DeleteAsset(ctx, ts[1].ID, a.ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("another tenant deletes the asset: %v", err)
		}
		refuse := func(_ context.Context, _ string, limit *int64, used, _ int64) error {
			if used >= 1 {
				return errs.E(errs.QuotaExceeded, "quota_exceeded", "assets quota reached")
			}
			return nil
		}
		b := assets.Asset{ID: ids.New(ids.Asset), CreatedAt: time.Now().UTC(), SourceKey: "k"}
		err := s.CreateAsset(ctx, ts[0].ID, b, assets.Job{ID: ids.New(ids.Job), Kind: wire.TaskTranscode, Queue: wire.QueueCPU}, refuse)
		if errs.CodeOf(err) != "quota_exceeded" {
			t.Fatalf("quota: %v", err)
		}
		list, _ := s.Assets(ctx, ts[0].ID, 10, "")
		if len(list) != 1 {
			t.Fatalf("refused creation left %d assets", len(list))
		}
		if _, err := s.DeleteAsset(ctx, ts[0].ID, a.ID); err != nil {
			t.Fatal(err)
		}
	})
}
