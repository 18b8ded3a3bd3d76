package api

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"github.com/marquee-video/marquee/controlplane/playback"
	"github.com/marquee-video/marquee/controlplane/uploads"
	"github.com/marquee-video/marquee/internal/errs"
)

// Param kinds of the upload routes.
const (
	ParamUpload      = "upload"
	ParamUploadToken = "upload_token"
)

// tusPath is where tus clients send an upload's bytes; the last segment is
// the upload token.
const tusPath = "/v1/uploads/tus/"

// CreatedUpload is a reserved upload: send its bytes to URL with a tus
// client before ExpiresAt.
type CreatedUpload struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Server) createUpload(c *fiber.Ctx) error {
	var in struct {
		Size           *int64          `json:"size"`
		PlaybackPolicy playback.Policy `json:"playback_policy"`
	}
	if len(c.Body()) > 0 {
		if err := decode(c, &in); err != nil {
			return err
		}
	}
	switch in.PlaybackPolicy {
	case "", playback.PolicyPublic, playback.PolicySigned, playback.PolicyDRM:
	default:
		return errs.Field("playback_policy", "playback_policy must be public, signed or drm")
	}
	u, token, err := s.cfg.Uploads.Create(c.UserContext(), acting(c).ID, uploads.CreateInput{Size: in.Size, Protected: in.PlaybackPolicy == playback.PolicyDRM})
	if err != nil {
		return err
	}
	return c.Status(201).JSON(CreatedUpload{ID: u.ID, URL: c.BaseURL() + tusPath + token, ExpiresAt: u.ExpiresAt})
}

func (s *Server) getUpload(c *fiber.Ctx) error {
	u, err := s.cfg.Uploads.Upload(c.UserContext(), acting(c).ID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(u)
}

// tusUpload serves the tus protocol for one upload. It is public: the
// token in the path is the credential, so a browser can send chunks
// without the API bearer. tusd's pre-create hook checks a creation (quota,
// size) before it accepts it.
func (s *Server) tusUpload(c *fiber.Ctx) error {
	token := c.Params("token")
	g, err := s.cfg.Uploads.Authorize(token)
	if err != nil {
		return err
	}
	return adaptor.HTTPHandler(s.cfg.Uploads.Tus(c.UserContext(), g, c.BaseURL()+tusPath+token))(c)
}
