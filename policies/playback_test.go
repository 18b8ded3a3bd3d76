package policies

import (
	"context"
	_ "embed"
	"testing"
)

//go:embed playback_test.rego
var playbackTestModule string

func TestPlaybackRego(t *testing.T) {
	runRegoTests(t, map[string]string{
		playbackModuleFile:            playbackModule,
		"policies/playback_test.rego": playbackTestModule,
	}, 15)
}

func newPlaybackPolicy(tb testing.TB) *PlaybackPolicy {
	tb.Helper()
	p, err := NewPlaybackPolicy(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestPlaybackDecide(t *testing.T) {
	p := newPlaybackPolicy(t)
	free := PlaybackRequest{Model: "free", RatingAge: -1, ProfileAgeLimit: -1}
	cases := []struct {
		name  string
		req   func(PlaybackRequest) PlaybackRequest
		allow bool
		code  string
		ads   bool
	}{
		{"free", func(r PlaybackRequest) PlaybackRequest { return r }, true, "", false},
		{"avod", func(r PlaybackRequest) PlaybackRequest { r.Model = "avod"; return r }, true, "", true},
		{"geo allow unknown", func(r PlaybackRequest) PlaybackRequest { r.AllowCountries = []string{"US"}; return r }, false, "geo_blocked", false},
		{"geo token deny", func(r PlaybackRequest) PlaybackRequest {
			r.TokenDenyCountries = []string{"DE"}
			r.Country = "DE"
			return r
		}, false, "geo_blocked", false},
		{"svod without tier", func(r PlaybackRequest) PlaybackRequest { r.Model, r.Tier = "svod", "gold"; return r }, false, "not_entitled", false},
		{"svod with tier", func(r PlaybackRequest) PlaybackRequest {
			r.Model, r.Tier, r.ViewerTiers = "svod", "gold", []string{"gold"}
			return r
		}, true, "", false},
		{"tvod expired", func(r PlaybackRequest) PlaybackRequest { r.Model, r.RentalExpired = "tvod", true; return r }, false, "not_entitled", false},
		{"rating", func(r PlaybackRequest) PlaybackRequest { r.RatingAge, r.ProfileAgeLimit = 18, 7; return r }, false, "rating_restricted", false},
		{"unknown model", func(r PlaybackRequest) PlaybackRequest { r.Model = "barter"; return r }, false, "invalid_request", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for range 2 { // the second answer comes from the memo
				d, err := p.Decide(context.Background(), tc.req(free))
				if err != nil {
					t.Fatal(err)
				}
				if d.Allow != tc.allow || d.Code != tc.code || d.Ads != tc.ads {
					t.Fatalf("got %+v, want allow=%v code=%q ads=%v", d, tc.allow, tc.code, tc.ads)
				}
			}
		})
	}
}

func BenchmarkPlaybackDecide(b *testing.B) {
	p := newPlaybackPolicy(b)
	req := PlaybackRequest{Model: "svod", Tier: "gold", ViewerTiers: []string{"gold"}, RatingAge: 13, ProfileAgeLimit: 17, Country: "US", DenyCountries: []string{"KP"}}
	b.Run("memo", func(b *testing.B) {
		for b.Loop() {
			if _, err := p.Decide(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("eval", func(b *testing.B) {
		for b.Loop() {
			if _, err := p.eval(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
