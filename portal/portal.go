// Package portal is the creator and reseller web portal that the control plane
// serves at "/": sign-up and log-in, the tenant dashboard with quota usage, API
// keys, sub-tenants for resellers, and the branding editor with a live preview.
//
// The portal has no build step. It is plain HTML, CSS and JavaScript modules,
// embedded in the binary, that talk only to the public JSON API under /v1 with
// fetch, so everything a user can do here an API client can do too.
package portal

import (
	"embed"
	"io/fs"
)

//go:embed web
var files embed.FS

// Assets is the portal's static files (index.html at the root). It is a
// single-page app with hash routing (#/login, #/branding, …), so a server
// should answer index.html for "/" and for any unknown path outside /v1.
func Assets() fs.FS {
	sub, err := fs.Sub(files, "web")
	if err != nil {
		// fs.Sub fails only on an invalid path; "web" is a constant.
		panic(err)
	}
	return sub
}
