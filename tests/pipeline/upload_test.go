package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marquee-video/marquee/controlplane/cptest"
	"github.com/marquee-video/marquee/internal/db"
)

// tusRequest sends one tus request the way tus-js-client would: no API
// bearer, only the token in the URL.
func tusRequest(t *testing.T, method, u string, header map[string]string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func patchChunk(t *testing.T, u string, offset int64, chunk []byte) *http.Response {
	t.Helper()
	res, b := tusRequest(t, "PATCH", u, map[string]string{
		"Upload-Offset": strconv.FormatInt(offset, 10),
		"Content-Type":  "application/offset+octet-stream",
	}, chunk)
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("PATCH at %d: %d %s", offset, res.StatusCode, b)
	}
	if got := res.Header.Get("Upload-Offset"); got != strconv.FormatInt(offset+int64(len(chunk)), 10) {
		t.Fatalf("PATCH at %d: Upload-Offset %s, want %d", offset, got, offset+int64(len(chunk)))
	}
	return res
}

// interruptedPatch starts a PATCH of chunk and drops the connection half-way
// through its body, as a closed laptop lid would.
func interruptedPatch(t *testing.T, u string, offset int64, chunk []byte) {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", pu.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PATCH %s HTTP/1.1\r\nHost: %s\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: %d\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: %d\r\n\r\n",
		pu.RequestURI(), pu.Host, offset, len(chunk))
	if _, err := conn.Write(chunk[:len(chunk)/2]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
}

func headOffset(t *testing.T, u string) (offset, length int64) {
	t.Helper()
	res, b := tusRequest(t, "HEAD", u, nil, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("HEAD: %d %s", res.StatusCode, b)
	}
	offset, err1 := strconv.ParseInt(res.Header.Get("Upload-Offset"), 10, 64)
	length, err2 := strconv.ParseInt(res.Header.Get("Upload-Length"), 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("HEAD headers: %v", res.Header)
	}
	return offset, length
}

// TestResumableUpload: a direct upload through the tus endpoint, in three
// chunks of which the second is cut off and resumed from HEAD's offset,
// becomes an asset that a real worker makes ready; the upload says which
// asset it became, only to its own tenant.
func TestResumableUpload(t *testing.T) {
	s := cptest.Start(t, cptest.Options{Postgres: true, RelayInterval: 100 * time.Millisecond})
	startWorker(t, s, "w1")
	src := clip(t, t.TempDir(), "upload.mp4", "640x360", 4)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	// Fiber's body limit (1 MiB) bounds a chunk; the clip must fit 3 of them.
	if len(data) < 1000 || len(data) > 3<<20 {
		t.Fatalf("clip is %d bytes; want 1 kB to 3 MiB", len(data))
	}
	n := int64(len(data))
	acct := s.Signup(t, "Upload Films")

	created := s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/uploads", Token: acct.Token, Body: map[string]int64{"size": n}}).JSON(t)
	id, tusURL := created["id"].(string), created["url"].(string)
	if !strings.HasPrefix(id, "upl_") || !strings.HasPrefix(tusURL, s.URL+"/v1/uploads/tus/") || created["expires_at"] == nil {
		t.Fatalf("created upload: %v", created)
	}
	st := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/uploads/" + id, Token: acct.Token}).JSON(t)
	if st["status"] != "waiting" || st["offset"].(float64) != 0 {
		t.Fatalf("fresh upload: %v", st)
	}

	// tus creation.
	res, b := tusRequest(t, "POST", tusURL, map[string]string{"Upload-Length": strconv.FormatInt(n, 10), "Upload-Metadata": "filename dXBsb2FkLm1wNA=="}, nil)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("tus create: %d %s", res.StatusCode, b)
	}
	loc := res.Header.Get("Location")
	if loc != tusURL {
		t.Fatalf("Location %q, want the upload URL %q", loc, tusURL)
	}
	// A second creation of the same upload is refused.
	if res, b := tusRequest(t, "POST", tusURL, map[string]string{"Upload-Length": strconv.FormatInt(n, 10)}, nil); res.StatusCode != http.StatusConflict {
		t.Fatalf("second tus create: %d %s", res.StatusCode, b)
	}

	third := n / 3
	patchChunk(t, loc, 0, data[:third])
	interruptedPatch(t, loc, third, data[third:2*third])

	// Resume: ask where the server stands and go on from there.
	off, length := headOffset(t, loc)
	if length != n || off < third || off > 2*third {
		t.Fatalf("after the cut: offset %d length %d, want offset in [%d, %d] and length %d", off, length, third, 2*third, n)
	}
	st = s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/uploads/" + id, Token: acct.Token}).JSON(t)
	if st["status"] != "waiting" || int64(st["offset"].(float64)) != off || int64(st["size"].(float64)) != n {
		t.Fatalf("upload mid-way: %v", st)
	}
	patchChunk(t, loc, off, data[off:2*third])
	last := patchChunk(t, loc, 2*third, data[2*third:])
	assetID := last.Header.Get("Marquee-Asset-Id")
	if !strings.HasPrefix(assetID, "ast_") {
		t.Fatalf("final PATCH names no asset: %v", last.Header)
	}

	st = s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/uploads/" + id, Token: acct.Token}).JSON(t)
	if st["status"] != "asset_created" || st["asset_id"] != assetID || int64(st["offset"].(float64)) != n {
		t.Fatalf("finished upload: %v", st)
	}
	// The bytes are in object storage under the tenant; the partial file is gone.
	stored, err := s.App.Objects().Stat(context.Background(), "tenants/"+acct.TenantID+"/uploads/"+id)
	if err != nil || stored.Size != n {
		t.Fatalf("stored source: %+v %v", stored, err)
	}
	if _, err := os.Stat(s.DataDir + "/uploads/" + id); !os.IsNotExist(err) {
		t.Errorf("tus partial file still there: %v", err)
	}
	// Chunks after the end are refused.
	if res, _ := tusRequest(t, "HEAD", loc, nil, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("HEAD of a finished upload: %d, want 404", res.StatusCode)
	}

	a := waitStatus(t, s, acct.Token, assetID, 2*time.Minute, "ready", "errored")
	if a["status"] != "ready" || a["duration"].(float64) < 3.9 {
		t.Fatalf("asset: %v", a)
	}
	if code, master := get(t, s.URL+a["playback"].(map[string]any)["hls"].(string)); code != 200 || !strings.Contains(string(master), "#EXT-X-STREAM-INF") {
		t.Fatalf("HLS master: %d %s", code, master)
	}
	var usage int64
	err = s.App.DB().System(context.Background(), func(tx *db.Tx) error {
		return tx.Table("usage_events").Where("tenant_id = ? AND meter = 'stored_bytes'", acct.TenantID).Count(&usage).Error
	})
	if err != nil || usage != 1 {
		t.Fatalf("stored_bytes usage events: %d (%v), want 1", usage, err)
	}

	// Another tenant cannot see the upload.
	other := s.Signup(t, "Other Films")
	s.Must(t, 404, cptest.Request{Method: "GET", Path: "/v1/uploads/" + id, Token: other.Token})
	s.Must(t, 404, cptest.Request{Method: "GET", Path: "/v1/uploads/upl_nonsense", Token: acct.Token})
}

// TestUploadRefusals: forged tokens, sizes over the tenant's storage quota
// and over the hard maximum are refused before any byte is stored.
func TestUploadRefusals(t *testing.T) {
	s := cptest.Start(t, cptest.Options{UploadMaxBytes: 64 << 20})
	acct := s.Signup(t, "Tight Films")
	tusURL := s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/uploads", Token: acct.Token}).Str(t, "url")

	// A bad token: tampered, truncated, another upload's id.
	for _, bad := range []string{
		tusURL[:len(tusURL)-2] + "xx",
		tusURL[:strings.LastIndex(tusURL, ".")],
		s.URL + "/v1/uploads/tus/garbage",
	} {
		for _, method := range []string{"POST", "PATCH", "HEAD"} {
			res, b := tusRequest(t, method, bad, map[string]string{"Upload-Length": "10", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}, nil)
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("%s with a bad token: %d %s, want 403", method, res.StatusCode, b)
			}
			if method != "HEAD" && !strings.Contains(string(b), `"upload_token_invalid"`) {
				t.Errorf("%s with a bad token: %s", method, b)
			}
		}
	}
	// An API bearer does not replace the token.
	res := s.Do(t, cptest.Request{Method: "PATCH", Path: "/v1/uploads/tus/garbage", Token: acct.Token, Body: []byte("x"), ContentType: "application/offset+octet-stream"})
	if res.Status != http.StatusForbidden {
		t.Errorf("PATCH with a bearer and no token: %d", res.Status)
	}

	// Over the hard maximum.
	res2, b := tusRequest(t, "POST", tusURL, map[string]string{"Upload-Length": strconv.Itoa(65 << 20)}, nil)
	if res2.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), `"upload_too_large"`) {
		t.Errorf("over the maximum: %d %s", res2.StatusCode, b)
	}
	s.Must(t, 413, cptest.Request{Method: "POST", Path: "/v1/uploads", Token: acct.Token, Body: map[string]int64{"size": 65 << 20}})

	// Over the storage quota, which the platform sets.
	ops, _ := s.PlatformOwner(t, "owner")
	s.Must(t, 200, cptest.Request{Method: "PUT", Path: "/v1/tenants/" + acct.TenantID + "/quotas", Token: ops, Body: map[string]int64{"storage_bytes": 1000}})
	res = s.Must(t, 403, cptest.Request{Method: "POST", Path: "/v1/uploads", Token: acct.Token, Body: map[string]int64{"size": 5000}})
	if res.Str(t, "code") != "quota_exceeded" {
		t.Errorf("declared size over quota: %s", res.Body)
	}
	res2, b = tusRequest(t, "POST", tusURL, map[string]string{"Upload-Length": "5000"}, nil)
	if res2.StatusCode != http.StatusForbidden || !strings.Contains(string(b), `"quota_exceeded"`) {
		t.Errorf("Upload-Length over quota: %d %s", res2.StatusCode, b)
	}
	// tusd honours X-HTTP-Method-Override; a POST "overridden" to POST is
	// still a creation and is still checked.
	res2, b = tusRequest(t, "POST", tusURL, map[string]string{"Upload-Length": "5000", "X-HTTP-Method-Override": "POST"}, nil)
	if res2.StatusCode != http.StatusForbidden || !strings.Contains(string(b), `"quota_exceeded"`) {
		t.Errorf("Upload-Length over quota behind a method override: %d %s", res2.StatusCode, b)
	}
	// Within quota it is accepted.
	res2, b = tusRequest(t, "POST", tusURL, map[string]string{"Upload-Length": "500"}, nil)
	if res2.StatusCode != http.StatusCreated {
		t.Errorf("Upload-Length within quota: %d %s", res2.StatusCode, b)
	}
}
