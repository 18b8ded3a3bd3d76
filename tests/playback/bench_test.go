package playback_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/marquee-video/marquee/controlplane/playback"
)

// BenchmarkManifest measures the manifest hot path in process (token from
// the verified-token cache, policy, two CDN pathways, steering, render),
// and the same through HTTP on loopback.
func BenchmarkManifest(b *testing.B) {
	f := newFixture(b)
	for _, n := range []string{"a", "b"} {
		f.api(b, 201, "POST", "/v1/cdns", map[string]any{"name": "edge " + n, "provider": "nginx", "base_url": "https://" + n + ".example.com", "secret": "bench-secret-0123456789"})
	}
	tok := f.token(b, claims(f.drmPB, "v"))
	svc := f.s.App.Playback()
	ctx := context.Background()
	b.Run("service", func(b *testing.B) {
		for b.Loop() {
			sess, err := svc.Authorize(ctx, playback.Request{PlaybackID: f.drmPB, Token: tok, Audience: playback.AudienceVideo})
			if err != nil {
				b.Fatal(err)
			}
			var buf bytes.Buffer
			if err := svc.DASH(ctx, sess, "", "", &buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("http", func(b *testing.B) {
		url := f.s.URL + "/play/" + f.drmPB + ".mpd?token=" + tok
		client := &http.Client{}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				res, err := client.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != 200 {
					b.Fatalf("status %d", res.StatusCode)
				}
			}
		})
	})
}
