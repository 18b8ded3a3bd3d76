package pipeline_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/marquee-video/marquee/controlplane/cptest"
	"github.com/marquee-video/marquee/internal/db"
)

// BenchmarkFairness measures the time to the first ready asset of a tenant
// with one upload while another tenant has a backlog of N jobs (default
// 100, MARQUEE_BENCH_BACKLOG to change), on one worker: once with the busy
// tenant capped at 2 concurrent jobs (what its quota gives it), once
// uncapped, where all N sit in the queue ahead of the newcomer: the FIFO
// baseline. Run with -benchtime 1x (make bench does).
func BenchmarkFairness(b *testing.B) {
	backlog := 100
	if v, err := strconv.Atoi(os.Getenv("MARQUEE_BENCH_BACKLOG")); err == nil && v > 0 {
		backlog = v
	}
	for b.Loop() {
		capped := fairnessRun(b, backlog, ptr(2))
		fifo := fairnessRun(b, backlog, nil)
		b.ReportMetric(capped.Seconds(), "capped_first_ready_s")
		b.ReportMetric(fifo.Seconds(), "fifo_first_ready_s")
		b.ReportMetric(fifo.Seconds()/capped.Seconds(), "speedup")
	}
}

func ptr(n int64) *int64 { return &n }

func fairnessRun(b *testing.B, backlog int, cap *int64) time.Duration {
	b.Helper()
	s := cptest.Start(b, cptest.Options{RelayInterval: 50 * time.Millisecond})
	dir := b.TempDir()
	clip(b, dir, "tiny.mp4", "320x180", 2)
	media := mediaServer(b, dir)
	ops, _ := s.PlatformOwner(b, "owner")
	busy := s.Signup(b, "Busy Tenant")
	lone := s.Signup(b, "Lone Tenant")
	limits := map[string]any{"concurrent_jobs": cap, "assets": backlog + 10}
	s.Must(b, 200, cptest.Request{Method: "PUT", Path: "/v1/tenants/" + busy.TenantID + "/quotas", Token: ops, Body: limits})

	for range backlog {
		s.Must(b, 201, cptest.Request{Method: "POST", Path: "/v1/assets", Token: busy.Token, Body: map[string]string{"input": media + "/tiny.mp4"}})
	}
	// Wait until the relay has enqueued what it will of the backlog.
	want := backlog
	if cap != nil {
		want = int(*cap)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		var queued int64
		_ = s.App.DB().System(context.Background(), func(tx *db.Tx) error {
			return tx.Table("jobs").Where("tenant_id = ? AND state = 'queued'", busy.TenantID).Count(&queued).Error
		})
		if int(queued) >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	startWorker(b, s, "bench")
	start := time.Now()
	id := s.Must(b, 201, cptest.Request{Method: "POST", Path: "/v1/assets", Token: lone.Token, Body: map[string]string{"input": media + "/tiny.mp4"}}).Str(b, "id")
	for {
		a := s.Must(b, 200, cptest.Request{Method: "GET", Path: "/v1/assets/" + id, Token: lone.Token}).JSON(b)
		if a["status"] == "ready" {
			return time.Since(start)
		}
		if a["status"] == "errored" || time.Since(start) > 20*time.Minute {
			b.Fatalf("the lone tenant's asset: %v", a)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
