// Package playback makes playback safe and resilient: playback ids with
// their access rules, the tenants' token signing keys, CDN and DRM vendor
// configurations, content keys, and the entitlement data (viewers, profiles,
// grants) that the playback policy reads.
//
// The hot path is Resolve → Authorize → manifest rendering: every viewer
// session goes through it, so what it reads (playback ids, signing keys, CDN
// configurations, package indexes) is cached in memory, and entitlement data
// is read only when the access rules need it.
package playback

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/marquee-video/marquee/internal/errs"
)

// Id prefixes.
const (
	PrefixPlaybackID = "pb"
	PrefixSigningKey = "sk"
	PrefixCDN        = "cdn"
)

// Policy says how a playback id may be played.
type Policy string

// Policies.
const (
	// PolicyPublic plays without a token.
	PolicyPublic Policy = "public"
	// PolicySigned needs a playback token signed by one of the tenant's keys.
	PolicySigned Policy = "signed"
	// PolicyDRM needs a token, and the media is encrypted: keys come from
	// the license endpoint or the tenant's DRM vendor.
	PolicyDRM Policy = "drm"
)

// Monetization models of Access.Model.
const (
	ModelFree = "free"
	ModelAVOD = "avod"
	ModelSVOD = "svod"
	ModelTVOD = "tvod"
)

// Access are the rules a playback id is played under, decided by the
// playback policy (policies/playback.rego).
type Access struct {
	// Model is free (the default), avod (free with ads), svod (needs a
	// subscription to Tier) or tvod (needs a rental or purchase of the
	// asset).
	Model string `json:"model"`
	Tier  string `json:"tier,omitempty"`
	// Rating is the content rating (MPAA "PG-13", TV "TV-14", PEGI "PEGI
	// 12"); a viewer profile with a lower limit is refused.
	Rating string `json:"rating,omitempty"`
	// AllowCountries, when set, are the only countries (ISO 3166-1 alpha-2)
	// it plays in; DenyCountries never play it.
	AllowCountries []string `json:"allow_countries,omitempty"`
	DenyCountries  []string `json:"deny_countries,omitempty"`
}

// PlaybackID names an asset to viewers under a policy.
type PlaybackID struct {
	ID        string    `json:"id"`
	TenantID  string    `json:"-"`
	AssetID   string    `json:"asset_id"`
	Policy    Policy    `json:"policy"`
	Access    Access    `json:"access"`
	CreatedAt time.Time `json:"created_at"`
}

// CreatePlaybackIDInput is the body of POST /v1/assets/{id}/playback-ids.
type CreatePlaybackIDInput struct {
	Policy Policy  `json:"policy"`
	Access *Access `json:"access,omitempty"`
}

// ratingAges maps every rating this platform knows to the age it is meant
// for, so that ratings of different systems compare.
var ratingAges = map[string]int{
	"G": 0, "PG": 10, "PG-13": 13, "R": 17, "NC-17": 18,
	"TV-Y": 0, "TV-Y7": 7, "TV-G": 0, "TV-PG": 10, "TV-14": 14, "TV-MA": 17,
	"PEGI 3": 3, "PEGI 7": 7, "PEGI 12": 12, "PEGI 16": 16, "PEGI 18": 18,
}

// RatingAge is the age a rating is meant for, and whether it is known.
func RatingAge(rating string) (int, bool) {
	a, ok := ratingAges[rating]
	return a, ok
}

// Ratings lists the known ratings, sorted.
func Ratings() []string {
	out := make([]string, 0, len(ratingAges))
	for r := range ratingAges {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

func validCountry(c string) bool {
	if len(c) != 2 {
		return false
	}
	return c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}

// Validate checks the input and fills defaults.
func (in *CreatePlaybackIDInput) Validate() error {
	switch in.Policy {
	case PolicyPublic, PolicySigned, PolicyDRM:
	case "":
		return errs.Field("policy", "policy is required: public, signed or drm")
	default:
		return errs.Field("policy", "policy must be public, signed or drm")
	}
	if in.Access == nil {
		in.Access = &Access{}
	}
	return in.Access.Validate()
}

// Validate checks the rules and fills defaults.
func (a *Access) Validate() error {
	if a.Model == "" {
		a.Model = ModelFree
	}
	switch a.Model {
	case ModelFree, ModelAVOD, ModelTVOD:
		if a.Tier != "" {
			return errs.Field("access.tier", "a tier only goes with the svod model")
		}
	case ModelSVOD:
		if !validName(a.Tier) {
			return errs.Field("access.tier", "the svod model needs a tier (1 to 64 letters, digits, '-' or '_')")
		}
	default:
		return errs.Field("access.model", "model must be free, avod, svod or tvod")
	}
	if a.Rating != "" {
		if _, ok := ratingAges[a.Rating]; !ok {
			return errs.Field("access.rating", "unknown rating %q; known: %s", a.Rating, strings.Join(Ratings(), ", "))
		}
	}
	for _, l := range []struct {
		field string
		list  *[]string
	}{{"access.allow_countries", &a.AllowCountries}, {"access.deny_countries", &a.DenyCountries}} {
		if len(*l.list) > 250 {
			return errs.Field(l.field, "at most 250 countries")
		}
		for i, c := range *l.list {
			c = strings.ToUpper(c)
			if !validCountry(c) {
				return errs.Field(l.field, "%q is not an ISO 3166-1 alpha-2 country code", c)
			}
			(*l.list)[i] = c
		}
		slices.Sort(*l.list)
		*l.list = slices.Compact(*l.list)
	}
	return nil
}

func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// SigningKey is the public half of a tenant's playback token key.
type SigningKey struct {
	ID        string     `json:"id"`
	TenantID  string     `json:"-"`
	Alg       string     `json:"alg"`
	PublicKey string     `json:"public_key"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

// CreatedSigningKey is a new key with its private half, shown once.
type CreatedSigningKey struct {
	SigningKey
	PrivateKey string `json:"private_key"`
}

// CreateSigningKeyInput is the body of POST /v1/signing-keys.
type CreateSigningKeyInput struct {
	Alg string `json:"alg"`
}

// CDN providers.
const (
	ProviderCloudFront = "cloudfront"
	ProviderAkamai     = "akamai"
	ProviderFastly     = "fastly"
	ProviderBunny      = "bunny"
	ProviderNginx      = "nginx"
	ProviderGeneric    = "generic"
)

// CDN is one of a tenant's CDNs: a pathway viewers are steered across.
type CDN struct {
	ID       string   `json:"id"`
	TenantID string   `json:"-"`
	Name     string   `json:"name"`
	Provider string   `json:"provider"`
	BaseURL  string   `json:"base_url"`
	KeyID    string   `json:"key_id,omitempty"`
	Weight   int      `json:"weight"`
	Regions  []string `json:"regions"`
	// CanaryPath is probed for health, relative to BaseURL.
	CanaryPath string    `json:"canary_path,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	// Secret signs URLs; never shown again after it is set.
	Secret string `json:"-"`
}

// DRMConfig is a tenant's DRM vendor set-up. License requests for Widevine,
// PlayReady and FairPlay are proxied to the vendor: primary first, backup
// when the primary is down.
type DRMConfig struct {
	Vendor    string      `json:"vendor"`
	Widevine  VendorRoute `json:"widevine"`
	PlayReady VendorRoute `json:"playready"`
	FairPlay  VendorRoute `json:"fairplay"`
	// FairPlayCertificateURL is where players fetch the FairPlay application
	// certificate.
	FairPlayCertificateURL string    `json:"fairplay_certificate_url,omitempty"`
	UpdatedAt              time.Time `json:"updated_at"`
}

// VendorRoute is a DRM system's license servers.
type VendorRoute struct {
	Primary string `json:"primary,omitempty"`
	Backup  string `json:"backup,omitempty"`
}

// Entitlement kinds.
const (
	KindSVOD     = "svod"
	KindRental   = "rental"
	KindPurchase = "purchase"
)

// DefaultRentalWindow is how long a rental plays from its first play.
const DefaultRentalWindow = 48 * time.Hour

// Viewer is one of a tenant's viewers, named by the tenant.
type Viewer struct {
	ID           string        `json:"id"`
	AVOD         bool          `json:"avod"`
	Profiles     []Profile     `json:"profiles"`
	Entitlements []Entitlement `json:"entitlements"`
	CreatedAt    time.Time     `json:"created_at"`
}

// Profile is one member of a viewer's household.
type Profile struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	RatingLimit string `json:"rating_limit,omitempty"`
	HasPIN      bool   `json:"has_pin"`
	// PINHash is the argon2id hash of the parental PIN; never shown.
	PINHash string `json:"-"`
}

// Entitlement is a grant: a subscription to a tier, a rental of an asset
// (its window runs from the first play), or a purchase.
type Entitlement struct {
	ID          string        `json:"id"`
	ViewerID    string        `json:"viewer_id"`
	Kind        string        `json:"kind"`
	Tier        string        `json:"tier,omitempty"`
	AssetID     string        `json:"asset_id,omitempty"`
	Window      time.Duration `json:"-"`
	FirstPlayAt *time.Time    `json:"first_play_at"`
	ExpiresAt   *time.Time    `json:"expires_at"`
	RevokedAt   *time.Time    `json:"revoked_at"`
	CreatedAt   time.Time     `json:"created_at"`
}

// Active reports whether the grant is in force at t: not revoked, not past
// its expiry, and, for a rental already played, within its window.
func (e Entitlement) Active(t time.Time) bool {
	if e.RevokedAt != nil || (e.ExpiresAt != nil && !t.Before(*e.ExpiresAt)) {
		return false
	}
	if e.Kind == KindRental && e.FirstPlayAt != nil && e.Window > 0 && !t.Before(e.FirstPlayAt.Add(e.Window)) {
		return false
	}
	return true
}

// ContentKey is an asset's content key wrapped under a platform KEK.
type ContentKey struct {
	AssetID string
	KID     string // 32 hex digits
	KEKID   string
	Wrapped []byte
}

// Store persists playback data. Tenant-facing methods are scoped to the
// tenant; the By* lookups of the public hot path cross tenants by design.
type Store interface {
	CreatePlaybackID(ctx context.Context, p PlaybackID) error
	PlaybackIDs(ctx context.Context, tenant, assetID string) ([]PlaybackID, error)
	DeletePlaybackID(ctx context.Context, tenant, id string) error
	// PlaybackIDByID finds any tenant's playback id (public lookup).
	PlaybackIDByID(ctx context.Context, id string) (PlaybackID, error)

	CreateSigningKey(ctx context.Context, k SigningKey) error
	SigningKeys(ctx context.Context, tenant string) ([]SigningKey, error)
	RevokeSigningKey(ctx context.Context, tenant, id string, at time.Time) error
	// SigningKeyByID finds any tenant's key (token verification).
	SigningKeyByID(ctx context.Context, id string) (SigningKey, error)

	PutCDN(ctx context.Context, c CDN, max int) error
	CDNs(ctx context.Context, tenant string) ([]CDN, error)
	DeleteCDN(ctx context.Context, tenant, id string) error

	PutDRMConfig(ctx context.Context, tenant string, c DRMConfig) error
	DRMConfig(ctx context.Context, tenant string) (DRMConfig, error)

	PutContentKeys(ctx context.Context, tenant string, keys []ContentKey) error
	ContentKeys(ctx context.Context, tenant, assetID string) ([]ContentKey, error)
	// ContentKeysByKID finds keys by their ids within a tenant (licenses).
	ContentKeysByKID(ctx context.Context, tenant string, kids []string) ([]ContentKey, error)

	PutViewer(ctx context.Context, tenant string, v Viewer) error
	Viewer(ctx context.Context, tenant, id string) (Viewer, error)
	PutProfile(ctx context.Context, tenant, viewerID string, p Profile) error
	ProfilePINHash(ctx context.Context, tenant, viewerID, profileID string) (string, error)
	// Grant records an entitlement; a grant id already recorded is a no-op
	// (grants come from webhooks that may be delivered twice).
	Grant(ctx context.Context, tenant string, e Entitlement) error
	Revoke(ctx context.Context, tenant, id string, at time.Time) error
	// StartRental stamps a rental's first play if it has none.
	StartRental(ctx context.Context, tenant, id string, at time.Time) error
}
