package objects_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/objects"
	"github.com/marquee-video/marquee/internal/objects/objectstest"
)

// backend is one Store implementation under the contract.
type backend struct {
	name string
	open func(t *testing.T) objects.Store
	// recordsType: the store keeps the content type given to Put (Local
	// guesses it from the extension).
	recordsType bool
	// manyKeys is the object count for the pagination case: past S3's
	// 1000-key page by default, fewer where the page size is small.
	manyKeys int
}

func backends() []backend {
	return []backend{
		{name: "local", manyKeys: 1100, open: func(t *testing.T) objects.Store {
			l, err := objects.NewLocal(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return l
		}},
		{name: "s3", recordsType: true, manyKeys: 1100, open: func(t *testing.T) objects.Store {
			return objectstest.NewS3(t, objectstest.StartS3(t))
		}},
		{name: "s3-prefixed-small-pages", recordsType: true, manyKeys: 50, open: func(t *testing.T) objects.Store {
			cfg := objectstest.StartS3(t)
			cfg.Prefix = "deploy-1"
			cfg.ListPageSize = 7
			return objectstest.NewS3(t, cfg)
		}},
	}
}

// TestStoreContract runs the same behaviour checks against every Store.
func TestStoreContract(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range contract {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.run(t, b, b.open(t))
				})
			}
		})
	}
}

var contract = []struct {
	name string
	run  func(t *testing.T, b backend, s objects.Store)
}{
	{"round trip", func(t *testing.T, _ backend, s objects.Store) {
		ctx := context.Background()
		put(t, s, "tenants/a/assets/1/source.mp4", "hello video")
		if got := get(t, s, "tenants/a/assets/1/source.mp4"); got != "hello video" {
			t.Fatalf("Get = %q", got)
		}
		// Unknown size, and a body that cannot seek.
		body := io.MultiReader(strings.NewReader("streamed "), strings.NewReader("bytes"))
		if err := s.Put(ctx, "tenants/a/stream.bin", body, -1, ""); err != nil {
			t.Fatal(err)
		}
		if got := get(t, s, "tenants/a/stream.bin"); got != "streamed bytes" {
			t.Fatalf("Get = %q", got)
		}
		body = io.MultiReader(strings.NewReader("known "), strings.NewReader("size"))
		if err := s.Put(ctx, "tenants/a/known.bin", body, 10, ""); err != nil {
			t.Fatal(err)
		}
		if got := get(t, s, "tenants/a/known.bin"); got != "known size" {
			t.Fatalf("Get = %q", got)
		}
		if err := s.Put(ctx, "tenants/a/empty", bytes.NewReader(nil), 0, ""); err != nil {
			t.Fatal(err)
		}
		if got := get(t, s, "tenants/a/empty"); got != "" {
			t.Fatalf("Get = %q", got)
		}
	}},
	{"size mismatch is an error", func(t *testing.T, _ backend, s objects.Store) {
		err := s.Put(context.Background(), "tenants/a/short", io.MultiReader(strings.NewReader("abc")), 10, "")
		if err == nil {
			t.Fatal("Put of 3 bytes declared as 10 succeeded")
		}
		if _, err := s.Stat(context.Background(), "tenants/a/short"); errs.KindOf(err) != errs.NotFound {
			t.Fatalf("failed Put left an object behind: %v", err)
		}
	}},
	{"overwrite", func(t *testing.T, _ backend, s objects.Store) {
		put(t, s, "tenants/a/logo.png", "first version")
		put(t, s, "tenants/a/logo.png", "v2")
		if got := get(t, s, "tenants/a/logo.png"); got != "v2" {
			t.Fatalf("Get = %q", got)
		}
		info, err := s.Stat(context.Background(), "tenants/a/logo.png")
		if err != nil || info.Size != 2 {
			t.Fatalf("Stat = %+v, %v", info, err)
		}
	}},
	{"stat", func(t *testing.T, b backend, s objects.Store) {
		before := time.Now().Add(-2 * time.Second)
		if err := s.Put(context.Background(), "tenants/a/manifest.json", strings.NewReader(`{}`), 2, "application/json"); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(context.Background(), "tenants/a/master.m3u8", strings.NewReader("#EXTM3U\n"), 8, "application/vnd.apple.mpegurl"); err != nil {
			t.Fatal(err)
		}
		info, err := s.Stat(context.Background(), "tenants/a/manifest.json")
		if err != nil {
			t.Fatal(err)
		}
		if info.Key != "tenants/a/manifest.json" || info.Size != 2 || info.ContentType != "application/json" {
			t.Fatalf("Stat = %+v", info)
		}
		if info.ModTime.Before(before) || info.ModTime.After(time.Now().Add(2*time.Second)) {
			t.Fatalf("ModTime %v is not now", info.ModTime)
		}
		if b.recordsType {
			info, err := s.Stat(context.Background(), "tenants/a/master.m3u8")
			if err != nil || info.ContentType != "application/vnd.apple.mpegurl" {
				t.Fatalf("Stat = %+v, %v", info, err)
			}
		}
	}},
	{"not found", func(t *testing.T, _ backend, s objects.Store) {
		ctx := context.Background()
		put(t, s, "tenants/a/x.mp4", "x")
		if _, err := s.Get(ctx, "tenants/a/missing"); errs.KindOf(err) != errs.NotFound {
			t.Errorf("Get(missing) = %v, want NotFound", err)
		}
		// A folder of objects, and a key under an object, are not objects.
		for _, key := range []string{"tenants/a/missing", "tenants/a", "tenants/a/x.mp4/child"} {
			if _, err := s.Stat(ctx, key); errs.KindOf(err) != errs.NotFound {
				t.Errorf("Stat(%q) = %v, want NotFound", key, err)
			}
			if _, err := s.Get(ctx, key); errs.KindOf(err) != errs.NotFound {
				t.Errorf("Get(%q) = %v, want NotFound", key, err)
			}
		}
	}},
	{"delete", func(t *testing.T, _ backend, s objects.Store) {
		ctx := context.Background()
		put(t, s, "tenants/a/gone", "bye")
		if err := s.Delete(ctx, "tenants/a/gone"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "tenants/a/gone"); errs.KindOf(err) != errs.NotFound {
			t.Fatalf("Get after Delete = %v", err)
		}
		if err := s.Delete(ctx, "tenants/a/gone"); err != nil {
			t.Fatalf("second Delete = %v", err)
		}
		if err := s.Delete(ctx, "tenants/never/was"); err != nil {
			t.Fatalf("Delete of a missing object = %v", err)
		}
	}},
	{"list with prefix", func(t *testing.T, _ backend, s objects.Store) {
		ctx := context.Background()
		keys := []string{
			"tenants/a/assets/1/source.mp4", "tenants/a/assets/1/hls/master.m3u8",
			"tenants/a/assets/2/source.mp4", "tenants/a.txt", "tenants/a/logo.png",
			"tenants/ab/logo.png", "tenants/b/assets/1/source.mp4", "other/x",
		}
		for _, k := range keys {
			put(t, s, k, k)
		}
		want := []string{
			"tenants/a/assets/1/hls/master.m3u8", "tenants/a/assets/1/source.mp4",
			"tenants/a/assets/2/source.mp4", "tenants/a/logo.png",
		}
		if got := list(t, s, "tenants/a/"); !slices.Equal(got, want) {
			t.Fatalf("List(tenants/a/) = %q, want %q", got, want)
		}
		if got := list(t, s, "tenants/a/assets/1/s"); !slices.Equal(got, []string{"tenants/a/assets/1/source.mp4"}) {
			t.Fatalf("List(partial name) = %q", got)
		}
		// A plain string prefix, as S3 has it: "tenants/a" also covers a.txt and ab/.
		wantLoose := append([]string{"tenants/a.txt"}, want...)
		wantLoose = append(wantLoose, "tenants/ab/logo.png")
		if got := list(t, s, "tenants/a"); !slices.Equal(got, wantLoose) {
			t.Fatalf("List(tenants/a) = %q, want %q", got, wantLoose)
		}
		all := slices.Clone(keys)
		slices.Sort(all)
		if got := list(t, s, ""); !slices.Equal(got, all) {
			t.Fatalf("List(\"\") = %q, want %q", got, all)
		}
		if got := list(t, s, "nobody/"); len(got) != 0 {
			t.Fatalf("List(nobody/) = %q", got)
		}
		infos, err := s.List(ctx, "tenants/ab/")
		if err != nil || len(infos) != 1 || infos[0].Size != int64(len("tenants/ab/logo.png")) || infos[0].ModTime.IsZero() {
			t.Fatalf("List(tenants/ab/) = %+v, %v", infos, err)
		}
	}},
	{"list and delete past one page", func(t *testing.T, b backend, s objects.Store) {
		n := b.manyKeys
		want := make([]string, n)
		for i := range want {
			want[i] = fmt.Sprintf("tenants/a/segments/%05d.m4s", i)
		}
		putAll(t, s, want)
		put(t, s, "tenants/b/segments/00000.m4s", "b")
		if got := list(t, s, "tenants/a/"); !slices.Equal(got, want) {
			t.Fatalf("List returned %d keys, want %d (first %q)", len(got), n, first(got))
		}
		removed, err := s.DeletePrefix(context.Background(), "tenants/a/")
		if err != nil || removed != n {
			t.Fatalf("DeletePrefix = %d, %v; want %d", removed, err, n)
		}
		if got := list(t, s, ""); !slices.Equal(got, []string{"tenants/b/segments/00000.m4s"}) {
			t.Fatalf("after DeletePrefix: %q", got)
		}
	}},
	{"delete prefix", func(t *testing.T, _ backend, s objects.Store) {
		ctx := context.Background()
		for _, k := range []string{
			"tenants/1/assets/9/a", "tenants/1/assets/9/hls/b", "tenants/1/assets/10/a",
			"tenants/10/assets/9/a", "tenants/1/assets/9x",
		} {
			put(t, s, k, "x")
		}
		n, err := s.DeletePrefix(ctx, "tenants/1/assets/9/")
		if err != nil || n != 2 {
			t.Fatalf("DeletePrefix = %d, %v; want 2", n, err)
		}
		want := []string{"tenants/1/assets/10/a", "tenants/1/assets/9x", "tenants/10/assets/9/a"}
		if got := list(t, s, ""); !slices.Equal(got, want) {
			t.Fatalf("left %q, want %q", got, want)
		}
		if n, err := s.DeletePrefix(ctx, "tenants/1/"); err != nil || n != 2 {
			t.Fatalf("DeletePrefix(tenants/1/) = %d, %v", n, err)
		}
		if got := list(t, s, ""); !slices.Equal(got, []string{"tenants/10/assets/9/a"}) {
			t.Fatalf("tenant 1's delete touched tenant 10: %q", got)
		}
		if n, err := s.DeletePrefix(ctx, "tenants/nobody/"); err != nil || n != 0 {
			t.Fatalf("DeletePrefix of nothing = %d, %v", n, err)
		}
		// An object's key with "/" names no folder.
		if n, err := s.DeletePrefix(ctx, "tenants/10/assets/9/a/"); err != nil || n != 0 {
			t.Fatalf("DeletePrefix(object/) = %d, %v", n, err)
		}
		for _, bad := range []string{"", "tenants/10", "/", "../", "tenants//"} {
			if _, err := s.DeletePrefix(ctx, bad); errs.KindOf(err) != errs.Invalid {
				t.Errorf("DeletePrefix(%q) = %v, want Invalid", bad, err)
			}
		}
		if got := list(t, s, ""); len(got) != 1 {
			t.Fatalf("refused deletes removed something: %q", got)
		}
	}},
	{"invalid keys", func(t *testing.T, _ backend, s objects.Store) {
		ctx := context.Background()
		src := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(src, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"", "../x", "/abs", "a/../b", "a//b", "a/", "./a", ".", "..", `a\b`, "tenants/a/../../b"} {
			check := func(op string, err error) {
				t.Helper()
				if errs.KindOf(err) != errs.Invalid {
					t.Errorf("%s(%q) = %v, want Invalid", op, key, err)
				}
			}
			check("Put", s.Put(ctx, key, strings.NewReader("x"), 1, ""))
			_, err := s.Get(ctx, key)
			check("Get", err)
			check("Delete", s.Delete(ctx, key))
			_, err = s.Stat(ctx, key)
			check("Stat", err)
			check("PutFile", s.PutFile(ctx, key, src, ""))
		}
		for _, prefix := range []string{"../", "/abs", "a//", "a/../", `a\`, "./"} {
			if _, err := s.List(ctx, prefix); errs.KindOf(err) != errs.Invalid {
				t.Errorf("List(%q) = %v, want Invalid", prefix, err)
			}
		}
	}},
	{"put file", func(t *testing.T, _ backend, s objects.Store) {
		data := make([]byte, 5<<20)
		if _, err := rand.Read(data); err != nil {
			t.Fatal(err)
		}
		src := filepath.Join(t.TempDir(), "source.mp4")
		if err := os.WriteFile(src, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.PutFile(context.Background(), "tenants/a/assets/1/source.mp4", src, "video/mp4"); err != nil {
			t.Fatal(err)
		}
		r, err := s.Get(context.Background(), "tenants/a/assets/1/source.mp4")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		h := sha256.New()
		n, err := io.Copy(h, r)
		if err != nil || n != int64(len(data)) || !bytes.Equal(h.Sum(nil), sha256Sum(data)) {
			t.Fatalf("read back %d bytes (%v), want %d identical", n, err, len(data))
		}
		info, err := s.Stat(context.Background(), "tenants/a/assets/1/source.mp4")
		if err != nil || info.Size != int64(len(data)) || info.ContentType != "video/mp4" {
			t.Fatalf("Stat = %+v, %v", info, err)
		}
		if err := s.PutFile(context.Background(), "tenants/a/x", filepath.Join(t.TempDir(), "missing"), ""); err == nil {
			t.Fatal("PutFile of a missing file succeeded")
		}
	}},
	{"tenant prefix isolation", func(t *testing.T, _ backend, s objects.Store) {
		var keys []string
		for _, tenant := range []string{"a", "b", "a-b", "aa"} {
			for i := range 5 {
				keys = append(keys, fmt.Sprintf("tenants/%s/assets/%d/source.mp4", tenant, i))
			}
		}
		putAll(t, s, keys)
		got := list(t, s, "tenants/a/")
		if len(got) != 5 {
			t.Fatalf("List(tenants/a/) = %q", got)
		}
		for _, k := range got {
			if !strings.HasPrefix(k, "tenants/a/") {
				t.Fatalf("List(tenants/a/) returned another tenant's key %q", k)
			}
		}
	}},
	{"cancelled context", func(t *testing.T, _ backend, s objects.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.Put(ctx, "tenants/a/x", strings.NewReader("x"), 1, ""); err == nil {
			t.Fatal("Put with a cancelled context succeeded")
		}
	}},
}

// TestS3Prefix checks that a configured Prefix is where the objects land and
// that it is invisible to the store's callers.
func TestS3Prefix(t *testing.T) {
	cfg := objectstest.StartS3(t)
	whole := objectstest.NewS3(t, cfg)
	cfg.Prefix = "deploy-1/"
	scoped := objectstest.NewS3(t, cfg)

	put(t, whole, "tenants/a/outside", "not ours")
	put(t, scoped, "tenants/a/inside", "ours")
	if got := list(t, whole, ""); !slices.Equal(got, []string{"deploy-1/tenants/a/inside", "tenants/a/outside"}) {
		t.Fatalf("bucket holds %q", got)
	}
	if got := list(t, scoped, ""); !slices.Equal(got, []string{"tenants/a/inside"}) {
		t.Fatalf("scoped store lists %q", got)
	}
	if _, err := scoped.Get(context.Background(), "tenants/a/outside"); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("scoped Get of an unprefixed key = %v", err)
	}
	if n, err := scoped.DeletePrefix(context.Background(), "tenants/"); err != nil || n != 1 {
		t.Fatalf("DeletePrefix = %d, %v", n, err)
	}
	if got := list(t, whole, ""); !slices.Equal(got, []string{"tenants/a/outside"}) {
		t.Fatalf("bucket holds %q", got)
	}
}

func TestNewS3Validates(t *testing.T) {
	for _, cfg := range []objects.S3Config{
		{},
		{Bucket: "b", Prefix: "../up"},
		{Bucket: "b", Prefix: "/abs"},
	} {
		if _, err := objects.NewS3(context.Background(), cfg); errs.KindOf(err) != errs.Invalid {
			t.Errorf("NewS3(%+v) = %v, want Invalid", cfg, err)
		}
	}
}

func TestS3Unavailable(t *testing.T) {
	cfg := objectstest.StartS3(t)
	cfg.Bucket = "no-such-bucket"
	s := objectstest.NewS3(t, cfg)
	// A missing bucket is a configuration fault, never "object not found".
	if _, err := s.Stat(context.Background(), "tenants/a/x"); err == nil {
		t.Fatal("Stat in a missing bucket succeeded")
	}
	if _, err := s.Get(context.Background(), "tenants/a/x"); err == nil || errs.KindOf(err) == errs.NotFound {
		t.Fatalf("Get in a missing bucket = %v, want a non-NotFound error", err)
	}
}

func put(t *testing.T, s objects.Store, key, body string) {
	t.Helper()
	if err := s.Put(context.Background(), key, strings.NewReader(body), int64(len(body)), ""); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

// putAll writes small objects from a few goroutines, as a packager would.
func putAll(t *testing.T, s objects.Store, keys []string) {
	t.Helper()
	var wg sync.WaitGroup
	errc := make(chan error, len(keys))
	work := make(chan string)
	for range 8 {
		wg.Go(func() {
			for k := range work {
				if err := s.Put(context.Background(), k, strings.NewReader(k), int64(len(k)), ""); err != nil {
					errc <- fmt.Errorf("Put(%q): %w", k, err)
				}
			}
		})
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
}

func get(t *testing.T, s objects.Store, key string) string {
	t.Helper()
	r, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return string(b)
}

func list(t *testing.T, s objects.Store, prefix string) []string {
	t.Helper()
	infos, err := s.List(context.Background(), prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	keys := make([]string, len(infos))
	for i, o := range infos {
		keys[i] = o.Key
	}
	return keys
}

func first(keys []string) string {
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}

func sha256Sum(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}
