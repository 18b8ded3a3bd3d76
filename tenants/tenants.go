// Package tenants is Marquee's tenancy domain: the tree of tenants (one
// platform root, nestable resellers, creators at the leaves), their users and
// roles, API keys, quotas and white-label branding.
//
// This file is the contract: the types, the Store the domain needs, and the
// validation of every input. Service (service.go) holds the rules; the
// sqlstore sub-package implements Store on PostgreSQL and SQLite.
package tenants

import (
	"context"
	"encoding/base64"
	"io"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/marquee-video/marquee/internal/errs"
)

// Kind is a tenant's place in the tree.
type Kind string

// The kinds of tenant.
const (
	KindPlatform Kind = "platform"
	KindReseller Kind = "reseller"
	KindCreator  Kind = "creator"
)

// Status is whether a tenant may change anything.
type Status string

// The statuses. A suspended tenant (or one under a suspended ancestor) can
// read its data but not change it; its storefront is offline.
const (
	StatusActive    Status = "active"
	StatusSuspended Status = "suspended"
)

// Tenant is one node of the tree.
type Tenant struct {
	ID       string  `json:"id"`
	ParentID *string `json:"parent_id"`
	// Path is "/root/…/id/": the tenant's ancestors and itself.
	Path   string `json:"-"`
	Slug   string `json:"slug"`
	Name   string `json:"name"`
	Kind   Kind   `json:"kind"`
	Status Status `json:"status"`
	// SuspendedBy is the tenant whose suspension suspended this one.
	SuspendedBy *string   `json:"suspended_by,omitempty"`
	Plan        string    `json:"plan"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Within reports whether t is ancestor itself or one of its descendants.
func (t Tenant) Within(ancestorID string) bool {
	return strings.Contains(t.Path, "/"+ancestorID+"/")
}

// CanHaveChildren reports whether t may create sub-tenants.
func (t Tenant) CanHaveChildren() bool { return t.Kind != KindCreator }

// Roles a member or API key can hold in a tenant. platform_ops exists only in
// the platform root.
const (
	RoleOwner       = "owner"
	RoleAdmin       = "admin"
	RoleEditor      = "editor"
	RoleAnalyst     = "analyst"
	RoleBilling     = "billing"
	RolePlatformOps = "platform_ops"
)

// ValidRole reports whether role can be granted in a tenant of kind k.
func ValidRole(k Kind, role string) bool {
	switch role {
	case RoleOwner, RoleAdmin, RoleEditor, RoleAnalyst, RoleBilling:
		return true
	case RolePlatformOps:
		return k == KindPlatform
	}
	return false
}

// User is a person who can log in. A user is a member of one or more tenants.
type User struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name,omitempty"`
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
}

// Membership gives a user a role in a tenant.
type Membership struct {
	TenantID  string    `json:"tenant_id"`
	UserID    string    `json:"user_id"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

// APIKey is a credential for machines. Its secret is shown once at creation
// and stored only as a hash; the prefix identifies it in lists and logs.
type APIKey struct {
	ID         string     `json:"id"`
	TenantID   string     `json:"tenant_id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Prefix     string     `json:"prefix"`
	SecretHash string     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Principal is who is calling: a user with a session token, or an API key.
// Its role holds in its home tenant and, through Marquee-Tenant, in every
// descendant.
type Principal struct {
	Kind     string // "user" or "api_key"
	ID       string
	TenantID string
	Role     string
}

// Quota resources, the keys of Limits and Usage.
const (
	ResStorageBytes      = "storage_bytes"
	ResTranscodeMinutes  = "transcode_minutes_per_month"
	ResAssets            = "assets"
	ResConcurrentJobs    = "concurrent_jobs"
	ResSubTenants        = "sub_tenants"
	ResEgressGBPerMonth  = "egress_gb_per_month"
	maxQuotaLimitAllowed = int64(1) << 62
)

// Resources lists the quota resources in display order.
func Resources() []string {
	return []string{ResStorageBytes, ResTranscodeMinutes, ResAssets, ResConcurrentJobs, ResSubTenants, ResEgressGBPerMonth}
}

// Limits maps each resource to its limit; nil is unlimited.
type Limits map[string]*int64

// Usage maps each resource to what is used now.
type Usage map[string]int64

// QuotaReport is a tenant's limits and current use.
type QuotaReport struct {
	TenantID string `json:"tenant_id"`
	Limits   Limits `json:"limits"`
	Usage    Usage  `json:"usage"`
}

// Validate checks a (possibly partial) set of limits.
func (l Limits) Validate() error {
	for k, v := range l {
		if !slices.Contains(Resources(), k) {
			return errs.Field(k, "unknown quota resource %q", k)
		}
		if v != nil && (*v < 0 || *v > maxQuotaLimitAllowed) {
			return errs.Field(k, "%s must be between 0 and %d, or null for unlimited", k, maxQuotaLimitAllowed)
		}
	}
	return nil
}

// Branding is a tenant's white-label look.
type Branding struct {
	TenantID        string   `json:"-"`
	DisplayName     string   `json:"display_name"`
	PrimaryColor    string   `json:"primary_color"`
	AccentColor     string   `json:"accent_color"`
	BackgroundColor string   `json:"background_color"`
	EmailSenderName string   `json:"email_sender_name"`
	LogoURL         *string  `json:"logo_url"`
	CustomDomains   []Domain `json:"custom_domains"`

	LogoKey         string    `json:"-"`
	LogoContentType string    `json:"-"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// PublicBranding is what a storefront may read without credentials.
type PublicBranding struct {
	Slug            string  `json:"slug"`
	DisplayName     string  `json:"display_name"`
	PrimaryColor    string  `json:"primary_color"`
	AccentColor     string  `json:"accent_color"`
	BackgroundColor string  `json:"background_color"`
	LogoURL         *string `json:"logo_url"`
}

// Domain is a custom domain for a tenant's storefront, proven by a DNS TXT
// record.
type Domain struct {
	Domain       string             `json:"domain"`
	Verified     bool               `json:"verified"`
	VerifiedAt   *time.Time         `json:"verified_at,omitempty"`
	Verification DomainVerification `json:"verification"`
	Token        string             `json:"-"`
}

// DomainVerification says which TXT record proves ownership.
type DomainVerification struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Page asks for one page of a list ordered by id.
type Page struct {
	Limit int
	After string // the last id of the previous page
}

// Cursor encodes the id a next page starts after.
func Cursor(lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(lastID))
}

// ParsePage validates a limit and an opaque cursor from a request.
func ParsePage(limit int, cursor string) (Page, error) {
	switch {
	case limit == 0:
		limit = 50
	case limit < 1 || limit > 200:
		return Page{}, errs.Field("limit", "limit must be between 1 and 200")
	}
	p := Page{Limit: limit}
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !utf8.Valid(b) || len(b) > 64 {
			return Page{}, errs.E(errs.Invalid, "invalid_cursor", "cursor is not one this API issued")
		}
		p.After = string(b)
	}
	return p, nil
}

// Store is the persistence the domain needs. Every method that touches tenant
// data takes the acting tenant first; implementations scope every query to
// it (and PostgreSQL's row-level security scopes them again).
type Store interface {
	// EnsureRoot creates the platform root if there is none and returns it.
	EnsureRoot(ctx context.Context, root Tenant, b Branding) (Tenant, error)
	// Root returns the platform root.
	Root(ctx context.Context) (Tenant, error)

	// CreateTenant inserts t under acting (t.ParentID == acting) with its
	// limits and branding, and, if owner is set, that new user as its owner,
	// in one transaction. admit is called with acting's sub_tenants limit and
	// use while acting's quota row is locked, so concurrent creations cannot
	// overshoot. A taken slug is a Conflict with code slug_taken, a taken
	// email one with code email_taken.
	CreateTenant(ctx context.Context, acting string, t Tenant, l Limits, b Branding, owner *User, admit Admit) (Tenant, error)
	// Tenant returns acting itself or one of its descendants.
	Tenant(ctx context.Context, acting, id string) (Tenant, error)
	// Children lists acting's direct children.
	Children(ctx context.Context, acting string, p Page) ([]Tenant, error)
	// UpdateTenant renames or re-plans a descendant.
	UpdateTenant(ctx context.Context, acting, id string, name, plan *string) (Tenant, error)
	// SetSubtreeStatus suspends or resumes id and its subtree.
	SetSubtreeStatus(ctx context.Context, acting, id string, s Status) (Tenant, error)
	// DeleteTenant deletes a descendant that has no children of its own.
	DeleteTenant(ctx context.Context, acting, id string) error

	// CreateUser inserts a user and, in the same transaction, its membership.
	CreateUser(ctx context.Context, u User, m Membership) (User, error)
	// UserByEmail finds a user for login.
	UserByEmail(ctx context.Context, email string) (User, error)
	// Memberships lists the tenants a user belongs to, oldest first.
	Memberships(ctx context.Context, userID string) ([]Membership, error)
	// Membership is the user's membership in tenant.
	Membership(ctx context.Context, tenant, userID string) (Membership, error)

	// Quotas reports id's limits and use, as acting (itself or an ancestor).
	Quotas(ctx context.Context, acting, id string) (QuotaReport, error)
	// SetLimits merges patch into id's limits while id's parent's limits are
	// read in the same transaction; check may refuse the result.
	SetLimits(ctx context.Context, acting, id string, patch Limits, check func(parent, child Limits) error) (QuotaReport, error)

	CreateAPIKey(ctx context.Context, tenant string, k APIKey) (APIKey, error)
	APIKeys(ctx context.Context, tenant string, p Page) ([]APIKey, error)
	RevokeAPIKey(ctx context.Context, tenant, id string, at time.Time) error
	// APIKeyByPrefix finds a key across tenants, for authentication.
	APIKeyByPrefix(ctx context.Context, prefix string) (APIKey, error)
	// TouchAPIKey records a use, at most once a minute per key.
	TouchAPIKey(ctx context.Context, tenant, id string, at time.Time) error

	Branding(ctx context.Context, tenant string) (Branding, error)
	UpdateBranding(ctx context.Context, tenant string, b Branding) (Branding, error)
	SetLogo(ctx context.Context, tenant, key, contentType string) (Branding, error)
	AddDomain(ctx context.Context, tenant string, d Domain) (Domain, error)
	MarkDomainVerified(ctx context.Context, tenant, domain string, at time.Time) (Domain, error)
	RemoveDomain(ctx context.Context, tenant, domain string) error
	// PublicBranding finds an active tenant's branding by slug or by a
	// verified custom domain, across tenants.
	PublicBranding(ctx context.Context, slug, host string) (Tenant, Branding, error)
}

// Admit decides whether using requested more of resource is allowed, given
// the limit (nil: unlimited) and what is used. It returns a QuotaExceeded
// error to refuse.
type Admit func(ctx context.Context, resource string, limit *int64, used, requested int64) error

// ObjectStore keeps the files tenants upload (logos here).
type ObjectStore interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	Delete(ctx context.Context, key string) error
}

// Inputs.

// SignupInput creates a creator tenant and its owner.
type SignupInput struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

// Validate normalizes and checks the input.
func (in *SignupInput) Validate() error {
	if err := validateEmail(&in.Email); err != nil {
		return err
	}
	if err := validatePassword(in.Password); err != nil {
		return err
	}
	return validateName("name", &in.Name)
}

// LoginInput is an email and password; TenantID picks a membership when the
// user has several (else the oldest).
type LoginInput struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	TenantID string `json:"tenant_id,omitempty"`
}

// Validate checks the input's shape.
func (in *LoginInput) Validate() error {
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))
	if in.Email == "" {
		return errs.Field("email", "email is required")
	}
	if in.Password == "" {
		return errs.Field("password", "password is required")
	}
	return nil
}

// CreateUserInput adds a user to a tenant (the admin CLI and invitations).
type CreateUserInput struct {
	Email    string
	Password string
	Name     string
	TenantID string
	Role     string
}

// CreateTenantInput creates a child of the acting tenant.
type CreateTenantInput struct {
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
	Slug string `json:"slug,omitempty"`
	Plan string `json:"plan,omitempty"`
}

// Validate normalizes and checks the input.
func (in *CreateTenantInput) Validate() error {
	if err := validateName("name", &in.Name); err != nil {
		return err
	}
	if in.Kind != KindReseller && in.Kind != KindCreator {
		return errs.Field("kind", "kind must be \"reseller\" or \"creator\"")
	}
	if in.Slug != "" {
		in.Slug = strings.ToLower(in.Slug)
		if err := ValidateSlug(in.Slug); err != nil {
			return err
		}
	}
	return validatePlan(&in.Plan)
}

// UpdateTenantInput changes a descendant; nil fields stay as they are.
type UpdateTenantInput struct {
	Name   *string `json:"name,omitempty"`
	Plan   *string `json:"plan,omitempty"`
	Status *Status `json:"status,omitempty"`
}

// Validate normalizes and checks the input.
func (in *UpdateTenantInput) Validate() error {
	if in.Name == nil && in.Plan == nil && in.Status == nil {
		return errs.E(errs.Invalid, "invalid_request", "nothing to change: send name, plan or status")
	}
	if in.Name != nil {
		if err := validateName("name", in.Name); err != nil {
			return err
		}
	}
	if in.Plan != nil {
		if *in.Plan == "" {
			return errs.Field("plan", "plan must not be empty")
		}
		if err := validatePlan(in.Plan); err != nil {
			return err
		}
	}
	if in.Status != nil && *in.Status != StatusActive && *in.Status != StatusSuspended {
		return errs.Field("status", "status must be \"active\" or \"suspended\"")
	}
	return nil
}

// CreateAPIKeyInput names a new key and its role.
type CreateAPIKeyInput struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// Validate normalizes and checks the input; the role's validity depends on
// the tenant and is checked by the service.
func (in *CreateAPIKeyInput) Validate() error {
	if err := validateName("name", &in.Name); err != nil {
		return err
	}
	if in.Role == "" {
		return errs.Field("role", "role is required")
	}
	return nil
}

// BrandingInput replaces a tenant's branding; empty fields keep their value.
type BrandingInput struct {
	DisplayName     *string `json:"display_name,omitempty"`
	PrimaryColor    *string `json:"primary_color,omitempty"`
	AccentColor     *string `json:"accent_color,omitempty"`
	BackgroundColor *string `json:"background_color,omitempty"`
	EmailSenderName *string `json:"email_sender_name,omitempty"`
}

var colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Validate normalizes and checks the input.
func (in *BrandingInput) Validate() error {
	if in.DisplayName != nil {
		if err := validateName("display_name", in.DisplayName); err != nil {
			return err
		}
	}
	if in.EmailSenderName != nil {
		if err := validateName("email_sender_name", in.EmailSenderName); err != nil {
			return err
		}
		if strings.ContainsAny(*in.EmailSenderName, "<>\"\r\n") {
			return errs.Field("email_sender_name", "email_sender_name may not contain <, >, quotes or line breaks")
		}
	}
	for field, c := range map[string]*string{"primary_color": in.PrimaryColor, "accent_color": in.AccentColor, "background_color": in.BackgroundColor} {
		if c == nil {
			continue
		}
		if !colorRE.MatchString(*c) {
			return errs.Field(field, "%s must be a hex colour like #1a2b3c", field)
		}
		*c = strings.ToLower(*c)
	}
	return nil
}

// AddDomainInput names a custom domain.
type AddDomainInput struct {
	Domain string `json:"domain"`
}

var domainLabelRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// Validate normalizes and checks the domain name.
func (in *AddDomainInput) Validate() error {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(in.Domain)), ".")
	labels := strings.Split(d, ".")
	if len(d) > 253 || len(labels) < 2 {
		return errs.Field("domain", "domain must be a fully qualified name such as watch.example.com")
	}
	for _, l := range labels {
		if !domainLabelRE.MatchString(l) {
			return errs.Field("domain", "domain must be a fully qualified name such as watch.example.com")
		}
	}
	in.Domain = d
	return nil
}

var slugRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{1,61}[a-z0-9])$`)

// ValidateSlug checks a slug is a DNS label (it names the storefront host).
func ValidateSlug(s string) error {
	if !slugRE.MatchString(s) || strings.Contains(s, "--") {
		return errs.Field("slug", "slug must be 3-63 lower-case letters, digits or single hyphens, starting and ending with a letter or digit")
	}
	if slices.Contains([]string{"www", "api", "app", "admin", "platform", "portal", "static", "play", "cdn", "origin", "status", "mail"}, s) {
		e := errs.E(errs.Conflict, "slug_taken", "slug %q is reserved", s)
		e.Field = "slug"
		return e
	}
	return nil
}

func validateEmail(email *string) error {
	e := strings.ToLower(strings.TrimSpace(*email))
	if e == "" {
		return errs.Field("email", "email is required")
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || len(e) > 254 || !strings.Contains(e[strings.LastIndexByte(e, '@'):], ".") {
		return errs.Field("email", "email is not a valid address")
	}
	*email = e
	return nil
}

func validatePassword(p string) error {
	n := utf8.RuneCountInString(p)
	if n < 10 {
		return errs.Field("password", "password must be at least 10 characters")
	}
	if len(p) > 256 {
		return errs.Field("password", "password must be at most 256 bytes")
	}
	return nil
}

func validateName(field string, s *string) error {
	v := strings.TrimSpace(*s)
	if v == "" {
		return errs.Field(field, "%s is required", field)
	}
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > 100 {
		return errs.Field(field, "%s must be at most 100 characters of valid text", field)
	}
	if strings.ContainsFunc(v, unicode.IsControl) {
		return errs.Field(field, "%s may not contain control characters", field)
	}
	*s = v
	return nil
}

var planRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

func validatePlan(p *string) error {
	if *p == "" {
		return nil
	}
	if !planRE.MatchString(*p) {
		return errs.Field("plan", "plan must be a short lower-case identifier such as \"pro\"")
	}
	return nil
}
