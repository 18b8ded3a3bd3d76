// Package queuetest gives tests a Redis for asynq: an embedded server, or a
// logical database of a real Redis that no other test is using at the time.
//
// Test packages run in parallel processes against the same real Redis, so a
// test cannot simply take a database number: two could pick the same one and
// flush each other's keys. Real leases one of databases 1..15 by a key with a
// TTL in database 0, which every user of this package honours, and gives it
// back when the test ends; the TTL frees a lease whose process died.
package queuetest

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/marquee-video/marquee/internal/queue"
)

// DefaultURL is the real Redis tried when REDIS_URL is unset.
const DefaultURL = "redis://127.0.0.1:6379"

const (
	firstDB, lastDB = 1, 15
	leaseKeyPrefix  = "marquee:queuetest:db:"
	leaseTTL        = time.Minute
	leaseWait       = 30 * time.Second // for a free database, when all are leased
)

// Only the lease's holder may extend or drop it.
const (
	renewLease = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return 0`
	dropLease  = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`
)

// Embedded starts an embedded server for tb and closes it when tb ends.
func Embedded(tb testing.TB) *queue.Redis {
	tb.Helper()
	r, err := queue.StartEmbedded()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := r.Close(); err != nil {
			tb.Error(err)
		}
	})
	return r
}

// Real returns an empty database of the real Redis at REDIS_URL, or at
// DefaultURL when REDIS_URL is unset, leased to tb until it ends and flushed
// before and after. It skips tb only when REDIS_URL is unset and nothing
// answers at DefaultURL; a REDIS_URL that does not answer fails tb.
func Real(tb testing.TB) *queue.Redis {
	tb.Helper()
	base, explicit := os.LookupEnv("REDIS_URL")
	if !explicit || base == "" {
		base, explicit = DefaultURL, false
	}
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("queuetest: REDIS_URL is not a URL")
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		tb.Fatalf("queuetest: REDIS_URL scheme %q: want redis:// or rediss:// (tests pick the database)", u.Scheme)
	}

	ctx, cancel := context.WithTimeout(context.Background(), leaseWait+5*time.Second)
	defer cancel()

	admin := dial(tb, u, 0)
	pingCtx, pingCancel := context.WithTimeout(ctx, 2*time.Second)
	err = admin.Ping(pingCtx).Err()
	pingCancel()
	if err != nil {
		admin.Close()
		if !explicit {
			tb.Skipf("queuetest: no real Redis: REDIS_URL is unset and %s does not answer: %v", DefaultURL, err)
		}
		tb.Fatalf("queuetest: REDIS_URL does not answer: %v", err)
	}

	tb.Cleanup(func() { admin.Close() }) // last, after the lease is dropped
	db, key, token := lease(ctx, tb, admin)
	stopRenew := make(chan struct{})
	renewDone := make(chan struct{})
	go func() {
		defer close(renewDone)
		t := time.NewTicker(leaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-stopRenew:
				return
			case <-t.C:
				c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_ = admin.Eval(c, renewLease, []string{key}, token, leaseTTL.Milliseconds()).Err()
				cancel()
			}
		}
	}()

	dbc := dial(tb, u, db)
	flush := func() error { return dbc.FlushDB(context.Background()).Err() }
	// Registered before any of the caller's cleanups, so it runs after them:
	// asynq servers are shut down before their database is flushed.
	tb.Cleanup(func() {
		if err := flush(); err != nil {
			tb.Errorf("queuetest: flush database %d: %v", db, err)
		}
		dbc.Close()
		close(stopRenew)
		<-renewDone
		_ = admin.Eval(context.Background(), dropLease, []string{key}, token).Err()
	})
	if err := flush(); err != nil {
		tb.Fatalf("queuetest: flush database %d: %v", db, err)
	}

	r, err := queue.Connect(withDB(u, db).String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := r.Close(); err != nil {
			tb.Error(err)
		}
	})
	return r
}

// lease takes a free database number, in random order so that parallel
// tests rarely contend for the same key.
func lease(ctx context.Context, tb testing.TB, admin redis.UniversalClient) (db int, key, token string) {
	tb.Helper()
	token = rand.Text()
	for {
		for _, i := range mrand.Perm(lastDB - firstDB + 1) {
			db = firstDB + i
			key = leaseKeyPrefix + strconv.Itoa(db)
			ok, err := admin.SetNX(ctx, key, token, leaseTTL).Result()
			if err != nil {
				tb.Fatalf("queuetest: lease a database: %v", err)
			}
			if ok {
				return db, key, token
			}
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("queuetest: databases %d..%d all leased for %v", firstDB, lastDB, leaseWait)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func withDB(u *url.URL, db int) *url.URL {
	c := *u
	c.Path = "/" + strconv.Itoa(db)
	return &c
}

func dial(tb testing.TB, u *url.URL, db int) redis.UniversalClient {
	tb.Helper()
	opt, err := asynq.ParseRedisURI(withDB(u, db).String())
	if err != nil {
		tb.Fatalf("queuetest: %v", err)
	}
	c, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		tb.Fatal(errors.New("queuetest: asynq did not make a redis.UniversalClient"))
	}
	return c
}

// Quiet is an asynq.Config that keeps asynq's logs out of test output and
// polls often enough for tests to finish in milliseconds rather than asynq's
// production intervals of seconds.
func Quiet() asynq.Config {
	return asynq.Config{
		Logger:                   queue.Logger(slog.New(slog.DiscardHandler)),
		LogLevel:                 asynq.FatalLevel,
		TaskCheckInterval:        10 * time.Millisecond,
		DelayedTaskCheckInterval: 50 * time.Millisecond,
		ShutdownTimeout:          2 * time.Second,
	}
}

// QuietScheduler is Quiet for an asynq.Scheduler.
func QuietScheduler() *asynq.SchedulerOpts {
	return &asynq.SchedulerOpts{Logger: queue.Logger(slog.New(slog.DiscardHandler)), LogLevel: asynq.FatalLevel}
}
