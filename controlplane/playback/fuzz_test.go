package playback

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/marquee-video/marquee/dataplane/drm"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/wire"
)

// FuzzParseToken feeds arbitrary strings to the token parser: it never
// panics, refuses with a 403 and a token code, and accepts only tokens whose
// signature verifies with the tenant's key.
func FuzzParseToken(f *testing.F) {
	pub, priv, err := GenerateKeyPair(AlgES256)
	if err != nil {
		f.Fatal(err)
	}
	pk, err := parsePublicKey(AlgES256, pub)
	if err != nil {
		f.Fatal(err)
	}
	good, err := SignToken("sk_a", priv, Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "pb_x", Audience: jwt.ClaimStrings{"v"}, ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{good, "", "a.b.c", good + "x", strings.Replace(good, ".", "..", 1), "eyJhbGciOiJub25lIn0.e30.", strings.Repeat("A", 5000)} {
		f.Add(s)
	}
	keys := func(kid string) (verifyKey, error) {
		if kid != "sk_a" {
			return verifyKey{}, errs.NotFoundf("no key")
		}
		return verifyKey{tenantID: "ten_a", alg: AlgES256, pub: pk}, nil
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, vk, err := parseToken(raw, keys)
		if err != nil {
			e := errs.As(err)
			if e == nil || e.Kind != errs.Forbidden || !strings.HasPrefix(e.Code, "token_") {
				t.Fatalf("error %v is not a 403 token_* refusal", err)
			}
			return
		}
		if vk.tenantID != "ten_a" || c == nil {
			t.Fatalf("accepted %q without the tenant's key", raw)
		}
		// Only the token we signed (or an encoding of it that jwt accepts)
		// verifies: its claims are ours.
		if c.Subject != "pb_x" {
			t.Fatalf("accepted claims %+v", c)
		}
	})
}

// FuzzManifestRewrite feeds arbitrary packaged MPDs and indexes to the
// DASH and HLS renderers: they never panic, and a rendered MPD keeps the
// packaged content after the inserted BaseURLs.
func FuzzManifestRewrite(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0"?><MPD type="static"><Period><AdaptationSet><Representation id="720p" height="720"></Representation><Representation id="360p" height="360"></Representation></AdaptationSet></Period></MPD>`), "360p", `{"tracks":[{"id":"360p","kind":"video","height":360,"playlist":"360p/playlist.m3u8"}]}`)
	f.Add([]byte(`<MPD>`+`<dashif:Laurl>`+LicenseURLMarker+`</dashif:Laurl>`), "", `{}`)
	f.Add([]byte(`no mpd here`), "abc", `[`)
	f.Fuzz(func(t *testing.T, mpd []byte, maxRes, index string) {
		s := fuzzService(t)
		pkg := &packageView{}
		pkg.asset.ID, pkg.asset.TenantID, pkg.asset.Protected = "ast_x", "ten_a", true
		if err := jsonUnmarshal([]byte(index), &pkg.index); err != nil {
			pkg.index = wire.PackageIndex{}
		}
		open := bytes.Index(mpd, []byte("<MPD"))
		if open < 0 {
			return // packageOf refuses such a package
		}
		end := bytes.IndexByte(mpd[open:], '>')
		if end < 0 {
			return
		}
		end += open + 1
		pkg.mpdHead, pkg.mpdRest = mpd[:end], mpd[end:]
		pkg.mpdRestNoLicense = laurlRE.ReplaceAll(pkg.mpdRest, nil)
		sess := &Session{PB: PlaybackID{ID: "pb_x", TenantID: "ten_a", AssetID: "ast_x", Policy: PolicyDRM}, Claims: &Claims{MaxResolution: maxRes}, pkg: pkg, token: "t"}
		if _, err := sess.Claims.MaxHeight(); err != nil {
			sess.Claims.MaxResolution = ""
		}
		var buf bytes.Buffer
		if err := s.DASH(t.Context(), sess, "eu", "", &buf); err != nil {
			t.Fatal(err)
		}
		out := buf.Bytes()
		if !bytes.HasPrefix(out, pkg.mpdHead) || !bytes.Contains(out, []byte("<BaseURL")) {
			t.Fatalf("rendered MPD lost its head or BaseURL")
		}
		if err := s.HLS(t.Context(), sess, "eu", new(bytes.Buffer)); err != nil {
			t.Fatal(err)
		}
	})
}

func fuzzService(t *testing.T) *Service {
	t.Helper()
	ring, err := drm.ParseKeyRing("k1:" + strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{cfg: Config{Keys: ring, OriginSecret: bytes.Repeat([]byte{1}, 32), PublicURL: "https://cp.example.com", Now: time.Now}}
	s.health = map[string]*tenantHealth{}
	s.cdns = newCDNCache()
	s.pws = expirable.NewLRU[string, *tenantPathways](16, nil, cacheTTL)
	s.bases = expirable.NewLRU[baseKey, string](16, nil, cacheTTL)
	s.cdns.Add("ten_a", []CDN{
		{ID: "cdn_a", TenantID: "ten_a", Provider: ProviderNginx, BaseURL: "https://a.example.com", Secret: "0123456789abcdef", Weight: 1},
		{ID: "cdn_b", TenantID: "ten_a", Provider: ProviderGeneric, BaseURL: "https://b.example.com", Secret: "0123456789abcdef", Weight: 2},
	})
	return s
}
