// Package workertest runs a real worker node in process for tests, against
// a control plane's internal API, its Redis and its object store.
package workertest

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/marquee-video/marquee/dataplane/fetch"
	"github.com/marquee-video/marquee/dataplane/worker"
	"github.com/marquee-video/marquee/internal/objects"
)

// Config says where the worker's control plane is.
type Config struct {
	ControlPlane string
	NodeKey      string
	Redis        asynq.RedisConnOpt
	Objects      objects.Store
	Name         string
	// Concurrency defaults to 1.
	Concurrency int
}

// Start runs a worker until the test ends (or the returned cancel is
// called). It may fetch sources from loopback, where tests serve them.
func Start(t testing.TB, c Config) context.CancelFunc {
	t.Helper()
	if c.Concurrency == 0 {
		c.Concurrency = 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	w, err := worker.New(ctx, worker.Config{
		ControlPlane: c.ControlPlane, NodeKey: c.NodeKey, Name: c.Name, Redis: c.Redis, Objects: c.Objects,
		Fetcher: fetch.New(fetch.Config{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, MaxBytes: 1 << 30, Timeout: time.Minute}),
		WorkDir: t.TempDir(), Concurrency: c.Concurrency, Heartbeat: time.Second, DrainTimeout: 30 * time.Second,
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return cancel
}
