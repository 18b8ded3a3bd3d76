// Package uploads is direct, resumable ingest: a tenant reserves an upload
// (POST /v1/uploads), gets a tus URL that carries a signed, expiring grant,
// and sends its bytes there in as many PATCH requests as it likes; when the
// last byte lands the file moves into object storage and becomes an asset.
//
// The tus protocol is served by tusd (github.com/tus/tusd/v2) over a local
// filestore. The upload's record (tenant, declared size, the asset it
// became) is a small JSON object beside the source under the tenant's
// prefix, so no table is needed and one tenant can never name another's.
package uploads

import (
	"time"

	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/ids"
)

// IDPrefix is the prefix of upload ids (upl_…).
const IDPrefix = "upl"

// DefaultMaxSize is the largest upload accepted when Config.MaxSize is 0.
const DefaultMaxSize int64 = 50 << 30

// DefaultTTL is how long an upload's grant lasts when Config.TTL is 0.
const DefaultTTL = 24 * time.Hour

// Status is where an upload stands.
type Status string

// Statuses.
const (
	// StatusWaiting: bytes are still expected.
	StatusWaiting Status = "waiting"
	// StatusAssetCreated: every byte arrived and the asset exists.
	StatusAssetCreated Status = "asset_created"
)

// Upload is one direct upload as the API shows it.
type Upload struct {
	ID        string    `json:"id"`
	TenantID  string    `json:"-"`
	Status    Status    `json:"status"`
	AssetID   string    `json:"asset_id,omitempty"`
	Offset    int64     `json:"offset"`
	Size      *int64    `json:"size"`
	ExpiresAt time.Time `json:"expires_at"`
	CreatedAt time.Time `json:"created_at"`
}

// CreateInput reserves an upload. Size, when given, is the exact length the
// tus client will declare; quotas are checked against it now and again when
// the tus upload is created.
type CreateInput struct {
	Size *int64 `json:"size"`
	// Protected makes the asset packaged encrypted.
	Protected bool `json:"-"`
}

// Validate checks the input against the hard maximum.
func (in CreateInput) Validate(maxSize int64) error {
	if in.Size == nil {
		return nil
	}
	if *in.Size < 1 {
		return errs.Field("size", "size must be at least 1 byte")
	}
	if *in.Size > maxSize {
		return tooLarge(*in.Size, maxSize)
	}
	return nil
}

// Grant is what a verified upload token allows: sending the bytes of one
// upload of one tenant until it expires.
type Grant struct {
	UploadID  string
	TenantID  string
	ExpiresAt time.Time
}

// record is the stored state of an upload.
type record struct {
	ID        string    `json:"id"`
	TenantID  string    `json:"tenant_id"`
	Size      *int64    `json:"size,omitempty"`
	AssetID   string    `json:"asset_id,omitempty"`
	Protected bool      `json:"protected,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
	CreatedAt time.Time `json:"created_at"`
}

// SourceKey is where a finished upload's bytes live in object storage.
func SourceKey(tenant, id string) string { return "tenants/" + tenant + "/uploads/" + id }

func recordKey(tenant, id string) string { return SourceKey(tenant, id) + ".json" }

func notFound(id string) error { return errs.NotFoundf("upload %q not found", id) }

func validID(id string) bool { return ids.Valid(IDPrefix, id) }

func tooLarge(size, maxSize int64) error {
	return errs.E(errs.TooLarge, "upload_too_large", "an upload may be at most %d bytes, this one declares %d", maxSize, size)
}
