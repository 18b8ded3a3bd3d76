package uploads

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/tus/tusd/v2/pkg/filestore"
	tusd "github.com/tus/tusd/v2/pkg/handler"

	"github.com/marquee-video/marquee/controlplane/assets"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/ids"
	"github.com/marquee-video/marquee/policies"
)

// Objects is the object storage an upload's record and bytes go to.
type Objects interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	PutFile(ctx context.Context, key, path, contentType string) error
	Get(ctx context.Context, key string) (io.ReadCloser, error)
}

// AssetCreator turns a stored upload into an asset (assets.Service).
type AssetCreator interface {
	CreateFromUpload(ctx context.Context, tenant, sourceKey string, size int64, protected bool) (assets.Asset, error)
}

// QuotaPolicy decides quota questions (policies.QuotaPolicy).
type QuotaPolicy interface {
	Decide(ctx context.Context, r policies.QuotaRequest) (policies.QuotaDecision, error)
}

// StorageQuota reports a tenant's storage_bytes limit (nil: unlimited) and
// what it stores now.
type StorageQuota func(ctx context.Context, tenant string) (limit *int64, used int64, err error)

// Config builds a Service.
type Config struct {
	// Dir holds tusd's filestore: partial uploads and their .info files.
	Dir     string
	Objects Objects
	Assets  AssetCreator
	Quotas  QuotaPolicy
	Storage StorageQuota
	// Key signs upload tokens; at least 32 bytes.
	Key []byte
	// TTL is how long an upload URL works; MaxSize the largest upload.
	TTL     time.Duration
	MaxSize int64
	Log     *slog.Logger
}

// Service reserves uploads, serves their tus endpoint and turns finished
// ones into assets.
type Service struct {
	cfg   Config
	key   []byte
	store filestore.FileStore
	tus   *tusd.UnroutedHandler
	now   func() time.Time
}

// NewService builds a Service and its tus handler.
func NewService(c Config) (*Service, error) {
	if c.Dir == "" || c.Objects == nil || c.Assets == nil || c.Quotas == nil || c.Storage == nil {
		return nil, errors.New("uploads: dir, objects, assets, quotas and storage are required")
	}
	if len(c.Key) < 32 {
		return nil, errors.New("uploads: the signing key must be at least 32 bytes")
	}
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.MaxSize == 0 {
		c.MaxSize = DefaultMaxSize
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(c.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("uploads: %w", err)
	}
	s := &Service{cfg: c, key: c.Key, store: filestore.New(c.Dir), now: func() time.Time { return time.Now().UTC() }}
	if err := s.newTus(); err != nil {
		return nil, err
	}
	return s, nil
}

// MaxSize is the largest upload accepted.
func (s *Service) MaxSize() int64 { return s.cfg.MaxSize }

// Create reserves an upload for tenant and returns it with the token its
// tus URL carries.
func (s *Service) Create(ctx context.Context, tenant string, in CreateInput) (Upload, string, error) {
	if err := in.Validate(s.cfg.MaxSize); err != nil {
		return Upload{}, "", err
	}
	if in.Size != nil {
		if err := s.admit(ctx, tenant, *in.Size); err != nil {
			return Upload{}, "", err
		}
	}
	now := s.now()
	r := record{ID: ids.New(IDPrefix), TenantID: tenant, Size: in.Size, Protected: in.Protected, ExpiresAt: now.Add(s.cfg.TTL).Truncate(time.Second), CreatedAt: now}
	if err := s.save(ctx, r); err != nil {
		return Upload{}, "", err
	}
	token := s.sign(Grant{UploadID: r.ID, TenantID: tenant, ExpiresAt: r.ExpiresAt})
	return r.view(0), token, nil
}

// Upload is one of the tenant's uploads with its progress.
func (s *Service) Upload(ctx context.Context, tenant, id string) (Upload, error) {
	if !validID(id) {
		return Upload{}, notFound(id)
	}
	r, err := s.load(ctx, tenant, id)
	if err != nil {
		return Upload{}, err
	}
	if r.AssetID != "" {
		return r.view(0), nil
	}
	info, err := s.info(ctx, id)
	switch {
	case errors.Is(err, tusd.ErrNotFound):
		return r.view(0), nil
	case err != nil:
		return Upload{}, err
	case info.MetaData[metaTenant] != tenant:
		return Upload{}, notFound(id)
	}
	u := r.view(info.Offset)
	if !info.SizeIsDeferred {
		size := info.Size
		u.Size = &size
	}
	return u, nil
}

func (r record) view(offset int64) Upload {
	u := Upload{ID: r.ID, TenantID: r.TenantID, Status: StatusWaiting, Offset: offset, Size: r.Size, ExpiresAt: r.ExpiresAt, CreatedAt: r.CreatedAt}
	if r.AssetID != "" {
		u.Status, u.AssetID = StatusAssetCreated, r.AssetID
		if r.Size != nil {
			u.Offset = *r.Size
		}
	}
	return u
}

// admit asks the quota policy whether tenant may store size more bytes.
func (s *Service) admit(ctx context.Context, tenant string, size int64) error {
	limit, used, err := s.cfg.Storage(ctx, tenant)
	if err != nil {
		return err
	}
	d, err := s.cfg.Quotas.Decide(ctx, policies.QuotaRequest{Resource: policies.ResourceStorageBytes, Limit: limit, Used: used, Requested: size})
	if err != nil {
		return err
	}
	if !d.Allow {
		return errs.E(errs.QuotaExceeded, "quota_exceeded", "%s", d.Reason)
	}
	return nil
}

func (s *Service) save(ctx context.Context, r record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return s.cfg.Objects.Put(ctx, recordKey(r.TenantID, r.ID), bytes.NewReader(b), int64(len(b)), "application/json")
}

// load reads the tenant's record of upload id; another tenant's upload is
// simply not under this tenant's prefix.
func (s *Service) load(ctx context.Context, tenant, id string) (record, error) {
	rc, err := s.cfg.Objects.Get(ctx, recordKey(tenant, id))
	if errs.Is(err, errs.NotFound) {
		return record{}, notFound(id)
	}
	if err != nil {
		return record{}, err
	}
	defer rc.Close()
	var r record
	if err := json.NewDecoder(io.LimitReader(rc, 64<<10)).Decode(&r); err != nil {
		return record{}, fmt.Errorf("uploads: record %s: %w", id, err)
	}
	if r.ID != id || r.TenantID != tenant {
		return record{}, notFound(id)
	}
	return r, nil
}

func (s *Service) info(ctx context.Context, id string) (tusd.FileInfo, error) {
	up, err := s.store.GetUpload(ctx, id)
	if err != nil {
		return tusd.FileInfo{}, err
	}
	return up.GetInfo(ctx)
}
