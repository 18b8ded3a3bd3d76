package netguard_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/marquee-video/marquee/internal/netguard"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"2606:4700:4700::1111", true},
		{"::ffff:8.8.8.8", true},
		{"64:ff9b::808:808", true}, // NAT64 of 8.8.8.8
		{"2002:808:808::1", true},  // 6to4 of 8.8.8.8
		{"127.0.0.1", false},
		{"127.255.255.254", false},
		{"10.0.0.1", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.168.0.1", false},
		{"169.254.169.254", false},
		{"100.64.0.1", false},
		{"100.127.255.255", false},
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"224.0.0.1", false},
		{"239.255.255.250", false},
		{"255.255.255.255", false},
		{"240.0.0.1", false},
		{"192.0.2.1", false},
		{"198.18.0.1", false},
		{"::", false},
		{"::1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:169.254.169.254", false},
		{"::ffff:10.0.0.1", false},
		{"::127.0.0.1", false}, // IPv4-compatible
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		{"fec0::1", false},
		{"ff02::1", false},
		{"64:ff9b::7f00:1", false},    // NAT64 of 127.0.0.1
		{"64:ff9b::a9fe:a9fe", false}, // NAT64 of 169.254.169.254
		{"2002:7f00:1::", false},      // 6to4 of 127.0.0.1
		{"2002:a00:1::", false},       // 6to4 of 10.0.0.1
		{"2001:db8::1", false},
		{"2001::1", false}, // Teredo
	}
	var p netguard.Policy
	for _, tt := range tests {
		a := netip.MustParseAddr(tt.addr)
		err := p.Check(a)
		if got := err == nil; got != tt.want {
			t.Errorf("Check(%s) = %v, want allowed %v", tt.addr, err, tt.want)
		}
		if err != nil && !errors.Is(err, netguard.ErrForbidden) {
			t.Errorf("Check(%s) = %v, does not wrap ErrForbidden", tt.addr, err)
		}
		if netguard.Public(a) != tt.want {
			t.Errorf("Public(%s) = %v, want %v", tt.addr, !tt.want, tt.want)
		}
	}
	if err := p.Check(netip.Addr{}); err == nil {
		t.Error("Check(invalid address) allowed it")
	}
}

// An allowed range opens only itself, in every spelling of its addresses.
func TestCheckAllowList(t *testing.T) {
	p := netguard.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::ffff:10.1.0.0/112")}}
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "::ffff:127.0.0.1": true, "10.1.2.3": true, "::ffff:10.1.2.3": true,
		"10.2.0.1": false, "::1": false, "169.254.169.254": false, "8.8.8.8": true,
	} {
		a := netip.MustParseAddr(addr)
		if got := p.Check(a) == nil; got != want {
			t.Errorf("with allow list: Check(%s) allowed = %v, want %v", addr, got, want)
		}
	}
	for addr, want := range map[string]bool{"127.0.0.1": true, "::ffff:10.1.9.9": true, "8.8.8.8": false} {
		if got := p.AllowListed(netip.MustParseAddr(addr)); got != want {
			t.Errorf("AllowListed(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestDialControl(t *testing.T) {
	var p netguard.Policy
	for _, tt := range []struct {
		network, address string
		ok               bool
	}{
		{"tcp4", "8.8.8.8:443", true},
		{"tcp6", "[2606:4700:4700::1111]:443", true},
		{"tcp4", "127.0.0.1:80", false},
		{"tcp6", "[::ffff:127.0.0.1]:80", false},
		{"tcp6", "[fe80::1%eth0]:80", false},
		{"udp4", "8.8.8.8:53", false},
		{"tcp", "example.com:80", false},
		{"tcp", "garbage", false},
	} {
		err := p.DialControl(tt.network, tt.address, nil)
		if (err == nil) != tt.ok {
			t.Errorf("DialControl(%s, %s) = %v, want ok %v", tt.network, tt.address, err, tt.ok)
		}
		if err != nil && !errors.Is(err, netguard.ErrForbidden) {
			t.Errorf("DialControl(%s, %s) = %v, does not wrap ErrForbidden", tt.network, tt.address, err)
		}
	}
}

// A dialer with DialControl never reaches a forbidden listener, whatever
// name leads to it, and reaches it once the policy allows its range.
func TestDialerRefusesBeforeConnect(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan struct{}, 8)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	refused := net.Dialer{Control: netguard.Policy{}.DialControl}
	for _, host := range []string{"127.0.0.1", "localhost"} {
		if c, err := refused.DialContext(ctx, "tcp", net.JoinHostPort(host, port)); err == nil {
			c.Close()
			t.Fatalf("dial %s: connected", host)
		} else if !errors.Is(err, netguard.ErrForbidden) {
			t.Fatalf("dial %s: %v, want ErrForbidden", host, err)
		}
	}
	allowed := net.Dialer{Control: netguard.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}.DialControl}
	c, err := allowed.DialContext(ctx, "tcp4", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		t.Fatalf("dial with loopback allowed: %v", err)
	}
	c.Close()
	select {
	case <-accepted:
	case <-ctx.Done():
		t.Fatal("the allowed connection was never accepted")
	}
	select {
	case <-accepted:
		t.Fatal("a refused dial reached the listener")
	default:
	}
}

func TestParseAllowCIDRs(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "", want: nil},
		{in: "127.0.0.0/8", want: []string{"127.0.0.0/8"}},
		{in: " 127.0.0.0/8 , 10.1.2.3/16,,fd00::/8 ", want: []string{"127.0.0.0/8", "10.1.0.0/16", "fd00::/8"}},
		{in: "192.168.1.10", want: []string{"192.168.1.10/32"}},
		{in: "::ffff:192.168.1.10", want: []string{"192.168.1.10/32"}},
		{in: "::1", want: []string{"::1/128"}},
		{in: "127.0.0.0/33", wantErr: true},
		{in: "localhost", wantErr: true},
		{in: "127.0.0.0/8;10.0.0.0/8", wantErr: true},
	}
	for _, tt := range tests {
		got, err := netguard.ParseAllowCIDRs(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseAllowCIDRs(%q) error = %v", tt.in, err)
			continue
		}
		var s []string
		for _, p := range got {
			s = append(s, p.String())
		}
		if !slices.Equal(s, tt.want) {
			t.Errorf("ParseAllowCIDRs(%q) = %q, want %q", tt.in, s, tt.want)
		}
	}
}

// FuzzCheck: an IPv4 address and its IPv4-mapped, zoned and NAT64 forms are
// judged alike, so no spelling slips past the policy.
func FuzzCheck(f *testing.F) {
	for _, b := range [][4]byte{{127, 0, 0, 1}, {10, 0, 0, 1}, {169, 254, 169, 254}, {8, 8, 8, 8}, {100, 64, 0, 1}, {0, 0, 0, 0}} {
		f.Add(b[0], b[1], b[2], b[3])
	}
	var p netguard.Policy
	f.Fuzz(func(t *testing.T, a, b, c, d byte) {
		v4 := netip.AddrFrom4([4]byte{a, b, c, d})
		want := p.Check(v4) == nil
		mapped := netip.AddrFrom16(v4.As16())
		nat := netip.AddrFrom16([16]byte{0, 0x64, 0xff, 0x9b, 10: 0, 11: 0, 12: a, 13: b, 14: c, 15: d})
		for _, form := range []netip.Addr{mapped, mapped.WithZone("eth0"), nat} {
			if got := p.Check(form) == nil; got != want {
				t.Fatalf("Check(%s) = %v but Check(%s) = %v", form, got, v4, want)
			}
		}
	})
}
