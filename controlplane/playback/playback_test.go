package playback

import (
	"strings"
	"testing"
	"time"

	"github.com/marquee-video/marquee/internal/errs"
)

func TestAccessValidate(t *testing.T) {
	cases := []struct {
		name  string
		in    Access
		field string
		want  Access
	}{
		{"defaults to free", Access{}, "", Access{Model: ModelFree}},
		{"svod needs a tier", Access{Model: ModelSVOD}, "access.tier", Access{}},
		{"tier only with svod", Access{Model: ModelAVOD, Tier: "gold"}, "access.tier", Access{}},
		{"unknown model", Access{Model: "barter"}, "access.model", Access{}},
		{"unknown rating", Access{Rating: "X"}, "access.rating", Access{}},
		{"bad country", Access{DenyCountries: []string{"FRA"}}, "access.deny_countries", Access{}},
		{"countries upper-cased, sorted, deduplicated", Access{AllowCountries: []string{"us", "DE", "US"}}, "", Access{Model: ModelFree, AllowCountries: []string{"DE", "US"}}},
		{"svod tier", Access{Model: ModelSVOD, Tier: "gold-4k", Rating: "PG-13"}, "", Access{Model: ModelSVOD, Tier: "gold-4k", Rating: "PG-13"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.in
			err := a.Validate()
			if tc.field != "" {
				if e := errs.As(err); e == nil || e.Field != tc.field || e.Kind != errs.Invalid {
					t.Fatalf("err %v, want invalid %s", err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Model != tc.want.Model || a.Tier != tc.want.Tier || strings.Join(a.AllowCountries, ",") != strings.Join(tc.want.AllowCountries, ",") {
				t.Fatalf("got %+v, want %+v", a, tc.want)
			}
		})
	}
}

func TestEntitlementActive(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	cases := []struct {
		name string
		e    Entitlement
		want bool
	}{
		{"open subscription", Entitlement{Kind: KindSVOD}, true},
		{"expired subscription", Entitlement{Kind: KindSVOD, ExpiresAt: at(-time.Second)}, false},
		{"expiring exactly now", Entitlement{Kind: KindSVOD, ExpiresAt: at(0)}, false},
		{"revoked", Entitlement{Kind: KindPurchase, RevokedAt: at(-time.Hour)}, false},
		{"rental never played", Entitlement{Kind: KindRental, Window: 48 * time.Hour}, true},
		{"rental within its window", Entitlement{Kind: KindRental, Window: 48 * time.Hour, FirstPlayAt: at(-47 * time.Hour)}, true},
		{"rental past its window", Entitlement{Kind: KindRental, Window: 48 * time.Hour, FirstPlayAt: at(-48 * time.Hour)}, false},
	}
	for _, tc := range cases {
		if got := tc.e.Active(now); got != tc.want {
			t.Errorf("%s: Active = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRatingAgesCompareAcrossSystems(t *testing.T) {
	for _, tc := range []struct{ a, b string }{{"G", "PG"}, {"PG", "PG-13"}, {"PG-13", "R"}, {"TV-Y7", "TV-14"}, {"PEGI 12", "PEGI 16"}, {"TV-PG", "PEGI 12"}} {
		a, okA := RatingAge(tc.a)
		b, okB := RatingAge(tc.b)
		if !okA || !okB || a >= b {
			t.Errorf("%s (%d) should be for younger viewers than %s (%d)", tc.a, a, tc.b, b)
		}
	}
}

func TestPathTokens(t *testing.T) {
	exp := time.Unix(1795600000, 0)
	base := pathTokenBase("https://edge.example.com/", ProviderNginx, "s3cret-0123456789", exp, "ast_1")
	if !strings.HasPrefix(base, "https://edge.example.com/t/") || !strings.HasSuffix(base, "/1795600000/a/ast_1/") {
		t.Fatalf("base %s", base)
	}
	sig := strings.Split(strings.TrimPrefix(base, "https://edge.example.com/t/"), "/")[0]
	if len(sig) != 22 { // base64url MD5, as nginx secure_link wants it
		t.Fatalf("nginx signature %q", sig)
	}
	for _, tc := range []struct {
		name                 string
		provider, secret, id string
		exp                  int64
		want                 bool
	}{
		{"the same", ProviderNginx, "s3cret-0123456789", "ast_1", 1795600000, true},
		{"another secret", ProviderNginx, "other-0123456789", "ast_1", 1795600000, false},
		{"another asset", ProviderNginx, "s3cret-0123456789", "ast_2", 1795600000, false},
		{"another expiry", ProviderNginx, "s3cret-0123456789", "ast_1", 1795600001, false},
		{"another scheme", ProviderGeneric, "s3cret-0123456789", "ast_1", 1795600000, false},
	} {
		if got := checkPathSig(tc.provider, tc.secret, sig, tc.exp, tc.id); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
