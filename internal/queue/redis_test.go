package queue_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/marquee-video/marquee/internal/queue"
	"github.com/marquee-video/marquee/internal/queue/queuetest"
)

// testTimeout bounds every test that waits on asynq.
const testTimeout = 10 * time.Second

type backend struct {
	name  string
	start func(testing.TB) *queue.Redis
}

func backends() []backend {
	return []backend{
		{"embedded", queuetest.Embedded},
		{"redis", queuetest.Real},
	}
}

// onEachBackend runs test against the embedded server and a real Redis, so
// that `marquee dev` is held to what production does.
func onEachBackend(t *testing.T, test func(ctx context.Context, t *testing.T, r *queue.Redis)) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			r := b.start(t)
			ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
			defer cancel()
			test(ctx, t, r)
		})
	}
}

func newClient(t testing.TB, r *queue.Redis) *asynq.Client {
	c := asynq.NewClient(r.ClientOpt())
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func startServer(t testing.TB, r *queue.Redis, cfg asynq.Config, h asynq.Handler) {
	srv := asynq.NewServer(r.ClientOpt(), cfg)
	if err := srv.Start(h); err != nil {
		t.Fatalf("start asynq server: %v", err)
	}
	t.Cleanup(srv.Shutdown)
}

// await waits for a value from ch, failing t when ctx ends first.
func await[T any](ctx context.Context, t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatalf("waiting for %s: %v", what, ctx.Err())
		panic("unreachable")
	}
}

func TestEnqueueProcess(t *testing.T) {
	onEachBackend(t, func(ctx context.Context, t *testing.T, r *queue.Redis) {
		got := make(chan []byte, 1)
		mux := asynq.NewServeMux()
		mux.HandleFunc("asset:transcode", func(_ context.Context, task *asynq.Task) error {
			got <- task.Payload()
			return nil
		})
		startServer(t, r, queuetest.Quiet(), mux)

		want := []byte(`{"tenant_id":"ten_1","asset_id":"ast_1"}`)
		if _, err := newClient(t, r).EnqueueContext(ctx, asynq.NewTask("asset:transcode", want)); err != nil {
			t.Fatalf("enqueue: %v", err)
		}
		if p := await(ctx, t, got, "the task"); !bytes.Equal(p, want) {
			t.Errorf("payload = %s, want %s", p, want)
		}
	})
}

func TestRetry(t *testing.T) {
	onEachBackend(t, func(ctx context.Context, t *testing.T, r *queue.Redis) {
		var attempts atomic.Int32
		retried := make(chan int, 1)
		cfg := queuetest.Quiet()
		cfg.RetryDelayFunc = func(int, error, *asynq.Task) time.Duration { return 10 * time.Millisecond }
		startServer(t, r, cfg, asynq.HandlerFunc(func(ctx context.Context, _ *asynq.Task) error {
			if attempts.Add(1) == 1 {
				return errors.New("transient")
			}
			n, _ := asynq.GetRetryCount(ctx)
			retried <- n
			return nil
		}))

		if _, err := newClient(t, r).EnqueueContext(ctx, asynq.NewTask("flaky", nil), asynq.MaxRetry(3)); err != nil {
			t.Fatalf("enqueue: %v", err)
		}
		if n := await(ctx, t, retried, "the retry"); n != 1 {
			t.Errorf("retry count on success = %d, want 1", n)
		}
		if n := attempts.Load(); n != 2 {
			t.Errorf("attempts = %d, want 2", n)
		}
	})
}

func TestUnique(t *testing.T) {
	const ttl = time.Second
	onEachBackend(t, func(ctx context.Context, t *testing.T, r *queue.Redis) {
		// No server: a processed task would release its lock before the TTL.
		c := newClient(t, r)
		task := asynq.NewTask("asset:thumbnail", []byte("ast_1"))
		start := time.Now()
		if _, err := c.EnqueueContext(ctx, task, asynq.Unique(ttl)); err != nil {
			t.Fatalf("first enqueue: %v", err)
		}
		if _, err := c.EnqueueContext(ctx, task, asynq.Unique(ttl)); !errors.Is(err, asynq.ErrDuplicateTask) {
			t.Fatalf("duplicate enqueue: err = %v, want ErrDuplicateTask", err)
		}

		// The lock must clear once ttl has passed; on the embedded server only
		// the clock ticker makes that happen.
		for {
			_, err := c.EnqueueContext(ctx, task, asynq.Unique(ttl))
			if err == nil {
				break
			}
			if !errors.Is(err, asynq.ErrDuplicateTask) {
				t.Fatalf("enqueue after ttl: %v", err)
			}
			select {
			case <-ctx.Done():
				t.Fatalf("unique lock still held %v after a %v ttl", time.Since(start), ttl)
			case <-time.After(20 * time.Millisecond):
			}
		}
		if held := time.Since(start); held < ttl-queue.EmbeddedTick {
			t.Errorf("unique lock cleared after %v, before its %v ttl", held, ttl)
		}
	})
}

func TestProcessIn(t *testing.T) {
	const delay = time.Second
	onEachBackend(t, func(ctx context.Context, t *testing.T, r *queue.Redis) {
		ran := make(chan time.Time, 1)
		startServer(t, r, queuetest.Quiet(), asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
			ran <- time.Now()
			return nil
		}))

		info, err := newClient(t, r).EnqueueContext(ctx, asynq.NewTask("later", nil), asynq.ProcessIn(delay))
		if err != nil {
			t.Fatalf("enqueue: %v", err)
		}
		if info.State != asynq.TaskStateScheduled {
			t.Errorf("state = %v, want scheduled", info.State)
		}
		at := await(ctx, t, ran, "the scheduled task")
		// asynq keeps schedule times in whole seconds.
		if due := info.NextProcessAt.Truncate(time.Second); at.Before(due) {
			t.Errorf("ran at %v, before it was due at %v", at, due)
		}
	})
}

func TestTaskIDConflict(t *testing.T) {
	onEachBackend(t, func(ctx context.Context, t *testing.T, r *queue.Redis) {
		c := newClient(t, r)
		task := asynq.NewTask("asset:package", nil)
		// The outbox relay enqueues with the job id as task id, so a repeat
		// after a crash must be refused, not run twice.
		if _, err := c.EnqueueContext(ctx, task, asynq.TaskID("job_1")); err != nil {
			t.Fatalf("first enqueue: %v", err)
		}
		if _, err := c.EnqueueContext(ctx, task, asynq.TaskID("job_1")); !errors.Is(err, asynq.ErrTaskIDConflict) {
			t.Fatalf("second enqueue: err = %v, want ErrTaskIDConflict", err)
		}
		if _, err := c.EnqueueContext(ctx, task, asynq.TaskID("job_2")); err != nil {
			t.Fatalf("enqueue another id: %v", err)
		}
	})
}

func TestScheduler(t *testing.T) {
	onEachBackend(t, func(ctx context.Context, t *testing.T, r *queue.Redis) {
		ticks := make(chan struct{}, 8)
		startServer(t, r, queuetest.Quiet(), asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
			ticks <- struct{}{}
			return nil
		}))

		s := asynq.NewScheduler(r.ClientOpt(), queuetest.QuietScheduler())
		if _, err := s.Register("@every 1s", asynq.NewTask("usage:rollup", nil)); err != nil {
			t.Fatalf("register: %v", err)
		}
		if err := s.Start(); err != nil {
			t.Fatalf("start scheduler: %v", err)
		}
		t.Cleanup(s.Shutdown)

		// Two runs show it is periodic, not a one-off.
		await(ctx, t, ticks, "the first periodic run")
		await(ctx, t, ticks, "the second periodic run")
	})
}

func TestEmbeddedExpiresKeys(t *testing.T) {
	t.Parallel()
	r := queuetest.Embedded(t)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()

	c := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer c.Close()
	const ttl = 300 * time.Millisecond
	start := time.Now()
	if err := c.Set(ctx, "k", "v", ttl).Err(); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := c.Exists(ctx, "k").Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("key with a %v ttl still there after %v", ttl, time.Since(start))
		case <-time.After(10 * time.Millisecond):
		}
	}
	if gone := time.Since(start); gone < ttl-queue.EmbeddedTick {
		t.Errorf("key expired after %v, want about %v", gone, ttl)
	}
}

func TestPingAndClose(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()

	r, err := queue.StartEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	if !r.Embedded() || !strings.HasPrefix(r.Addr(), "127.0.0.1:") {
		t.Errorf("Embedded() = %v, Addr() = %q; want an embedded server on 127.0.0.1", r.Embedded(), r.Addr())
	}
	if err := r.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	addr := r.Addr()
	if err := r.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Errorf("embedded server still listening on %s after Close", addr)
	}

	// Connect does not dial, so a process can start before Redis; Ping says
	// whether it is there.
	down, err := queue.Connect("redis://" + addr + "/0")
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer down.Close()
	if down.Embedded() {
		t.Error("Embedded() = true for Connect")
	}
	pingCtx, pingCancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer pingCancel()
	if err := down.Ping(pingCtx); err == nil {
		t.Error("ping of a stopped server succeeded")
	}
}

func TestConnect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url      string
		wantAddr string
		wantErr  bool
	}{
		{url: "redis://127.0.0.1:6379", wantAddr: "127.0.0.1:6379"},
		{url: "redis://:secret@redis.internal:6380/3", wantAddr: "redis.internal:6380"},
		{url: "rediss://redis.example.com:6380/1", wantAddr: "redis.example.com:6380"},
		{url: "redis-socket:///run/redis.sock?db=2", wantAddr: "/run/redis.sock"},
		{url: "redis-sentinel://s1:26379,s2:26379?master=mymaster", wantAddr: "mymaster@s1:26379,s2:26379"},
		{url: "", wantErr: true},
		{url: "http://127.0.0.1:6379", wantErr: true},
		{url: "redis://", wantErr: true},
		{url: "redis://127.0.0.1:6379/notanumber", wantErr: true},
		{url: "redis-sentinel://s1:26379", wantErr: true},
		{url: "redis://:secret@host:port/0", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			r, err := queue.Connect(tt.url)
			if tt.wantErr {
				if err == nil {
					r.Close()
					t.Fatal("want an error")
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if got := r.Addr(); got != tt.wantAddr {
				t.Errorf("Addr() = %q, want %q", got, tt.wantAddr)
			}
			if r.ClientOpt() == nil {
				t.Error("ClientOpt() = nil")
			}
		})
	}
}

func TestLogger(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := queue.Logger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	tests := []struct {
		log  func(...any)
		msg  string
		want string // "" when below the handler's level
	}{
		{l.Debug, "d", ""},
		{l.Info, "i", "level=INFO msg=i component=asynq"},
		{l.Warn, "w", "level=WARN msg=w component=asynq"},
		{l.Error, "e", "level=ERROR msg=e component=asynq"},
		{l.Fatal, "f", "level=ERROR msg=f component=asynq"},
	}
	for _, tt := range tests {
		buf.Reset()
		tt.log(tt.msg)
		got := buf.String()
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("logging %q wrote %q, want it to contain %q", tt.msg, got, tt.want)
		}
	}
}

func BenchmarkEnqueueProcess(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			r := be.start(b)
			var processed atomic.Int64
			done := make(chan struct{})
			n := int64(b.N)
			cfg := queuetest.Quiet()
			cfg.Concurrency = 16
			startServer(b, r, cfg, asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
				if processed.Add(1) == n {
					close(done)
				}
				return nil
			}))
			c := newClient(b, r)
			task := asynq.NewTask("bench", []byte(`{"tenant_id":"ten_1"}`))
			ctx, cancel := context.WithTimeout(b.Context(), 5*time.Minute)
			defer cancel()

			b.ResetTimer()
			start := time.Now()
			for range b.N {
				if _, err := c.EnqueueContext(ctx, task); err != nil {
					b.Fatalf("enqueue: %v", err)
				}
			}
			select {
			case <-done:
			case <-ctx.Done():
				b.Fatalf("processed %d of %d tasks: %v", processed.Load(), b.N, ctx.Err())
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "tasks/s")
		})
	}
}
