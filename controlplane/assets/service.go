package assets

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/ids"
	"github.com/marquee-video/marquee/internal/wire"
	"github.com/marquee-video/marquee/policies"
)

// QuotaPolicy decides quota questions (policies.QuotaPolicy).
type QuotaPolicy interface {
	Decide(ctx context.Context, r policies.QuotaRequest) (policies.QuotaDecision, error)
}

// ObjectRemover deletes an asset's objects.
type ObjectRemover interface {
	Delete(ctx context.Context, key string) error
	DeletePrefix(ctx context.Context, prefix string) (int, error)
}

// Config builds a Service.
type Config struct {
	Store   Store
	Quotas  QuotaPolicy
	Objects ObjectRemover
	// Poke wakes the relay after new work is written; nil waits for its tick.
	Poke func()
	Log  *slog.Logger
	// Ladder is the default ladder profile; SegmentSeconds the CMAF segment
	// duration; JobTimeLimit bounds one transcode.
	Ladder         []wire.Rung
	SegmentSeconds int
	JobTimeLimit   time.Duration
	// Gate, when set, may refuse a tenant's new work before anything is
	// written (billing: usage past a monthly quota).
	Gate func(ctx context.Context, tenant string) error
}

// Service is the assets domain's rules.
type Service struct {
	cfg Config
	now func() time.Time
}

// DefaultLadder is 1080p to 240p in H.264, capped at the source by the
// worker.
func DefaultLadder() []wire.Rung {
	return []wire.Rung{
		{Name: "1080p", Width: 1920, Height: 1080, VideoBitrate: 5_000_000, Codec: "h264"},
		{Name: "720p", Width: 1280, Height: 720, VideoBitrate: 3_000_000, Codec: "h264"},
		{Name: "480p", Width: 854, Height: 480, VideoBitrate: 1_200_000, Codec: "h264"},
		{Name: "360p", Width: 640, Height: 360, VideoBitrate: 800_000, Codec: "h264"},
		{Name: "240p", Width: 426, Height: 240, VideoBitrate: 400_000, Codec: "h264"},
	}
}

// NewService builds a Service.
func NewService(c Config) (*Service, error) {
	if c.Store == nil || c.Quotas == nil || c.Objects == nil {
		return nil, fmt.Errorf("assets: store, quotas and objects are required")
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Poke == nil {
		c.Poke = func() {}
	}
	if len(c.Ladder) == 0 {
		c.Ladder = DefaultLadder()
	}
	if c.SegmentSeconds == 0 {
		c.SegmentSeconds = 2
	}
	if c.JobTimeLimit == 0 {
		c.JobTimeLimit = 2 * time.Hour
	}
	return &Service{cfg: c, now: func() time.Time { return time.Now().UTC() }}, nil
}

// Prefix is where everything of an asset lives in object storage.
func Prefix(tenant, assetID string) string {
	return "tenants/" + tenant + "/assets/" + assetID + "/"
}

// CreateFromURL creates an asset whose source a worker fetches from a URL.
func (s *Service) CreateFromURL(ctx context.Context, tenant string, in CreateInput) (Asset, error) {
	u, err := url.Parse(in.Input)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || len(in.Input) > 2048 {
		return Asset{}, errs.Field("input", "input must be an http or https URL without credentials")
	}
	return s.create(ctx, tenant, "", in.Input, 0, in.Protected)
}

// CreateFromUpload creates an asset from a completed upload already stored
// at sourceKey.
func (s *Service) CreateFromUpload(ctx context.Context, tenant, sourceKey string, size int64, protected bool) (Asset, error) {
	return s.create(ctx, tenant, sourceKey, "", size, protected)
}

// EncodingProfile is the ladder the tenant's new assets get.
func (s *Service) EncodingProfile(ctx context.Context, tenant string) (EncodingProfile, error) {
	ladder, ok, err := s.cfg.Store.Ladder(ctx, tenant)
	if err != nil {
		return EncodingProfile{}, err
	}
	if !ok {
		return EncodingProfile{Ladder: s.cfg.Ladder, Default: true}, nil
	}
	return EncodingProfile{Ladder: ladder}, nil
}

// SetEncodingProfile replaces the tenant's ladder for new assets.
func (s *Service) SetEncodingProfile(ctx context.Context, tenant string, p EncodingProfile) (EncodingProfile, error) {
	if err := p.Validate(); err != nil {
		return EncodingProfile{}, err
	}
	if err := s.cfg.Store.SetLadder(ctx, tenant, p.Ladder); err != nil {
		return EncodingProfile{}, err
	}
	return EncodingProfile{Ladder: p.Ladder}, nil
}

func (s *Service) create(ctx context.Context, tenant, sourceKey, sourceURL string, size int64, protected bool) (Asset, error) {
	if s.cfg.Gate != nil {
		if err := s.cfg.Gate(ctx, tenant); err != nil {
			return Asset{}, err
		}
	}
	profile, err := s.EncodingProfile(ctx, tenant)
	if err != nil {
		return Asset{}, err
	}
	now := s.now()
	a := Asset{ID: ids.New(ids.Asset), TenantID: tenant, Status: StatusWaiting, SourceKey: sourceKey, SourceURL: sourceURL, SourceBytes: size, Protected: protected, CreatedAt: now, UpdatedAt: now}
	j := Job{
		ID: ids.New(ids.Job), TenantID: tenant, AssetID: a.ID, Kind: wire.TaskTranscode, Queue: wire.QueueCPU, CreatedAt: now,
		Payload: wire.TranscodeTask{
			TenantID: tenant, AssetID: a.ID, SourceKey: sourceKey, SourceURL: sourceURL, Ladder: profile.Ladder,
			SegmentSeconds: s.cfg.SegmentSeconds, OutputPrefix: Prefix(tenant, a.ID), TimeLimit: s.cfg.JobTimeLimit, Protected: protected,
		},
	}
	j.Payload.JobID = j.ID
	if err := j.Payload.Validate(); err != nil {
		return Asset{}, err
	}
	if err := s.cfg.Store.CreateAsset(ctx, tenant, a, j, s.admit); err != nil {
		return Asset{}, err
	}
	s.cfg.Poke()
	return s.cfg.Store.Asset(ctx, tenant, a.ID)
}

func (s *Service) admit(ctx context.Context, resource string, limit *int64, used, requested int64) error {
	d, err := s.cfg.Quotas.Decide(ctx, policies.QuotaRequest{Resource: resource, Limit: limit, Used: used, Requested: requested})
	if err != nil {
		return err
	}
	if !d.Allow {
		return errs.E(errs.QuotaExceeded, "quota_exceeded", "%s", d.Reason)
	}
	return nil
}

// Asset returns one of the tenant's assets.
func (s *Service) Asset(ctx context.Context, tenant, id string) (Asset, error) {
	if !ids.Valid(ids.Asset, id) {
		return Asset{}, notFound(id)
	}
	return s.cfg.Store.Asset(ctx, tenant, id)
}

// Assets lists the tenant's assets, a page at a time; next is the id the
// next page starts after.
func (s *Service) Assets(ctx context.Context, tenant string, limit int, after string) ([]Asset, string, error) {
	as, err := s.cfg.Store.Assets(ctx, tenant, limit+1, after)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(as) > limit {
		as = as[:limit]
		next = as[len(as)-1].ID
	}
	return as, next, nil
}

// Delete removes the asset, its jobs and every object under its prefix.
func (s *Service) Delete(ctx context.Context, tenant, id string) error {
	if !ids.Valid(ids.Asset, id) {
		return notFound(id)
	}
	a, err := s.cfg.Store.DeleteAsset(ctx, tenant, id)
	if err != nil {
		return err
	}
	if _, err := s.cfg.Objects.DeletePrefix(ctx, Prefix(tenant, a.ID)); err != nil {
		// The row is gone; a sweep can remove orphans later. Say so loudly.
		s.cfg.Log.ErrorContext(ctx, "delete asset objects", "tenant", tenant, "asset", a.ID, "err", err)
	}
	if a.SourceKey != "" {
		if err := s.cfg.Objects.Delete(ctx, a.SourceKey); err != nil {
			s.cfg.Log.WarnContext(ctx, "delete asset source", "key", a.SourceKey, "err", err)
		}
	}
	return nil
}

// ReadyAsset is a ready asset by id, for public playback of clear assets.
func (s *Service) ReadyAsset(ctx context.Context, id string) (Asset, error) {
	if !ids.Valid(ids.Asset, id) {
		return Asset{}, notFound(id)
	}
	return s.cfg.Store.ReadyAsset(ctx, id)
}

// Start, Progress and Finish are the worker's side of a job, called through
// the control plane's internal API. The lease is how long the attempt may go
// without reporting before the job is given to another worker.
func (s *Service) Start(ctx context.Context, tenant, jobID, attempt, nodeID string, lease time.Duration) (Job, error) {
	return s.cfg.Store.Start(ctx, tenant, jobID, attempt, nodeID, s.now().Add(lease))
}

// Progress records an attempt's progress and extends its lease.
func (s *Service) Progress(ctx context.Context, tenant string, p wire.JobProgress, lease time.Duration) error {
	return s.cfg.Store.Progress(ctx, tenant, p.JobID, p.Attempt, p.Percent, s.now().Add(lease))
}

// Finish records an attempt's result; a retryable failure goes back to the
// relay.
func (s *Service) Finish(ctx context.Context, tenant string, r wire.JobResult) (Asset, error) {
	a, err := s.cfg.Store.Finish(ctx, tenant, r, s.now())
	if err == nil && r.Error != nil && r.Error.Retryable {
		s.cfg.Poke()
	}
	return a, err
}
