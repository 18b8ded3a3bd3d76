package playback

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/oschwald/geoip2-golang"
)

// Geo finds a viewer's country: from a trusted edge's header (such as
// Cloudflare's CF-IPCountry) when the request comes from a trusted proxy,
// else from a MaxMind-format database, else unknown.
type Geo struct {
	// Header is the edge's country header (default CF-IPCountry).
	Header string
	// Trusted are the proxies whose header is believed.
	Trusted []netip.Prefix
	db      *geoip2.Reader
}

// OpenGeo returns a Geo; dbPath, when set, is a GeoIP2/GeoLite2 Country
// (or City) database.
func OpenGeo(header string, trusted []netip.Prefix, dbPath string) (*Geo, error) {
	g := &Geo{Header: header, Trusted: trusted}
	if g.Header == "" {
		g.Header = "CF-IPCountry"
	}
	if dbPath != "" {
		db, err := geoip2.Open(dbPath)
		if err != nil {
			return nil, fmt.Errorf("playback: geoip database: %w", err)
		}
		g.db = db
	}
	return g, nil
}

// HeaderName is the trusted edge header.
func (g *Geo) HeaderName() string { return g.Header }

// Close releases the database.
func (g *Geo) Close() error {
	if g.db == nil {
		return nil
	}
	return g.db.Close()
}

// Country is the viewer's ISO 3166-1 alpha-2 country, "" when unknown.
func (g *Geo) Country(remote netip.Addr, header string) string {
	for _, p := range g.Trusted {
		if p.Contains(remote) {
			h := strings.ToUpper(strings.TrimSpace(header))
			if validCountry(h) {
				return h
			}
			break
		}
	}
	if g.db == nil {
		return ""
	}
	rec, err := g.db.Country(net.IP(remote.AsSlice()))
	if err != nil || !validCountry(rec.Country.IsoCode) {
		return ""
	}
	return rec.Country.IsoCode
}
