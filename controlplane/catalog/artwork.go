package catalog

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/ids"
)

// Objects is where uploaded artwork is kept (objects.Store is one).
type Objects interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	Delete(ctx context.Context, key string) error
}

// Artwork kinds and limits.
const (
	ArtworkPoster   = "poster"
	ArtworkBackdrop = "backdrop"
	MaxArtworkBytes = 1 << 20
	// ArtworkPath starts the public URL of uploaded artwork.
	ArtworkPath = "/v1/public/artwork/"
)

// artworkTypes are the image types accepted; no SVG, which can carry
// script.
var artworkTypes = map[string]string{"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}

// artworkFileRE names an uploaded artwork file.
var artworkFileRE = regexp.MustCompile(`^(poster|backdrop)-[0-9]{1,20}\.(png|jpg|webp)$`)

// ownArtworkRE is the public path of uploaded artwork, accepted in titles
// besides https URLs so that a title read and written back keeps it.
var ownArtworkRE = regexp.MustCompile(`^/v1/public/artwork/ten_[0-9a-z]{26}/ttl_[0-9a-z]{26}/(poster|backdrop)-[0-9]{1,20}\.(png|jpg|webp)$`)

// WithObjects returns s storing uploaded artwork in objs.
func (s *Service) WithObjects(objs Objects) *Service {
	c := *s
	c.objects = objs
	return &c
}

func artworkKey(tenant, title, file string) string {
	return "tenants/" + tenant + "/catalog/" + title + "/" + file
}

// SetArtwork stores an uploaded poster or backdrop and points the title at
// it; the image it replaces, when it was an upload, is deleted.
func (s *Service) SetArtwork(ctx context.Context, tenant, titleID, kind, contentType string, body []byte) (Title, error) {
	if s.objects == nil {
		return Title{}, errs.E(errs.Unavailable, "artwork_unavailable", "artwork uploads are not configured")
	}
	if kind != ArtworkPoster && kind != ArtworkBackdrop {
		return Title{}, errs.NotFoundf("artwork %q not found; upload a poster or a backdrop", kind)
	}
	t, err := s.Title(ctx, tenant, titleID)
	if err != nil {
		return Title{}, err
	}
	contentType = strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	ext, ok := artworkTypes[contentType]
	if !ok {
		return Title{}, errs.E(errs.Invalid, "unsupported_media_type", "artwork must be image/png, image/jpeg or image/webp")
	}
	if len(body) == 0 || len(body) > MaxArtworkBytes {
		return Title{}, errs.E(errs.Invalid, "invalid_request", "artwork must be 1 to %d bytes", MaxArtworkBytes)
	}
	if http.DetectContentType(body) != contentType {
		return Title{}, errs.E(errs.Invalid, "invalid_image", "the file is not a %s image", contentType)
	}
	file := fmt.Sprintf("%s-%d.%s", kind, s.clock().UnixNano(), ext)
	if err := s.objects.Put(ctx, artworkKey(tenant, t.ID, file), bytes.NewReader(body), int64(len(body)), contentType); err != nil {
		return Title{}, err
	}
	cur, err := s.store.Title(ctx, tenant, t.ID) // as stored, without the asset poster fallback
	if err != nil {
		return Title{}, err
	}
	old := cur.Artwork.Poster
	url := ArtworkPath + tenant + "/" + t.ID + "/" + file
	if kind == ArtworkPoster {
		cur.Artwork.Poster = url
	} else {
		old = cur.Artwork.Backdrop
		cur.Artwork.Backdrop = url
	}
	cur.UpdatedAt = s.now()
	if err := s.store.ReplaceTitle(ctx, tenant, cur); err != nil {
		_ = s.objects.Delete(context.WithoutCancel(ctx), artworkKey(tenant, t.ID, file))
		return Title{}, err
	}
	if prefix := ArtworkPath + tenant + "/" + t.ID + "/"; strings.HasPrefix(old, prefix) {
		_ = s.objects.Delete(ctx, artworkKey(tenant, t.ID, strings.TrimPrefix(old, prefix))) // an orphan at worst
	}
	return present(cur), nil
}

// Artwork opens an uploaded artwork file, for the storefront (public: the
// ids are not guessable, and artwork is shown to anyone).
func (s *Service) Artwork(ctx context.Context, tenant, titleID, file string) (io.ReadCloser, string, error) {
	if s.objects == nil || !ids.Valid(ids.Tenant, tenant) || !ids.Valid(PrefixTitle, titleID) || !artworkFileRE.MatchString(file) {
		return nil, "", errs.NotFoundf("artwork not found")
	}
	r, err := s.objects.Get(ctx, artworkKey(tenant, titleID, file))
	if err != nil {
		return nil, "", err
	}
	ct := "image/png"
	switch {
	case strings.HasSuffix(file, ".jpg"):
		ct = "image/jpeg"
	case strings.HasSuffix(file, ".webp"):
		ct = "image/webp"
	}
	return r, ct, nil
}
