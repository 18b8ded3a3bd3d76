package fetch

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"sync"
	"testing"
)

// The address policy itself is internal/netguard's and tested there; this
// checks that a Fetcher applies it with its configured allow list.
func TestAllowedFollowsConfig(t *testing.T) {
	f := New(Config{})
	for addr, want := range map[string]bool{
		"8.8.8.8": true, "127.0.0.1": false, "::ffff:127.0.0.1": false, "169.254.169.254": false, "64:ff9b::a9fe:a9fe": false,
	} {
		if got := f.allowed(netip.MustParseAddr(addr)); got != want {
			t.Errorf("allowed(%s) = %v, want %v", addr, got, want)
		}
	}
	f = New(Config{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::ffff:10.1.0.0/112")}})
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "::ffff:127.0.0.1": true, "10.1.2.3": true, "::ffff:10.1.2.3": true,
		"10.2.0.1": false, "::1": false, "169.254.169.254": false,
	} {
		if got := f.allowed(netip.MustParseAddr(addr)); got != want {
			t.Errorf("with allow list: allowed(%s) = %v, want %v", addr, got, want)
		}
	}
}

// dialRecorder is a Fetcher that can never reach the network: its resolver
// and its dialer record each attempt and refuse it.
type dialRecorder struct {
	mu    sync.Mutex
	dials []string
	dns   int
}

var errRefused = errors.New("test dialer refuses every connection")

func (r *dialRecorder) fetcher(cfg Config) *Fetcher {
	resolver := &net.Resolver{
		PreferGo: true,
		Dial: func(context.Context, string, string) (net.Conn, error) {
			r.mu.Lock()
			r.dns++
			r.mu.Unlock()
			return nil, errRefused
		},
	}
	return newFetcher(cfg, resolver, func(network, address string) error {
		r.mu.Lock()
		r.dials = append(r.dials, network+" "+address)
		r.mu.Unlock()
		return errRefused
	})
}

func (r *dialRecorder) attempts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.dials) + r.dns
}

func TestForbiddenLiteralNeverDials(t *testing.T) {
	for _, u := range []string{
		"http://169.254.169.254/latest/meta-data/",
		"http://[::ffff:169.254.169.254]/",
		"http://[fe80::1%25eth0]/",
		"http://[::ffff:127.0.0.1]:8080/",
		"http://[64:ff9b::a9fe:a9fe]/",
		"http://10.0.0.1/",
		"https://100.64.0.1/",
		"http://[fd00::1]/",
		"http://0.0.0.0/",
		"ftp://example.com/",
		"http://user:pass@example.com/",
	} {
		var r dialRecorder
		_, _, err := r.fetcher(Config{}).Fetch(context.Background(), u, nil)
		var fe *Error
		if !errors.As(err, &fe) || (fe.Code != CodeForbiddenAddress && fe.Code != CodeInvalidURL) {
			t.Errorf("Fetch(%s) = %v", u, err)
		}
		if n := r.attempts(); n != 0 {
			t.Errorf("Fetch(%s) made %d connection or DNS attempts", u, n)
		}
	}
}

// FuzzFetchURL feeds arbitrary URLs to Fetch: it must never panic, must
// return a *Error, and must not dial when it reports the URL as invalid or
// its address as forbidden up front.
func FuzzFetchURL(f *testing.F) {
	for _, s := range []string{
		"http://example.com/video.mp4",
		"https://example.com:8443/a?b=c#d",
		"HTTP://EXAMPLE.COM/",
		"http://[::ffff:127.0.0.1]/",
		"http://[::ffff:7f00:1]:80/",
		"http://[fe80::1%25en0]/",
		"http://169.254.169.254/latest/meta-data/",
		"http://0x7f.1/",
		"http://2130706433/",
		"http://017700000001/",
		"http://127.1/",
		"http://localhost/",
		"http://user:pass@example.com/",
		"http://@example.com/",
		"ftp://example.com/x",
		"file:///etc/passwd",
		"gopher://127.0.0.1:6379/_INFO",
		"//example.com/x",
		"http:example.com",
		"http://%zz/",
		"http://example.com:99999/",
		"http://example.com:0/",
		"http://[::1]:x/",
		"http://ex ample.com/",
		"http://a\x00b/",
		"http://[64:ff9b::a9fe:a9fe]/",
		"http://[2002:a9fe:a9fe::]/",
		"",
	} {
		f.Add(s)
	}
	var r dialRecorder
	fetcher := r.fetcher(Config{})
	f.Fuzz(func(t *testing.T, raw string) {
		before := r.attempts()
		n, _, err := fetcher.Fetch(context.Background(), raw, nil)
		if err == nil || n != 0 {
			t.Fatalf("Fetch(%q) = %d, %v; the test dialer refuses everything", raw, n, err)
		}
		var fe *Error
		if !errors.As(err, &fe) {
			t.Fatalf("Fetch(%q) error %v (%T) is not a *Error", raw, err, err)
		}
		if fe.Code == CodeInvalidURL && r.attempts() != before {
			t.Fatalf("Fetch(%q) dialled a URL it calls invalid", raw)
		}
		if u, perr := url.Parse(raw); perr == nil && u.User != nil && fe.Code != CodeInvalidURL {
			t.Fatalf("Fetch(%q) accepted credentials: %v", raw, err)
		}
	})
}
