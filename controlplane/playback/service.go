package playback

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/marquee-video/marquee/controlplane/assets"
	"github.com/marquee-video/marquee/controlplane/usage"
	"github.com/marquee-video/marquee/dataplane/cdn"
	"github.com/marquee-video/marquee/dataplane/drm"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/ids"
	"github.com/marquee-video/marquee/internal/netguard"
	"github.com/marquee-video/marquee/internal/wire"
	"github.com/marquee-video/marquee/policies"
)

// Limits.
const (
	MaxCDNs        = 8
	MaxPlaybackIDs = 10
	cacheTTL       = 30 * time.Second
	indexCacheTTL  = 5 * time.Minute
	maxIndexBytes  = 1 << 20
)

// LicenseURLMarker is the Clear Key license URL the worker packages with:
// the manifest service swaps it for the viewer's tokenized license URL, or
// drops the element when the viewer's player is configured with one.
const LicenseURLMarker = "https://marquee.invalid/license/clearkey"

// AssetReader finds ready assets by id across tenants (the public hot path).
type AssetReader interface {
	ReadyAsset(ctx context.Context, id string) (assets.Asset, error)
	Asset(ctx context.Context, tenant, id string) (assets.Asset, error)
}

// ObjectReader reads packaged objects.
type ObjectReader interface {
	Get(ctx context.Context, key string) (io.ReadCloser, error)
}

// Config wires a Service.
type Config struct {
	Store   Store
	Assets  AssetReader
	Objects ObjectReader
	Policy  *policies.PlaybackPolicy
	// Keys wraps content keys at rest.
	Keys *drm.KeyRing
	// OriginSecret derives each tenant's built-in origin signing secret.
	OriginSecret []byte
	// PublicURL is this control plane's base URL as viewers reach it: the
	// built-in origin, steering and license URLs hang off it.
	PublicURL string
	// LicenseGuard says which networks vendor license servers may be on
	// (tests allow loopback); LicenseTimeout bounds each vendor attempt.
	LicenseGuard   netguard.Policy
	LicenseTimeout time.Duration
	// Usage counts licenses issued and bytes the origin serves, for
	// billing; nil counts nothing.
	Usage *usage.Counter
	Log   *slog.Logger
	Now   func() time.Time
}

// Service is the playback service.
type Service struct {
	cfg  Config
	pbs  *expirable.LRU[string, PlaybackID]
	keys *expirable.LRU[string, verifyKey]
	// tokens holds verified tokens: a player sends one token for its
	// manifests, steering reloads and reports, and an RSA or ECDSA
	// verification costs more than the rest of a manifest request.
	tokens  *expirable.LRU[string, verifiedToken]
	revoked sync.Map // key ids revoked by this process, refused at once
	cdns    *expirable.LRU[string, []CDN]
	pws     *expirable.LRU[string, *tenantPathways]
	// clearKeys holds unwrapped content keys briefly, as a license server
	// does with its KMS: every license would otherwise read and unwrap.
	clearKeys *expirable.LRU[string, []drm.ContentKey]
	bases     *expirable.LRU[baseKey, string]
	// media holds media playlists rewritten with per-segment signatures for
	// query-token CDNs: they depend on the asset, CDN, track and expiry
	// bucket, not on the viewer.
	media   *expirable.LRU[baseKey, []byte]
	indexes *expirable.LRU[string, *packageView]

	licenseHTTP *http.Client

	mu      sync.Mutex
	health  map[string]*tenantHealth
	proxies map[string]*drm.Proxy
}

// NewService returns a Service.
func NewService(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Assets == nil || cfg.Objects == nil || cfg.Policy == nil || cfg.Keys == nil {
		return nil, errors.New("playback: store, assets, objects, policy and keys are required")
	}
	if len(cfg.OriginSecret) < 16 {
		return nil, errors.New("playback: the origin secret must be at least 16 bytes")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Now().UTC() }
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	return &Service{
		cfg:         cfg,
		pbs:         expirable.NewLRU[string, PlaybackID](65536, nil, cacheTTL),
		keys:        expirable.NewLRU[string, verifyKey](16384, nil, cacheTTL),
		tokens:      expirable.NewLRU[string, verifiedToken](65536, nil, cacheTTL),
		cdns:        newCDNCache(),
		pws:         expirable.NewLRU[string, *tenantPathways](16384, nil, cacheTTL),
		clearKeys:   expirable.NewLRU[string, []drm.ContentKey](4096, nil, cacheTTL),
		bases:       expirable.NewLRU[baseKey, string](65536, nil, 5*time.Minute),
		media:       expirable.NewLRU[baseKey, []byte](4096, nil, 5*time.Minute),
		indexes:     expirable.NewLRU[string, *packageView](4096, nil, indexCacheTTL),
		health:      map[string]*tenantHealth{},
		proxies:     map[string]*drm.Proxy{},
		licenseHTTP: licenseClient(cfg.LicenseGuard),
	}, nil
}

func newCDNCache() *expirable.LRU[string, []CDN] {
	return expirable.NewLRU[string, []CDN](16384, nil, cacheTTL)
}

// jsonUnmarshal is json.Unmarshal (a seam for the fuzz tests).
func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func (s *Service) now() time.Time { return s.cfg.Now().Truncate(time.Microsecond) }

// Playback ids.

// CreatePlaybackID adds a playback id to one of the tenant's assets.
func (s *Service) CreatePlaybackID(ctx context.Context, tenant, assetID string, in CreatePlaybackIDInput) (PlaybackID, error) {
	if err := in.Validate(); err != nil {
		return PlaybackID{}, err
	}
	a, err := s.cfg.Assets.Asset(ctx, tenant, assetID)
	if err != nil {
		return PlaybackID{}, err
	}
	if in.Policy == PolicyDRM && !a.Protected {
		return PlaybackID{}, errs.E(errs.Conflict, "asset_not_protected", "asset %s was not packaged encrypted; create it with \"playback_policy\": \"drm\"", a.ID)
	}
	if in.Policy != PolicyDRM && a.Protected {
		return PlaybackID{}, errs.E(errs.Conflict, "asset_protected", "asset %s is encrypted; it plays only through a drm playback id", a.ID)
	}
	existing, err := s.cfg.Store.PlaybackIDs(ctx, tenant, assetID)
	if err != nil {
		return PlaybackID{}, err
	}
	if len(existing) >= MaxPlaybackIDs {
		return PlaybackID{}, errs.E(errs.Conflict, "too_many_playback_ids", "an asset may have at most %d playback ids", MaxPlaybackIDs)
	}
	p := PlaybackID{ID: ids.New(PrefixPlaybackID), TenantID: tenant, AssetID: assetID, Policy: in.Policy, Access: *in.Access, CreatedAt: s.now()}
	if err := s.cfg.Store.CreatePlaybackID(ctx, p); err != nil {
		return PlaybackID{}, err
	}
	return p, nil
}

// PlaybackIDs lists an asset's playback ids.
func (s *Service) PlaybackIDs(ctx context.Context, tenant, assetID string) ([]PlaybackID, error) {
	if _, err := s.cfg.Assets.Asset(ctx, tenant, assetID); err != nil {
		return nil, err
	}
	return s.cfg.Store.PlaybackIDs(ctx, tenant, assetID)
}

// DeletePlaybackID removes a playback id; viewers lose access within the
// cache's 30 seconds.
func (s *Service) DeletePlaybackID(ctx context.Context, tenant, assetID, id string) error {
	if !ids.Valid(PrefixPlaybackID, id) {
		return pbNotFound(id)
	}
	p, err := s.cfg.Store.PlaybackIDByID(ctx, id)
	if err != nil || p.TenantID != tenant || p.AssetID != assetID {
		return pbNotFound(id)
	}
	s.pbs.Remove(id)
	return s.cfg.Store.DeletePlaybackID(ctx, tenant, id)
}

func pbNotFound(id string) error { return errs.NotFoundf("playback id %q not found", id) }

func (s *Service) playbackID(ctx context.Context, id string) (PlaybackID, error) {
	if p, ok := s.pbs.Get(id); ok {
		return p, nil
	}
	if !ids.Valid(PrefixPlaybackID, id) {
		return PlaybackID{}, pbNotFound(id)
	}
	p, err := s.cfg.Store.PlaybackIDByID(ctx, id)
	if err != nil {
		return PlaybackID{}, err
	}
	s.pbs.Add(id, p)
	return p, nil
}

// Signing keys.

// CreateSigningKey makes a key pair; the private half is returned once.
func (s *Service) CreateSigningKey(ctx context.Context, tenant string, in CreateSigningKeyInput) (CreatedSigningKey, error) {
	if in.Alg == "" {
		in.Alg = AlgRS256
	}
	pub, priv, err := GenerateKeyPair(in.Alg)
	if err != nil {
		return CreatedSigningKey{}, err
	}
	k := SigningKey{ID: ids.New(PrefixSigningKey), TenantID: tenant, Alg: in.Alg, PublicKey: pub, CreatedAt: s.now()}
	if err := s.cfg.Store.CreateSigningKey(ctx, k); err != nil {
		return CreatedSigningKey{}, err
	}
	return CreatedSigningKey{SigningKey: k, PrivateKey: priv}, nil
}

// SigningKeys lists the tenant's keys.
func (s *Service) SigningKeys(ctx context.Context, tenant string) ([]SigningKey, error) {
	return s.cfg.Store.SigningKeys(ctx, tenant)
}

// RevokeSigningKey revokes a key; its tokens stop verifying within 30 s.
func (s *Service) RevokeSigningKey(ctx context.Context, tenant, id string) error {
	if !ids.Valid(PrefixSigningKey, id) {
		return errs.NotFoundf("signing key %q not found", id)
	}
	if err := s.cfg.Store.RevokeSigningKey(ctx, tenant, id, s.now()); err != nil {
		return err
	}
	s.keys.Remove(id)
	s.revoked.Store(id, true)
	return nil
}

type verifiedToken struct {
	claims *Claims
	key    verifyKey
}

// verify checks a token for pb and aud, from the cache of verified tokens
// when it can. Other processes' revocations take effect within the caches'
// 30 s; this process's at once.
func (s *Service) verify(ctx context.Context, raw string, pb PlaybackID, aud string) (*Claims, error) {
	vt, ok := s.tokens.Get(raw)
	if !ok {
		c, vk, err := parseToken(raw, func(kid string) (verifyKey, error) { return s.verifyKey(ctx, kid) })
		if err != nil {
			return nil, err
		}
		vt = verifiedToken{claims: c, key: vk}
		s.tokens.Add(raw, vt)
	}
	if _, gone := s.revoked.Load(vt.key.kid); gone {
		return nil, tokenErr("token_invalid", "the playback token is not valid")
	}
	return vt.claims, checkClaims(vt.claims, vt.key.tenantID, pb, aud, s.cfg.Now())
}

func (s *Service) verifyKey(ctx context.Context, kid string) (verifyKey, error) {
	if k, ok := s.keys.Get(kid); ok {
		return k, nil
	}
	if !ids.Valid(PrefixSigningKey, kid) {
		return verifyKey{}, errors.New("unknown key")
	}
	k, err := s.cfg.Store.SigningKeyByID(ctx, kid)
	if err != nil {
		return verifyKey{}, err
	}
	pub, err := parsePublicKey(k.Alg, k.PublicKey)
	if err != nil {
		return verifyKey{}, err
	}
	vk := verifyKey{tenantID: k.TenantID, alg: k.Alg, pub: pub, revoked: k.RevokedAt != nil}
	s.keys.Add(kid, vk)
	return vk, nil
}

// CDNs.

// CDNInput is the body of POST /v1/cdns.
type CDNInput struct {
	Name       string   `json:"name"`
	Provider   string   `json:"provider"`
	BaseURL    string   `json:"base_url"`
	KeyID      string   `json:"key_id"`
	Secret     string   `json:"secret"`
	Weight     *int     `json:"weight"`
	Regions    []string `json:"regions"`
	CanaryPath string   `json:"canary_path"`
}

// PutCDN adds a CDN (id "") or replaces one.
func (s *Service) PutCDN(ctx context.Context, tenant, id string, in CDNInput) (CDN, error) {
	c := CDN{ID: id, TenantID: tenant, Name: strings.TrimSpace(in.Name), Provider: in.Provider, BaseURL: strings.TrimSuffix(in.BaseURL, "/"),
		KeyID: in.KeyID, Secret: in.Secret, Weight: 1, Regions: in.Regions, CanaryPath: in.CanaryPath, CreatedAt: s.now()}
	if in.Weight != nil {
		c.Weight = *in.Weight
	}
	if c.Regions == nil {
		c.Regions = []string{}
	}
	if c.ID == "" {
		c.ID = ids.New(PrefixCDN)
	} else if !ids.Valid(PrefixCDN, c.ID) {
		return CDN{}, errs.NotFoundf("CDN %q not found", id)
	}
	if err := validateCDN(c); err != nil {
		return CDN{}, err
	}
	if c.CanaryPath == "" {
		c.CanaryPath = "/canary"
	}
	if err := s.cfg.Store.PutCDN(ctx, c, MaxCDNs); err != nil {
		return CDN{}, err
	}
	s.cdns.Remove(tenant)
	s.pws.Remove(tenant)
	return c, nil
}

func validateCDN(c CDN) error {
	if c.Name == "" || len(c.Name) > 100 {
		return errs.Field("name", "name is required (at most 100 characters)")
	}
	if !slices.Contains(cdn.Providers(), c.Provider) {
		return errs.Field("provider", "provider must be one of %s", strings.Join(cdn.Providers(), ", "))
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return errs.Field("base_url", "base_url must be an absolute http(s) URL without query")
	}
	if c.Weight < 0 || c.Weight > 1000 {
		return errs.Field("weight", "weight must be between 0 and 1000")
	}
	if len(c.Regions) > 20 {
		return errs.Field("regions", "at most 20 regions")
	}
	for _, r := range c.Regions {
		if !validName(r) {
			return errs.Field("regions", "region %q must be 1 to 64 letters, digits, '-' or '_'", r)
		}
	}
	if c.CanaryPath != "" && !strings.HasPrefix(c.CanaryPath, "/") {
		return errs.Field("canary_path", "canary_path must start with /")
	}
	// The signer must build from the secret, or viewers would get
	// manifests that cannot be signed.
	if PathTokenProvider(c.Provider) {
		if len(c.Secret) < 16 {
			return errs.Field("secret", "the %s provider needs a secret of at least 16 characters", c.Provider)
		}
		return nil
	}
	if _, err := cdn.NewSigner(c.Provider, signerConfig(c)); err != nil {
		return err
	}
	return nil
}

func signerConfig(c CDN) cdn.SignerConfig {
	sc := cdn.SignerConfig{Key: c.Secret, KeyPairID: c.KeyID}
	if c.Provider == ProviderCloudFront {
		sc.Key, sc.PrivateKeyPEM = "", []byte(c.Secret)
	}
	return sc
}

// CDNs lists the tenant's CDNs (without their secrets).
func (s *Service) CDNs(ctx context.Context, tenant string) ([]CDN, error) {
	return s.cfg.Store.CDNs(ctx, tenant)
}

// DeleteCDN removes a CDN.
func (s *Service) DeleteCDN(ctx context.Context, tenant, id string) error {
	if !ids.Valid(PrefixCDN, id) {
		return errs.NotFoundf("CDN %q not found", id)
	}
	s.cdns.Remove(tenant)
	s.pws.Remove(tenant)
	return s.cfg.Store.DeleteCDN(ctx, tenant, id)
}

func (s *Service) tenantCDNs(ctx context.Context, tenant string) ([]CDN, error) {
	if cs, ok := s.cdns.Get(tenant); ok {
		return cs, nil
	}
	cs, err := s.cfg.Store.CDNs(ctx, tenant)
	if err != nil {
		return nil, err
	}
	s.cdns.Add(tenant, cs)
	return cs, nil
}

// originSecret is the tenant's built-in origin signing secret.
func (s *Service) originSecret(tenant string) string {
	m := hmac.New(sha256.New, s.cfg.OriginSecret)
	m.Write([]byte("origin/" + tenant))
	return hex.EncodeToString(m.Sum(nil))
}

// OriginPathway is the pathway id of the built-in origin, used when a
// tenant has no CDN.
const OriginPathway = "origin"

// tenantPathways are the CDNs a tenant's viewers are steered across, with
// what signs for them, built once per CDN change.
type tenantPathways struct {
	list []pathway
	key  string // identifies the set, for its health tracker
}

func (tp *tenantPathways) byID(id string) pathway {
	for _, p := range tp.list {
		if p.id == id {
			return p
		}
	}
	return pathway{}
}

func (s *Service) pathways(ctx context.Context, tenant string) (*tenantPathways, error) {
	if tp, ok := s.pws.Get(tenant); ok {
		return tp, nil
	}
	cs, err := s.tenantCDNs(ctx, tenant)
	if err != nil {
		return nil, err
	}
	tp := &tenantPathways{}
	if len(cs) == 0 {
		tp.list = []pathway{{id: OriginPathway, provider: ProviderGeneric, base: s.cfg.PublicURL, secret: s.originSecret(tenant), weight: 1}}
	}
	for _, c := range cs {
		p := pathway{id: pathwayID(c), provider: c.Provider, base: c.BaseURL, secret: c.Secret, weight: c.Weight, regions: c.Regions, canary: c.CanaryPath}
		if !PathTokenProvider(c.Provider) {
			// Exact-path signing: a prefix (ACL) token would have to be
			// per asset, and these signatures go into media playlists the
			// manifest service rewrites per CDN (MediaPlaylist).
			sg, err := cdn.NewSigner(c.Provider, signerConfig(c))
			if err != nil {
				return nil, err
			}
			p.signer = sg
		}
		tp.list = append(tp.list, p)
	}
	tp.key = pathwaysKey(tp.list)
	s.pws.Add(tenant, tp)
	return tp, nil
}

// pathwayID is the CDN's pathway id in manifests: its id without the prefix.
func pathwayID(c CDN) string { return strings.TrimPrefix(c.ID, PrefixCDN+"_") }

type pathway struct {
	id, provider, base, secret string
	weight                     int
	regions                    []string
	canary                     string
	signer                     cdn.Signer // query-token providers
}

// DRM.

// PutDRMConfig sets the tenant's DRM vendor configuration.
func (s *Service) PutDRMConfig(ctx context.Context, tenant string, c DRMConfig) (DRMConfig, error) {
	for _, r := range []struct {
		name  string
		route VendorRoute
	}{{"widevine", c.Widevine}, {"playready", c.PlayReady}, {"fairplay", c.FairPlay}} {
		for _, u := range []struct{ f, v string }{{"primary", r.route.Primary}, {"backup", r.route.Backup}} {
			if u.v == "" {
				continue
			}
			pu, err := url.Parse(u.v)
			if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
				return DRMConfig{}, errs.Field(r.name+"."+u.f, "%s.%s must be an absolute http(s) URL", r.name, u.f)
			}
		}
		if r.route.Backup != "" && r.route.Primary == "" {
			return DRMConfig{}, errs.Field(r.name+".primary", "a backup needs a primary")
		}
	}
	if len(c.Vendor) > 100 {
		return DRMConfig{}, errs.Field("vendor", "vendor is at most 100 characters")
	}
	c.UpdatedAt = s.now()
	if err := s.cfg.Store.PutDRMConfig(ctx, tenant, c); err != nil {
		return DRMConfig{}, err
	}
	return c, nil
}

// DRMConfig returns the tenant's DRM vendor configuration.
func (s *Service) DRMConfig(ctx context.Context, tenant string) (DRMConfig, error) {
	return s.cfg.Store.DRMConfig(ctx, tenant)
}

// ContentKeyFor returns the asset's content key, creating it on first use
// (the worker asks when it packages a protected asset).
func (s *Service) ContentKeyFor(ctx context.Context, tenant, assetID string) (drm.ContentKey, error) {
	keys, err := s.contentKeys(ctx, tenant, assetID)
	if err != nil {
		return drm.ContentKey{}, err
	}
	if len(keys) > 0 {
		return keys[0], nil
	}
	k, err := drm.NewContentKey(rand.Reader)
	if err != nil {
		return drm.ContentKey{}, err
	}
	w, err := s.cfg.Keys.Wrap(k.Key, drm.KeyAAD(tenant, k.KID))
	if err != nil {
		return drm.ContentKey{}, err
	}
	if err := s.cfg.Store.PutContentKeys(ctx, tenant, []ContentKey{{AssetID: assetID, KID: k.KIDHex(), KEKID: w.KEKID, Wrapped: []byte(w.String())}}); err != nil {
		return drm.ContentKey{}, err
	}
	// Two workers racing on the first key: the stored one wins.
	keys, err = s.contentKeys(ctx, tenant, assetID)
	if err != nil || len(keys) == 0 {
		return drm.ContentKey{}, fmt.Errorf("playback: content key of %s: %w", assetID, err)
	}
	return keys[0], nil
}

func (s *Service) unwrap(tenant string, ck ContentKey) (drm.ContentKey, error) {
	kid, err := hex.DecodeString(ck.KID)
	if err != nil {
		return drm.ContentKey{}, fmt.Errorf("playback: stored kid: %w", err)
	}
	w, err := drm.ParseWrapped(string(ck.Wrapped))
	if err != nil {
		return drm.ContentKey{}, err
	}
	key, err := s.cfg.Keys.Unwrap(w, drm.KeyAAD(tenant, kid))
	if err != nil {
		return drm.ContentKey{}, err
	}
	return drm.ContentKey{KID: kid, Key: key}, nil
}

func (s *Service) contentKeys(ctx context.Context, tenant, assetID string) ([]drm.ContentKey, error) {
	if ks, ok := s.clearKeys.Get(tenant + "/" + assetID); ok {
		return ks, nil
	}
	stored, err := s.cfg.Store.ContentKeys(ctx, tenant, assetID)
	if err != nil {
		return nil, err
	}
	out := make([]drm.ContentKey, 0, len(stored))
	for _, ck := range stored {
		k, err := s.unwrap(tenant, ck)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	if len(out) > 0 {
		s.clearKeys.Add(tenant+"/"+assetID, out)
	}
	return out, nil
}

// RotateKEK rewraps every content key of the tenant's asset under the
// active KEK; it returns how many changed.
func (s *Service) RotateKEK(ctx context.Context, tenant, assetID string) (int, error) {
	if _, err := s.cfg.Assets.Asset(ctx, tenant, assetID); err != nil {
		return 0, err
	}
	stored, err := s.cfg.Store.ContentKeys(ctx, tenant, assetID)
	if err != nil {
		return 0, err
	}
	var changed []ContentKey
	for _, ck := range stored {
		kid, err := hex.DecodeString(ck.KID)
		if err != nil {
			return 0, err
		}
		w, err := drm.ParseWrapped(string(ck.Wrapped))
		if err != nil {
			return 0, err
		}
		nw, did, err := s.cfg.Keys.Rewrap(w, drm.KeyAAD(tenant, kid))
		if err != nil {
			return 0, err
		}
		if did {
			changed = append(changed, ContentKey{AssetID: assetID, KID: ck.KID, KEKID: nw.KEKID, Wrapped: []byte(nw.String())})
		}
	}
	return len(changed), s.cfg.Store.PutContentKeys(ctx, tenant, changed)
}

// CPIX exports the asset's keys as a CPIX 2.3 document for the tenant's
// DRM vendor.
func (s *Service) CPIX(ctx context.Context, tenant, assetID string) ([]byte, error) {
	a, err := s.cfg.Assets.Asset(ctx, tenant, assetID)
	if err != nil {
		return nil, err
	}
	if !a.Protected {
		return nil, errs.E(errs.Conflict, "asset_not_protected", "asset %s is not encrypted; it has no keys", a.ID)
	}
	keys, err := s.contentKeys(ctx, tenant, assetID)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, errs.E(errs.Conflict, "no_content_keys", "asset %s has no content key yet (it is still processing)", a.ID)
	}
	return drm.CPIX(assetID, keys, []drm.System{drm.Widevine, drm.PlayReady, drm.FairPlay})
}

// Viewers and entitlements.

// ViewerInput is the body of POST /v1/viewers (and, without the id, of
// PATCH /v1/viewers/{id}).
type ViewerInput struct {
	ID   string `json:"id"`
	AVOD bool   `json:"avod"`
}

// CreateViewer adds a viewer; its id is the tenant's own.
func (s *Service) CreateViewer(ctx context.Context, tenant string, in ViewerInput) (Viewer, error) {
	if !validName(in.ID) {
		return Viewer{}, errs.Field("id", "viewer ids are 1 to 64 letters, digits, '-' or '_'")
	}
	if _, err := s.cfg.Store.Viewer(ctx, tenant, in.ID); err == nil {
		return Viewer{}, errs.E(errs.Conflict, "viewer_exists", "viewer %q already exists", in.ID)
	} else if !errs.Is(err, errs.NotFound) {
		return Viewer{}, err
	}
	if err := s.cfg.Store.PutViewer(ctx, tenant, Viewer{ID: in.ID, AVOD: in.AVOD, CreatedAt: s.now()}); err != nil {
		return Viewer{}, err
	}
	return s.cfg.Store.Viewer(ctx, tenant, in.ID)
}

// UpdateViewer changes an existing viewer.
func (s *Service) UpdateViewer(ctx context.Context, tenant string, in ViewerInput) (Viewer, error) {
	if _, err := s.Viewer(ctx, tenant, in.ID); err != nil {
		return Viewer{}, err
	}
	if err := s.cfg.Store.PutViewer(ctx, tenant, Viewer{ID: in.ID, AVOD: in.AVOD, CreatedAt: s.now()}); err != nil {
		return Viewer{}, err
	}
	return s.cfg.Store.Viewer(ctx, tenant, in.ID)
}

// EnsureViewer creates the viewer if it does not exist (grants from
// commerce name viewers the tenant may not have registered).
func (s *Service) EnsureViewer(ctx context.Context, tenant, id string) error {
	if !validName(id) {
		return errs.Field("viewer", "viewer ids are 1 to 64 letters, digits, '-' or '_'")
	}
	if _, err := s.cfg.Store.Viewer(ctx, tenant, id); err == nil || !errs.Is(err, errs.NotFound) {
		return err
	}
	return s.cfg.Store.PutViewer(ctx, tenant, Viewer{ID: id, CreatedAt: s.now()})
}

// Viewer returns a viewer with its profiles and entitlements.
func (s *Service) Viewer(ctx context.Context, tenant, id string) (Viewer, error) {
	if !validName(id) {
		return Viewer{}, errs.NotFoundf("viewer %q not found", id)
	}
	return s.cfg.Store.Viewer(ctx, tenant, id)
}

// ProfileInput is the body of PUT /v1/viewers/{id}/profiles/{profile}.
type ProfileInput struct {
	Name        string `json:"name"`
	RatingLimit string `json:"rating_limit"`
	// PIN is the parental PIN (4 to 8 digits); hashed, never stored or
	// shown in clear.
	PIN string `json:"pin"`
}

// PutProfile creates or updates a viewer's profile.
func (s *Service) PutProfile(ctx context.Context, tenant, viewerID, id string, in ProfileInput) (Viewer, error) {
	if !validName(id) {
		return Viewer{}, errs.Field("profile", "profile ids are 1 to 64 letters, digits, '-' or '_'")
	}
	if in.Name == "" || len(in.Name) > 100 {
		return Viewer{}, errs.Field("name", "name is required (at most 100 characters)")
	}
	if in.RatingLimit != "" {
		if _, ok := ratingAges[in.RatingLimit]; !ok {
			return Viewer{}, errs.Field("rating_limit", "unknown rating %q; known: %s", in.RatingLimit, strings.Join(Ratings(), ", "))
		}
	}
	p := Profile{ID: id, Name: in.Name, RatingLimit: in.RatingLimit}
	if in.PIN != "" {
		if len(in.PIN) < 4 || len(in.PIN) > 8 || strings.Trim(in.PIN, "0123456789") != "" {
			return Viewer{}, errs.Field("pin", "the PIN is 4 to 8 digits")
		}
		h, err := argon2id.CreateHash(in.PIN, argon2id.DefaultParams)
		if err != nil {
			return Viewer{}, err
		}
		p.PINHash = h
	}
	if err := s.cfg.Store.PutProfile(ctx, tenant, viewerID, p); err != nil {
		return Viewer{}, err
	}
	return s.cfg.Store.Viewer(ctx, tenant, viewerID)
}

// CheckPIN verifies a profile's parental PIN.
func (s *Service) CheckPIN(ctx context.Context, tenant, viewerID, profileID, pin string) error {
	h, err := s.cfg.Store.ProfilePINHash(ctx, tenant, viewerID, profileID)
	if err != nil {
		return err
	}
	if h == "" {
		return errs.E(errs.Conflict, "no_pin", "this profile has no PIN")
	}
	ok, err := argon2id.ComparePasswordAndHash(pin, h)
	if err != nil || !ok {
		return errs.E(errs.Forbidden, "wrong_pin", "the PIN is wrong")
	}
	return nil
}

// GrantInput is the body of POST /v1/viewers/{id}/entitlements.
type GrantInput struct {
	// ID makes the grant idempotent; generated when empty.
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Tier    string `json:"tier"`
	AssetID string `json:"asset_id"`
	// WindowHours is a rental's window from its first play (default 48).
	WindowHours int        `json:"window_hours"`
	ExpiresAt   *time.Time `json:"expires_at"`
}

// Grant gives a viewer an entitlement (the tenant's backend, or billing's
// checkout webhook, calls it).
func (s *Service) Grant(ctx context.Context, tenant, viewerID string, in GrantInput) (Viewer, error) {
	if _, err := s.Viewer(ctx, tenant, viewerID); err != nil {
		return Viewer{}, err
	}
	e := Entitlement{ID: in.ID, ViewerID: viewerID, Kind: in.Kind, Tier: in.Tier, AssetID: in.AssetID, ExpiresAt: in.ExpiresAt, CreatedAt: s.now()}
	if e.ID == "" {
		e.ID = ids.New("ent")
	} else if len(e.ID) > 255 {
		return Viewer{}, errs.Field("id", "id is at most 255 characters")
	}
	switch e.Kind {
	case KindSVOD:
		if !validName(e.Tier) || e.AssetID != "" {
			return Viewer{}, errs.Field("tier", "an svod grant names a tier and no asset")
		}
	case KindRental, KindPurchase:
		if !ids.Valid(ids.Asset, e.AssetID) || e.Tier != "" {
			return Viewer{}, errs.Field("asset_id", "a %s names an asset id and no tier", e.Kind)
		}
		if _, err := s.cfg.Assets.Asset(ctx, tenant, e.AssetID); err != nil {
			return Viewer{}, err
		}
		if e.Kind == KindRental {
			e.Window = DefaultRentalWindow
			if in.WindowHours < 0 || in.WindowHours > 24*366 {
				return Viewer{}, errs.Field("window_hours", "window_hours must be between 1 and 8784")
			}
			if in.WindowHours > 0 {
				e.Window = time.Duration(in.WindowHours) * time.Hour
			}
		}
	default:
		return Viewer{}, errs.Field("kind", "kind must be svod, rental or purchase")
	}
	if err := s.cfg.Store.Grant(ctx, tenant, e); err != nil {
		return Viewer{}, err
	}
	return s.cfg.Store.Viewer(ctx, tenant, viewerID)
}

// RevokeGrant ends an entitlement by its grant id, whoever holds it.
func (s *Service) RevokeGrant(ctx context.Context, tenant, id string) error {
	return s.cfg.Store.Revoke(ctx, tenant, id, s.now())
}

// Revoke ends an entitlement.
func (s *Service) Revoke(ctx context.Context, tenant, viewerID, id string) error {
	v, err := s.Viewer(ctx, tenant, viewerID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(v.Entitlements, func(e Entitlement) bool { return e.ID == id }) {
		return errs.NotFoundf("entitlement %q not found", id)
	}
	return s.cfg.Store.Revoke(ctx, tenant, id, s.now())
}

// packageView is an asset's package as the manifest service renders it.
type packageView struct {
	asset assets.Asset
	index wire.PackageIndex
	// The packaged DASH manifest of the DASH variant, split so that
	// BaseURLs and steering go after the MPD's opening tag; the rest also
	// without its Clear Key license URL (prepared once, not per viewer).
	mpdHead, mpdRest, mpdRestNoLicense []byte
}

func (s *Service) packageOf(ctx context.Context, assetID string) (*packageView, error) {
	if v, ok := s.indexes.Get(assetID); ok {
		return v, nil
	}
	a, err := s.cfg.Assets.ReadyAsset(ctx, assetID)
	if err != nil {
		return nil, err
	}
	v := &packageView{asset: a}
	raw, err := s.readObject(ctx, a.PlaybackPrefix+wire.IndexName)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &v.index); err != nil {
		return nil, fmt.Errorf("playback: index of %s: %w", a.ID, err)
	}
	variant := wire.VariantClear
	if a.Protected {
		variant = wire.VariantCENC
	}
	mpd, err := s.readObject(ctx, a.PlaybackPrefix+wire.VariantDir(variant)+"manifest.mpd")
	if err != nil {
		return nil, err
	}
	open := bytes.Index(mpd, []byte("<MPD"))
	end := -1
	if open >= 0 {
		end = bytes.IndexByte(mpd[open:], '>')
	}
	if end < 0 {
		return nil, fmt.Errorf("playback: packaged MPD of %s has no MPD element", a.ID)
	}
	end += open + 1
	v.mpdHead, v.mpdRest = mpd[:end], mpd[end:]
	v.mpdRestNoLicense = laurlRE.ReplaceAll(v.mpdRest, nil)
	s.indexes.Add(assetID, v)
	return v, nil
}

func (s *Service) readObject(ctx context.Context, key string) ([]byte, error) {
	r, err := s.cfg.Objects.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, maxIndexBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxIndexBytes {
		return nil, fmt.Errorf("playback: %s is larger than %d bytes", key, maxIndexBytes)
	}
	return b, nil
}
