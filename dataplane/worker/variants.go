package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/marquee-video/marquee/dataplane/drm"
	"github.com/marquee-video/marquee/dataplane/packager"
	"github.com/marquee-video/marquee/internal/wire"
)

// packageVariants packages the renditions into dir: one clear package at
// its root, or, for a protected job, a cenc copy (DASH, ClearKey,
// Widevine, PlayReady) and a cbcs copy (HLS, FairPlay) in sub-folders and
// no clear one. Either way it writes the package index the manifest
// service renders from. The returned Output is the root's (or the cenc
// copy's, whose tracks describe both).
func packageVariants(ctx context.Context, tracks []packager.Track, dir string, segment time.Duration, key *wire.ContentKeyGrant) (packager.Output, error) {
	opt := packager.Options{SegmentDuration: segment}
	var (
		out      packager.Output
		variants []string
		kids     []string
	)
	if key == nil {
		var err error
		if out, err = packager.Package(ctx, tracks, dir, opt); err != nil {
			return out, err
		}
		variants = []string{wire.VariantClear}
	} else {
		ck, err := contentKey(key)
		if err != nil {
			return out, err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return out, err
		}
		for _, v := range []struct {
			name, scheme string
			systems      []drm.System
		}{
			{wire.VariantCENC, drm.SchemeCENC, []drm.System{drm.ClearKey, drm.Widevine, drm.PlayReady}},
			{wire.VariantCBCS, drm.SchemeCBCS, []drm.System{drm.Widevine, drm.PlayReady, drm.FairPlay}},
		} {
			enc, err := drm.NewEncryptor(v.scheme, map[string]drm.ContentKey{drm.AllTracks: ck}, drm.Signalling{Systems: v.systems, ClearKeyLicenseURL: key.LicenseURL})
			if err != nil {
				return out, fmt.Errorf("worker: %s encryptor: %w", v.name, err)
			}
			o := opt
			o.Encryptor = enc
			po, err := packager.Package(ctx, tracks, filepath.Join(dir, v.name), o)
			if err != nil {
				return out, err
			}
			if v.name == wire.VariantCENC {
				out = po
				out.Dir = dir
			}
			variants = append(variants, v.name)
		}
		kids = []string{key.KID}
	}
	idx := wire.PackageIndex{Version: 1, Duration: out.Duration.Seconds(), Variants: variants, KIDs: kids}
	for _, t := range out.Tracks {
		idx.Tracks = append(idx.Tracks, wire.IndexedTrack{
			ID: t.ID, Kind: t.Kind, Codecs: t.Codecs, Width: t.Width, Height: t.Height, FrameRate: t.FrameRate,
			Bandwidth: t.Bandwidth, AverageBandwidth: t.AverageBandwidth, Language: t.Language, Playlist: t.Playlist,
		})
	}
	b, err := json.Marshal(idx)
	if err != nil {
		return out, err
	}
	return out, os.WriteFile(filepath.Join(dir, wire.IndexName), b, 0o644)
}

func contentKey(g *wire.ContentKeyGrant) (drm.ContentKey, error) {
	kid, err := hex.DecodeString(g.KID)
	if err != nil {
		return drm.ContentKey{}, fmt.Errorf("worker: content key id: %w", err)
	}
	key, err := hex.DecodeString(g.Key)
	if err != nil {
		return drm.ContentKey{}, fmt.Errorf("worker: content key: %w", err)
	}
	// cbcs needs a constant IV: derived from the key, so every attempt
	// packages the same bytes and nothing more needs storing.
	iv := sha256.Sum256(append([]byte("marquee cbcs iv\x00"), key...))
	ck := drm.ContentKey{KID: kid, Key: key, IV: iv[:16]}
	return ck, ck.Validate()
}
