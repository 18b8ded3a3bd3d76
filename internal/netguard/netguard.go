// Package netguard decides which IP addresses Marquee may connect to on a
// tenant's behalf (ingest sources, webhook endpoints): the public internet
// only, unless an operator allows a range. It is the one place that knows
// the special-purpose ranges, so every outbound client refuses the same
// ones.
//
// A check on a URL's host name proves nothing: the name can resolve to an
// internal address, or resolve differently a second later (DNS rebinding).
// So clients install DialControl in their net.Dialer, which judges the
// address of each connection actually being opened, after resolution and
// before connect; Check serves for an address literal refused up front.
package netguard

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
)

// ErrForbidden is wrapped by every refusal of Check and DialControl.
var ErrForbidden = errors.New("netguard: address is not on the public internet")

// Policy says which addresses may be reached: every public unicast address,
// and whatever Allow holds. The zero Policy allows the public internet only.
type Policy struct {
	// Allow are ranges reachable although not public: loopback for
	// development and tests ("127.0.0.0/8"), an on-premises server. An
	// IPv4-mapped prefix (::ffff:10.0.0.0/104) means its IPv4 range.
	Allow []netip.Prefix
}

// Check returns nil when p allows connecting to addr, and an error wrapping
// ErrForbidden otherwise. Zones are ignored, IPv4-mapped addresses are
// judged as IPv4, and NAT64 and 6to4 addresses by the IPv4 address they
// embed.
func (p Policy) Check(addr netip.Addr) error {
	if p.AllowListed(addr) || Public(addr) {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrForbidden, addr)
}

// AllowListed reports whether addr is in p.Allow, as opposed to merely
// public. Callers relax rules for such hosts that stay in force for the
// internet (plain http for a webhook endpoint on loopback, say).
func (p Policy) AllowListed(addr netip.Addr) bool {
	a := addr.WithZone("").Unmap()
	for _, pr := range p.Allow {
		if normalize(pr).Contains(a) {
			return true
		}
	}
	return false
}

// normalize turns an IPv4-mapped prefix into its IPv4 form, so that it
// contains the unmapped addresses Check compares it with.
func normalize(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked()
}

// DialControl is a net.Dialer Control function: it refuses, before connect,
// a connection to an address p forbids, and anything but TCP. address is the
// resolved "ip:port" the dialer is about to reach; the RawConn is unused.
func (p Policy) DialControl(network, address string, _ syscall.RawConn) error {
	if !strings.HasPrefix(network, "tcp") {
		return fmt.Errorf("%w: %s connections are not made", ErrForbidden, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot judge %q: %v", ErrForbidden, address, err)
	}
	return p.Check(ap.Addr())
}

// ParseAllowCIDRs parses a comma-separated list of CIDRs, the form an
// operator writes in the environment; a bare address means that one address,
// and blank entries are ignored.
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
				return nil, fmt.Errorf("netguard: %q is not a CIDR or address", f)
			}
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("netguard: %q is not a CIDR or address", f)
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

// Public reports whether addr is a global unicast address outside every
// special-purpose range, whatever any allow list says.
func Public(addr netip.Addr) bool {
	a := addr.WithZone("").Unmap()
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
				return Public(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
			}
		}
		if sixToFour.Contains(a) {
			return Public(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		}
	}
	return true
}
