package assets

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
)

// Enqueuer puts a task on the queue (asynq.Client does).
type Enqueuer interface {
	EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// Relay moves pending jobs into asynq and returns jobs whose lease ended to
// pending. It is idempotent: the asynq task id is the job's id and
// generation, so a job enqueued twice (after a crash between enqueue and
// mark) is one task. A job whose lease ends (Redis lost it, or its worker
// died) gets a new generation and so a new task; should the old task still
// run, the control plane refuses it the job (Store.Start), so a duplicate
// does no work twice.
type Relay struct {
	store    Store
	queue    Enqueuer
	log      *slog.Logger
	interval time.Duration
	// queuedLease is how long a job may sit in the queue before it is
	// assumed lost (Redis flushed) and enqueued again.
	queuedLease time.Duration
	poke        chan struct{}
}

// RelayConfig configures a Relay. Zero durations take defaults.
type RelayConfig struct {
	Interval    time.Duration // default 500 ms
	QueuedLease time.Duration // default 10 min
	Log         *slog.Logger
}

// NewRelay returns a relay over store and queue.
func NewRelay(store Store, queue Enqueuer, c RelayConfig) *Relay {
	if c.Interval == 0 {
		c.Interval = 500 * time.Millisecond
	}
	if c.QueuedLease == 0 {
		c.QueuedLease = 10 * time.Minute
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return &Relay{store: store, queue: queue, log: c.Log, interval: c.Interval, queuedLease: c.QueuedLease, poke: make(chan struct{}, 1)}
}

// Poke asks the relay to run soon; it never blocks.
func (r *Relay) Poke() {
	select {
	case r.poke <- struct{}{}:
	default:
	}
}

// Run relays until ctx ends.
func (r *Relay) Run(ctx context.Context) {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		if _, err := r.Once(ctx); err != nil && ctx.Err() == nil {
			r.log.WarnContext(ctx, "relay", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.poke:
		}
	}
}

// Once requeues expired jobs and enqueues what is dispatchable now. It
// returns how many jobs it enqueued.
func (r *Relay) Once(ctx context.Context) (int, error) {
	now := time.Now().UTC()
	if n, err := r.store.Requeue(ctx, now); err != nil {
		return 0, err
	} else if n > 0 {
		r.log.InfoContext(ctx, "jobs returned to pending after their lease ended", "jobs", n)
	}
	jobs, err := r.store.Dispatchable(ctx, 200)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, j := range jobs {
		payload, err := json.Marshal(j.Payload)
		if err != nil {
			return sent, err
		}
		// asynq retries are off: the control plane decides retries from the
		// job's result and its lease, so a retry never outlives a decision.
		_, err = r.queue.EnqueueContext(ctx, asynq.NewTask(j.Kind, payload), asynq.TaskID(j.TaskID()), asynq.Queue(j.Queue), asynq.MaxRetry(0), asynq.Timeout(j.Payload.TimeLimit+time.Minute))
		if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return sent, err
		}
		if err := r.store.MarkQueued(ctx, j.TenantID, j.ID, now.Add(r.queuedLease)); err != nil {
			return sent, err
		}
		sent++
	}
	return sent, nil
}
