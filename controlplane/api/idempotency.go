package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/gofiber/fiber/v2"

	"github.com/marquee-video/marquee/internal/errs"
)

// IdempotencyStore claims Idempotency-Keys and keeps their responses
// (internal/idempotency implements it).
type IdempotencyStore interface {
	Begin(ctx context.Context, tenant, key, fingerprint string) (status int, body []byte, replay bool, err error)
	Complete(ctx context.Context, tenant, key string, status int, body []byte) error
	Abort(ctx context.Context, tenant, key string) error
}

// idempotent replays the stored response of a POST retried with the same
// Idempotency-Key, body and credentials.
func (s *Server) idempotent(c *fiber.Ctx) error {
	key := c.Get("Idempotency-Key")
	if key == "" {
		return c.Next()
	}
	if len(key) > 255 {
		return errs.E(errs.Invalid, "invalid_request", "Idempotency-Key must be at most 255 characters")
	}
	t, p := acting(c), principal(c)
	h := sha256.New()
	for _, part := range []string{c.Method(), c.Path(), p.ID, string(c.Body())} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	fp := hex.EncodeToString(h.Sum(nil))
	ctx := c.UserContext()
	status, body, replay, err := s.cfg.Idempotency.Begin(ctx, t.ID, key, fp)
	if err != nil {
		return err
	}
	if replay {
		c.Set("Idempotent-Replayed", "true")
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Status(status).Send(body)
	}
	if err := c.Next(); err != nil {
		if aerr := s.cfg.Idempotency.Abort(context.WithoutCancel(ctx), t.ID, key); aerr != nil {
			s.log.WarnContext(ctx, "release idempotency key", "err", aerr)
		}
		return err
	}
	res := c.Response()
	if code := res.StatusCode(); code >= 200 && code < 300 {
		return s.cfg.Idempotency.Complete(context.WithoutCancel(ctx), t.ID, key, code, append([]byte(nil), res.Body()...))
	}
	return s.cfg.Idempotency.Abort(context.WithoutCancel(ctx), t.ID, key)
}
