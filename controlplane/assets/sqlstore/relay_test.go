package sqlstore_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/marquee-video/marquee/controlplane/assets"
	"github.com/marquee-video/marquee/controlplane/assets/sqlstore"
	"github.com/marquee-video/marquee/internal/db/dbtest"
	"github.com/marquee-video/marquee/internal/queue"
	"github.com/marquee-video/marquee/internal/queue/queuetest"
	"github.com/marquee-video/marquee/internal/wire"
)

// The relay survives a lost Redis: every job it had enqueued comes back to
// pending when its queued lease ends and reaches a worker again, under a
// new task id that no dead task of the old generation can block.
func TestRelayRecoversAFlushedRedis(t *testing.T) {
	for name, start := range map[string]func(testing.TB) *queue.Redis{"embedded": queuetest.Embedded, "redis": queuetest.Real} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			d := dbtest.Postgres(t)
			ten := creators(t, d, 1, 10)[0].ID
			s := sqlstore.New(d, nil)
			rd := start(t)
			client := asynq.NewClient(rd.ClientOpt())
			defer client.Close()
			relay := assets.NewRelay(s, client, assets.RelayConfig{})
			later := time.Now().Add(30 * time.Minute) // past every queued lease
			pass := func() {
				t.Helper()
				for range 2 { // one job per tenant per pass
					if _, err := relay.Once(ctx); err != nil {
						t.Fatal(err)
					}
				}
			}

			_, j1 := newAsset(t, s, ten, time.Now().UTC())
			_, j2 := newAsset(t, s, ten, time.Now().UTC())
			pass()
			pass() // a second pass enqueues nothing new: both are queued
			// Redis loses everything before any worker ran.
			rc := redis.NewClient(&redis.Options{Addr: rd.ClientOpt().(asynq.RedisClientOpt).Addr, DB: rd.ClientOpt().(asynq.RedisClientOpt).DB})
			if err := rc.FlushDB(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			_ = rc.Close()
			if n, err := s.Requeue(ctx, later); err != nil || n != 2 {
				t.Fatalf("requeue after the flush: %d %v", n, err)
			}
			pass()

			// A worker now sees each job exactly once, in its new generation.
			seen := make(chan string, 10)
			srv := asynq.NewServer(rd.ClientOpt(), asynq.Config{Concurrency: 2, Queues: map[string]int{wire.QueueCPU: 1}, LogLevel: asynq.FatalLevel})
			mux := asynq.NewServeMux()
			mux.HandleFunc(wire.TaskTranscode, func(_ context.Context, task *asynq.Task) error {
				var p wire.TranscodeTask
				if err := json.Unmarshal(task.Payload(), &p); err != nil || p.JobID == "" {
					t.Errorf("task payload %s: %v", task.Payload(), err)
				}
				seen <- task.ResultWriter().TaskID()
				return nil
			})
			if err := srv.Start(mux); err != nil {
				t.Fatal(err)
			}
			defer srv.Shutdown()
			got := map[string]bool{}
			deadline := time.After(10 * time.Second)
			for len(got) < 2 {
				select {
				case id := <-seen:
					got[id] = true
				case <-deadline:
					t.Fatalf("workers saw %v, want both jobs", got)
				}
			}
			for _, id := range []string{j1.ID + ".1", j2.ID + ".1"} {
				if !got[id] {
					t.Fatalf("workers saw %v, want task %s", got, id)
				}
			}
		})
	}
}
