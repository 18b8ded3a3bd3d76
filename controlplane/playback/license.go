package playback

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/marquee-video/marquee/billing/metering"
	"github.com/marquee-video/marquee/dataplane/drm"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/netguard"
)

// LicenseResult is a vendor's answer to a proxied license request.
type LicenseResult struct {
	Status      int
	Body        []byte
	ContentType string
	UsedBackup  bool
}

// licenseClient reaches tenants' vendors, never the platform's own
// network (the URLs are the tenant's to set).
func licenseClient(guard netguard.Policy) *http.Client {
	d := &net.Dialer{Timeout: 3 * time.Second, Control: guard.DialControl}
	return &http.Client{
		Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 16, IdleConnTimeout: 90 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// proxyFor returns the tenant's proxy for a system, kept across requests so
// that a primary marked down stays down for its cooldown.
func (s *Service) proxyFor(tenant, system string, r VendorRoute) *drm.Proxy {
	key := tenant + "|" + system + "|" + r.Primary + "|" + r.Backup
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.proxies[key]; ok {
		return p
	}
	p := &drm.Proxy{Primary: r.Primary, Backup: r.Backup, Client: s.licenseHTTP, Timeout: s.cfg.LicenseTimeout, Cooldown: 30 * time.Second, Log: s.cfg.Log}
	s.proxies[key] = p
	return p
}

// ProxyLicense forwards a Widevine, PlayReady or FairPlay license request
// of an authorized drm session to the tenant's vendor: primary first,
// backup when the primary is down.
func (s *Service) ProxyLicense(ctx context.Context, sess *Session, system string, body []byte, contentType string) (LicenseResult, error) {
	if sess.PB.Policy != PolicyDRM {
		return LicenseResult{}, errs.E(errs.Conflict, "not_drm", "playback id %s is not a drm playback id", sess.PB.ID)
	}
	cfg, err := s.cfg.Store.DRMConfig(ctx, sess.PB.TenantID)
	if err != nil {
		return LicenseResult{}, err
	}
	var route VendorRoute
	switch system {
	case "widevine":
		route = cfg.Widevine
	case "playready":
		route = cfg.PlayReady
	case "fairplay":
		route = cfg.FairPlay
	default:
		return LicenseResult{}, errs.NotFoundf("unknown DRM system %q: widevine, playready or fairplay", system)
	}
	if route.Primary == "" {
		return LicenseResult{}, errs.E(errs.Conflict, "drm_not_configured", "this tenant has no %s license server", system)
	}
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	status, rh, rb, backup, err := s.proxyFor(sess.PB.TenantID, system, route).Forward(ctx, system, body, h)
	switch {
	case errors.Is(err, drm.ErrTooLarge):
		return LicenseResult{}, errs.E(errs.TooLarge, "license_request_too_large", "the license request is too large")
	case errors.Is(err, drm.ErrUnavailable):
		return LicenseResult{}, errs.Wrap(errs.Unavailable, "license_server_unavailable", err, "the DRM vendor's license servers are unavailable")
	case err != nil:
		return LicenseResult{}, err
	}
	if status < 300 {
		s.cfg.Usage.Add(sess.PB.TenantID, metering.DRMLicenses, 1, "system="+system)
	}
	return LicenseResult{Status: status, Body: rb, ContentType: rh.Get("Content-Type"), UsedBackup: backup}, nil
}

// CDNHealth reports whether a tenant's pathway is up, if it is tracked.
func (s *Service) CDNHealth(tenant, pathwayID string) (up, known bool) {
	s.mu.Lock()
	th, ok := s.health[tenant]
	s.mu.Unlock()
	if !ok {
		return false, false
	}
	st, ok := th.h.Status(pathwayID)
	return st.Up, ok
}

// Providers lists the CDN providers a tenant may configure.
func Providers() []string {
	return []string{ProviderCloudFront, ProviderAkamai, ProviderFastly, ProviderBunny, ProviderNginx, ProviderGeneric}
}
