package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/netip"
	"path"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/marquee-video/marquee/controlplane/playback"
	"github.com/marquee-video/marquee/internal/errs"
)

// Param kinds of the playback routes.
const (
	ParamPlaybackID  = "playback_id"
	ParamSigningKey  = "signing_key"
	ParamCDN         = "cdn"
	ParamProfile     = "profile"
	ParamEntitlement = "entitlement"
	// Public playback paths: a playback id with its manifest extension,
	// URL signatures, DRM system names.
	ParamPlaybackFile = "playback_file"
	ParamURLSignature = "url_signature"
	ParamURLExpiry    = "url_expiry"
	ParamDRMSystem    = "drm_system"
	ParamPathway      = "pathway"
)

// maxOriginObject bounds what the origin reads into memory to serve ranges
// (segments are a few MB at most).
const maxOriginObject = 64 << 20

func (s *Server) playbackRoutes() []Route {
	if s.cfg.Playback == nil {
		return nil
	}
	asset := map[string]string{"id": ParamAsset}
	viewer := map[string]string{"id": ParamViewer}
	return []Route{
		{Method: "POST", Path: "/v1/assets/:id/playback-ids", Summary: "Add a playback id (public, signed or drm) with its access rules", Object: "asset", Action: "write", Params: asset, Request: "CreatePlaybackIDRequest", Response: "PlaybackID", Status: 201, Idempotent: true, Handler: s.createPlaybackID},
		{Method: "GET", Path: "/v1/assets/:id/playback-ids", Summary: "An asset's playback ids", Object: "asset", Action: "read", Params: asset, Response: "PlaybackIDList", Status: 200, Handler: s.listPlaybackIDs},
		{Method: "DELETE", Path: "/v1/assets/:id/playback-ids/:pid", Summary: "Remove a playback id (viewers lose access within 30 s)", Object: "asset", Action: "write", Params: map[string]string{"id": ParamAsset, "pid": ParamPlaybackID}, Status: 204, Handler: s.deletePlaybackID},
		{Method: "GET", Path: "/v1/assets/:id/cpix", Summary: "The protected asset's content keys as a CPIX 2.3 document, for the tenant's DRM vendor", Object: "drm", Action: "read", Params: asset, Response: "binary", Status: 200, Handler: s.assetCPIX},
		{Method: "POST", Path: "/v1/assets/:id/rotate-keys", Summary: "Rewrap the asset's content keys under the platform's active key-encryption key", Object: "drm", Action: "write", Params: asset, Response: "KeyRotation", Status: 200, Handler: s.rotateKeys},

		{Method: "POST", Path: "/v1/signing-keys", Summary: "Create a playback token signing key (its private key is shown once)", Object: "signing_key", Action: "write", Request: "CreateSigningKeyRequest", Response: "CreatedSigningKey", Status: 201, Idempotent: true, Handler: s.createSigningKey},
		{Method: "GET", Path: "/v1/signing-keys", Summary: "List signing keys (public halves)", Object: "signing_key", Action: "read", Response: "SigningKeyList", Status: 200, Handler: s.listSigningKeys},
		{Method: "DELETE", Path: "/v1/signing-keys/:id", Summary: "Revoke a signing key (its tokens stop playing within 30 s)", Object: "signing_key", Action: "write", Params: map[string]string{"id": ParamSigningKey}, Status: 204, Handler: s.revokeSigningKey},

		{Method: "POST", Path: "/v1/cdns", Summary: "Add a CDN (a steering pathway) with its URL signing secret", Object: "cdn", Action: "write", Request: "CDNRequest", Response: "CDN", Status: 201, Idempotent: true, Handler: s.createCDN},
		{Method: "GET", Path: "/v1/cdns", Summary: "The tenant's CDNs with their health", Object: "cdn", Action: "read", Response: "CDNList", Status: 200, Handler: s.listCDNs},
		{Method: "PUT", Path: "/v1/cdns/:id", Summary: "Replace a CDN's configuration", Object: "cdn", Action: "write", Params: map[string]string{"id": ParamCDN}, Request: "CDNRequest", Response: "CDN", Status: 200, Handler: s.putCDN},
		{Method: "DELETE", Path: "/v1/cdns/:id", Summary: "Remove a CDN", Object: "cdn", Action: "write", Params: map[string]string{"id": ParamCDN}, Status: 204, Handler: s.deleteCDN},

		{Method: "GET", Path: "/v1/drm", Summary: "The tenant's DRM vendor configuration", Object: "drm", Action: "read", Response: "DRMConfig", Status: 200, Handler: s.getDRM},
		{Method: "PUT", Path: "/v1/drm", Summary: "Set the DRM vendor's license servers (primary and backup per system)", Object: "drm", Action: "write", Request: "DRMConfig", Response: "DRMConfig", Status: 200, Handler: s.putDRM},

		{Method: "POST", Path: "/v1/viewers", Summary: "Add a viewer (its id is the tenant's own)", Object: "viewer", Action: "write", Request: "CreateViewerRequest", Response: "Viewer", Status: 201, Idempotent: true, Handler: s.createViewer},
		{Method: "PATCH", Path: "/v1/viewers/:id", Summary: "Change a viewer", Object: "viewer", Action: "write", Params: viewer, Request: "ViewerRequest", Response: "Viewer", Status: 200, Handler: s.patchViewer},
		{Method: "GET", Path: "/v1/viewers/:id", Summary: "A viewer with profiles and entitlements", Object: "viewer", Action: "read", Params: viewer, Response: "Viewer", Status: 200, Handler: s.getViewer},
		{Method: "PUT", Path: "/v1/viewers/:id/profiles/:profile", Summary: "Create or update a profile (rating limit, parental PIN)", Object: "viewer", Action: "write", Params: map[string]string{"id": ParamViewer, "profile": ParamProfile}, Request: "ProfileRequest", Response: "Viewer", Status: 200, Handler: s.putProfile},
		{Method: "POST", Path: "/v1/viewers/:id/profiles/:profile/pin", Summary: "Check a profile's parental PIN", Object: "viewer", Action: "read", Params: map[string]string{"id": ParamViewer, "profile": ParamProfile}, Request: "PINRequest", Status: 204, Handler: s.checkPIN},
		{Method: "POST", Path: "/v1/viewers/:id/entitlements", Summary: "Grant a subscription, rental or purchase (idempotent by id)", Object: "viewer", Action: "write", Params: viewer, Request: "GrantRequest", Response: "Viewer", Status: 201, Idempotent: true, Handler: s.grant},
		{Method: "DELETE", Path: "/v1/viewers/:id/entitlements/:ent", Summary: "Revoke an entitlement", Object: "viewer", Action: "write", Params: map[string]string{"id": ParamViewer, "ent": ParamEntitlement}, Status: 204, Handler: s.revokeEntitlement},

		{Method: "GET", Path: "/play/:file", Summary: "A viewer's manifest: <playback id>.m3u8 (HLS) or .mpd (DASH), ?token= for signed and drm ids (license_token, audience l, names the Clear Key license server in the MPD)", Params: map[string]string{"file": ParamPlaybackFile}, Query: []string{"token", "region", "license_token"}, Response: "binary", Status: 200, Handler: s.playManifest},
		{Method: "GET", Path: "/play/:pid/:pathway/:file", Summary: "A track's HLS media playlist for a query-token CDN (CloudFront, Akamai, Fastly, Bunny), every segment signed for it", Params: map[string]string{"pid": ParamPlaybackID, "pathway": ParamPathway, "file": ParamPlaybackFile}, Query: []string{"token"}, Response: "binary", Status: 200, Handler: s.playMediaPlaylist},
		{Method: "GET", Path: "/play/:pid/steering.json", Summary: "Content steering: the session's CDN priority (HLS, or DASH with format=dash)", Params: map[string]string{"pid": ParamPlaybackID}, Query: []string{"token", "region", "format"}, Response: "binary", Status: 200, Handler: s.playSteering},
		{Method: "POST", Path: "/play/:pid/cdn-reports", Summary: "A player reports that a CDN failed or worked", Params: map[string]string{"pid": ParamPlaybackID}, Query: []string{"token"}, Request: "CDNReport", Status: 204, Handler: s.playReport},
		{Method: "POST", Path: "/license/clearkey/:pid", Summary: "W3C Clear Key license (token audience l)", Params: map[string]string{"pid": ParamPlaybackID}, Query: []string{"token"}, Request: "binary", Response: "binary", Status: 200, Handler: s.clearKeyLicense},
		{Method: "POST", Path: "/license/:system/:pid", Summary: "Widevine, PlayReady or FairPlay license, proxied to the tenant's vendor (primary, then backup)", Params: map[string]string{"system": ParamDRMSystem, "pid": ParamPlaybackID}, Query: []string{"token"}, Request: "binary", Response: "binary", Status: 200, Handler: s.proxyLicense},
		{Method: "GET", Path: "/t/:sig/:exp/a/:asset/*", Summary: "Origin: an asset's object under a path token (ranges, caching headers)", Params: map[string]string{"sig": ParamURLSignature, "exp": ParamURLExpiry, "asset": ParamAsset, "*": ParamFile}, Response: "binary", Status: 200, Handler: s.origin},
		{Method: "GET", Path: "/canary", Summary: "The CDN health canary object", Response: "binary", Status: 200, Handler: s.canary},
	}
}

// CreateAssetRequest is the body of POST /v1/assets.
type CreateAssetRequest struct {
	Input string `json:"input"`
	// PlaybackPolicy, when set, adds a first playback id; "drm" also
	// packages the asset encrypted.
	PlaybackPolicy playback.Policy  `json:"playback_policy"`
	Access         *playback.Access `json:"access"`
}

func (s *Server) createPlaybackID(c *fiber.Ctx) error {
	var in playback.CreatePlaybackIDInput
	if err := decode(c, &in); err != nil {
		return err
	}
	p, err := s.cfg.Playback.CreatePlaybackID(c.UserContext(), acting(c).ID, c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.Status(201).JSON(p)
}

func (s *Server) listPlaybackIDs(c *fiber.Ctx) error {
	ps, err := s.cfg.Playback.PlaybackIDs(c.UserContext(), acting(c).ID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(list(ps, ""))
}

func (s *Server) deletePlaybackID(c *fiber.Ctx) error {
	if err := s.cfg.Playback.DeletePlaybackID(c.UserContext(), acting(c).ID, c.Params("id"), c.Params("pid")); err != nil {
		return err
	}
	return c.SendStatus(204)
}

func (s *Server) assetCPIX(c *fiber.Ctx) error {
	doc, err := s.cfg.Playback.CPIX(c.UserContext(), acting(c).ID, c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/xml")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(doc)
}

func (s *Server) rotateKeys(c *fiber.Ctx) error {
	n, err := s.cfg.Playback.RotateKEK(c.UserContext(), acting(c).ID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"rewrapped": n})
}

func (s *Server) createSigningKey(c *fiber.Ctx) error {
	var in playback.CreateSigningKeyInput
	if len(c.Body()) > 0 {
		if err := decode(c, &in); err != nil {
			return err
		}
	}
	k, err := s.cfg.Playback.CreateSigningKey(c.UserContext(), acting(c).ID, in)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(201).JSON(k)
}

func (s *Server) listSigningKeys(c *fiber.Ctx) error {
	ks, err := s.cfg.Playback.SigningKeys(c.UserContext(), acting(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(list(ks, ""))
}

func (s *Server) revokeSigningKey(c *fiber.Ctx) error {
	if err := s.cfg.Playback.RevokeSigningKey(c.UserContext(), acting(c).ID, c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(204)
}

// CDNView is a CDN with its health, without its secret.
type CDNView struct {
	playback.CDN
	PathwayID string `json:"pathway_id"`
	Healthy   *bool  `json:"healthy"`
}

func (s *Server) cdnView(tenant string, cd playback.CDN) CDNView {
	v := CDNView{CDN: cd, PathwayID: strings.TrimPrefix(cd.ID, playback.PrefixCDN+"_")}
	if up, ok := s.cfg.Playback.CDNHealth(tenant, v.PathwayID); ok {
		v.Healthy = &up
	}
	return v
}

func (s *Server) createCDN(c *fiber.Ctx) error {
	var in playback.CDNInput
	if err := decode(c, &in); err != nil {
		return err
	}
	cd, err := s.cfg.Playback.PutCDN(c.UserContext(), acting(c).ID, "", in)
	if err != nil {
		return err
	}
	return c.Status(201).JSON(s.cdnView(acting(c).ID, cd))
}

func (s *Server) putCDN(c *fiber.Ctx) error {
	var in playback.CDNInput
	if err := decode(c, &in); err != nil {
		return err
	}
	tenant := acting(c).ID
	existing, err := s.cfg.Playback.CDNs(c.UserContext(), tenant)
	if err != nil {
		return err
	}
	found := false
	for _, e := range existing {
		found = found || e.ID == c.Params("id")
	}
	if !found {
		return errs.NotFoundf("CDN %q not found", c.Params("id"))
	}
	cd, err := s.cfg.Playback.PutCDN(c.UserContext(), tenant, c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(s.cdnView(tenant, cd))
}

func (s *Server) listCDNs(c *fiber.Ctx) error {
	tenant := acting(c).ID
	cs, err := s.cfg.Playback.CDNs(c.UserContext(), tenant)
	if err != nil {
		return err
	}
	out := make([]CDNView, len(cs))
	for i, cd := range cs {
		out[i] = s.cdnView(tenant, cd)
	}
	return c.JSON(list(out, ""))
}

func (s *Server) deleteCDN(c *fiber.Ctx) error {
	if err := s.cfg.Playback.DeleteCDN(c.UserContext(), acting(c).ID, c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(204)
}

func (s *Server) getDRM(c *fiber.Ctx) error {
	d, err := s.cfg.Playback.DRMConfig(c.UserContext(), acting(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

func (s *Server) putDRM(c *fiber.Ctx) error {
	var in playback.DRMConfig
	if err := decode(c, &in); err != nil {
		return err
	}
	d, err := s.cfg.Playback.PutDRMConfig(c.UserContext(), acting(c).ID, in)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

func (s *Server) createViewer(c *fiber.Ctx) error {
	var in playback.ViewerInput
	if err := decode(c, &in); err != nil {
		return err
	}
	v, err := s.cfg.Playback.CreateViewer(c.UserContext(), acting(c).ID, in)
	if err != nil {
		return err
	}
	return c.Status(201).JSON(v)
}

func (s *Server) patchViewer(c *fiber.Ctx) error {
	var in playback.ViewerInput
	if err := decode(c, &in); err != nil {
		return err
	}
	in.ID = c.Params("id")
	v, err := s.cfg.Playback.UpdateViewer(c.UserContext(), acting(c).ID, in)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) getViewer(c *fiber.Ctx) error {
	v, err := s.cfg.Playback.Viewer(c.UserContext(), acting(c).ID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) putProfile(c *fiber.Ctx) error {
	var in playback.ProfileInput
	if err := decode(c, &in); err != nil {
		return err
	}
	v, err := s.cfg.Playback.PutProfile(c.UserContext(), acting(c).ID, c.Params("id"), c.Params("profile"), in)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) checkPIN(c *fiber.Ctx) error {
	var in struct {
		PIN string `json:"pin"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if err := s.cfg.Playback.CheckPIN(c.UserContext(), acting(c).ID, c.Params("id"), c.Params("profile"), in.PIN); err != nil {
		return err
	}
	return c.SendStatus(204)
}

func (s *Server) grant(c *fiber.Ctx) error {
	var in playback.GrantInput
	if err := decode(c, &in); err != nil {
		return err
	}
	v, err := s.cfg.Playback.Grant(c.UserContext(), acting(c).ID, c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.Status(201).JSON(v)
}

func (s *Server) revokeEntitlement(c *fiber.Ctx) error {
	if err := s.cfg.Playback.Revoke(c.UserContext(), acting(c).ID, c.Params("id"), c.Params("ent")); err != nil {
		return err
	}
	return c.SendStatus(204)
}

// Public playback.

// viewerCountry is the viewer's country: a trusted edge's header, else the
// GeoIP database, else unknown.
func (s *Server) viewerCountry(c *fiber.Ctx) string {
	if s.cfg.Geo == nil {
		return ""
	}
	ip, err := netip.ParseAddr(c.IP())
	if err != nil {
		return ""
	}
	return s.cfg.Geo.Country(ip.Unmap(), c.Get(s.cfg.Geo.HeaderName()))
}

func (s *Server) authorizePlayback(c *fiber.Ctx, pid, aud string) (*playback.Session, error) {
	return s.cfg.Playback.Authorize(c.UserContext(), playback.Request{
		PlaybackID: pid, Token: c.Query("token"), Audience: aud, Country: s.viewerCountry(c), Region: c.Query("region"),
	})
}

func (s *Server) playManifest(c *fiber.Ctx) error {
	file := c.Params("file")
	pid, ext := strings.TrimSuffix(file, path.Ext(file)), path.Ext(file)
	if ext != ".m3u8" && ext != ".mpd" {
		return errs.NotFoundf("manifests are <playback id>.m3u8 or .mpd")
	}
	sess, err := s.authorizePlayback(c, pid, playback.AudienceVideo)
	if err != nil {
		return err
	}
	buf := s.manifestBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 {
			buf.Reset()
			s.manifestBufs.Put(buf)
		}
	}()
	if ext == ".m3u8" {
		err = s.cfg.Playback.HLS(c.UserContext(), sess, c.Query("region"), buf)
		c.Set(fiber.HeaderContentType, "application/vnd.apple.mpegurl")
	} else {
		err = s.cfg.Playback.DASH(c.UserContext(), sess, c.Query("region"), c.Query("license_token"), buf)
		c.Set(fiber.HeaderContentType, "application/dash+xml")
	}
	if err != nil {
		return err
	}
	// Personalised: never shared by caches.
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	// SetBody copies: the buffer goes back to the pool.
	c.Response().SetBody(buf.Bytes())
	return nil
}

func (s *Server) playMediaPlaylist(c *fiber.Ctx) error {
	track, ok := strings.CutSuffix(c.Params("file"), ".m3u8")
	if !ok {
		return errs.NotFoundf("media playlists are <track>.m3u8")
	}
	sess, err := s.authorizePlayback(c, c.Params("pid"), playback.AudienceVideo)
	if err != nil {
		return err
	}
	buf := s.manifestBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 {
			buf.Reset()
			s.manifestBufs.Put(buf)
		}
	}()
	if err := s.cfg.Playback.MediaPlaylist(c.UserContext(), sess, c.Params("pathway"), track, buf); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/vnd.apple.mpegurl")
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Response().SetBody(buf.Bytes())
	return nil
}

func (s *Server) playSteering(c *fiber.Ctx) error {
	sess, err := s.cfg.Playback.Authorize(c.UserContext(), playback.Request{PlaybackID: c.Params("pid"), Token: c.Query("token"), Audience: playback.AudienceVideo, Country: s.viewerCountry(c), SkipPackage: true})
	if err != nil {
		return err
	}
	reload := c.BaseURL() + c.OriginalURL()
	body, err := s.cfg.Playback.Steering(c.UserContext(), sess, c.Query("region"), c.Query("format") == "dash", reload)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
	return c.Send(body)
}

// CDNReport is a player's report about a pathway.
type CDNReport struct {
	Pathway string `json:"pathway"`
	OK      bool   `json:"ok"`
}

func (s *Server) playReport(c *fiber.Ctx) error {
	var in CDNReport
	if err := decode(c, &in); err != nil {
		return err
	}
	sess, err := s.cfg.Playback.Authorize(c.UserContext(), playback.Request{PlaybackID: c.Params("pid"), Token: c.Query("token"), Audience: playback.AudienceVideo, Country: s.viewerCountry(c), SkipPackage: true})
	if err != nil {
		return err
	}
	if err := s.cfg.Playback.ReportCDN(c.UserContext(), sess, in.Pathway, in.OK); err != nil {
		return err
	}
	c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
	return c.SendStatus(204)
}

func (s *Server) clearKeyLicense(c *fiber.Ctx) error {
	sess, err := s.authorizePlayback(c, c.Params("pid"), playback.AudienceLicense)
	if err != nil {
		return err
	}
	body, err := s.cfg.Playback.ClearKeyLicense(c.UserContext(), sess, c.Body())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
	return c.Send(body)
}

func (s *Server) proxyLicense(c *fiber.Ctx) error {
	sess, err := s.authorizePlayback(c, c.Params("pid"), playback.AudienceLicense)
	if err != nil {
		return err
	}
	res, err := s.cfg.Playback.ProxyLicense(c.UserContext(), sess, c.Params("system"), c.Body(), c.Get(fiber.HeaderContentType))
	if err != nil {
		return err
	}
	if res.ContentType != "" {
		c.Set(fiber.HeaderContentType, res.ContentType)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
	if res.UsedBackup {
		c.Set("Marquee-License-Server", "backup")
	}
	return c.Status(res.Status).Send(res.Body)
}

func (s *Server) origin(c *fiber.Ctx) error {
	file := c.Params("*")
	clean := path.Clean("/" + file)
	ct, ok := streamTypes[path.Ext(clean)]
	if file == "" || clean != "/"+file || !ok {
		return errs.NotFoundf("no such file")
	}
	key, count, err := s.cfg.Playback.OriginObject(c.UserContext(), c.Params("asset"), c.Params("sig"), c.Params("exp"), file)
	if err != nil {
		return err
	}
	r, err := s.cfg.Media.Get(c.UserContext(), key)
	if err != nil {
		return err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxOriginObject+1))
	if err != nil {
		return err
	}
	if len(data) > maxOriginObject {
		return errs.E(errs.TooLarge, "object_too_large", "objects over %d bytes are not served by the built-in origin", maxOriginObject)
	}
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
	c.Set("Access-Control-Expose-Headers", "Content-Length, Content-Range")
	// Objects never change under a path: an edge may keep them until the
	// token expires, and a player's cache as long as it likes.
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	sum := sha256.Sum256(data)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	c.Set(fiber.HeaderETag, etag)
	c.Set(fiber.HeaderAcceptRanges, "bytes")
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" && inm == etag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	rng := c.Get(fiber.HeaderRange)
	if rng == "" {
		count(int64(len(data)))
		return c.Send(data)
	}
	start, end, ok := parseRange(rng, int64(len(data)))
	if !ok {
		c.Set(fiber.HeaderContentRange, "bytes */"+strconv.Itoa(len(data)))
		return c.Status(fiber.StatusRequestedRangeNotSatisfiable).Send(nil)
	}
	c.Set(fiber.HeaderContentRange, "bytes "+strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(end, 10)+"/"+strconv.Itoa(len(data)))
	count(end - start + 1)
	return c.Status(fiber.StatusPartialContent).Send(bytes.Clone(data[start : end+1]))
}

// parseRange reads one byte range (RFC 9110): "bytes=a-b", "bytes=a-" or
// "bytes=-n". Several ranges are not served (ok false gives a 416 only when
// the one range cannot be satisfied; several are refused the same way).
func parseRange(h string, size int64) (start, end int64, ok bool) {
	spec, found := strings.CutPrefix(h, "bytes=")
	if !found || strings.Contains(spec, ",") || size == 0 {
		return 0, 0, false
	}
	a, b, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false
	}
	switch {
	case a == "":
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return 0, 0, false
		}
		return max(0, size-n), size - 1, true
	default:
		s, err := strconv.ParseInt(a, 10, 64)
		if err != nil || s < 0 || s >= size {
			return 0, 0, false
		}
		e := size - 1
		if b != "" {
			v, err := strconv.ParseInt(b, 10, 64)
			if err != nil || v < s {
				return 0, 0, false
			}
			e = min(v, size-1)
		}
		return s, e, true
	}
}

func (s *Server) canary(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, "text/plain")
	return c.SendString("ok\n")
}

func playbackSchemas() map[string]any {
	str := map[string]any{"type": "string"}
	strOrNull := map[string]any{"type": []string{"string", "null"}}
	timeStr := map[string]any{"type": "string", "format": "date-time"}
	timeNull := map[string]any{"type": []string{"string", "null"}, "format": "date-time"}
	integer := map[string]any{"type": "integer"}
	boolean := map[string]any{"type": "boolean"}
	strList := map[string]any{"type": "array", "items": str}
	policy := map[string]any{"type": "string", "enum": []string{"public", "signed", "drm"}}
	access := obj(nil, map[string]any{
		"model": map[string]any{"type": "string", "enum": []string{"free", "avod", "svod", "tvod"}}, "tier": str,
		"rating": map[string]any{"type": "string", "enum": playback.Ratings()}, "allow_countries": strList, "deny_countries": strList,
	})
	signingKey := map[string]any{"id": str, "alg": map[string]any{"type": "string", "enum": []string{"RS256", "ES256"}}, "public_key": str, "created_at": timeStr, "revoked_at": timeNull}
	createdKey := map[string]any{"private_key": str}
	for k, v := range signingKey {
		createdKey[k] = v
	}
	route := obj(nil, map[string]any{"primary": str, "backup": str})
	cdnProps := map[string]any{
		"id": str, "pathway_id": str, "name": str, "provider": map[string]any{"type": "string", "enum": playback.Providers()}, "base_url": str, "key_id": str,
		"weight": integer, "regions": strList, "canary_path": str, "created_at": timeStr, "healthy": map[string]any{"type": []string{"boolean", "null"}},
	}
	entitlement := obj([]string{"id", "kind"}, map[string]any{
		"id": str, "viewer_id": str, "kind": map[string]any{"type": "string", "enum": []string{"svod", "rental", "purchase"}}, "tier": str, "asset_id": str,
		"first_play_at": timeNull, "expires_at": timeNull, "revoked_at": timeNull, "created_at": timeStr,
	})
	profile := obj([]string{"id", "name", "has_pin"}, map[string]any{"id": str, "name": str, "rating_limit": str, "has_pin": boolean})
	return map[string]any{
		"CreatePlaybackIDRequest": obj([]string{"policy"}, map[string]any{"policy": policy, "access": access}),
		"PlaybackID":              obj([]string{"id", "asset_id", "policy", "access", "created_at"}, map[string]any{"id": str, "asset_id": str, "policy": policy, "access": access, "created_at": timeStr}),
		"PlaybackIDList":          obj([]string{"data", "next_cursor"}, map[string]any{"data": map[string]any{"type": "array", "items": ref("PlaybackID")}, "next_cursor": strOrNull}),
		"KeyRotation":             obj([]string{"rewrapped"}, map[string]any{"rewrapped": integer}),
		"CreateSigningKeyRequest": obj(nil, map[string]any{"alg": map[string]any{"type": "string", "enum": []string{"RS256", "ES256"}}}),
		"SigningKey":              obj([]string{"id", "alg", "public_key", "created_at"}, signingKey),
		"CreatedSigningKey":       obj([]string{"id", "alg", "public_key", "private_key", "created_at"}, createdKey),
		"SigningKeyList":          obj([]string{"data", "next_cursor"}, map[string]any{"data": map[string]any{"type": "array", "items": ref("SigningKey")}, "next_cursor": strOrNull}),
		"CDNRequest": obj([]string{"name", "provider", "base_url"}, map[string]any{
			"name": str, "provider": map[string]any{"type": "string", "enum": playback.Providers()}, "base_url": str, "key_id": str,
			"secret": map[string]any{"type": "string", "description": "the URL signing secret (or CloudFront private key PEM); never shown again"},
			"weight": integer, "regions": strList, "canary_path": str,
		}),
		"CDN":                 obj([]string{"id", "pathway_id", "name", "provider", "base_url", "weight", "regions", "created_at"}, cdnProps),
		"CDNList":             obj([]string{"data", "next_cursor"}, map[string]any{"data": map[string]any{"type": "array", "items": ref("CDN")}, "next_cursor": strOrNull}),
		"DRMConfig":           obj(nil, map[string]any{"vendor": str, "widevine": route, "playready": route, "fairplay": route, "fairplay_certificate_url": str, "updated_at": timeStr}),
		"CreateViewerRequest": obj([]string{"id"}, map[string]any{"id": map[string]any{"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}, "avod": boolean}),
		"ViewerRequest":       obj(nil, map[string]any{"avod": boolean}),
		"Viewer": obj([]string{"id", "avod", "profiles", "entitlements", "created_at"}, map[string]any{
			"id": str, "avod": boolean, "profiles": map[string]any{"type": "array", "items": profile}, "entitlements": map[string]any{"type": "array", "items": entitlement}, "created_at": timeStr,
		}),
		"ProfileRequest": obj([]string{"name"}, map[string]any{"name": str, "rating_limit": str, "pin": map[string]any{"type": "string", "pattern": "^[0-9]{4,8}$"}}),
		"PINRequest":     obj([]string{"pin"}, map[string]any{"pin": str}),
		"GrantRequest": obj([]string{"kind"}, map[string]any{
			"id": str, "kind": map[string]any{"type": "string", "enum": []string{"svod", "rental", "purchase"}}, "tier": str, "asset_id": str,
			"window_hours": integer, "expires_at": timeNull,
		}),
		"CDNReport": obj([]string{"pathway", "ok"}, map[string]any{"pathway": str, "ok": boolean}),
	}
}
