// Package pipeline_test checks the media pipeline end to end: a real control
// plane (cptest), real workers (in process, or the built binary as a
// separate process that the test kills), real ffmpeg, real Redis-protocol
// queues and the real packager, on clips generated with ffmpeg.
package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/marquee-video/marquee/controlplane/cptest"
	"github.com/marquee-video/marquee/controlplane/webhooks"
	"github.com/marquee-video/marquee/dataplane/worker/workertest"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/mediatest"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

func clip(t testing.TB, dir, name, size string, seconds int) string {
	return mediatest.Clip(t, dir, name, size, seconds)
}

// mediaServer serves dir on loopback, as a customer's origin would.
func mediaServer(t testing.TB, dir string) string {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return srv.URL
}

func startWorker(t testing.TB, s *cptest.Server, name string) context.CancelFunc {
	t.Helper()
	return workertest.Start(t, workertest.Config{ControlPlane: s.URL, NodeKey: s.App.NodeKey(), Redis: s.App.RedisOpt(), Objects: s.App.Objects(), Name: name})
}

func waitStatus(t *testing.T, s *cptest.Server, token, id string, limit time.Duration, final ...string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		a := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/assets/" + id, Token: token}).JSON(t)
		for _, f := range final {
			if a["status"] == f {
				return a
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("asset %s still %v after %s: %v", id, a["status"], limit, a)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// TestURLIngestToPlayback: an asset from a URL becomes ready with a ladder
// capped at the source, its HLS and DASH manifests and segments are served,
// a signed asset.ready webhook arrives, and usage is recorded once per rung.
// A file that is not media ends errored with invalid_media and says
// nothing of the worker's disk.
func TestURLIngestToPlayback(t *testing.T) {
	s := cptest.Start(t, cptest.Options{Postgres: true, WebhookAllow: loopback, RelayInterval: 100 * time.Millisecond})
	startWorker(t, s, "w1")
	dir := t.TempDir()
	clip(t, dir, "clip.mp4", "854x480", 6)
	if err := os.WriteFile(filepath.Join(dir, "notes.mp4"), []byte("this is not a video"), 0o644); err != nil {
		t.Fatal(err)
	}
	media := mediaServer(t, dir)

	var mu sync.Mutex
	var events []webhooks.Event
	var secret string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := webhooks.VerifySignature(secret, r.Header.Get(webhooks.HeaderSignature), body, time.Now(), time.Minute); err != nil {
			t.Errorf("webhook signature: %v", err)
		}
		var e webhooks.Event
		_ = json.Unmarshal(body, &e)
		events = append(events, e)
	}))
	defer hook.Close()

	acct := s.Signup(t, "Pipeline Films")
	ep := s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/webhook-endpoints", Token: acct.Token,
		Body: map[string]any{"url": hook.URL, "events": []string{"asset.ready", "asset.errored"}}})
	mu.Lock()
	secret = ep.Str(t, "secret")
	mu.Unlock()

	good := s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/assets", Token: acct.Token, Body: map[string]string{"input": media + "/clip.mp4"}}).Str(t, "id")
	bad := s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/assets", Token: acct.Token, Body: map[string]string{"input": media + "/notes.mp4"}}).Str(t, "id")

	a := waitStatus(t, s, acct.Token, good, 2*time.Minute, "ready", "errored")
	if a["status"] != "ready" || a["progress"].(float64) != 100 || a["duration"].(float64) < 5.9 {
		t.Fatalf("asset: %v", a)
	}
	var heights []int
	for _, r := range a["renditions"].([]any) {
		heights = append(heights, int(r.(map[string]any)["height"].(float64)))
	}
	if fmt.Sprint(heights) != "[480 360 240]" {
		t.Fatalf("renditions %v, want 480p, 360p and 240p (capped at the 480p source)", heights)
	}
	pb := a["playback"].(map[string]any)
	code, master := get(t, s.URL+pb["hls"].(string))
	if code != 200 || !strings.Contains(string(master), "#EXT-X-STREAM-INF") || !strings.Contains(string(master), "avc1.") {
		t.Fatalf("HLS master: %d %s", code, master)
	}
	code, mpd := get(t, s.URL+pb["dash"].(string))
	if code != 200 || !strings.Contains(string(mpd), "<SegmentTemplate") {
		t.Fatalf("DASH manifest: %d %s", code, mpd)
	}
	for _, f := range []string{"480p/init.mp4", "480p/seg-1.m4s", "audio/seg-1.m4s", "poster.jpg"} {
		if code, b := get(t, s.URL+"/stream/"+good+"/"+f); code != 200 || len(b) == 0 {
			t.Errorf("%s: %d, %d bytes", f, code, len(b))
		}
	}
	if code, _ := get(t, s.URL+"/stream/"+good+"/../../x.m3u8"); code != 404 {
		t.Errorf("path escape: %d, want 404", code)
	}

	e := waitStatus(t, s, acct.Token, bad, time.Minute, "ready", "errored")
	errObj, _ := e["error"].(map[string]any)
	if e["status"] != "errored" || errObj["code"] != "invalid_media" {
		t.Fatalf("non-media asset: %v", e)
	}
	if msg := errObj["message"].(string); strings.Contains(msg, "/") {
		t.Errorf("error message shows a path: %q", msg)
	}

	// Webhooks: asset.ready and asset.errored, each once.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(events)
		mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	mu.Lock()
	types := map[string]int{}
	for _, ev := range events {
		types[ev.Type]++
	}
	mu.Unlock()
	if types["asset.ready"] != 1 || types["asset.errored"] != 1 {
		t.Fatalf("webhook events %v, want one asset.ready and one asset.errored", types)
	}

	// The ready asset counts in the tenant's storage use.
	storage := func() float64 {
		q := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/quotas", Token: acct.Token}).JSON(t)
		return q["usage"].(map[string]any)["storage_bytes"].(float64)
	}
	if used := storage(); used < 100_000 {
		t.Errorf("storage use %v after a ready asset, want its package's size", used)
	}

	// Deleting the asset removes its files: the origin serves nothing more.
	s.Must(t, 204, cptest.Request{Method: "DELETE", Path: "/v1/assets/" + good, Token: acct.Token})
	if used := storage(); used != 0 {
		t.Errorf("storage use %v after deleting the only ready asset, want 0", used)
	}
	if code, _ := get(t, s.URL+"/stream/"+good+"/480p/seg-1.m4s"); code != 404 {
		t.Errorf("segment after delete: %d, want 404", code)
	}
	if left, err := s.App.Objects().List(context.Background(), "tenants/"+acct.TenantID+"/assets/"+good+"/"); err != nil || len(left) != 0 {
		t.Errorf("objects left after delete: %d (%v)", len(left), err)
	}

	// Usage: one transcode_seconds event per rung and one stored_bytes.
	var n int64
	err := s.App.DB().System(context.Background(), func(tx *db.Tx) error {
		return tx.Table("usage_events").Where("tenant_id = ?", acct.TenantID).Count(&n).Error
	})
	if err != nil || n != 4 {
		t.Fatalf("usage events: %d (%v), want 4", n, err)
	}
}

// TestWorkerKilledMidTranscode: a worker process is killed with SIGKILL
// while it transcodes; the job's lease runs out, another worker takes it
// and the asset becomes ready once, with usage counted once.
func TestWorkerKilledMidTranscode(t *testing.T) {
	bin := buildBinary(t)
	s := cptest.Start(t, cptest.Options{Postgres: true, RelayInterval: 100 * time.Millisecond})
	dir := t.TempDir()
	clip(t, dir, "long.mp4", "1280x720", 20)
	media := mediaServer(t, dir)
	acct := s.Signup(t, "Crash Films")

	// The doomed worker is a separate process, as in production.
	cmd := exec.Command(bin, "worker", "--controlplane", s.URL, "--node-key", s.App.NodeKey(),
		"--redis-url", "redis://"+s.App.RedisAddr(), "--objects-dir", filepath.Join(s.DataDir, "objects"), "--name", "doomed", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "MARQUEE_INGEST_ALLOW_CIDRS=127.0.0.0/8")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })

	id := s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/assets", Token: acct.Token, Body: map[string]string{"input": media + "/long.mp4"}}).Str(t, "id")
	// Kill it (and its ffmpeg) once it is transcoding.
	deadline := time.Now().Add(time.Minute)
	for {
		a := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/assets/" + id, Token: acct.Token}).JSON(t)
		if a["status"] == "processing" && a["progress"].(float64) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first worker never started transcoding: %v", a)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	// Let its lease lapse sooner than in production, then a second worker.
	err := s.App.DB().System(context.Background(), func(tx *db.Tx) error {
		return tx.Exec("UPDATE jobs SET lease_until = ? WHERE asset_id = ?", time.Now().Add(-time.Second), id).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	startWorker(t, s, "survivor")
	a := waitStatus(t, s, acct.Token, id, 3*time.Minute, "ready", "errored")
	if a["status"] != "ready" {
		t.Fatalf("after the crash: %v", a)
	}
	var attempts int
	var usage int64
	err = s.App.DB().System(context.Background(), func(tx *db.Tx) error {
		if err := tx.Raw("SELECT attempts FROM jobs WHERE asset_id = ?", id).Row().Scan(&attempts); err != nil {
			return err
		}
		return tx.Table("usage_events").Where("tenant_id = ? AND meter = 'transcode_seconds'", acct.TenantID).Count(&usage).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	if attempts != 2 || usage != 4 {
		t.Fatalf("attempts %d (want 2), transcode usage events %d (want 4, one per rung, once)", attempts, usage)
	}
	// The published prefix is the survivor's attempt; the dead attempt's
	// partial files are not what playback serves.
	if code, _ := get(t, s.URL+"/stream/"+id+"/master.m3u8"); code != 200 {
		t.Fatalf("master after the crash: %d", code)
	}
}

func buildBinary(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "marquee")
	cmd := exec.Command("go", "build", "-o", out, "github.com/marquee-video/marquee/cmd/marquee")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, b)
	}
	return out
}

// TestRedisFlushedMidRun: Redis loses every queued task; the relay finds
// the job's queued lease ended, enqueues it again from the outbox, and the
// asset still becomes ready.
func TestRedisFlushedMidRun(t *testing.T) {
	s := cptest.Start(t, cptest.Options{Postgres: true, RelayInterval: 100 * time.Millisecond})
	dir := t.TempDir()
	clip(t, dir, "clip.mp4", "320x180", 3)
	media := mediaServer(t, dir)
	acct := s.Signup(t, "Flush Films")
	id := s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/assets", Token: acct.Token, Body: map[string]string{"input": media + "/clip.mp4"}}).Str(t, "id")

	state := func() string {
		var st string
		_ = s.App.DB().System(context.Background(), func(tx *db.Tx) error {
			return tx.Raw("SELECT state FROM jobs WHERE asset_id = ?", id).Row().Scan(&st)
		})
		return st
	}
	deadline := time.Now().Add(30 * time.Second)
	for state() != "queued" {
		if time.Now().After(deadline) {
			t.Fatalf("job never queued: %s", state())
		}
		time.Sleep(50 * time.Millisecond)
	}
	rc := redis.NewClient(&redis.Options{Addr: s.App.RedisAddr()})
	if err := rc.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	_ = rc.Close()
	// The queued lease is minutes in production; end it now.
	if err := s.App.DB().System(context.Background(), func(tx *db.Tx) error {
		return tx.Exec("UPDATE jobs SET lease_until = ? WHERE asset_id = ?", time.Now().Add(-time.Second), id).Error
	}); err != nil {
		t.Fatal(err)
	}
	startWorker(t, s, "after-flush")
	if a := waitStatus(t, s, acct.Token, id, 2*time.Minute, "ready", "errored"); a["status"] != "ready" {
		t.Fatalf("after the flush: %v", a)
	}
	var generation int
	_ = s.App.DB().System(context.Background(), func(tx *db.Tx) error {
		return tx.Raw("SELECT generation FROM jobs WHERE asset_id = ?", id).Row().Scan(&generation)
	})
	if generation != 1 {
		t.Fatalf("generation %d, want 1: the job was enqueued again once", generation)
	}
}

// TestEncodingProfileAndProgressEvents: a tenant's own ladder is what its
// new assets get, and the asset's server-sent events report progress until
// ready, then the stream ends.
func TestEncodingProfileAndProgressEvents(t *testing.T) {
	s := cptest.Start(t, cptest.Options{RelayInterval: 100 * time.Millisecond})
	startWorker(t, s, "w1")
	dir := t.TempDir()
	clip(t, dir, "clip.mp4", "640x360", 4)
	media := mediaServer(t, dir)
	acct := s.Signup(t, "Profile Films")

	bad := s.Do(t, cptest.Request{Method: "PUT", Path: "/v1/encoding-profile", Token: acct.Token, Body: map[string]any{"ladder": []map[string]any{{"name": "x", "height": 361, "video_bitrate": 500000, "codec": "h264"}}}})
	if bad.Status != 400 || bad.Str(t, "field") != "ladder[0].height" {
		t.Fatalf("odd height: %d %s", bad.Status, bad.Body)
	}
	if p := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/encoding-profile", Token: acct.Token}).JSON(t); p["default"] != true {
		t.Fatalf("profile before setting one: %v", p)
	}
	s.Must(t, 200, cptest.Request{Method: "PUT", Path: "/v1/encoding-profile", Token: acct.Token, Body: map[string]any{"ladder": []map[string]any{
		{"name": "small", "height": 288, "video_bitrate": 600000, "codec": "h264"},
		{"name": "tiny", "height": 144, "video_bitrate": 200000, "codec": "h264"},
	}}})
	id := s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/assets", Token: acct.Token, Body: map[string]string{"input": media + "/clip.mp4"}}).Str(t, "id")

	req, _ := http.NewRequest("GET", s.URL+"/v1/assets/"+id+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+acct.Token)
	res, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(res.Body) // ends when the asset is ready
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	var last map[string]any
	for _, line := range strings.Split(string(body), "\n") {
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			last = nil
			if err := json.Unmarshal([]byte(data), &last); err != nil {
				t.Fatalf("event data: %v: %s", err, data)
			}
			statuses = append(statuses, last["status"].(string))
		}
	}
	if len(statuses) < 2 || statuses[len(statuses)-1] != "ready" {
		t.Fatalf("event statuses %v, want a progression ending in ready", statuses)
	}
	var names []string
	for _, r := range last["renditions"].([]any) {
		names = append(names, r.(map[string]any)["name"].(string))
	}
	if fmt.Sprint(names) != "[small tiny]" {
		t.Fatalf("renditions %v, want the tenant's profile [small tiny]", names)
	}
}
