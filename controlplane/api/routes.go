package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/tenants"
)

// Route is one entry of the route table. Object and Action name what casbin
// is asked (empty Object: a public route). Params says what kind of object
// each path parameter names, so the isolation suite can aim every route at
// another tenant's objects.
type Route struct {
	Method     string
	Path       string
	Summary    string
	Object     string
	Action     string
	Params     map[string]string
	Query      []string
	Request    string // schema name of the JSON body, "" for none, "binary" for raw bytes
	Response   string // schema name of the success body, "" for none
	Status     int
	Idempotent bool
	// Node marks the data plane's internal routes, authenticated with a
	// node token (or, to enroll, the platform's node key).
	Node    bool
	Handler fiber.Handler `json:"-"`
}

// Param kinds.
const (
	ParamTenant          = "tenant"
	ParamAPIKey          = "api_key"
	ParamDomain          = "domain"
	ParamSlug            = "slug"
	ParamAsset           = "asset"
	ParamJob             = "job"
	ParamFile            = "file"
	ParamWebhookEndpoint = "webhook_endpoint"
)

// Routes is the route table.
func (s *Server) Routes() []Route { return s.routes() }

func (s *Server) routes() []Route {
	rs := s.foundationRoutes()
	if s.cfg.Assets != nil {
		rs = append(rs, s.mediaRoutes()...)
	}
	// Each capability registers its routes from its own file.
	rs = append(rs, s.playbackRoutes()...)
	rs = append(rs, s.catalogRoutes()...)
	rs = append(rs, s.billingRoutes()...)
	return rs
}

func (s *Server) mediaRoutes() []Route {
	assetParam := map[string]string{"id": ParamAsset}
	jobParams := map[string]string{"tenant": ParamTenant, "job": ParamJob}
	rs := []Route{
		{Method: "POST", Path: "/v1/assets", Summary: "Create an asset from a source URL", Object: "asset", Action: "write", Request: "CreateAssetRequest", Response: "Asset", Status: 201, Idempotent: true, Handler: s.createAsset},
		{Method: "GET", Path: "/v1/assets", Summary: "List assets", Object: "asset", Action: "read", Query: []string{"limit", "cursor"}, Response: "AssetList", Status: 200, Handler: s.listAssets},
		{Method: "GET", Path: "/v1/assets/:id", Summary: "An asset, its renditions and playback URLs", Object: "asset", Action: "read", Params: assetParam, Response: "Asset", Status: 200, Handler: s.getAsset},
		{Method: "GET", Path: "/v1/assets/:id/events", Summary: "An asset's progress as server-sent events, until it is ready or errored", Object: "asset", Action: "read", Params: assetParam, Response: "sse", Status: 200, Handler: s.assetEvents},
		{Method: "GET", Path: "/v1/encoding-profile", Summary: "The ladder new assets are transcoded with", Object: "asset", Action: "read", Response: "EncodingProfile", Status: 200, Handler: s.getEncodingProfile},
		{Method: "PUT", Path: "/v1/encoding-profile", Summary: "Set the ladder for new assets (capped at each source)", Object: "asset", Action: "write", Request: "EncodingProfile", Response: "EncodingProfile", Status: 200, Handler: s.putEncodingProfile},
		{Method: "DELETE", Path: "/v1/assets/:id", Summary: "Delete an asset and all its files", Object: "asset", Action: "delete", Params: assetParam, Status: 204, Handler: s.deleteAsset},
		{Method: "POST", Path: "/v1/webhook-endpoints", Summary: "Add a webhook endpoint (its signing secret is shown once)", Object: "webhook", Action: "write", Request: "CreateWebhookEndpointRequest", Response: "CreatedWebhookEndpoint", Status: 201, Idempotent: true, Handler: s.createWebhookEndpoint},
		{Method: "GET", Path: "/v1/webhook-endpoints", Summary: "List webhook endpoints", Object: "webhook", Action: "read", Response: "WebhookEndpointList", Status: 200, Handler: s.listWebhookEndpoints},
		{Method: "DELETE", Path: "/v1/webhook-endpoints/:id", Summary: "Remove a webhook endpoint", Object: "webhook", Action: "write", Params: map[string]string{"id": ParamWebhookEndpoint}, Status: 204, Handler: s.deleteWebhookEndpoint},
		{Method: "GET", Path: "/v1/webhook-endpoints/:id/deliveries", Summary: "An endpoint's deliveries with every attempt", Object: "webhook", Action: "read", Params: map[string]string{"id": ParamWebhookEndpoint}, Query: []string{"limit", "cursor"}, Response: "WebhookDeliveryList", Status: 200, Handler: s.listWebhookDeliveries},
		{Method: "GET", Path: "/v1/ops/nodes", Summary: "Worker nodes (platform operators)", Object: "ops", Action: "read", Response: "NodeList", Status: 200, Handler: s.listNodes},
		{Method: "GET", Path: "/stream/:asset/*", Summary: "A ready clear asset's HLS/DASH files", Params: map[string]string{"asset": ParamAsset, "*": ParamFile}, Response: "binary", Status: 200, Handler: s.stream},

		{Method: "POST", Path: "/internal/v1/nodes", Summary: "Enroll a worker node (bearer: the platform node key)", Node: false, Request: "NodeRegistration", Response: "NodeToken", Status: 201, Handler: s.enrollNode},
		{Method: "POST", Path: "/internal/v1/nodes/heartbeat", Summary: "A node's heartbeat", Node: true, Request: "NodeHeartbeat", Status: 204, Handler: s.nodeHeartbeat},
		{Method: "POST", Path: "/internal/v1/jobs/:tenant/:job/start", Summary: "Take a job for an attempt", Node: true, Params: jobParams, Request: "StartJobRequest", Response: "JobLease", Status: 200, Handler: s.startJob},
		{Method: "POST", Path: "/internal/v1/jobs/:tenant/:job/progress", Summary: "Report an attempt's progress (extends its lease)", Node: true, Params: jobParams, Request: "JobProgress", Status: 204, Handler: s.jobProgress},
		{Method: "POST", Path: "/internal/v1/jobs/:tenant/:job/finish", Summary: "Report an attempt's result", Node: true, Params: jobParams, Request: "JobResult", Response: "Asset", Status: 200, Handler: s.finishJob},
	}
	if s.cfg.Uploads != nil {
		uploadParam := map[string]string{"id": ParamUpload}
		tokenParam := map[string]string{"token": ParamUploadToken}
		rs = append(rs, []Route{
			{Method: "POST", Path: "/v1/uploads", Summary: "Reserve a direct upload; send its bytes to url with a tus client", Object: "asset", Action: "write", Request: "CreateUploadRequest", Response: "CreatedUpload", Status: 201, Idempotent: true, Handler: s.createUpload},
			{Method: "GET", Path: "/v1/uploads/:id", Summary: "An upload's progress and, once complete, its asset", Object: "asset", Action: "read", Params: uploadParam, Response: "Upload", Status: 200, Handler: s.getUpload},
			{Method: "POST", Path: "/v1/uploads/tus/:token", Summary: "tus creation (Upload-Length, Tus-Resumable: 1.0.0); the token in the path is the credential", Params: tokenParam, Status: 201, Handler: s.tusUpload},
			{Method: "GET", Path: "/v1/uploads/tus/:token", Summary: "tus offset (HEAD, as clients resume; GET answers the same): Upload-Offset and Upload-Length headers", Params: tokenParam, Status: 200, Handler: s.tusUpload},
			{Method: "PATCH", Path: "/v1/uploads/tus/:token", Summary: "tus chunk (application/offset+octet-stream at Upload-Offset, at most 1 MiB); the last one answers once the asset exists (Marquee-Asset-Id)", Params: tokenParam, Status: 204, Handler: s.tusUpload},
		}...)
	}
	return rs
}

func (s *Server) foundationRoutes() []Route {
	tenantParam := map[string]string{"id": ParamTenant}
	return []Route{
		{Method: "GET", Path: "/healthz", Summary: "Liveness: the process answers", Response: "Health", Status: 200, Handler: s.healthz},
		{Method: "GET", Path: "/readyz", Summary: "Readiness: the database and Redis answer", Response: "Health", Status: 200, Handler: s.readyz},
		{Method: "GET", Path: "/v1/openapi.json", Summary: "This API's OpenAPI 3.1 document", Response: "OpenAPI", Status: 200, Handler: s.openAPI},

		{Method: "POST", Path: "/v1/signup", Summary: "Sign up: create a creator tenant and its owner", Request: "SignupRequest", Response: "SignupResponse", Status: 201, Handler: s.signup},
		{Method: "POST", Path: "/v1/login", Summary: "Log in with email and password", Request: "LoginRequest", Response: "TokenResponse", Status: 200, Handler: s.login},

		{Method: "GET", Path: "/v1/tenant", Summary: "The acting tenant", Object: "tenant", Action: "read", Response: "Tenant", Status: 200, Handler: s.getActingTenant},

		{Method: "POST", Path: "/v1/api-keys", Summary: "Create an API key (its secret is shown once)", Object: "api_key", Action: "create", Request: "CreateAPIKeyRequest", Response: "CreatedAPIKey", Status: 201, Idempotent: true, Handler: s.createAPIKey},
		{Method: "GET", Path: "/v1/api-keys", Summary: "List API keys", Object: "api_key", Action: "read", Query: []string{"limit", "cursor"}, Response: "APIKeyList", Status: 200, Handler: s.listAPIKeys},
		{Method: "DELETE", Path: "/v1/api-keys/:id", Summary: "Revoke an API key", Object: "api_key", Action: "delete", Params: map[string]string{"id": ParamAPIKey}, Status: 204, Handler: s.revokeAPIKey},

		{Method: "POST", Path: "/v1/tenants", Summary: "Create a sub-tenant of the acting tenant", Object: "subtenant", Action: "create", Request: "CreateTenantRequest", Response: "Tenant", Status: 201, Idempotent: true, Handler: s.createTenant},
		{Method: "GET", Path: "/v1/tenants", Summary: "List the acting tenant's sub-tenants", Object: "subtenant", Action: "read", Query: []string{"limit", "cursor"}, Response: "TenantList", Status: 200, Handler: s.listTenants},
		{Method: "GET", Path: "/v1/tenants/:id", Summary: "A descendant tenant", Object: "subtenant", Action: "read", Params: tenantParam, Response: "Tenant", Status: 200, Handler: s.getTenant},
		{Method: "PATCH", Path: "/v1/tenants/:id", Summary: "Rename, re-plan, suspend or resume a descendant", Object: "subtenant", Action: "write", Params: tenantParam, Request: "UpdateTenantRequest", Response: "Tenant", Status: 200, Handler: s.updateTenant},
		{Method: "DELETE", Path: "/v1/tenants/:id", Summary: "Delete a descendant without sub-tenants", Object: "subtenant", Action: "delete", Params: tenantParam, Status: 204, Handler: s.deleteTenant},

		{Method: "GET", Path: "/v1/quotas", Summary: "The acting tenant's limits and use", Object: "quota", Action: "read", Response: "QuotaReport", Status: 200, Handler: s.getQuotas},
		{Method: "GET", Path: "/v1/tenants/:id/quotas", Summary: "A descendant's limits and use", Object: "quota", Action: "read", Params: tenantParam, Response: "QuotaReport", Status: 200, Handler: s.getTenantQuotas},
		{Method: "PUT", Path: "/v1/tenants/:id/quotas", Summary: "Set a descendant's limits (never above its parent's)", Object: "quota", Action: "write", Params: tenantParam, Request: "Limits", Response: "QuotaReport", Status: 200, Handler: s.setTenantQuotas},

		{Method: "GET", Path: "/v1/branding", Summary: "The acting tenant's branding", Object: "branding", Action: "read", Response: "Branding", Status: 200, Handler: s.getBranding},
		{Method: "PUT", Path: "/v1/branding", Summary: "Change the acting tenant's branding", Object: "branding", Action: "write", Request: "BrandingRequest", Response: "Branding", Status: 200, Handler: s.putBranding},
		{Method: "PUT", Path: "/v1/branding/logo", Summary: "Upload the logo (raw PNG, JPEG, WebP or SVG bytes, at most 1 MiB)", Object: "branding", Action: "write", Request: "binary", Response: "Branding", Status: 200, Handler: s.putLogo},
		{Method: "DELETE", Path: "/v1/branding/logo", Summary: "Remove the logo", Object: "branding", Action: "write", Response: "Branding", Status: 200, Handler: s.deleteLogo},
		{Method: "POST", Path: "/v1/branding/domains", Summary: "Add a custom domain (verified by a DNS TXT record)", Object: "branding", Action: "write", Request: "AddDomainRequest", Response: "Domain", Status: 201, Idempotent: true, Handler: s.addDomain},
		{Method: "POST", Path: "/v1/branding/domains/:domain/verify", Summary: "Check the domain's TXT record", Object: "branding", Action: "write", Params: map[string]string{"domain": ParamDomain}, Response: "Domain", Status: 200, Handler: s.verifyDomain},
		{Method: "DELETE", Path: "/v1/branding/domains/:domain", Summary: "Remove a custom domain", Object: "branding", Action: "write", Params: map[string]string{"domain": ParamDomain}, Status: 204, Handler: s.removeDomain},

		{Method: "GET", Path: "/v1/public/tenants/:slug/branding", Summary: "A storefront's public branding, by slug", Params: map[string]string{"slug": ParamSlug}, Response: "PublicBranding", Status: 200, Handler: s.publicBranding},
		{Method: "GET", Path: "/v1/public/tenants/:slug/logo", Summary: "A storefront's logo", Params: map[string]string{"slug": ParamSlug}, Response: "binary", Status: 200, Handler: s.publicLogo},
		{Method: "GET", Path: "/v1/public/branding", Summary: "A storefront's public branding, by verified custom domain", Query: []string{"host"}, Response: "PublicBranding", Status: 200, Handler: s.publicBrandingByHost},
	}
}

// List is a cursor page.
type List[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

func list[T any](items []T, next string) List[T] {
	l := List[T]{Data: items}
	if l.Data == nil {
		l.Data = []T{}
	}
	if next != "" {
		l.NextCursor = &next
	}
	return l
}

func page(c *fiber.Ctx) (tenants.Page, error) {
	limit := 0
	if v := c.Query("limit"); v != "" {
		n, err := parseInt(v)
		if err != nil {
			return tenants.Page{}, errs.Field("limit", "limit must be an integer")
		}
		limit = n
		if limit == 0 {
			return tenants.Page{}, errs.Field("limit", "limit must be between 1 and 200")
		}
	}
	return tenants.ParsePage(limit, c.Query("cursor"))
}

func parseInt(s string) (int, error) {
	n := 0
	if s == "" || len(s) > 6 {
		return 0, errors.New("bad int")
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, errors.New("bad int")
		}
		n = n*10 + int(r-'0')
	}
	return n, nil
}

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	checks := fiber.Map{}
	ok := true
	for _, r := range s.cfg.Ready {
		if err := r.Check(ctx); err != nil {
			ok = false
			checks[r.Name] = "unavailable"
			s.log.WarnContext(ctx, "readiness check failed", "check", r.Name, "err", err)
			continue
		}
		checks[r.Name] = "ok"
	}
	if !ok {
		return c.Status(http.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "checks": checks})
	}
	return c.JSON(fiber.Map{"status": "ok", "checks": checks})
}

func (s *Server) openAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(s.openapi)
}

// SignupResponse is what sign-up returns.
type SignupResponse struct {
	Tenant tenants.Tenant `json:"tenant"`
	User   tenants.User   `json:"user"`
	Token  string         `json:"token"`
}

func (s *Server) signup(c *fiber.Ctx) error {
	var in tenants.SignupInput
	if err := decode(c, &in); err != nil {
		return err
	}
	t, u, tok, err := s.cfg.Tenants.Signup(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(201).JSON(SignupResponse{Tenant: t, User: u, Token: tok})
}

func (s *Server) login(c *fiber.Ctx) error {
	var in tenants.LoginInput
	if err := decode(c, &in); err != nil {
		return err
	}
	tok, m, err := s.cfg.Tenants.Login(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"token": tok, "tenant_id": m.TenantID, "role": m.Role, "expires_in": int(s.cfg.Tenants.Sessions().TTL().Seconds())})
}

func (s *Server) getActingTenant(c *fiber.Ctx) error { return c.JSON(acting(c)) }

func (s *Server) createAPIKey(c *fiber.Ctx) error {
	var in tenants.CreateAPIKeyInput
	if err := decode(c, &in); err != nil {
		return err
	}
	k, secret, err := s.cfg.Tenants.CreateAPIKey(c.UserContext(), acting(c), in)
	if err != nil {
		return err
	}
	return c.Status(201).JSON(fiber.Map{"id": k.ID, "key": secret, "name": k.Name, "role": k.Role, "prefix": k.Prefix, "created_at": k.CreatedAt})
}

func (s *Server) listAPIKeys(c *fiber.Ctx) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	ks, next, err := s.cfg.Tenants.APIKeys(c.UserContext(), acting(c), p)
	if err != nil {
		return err
	}
	return c.JSON(list(ks, next))
}

func (s *Server) revokeAPIKey(c *fiber.Ctx) error {
	if err := s.cfg.Tenants.RevokeAPIKey(c.UserContext(), acting(c), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(204)
}

func (s *Server) createTenant(c *fiber.Ctx) error {
	var in tenants.CreateTenantInput
	if err := decode(c, &in); err != nil {
		return err
	}
	t, err := s.cfg.Tenants.CreateChild(c.UserContext(), acting(c), in)
	if err != nil {
		return err
	}
	return c.Status(201).JSON(t)
}

func (s *Server) listTenants(c *fiber.Ctx) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	ts, next, err := s.cfg.Tenants.Children(c.UserContext(), acting(c), p)
	if err != nil {
		return err
	}
	return c.JSON(list(ts, next))
}

func (s *Server) getTenant(c *fiber.Ctx) error {
	t, err := s.cfg.Tenants.Tenant(c.UserContext(), acting(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(t)
}

func (s *Server) updateTenant(c *fiber.Ctx) error {
	var in tenants.UpdateTenantInput
	if err := decode(c, &in); err != nil {
		return err
	}
	t, err := s.cfg.Tenants.UpdateChild(c.UserContext(), acting(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(t)
}

func (s *Server) deleteTenant(c *fiber.Ctx) error {
	if err := s.cfg.Tenants.DeleteChild(c.UserContext(), acting(c), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(204)
}

func (s *Server) getQuotas(c *fiber.Ctx) error {
	t := acting(c)
	r, err := s.cfg.Tenants.Quotas(c.UserContext(), t, t.ID)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *Server) getTenantQuotas(c *fiber.Ctx) error {
	r, err := s.cfg.Tenants.Quotas(c.UserContext(), acting(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *Server) setTenantQuotas(c *fiber.Ctx) error {
	patch, err := decodeLimits(c)
	if err != nil {
		return err
	}
	r, err := s.cfg.Tenants.SetLimits(c.UserContext(), acting(c), c.Params("id"), patch)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *Server) getBranding(c *fiber.Ctx) error {
	b, err := s.cfg.Tenants.Branding(c.UserContext(), acting(c))
	if err != nil {
		return err
	}
	return c.JSON(b)
}

func (s *Server) putBranding(c *fiber.Ctx) error {
	var in tenants.BrandingInput
	if err := decode(c, &in); err != nil {
		return err
	}
	b, err := s.cfg.Tenants.UpdateBranding(c.UserContext(), acting(c), in)
	if err != nil {
		return err
	}
	return c.JSON(b)
}

func (s *Server) putLogo(c *fiber.Ctx) error {
	b, err := s.cfg.Tenants.SetLogo(c.UserContext(), acting(c), c.Get(fiber.HeaderContentType), c.Body())
	if err != nil {
		return err
	}
	return c.JSON(b)
}

func (s *Server) deleteLogo(c *fiber.Ctx) error {
	b, err := s.cfg.Tenants.RemoveLogo(c.UserContext(), acting(c))
	if err != nil {
		return err
	}
	return c.JSON(b)
}

func (s *Server) addDomain(c *fiber.Ctx) error {
	var in tenants.AddDomainInput
	if err := decode(c, &in); err != nil {
		return err
	}
	d, err := s.cfg.Tenants.AddDomain(c.UserContext(), acting(c), in)
	if err != nil {
		return err
	}
	return c.Status(201).JSON(d)
}

func (s *Server) verifyDomain(c *fiber.Ctx) error {
	d, err := s.cfg.Tenants.VerifyDomain(c.UserContext(), acting(c), strings.ToLower(c.Params("domain")))
	if err != nil {
		return err
	}
	return c.JSON(d)
}

func (s *Server) removeDomain(c *fiber.Ctx) error {
	if err := s.cfg.Tenants.RemoveDomain(c.UserContext(), acting(c), strings.ToLower(c.Params("domain"))); err != nil {
		return err
	}
	return c.SendStatus(204)
}

func (s *Server) publicBranding(c *fiber.Ctx) error {
	b, err := s.cfg.Tenants.PublicBranding(c.UserContext(), c.Params("slug"), "")
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=60")
	return c.JSON(b)
}

func (s *Server) publicBrandingByHost(c *fiber.Ctx) error {
	host := c.Query("host")
	if host == "" {
		return errs.Field("host", "host is required")
	}
	b, err := s.cfg.Tenants.PublicBranding(c.UserContext(), "", host)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=60")
	return c.JSON(b)
}

func (s *Server) publicLogo(c *fiber.Ctx) error {
	r, ct, err := s.cfg.Tenants.Logo(c.UserContext(), c.Params("slug"))
	if err != nil {
		return err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, 2<<20))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	c.Set("X-Content-Type-Options", "nosniff")
	if ct == "image/svg+xml" {
		// An uploaded SVG must never run script in our origin.
		c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	}
	return c.Send(b)
}

// decodeLimits reads a quota patch resource by resource, so that a bad value
// names its resource (Go's decoder names no field inside a map).
func decodeLimits(c *fiber.Ctx) (tenants.Limits, error) {
	var raw map[string]json.RawMessage
	if err := decode(c, &raw); err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, errs.E(errs.Invalid, "invalid_request", "send an object of limits")
	}
	patch := tenants.Limits{}
	for k, v := range raw {
		var n *int64
		if err := json.Unmarshal(v, &n); err != nil {
			return nil, errs.Field(k, "%s must be a whole number from 0 up, or null for unlimited", k)
		}
		patch[k] = n
	}
	return patch, nil
}
