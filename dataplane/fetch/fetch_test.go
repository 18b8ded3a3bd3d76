package fetch_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marquee-video/marquee/dataplane/fetch"
)

// source serves the pages the fetch tests ask for.
func source(t *testing.T, other *httptest.Server) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "video/mp4")
		io.WriteString(w, "hello video")
	})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		w.WriteHeader(code)
	})
	// 1 MiB, streamed without a Content-Length.
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) {
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for range 16 {
			w.Write(chunk)
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/big-declared", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(1<<20))
		w.Write(bytes.Repeat([]byte("x"), 1<<20))
	})
	// /hops/n redirects n times, then serves /ok.
	mux.HandleFunc("/hops/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n == 0 {
			http.Redirect(w, r, "/ok", http.StatusFound)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/hops/%d", n-1), http.StatusFound)
	})
	mux.HandleFunc("/to-ftp", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "ftp://example.com/x.mp4", http.StatusFound)
	})
	mux.HandleFunc("/to-metadata", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	})
	mux.HandleFunc("/to-other", func(w http.ResponseWriter, r *http.Request) {
		if other == nil {
			http.Error(w, "no other server", http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, other.URL+"/ok", http.StatusFound)
	})
	mux.HandleFunc("/slow", func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// internalService stands for something on the private network: it answers
// "internal secret", and /to-localhost/{port} sends the fetch to
// localhost:port, a name that only the dial-time check can judge.
func internalService(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "internal secret")
	})
	mux.HandleFunc("/to-localhost/{port}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://localhost:"+r.PathValue("port")+"/ok", http.StatusFound)
	})
	// 127.0.0.2 works on Linux loopback without configuration.
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2: %v", err)
	}
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func TestFetch(t *testing.T) {
	internal := internalService(t)
	src := source(t, internal)
	port := src.Listener.Addr().(*net.TCPAddr).Port
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	only1 := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	only2 := []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}

	tests := []struct {
		name          string
		cfg           fetch.Config
		url           string
		wantCode      string // "" for success
		wantRetryable bool
		wantBody      string
	}{
		{name: "loopback refused by default", url: src.URL + "/ok", wantCode: fetch.CodeForbiddenAddress},
		{name: "loopback name refused at dial", url: fmt.Sprintf("http://localhost:%d/ok", port), wantCode: fetch.CodeForbiddenAddress},
		{name: "allowed by CIDR", cfg: fetch.Config{AllowCIDRs: loopback}, url: src.URL + "/ok", wantBody: "hello video"},
		{name: "allowed name by CIDR", cfg: fetch.Config{AllowCIDRs: loopback}, url: fmt.Sprintf("http://localhost:%d/ok", port), wantBody: "hello video"},
		{name: "ipv4-mapped ipv6 loopback", url: fmt.Sprintf("http://[::ffff:127.0.0.1]:%d/ok", port), wantCode: fetch.CodeForbiddenAddress},
		{name: "ipv4-mapped ipv6 loopback, hex form", url: fmt.Sprintf("http://[::ffff:7f00:1]:%d/ok", port), wantCode: fetch.CodeForbiddenAddress},
		{name: "ipv6 loopback", url: fmt.Sprintf("http://[::1]:%d/ok", port), wantCode: fetch.CodeForbiddenAddress},
		{name: "cloud metadata", url: "http://169.254.169.254/latest/meta-data/", wantCode: fetch.CodeForbiddenAddress},
		{name: "cloud metadata even when loopback allowed", cfg: fetch.Config{AllowCIDRs: loopback}, url: "http://169.254.169.254/", wantCode: fetch.CodeForbiddenAddress},
		{name: "private", url: "http://10.0.0.1/", wantCode: fetch.CodeForbiddenAddress},
		{name: "unspecified", url: fmt.Sprintf("http://0.0.0.0:%d/ok", port), wantCode: fetch.CodeForbiddenAddress},
		{name: "redirect to a forbidden host", cfg: fetch.Config{AllowCIDRs: only1}, url: src.URL + "/to-other", wantCode: fetch.CodeForbiddenAddress},
		{name: "redirect to a name resolving to a forbidden host", cfg: fetch.Config{AllowCIDRs: only2}, url: fmt.Sprintf("%s/to-localhost/%d", internal.URL, port), wantCode: fetch.CodeForbiddenAddress},
		{name: "redirect to a name resolving to an allowed host", cfg: fetch.Config{AllowCIDRs: loopback}, url: fmt.Sprintf("%s/to-localhost/%d", internal.URL, port), wantBody: "hello video"},
		{name: "redirect to another allowed host", cfg: fetch.Config{AllowCIDRs: loopback}, url: src.URL + "/to-other", wantBody: "internal secret"},
		{name: "redirect to metadata", cfg: fetch.Config{AllowCIDRs: loopback}, url: src.URL + "/to-metadata", wantCode: fetch.CodeForbiddenAddress},
		{name: "redirect to ftp", cfg: fetch.Config{AllowCIDRs: loopback}, url: src.URL + "/to-ftp", wantCode: fetch.CodeInvalidURL},
		{name: "five redirects", cfg: fetch.Config{AllowCIDRs: loopback}, url: src.URL + "/hops/4", wantBody: "hello video"},
		{name: "six redirects", cfg: fetch.Config{AllowCIDRs: loopback}, url: src.URL + "/hops/5", wantCode: fetch.CodeTooManyRedirects},
		{name: "ftp", url: "ftp://example.com/x.mp4", wantCode: fetch.CodeInvalidURL},
		{name: "file", url: "file:///etc/passwd", wantCode: fetch.CodeInvalidURL},
		{name: "relative", url: "/ok", wantCode: fetch.CodeInvalidURL},
		{name: "userinfo", cfg: fetch.Config{AllowCIDRs: loopback}, url: "http://user:pass@" + src.Listener.Addr().String() + "/ok", wantCode: fetch.CodeInvalidURL},
		{name: "user only", cfg: fetch.Config{AllowCIDRs: loopback}, url: "http://user@" + src.Listener.Addr().String() + "/ok", wantCode: fetch.CodeInvalidURL},
		{name: "bad port", url: "http://example.com:99999/", wantCode: fetch.CodeInvalidURL},
		{name: "unparsable", url: "http://%zz/", wantCode: fetch.CodeInvalidURL},
		{name: "under the size limit", cfg: fetch.Config{AllowCIDRs: loopback, MaxBytes: 11}, url: src.URL + "/ok", wantBody: "hello video"},
		{name: "streamed over the size limit", cfg: fetch.Config{AllowCIDRs: loopback, MaxBytes: 100 << 10}, url: src.URL + "/big", wantCode: fetch.CodeTooLarge},
		{name: "declared over the size limit", cfg: fetch.Config{AllowCIDRs: loopback, MaxBytes: 100 << 10}, url: src.URL + "/big-declared", wantCode: fetch.CodeTooLarge},
		{name: "404 is final", cfg: fetch.Config{AllowCIDRs: loopback}, url: src.URL + "/status/404", wantCode: fetch.CodeHTTPStatus},
		{name: "403 is final", cfg: fetch.Config{AllowCIDRs: loopback}, url: src.URL + "/status/403", wantCode: fetch.CodeHTTPStatus},
		{name: "429 is retried", cfg: fetch.Config{AllowCIDRs: loopback}, url: src.URL + "/status/429", wantCode: fetch.CodeHTTPStatus, wantRetryable: true},
		{name: "503 is retried", cfg: fetch.Config{AllowCIDRs: loopback}, url: src.URL + "/status/503", wantCode: fetch.CodeHTTPStatus, wantRetryable: true},
		{name: "500 is retried", cfg: fetch.Config{AllowCIDRs: loopback}, url: src.URL + "/status/500", wantCode: fetch.CodeHTTPStatus, wantRetryable: true},
		{name: "timeout", cfg: fetch.Config{AllowCIDRs: loopback, Timeout: 200 * time.Millisecond}, url: src.URL + "/slow", wantCode: fetch.CodeUnreachable, wantRetryable: true},
		{name: "connection refused", cfg: fetch.Config{AllowCIDRs: loopback}, url: "http://127.0.0.1:1/", wantCode: fetch.CodeUnreachable, wantRetryable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			n, ctype, err := fetch.New(tt.cfg).Fetch(context.Background(), tt.url, &buf)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				if buf.String() != tt.wantBody || n != int64(len(tt.wantBody)) {
					t.Fatalf("got %d bytes %q, want %q", n, buf.String(), tt.wantBody)
				}
				if tt.wantBody == "hello video" && ctype != "video/mp4" {
					t.Fatalf("content type %q", ctype)
				}
				return
			}
			var fe *fetch.Error
			if !errors.As(err, &fe) {
				t.Fatalf("Fetch error = %v (%T), want *fetch.Error %s", err, err, tt.wantCode)
			}
			if fe.Code != tt.wantCode || fe.Retryable != tt.wantRetryable {
				t.Fatalf("Fetch error = %+v, want code %s retryable %v", fe, tt.wantCode, tt.wantRetryable)
			}
			if strings.Contains(fe.Message, "127.0.0") || strings.Contains(fe.Message, "169.254") {
				t.Fatalf("message %q names an address", fe.Message)
			}
			if tt.cfg.MaxBytes > 0 && n > tt.cfg.MaxBytes {
				t.Fatalf("wrote %d bytes past the %d limit", n, tt.cfg.MaxBytes)
			}
			if int64(buf.Len()) != n {
				t.Fatalf("n = %d but %d bytes written", n, buf.Len())
			}
		})
	}
}

func TestFetchCallerFailures(t *testing.T) {
	src := source(t, nil)
	f := fetch.New(fetch.Config{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := f.Fetch(ctx, src.URL+"/ok", io.Discard); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Fetch = %v, want context.Canceled", err)
	}

	sinkErr := errors.New("disk full")
	_, _, err := f.Fetch(context.Background(), src.URL+"/big", failingWriter{sinkErr})
	var fe *fetch.Error
	if !errors.Is(err, sinkErr) || errors.As(err, &fe) {
		t.Fatalf("Fetch into a failing writer = %v, want the writer's error", err)
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

// The parsing itself is netguard.ParseAllowCIDRs, tested there; fetch's
// wrapper names the environment variable an operator got wrong.
func TestParseAllowCIDRs(t *testing.T) {
	got, err := fetch.ParseAllowCIDRs(" 127.0.0.0/8 , 192.168.1.10")
	if err != nil || len(got) != 2 || got[0].String() != "127.0.0.0/8" || got[1].String() != "192.168.1.10/32" {
		t.Fatalf("ParseAllowCIDRs = %v, %v", got, err)
	}
	if _, err := fetch.ParseAllowCIDRs("localhost"); err == nil || !strings.Contains(err.Error(), fetch.EnvAllowCIDRs) {
		t.Fatalf("ParseAllowCIDRs(localhost) error = %v, want one naming %s", err, fetch.EnvAllowCIDRs)
	}
}
