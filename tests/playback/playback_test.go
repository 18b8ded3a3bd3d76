// Package playback_test checks playback protection end to end: a real
// control plane on PostgreSQL, a real worker packaging encrypted with
// ffmpeg and mp4ff, real nginx edges verifying our URL tokens, and real
// HTTP license servers behind the proxy.
package playback_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/marquee-video/marquee/controlplane/cptest"
	"github.com/marquee-video/marquee/controlplane/playback"
	"github.com/marquee-video/marquee/dataplane/cdn/cdntest"
	"github.com/marquee-video/marquee/dataplane/worker/workertest"
	"github.com/marquee-video/marquee/internal/mediatest"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

func waitReady(t testing.TB, s *cptest.Server, token, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		a := s.Must(t, 200, cptest.Request{Method: "GET", Path: "/v1/assets/" + id, Token: token}).JSON(t)
		switch a["status"] {
		case "ready":
			return a
		case "errored":
			t.Fatalf("asset %s errored: %v", id, a["error"])
		}
		if time.Now().After(deadline) {
			t.Fatalf("asset %s still %v", id, a["status"])
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type fixture struct {
	s                  *cptest.Server
	acct, other        cptest.Account
	drmAsset, clearAst string
	drmPB              string
	keyID, privPEM     string
	otherKID, otherPEM string
}

func (f *fixture) token(t testing.TB, c playback.Claims) string {
	t.Helper()
	if c.ExpiresAt == nil {
		c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(time.Hour))
	}
	tok, err := playback.SignToken(f.keyID, f.privPEM, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func claims(sub, aud string) playback.Claims {
	return playback.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: sub, Audience: jwt.ClaimStrings{aud}}}
}

func (f *fixture) get(t testing.TB, path string, header map[string]string) cptest.Response {
	t.Helper()
	return f.s.Do(t, cptest.Request{Method: "GET", Path: path, Header: header})
}

func (f *fixture) api(t testing.TB, want int, method, path string, body any) cptest.Response {
	t.Helper()
	return f.s.Must(t, want, cptest.Request{Method: method, Path: path, Token: f.acct.Token, Body: body})
}

func newFixture(t testing.TB) *fixture {
	s := cptest.Start(t, cptest.Options{Postgres: true, WebhookAllow: loopback, RelayInterval: 100 * time.Millisecond})
	workertest.Start(t, workertest.Config{ControlPlane: s.URL, NodeKey: s.App.NodeKey(), Redis: s.App.RedisOpt(), Objects: s.App.Objects(), Name: "w1", Concurrency: 2})
	dir := t.TempDir()
	mediatest.Clip(t, dir, "clip.mp4", "640x360", 8)
	media := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(media.Close)
	f := &fixture{s: s, acct: s.Signup(t, "Studio"), other: s.Signup(t, "Other")}
	drm := f.api(t, 201, "POST", "/v1/assets", map[string]any{"input": media.URL + "/clip.mp4", "playback_policy": "drm"}).JSON(t)
	f.drmAsset = drm["id"].(string)
	f.drmPB = drm["playback_ids"].([]any)[0].(map[string]any)["id"].(string)
	f.clearAst = f.api(t, 201, "POST", "/v1/assets", map[string]any{"input": media.URL + "/clip.mp4"}).Str(t, "id")
	k := f.api(t, 201, "POST", "/v1/signing-keys", map[string]string{"alg": "RS256"}).JSON(t)
	f.keyID, f.privPEM = k["id"].(string), k["private_key"].(string)
	ok := s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/signing-keys", Token: f.other.Token, Body: map[string]string{"alg": "ES256"}}).JSON(t)
	f.otherKID, f.otherPEM = ok["id"].(string), ok["private_key"].(string)
	a := waitReady(t, s, f.acct.Token, f.drmAsset)
	if a["protected"] != true || a["playback"] != nil {
		t.Fatalf("drm asset: protected %v, clear playback %v; want protected without /stream URLs", a["protected"], a["playback"])
	}
	waitReady(t, s, f.acct.Token, f.clearAst)
	return f
}

func TestPlaybackProtection(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg is not installed")
	}
	f := newFixture(t)
	t.Run("drm manifests", f.testDRMManifests)
	t.Run("token tampering", f.testTokenTampering)
	t.Run("geo and entitlements", f.testEntitlements)
	t.Run("clear key license", f.testClearKeyLicense)
	t.Run("CDN edges", f.testEdges)
	t.Run("query-token CDN", f.testQueryTokenCDN)
	t.Run("license proxy failover", f.testLicenseProxy)
	t.Run("usage reaches billing", f.testUsage)
}

// testUsage: the licenses issued and the bytes the origin served above are
// metered per tenant, system and CDN, once.
func (f *fixture) testUsage(t *testing.T) {
	for range 2 { // a second flush adds nothing
		if err := f.s.App.FlushUsage(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	byDims := func(meter string) map[string]float64 {
		r := f.api(t, 200, "GET", "/v1/usage?meter="+meter+"&group_by=dimensions", nil).JSON(t)
		out := map[string]float64{}
		for _, p := range r["data"].([]any) {
			m := p.(map[string]any)
			q, _ := strconv.ParseFloat(fmt.Sprint(m["quantity"]), 64)
			dims, _ := m["dimensions"].(map[string]any)
			k := ""
			for dk, dv := range dims {
				k += dk + "=" + fmt.Sprint(dv)
			}
			out[k] += q
		}
		return out
	}
	lic := byDims("drm_licenses")
	if lic["system=clearkey"] < 1 || lic["system=widevine"] != 2 {
		t.Errorf("drm_licenses by system: %v, want clearkey ≥ 1 and the 2 proxied widevine licenses", lic)
	}
	egress := byDims("egress_bytes")
	if egress["cdn=origin"] <= 0 {
		t.Errorf("egress_bytes by CDN: %v, want bytes served through the origin pathway", egress)
	}
}

var baseURLRE = regexp.MustCompile(`<BaseURL serviceLocation="([^"]+)">([^<]+)</BaseURL>`)

func (f *fixture) testDRMManifests(t *testing.T) {
	tok := f.token(t, claims(f.drmPB, "v"))
	// Without a license token the MPD names no license server (players
	// are configured with it); with one it names ours, with that token.
	if res := f.get(t, "/play/"+f.drmPB+".mpd?token="+tok, nil); res.Status != 200 || strings.Contains(string(res.Body), "Laurl") {
		t.Fatalf("mpd without license_token: %d %s", res.Status, res.Body)
	}
	lic := f.token(t, claims(f.drmPB, "l"))
	res := f.get(t, "/play/"+f.drmPB+".mpd?token="+tok+"&license_token="+lic, nil)
	if res.Status != 200 {
		t.Fatalf("mpd: %d %s", res.Status, res.Body)
	}
	mpd := string(res.Body)
	if !strings.Contains(mpd, "/license/clearkey/"+f.drmPB+"?token="+lic+"</dashif:Laurl>") {
		t.Errorf("the Laurl does not carry the license token:\n%s", mpd)
	}
	for _, want := range []string{
		`urn:mpeg:dash:mp4protection:2011`, `value="cenc"`, `urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e`,
		`urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed`, `urn:uuid:9a04f079-9840-4286-ab92-e65be0885f95`,
		`<ContentSteering`, `/license/clearkey/` + f.drmPB,
	} {
		if !strings.Contains(mpd, want) {
			t.Errorf("MPD lacks %q:\n%s", want, mpd)
		}
	}
	if strings.Contains(mpd, playback.LicenseURLMarker) {
		t.Errorf("MPD still has the license URL marker")
	}
	m := baseURLRE.FindStringSubmatch(mpd)
	if m == nil || !strings.Contains(m[2], "/a/"+f.drmAsset+"/cenc/") || m[1] != playback.OriginPathway {
		t.Fatalf("BaseURL %v, want the origin pathway on the cenc copy", m)
	}
	// The BaseURL's path token opens every object of the copy, and only it.
	base := strings.TrimPrefix(strings.ReplaceAll(m[2], "&amp;", "&"), f.s.URL)
	if r := f.get(t, base+"360p/init.mp4", nil); r.Status != 200 {
		var names []string
		t.Fatalf("init through the origin: %d %s %v", r.Status, r.Body, names)
	}
	if r := f.get(t, base+"360p/seg-1.m4s", map[string]string{"Range": "bytes=0-99"}); r.Status != 206 || len(r.Body) != 100 || !strings.HasPrefix(r.Header.Get("Content-Range"), "bytes 0-99/") {
		t.Errorf("range request: %d, %d bytes, %q", r.Status, len(r.Body), r.Header.Get("Content-Range"))
	}
	forged := strings.Replace(base, "/t/", "/t/A", 1)
	if r := f.get(t, forged+"360p/init.mp4", nil); r.Status != 403 || !strings.Contains(string(r.Body), "url_signature_invalid") {
		t.Errorf("forged origin token: %d %s", r.Status, r.Body)
	}
	other := strings.Replace(base, f.drmAsset, f.clearAst, 1)
	if r := f.get(t, other+"360p/init.mp4", nil); r.Status != 403 {
		t.Errorf("a token for one asset opened another: %d", r.Status)
	}

	res = f.get(t, "/play/"+f.drmPB+".m3u8?token="+tok, nil)
	if res.Status != 200 {
		t.Fatalf("m3u8: %d %s", res.Status, res.Body)
	}
	hls := string(res.Body)
	for _, want := range []string{"#EXT-X-CONTENT-STEERING:SERVER-URI=", `PATHWAY-ID="origin"`, "/a/" + f.drmAsset + "/cbcs/", "#EXT-X-STREAM-INF:"} {
		if !strings.Contains(hls, want) {
			t.Errorf("HLS lacks %q:\n%s", want, hls)
		}
	}
	// The cbcs media playlist carries FairPlay and Widevine keys.
	uri := regexp.MustCompile(`(?m)^(http\S+playlist\.m3u8)$`).FindString(hls)
	if r := f.get(t, strings.TrimPrefix(uri, f.s.URL), nil); r.Status != 200 || !strings.Contains(string(r.Body), `KEYFORMAT="com.apple.streamingkeydelivery"`) || !strings.Contains(string(r.Body), "SAMPLE-AES") {
		t.Errorf("cbcs media playlist %s: %d %s", uri, r.Status, r.Body)
	}
	// max_resolution drops renditions above it (the clip's ladder is 360p
	// and below, so ask for 240p).
	c := claims(f.drmPB, "v")
	c.MaxResolution = "240p"
	capped := f.get(t, "/play/"+f.drmPB+".m3u8?token="+f.token(t, c), nil)
	if capped.Status != 200 || strings.Contains(string(capped.Body), "x360") {
		t.Errorf("max_resolution 240p still lists 360p: %s", capped.Body)
	}
	// Steering answers a priority list.
	st := f.get(t, "/play/"+f.drmPB+"/steering.json?token="+tok, nil)
	var sj map[string]any
	if st.Status != 200 || json.Unmarshal(st.Body, &sj) != nil || sj["VERSION"] != float64(1) || len(sj["PATHWAY-PRIORITY"].([]any)) != 1 {
		t.Errorf("steering: %d %s", st.Status, st.Body)
	}
	// The encrypted copy is not reachable through the clear origin.
	if r := f.get(t, "/stream/"+f.drmAsset+"/cenc/manifest.mpd", nil); r.Status == 200 && !bytes.Contains(r.Body, []byte("cenc")) {
		t.Errorf("clear origin served the protected asset: %d", r.Status)
	}
	// The CPIX export carries the key for the vendor.
	cpix := f.api(t, 200, "GET", "/v1/assets/"+f.drmAsset+"/cpix", nil)
	if !bytes.Contains(cpix.Body, []byte("urn:dashif:org:cpix")) || !bytes.Contains(cpix.Body, []byte("PlainValue")) {
		t.Errorf("CPIX: %s", cpix.Body)
	}
}

func forge(header, claims map[string]any, sign func([]byte) []byte) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	in := enc(header) + "." + enc(claims)
	return in + "." + base64.RawURLEncoding.EncodeToString(sign([]byte(in)))
}

func (f *fixture) testTokenTampering(t *testing.T) {
	good := f.token(t, claims(f.drmPB, "v"))
	parts := strings.Split(good, ".")
	exp := time.Now().Add(time.Hour).Unix()
	payload := map[string]any{"sub": f.drmPB, "aud": "v", "exp": exp}
	// The public key, as an attacker would try it as an HMAC secret.
	var pub string
	for _, k := range f.api(t, 200, "GET", "/v1/signing-keys", nil).JSON(t)["data"].([]any) {
		if k.(map[string]any)["id"] == f.keyID {
			pub = k.(map[string]any)["public_key"].(string)
		}
	}
	hmacWith := func(key string) func([]byte) []byte {
		return func(b []byte) []byte {
			m := hmac.New(sha256.New, []byte(key))
			m.Write(b)
			return m.Sum(nil)
		}
	}
	otherPB := f.api(t, 201, "POST", "/v1/assets/"+f.drmAsset+"/playback-ids", map[string]string{"policy": "drm"}).Str(t, "id")
	expired := claims(f.drmPB, "v")
	expired.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Minute))
	otherTenant, err := playback.SignToken(f.otherKID, f.otherPEM, playback.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: f.drmPB, Audience: jwt.ClaimStrings{"v"}, ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}})
	if err != nil {
		t.Fatal(err)
	}
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"sub":%q,"aud":"v","exp":%d,"tier":"gold"}`, f.drmPB, exp))) + "." + parts[2]
	cases := []struct {
		name, token, code string
	}{
		{"missing", "", "token_missing"},
		{"garbage", "not.a.jwt", "token_invalid"},
		{"alg none", forge(map[string]any{"alg": "none", "kid": f.keyID}, payload, func([]byte) []byte { return nil }), "token_invalid"},
		{"HMAC with the public key", forge(map[string]any{"alg": "HS256", "kid": f.keyID}, payload, hmacWith(pub)), "token_invalid"},
		{"unknown key", forge(map[string]any{"alg": "RS256", "kid": "sk_01jxxxxxxxxxxxxxxxxxxxxxxx"}, payload, hmacWith("x")), "token_invalid"},
		{"payload changed", tampered, "token_invalid"},
		{"expired", f.token(t, expired), "token_expired"},
		{"audience thumbnail", f.token(t, claims(f.drmPB, "t")), "token_wrong_audience"},
		{"audience license", f.token(t, claims(f.drmPB, "l")), "token_wrong_audience"},
		{"another playback id", f.token(t, claims(otherPB, "v")), "token_wrong_playback_id"},
		{"another tenant's key", otherTenant, "token_wrong_tenant"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.get(t, "/play/"+f.drmPB+".mpd?token="+tc.token, nil)
			if r.Status != 403 || !strings.Contains(string(r.Body), `"code":"`+tc.code+`"`) || r.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%d %s, want 403 %s", r.Status, r.Body, tc.code)
			}
		})
	}
	// A revoked key stops verifying.
	k := f.api(t, 201, "POST", "/v1/signing-keys", map[string]string{"alg": "ES256"}).JSON(t)
	tok, err := playback.SignToken(k["id"].(string), k["private_key"].(string), playback.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: f.drmPB, Audience: jwt.ClaimStrings{"v"}, ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}})
	if err != nil {
		t.Fatal(err)
	}
	if r := f.get(t, "/play/"+f.drmPB+".mpd?token="+tok, nil); r.Status != 200 {
		t.Fatalf("fresh ES256 key: %d %s", r.Status, r.Body)
	}
	f.api(t, 204, "DELETE", "/v1/signing-keys/"+k["id"].(string), nil)
	if r := f.get(t, "/play/"+f.drmPB+".mpd?token="+tok, nil); r.Status != 403 {
		t.Errorf("revoked key still plays: %d", r.Status)
	}
	// A public playback id plays without a token; a signed one does not.
	pub2 := f.api(t, 201, "POST", "/v1/assets/"+f.clearAst+"/playback-ids", map[string]string{"policy": "public"}).Str(t, "id")
	if r := f.get(t, "/play/"+pub2+".m3u8", nil); r.Status != 200 {
		t.Errorf("public playback id: %d %s", r.Status, r.Body)
	}
	signed := f.api(t, 201, "POST", "/v1/assets/"+f.clearAst+"/playback-ids", map[string]string{"policy": "signed"}).Str(t, "id")
	if r := f.get(t, "/play/"+signed+".m3u8", nil); r.Status != 403 {
		t.Errorf("signed playback id without a token: %d", r.Status)
	}
	// drm playback ids need an encrypted asset.
	f.api(t, 409, "POST", "/v1/assets/"+f.clearAst+"/playback-ids", map[string]string{"policy": "drm"})
}

func (f *fixture) testEntitlements(t *testing.T) {
	mk := func(access map[string]any) string {
		return f.api(t, 201, "POST", "/v1/assets/"+f.drmAsset+"/playback-ids", map[string]any{"policy": "drm", "access": access}).Str(t, "id")
	}
	geo := mk(map[string]any{"deny_countries": []string{"fr"}})
	us := mk(map[string]any{"allow_countries": []string{"US"}})
	svod := mk(map[string]any{"model": "svod", "tier": "gold"})
	tvod := mk(map[string]any{"model": "tvod"})
	rated := mk(map[string]any{"rating": "R"})
	f.api(t, 201, "POST", "/v1/viewers", map[string]any{"id": "ann"})
	f.api(t, 200, "PUT", "/v1/viewers/ann/profiles/kid", map[string]any{"name": "Kid", "rating_limit": "PG", "pin": "4321"})
	f.api(t, 201, "POST", "/v1/viewers/ann/entitlements", map[string]any{"id": "sub_1", "kind": "svod", "tier": "gold"})
	past := time.Now().Add(-time.Hour)
	f.api(t, 201, "POST", "/v1/viewers/ann/entitlements", map[string]any{"id": "rent_old", "kind": "rental", "asset_id": f.drmAsset, "expires_at": past})
	f.api(t, 201, "POST", "/v1/viewers", map[string]any{"id": "bob"})
	f.api(t, 201, "POST", "/v1/viewers/bob/entitlements", map[string]any{"id": "rent_new", "kind": "rental", "asset_id": f.drmAsset, "window_hours": 48})

	tok := func(pb, viewer, profile string) string {
		c := claims(pb, "v")
		c.Viewer, c.Profile = viewer, profile
		return f.token(t, c)
	}
	cases := []struct {
		name, pb, viewer, profile, country string
		status                             int
		code                               string
	}{
		{"geo blocked", geo, "", "", "FR", 403, "geo_blocked"},
		{"geo elsewhere", geo, "", "", "DE", 200, ""},
		{"allow list, unknown country", us, "", "", "", 403, "geo_blocked"},
		{"allow list, US", us, "", "", "US", 200, ""},
		{"svod subscribed", svod, "ann", "", "", 200, ""},
		{"svod not subscribed", svod, "bob", "", "", 403, "not_entitled"},
		{"svod anonymous", svod, "", "", "", 403, "not_entitled"},
		{"expired rental", tvod, "ann", "", "", 403, "not_entitled"},
		{"fresh rental", tvod, "bob", "", "", 200, ""},
		{"over the profile's rating", rated, "ann", "kid", "", 403, "rating_restricted"},
		{"adult profile", rated, "ann", "", "", 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.country != "" {
				h["CF-IPCountry"] = tc.country
			}
			r := f.get(t, "/play/"+tc.pb+".mpd?token="+tok(tc.pb, tc.viewer, tc.profile), h)
			if r.Status != tc.status || (tc.code != "" && !strings.Contains(string(r.Body), `"code":"`+tc.code+`"`)) {
				t.Errorf("%d %s, want %d %s", r.Status, r.Body, tc.status, tc.code)
			}
		})
	}
	// The fresh rental's window started at its first play.
	v := f.api(t, 200, "GET", "/v1/viewers/bob", nil).JSON(t)
	if e := v["entitlements"].([]any)[0].(map[string]any); e["first_play_at"] == nil {
		t.Errorf("rental first play not stamped: %v", e)
	}
	// The PIN is checked against its hash and never shown.
	f.api(t, 204, "POST", "/v1/viewers/ann/profiles/kid/pin", map[string]string{"pin": "4321"})
	f.api(t, 403, "POST", "/v1/viewers/ann/profiles/kid/pin", map[string]string{"pin": "0000"})
	if strings.Contains(string(f.api(t, 200, "GET", "/v1/viewers/ann", nil).Body), "4321") {
		t.Error("the PIN shows in the viewer")
	}
}

func (f *fixture) testClearKeyLicense(t *testing.T) {
	// The init segment's default KID is what a player asks for.
	tok := f.token(t, claims(f.drmPB, "v"))
	mpd := string(f.get(t, "/play/"+f.drmPB+".mpd?token="+tok, nil).Body)
	base := strings.TrimPrefix(baseURLRE.FindStringSubmatch(mpd)[2], f.s.URL)
	initRes := f.get(t, base+"360p/init.mp4", nil)
	segRes := f.get(t, base+"360p/seg-1.m4s", nil)
	if initRes.Status != 200 || segRes.Status != 200 {
		t.Fatalf("init %d, segment %d", initRes.Status, segRes.Status)
	}
	init, err := mp4.DecodeFile(bytes.NewReader(initRes.Body))
	if err != nil {
		t.Fatal(err)
	}
	di, err := mp4.DecryptInit(init.Init)
	if err != nil {
		t.Fatal(err)
	}
	var kid []byte
	for _, tr := range di.TrackInfos {
		if tr.Sinf != nil && tr.Sinf.Schi != nil && tr.Sinf.Schi.Tenc != nil {
			kid = tr.Sinf.Schi.Tenc.DefaultKID
		}
	}
	if len(kid) != 16 {
		t.Fatalf("no default KID in the init segment")
	}
	body := fmt.Sprintf(`{"kids":[%q],"type":"temporary"}`, base64.RawURLEncoding.EncodeToString(kid))
	lic := func(token string) cptest.Response {
		return f.s.Do(t, cptest.Request{Method: "POST", Path: "/license/clearkey/" + f.drmPB + "?token=" + token, Body: body, ContentType: "application/json"})
	}
	if r := lic(tok); r.Status != 403 || !strings.Contains(string(r.Body), "token_wrong_audience") {
		t.Errorf("a video token opened the license endpoint: %d %s", r.Status, r.Body)
	}
	r := lic(f.token(t, claims(f.drmPB, "l")))
	if r.Status != 200 {
		t.Fatalf("license: %d %s", r.Status, r.Body)
	}
	var resp struct {
		Keys []struct{ Kty, Kid, K string }
	}
	if err := json.Unmarshal(r.Body, &resp); err != nil || len(resp.Keys) != 1 || resp.Keys[0].Kty != "oct" {
		t.Fatalf("license body %s", r.Body)
	}
	key, _ := base64.RawURLEncoding.DecodeString(resp.Keys[0].K)
	// The key decrypts the segment: the decrypted H.264 has the NAL
	// structure (AVCC lengths that add up), which garbage would not.
	seg, err := mp4.DecodeFile(bytes.NewReader(segRes.Body))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range seg.Segments {
		if err := mp4.DecryptSegment(s, di, key); err != nil {
			t.Fatalf("decrypt: %v", err)
		}
		for _, frag := range s.Fragments {
			samples, err := frag.GetFullSamples(nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, smp := range samples[:min(5, len(samples))] {
				if !avccLengthsAddUp(smp.Data) {
					t.Fatalf("sample %d does not decrypt to AVCC NAL units (key %s)", i, hex.EncodeToString(key))
				}
			}
		}
	}
	// Unknown keys, bad bodies and other tenants' tokens are refused.
	bad := f.s.Do(t, cptest.Request{Method: "POST", Path: "/license/clearkey/" + f.drmPB + "?token=" + f.token(t, claims(f.drmPB, "l")), Body: `{"kids":"nope"}`, ContentType: "application/json"})
	if bad.Status != 400 {
		t.Errorf("bad license request: %d %s", bad.Status, bad.Body)
	}
}

func avccLengthsAddUp(b []byte) bool {
	for len(b) > 0 {
		if len(b) < 4 {
			return false
		}
		n := int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3])
		if n <= 0 || n > len(b)-4 || b[4]&0x80 != 0 { // forbidden_zero_bit
			return false
		}
		b = b[4+n:]
	}
	return true
}

func (f *fixture) testEdges(t *testing.T) {
	a := cdntest.StartEdge(t, cdntest.EdgeConfig{Origin: f.s.URL, Secret: "edge-a-secret-0123456789"})
	b := cdntest.StartEdge(t, cdntest.EdgeConfig{Origin: f.s.URL, Secret: "edge-b-secret-0123456789"})
	ca := f.api(t, 201, "POST", "/v1/cdns", map[string]any{"name": "Edge A", "provider": "nginx", "base_url": a.URL(), "secret": "edge-a-secret-0123456789", "weight": 1})
	f.api(t, 201, "POST", "/v1/cdns", map[string]any{"name": "Edge B", "provider": "nginx", "base_url": b.URL(), "secret": "edge-b-secret-0123456789", "weight": 1})
	t.Cleanup(func() {
		for _, c := range f.api(t, 200, "GET", "/v1/cdns", nil).JSON(t)["data"].([]any) {
			f.api(t, 204, "DELETE", "/v1/cdns/"+c.(map[string]any)["id"].(string), nil)
		}
	})
	tok := f.token(t, claims(f.drmPB, "v"))
	mpd := string(f.get(t, "/play/"+f.drmPB+".mpd?token="+tok, nil).Body)
	bases := baseURLRE.FindAllStringSubmatch(mpd, -1)
	if len(bases) != 2 {
		t.Fatalf("want a BaseURL per CDN, got %v", bases)
	}
	for _, m := range bases {
		u := strings.ReplaceAll(m[2], "&amp;", "&") + "360p/init.mp4"
		for i, want := range []string{"MISS", "HIT"} {
			res, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || res.Header.Get("X-Cache-Status") != want {
				t.Errorf("%s fetch %d through %s: %d cache %q, want 200 %s", m[1], i, u, res.StatusCode, res.Header.Get("X-Cache-Status"), want)
			}
		}
		// An edge request without a valid signature is refused at the edge.
		for _, bad := range []string{
			strings.Replace(u, "/t/", "/t/x", 1),
			regexp.MustCompile(`/t/[^/]+/`).ReplaceAllString(u, "/t/AAAAAAAAAAAAAAAAAAAAAA/"),
			regexp.MustCompile(`/t/[^/]+/[0-9]+/`).ReplaceAllString(u, "/"),
		} {
			res, err := http.Get(bad)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 403 && res.StatusCode != 404 {
				t.Errorf("unsigned edge request %s: %d, want 403", bad, res.StatusCode)
			}
		}
	}
	// Stopping an edge moves it to the back of the steering priority once
	// the probes see it down.
	idA := strings.TrimPrefix(ca.Str(t, "id"), "cdn_")
	a.Stop()
	var prio []any
	for i := 0; i < 50; i++ {
		f.s.App.Playback().Probe(context.Background(), nil)
		st := f.get(t, "/play/"+f.drmPB+"/steering.json?token="+tok, nil)
		var sj map[string]any
		_ = json.Unmarshal(st.Body, &sj)
		prio, _ = sj["PATHWAY-PRIORITY"].([]any)
		if len(prio) == 2 && prio[1] == idA {
			break
		}
	}
	if len(prio) != 2 || prio[1] != idA {
		t.Errorf("steering after edge A stopped: %v, want A last", prio)
	}
}

func (f *fixture) testLicenseProxy(t *testing.T) {
	var primaryHits, backupHits atomic.Int32
	vendor := func(name string, hits *atomic.Int32) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "application/octet-stream")
			fmt.Fprintf(w, "%s license for %s", name, b)
		}))
	}
	primary := vendor("primary", &primaryHits)
	backup := vendor("backup", &backupHits)
	t.Cleanup(backup.Close)
	f.api(t, 200, "PUT", "/v1/drm", map[string]any{"vendor": "test", "widevine": map[string]string{"primary": primary.URL + "/{system}", "backup": backup.URL + "/{system}"}})
	call := func() cptest.Response {
		return f.s.Do(t, cptest.Request{Method: "POST", Path: "/license/widevine/" + f.drmPB + "?token=" + f.token(t, claims(f.drmPB, "l")), Body: []byte("challenge"), ContentType: "application/octet-stream"})
	}
	if r := call(); r.Status != 200 || string(r.Body) != "primary license for challenge" {
		t.Fatalf("primary: %d %s", r.Status, r.Body)
	}
	primary.Close() // the vendor's primary dies
	r := call()
	if r.Status != 200 || string(r.Body) != "backup license for challenge" || r.Header.Get("Marquee-License-Server") != "backup" {
		t.Fatalf("after the primary died: %d %s %v", r.Status, r.Body, r.Header)
	}
	if backupHits.Load() != 1 || primaryHits.Load() != 1 {
		t.Errorf("hits: primary %d, backup %d", primaryHits.Load(), backupHits.Load())
	}
	if r := f.s.Do(t, cptest.Request{Method: "POST", Path: "/license/playready/" + f.drmPB + "?token=" + f.token(t, claims(f.drmPB, "l")), Body: []byte("x")}); r.Status != 409 || !strings.Contains(string(r.Body), "drm_not_configured") {
		t.Errorf("unconfigured system: %d %s", r.Status, r.Body)
	}
}

// testQueryTokenCDN: a Bunny CDN's HLS variants are media playlists the
// manifest service rewrites, every segment and init URL absolute on Bunny
// and signed with Bunny's token scheme (checked here independently).
func (f *fixture) testQueryTokenCDN(t *testing.T) {
	const key = "bunny-key-0123456789"
	c := f.api(t, 201, "POST", "/v1/cdns", map[string]any{"name": "Bunny", "provider": "bunny", "base_url": "https://media.b-cdn.example", "secret": key})
	t.Cleanup(func() { f.api(t, 204, "DELETE", "/v1/cdns/"+c.Str(t, "id"), nil) })
	tok := f.token(t, claims(f.drmPB, "v"))
	master := string(f.get(t, "/play/"+f.drmPB+".m3u8?token="+tok, nil).Body)
	pathway := strings.TrimPrefix(c.Str(t, "id"), "cdn_")
	uri := regexp.MustCompile(`(?m)^(\S+/play/` + f.drmPB + `/` + pathway + `/360p\.m3u8\?token=\S+)$`).FindString(master)
	if uri == "" {
		t.Fatalf("no Bunny variant playlist in:\n%s", master)
	}
	res := f.get(t, strings.TrimPrefix(uri, f.s.URL), nil)
	if res.Status != 200 {
		t.Fatalf("media playlist: %d %s", res.Status, res.Body)
	}
	pl := string(res.Body)
	segs := regexp.MustCompile(`(?m)^https://media\.b-cdn\.example(/a/`+f.drmAsset+`/cbcs/360p/seg-\d+\.m4s)\?token=([A-Za-z0-9_-]+)&expires=(\d+)$`).FindAllStringSubmatch(pl, -1)
	if len(segs) < 3 || !strings.Contains(pl, `#EXT-X-MAP:URI="https://media.b-cdn.example/a/`+f.drmAsset+`/cbcs/360p/init.mp4?token=`) || !strings.Contains(pl, "skd://") {
		t.Fatalf("media playlist not rewritten for Bunny:\n%s", pl)
	}
	for _, m := range segs {
		sum := sha256.Sum256([]byte(key + m[1] + m[3]))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != m[2] {
			t.Errorf("segment %s: token %s is not Bunny's SHA256(key+path+expires)", m[1], m[2])
		}
	}
	// DASH needs a CDN that signs paths.
	if r := f.get(t, "/play/"+f.drmPB+".mpd?token="+tok, nil); r.Status != 409 || !strings.Contains(string(r.Body), "dash_needs_path_token_cdn") {
		t.Errorf("DASH with only a query-token CDN: %d %s", r.Status, r.Body)
	}
	// Path-token CDNs get no rewritten playlists; unknown tracks are 404.
	if r := f.get(t, "/play/"+f.drmPB+"/origin/360p.m3u8?token="+tok, nil); r.Status != 404 {
		t.Errorf("origin pathway media playlist: %d", r.Status)
	}
	if r := f.get(t, "/play/"+f.drmPB+"/"+pathway+"/9999p.m3u8?token="+tok, nil); r.Status != 404 {
		t.Errorf("unknown track: %d", r.Status)
	}
	if r := f.get(t, "/play/"+f.drmPB+"/"+pathway+"/360p.m3u8", nil); r.Status != 403 {
		t.Errorf("media playlist without a token: %d", r.Status)
	}
}
