package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/marquee-video/marquee/controlplane/playback"
)

// signPlaybackToken mints a playback token with a tenant's signing key, as
// the tenant's backend would: for trying playback, benchmarks and scripts.
func signPlaybackToken(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin sign-playback-token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyID := fs.String("key-id", "", "the signing key's id (sk_…)")
	keyFile := fs.String("private-key-file", "", "file with the signing key's private key (PEM), as POST /v1/signing-keys returned it")
	pb := fs.String("playback-id", "", "the playback id (pb_…)")
	aud := fs.String("aud", playback.AudienceVideo, "audience: v (video), t (thumbnail) or l (license)")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid")
	viewer := fs.String("viewer", "", "the viewer id (entitlements)")
	profile := fs.String("profile", "", "the viewer's profile id (rating limit)")
	tier := fs.String("tier", "", "the viewer's subscription tier")
	maxRes := fs.String("max-resolution", "", "cap renditions at this height, e.g. 720p")
	allow := fs.String("country-allow", "", "comma-separated countries the token plays in")
	deny := fs.String("country-deny", "", "comma-separated countries the token never plays in")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *keyID == "" || *keyFile == "" || *pb == "" {
		return errors.New("--key-id, --private-key-file and --playback-id are required")
	}
	if *ttl <= 0 || *ttl > 7*24*time.Hour {
		return errors.New("--ttl must be between 1s and 168h")
	}
	pem, err := os.ReadFile(*keyFile)
	if err != nil {
		return err
	}
	c := playback.Claims{
		RegisteredClaims: jwt.RegisteredClaims{Subject: *pb, Audience: jwt.ClaimStrings{*aud}, ExpiresAt: jwt.NewNumericDate(time.Now().Add(*ttl))},
		Viewer:           *viewer, Profile: *profile, Tier: *tier, MaxResolution: *maxRes,
	}
	if *allow != "" || *deny != "" {
		c.Country = &playback.CountryClaim{Allow: split(*allow), Deny: split(*deny)}
	}
	tok, err := playback.SignToken(*keyID, string(pem), c)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
