package tenants

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/ids"
	"github.com/marquee-video/marquee/policies"
)

// QuotaPolicy is the policy engine's answer to quota questions (OPA in
// production: policies.QuotaPolicy).
type QuotaPolicy interface {
	Decide(ctx context.Context, r policies.QuotaRequest) (policies.QuotaDecision, error)
	ChildLimitViolations(ctx context.Context, parent, child policies.Limits) ([]string, error)
}

// TXTResolver looks up DNS TXT records (net.Resolver does).
type TXTResolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// Config is what a Service is built from.
type Config struct {
	Store    Store
	Quotas   QuotaPolicy
	Objects  ObjectStore
	Sessions *Sessions
	Resolver TXTResolver
	Log      *slog.Logger
	// SignupLimits are a self-signed-up creator's starting limits.
	SignupLimits Limits
	// MaxLogoBytes bounds logo uploads.
	MaxLogoBytes int64
}

// Service is the tenancy domain's rules over a Store.
type Service struct {
	store        Store
	quotas       QuotaPolicy
	objects      ObjectStore
	sessions     *Sessions
	resolver     TXTResolver
	log          *slog.Logger
	signupLimits Limits
	maxLogo      int64
	now          func() time.Time

	// Every authenticated request resolves its acting tenant and, for API
	// keys, the key. Both are cached briefly: the database read was half
	// the cost of an authenticated read. Changes made through this process
	// drop the caches at once; a suspension or revocation made by another
	// control-plane process takes effect within authCacheTTL.
	acting *expirable.LRU[string, Tenant]
	keys   *expirable.LRU[string, APIKey]
}

// authCacheTTL bounds how stale an acting tenant or API key can be.
const authCacheTTL = 2 * time.Second

// DefaultSignupLimits are the limits of the free creator plan.
func DefaultSignupLimits() Limits {
	v := func(n int64) *int64 { return &n }
	return Limits{
		ResStorageBytes:     v(50 << 30),
		ResTranscodeMinutes: v(600),
		ResAssets:           v(500),
		ResConcurrentJobs:   v(2),
		ResSubTenants:       v(0),
		ResEgressGBPerMonth: v(500),
	}
}

// NewService builds a Service.
func NewService(c Config) (*Service, error) {
	if c.Store == nil || c.Quotas == nil || c.Sessions == nil || c.Objects == nil {
		return nil, fmt.Errorf("tenants: store, quotas, objects and sessions are required")
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.SignupLimits == nil {
		c.SignupLimits = DefaultSignupLimits()
	}
	if c.MaxLogoBytes == 0 {
		c.MaxLogoBytes = 1 << 20
	}
	return &Service{
		store: c.Store, quotas: c.Quotas, objects: c.Objects, sessions: c.Sessions, resolver: c.Resolver,
		log: c.Log, signupLimits: c.SignupLimits, maxLogo: c.MaxLogoBytes, now: func() time.Time { return time.Now().UTC() },
		acting: expirable.NewLRU[string, Tenant](10_000, nil, authCacheTTL),
		keys:   expirable.NewLRU[string, APIKey](10_000, nil, authCacheTTL),
	}, nil
}

// Sessions is the token issuer the service signs with.
func (s *Service) Sessions() *Sessions { return s.sessions }

// EnsureRoot creates the platform root on first start.
func (s *Service) EnsureRoot(ctx context.Context) (Tenant, error) {
	now := s.now()
	id := ids.New(ids.Tenant)
	root := Tenant{ID: id, Path: "/" + id + "/", Slug: "platform", Name: "Marquee", Kind: KindPlatform, Status: StatusActive, Plan: "platform", CreatedAt: now, UpdatedAt: now}
	return s.store.EnsureRoot(ctx, root, defaultBranding(id, root.Name, now))
}

// Root is the platform root tenant.
func (s *Service) Root(ctx context.Context) (Tenant, error) { return s.store.Root(ctx) }

func defaultBranding(tenantID, name string, now time.Time) Branding {
	return Branding{
		TenantID: tenantID, DisplayName: name, PrimaryColor: "#6d28d9", AccentColor: "#f59e0b",
		BackgroundColor: "#0b0b12", EmailSenderName: name, UpdatedAt: now,
	}
}

// Signup creates a creator tenant under the platform root, its owner, and a
// session token for the owner.
func (s *Service) Signup(ctx context.Context, in SignupInput) (Tenant, User, string, error) {
	if err := in.Validate(); err != nil {
		return Tenant{}, User{}, "", err
	}
	root, err := s.store.Root(ctx)
	if err != nil {
		return Tenant{}, User{}, "", err
	}
	hash, err := hashPassword(in.Password)
	if err != nil {
		return Tenant{}, User{}, "", err
	}
	now := s.now()
	u := User{ID: ids.New(ids.User), Email: in.Email, Name: in.Name, PasswordHash: hash, CreatedAt: now}
	t, err := s.createTenant(ctx, root, CreateTenantInput{Name: in.Name, Kind: KindCreator}, s.signupLimits, &u)
	if err != nil {
		return Tenant{}, User{}, "", err
	}
	tok, err := s.sessions.Issue(Membership{TenantID: t.ID, UserID: u.ID, Role: RoleOwner})
	if err != nil {
		return Tenant{}, User{}, "", err
	}
	return t, u, tok, nil
}

// Login checks a password and returns a session token for one of the user's
// memberships.
func (s *Service) Login(ctx context.Context, in LoginInput) (string, Membership, error) {
	bad := errs.E(errs.Unauthenticated, "invalid_credentials", "email or password is wrong")
	if err := in.Validate(); err != nil {
		return "", Membership{}, err
	}
	u, err := s.store.UserByEmail(ctx, in.Email)
	if errs.Is(err, errs.NotFound) {
		passwordMatches(in.Password, dummyHash)
		return "", Membership{}, bad
	}
	if err != nil {
		return "", Membership{}, err
	}
	if !passwordMatches(in.Password, u.PasswordHash) {
		return "", Membership{}, bad
	}
	ms, err := s.store.Memberships(ctx, u.ID)
	if err != nil {
		return "", Membership{}, err
	}
	i := 0
	if in.TenantID != "" {
		i = slices.IndexFunc(ms, func(m Membership) bool { return m.TenantID == in.TenantID })
	}
	if len(ms) == 0 || i < 0 {
		return "", Membership{}, bad
	}
	tok, err := s.sessions.Issue(ms[i])
	return tok, ms[i], err
}

// CreateUser adds a user with a role to a tenant (admin CLI).
func (s *Service) CreateUser(ctx context.Context, in CreateUserInput) (User, error) {
	if err := validateEmail(&in.Email); err != nil {
		return User{}, err
	}
	if err := validatePassword(in.Password); err != nil {
		return User{}, err
	}
	t, err := s.store.Tenant(ctx, in.TenantID, in.TenantID)
	if err != nil {
		return User{}, err
	}
	if !ValidRole(t.Kind, in.Role) {
		return User{}, errs.Field("role", "role %q cannot be granted in a %s tenant", in.Role, t.Kind)
	}
	hash, err := hashPassword(in.Password)
	if err != nil {
		return User{}, err
	}
	now := s.now()
	u := User{ID: ids.New(ids.User), Email: in.Email, Name: in.Name, PasswordHash: hash, CreatedAt: now}
	return s.store.CreateUser(ctx, u, Membership{TenantID: t.ID, UserID: u.ID, Role: in.Role, CreatedAt: now})
}

// Authenticate turns a bearer credential into a principal.
func (s *Service) Authenticate(ctx context.Context, bearer string) (Principal, error) {
	if !LooksLikeAPIKey(bearer) {
		return s.sessions.Verify(bearer)
	}
	bad := errs.E(errs.Unauthenticated, "invalid_api_key", "the API key is invalid or revoked")
	prefix, ok := splitAPIKey(bearer)
	if !ok {
		return Principal{}, bad
	}
	k, ok := s.keys.Get(prefix)
	if !ok {
		var err error
		k, err = s.store.APIKeyByPrefix(ctx, prefix)
		if errs.Is(err, errs.NotFound) {
			return Principal{}, bad
		}
		if err != nil {
			return Principal{}, err
		}
		s.keys.Add(prefix, k)
	}
	if k.RevokedAt != nil || !apiKeyMatches(bearer, k.SecretHash) {
		return Principal{}, bad
	}
	now := s.now()
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) > time.Minute {
		if err := s.store.TouchAPIKey(ctx, k.TenantID, k.ID, now); err != nil {
			s.log.WarnContext(ctx, "record api key use", "key", k.ID, "err", err)
		}
		k.LastUsedAt = &now
		s.keys.Add(prefix, k)
	}
	return Principal{Kind: "api_key", ID: k.ID, TenantID: k.TenantID, Role: k.Role}, nil
}

// Acting resolves the tenant a principal acts as: its home tenant, or a
// descendant named by Marquee-Tenant. Any other tenant does not exist for
// the principal (NotFound), whether or not it exists.
func (s *Service) Acting(ctx context.Context, p Principal, target string) (Tenant, error) {
	if target == "" {
		target = p.TenantID
	}
	if !ids.Valid(ids.Tenant, target) {
		return Tenant{}, errs.NotFoundf("tenant %q not found", target)
	}
	cacheKey := p.TenantID + "/" + target
	if t, ok := s.acting.Get(cacheKey); ok {
		return t, nil
	}
	t, err := s.store.Tenant(ctx, p.TenantID, target)
	if errs.Is(err, errs.NotFound) || (err == nil && !t.Within(p.TenantID)) {
		return Tenant{}, errs.NotFoundf("tenant %q not found", target)
	}
	if err == nil {
		s.acting.Add(cacheKey, t)
	}
	return t, err
}

// Tenant returns acting itself or a descendant.
func (s *Service) Tenant(ctx context.Context, acting Tenant, id string) (Tenant, error) {
	if !ids.Valid(ids.Tenant, id) {
		return Tenant{}, errs.NotFoundf("tenant %q not found", id)
	}
	t, err := s.store.Tenant(ctx, acting.ID, id)
	if err == nil && !t.Within(acting.ID) {
		err = errs.NotFoundf("tenant %q not found", id)
	}
	return t, err
}

// descendant is Tenant limited to strict descendants: the ones acting may
// manage.
func (s *Service) descendant(ctx context.Context, acting Tenant, id string) (Tenant, error) {
	t, err := s.Tenant(ctx, acting, id)
	if err == nil && t.ID == acting.ID {
		err = errs.NotFoundf("tenant %q not found", id)
	}
	return t, err
}

// CreateChild creates a sub-tenant of acting, within acting's sub_tenants
// quota. The child starts with acting's limits as its own.
func (s *Service) CreateChild(ctx context.Context, acting Tenant, in CreateTenantInput) (Tenant, error) {
	if err := in.Validate(); err != nil {
		return Tenant{}, err
	}
	if !acting.CanHaveChildren() {
		return Tenant{}, errs.E(errs.Forbidden, "forbidden", "a creator tenant cannot have sub-tenants")
	}
	parent, err := s.store.Quotas(ctx, acting.ID, acting.ID)
	if err != nil {
		return Tenant{}, err
	}
	return s.createTenant(ctx, acting, in, parent.Limits, nil)
}

func (s *Service) createTenant(ctx context.Context, parent Tenant, in CreateTenantInput, limits Limits, owner *User) (Tenant, error) {
	now := s.now()
	id := ids.New(ids.Tenant)
	pid := parent.ID
	plan := in.Plan
	if plan == "" {
		plan = "free"
	}
	t := Tenant{ID: id, ParentID: &pid, Path: parent.Path + id + "/", Name: in.Name, Kind: in.Kind, Status: StatusActive, Plan: plan, CreatedAt: now, UpdatedAt: now}
	create := func(slug string) (Tenant, error) {
		t.Slug = slug
		return s.store.CreateTenant(ctx, parent.ID, t, limits, defaultBranding(id, in.Name, now), owner, s.admit)
	}
	if in.Slug != "" {
		return create(in.Slug)
	}
	// A slug derived from the name; on a clash, a random suffix.
	base := slugify(in.Name)
	for attempt := 0; ; attempt++ {
		slug := base
		if attempt > 0 || ValidateSlug(slug) != nil {
			slug = trimSlug(base, 56) + "-" + strings.ToLower(randomToken(4))[:6]
		}
		created, err := create(slug)
		if errs.CodeOf(err) != "slug_taken" || attempt >= 3 {
			return created, err
		}
	}
}

// admit is the quota gate, decided by the policy engine. Self-sign-ups pass
// the same gate under the platform root.
func (s *Service) admit(ctx context.Context, resource string, limit *int64, used, requested int64) error {
	d, err := s.quotas.Decide(ctx, policies.QuotaRequest{Resource: resource, Limit: limit, Used: used, Requested: requested})
	if err != nil {
		return err
	}
	if !d.Allow {
		return errs.E(errs.QuotaExceeded, "quota_exceeded", "%s", d.Reason)
	}
	return nil
}

var nonSlugRE = regexp.MustCompile(`[^a-z0-9]+`)

func slugify(name string) string {
	s := strings.Trim(nonSlugRE.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(s) < 3 {
		s = "tenant-" + s
	}
	return strings.Trim(trimSlug(s, 63), "-")
}

func trimSlug(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.TrimRight(s, "-")
}

// Children lists acting's direct children.
func (s *Service) Children(ctx context.Context, acting Tenant, p Page) ([]Tenant, string, error) {
	ts, err := s.store.Children(ctx, acting.ID, Page{Limit: p.Limit + 1, After: p.After})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ts) > p.Limit {
		ts = ts[:p.Limit]
		next = Cursor(ts[len(ts)-1].ID)
	}
	return ts, next, nil
}

// UpdateChild renames, re-plans, suspends or resumes a descendant.
// Suspension cascades to the subtree; resuming undoes exactly that cascade.
func (s *Service) UpdateChild(ctx context.Context, acting Tenant, id string, in UpdateTenantInput) (Tenant, error) {
	if err := in.Validate(); err != nil {
		return Tenant{}, err
	}
	t, err := s.descendant(ctx, acting, id)
	if err != nil {
		return Tenant{}, err
	}
	defer s.acting.Purge()
	// Refuse an impossible status change before writing anything else, so a
	// refused request changes nothing.
	if in.Status != nil && *in.Status == StatusActive && t.Status == StatusSuspended && t.SuspendedBy != nil && *t.SuspendedBy != t.ID {
		return Tenant{}, errs.E(errs.Conflict, "suspended_by_ancestor", "this tenant is suspended because tenant %s is; resume that one", *t.SuspendedBy)
	}
	if in.Name != nil || in.Plan != nil {
		if t, err = s.store.UpdateTenant(ctx, acting.ID, id, in.Name, in.Plan); err != nil {
			return Tenant{}, err
		}
	}
	if in.Status != nil && *in.Status != t.Status {
		return s.store.SetSubtreeStatus(ctx, acting.ID, id, *in.Status)
	}
	return t, nil
}

// DeleteChild deletes a descendant without sub-tenants, with all its data.
func (s *Service) DeleteChild(ctx context.Context, acting Tenant, id string) error {
	if _, err := s.descendant(ctx, acting, id); err != nil {
		return err
	}
	defer s.acting.Purge()
	defer s.keys.Purge()
	return s.store.DeleteTenant(ctx, acting.ID, id)
}

// Quotas reports a tenant's limits and use; id is acting or a descendant.
func (s *Service) Quotas(ctx context.Context, acting Tenant, id string) (QuotaReport, error) {
	if _, err := s.Tenant(ctx, acting, id); err != nil {
		return QuotaReport{}, err
	}
	return s.store.Quotas(ctx, acting.ID, id)
}

// SetLimits sets a descendant's limits, never above its parent's.
func (s *Service) SetLimits(ctx context.Context, acting Tenant, id string, patch Limits) (QuotaReport, error) {
	if err := patch.Validate(); err != nil {
		return QuotaReport{}, err
	}
	if len(patch) == 0 {
		return QuotaReport{}, errs.E(errs.Invalid, "invalid_request", "send at least one of: %s", strings.Join(Resources(), ", "))
	}
	if _, err := s.descendant(ctx, acting, id); err != nil {
		return QuotaReport{}, err
	}
	return s.store.SetLimits(ctx, acting.ID, id, patch, func(parent, child Limits) error {
		v, err := s.quotas.ChildLimitViolations(ctx, policies.Limits(parent), policies.Limits(child))
		if err != nil {
			return err
		}
		if len(v) > 0 {
			return errs.E(errs.Invalid, "quota_above_parent", "%s", strings.Join(v, "; "))
		}
		return nil
	})
}

// CreateAPIKey makes a key for tenant; the returned string is the only time
// the secret is visible.
func (s *Service) CreateAPIKey(ctx context.Context, tenant Tenant, in CreateAPIKeyInput) (APIKey, string, error) {
	if err := in.Validate(); err != nil {
		return APIKey{}, "", err
	}
	if !ValidRole(tenant.Kind, in.Role) {
		return APIKey{}, "", errs.Field("role", "role %q cannot be granted in a %s tenant", in.Role, tenant.Kind)
	}
	key, prefix, hash := newAPIKeySecret()
	k, err := s.store.CreateAPIKey(ctx, tenant.ID, APIKey{
		ID: ids.New(ids.APIKey), TenantID: tenant.ID, Name: in.Name, Role: in.Role, Prefix: prefix, SecretHash: hash, CreatedAt: s.now(),
	})
	return k, key, err
}

// APIKeys lists a tenant's keys that are not revoked.
func (s *Service) APIKeys(ctx context.Context, tenant Tenant, p Page) ([]APIKey, string, error) {
	ks, err := s.store.APIKeys(ctx, tenant.ID, Page{Limit: p.Limit + 1, After: p.After})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ks) > p.Limit {
		ks = ks[:p.Limit]
		next = Cursor(ks[len(ks)-1].ID)
	}
	return ks, next, nil
}

// RevokeAPIKey revokes a key at once.
func (s *Service) RevokeAPIKey(ctx context.Context, tenant Tenant, id string) error {
	if !ids.Valid(ids.APIKey, id) {
		return errs.NotFoundf("API key %q not found", id)
	}
	defer s.keys.Purge()
	return s.store.RevokeAPIKey(ctx, tenant.ID, id, s.now())
}

// Branding is the tenant's white-label configuration.
func (s *Service) Branding(ctx context.Context, tenant Tenant) (Branding, error) {
	b, err := s.store.Branding(ctx, tenant.ID)
	return s.withLogoURL(tenant, b), err
}

// UpdateBranding changes the fields set in in.
func (s *Service) UpdateBranding(ctx context.Context, tenant Tenant, in BrandingInput) (Branding, error) {
	if err := in.Validate(); err != nil {
		return Branding{}, err
	}
	b, err := s.store.Branding(ctx, tenant.ID)
	if err != nil {
		return Branding{}, err
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&b.DisplayName, in.DisplayName)
	set(&b.PrimaryColor, in.PrimaryColor)
	set(&b.AccentColor, in.AccentColor)
	set(&b.BackgroundColor, in.BackgroundColor)
	set(&b.EmailSenderName, in.EmailSenderName)
	b.UpdatedAt = s.now()
	b, err = s.store.UpdateBranding(ctx, tenant.ID, b)
	return s.withLogoURL(tenant, b), err
}

var logoTypes = map[string]string{"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/svg+xml": "svg"}

// SetLogo stores an uploaded logo. The declared type must match the bytes
// (SVG, which has no magic number, must parse as such).
func (s *Service) SetLogo(ctx context.Context, tenant Tenant, contentType string, body []byte) (Branding, error) {
	contentType = strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	ext, ok := logoTypes[contentType]
	if !ok {
		return Branding{}, errs.E(errs.Invalid, "unsupported_media_type", "logo must be image/png, image/jpeg, image/webp or image/svg+xml")
	}
	if len(body) == 0 {
		return Branding{}, errs.E(errs.Invalid, "invalid_request", "logo is empty")
	}
	if int64(len(body)) > s.maxLogo {
		return Branding{}, errs.E(errs.TooLarge, "payload_too_large", "logo must be at most %d bytes", s.maxLogo)
	}
	if !logoMatches(contentType, body) {
		return Branding{}, errs.E(errs.Invalid, "invalid_image", "the file is not a %s image", contentType)
	}
	key := fmt.Sprintf("tenants/%s/branding/logo-%d.%s", tenant.ID, s.now().UnixNano(), ext)
	if err := s.objects.Put(ctx, key, bytes.NewReader(body), int64(len(body)), contentType); err != nil {
		return Branding{}, err
	}
	old, err := s.store.Branding(ctx, tenant.ID)
	if err != nil {
		return Branding{}, err
	}
	b, err := s.store.SetLogo(ctx, tenant.ID, key, contentType)
	if err != nil {
		_ = s.objects.Delete(ctx, key)
		return Branding{}, err
	}
	if old.LogoKey != "" {
		if err := s.objects.Delete(ctx, old.LogoKey); err != nil {
			s.log.WarnContext(ctx, "delete replaced logo", "key", old.LogoKey, "err", err)
		}
	}
	return s.withLogoURL(tenant, b), nil
}

// RemoveLogo removes the tenant's logo.
func (s *Service) RemoveLogo(ctx context.Context, tenant Tenant) (Branding, error) {
	old, err := s.store.Branding(ctx, tenant.ID)
	if err != nil {
		return Branding{}, err
	}
	b, err := s.store.SetLogo(ctx, tenant.ID, "", "")
	if err != nil {
		return Branding{}, err
	}
	if old.LogoKey != "" {
		if err := s.objects.Delete(ctx, old.LogoKey); err != nil {
			s.log.WarnContext(ctx, "delete removed logo", "key", old.LogoKey, "err", err)
		}
	}
	return s.withLogoURL(tenant, b), nil
}

func logoMatches(contentType string, b []byte) bool {
	if contentType == "image/svg+xml" {
		head := strings.ToLower(string(b[:min(len(b), 512)]))
		return strings.Contains(head, "<svg") && !strings.Contains(strings.ToLower(string(b)), "<script")
	}
	return http.DetectContentType(b) == contentType
}

// Logo streams a tenant's logo for the public storefront.
func (s *Service) Logo(ctx context.Context, slug string) (io.ReadCloser, string, error) {
	_, b, err := s.store.PublicBranding(ctx, slug, "")
	if err != nil {
		return nil, "", err
	}
	if b.LogoKey == "" {
		return nil, "", errs.NotFoundf("this tenant has no logo")
	}
	r, err := s.objects.Get(ctx, b.LogoKey)
	return r, b.LogoContentType, err
}

func (s *Service) withLogoURL(t Tenant, b Branding) Branding {
	b.LogoURL = nil
	if b.LogoKey != "" {
		u := fmt.Sprintf("/v1/public/tenants/%s/logo?v=%d", t.Slug, b.UpdatedAt.Unix())
		b.LogoURL = &u
	}
	if b.CustomDomains == nil {
		b.CustomDomains = []Domain{}
	}
	return b
}

// PublicBranding is what a storefront shows, found by slug or by a verified
// custom domain. Suspended tenants' storefronts are offline (NotFound).
func (s *Service) PublicBranding(ctx context.Context, slug, host string) (PublicBranding, error) {
	if slug != "" && ValidateSlug(slug) != nil {
		return PublicBranding{}, errs.NotFoundf("no storefront %q", slug)
	}
	if host != "" {
		in := AddDomainInput{Domain: strings.Split(host, ":")[0]}
		if in.Validate() != nil {
			return PublicBranding{}, errs.NotFoundf("no storefront at %q", host)
		}
		host = in.Domain
	}
	t, b, err := s.store.PublicBranding(ctx, slug, host)
	if err != nil {
		return PublicBranding{}, err
	}
	b = s.withLogoURL(t, b)
	return PublicBranding{Slug: t.Slug, DisplayName: b.DisplayName, PrimaryColor: b.PrimaryColor, AccentColor: b.AccentColor, BackgroundColor: b.BackgroundColor, LogoURL: b.LogoURL}, nil
}

// AddDomain registers a custom domain, unverified, with the TXT record that
// proves it.
func (s *Service) AddDomain(ctx context.Context, tenant Tenant, in AddDomainInput) (Domain, error) {
	if err := in.Validate(); err != nil {
		return Domain{}, err
	}
	d, err := s.store.AddDomain(ctx, tenant.ID, Domain{Domain: in.Domain, Token: randomToken(20)})
	if errs.Is(err, errs.Conflict) {
		return Domain{}, errs.E(errs.Conflict, "domain_taken", "domain %s is already registered", in.Domain)
	}
	return WithVerification(d), err
}

// VerifyDomain looks up the TXT record and marks the domain verified.
func (s *Service) VerifyDomain(ctx context.Context, tenant Tenant, domain string) (Domain, error) {
	b, err := s.store.Branding(ctx, tenant.ID)
	if err != nil {
		return Domain{}, err
	}
	i := slices.IndexFunc(b.CustomDomains, func(d Domain) bool { return d.Domain == domain })
	if i < 0 {
		return Domain{}, errs.NotFoundf("domain %q not found", domain)
	}
	d := WithVerification(b.CustomDomains[i])
	if d.Verified {
		return d, nil
	}
	if s.resolver == nil {
		return Domain{}, errs.E(errs.Unavailable, "dns_unavailable", "DNS lookups are not configured")
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	records, err := s.resolver.LookupTXT(lctx, d.Verification.Name)
	if err != nil || !slices.Contains(records, d.Verification.Value) {
		return Domain{}, errs.E(errs.Conflict, "domain_unverified", "no TXT record %s with value %q was found; DNS changes can take a while to appear", d.Verification.Name, d.Verification.Value)
	}
	d, err = s.store.MarkDomainVerified(ctx, tenant.ID, domain, s.now())
	return WithVerification(d), err
}

// RemoveDomain unregisters a custom domain.
func (s *Service) RemoveDomain(ctx context.Context, tenant Tenant, domain string) error {
	return s.store.RemoveDomain(ctx, tenant.ID, domain)
}

// WithVerification fills in the TXT record a domain is proven by.
func WithVerification(d Domain) Domain {
	d.Verified = d.VerifiedAt != nil
	d.Verification = DomainVerification{Type: "TXT", Name: "_marquee-challenge." + d.Domain, Value: "marquee-verification=" + d.Token}
	return d
}
