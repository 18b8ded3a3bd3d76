package fetch

import (
	"fmt"
	"net/netip"
	"strings"
)

// EnvAllowCIDRs is the environment variable whose value ParseAllowCIDRs
// reads: address ranges ingest may reach although they are not public, for
// development ("127.0.0.0/8") or an on-premises media server.
const EnvAllowCIDRs = "MARQUEE_INGEST_ALLOW_CIDRS"

// ParseAllowCIDRs parses a comma-separated list of CIDRs; a bare address
// means that one address. Blank entries are ignored.
func ParseAllowCIDRs(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("fetch: %s: %q is not a CIDR or address", EnvAllowCIDRs, f)
			}
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("fetch: %s: %q is not a CIDR or address", EnvAllowCIDRs, f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Ranges that are not the public internet, beyond what netip.Addr's
// predicates (loopback, private, link-local, multicast, unspecified) cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"; Linux routes 0.x to the host
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and 255.255.255.255
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated)
	netip.MustParsePrefix("100::/64"),        // discard
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments, Teredo
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
}

// Ranges that carry an IPv4 address inside an IPv6 one and reach it through
// a gateway: the embedded address is what must be public.
var (
	nat64     = []netip.Prefix{netip.MustParsePrefix("64:ff9b::/96"), netip.MustParsePrefix("64:ff9b:1::/48")}
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// allowed reports whether ingest may connect to a.
func (f *Fetcher) allowed(a netip.Addr) bool {
	a = a.WithZone("").Unmap()
	for _, p := range f.allow {
		if p.Contains(a) {
			return true
		}
	}
	return public(a)
}

// public reports whether a (zone-less, unmapped) is a global unicast
// address outside every special-purpose range.
func public(a netip.Addr) bool {
	if !a.IsValid() || a.IsUnspecified() || a.IsLoopback() || a.IsPrivate() ||
		a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || !a.IsGlobalUnicast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	if a.Is6() {
		b := a.As16()
		for _, p := range nat64 {
			if p.Contains(a) {
				return public(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
			}
		}
		if sixToFour.Contains(a) {
			return public(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		}
	}
	return true
}
