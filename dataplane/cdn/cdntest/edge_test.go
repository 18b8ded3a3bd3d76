package cdntest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marquee-video/marquee/dataplane/cdn"
	"github.com/marquee-video/marquee/dataplane/cdn/cdntest"
)

const secret = "edge-s3cret"

// countingOrigin serves "segment <path>" and counts requests per path.
type countingOrigin struct {
	mu   sync.Mutex
	hits map[string]int
}

func (o *countingOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.hits[r.URL.Path]++
	o.mu.Unlock()
	w.Header().Set("Content-Type", "video/iso.segment")
	io.WriteString(w, "segment "+r.URL.Path)
}

func (o *countingOrigin) count(p string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hits[p]
}

func get(t *testing.T, raw string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(raw)
	if err != nil {
		t.Fatalf("GET %s: %v", raw, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func sign(t *testing.T, s cdn.Signer, raw string, exp time.Time) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Sign(u, exp)
	if err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestEdgeSecureLinkAndCache(t *testing.T) {
	origin := &countingOrigin{hits: map[string]int{}}
	srv := httptest.NewServer(origin)
	defer srv.Close()
	edge := cdntest.StartEdge(t, cdntest.EdgeConfig{Origin: srv.URL, Secret: secret})
	signer, err := cdn.NewSigner("nginx", cdn.SignerConfig{Key: secret})
	if err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	seg := edge.URL() + "/v/abc/720p/seg_00001.m4s"

	steps := []struct {
		name, url  string
		status     int
		cache      string // X-Cache-Status, "" = not checked
		originHits int    // origin requests for the path after the step
	}{
		{"first fetch goes to the origin", sign(t, signer, seg, future), 200, "MISS", 1},
		{"second fetch is a hit", sign(t, signer, seg, future), 200, "HIT", 1},
		{"another viewer's token shares the cache", sign(t, signer, seg, future.Add(time.Minute)), 200, "HIT", 1},
		{"unsigned", seg, 403, "", 1},
		{"tampered md5", strings.Replace(sign(t, signer, seg, future), "md5=", "md5=A", 1), 403, "", 1},
		{"expiry moved", strings.Replace(sign(t, signer, seg, future), "expires=", "expires=1", 1), 403, "", 1},
		{"expired", sign(t, signer, seg, time.Now().Add(-time.Minute)), 410, "", 1},
	}
	for _, s := range steps {
		resp, body := get(t, s.url)
		if resp.StatusCode != s.status {
			t.Fatalf("%s: status %d, want %d\n%s", s.name, resp.StatusCode, s.status, edge.Logs())
		}
		if s.status == 200 && body != "segment /v/abc/720p/seg_00001.m4s" {
			t.Fatalf("%s: body %q", s.name, body)
		}
		if s.cache != "" && resp.Header.Get("X-Cache-Status") != s.cache {
			t.Fatalf("%s: X-Cache-Status %q, want %q", s.name, resp.Header.Get("X-Cache-Status"), s.cache)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Fatalf("%s: Access-Control-Allow-Origin %q, want *", s.name, got)
		}
		if got := origin.count("/v/abc/720p/seg_00001.m4s"); got != s.originHits {
			t.Fatalf("%s: origin saw %d requests, want %d", s.name, got, s.originHits)
		}
	}

	// A token for one segment does not open another, which the origin
	// never sees.
	other := strings.Replace(sign(t, signer, seg, future), "seg_00001", "seg_00002", 1)
	if resp, _ := get(t, other); resp.StatusCode != 403 || origin.count("/v/abc/720p/seg_00002.m4s") != 0 {
		t.Fatalf("token moved to another path: status %d, origin hits %d", resp.StatusCode, origin.count("/v/abc/720p/seg_00002.m4s"))
	}

	// CORS preflight needs no token.
	req, _ := http.NewRequest(http.MethodOptions, seg, nil)
	req.Header.Set("Origin", "https://player.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "range")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Range") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestEdgeStopStart(t *testing.T) {
	origin := &countingOrigin{hits: map[string]int{}}
	srv := httptest.NewServer(origin)
	defer srv.Close()
	edge := cdntest.StartEdge(t, cdntest.EdgeConfig{Origin: srv.URL, Secret: secret})
	signer, err := cdn.NewSigner("nginx", cdn.SignerConfig{Key: secret})
	if err != nil {
		t.Fatal(err)
	}
	u := sign(t, signer, edge.URL()+"/canary.txt", time.Now().Add(time.Hour))
	before := edge.URL()

	if resp, _ := get(t, u); resp.StatusCode != 200 {
		t.Fatalf("status %d before Stop", resp.StatusCode)
	}
	edge.Stop()
	if resp, err := http.Get(u); err == nil {
		resp.Body.Close()
		t.Fatalf("edge answered %d after Stop", resp.StatusCode)
	}
	edge.Start()
	if edge.URL() != before {
		t.Fatalf("URL changed across restart: %s → %s", before, edge.URL())
	}
	if resp, body := get(t, u); resp.StatusCode != 200 || body != "segment /canary.txt" {
		t.Fatalf("after Start: %d %q\n%s", resp.StatusCode, body, edge.Logs())
	}
	if !strings.Contains(edge.Logs(), "GET /canary.txt?md5=") {
		t.Fatalf("access log lacks the requests:\n%s", edge.Logs())
	}
}

func TestEdgeOriginWithPath(t *testing.T) {
	origin := &countingOrigin{hits: map[string]int{}}
	srv := httptest.NewServer(origin)
	defer srv.Close()
	edge := cdntest.StartEdge(t, cdntest.EdgeConfig{Origin: srv.URL + "/tenant-1", Secret: secret})
	signer, err := cdn.NewSigner("nginx", cdn.SignerConfig{Key: secret})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := get(t, sign(t, signer, edge.URL()+"/v/seg.ts", time.Now().Add(time.Hour)))
	if resp.StatusCode != 200 || body != "segment /tenant-1/v/seg.ts" {
		t.Fatalf("%d %q\n%s", resp.StatusCode, body, edge.Logs())
	}
}

func TestStartStatic(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "v"), 0o755); err != nil {
		t.Fatal(err)
	}
	const playlist = "#EXTM3U\n#EXT-X-ENDLIST\n"
	if err := os.WriteFile(filepath.Join(dir, "v", "index.m3u8"), []byte(playlist), 0o644); err != nil {
		t.Fatal(err)
	}
	edge := cdntest.StartStatic(t, dir)
	tests := []struct {
		path   string
		status int
		ctype  string
	}{
		{"/v/index.m3u8", 200, "application/vnd.apple.mpegurl"},
		{"/v/missing.m3u8", 404, ""},
	}
	for _, tc := range tests {
		resp, body := get(t, edge.URL()+tc.path)
		if resp.StatusCode != tc.status {
			t.Fatalf("%s: %d\n%s", tc.path, resp.StatusCode, edge.Logs())
		}
		if tc.status == 200 && (body != playlist || resp.Header.Get("Content-Type") != tc.ctype || resp.Header.Get("Access-Control-Allow-Origin") != "*") {
			t.Fatalf("%s: %q %v", tc.path, body, resp.Header)
		}
	}
}
