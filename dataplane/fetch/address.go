package fetch

import (
	"fmt"
	"net/netip"

	"github.com/marquee-video/marquee/internal/netguard"
)

// EnvAllowCIDRs is the environment variable whose value ParseAllowCIDRs
// reads: address ranges ingest may reach although they are not public, for
// development ("127.0.0.0/8") or an on-premises media server.
const EnvAllowCIDRs = "MARQUEE_INGEST_ALLOW_CIDRS"

// ParseAllowCIDRs parses the value of EnvAllowCIDRs (see
// netguard.ParseAllowCIDRs), naming the variable in its error.
func ParseAllowCIDRs(s string) ([]netip.Prefix, error) {
	p, err := netguard.ParseAllowCIDRs(s)
	if err != nil {
		return nil, fmt.Errorf("fetch: %s: %w", EnvAllowCIDRs, err)
	}
	return p, nil
}

// allowed reports whether ingest may connect to a; the policy itself is
// internal/netguard's, shared with every client that connects on a
// tenant's behalf.
func (f *Fetcher) allowed(a netip.Addr) bool {
	return f.policy.Check(a) == nil
}
