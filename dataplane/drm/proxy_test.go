package drm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marquee-video/marquee/dataplane/drm"
)

// licenseServer is a fake vendor license server that answers with a fixed
// status and echoes the request; mode can change between requests.
type licenseServer struct {
	*httptest.Server
	name  string
	hits  atomic.Int32
	mu    sync.Mutex
	mode  string // "ok", "503", "403", "hang", "huge"
	paths []string
	hdrs  []http.Header
}

func newLicenseServer(t *testing.T, name, mode string) *licenseServer {
	s := &licenseServer{name: name, mode: mode}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		mode := s.mode
		s.paths = append(s.paths, r.URL.Path)
		s.hdrs = append(s.hdrs, r.Header.Clone())
		s.mu.Unlock()
		switch mode {
		case "503":
			http.Error(w, "down", http.StatusServiceUnavailable)
		case "403":
			w.Header().Set("X-Vendor-Reason", "no entitlement")
			http.Error(w, "denied", http.StatusForbidden)
		case "hang":
			<-r.Context().Done()
		case "huge":
			_, _ = w.Write(bytes.Repeat([]byte{1}, 2048))
		default:
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("X-Served-By", s.name)
			_, _ = w.Write(append([]byte(s.name+":"), body...))
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *licenseServer) setMode(m string) {
	s.mu.Lock()
	s.mode = m
	s.mu.Unlock()
}

// fakeClock is advanced by hand, so the cooldown is tested without sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestProxyFailover(t *testing.T) {
	cases := []struct {
		name        string
		primary     string // mode, or "closed"
		backup      string // mode, "closed" or "" for none
		wantStatus  int
		wantBody    string
		wantBackup  bool
		wantErr     error
		primaryDown bool
	}{
		{"primary up", "ok", "ok", 200, "primary:req", false, nil, false},
		{"primary closed", "closed", "ok", 200, "backup:req", true, nil, true},
		{"primary 503", "503", "ok", 200, "backup:req", true, nil, true},
		{"primary hangs past timeout", "hang", "ok", 200, "backup:req", true, nil, true},
		{"primary answer too large", "huge", "ok", 200, "backup:req", true, nil, true},
		{"primary 403 is the verdict", "403", "ok", 403, "denied\n", false, nil, false},
		{"both down", "closed", "503", 0, "", false, drm.ErrUnavailable, true},
		{"primary down, no backup", "503", "", 0, "", false, drm.ErrUnavailable, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			primary := newLicenseServer(t, "primary", c.primary)
			if c.primary == "closed" {
				primary.Close()
			}
			p := &drm.Proxy{Primary: primary.URL + "/{system}", Timeout: 200 * time.Millisecond, MaxResponseBytes: 1024}
			var backup *licenseServer
			if c.backup != "" {
				backup = newLicenseServer(t, "backup", c.backup)
				if c.backup == "closed" {
					backup.Close()
				}
				p.Backup = backup.URL + "/{system}"
			}
			hdr := http.Header{"X-Dt-Custom-Data": {"token"}, "Connection": {"close"}}
			status, h, body, usedBackup, err := p.Forward(context.Background(), "widevine", []byte("req"), hdr)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("err %v, want %v", err, c.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if status != c.wantStatus || string(body) != c.wantBody || usedBackup != c.wantBackup {
				t.Errorf("got %d %q backup=%v", status, body, usedBackup)
			}
			if p.PrimaryDown() != c.primaryDown {
				t.Errorf("PrimaryDown = %v", p.PrimaryDown())
			}
			if c.primary == "403" && (h.Get("X-Vendor-Reason") != "no entitlement" || backup.hits.Load() != 0) {
				t.Errorf("403: header %v, backup hits %d", h, backup.hits.Load())
			}
			if c.wantStatus == 200 {
				srv := primary
				if usedBackup {
					srv = backup
				}
				last := srv.hdrs[len(srv.hdrs)-1]
				if srv.paths[len(srv.paths)-1] != "/widevine" || last.Get("X-Dt-Custom-Data") != "token" || last.Get("Connection") != "" {
					t.Errorf("upstream saw %s %v", srv.paths, last)
				}
			}
		})
	}
}

func TestProxyCooldownAndRecovery(t *testing.T) {
	primary := newLicenseServer(t, "primary", "503")
	backup := newLicenseServer(t, "backup", "ok")
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := &drm.Proxy{Primary: primary.URL, Backup: backup.URL, Cooldown: time.Minute, Now: clock.Now}
	forward := func() (string, bool) {
		t.Helper()
		_, _, body, usedBackup, err := p.Forward(context.Background(), "playready", []byte("x"), nil)
		if err != nil {
			t.Fatal(err)
		}
		return string(body), usedBackup
	}
	steps := []struct {
		name        string
		advance     time.Duration
		primaryMode string
		wantBody    string
		wantBackup  bool
		primaryHits int32
		primaryDown bool
	}{
		{"primary fails, backup answers", 0, "503", "backup:x", true, 1, true},
		{"in cooldown the primary is skipped", 30 * time.Second, "ok", "backup:x", true, 1, true},
		{"after cooldown the primary is probed and used", 31 * time.Second, "ok", "primary:x", false, 2, false},
		{"and stays in use", 0, "ok", "primary:x", false, 3, false},
	}
	for _, s := range steps {
		clock.Advance(s.advance)
		primary.setMode(s.primaryMode)
		body, usedBackup := forward()
		if body != s.wantBody || usedBackup != s.wantBackup || primary.hits.Load() != s.primaryHits || p.PrimaryDown() != s.primaryDown {
			t.Errorf("%s: body %q backup %v primary hits %d down %v", s.name, body, usedBackup, primary.hits.Load(), p.PrimaryDown())
		}
	}
	// While the primary is down and the backup fails too, the primary is
	// still tried as a last resort.
	primary.setMode("503")
	forward()
	backup.setMode("503")
	primary.setMode("ok")
	if body, usedBackup := forward(); body != "primary:x" || usedBackup {
		t.Errorf("last resort: %q %v", body, usedBackup)
	}
}

func TestProxyRejects(t *testing.T) {
	primary := newLicenseServer(t, "primary", "ok")
	backup := newLicenseServer(t, "backup", "ok")
	p := &drm.Proxy{Primary: primary.URL, Backup: backup.URL, MaxRequestBytes: 8}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name   string
		ctx    context.Context
		system string
		body   string
		want   error
	}{
		{"too large", context.Background(), "widevine", "123456789", drm.ErrTooLarge},
		{"unknown system", context.Background(), "primetime", "x", drm.ErrInvalidSystem},
		{"caller gone", cancelled, "fairplay", "x", context.Canceled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, _, _, err := p.Forward(c.ctx, c.system, []byte(c.body), nil)
			if !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
			if primary.hits.Load()+backup.hits.Load() != 0 || p.PrimaryDown() {
				t.Errorf("upstreams hit %d/%d, primary down %v", primary.hits.Load(), backup.hits.Load(), p.PrimaryDown())
			}
		})
	}
	if _, _, _, _, err := (&drm.Proxy{}).Forward(context.Background(), "widevine", nil, nil); !errors.Is(err, drm.ErrUnavailable) {
		t.Errorf("no upstream configured: %v", err)
	}
}

func TestProxyHandler(t *testing.T) {
	primary := newLicenseServer(t, "primary", "closed")
	primary.Close()
	backup := newLicenseServer(t, "backup", "ok")
	p := &drm.Proxy{Primary: primary.URL, Backup: backup.URL, MaxRequestBytes: 16}
	dead := &drm.Proxy{Primary: primary.URL}
	cases := []struct {
		name, method, body string
		proxy              *drm.Proxy
		system             string
		status             int
		want               string // body, or problem code
	}{
		{"forwarded", http.MethodPost, "challenge", p, "widevine", 200, "backup:challenge"},
		{"too large", http.MethodPost, strings.Repeat("x", 17), p, "widevine", 413, "drm_too_large"},
		{"GET", http.MethodGet, "", p, "widevine", 405, "drm_bad_request"},
		{"unknown system", http.MethodPost, "x", p, "nope", 404, "drm_invalid_system"},
		{"no upstream", http.MethodPost, "x", dead, "playready", 502, "drm_unavailable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			c.proxy.Handler(c.system).ServeHTTP(rec, httptest.NewRequest(c.method, "/license", strings.NewReader(c.body)))
			if rec.Code != c.status {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if c.status == 200 {
				if rec.Body.String() != c.want || rec.Header().Get("X-Served-By") != "backup" {
					t.Errorf("body %q headers %v", rec.Body, rec.Header())
				}
				return
			}
			var prob struct {
				Code   string `json:"code"`
				Status int    `json:"status"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &prob); err != nil || prob.Code != c.want || prob.Status != c.status ||
				rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Errorf("problem %s (%v)", rec.Body, err)
			}
		})
	}
}
