package playback

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/marquee-video/marquee/billing/metering"
	"github.com/marquee-video/marquee/dataplane/cdn"
	"github.com/marquee-video/marquee/dataplane/drm"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/wire"
	"github.com/marquee-video/marquee/policies"
)

// Request is a viewer's request to play: the playback id, the token, and
// what the edge tells about the viewer.
type Request struct {
	PlaybackID string
	Token      string
	// Audience is what the token must be for: AudienceVideo for manifests
	// and steering, AudienceLicense for licenses.
	Audience string
	// Country is the viewer's ISO country from a trusted edge header or the
	// GeoIP database, "" when unknown.
	Country string
	// Region steers towards CDNs serving it ("eu", "us-east").
	Region string
	// SkipPackage leaves the package unread (steering, reports).
	SkipPackage bool
}

// Session is an authorized playback.
type Session struct {
	PB       PlaybackID
	Claims   *Claims
	Decision policies.PlaybackDecision
	pkg      *packageView
	token    string
	session  string // the steering session key
}

// Authorize checks the playback id, the token and the entitlement policy.
func (s *Service) Authorize(ctx context.Context, r Request) (*Session, error) {
	pb, err := s.playbackID(ctx, r.PlaybackID)
	if err != nil {
		return nil, err
	}
	sess := &Session{PB: pb, Claims: &Claims{}, token: r.Token, session: r.PlaybackID}
	if pb.Policy != PolicyPublic || r.Token != "" {
		c, err := s.verify(ctx, r.Token, pb, r.Audience)
		if err != nil {
			return nil, err
		}
		sess.Claims = c
		sess.session = c.Viewer + "/" + r.Token[max(0, len(r.Token)-16):]
	}
	req := policies.PlaybackRequest{
		Model: pb.Access.Model, Tier: pb.Access.Tier, RatingAge: -1, ProfileAgeLimit: -1,
		AllowCountries: pb.Access.AllowCountries, DenyCountries: pb.Access.DenyCountries,
		TokenTier: sess.Claims.Tier, Country: strings.ToUpper(r.Country),
	}
	if sess.Claims.Country != nil {
		req.TokenAllowCountries, req.TokenDenyCountries = upper(sess.Claims.Country.Allow), upper(sess.Claims.Country.Deny)
	}
	if age, ok := ratingAges[pb.Access.Rating]; ok {
		req.RatingAge = age
	}
	var rental *Entitlement
	// Entitlement data is read only when the rules need it.
	needViewer := pb.Access.Model == ModelSVOD && req.TokenTier != pb.Access.Tier || pb.Access.Model == ModelTVOD || (req.RatingAge >= 0 && sess.Claims.Profile != "")
	if needViewer && sess.Claims.Viewer != "" {
		v, err := s.cfg.Store.Viewer(ctx, pb.TenantID, sess.Claims.Viewer)
		if err != nil && !errs.Is(err, errs.NotFound) {
			return nil, err
		}
		now := s.now()
		for _, e := range v.Entitlements {
			active := e.Active(now)
			switch {
			case e.Kind == KindSVOD && active:
				req.ViewerTiers = append(req.ViewerTiers, e.Tier)
			case e.Kind == KindPurchase && active && e.AssetID == pb.AssetID:
				req.HasPurchase = true
			case e.Kind == KindRental && e.AssetID == pb.AssetID:
				if active {
					req.HasRental = true
					if rental == nil {
						rental = &e
					}
				} else {
					req.RentalExpired = true
				}
			}
		}
		for _, p := range v.Profiles {
			if p.ID == sess.Claims.Profile {
				if age, ok := ratingAges[p.RatingLimit]; ok {
					req.ProfileAgeLimit = age
				}
			}
		}
	}
	d, err := s.cfg.Policy.Decide(ctx, req)
	if err != nil {
		return nil, err
	}
	if !d.Allow {
		if d.Code == "invalid_request" {
			return nil, errs.E(errs.Invalid, d.Code, "%s", d.Reason)
		}
		return nil, errs.E(errs.Forbidden, d.Code, "%s", d.Reason)
	}
	sess.Decision = d
	// A rental's window starts at its first play.
	if rental != nil && rental.FirstPlayAt == nil && r.Audience == AudienceVideo && !r.SkipPackage {
		if err := s.cfg.Store.StartRental(ctx, pb.TenantID, rental.ID, s.now()); err != nil {
			return nil, err
		}
	}
	if r.Audience == AudienceVideo && !r.SkipPackage {
		pkg, err := s.packageOf(ctx, pb.AssetID)
		if err != nil {
			return nil, err
		}
		sess.pkg = pkg
	}
	return sess, nil
}

func upper(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToUpper(s)
	}
	return out
}

// urlExpiry is when the CDN URLs of a manifest stop working: the content's
// length plus an hour, rounded up to 5 minutes so that manifests of one
// asset rendered close together share a signature (and CDN cache keys).
func (s *Service) urlExpiry(duration float64) time.Time {
	exp := s.now().Add(time.Hour + time.Duration(duration*float64(time.Second)))
	return exp.Truncate(5 * time.Minute).Add(5 * time.Minute)
}

// variantBase is where a path-token pathway serves the asset's variant.
// Bases are cached: they change with the 5-minute expiry bucket, not per
// viewer.
func (s *Service) variantBase(p pathway, assetID, variant string, exp time.Time) (string, error) {
	k := baseKey{pathway: p.id, base: p.base, asset: assetID, variant: variant, exp: exp.Unix()}
	if v, ok := s.bases.Get(k); ok {
		return v, nil
	}
	v := pathTokenBase(p.base, p.provider, p.secret, exp, assetID) + variant + "/"
	s.bases.Add(k, v)
	return v, nil
}

// MediaPlaylist renders a track's HLS media playlist for a query-token CDN
// (CloudFront, Akamai, Fastly, Bunny): every segment, init and key URL
// absolute on that CDN and signed with its scheme. Path-token CDNs serve the
// packaged playlists themselves.
func (s *Service) MediaPlaylist(ctx context.Context, sess *Session, pathwayID, trackID string, b *bytes.Buffer) error {
	tp, err := s.pathways(ctx, sess.PB.TenantID)
	if err != nil {
		return err
	}
	p := tp.byID(pathwayID)
	if p.id == "" || p.signer == nil {
		return errs.NotFoundf("no media playlists are rendered for pathway %q", pathwayID)
	}
	var track *wire.IndexedTrack
	for i := range sess.pkg.index.Tracks {
		if sess.pkg.index.Tracks[i].ID == trackID {
			track = &sess.pkg.index.Tracks[i]
		}
	}
	if track == nil || (track.Kind == "video" && !slices.ContainsFunc(sess.videoTracks(), func(v wire.IndexedTrack) bool { return v.ID == trackID })) {
		return errs.NotFoundf("no track %q", trackID)
	}
	variant := wire.VariantClear
	if sess.pkg.asset.Protected {
		variant = wire.VariantCBCS
	}
	exp := s.urlExpiry(sess.pkg.index.Duration)
	k := baseKey{pathway: p.id, base: p.base, asset: sess.PB.AssetID, variant: variant + "/" + trackID, exp: exp.Unix()}
	if v, ok := s.media.Get(k); ok {
		b.Write(v)
		return nil
	}
	src, err := s.readObject(ctx, sess.pkg.asset.PlaybackPrefix+wire.VariantDir(variant)+track.Playlist)
	if err != nil {
		return err
	}
	dir := path.Dir(track.Playlist)
	sign := func(ref string) (string, error) {
		if strings.Contains(ref, "://") {
			return ref, nil // absolute already (skd:// keys, data: URIs)
		}
		u, err := url.Parse(p.base + assetPath(sess.PB.AssetID) + variant + "/" + path.Join(dir, ref))
		if err != nil {
			return "", err
		}
		su, err := p.signer.Sign(u, exp)
		if err != nil {
			return "", err
		}
		return su.String(), nil
	}
	var out bytes.Buffer
	for line := range strings.Lines(string(src)) {
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
		case !strings.HasPrefix(line, "#"):
			signed, err := sign(line)
			if err != nil {
				return err
			}
			line = signed
		case strings.HasPrefix(line, "#EXT-X-MAP:"):
			if i := strings.Index(line, `URI="`); i >= 0 {
				j := strings.IndexByte(line[i+5:], '"')
				if j < 0 {
					return fmt.Errorf("playback: malformed EXT-X-MAP in %s", track.Playlist)
				}
				signed, err := sign(line[i+5 : i+5+j])
				if err != nil {
					return err
				}
				line = line[:i+5] + signed + line[i+5+j:]
			}
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	s.media.Add(k, out.Bytes())
	b.Write(out.Bytes())
	return nil
}

type baseKey struct {
	pathway, base, asset, variant string
	exp                           int64
}

// maxHeight is the session's rendition cap (0: none).
func (sess *Session) maxHeight() int {
	h, _ := sess.Claims.MaxHeight()
	return h
}

func (sess *Session) videoTracks() []wire.IndexedTrack {
	var out []wire.IndexedTrack
	mh := sess.maxHeight()
	lowest := -1
	for i, t := range sess.pkg.index.Tracks {
		if t.Kind != "video" {
			continue
		}
		if lowest < 0 || t.Height < sess.pkg.index.Tracks[lowest].Height {
			lowest = i
		}
		if mh == 0 || t.Height <= mh {
			out = append(out, t)
		}
	}
	// A cap below every rendition still plays the smallest one.
	if len(out) == 0 && lowest >= 0 {
		out = append(out, sess.pkg.index.Tracks[lowest])
	}
	return out
}

// HLS renders the viewer's HLS multivariant playlist into b: every variant
// once per pathway (CDN), each pointing at that CDN's signed copy, and the
// content-steering tag so that players move between CDNs by themselves.
func (s *Service) HLS(ctx context.Context, sess *Session, region string, b *bytes.Buffer) error {
	tp, err := s.pathways(ctx, sess.PB.TenantID)
	if err != nil {
		return err
	}
	variant := wire.VariantClear
	if sess.pkg.asset.Protected {
		variant = wire.VariantCBCS
	}
	order := s.priority(sess.PB.TenantID, tp, region, sess.session)
	exp := s.urlExpiry(sess.pkg.index.Duration)
	b.Grow(2048)
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-CONTENT-STEERING:SERVER-URI=\"")
	s.writeSteeringURL(b, sess, region, false, false)
	b.WriteString("\",PATHWAY-ID=\"")
	b.WriteString(order[0])
	b.WriteString("\"\n")
	var audio *wire.IndexedTrack
	for i := range sess.pkg.index.Tracks {
		if sess.pkg.index.Tracks[i].Kind == "audio" {
			audio = &sess.pkg.index.Tracks[i]
			break
		}
	}
	videos := sess.videoTracks()
	var num [24]byte
	for _, id := range order {
		p := tp.byID(id)
		var base string
		if p.signer == nil {
			if base, err = s.variantBase(p, sess.PB.AssetID, variant, exp); err != nil {
				return err
			}
		}
		writeRef := func(t *wire.IndexedTrack) {
			if p.signer == nil {
				b.WriteString(base)
				b.WriteString(t.Playlist)
				return
			}
			// A query-token CDN's segments are signed one by one, in a
			// media playlist this service rewrites for that CDN.
			b.WriteString(s.cfg.PublicURL)
			b.WriteString("/play/")
			b.WriteString(sess.PB.ID)
			b.WriteByte('/')
			b.WriteString(id)
			b.WriteByte('/')
			b.WriteString(t.ID)
			b.WriteString(".m3u8")
			if sess.token != "" {
				b.WriteString("?token=")
				b.WriteString(url.QueryEscape(sess.token))
			}
		}
		if audio != nil {
			b.WriteString("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud-")
			b.WriteString(id)
			b.WriteString("\",NAME=\"audio\",DEFAULT=YES,AUTOSELECT=YES,URI=\"")
			writeRef(audio)
			b.WriteString("\"\n")
		}
		for _, v := range videos {
			bw, avg := v.Bandwidth, v.AverageBandwidth
			if audio != nil {
				bw += audio.Bandwidth
				avg += audio.AverageBandwidth
			}
			b.WriteString("#EXT-X-STREAM-INF:BANDWIDTH=")
			b.Write(strconv.AppendInt(num[:0], int64(bw), 10))
			b.WriteString(",AVERAGE-BANDWIDTH=")
			b.Write(strconv.AppendInt(num[:0], int64(avg), 10))
			b.WriteString(",CODECS=\"")
			b.WriteString(v.Codecs)
			if audio != nil {
				b.WriteString(",")
				b.WriteString(audio.Codecs)
			}
			b.WriteString("\",RESOLUTION=")
			b.Write(strconv.AppendInt(num[:0], int64(v.Width), 10))
			b.WriteByte('x')
			b.Write(strconv.AppendInt(num[:0], int64(v.Height), 10))
			if v.FrameRate > 0 {
				b.WriteString(",FRAME-RATE=")
				b.Write(strconv.AppendFloat(num[:0], v.FrameRate, 'f', 3, 64))
			}
			if audio != nil {
				b.WriteString(",AUDIO=\"aud-")
				b.WriteString(id)
				b.WriteString("\"")
			}
			b.WriteString(",PATHWAY-ID=\"")
			b.WriteString(id)
			b.WriteString("\"\n")
			writeRef(&v)
			b.WriteByte('\n')
		}
	}
	return nil
}

// writeSteeringURL writes the session's steering server URL, XML-escaped
// when it goes into an MPD.
func (s *Service) writeSteeringURL(b *bytes.Buffer, sess *Session, region string, dash, xml bool) {
	amp := "&"
	if xml {
		amp = "&amp;"
	}
	b.WriteString(s.cfg.PublicURL)
	b.WriteString("/play/")
	b.WriteString(sess.PB.ID)
	b.WriteString("/steering.json?")
	sep := ""
	if dash {
		b.WriteString("format=dash")
		sep = amp
	}
	if region != "" {
		b.WriteString(sep)
		b.WriteString("region=")
		b.WriteString(url.QueryEscape(region))
		sep = amp
	}
	if sess.token != "" {
		b.WriteString(sep)
		b.WriteString("token=")
		b.WriteString(url.QueryEscape(sess.token))
	}
}

var laurlRE = regexp.MustCompile(`<dashif:Laurl[^>]*>` + regexp.QuoteMeta(LicenseURLMarker) + `</dashif:Laurl>`)

var representationRE = regexp.MustCompile(`(?s)\s*<Representation [^>]*?height="(\d+)"[^>]*>.*?</Representation>`)

// DASH renders the viewer's MPD into b: the packaged MPD with one BaseURL
// per CDN (its signed path), the ContentSteering element, renditions above
// the token's max_resolution removed, and the Clear Key license URL with
// the viewer's license token, when one is given.
func (s *Service) DASH(ctx context.Context, sess *Session, region, licenseToken string, b *bytes.Buffer) error {
	tp, err := s.pathways(ctx, sess.PB.TenantID)
	if err != nil {
		return err
	}
	variant := wire.VariantClear
	if sess.pkg.asset.Protected {
		variant = wire.VariantCENC
	}
	if !slices.ContainsFunc(tp.list, func(p pathway) bool { return p.signer == nil }) {
		return errs.E(errs.Conflict, "dash_needs_path_token_cdn", "DASH segment URLs are relative to a BaseURL, so they need a CDN that signs paths (nginx or generic); this tenant's CDNs sign each URL: play HLS")
	}
	order := s.priority(sess.PB.TenantID, tp, region, sess.session)
	exp := s.urlExpiry(sess.pkg.index.Duration)
	b.Grow(len(sess.pkg.mpdHead) + len(sess.pkg.mpdRest) + 1024)
	b.Write(sess.pkg.mpdHead)
	for _, id := range order {
		p := tp.byID(id)
		if p.signer != nil {
			// A query token would be dropped when players resolve the
			// SegmentTemplate against the BaseURL.
			continue
		}
		base, err := s.variantBase(p, sess.PB.AssetID, variant, exp)
		if err != nil {
			return err
		}
		b.WriteString("\n  <BaseURL serviceLocation=\"")
		b.WriteString(id)
		b.WriteString("\">")
		writeXMLEscaped(b, base)
		b.WriteString("</BaseURL>")
	}
	b.WriteString("\n  <ContentSteering defaultServiceLocation=\"")
	for i, id := range order {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(id)
	}
	b.WriteString("\" queryBeforeStart=\"false\">")
	s.writeSteeringURL(b, sess, region, true, true)
	b.WriteString("</ContentSteering>")
	rest := sess.pkg.mpdRest
	if mh := sess.maxHeight(); mh > 0 && len(sess.videoTracks()) > 0 {
		keep := map[string]bool{}
		for _, v := range sess.videoTracks() {
			keep[strconv.Itoa(v.Height)] = true
		}
		rest = representationRE.ReplaceAllFunc(rest, func(m []byte) []byte {
			if keep[string(representationRE.FindSubmatch(m)[1])] {
				return m
			}
			return nil
		})
	}
	if sess.pkg.asset.Protected {
		// The license needs a token of audience "l", which only the
		// tenant's backend can mint. Given one (license_token), the
		// manifest names the license server with it; otherwise it names
		// none, and the player is configured with it (players prefer a
		// manifest's license URL over their configuration).
		if licenseToken != "" {
			lic := s.cfg.PublicURL + "/license/clearkey/" + sess.PB.ID + "?token=" + url.QueryEscape(licenseToken)
			rest = bytes.ReplaceAll(rest, []byte(LicenseURLMarker), []byte(xmlEscape(lic)))
		} else if len(rest) == len(sess.pkg.mpdRest) {
			rest = sess.pkg.mpdRestNoLicense
		} else {
			rest = laurlRE.ReplaceAll(rest, nil)
		}
	}
	b.Write(rest)
	return nil
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// writeXMLEscaped writes s escaped for XML text, without allocating when
// there is nothing to escape (signed paths never have anything).
func writeXMLEscaped(b *bytes.Buffer, s string) {
	if !strings.ContainsAny(s, `&<>"`) {
		b.WriteString(s)
		return
	}
	b.WriteString(xmlEscape(s))
}

// Steering answers a player's steering request with the session's pathway
// priority, healthy CDNs first.
func (s *Service) Steering(ctx context.Context, sess *Session, region string, dash bool, reload string) ([]byte, error) {
	tp, err := s.pathways(ctx, sess.PB.TenantID)
	if err != nil {
		return nil, err
	}
	r := cdn.SteeringResponse{TTL: 10 * time.Second, ReloadURI: reload, Priority: s.priority(sess.PB.TenantID, tp, region, sess.session)}
	if dash {
		return r.DASHJSON()
	}
	return r.HLSJSON()
}

// ClearKeyLicense answers a W3C Clear Key license request for a drm
// playback id: the keys asked for, of that asset only.
func (s *Service) ClearKeyLicense(ctx context.Context, sess *Session, body []byte) ([]byte, error) {
	if sess.PB.Policy != PolicyDRM {
		return nil, errs.E(errs.Conflict, "not_drm", "playback id %s is not a drm playback id", sess.PB.ID)
	}
	req, err := drm.DecodeClearKeyRequest(body)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, "invalid_license_request", err, "%s", err.Error())
	}
	keys, err := s.contentKeys(ctx, sess.PB.TenantID, sess.PB.AssetID)
	if err != nil {
		return nil, err
	}
	var out []drm.ContentKey
	for _, kid := range req.KIDs {
		for _, k := range keys {
			if bytes.Equal(k.KID, kid) {
				out = append(out, k)
			}
		}
	}
	if len(out) == 0 {
		return nil, errs.E(errs.NotFound, "unknown_key", "none of the requested key ids belongs to this playback id")
	}
	s.cfg.Usage.Add(sess.PB.TenantID, metering.DRMLicenses, 1, "system=clearkey")
	return drm.ClearKeyResponse(out, req.Type), nil
}

// OriginObject authorizes an object request to the built-in origin (or
// through a CDN that forwards its path token) and returns the object's
// storage key, and a function that counts the bytes served as egress of
// the pathway whose signature it carried.
func (s *Service) OriginObject(ctx context.Context, assetID, sig, expires, file string) (string, func(n int64), error) {
	pkg, err := s.packageOf(ctx, assetID)
	if err != nil {
		return "", nil, err
	}
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil {
		return "", nil, errs.E(errs.Forbidden, "url_signature_invalid", "the URL's expiry is malformed")
	}
	if s.now().Unix() >= exp {
		return "", nil, errs.E(errs.Forbidden, "url_expired", "this URL has expired")
	}
	tenant := pkg.asset.TenantID
	via := OriginPathway
	ok := checkPathSig(ProviderGeneric, s.originSecret(tenant), sig, exp, assetID)
	if !ok {
		cs, err := s.tenantCDNs(ctx, tenant)
		if err != nil {
			return "", nil, err
		}
		for _, c := range cs {
			if PathTokenProvider(c.Provider) && checkPathSig(c.Provider, c.Secret, sig, exp, assetID) {
				ok, via = true, pathwayID(c)
				break
			}
		}
	}
	if !ok {
		return "", nil, errs.E(errs.Forbidden, "url_signature_invalid", "this URL's signature is not valid")
	}
	count := func(n int64) { s.cfg.Usage.Add(tenant, metering.EgressBytes, n, "cdn="+via) }
	return pkg.asset.PlaybackPrefix + file, count, nil
}

// ReportCDN records a player's or edge's report that a CDN failed or
// worked; reports move the pathway priority.
func (s *Service) ReportCDN(ctx context.Context, sess *Session, pathwayID string, ok bool) error {
	tp, err := s.pathways(ctx, sess.PB.TenantID)
	if err != nil {
		return err
	}
	if tp.byID(pathwayID).id == "" {
		return errs.Field("pathway", "unknown pathway %q", pathwayID)
	}
	s.healthOf(sess.PB.TenantID, tp).h.Report(pathwayID, ok)
	return nil
}
