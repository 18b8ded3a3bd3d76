package cdn

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/marquee-video/marquee/internal/errs"
)

// ValidPathwayID reports whether id is a legal HLS Pathway ID (and so a
// usable DASH serviceLocation): non-empty, only A-Z a-z 0-9 . - _.
func ValidPathwayID(id string) bool {
	if id == "" {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// HLSSteeringTag renders the multivariant playlist tag
// #EXT-X-CONTENT-STEERING:SERVER-URI="…"[,PATHWAY-ID="…"] (no newline).
// pathwayID, if given, is the pathway the player uses until it has the first
// steering manifest. Quoted-strings cannot hold '"', CR or LF.
func HLSSteeringTag(serverURI, pathwayID string) (string, error) {
	if err := quotable("server_uri", serverURI); err != nil {
		return "", err
	}
	if serverURI == "" {
		return "", errs.Field("server_uri", "steering server URI is empty")
	}
	tag := `#EXT-X-CONTENT-STEERING:SERVER-URI="` + serverURI + `"`
	if pathwayID != "" {
		if !ValidPathwayID(pathwayID) {
			return "", errs.Field("pathway_id", "pathway id %q is not [A-Za-z0-9._-]+", pathwayID)
		}
		tag += `,PATHWAY-ID="` + pathwayID + `"`
	}
	return tag, nil
}

// HLSPathwayAttr renders the PATHWAY-ID attribute that EXT-X-STREAM-INF and
// EXT-X-I-FRAME-STREAM-INF carry to put a variant on a pathway, ready to
// append to the attribute list (with its leading comma).
func HLSPathwayAttr(pathwayID string) (string, error) {
	if !ValidPathwayID(pathwayID) {
		return "", errs.Field("pathway_id", "pathway id %q is not [A-Za-z0-9._-]+", pathwayID)
	}
	return `,PATHWAY-ID="` + pathwayID + `"`, nil
}

func quotable(field, s string) error {
	if strings.ContainsAny(s, "\"\r\n") {
		return errs.Field(field, "%q cannot be written as an HLS quoted-string", s)
	}
	return nil
}

// SteeringResponse is what the steering server answers. Priority holds
// pathway IDs (HLS) or service locations (DASH), most preferred first.
type SteeringResponse struct {
	// TTL is how long the player waits before reloading; whole seconds,
	// at least one.
	TTL time.Duration
	// ReloadURI, if set, is where the player asks next (typically the same
	// endpoint with the session's state in the query).
	ReloadURI string
	Priority  []string
}

// hlsSteeringManifest and dashSteeringManifest are the wire forms: the HLS
// Content Steering specification's Steering Manifest and the DASH-IF
// Content Steering response. Field order follows the specifications'
// examples.
type hlsSteeringManifest struct {
	Version         int      `json:"VERSION"`
	TTL             int64    `json:"TTL"`
	ReloadURI       string   `json:"RELOAD-URI,omitempty"`
	PathwayPriority []string `json:"PATHWAY-PRIORITY"`
}

type dashSteeringManifest struct {
	Version                 int      `json:"VERSION"`
	TTL                     int64    `json:"TTL"`
	ReloadURI               string   `json:"RELOAD-URI,omitempty"`
	ServiceLocationPriority []string `json:"SERVICE-LOCATION-PRIORITY"`
	// PathwayPriority repeats the list under the HLS name: Shaka Player
	// (through 5.x) reads only PATHWAY-PRIORITY, for DASH too.
	PathwayPriority []string `json:"PATHWAY-PRIORITY"`
}

func (r SteeringResponse) validate() (int64, error) {
	ttl := int64(r.TTL / time.Second)
	if ttl < 1 || r.TTL%time.Second != 0 {
		return 0, errs.Field("ttl", "steering TTL %v must be a whole number of seconds, at least 1", r.TTL)
	}
	if len(r.Priority) == 0 {
		return 0, errs.Field("priority", "steering priority list is empty")
	}
	seen := make(map[string]bool, len(r.Priority))
	for _, id := range r.Priority {
		if !ValidPathwayID(id) {
			return 0, errs.Field("priority", "pathway id %q is not [A-Za-z0-9._-]+", id)
		}
		if seen[id] {
			return 0, errs.Field("priority", "pathway id %q is listed twice", id)
		}
		seen[id] = true
	}
	return ttl, nil
}

// HLSJSON renders the HLS steering manifest:
// {"VERSION":1,"TTL":…,"RELOAD-URI":"…","PATHWAY-PRIORITY":[…]}.
func (r SteeringResponse) HLSJSON() ([]byte, error) {
	ttl, err := r.validate()
	if err != nil {
		return nil, err
	}
	return marshalPlain(hlsSteeringManifest{Version: 1, TTL: ttl, ReloadURI: r.ReloadURI, PathwayPriority: r.Priority})
}

// DASHJSON renders the DASH-IF steering response:
// {"VERSION":1,"TTL":…,"RELOAD-URI":"…","SERVICE-LOCATION-PRIORITY":[…],"PATHWAY-PRIORITY":[…]}.
func (r SteeringResponse) DASHJSON() ([]byte, error) {
	ttl, err := r.validate()
	if err != nil {
		return nil, err
	}
	return marshalPlain(dashSteeringManifest{Version: 1, TTL: ttl, ReloadURI: r.ReloadURI, ServiceLocationPriority: r.Priority, PathwayPriority: r.Priority})
}

// marshalPlain is json.Marshal without HTML escaping, so that a RELOAD-URI's
// "&" stays readable, and without the encoder's trailing newline.
func marshalPlain(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode steering manifest: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// SteeringRequest is what a player tells the steering server in the query of
// its request: the pathway (HLS _HLS_pathway) or service location (DASH
// _DASH_pathway) it is using and its throughput in bit/s (_HLS_throughput,
// _DASH_throughput); zero values when absent.
type SteeringRequest struct {
	Pathway    string
	Throughput int64
}

// ParseSteeringQuery reads the player's parameters from a steering request's
// query. Malformed values are dropped, not errors: a player's report is
// advice.
func ParseSteeringQuery(query map[string][]string) SteeringRequest {
	first := func(names ...string) string {
		for _, n := range names {
			if v := query[n]; len(v) > 0 {
				return v[0]
			}
		}
		return ""
	}
	var r SteeringRequest
	if p := first("_HLS_pathway", "_DASH_pathway"); ValidPathwayID(p) {
		r.Pathway = p
	}
	if t, err := strconv.ParseInt(first("_HLS_throughput", "_DASH_throughput"), 10, 64); err == nil && t > 0 {
		r.Throughput = t
	}
	return r
}

// DASHSteering is the MPD's <ContentSteering> element (DASH-IF Content
// Steering; MPEG-DASH 5th edition).
type DASHSteering struct {
	// ServerURL is the steering server (the element's text).
	ServerURL string
	// DefaultServiceLocations are used, in order, until the first steering
	// response; rendered as the space-separated defaultServiceLocation.
	DefaultServiceLocations []string
	// QueryBeforeStart makes the player ask the steering server before it
	// loads the first segment.
	QueryBeforeStart bool
	// ProxyServerURL, if set, is a steering proxy the player calls instead.
	ProxyServerURL string
}

// XML renders the element, e.g.
// <ContentSteering defaultServiceLocation="cdn-a" queryBeforeStart="true">https://steer…</ContentSteering>.
func (d DASHSteering) XML() (string, error) {
	if d.ServerURL == "" {
		return "", errs.Field("server_url", "steering server URL is empty")
	}
	var b strings.Builder
	b.WriteString("<ContentSteering")
	if len(d.DefaultServiceLocations) > 0 {
		for _, l := range d.DefaultServiceLocations {
			if !ValidPathwayID(l) {
				return "", errs.Field("default_service_location", "service location %q is not [A-Za-z0-9._-]+", l)
			}
		}
		b.WriteString(` defaultServiceLocation="` + strings.Join(d.DefaultServiceLocations, " ") + `"`)
	}
	b.WriteString(` queryBeforeStart="` + strconv.FormatBool(d.QueryBeforeStart) + `"`)
	if d.ProxyServerURL != "" {
		b.WriteString(` proxyServerURL="` + xmlEscape(d.ProxyServerURL) + `"`)
	}
	b.WriteString(">" + xmlEscape(d.ServerURL) + "</ContentSteering>")
	return b.String(), nil
}

// DASHBaseURL renders <BaseURL serviceLocation="…">url</BaseURL>, one per
// CDN in the MPD (or Period/AdaptationSet).
func DASHBaseURL(serviceLocation, baseURL string) (string, error) {
	if !ValidPathwayID(serviceLocation) {
		return "", errs.Field("service_location", "service location %q is not [A-Za-z0-9._-]+", serviceLocation)
	}
	if baseURL == "" {
		return "", errs.Field("base_url", "base URL is empty")
	}
	return fmt.Sprintf(`<BaseURL serviceLocation="%s">%s</BaseURL>`, serviceLocation, xmlEscape(baseURL)), nil
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // writes to a strings.Builder never fail
	return b.String()
}
