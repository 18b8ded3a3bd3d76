// Package queue gives Marquee's processes the Redis that asynq runs on.
//
// In production that is a real Redis (or Sentinel) named by REDIS_URL. In the
// embedded single-process default (`marquee dev`) there are no external
// services, so StartEmbedded runs an in-process Redis-protocol server
// (miniredis) on a loopback port and asynq talks to it over TCP exactly as it
// would to a real server.
//
// miniredis is built for unit tests: it never expires a key by itself, only
// when its owner calls FastForward. asynq depends on keys expiring: the lock
// behind asynq.Unique is a key with a TTL, and server, scheduler and
// queue-stats keys are kept alive by heartbeats and must vanish when their
// owner goes away. Without a moving clock a unique task could never be
// enqueued again and dead workers would be listed forever. StartEmbedded
// therefore runs a ticker that feeds miniredis the elapsed time of the
// process's monotonic clock every EmbeddedTick, so TTLs run in step with real
// time. A key may expire up to one tick early, which is harmless for asynq's
// second-granular TTLs. (miniredis's own ClockTTL mode reads the wall clock
// instead, so a clock step by NTP would expire keys en masse or freeze them.)
package queue

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// EmbeddedTick is how often the embedded server's clock is advanced, and so
// the most a key's expiry can differ from real Redis.
const EmbeddedTick = 100 * time.Millisecond

// Redis is a Redis endpoint asynq and readiness checks can use.
type Redis struct {
	opt    asynq.RedisConnOpt
	addr   string
	client redis.UniversalClient // for Ping; asynq components open their own pools from opt

	// Set only for an embedded server.
	embedded  *miniredis.Miniredis
	stopClock chan struct{}
	clockDone chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// Connect parses a redis:// URL (asynq.ParseRedisURI) for a real server.
// rediss:// (TLS), redis-socket:// and redis-sentinel:// are accepted too.
//
// Connect does not dial: a process may start before Redis does and report
// not-ready through Ping until it answers.
func Connect(rawURL string) (*Redis, error) {
	if rawURL == "" {
		return nil, errors.New("queue: redis url is empty")
	}
	// url.Parse errors quote the whole URL, password included; keep only the
	// reason so the error can be logged.
	if _, err := url.Parse(rawURL); err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return nil, fmt.Errorf("queue: parse redis url: %w", err)
	}
	opt, err := asynq.ParseRedisURI(rawURL)
	if err != nil {
		return nil, fmt.Errorf("queue: parse redis url: %w", err)
	}
	var addr string
	switch o := opt.(type) {
	case asynq.RedisClientOpt:
		if o.Addr == "" {
			return nil, errors.New("queue: parse redis url: no host")
		}
		addr = o.Addr
	case asynq.RedisFailoverClientOpt:
		if o.MasterName == "" {
			return nil, errors.New("queue: parse redis url: sentinel url needs ?master=NAME")
		}
		addr = o.MasterName + "@" + strings.Join(o.SentinelAddrs, ",")
	default:
		return nil, fmt.Errorf("queue: parse redis url: unsupported connection type %T", opt)
	}
	client, err := newClient(opt)
	if err != nil {
		return nil, err
	}
	return &Redis{opt: opt, addr: addr, client: client}, nil
}

// StartEmbedded starts an in-process Redis-protocol server (miniredis) on
// 127.0.0.1 with a random port, and a ticker that advances its clock with
// the elapsed wall time (see the package comment) until Close.
func StartEmbedded() (*Redis, error) {
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("queue: start embedded redis: %w", err)
	}
	opt := asynq.RedisClientOpt{Addr: m.Addr()}
	client, err := newClient(opt)
	if err != nil {
		m.Close()
		return nil, err
	}
	r := &Redis{
		opt:       opt,
		addr:      opt.Addr,
		client:    client,
		embedded:  m,
		stopClock: make(chan struct{}),
		clockDone: make(chan struct{}),
	}
	go r.advanceClock()
	return r, nil
}

func newClient(opt asynq.RedisConnOpt) (redis.UniversalClient, error) {
	c, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, fmt.Errorf("queue: %T does not make a redis.UniversalClient", opt)
	}
	return c, nil
}

// advanceClock runs until Close. It measures elapsed time on the monotonic
// clock, so wall-clock steps neither expire keys early nor freeze them.
func (r *Redis) advanceClock() {
	defer close(r.clockDone)
	t := time.NewTicker(EmbeddedTick)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-r.stopClock:
			return
		case <-t.C:
			now := time.Now()
			r.embedded.FastForward(now.Sub(last))
			last = now
		}
	}
}

// ClientOpt is for asynq.NewClient, NewServer, NewScheduler and NewInspector.
// Each of those opens its own connection pool and closes it on its own
// Close or Shutdown, which must come before r.Close.
func (r *Redis) ClientOpt() asynq.RedisConnOpt { return r.opt }

// Addr is host:port of the server; for a unix socket its path, and for
// Sentinel "master@sentinel1,sentinel2".
func (r *Redis) Addr() string { return r.addr }

// Embedded reports whether r is an in-process server from StartEmbedded.
func (r *Redis) Embedded() bool { return r.embedded != nil }

// Ping checks that the server answers, for /readyz.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("queue: ping redis at %s: %w", r.addr, err)
	}
	return nil
}

// Close closes r's own pooled connections and, for an embedded server, stops
// its clock and the server. It is safe to call more than once.
func (r *Redis) Close() error {
	r.closeOnce.Do(func() {
		if err := r.client.Close(); err != nil {
			r.closeErr = fmt.Errorf("queue: close redis client: %w", err)
		}
		if r.embedded != nil {
			close(r.stopClock)
			<-r.clockDone
			r.embedded.Close()
		}
	})
	return r.closeErr
}
