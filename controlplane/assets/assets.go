// Package assets is the control plane's media domain: assets (a creator's
// video and what became of it) and the jobs that process them.
//
// A job is the outbox. It is written in the transaction that creates its
// asset, in state pending. The relay (relay.go) turns pending jobs into asynq
// tasks whose task id is the job id, so enqueueing twice is harmless. Jobs
// whose lease expires (a lost Redis, a killed worker) go back to pending and
// are enqueued again. Workers report through the control plane, which
// accepts a result once, from the attempt that holds the job.
package assets

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/wire"
)

// Status is where an asset is in its life.
type Status string

// The statuses an asset goes through.
const (
	StatusWaiting    Status = "waiting"
	StatusProcessing Status = "processing"
	StatusReady      Status = "ready"
	StatusErrored    Status = "errored"
)

// JobState is where a job is in the dispatch cycle.
type JobState string

// The job states. pending: written, not yet in the queue. queued: in asynq.
// running: a worker holds a lease. succeeded/failed: final.
const (
	JobPending   JobState = "pending"
	JobQueued    JobState = "queued"
	JobRunning   JobState = "running"
	JobSucceeded JobState = "succeeded"
	JobFailed    JobState = "failed"
)

// Asset is a tenant's video.
type Asset struct {
	ID         string           `json:"id"`
	TenantID   string           `json:"-"`
	Status     Status           `json:"status"`
	Progress   float64          `json:"progress"`
	Duration   *float64         `json:"duration"`
	Renditions []wire.Rendition `json:"renditions"`
	HasAudio   bool             `json:"has_audio"`
	// Protected assets are packaged encrypted (cenc and cbcs) and play only
	// through drm playback ids.
	Protected      bool        `json:"protected"`
	SourceKey      string      `json:"-"`
	SourceURL      string      `json:"-"`
	SourceBytes    int64       `json:"-"`
	PlaybackPrefix string      `json:"-"`
	Error          *AssetError `json:"error"`
	CreatedAt      time.Time   `json:"created_at"`
	UpdatedAt      time.Time   `json:"updated_at"`
}

// AssetError says why an asset errored.
type AssetError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Job is one unit of media work for an asset.
type Job struct {
	ID         string
	TenantID   string
	AssetID    string
	Kind       string
	State      JobState
	Queue      string
	Payload    wire.TranscodeTask
	Attempts   int
	Generation int
	Attempt    string
	NodeID     string
	LeaseUntil *time.Time
	CreatedAt  time.Time
}

// TaskID is the asynq task id of the job's current generation.
func (j Job) TaskID() string { return fmt.Sprintf("%s.%d", j.ID, j.Generation) }

// RetryBackoff is how long a job that failed retryably after n attempts
// waits before it is dispatched again: 5 s, doubling, at most 5 min.
func RetryBackoff(n int) time.Duration {
	d := 5 * time.Second << max(0, min(n-1, 6))
	return min(d, 5*time.Minute)
}

// MaxAttempts bounds retries of a job that keeps failing retryably (a
// worker killed mid-transcode counts as one).
const MaxAttempts = 5

// Store is the persistence the domain needs. Tenant-facing methods take the
// tenant first; dispatch methods work across tenants (the relay is the
// platform's).
type Store interface {
	// CreateAsset inserts the asset and its pending job in one transaction,
	// after admit allows one more asset under the tenant's quota.
	CreateAsset(ctx context.Context, tenant string, a Asset, j Job, admit Admit) error
	Asset(ctx context.Context, tenant, id string) (Asset, error)
	Assets(ctx context.Context, tenant string, limit int, after string) ([]Asset, error)
	// DeleteAsset removes the asset and its jobs and returns it, so its
	// objects can be removed.
	DeleteAsset(ctx context.Context, tenant, id string) (Asset, error)
	// Ladder is the tenant's encoding profile; ok is false when it has none.
	Ladder(ctx context.Context, tenant string) (ladder []wire.Rung, ok bool, err error)
	// SetLadder replaces the tenant's encoding profile.
	SetLadder(ctx context.Context, tenant string, ladder []wire.Rung) error
	// ReadyAsset finds a ready asset by id across tenants, for the public
	// playback origin (asset ids are unguessable and globally unique).
	ReadyAsset(ctx context.Context, id string) (Asset, error)

	// Dispatchable returns pending jobs to enqueue now: per tenant the
	// oldest, while the tenant runs fewer than its concurrent_jobs limit,
	// interleaved across tenants so that one tenant's backlog never
	// delays another's first job.
	Dispatchable(ctx context.Context, max int) ([]Job, error)
	// MarkQueued records that a pending job was enqueued, with a lease by
	// which a worker must have started it.
	MarkQueued(ctx context.Context, tenant, jobID string, leaseUntil time.Time) error
	// Requeue returns queued and running jobs whose lease ended to pending,
	// and fails those out of attempts. It returns how many it moved.
	Requeue(ctx context.Context, now time.Time) (int, error)

	// Start gives the job to a worker's attempt. It refuses (Conflict) when
	// the job is final or another attempt holds a live lease.
	Start(ctx context.Context, tenant, jobID, attempt, nodeID string, leaseUntil time.Time) (Job, error)
	// Progress records progress and extends the attempt's lease.
	Progress(ctx context.Context, tenant, jobID, attempt string, pct float64, leaseUntil time.Time) error
	// Finish records the attempt's result: the asset becomes ready or
	// errored, and usage events are stored once by id. A result from an
	// attempt that no longer holds the job is refused (Conflict); a repeated
	// result of the attempt that finished it is accepted and changes nothing.
	Finish(ctx context.Context, tenant string, r wire.JobResult, now time.Time) (Asset, error)
}

// Events receives the asset's webhook events inside the transaction that
// changes the asset, so the change and its event commit together
// (webhooks.Service implements it).
type Events interface {
	EmitTx(tx *db.Tx, tenant, eventType string, data any) error
}

// MeterStoredBytes is the usage meter of a published package's size.
const MeterStoredBytes = "stored_bytes"

// The events an asset emits.
const (
	EventCreated = "asset.created"
	EventReady   = "asset.ready"
	EventErrored = "asset.errored"
)

// Admit decides whether one more asset is allowed under limit given used.
type Admit func(ctx context.Context, resource string, limit *int64, used, requested int64) error

// CreateInput asks for an asset from a remote URL.
type CreateInput struct {
	Input string `json:"input"`
	// Protected packages the asset encrypted.
	Protected bool `json:"-"`
}

// EncodingProfile is a tenant's ladder for new assets.
type EncodingProfile struct {
	Ladder  []wire.Rung `json:"ladder"`
	Default bool        `json:"default"`
}

var rungNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,15}$`)

// Validate checks a ladder: 1 to 8 rungs with unique names, sane sizes,
// bitrates and codecs.
func (p EncodingProfile) Validate() error {
	if len(p.Ladder) == 0 || len(p.Ladder) > 8 {
		return errs.Field("ladder", "a ladder has 1 to 8 rungs")
	}
	seen := map[string]bool{}
	for i, r := range p.Ladder {
		field := fmt.Sprintf("ladder[%d]", i)
		switch {
		case !rungNameRE.MatchString(r.Name) || seen[r.Name]:
			return errs.Field(field+".name", "rung names are unique, lower-case letters, digits, - or _, up to 16 characters")
		case r.Height < 144 || r.Height > 2160 || r.Height%2 != 0:
			return errs.Field(field+".height", "height is an even number from 144 to 2160 (the short side of the picture)")
		case r.Width != 0 && (r.Width < 144 || r.Width > 7680 || r.Width%2 != 0):
			return errs.Field(field+".width", "width is 0 (from the source's aspect) or an even number up to 7680")
		case r.VideoBitrate < 100_000 || r.VideoBitrate > 60_000_000:
			return errs.Field(field+".video_bitrate", "video_bitrate is from 100000 to 60000000 bits per second")
		case r.Codec != "h264" && r.Codec != "hevc" && r.Codec != "av1":
			return errs.Field(field+".codec", "codec is h264, hevc or av1")
		}
		seen[r.Name] = true
	}
	return nil
}

// errors

func notFound(id string) error { return errs.NotFoundf("asset %q not found", id) }
