package api_test

import (
	"testing"

	"github.com/marquee-video/marquee/controlplane/api"
	"github.com/marquee-video/marquee/controlplane/cptest"
)

// playbackFixtures gives every tenant of the isolation tree a playback id, a
// signing key, a CDN, and a viewer with a profile and an entitlement.
func playbackFixtures(t *testing.T, s *cptest.Server, tr *tree) {
	t.Helper()
	for name, id := range tr.ids {
		req := func(method, path string, body any) cptest.Request {
			return cptest.Request{Method: method, Path: path, Token: tr.opsToken, Tenant: id, Body: body}
		}
		tr.put(api.ParamPlaybackID, name, s.Must(t, 201, req("POST", "/v1/assets/"+tr.assets[name]+"/playback-ids", map[string]string{"policy": "signed"})).Str(t, "id"))
		tr.put(api.ParamSigningKey, name, s.Must(t, 201, req("POST", "/v1/signing-keys", map[string]string{"alg": "ES256"})).Str(t, "id"))
		tr.put(api.ParamCDN, name, s.Must(t, 201, req("POST", "/v1/cdns", map[string]any{"name": "edge " + name, "provider": "nginx", "base_url": "https://" + name + ".cdn.example.com", "secret": "0123456789abcdef-" + name})).Str(t, "id"))
		viewer := "viewer-" + name
		tr.put(api.ParamViewer, name, viewer)
		s.Must(t, 201, req("POST", "/v1/viewers", map[string]any{"id": viewer, "avod": false}))
		tr.put(api.ParamProfile, name, "kid-"+name)
		s.Must(t, 200, req("PUT", "/v1/viewers/"+viewer+"/profiles/kid-"+name, map[string]string{"name": "Kid", "rating_limit": "PG", "pin": "1234"}))
		tr.put(api.ParamEntitlement, name, "grant-"+name)
		s.Must(t, 201, req("POST", "/v1/viewers/"+viewer+"/entitlements", map[string]string{"id": "grant-" + name, "kind": "svod", "tier": "gold"}))
	}
}

// playbackSamples are valid request bodies for the playback schemas.
func playbackSamples() map[string]any {
	return map[string]any{
		"CreatePlaybackIDRequest": map[string]string{"policy": "public"},
		"CreateSigningKeyRequest": map[string]string{"alg": "ES256"},
		"CDNRequest":              map[string]any{"name": "intruder", "provider": "nginx", "base_url": "https://intruder.example.com", "secret": "0123456789abcdef-intruder"},
		"DRMConfig":               map[string]any{"vendor": "intruder", "widevine": map[string]string{"primary": "https://intruder.example.com/wv"}},
		"ViewerRequest":           map[string]bool{"avod": true},
		"CreateViewerRequest":     map[string]any{"id": "intruder"},
		"ProfileRequest":          map[string]string{"name": "Intruder"},
		"PINRequest":              map[string]string{"pin": "1234"},
		"GrantRequest":            map[string]string{"kind": "svod", "tier": "intruder"},
	}
}
