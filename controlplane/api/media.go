package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/marquee-video/marquee/controlplane/assets"
	"github.com/marquee-video/marquee/controlplane/nodes"
	"github.com/marquee-video/marquee/controlplane/playback"
	"github.com/marquee-video/marquee/controlplane/webhooks"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/wire"
	"github.com/marquee-video/marquee/tenants"
)

// ObjectReader reads stored objects for the playback origin.
type ObjectReader interface {
	Get(ctx context.Context, key string) (io.ReadCloser, error)
}

// JobLease is how long a worker's attempt may go without reporting.
const JobLease = 60 * time.Second

const localNode = "node"

// AssetView is an asset as the API shows it, with its playback URLs once
// ready.
type AssetView struct {
	assets.Asset
	Playback    *Playback             `json:"playback"`
	PlaybackIDs []playback.PlaybackID `json:"playback_ids,omitempty"`
}

// Playback holds a ready asset's manifest URLs.
type Playback struct {
	HLS  string `json:"hls"`
	DASH string `json:"dash"`
}

func view(a assets.Asset) AssetView {
	v := AssetView{Asset: a}
	// Encrypted assets play only through drm playback ids (/play).
	if a.Status == assets.StatusReady && !a.Protected {
		v.Playback = &Playback{HLS: "/stream/" + a.ID + "/master.m3u8", DASH: "/stream/" + a.ID + "/manifest.mpd"}
	}
	return v
}

func (s *Server) createAsset(c *fiber.Ctx) error {
	var in CreateAssetRequest
	if err := decode(c, &in); err != nil {
		return err
	}
	pbIn := playback.CreatePlaybackIDInput{Policy: in.PlaybackPolicy, Access: in.Access}
	if in.PlaybackPolicy != "" || in.Access != nil {
		if s.cfg.Playback == nil {
			return errs.Field("playback_policy", "playback ids are not available on this server")
		}
		// Checked before the asset exists, so bad rules never leave an
		// asset behind.
		if err := pbIn.Validate(); err != nil {
			return err
		}
	}
	tenant := acting(c).ID
	a, err := s.cfg.Assets.CreateFromURL(c.UserContext(), tenant, assets.CreateInput{Input: in.Input, Protected: in.PlaybackPolicy == playback.PolicyDRM})
	if err != nil {
		return err
	}
	v := view(a)
	if in.PlaybackPolicy != "" {
		p, err := s.cfg.Playback.CreatePlaybackID(c.UserContext(), tenant, a.ID, pbIn)
		if err != nil {
			return err
		}
		v.PlaybackIDs = []playback.PlaybackID{p}
	}
	return c.Status(201).JSON(v)
}

func (s *Server) getAsset(c *fiber.Ctx) error {
	a, err := s.cfg.Assets.Asset(c.UserContext(), acting(c).ID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(view(a))
}

func (s *Server) listAssets(c *fiber.Ctx) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	as, next, err := s.cfg.Assets.Assets(c.UserContext(), acting(c).ID, p.Limit, p.After)
	if err != nil {
		return err
	}
	views := make([]AssetView, len(as))
	for i, a := range as {
		views[i] = view(a)
	}
	cursor := ""
	if next != "" {
		cursor = tenants.Cursor(next)
	}
	return c.JSON(list(views, cursor))
}

func (s *Server) deleteAsset(c *fiber.Ctx) error {
	if err := s.cfg.Assets.Delete(c.UserContext(), acting(c).ID, c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(204)
}

var streamTypes = map[string]string{
	".m3u8": "application/vnd.apple.mpegurl",
	".mpd":  "application/dash+xml",
	".mp4":  "video/mp4",
	".m4s":  "video/iso.segment",
	".jpg":  "image/jpeg",
	".vtt":  "text/vtt",
}

// stream is the origin for clear assets: a ready asset's packaged files,
// public by unguessable asset id (playback tokens come with issue 4).
func (s *Server) stream(c *fiber.Ctx) error {
	file := c.Params("*")
	clean := path.Clean("/" + file)
	ct, ok := streamTypes[path.Ext(clean)]
	if file == "" || clean != "/"+file || !ok {
		return errs.NotFoundf("no such file")
	}
	a, err := s.cfg.Assets.ReadyAsset(c.UserContext(), c.Params("asset"))
	if err != nil {
		return err
	}
	r, err := s.cfg.Media.Get(c.UserContext(), strings.TrimSuffix(a.PlaybackPrefix, "/")+clean)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
	if ct == streamTypes[".m3u8"] || ct == streamTypes[".mpd"] {
		c.Set(fiber.HeaderCacheControl, "public, max-age=60")
	} else {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	}
	return c.SendStream(r)
}

func (s *Server) listNodes(c *fiber.Ctx) error {
	ns, err := s.cfg.Nodes.List(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(list(ns, ""))
}

// Internal API: data-plane nodes.

func bearer(c *fiber.Ctx) string {
	scheme, cred, _ := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(cred)
}

func (s *Server) enrollNode(c *fiber.Ctx) error {
	var reg wire.NodeRegistration
	if err := decode(c, &reg); err != nil {
		return err
	}
	n, token, err := s.cfg.Nodes.Enroll(c.UserContext(), bearer(c), reg)
	if err != nil {
		return err
	}
	return c.Status(201).JSON(fiber.Map{"id": n.ID, "token": token})
}

// authenticateNode admits requests carrying a node token.
func (s *Server) authenticateNode(c *fiber.Ctx) error {
	n, err := s.cfg.Nodes.Authenticate(c.UserContext(), bearer(c))
	if err != nil {
		return err
	}
	c.Locals(localNode, n)
	return c.Next()
}

func node(c *fiber.Ctx) nodes.Node { return c.Locals(localNode).(nodes.Node) }

func (s *Server) nodeHeartbeat(c *fiber.Ctx) error {
	var hb wire.NodeHeartbeat
	if err := decode(c, &hb); err != nil {
		return err
	}
	if err := s.cfg.Nodes.Heartbeat(c.UserContext(), node(c).ID, hb); err != nil {
		return err
	}
	return c.SendStatus(204)
}

// StartJobRequest names the attempt that asks for a job.
type StartJobRequest struct {
	Attempt string `json:"attempt"`
}

func (s *Server) startJob(c *fiber.Ctx) error {
	var in StartJobRequest
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Attempt == "" || len(in.Attempt) > 64 {
		return errs.Field("attempt", "attempt must be a short id")
	}
	tenant := c.Params("tenant")
	j, err := s.cfg.Assets.Start(c.UserContext(), tenant, c.Params("job"), in.Attempt, node(c).ID, JobLease)
	if err != nil {
		return err
	}
	lease := fiber.Map{"job_id": j.ID, "attempt": j.Attempt, "attempts": j.Attempts, "lease_seconds": int(JobLease.Seconds())}
	if j.Payload.Protected {
		// The content key goes to the attempt that holds the job, over this
		// API, never through the queue.
		if s.cfg.Playback == nil {
			return errs.E(errs.Unavailable, "drm_unavailable", "this control plane has no playback service to key protected jobs")
		}
		k, err := s.cfg.Playback.ContentKeyFor(c.UserContext(), tenant, j.AssetID)
		if err != nil {
			return err
		}
		lease["content_key"] = wire.ContentKeyGrant{KID: k.KIDHex(), Key: hex.EncodeToString(k.Key), LicenseURL: playback.LicenseURLMarker}
	}
	return c.JSON(lease)
}

func (s *Server) jobProgress(c *fiber.Ctx) error {
	var p wire.JobProgress
	if err := decode(c, &p); err != nil {
		return err
	}
	p.JobID = c.Params("job")
	if err := s.cfg.Assets.Progress(c.UserContext(), c.Params("tenant"), p, JobLease); err != nil {
		return err
	}
	return c.SendStatus(204)
}

func (s *Server) finishJob(c *fiber.Ctx) error {
	var r wire.JobResult
	if err := decode(c, &r); err != nil {
		return err
	}
	r.JobID = c.Params("job")
	a, err := s.cfg.Assets.Finish(c.UserContext(), c.Params("tenant"), r)
	if err != nil {
		return err
	}
	return c.JSON(view(a))
}

func (s *Server) createWebhookEndpoint(c *fiber.Ctx) error {
	var in webhooks.CreateEndpointInput
	if err := decode(c, &in); err != nil {
		return err
	}
	e, secret, err := s.cfg.Webhooks.CreateEndpoint(c.UserContext(), acting(c).ID, in)
	if err != nil {
		return err
	}
	return c.Status(201).JSON(fiber.Map{"id": e.ID, "url": e.URL, "events": e.Events, "created_at": e.CreatedAt, "secret": secret})
}

func (s *Server) listWebhookEndpoints(c *fiber.Ctx) error {
	es, err := s.cfg.Webhooks.Endpoints(c.UserContext(), acting(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(list(es, ""))
}

func (s *Server) deleteWebhookEndpoint(c *fiber.Ctx) error {
	if err := s.cfg.Webhooks.DeleteEndpoint(c.UserContext(), acting(c).ID, c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(204)
}

func (s *Server) listWebhookDeliveries(c *fiber.Ctx) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	ds, err := s.cfg.Webhooks.Deliveries(c.UserContext(), acting(c).ID, c.Params("id"), p.Limit+1, p.After)
	if err != nil {
		return err
	}
	next := ""
	if len(ds) > p.Limit {
		ds = ds[:p.Limit]
		next = tenants.Cursor(ds[len(ds)-1].ID)
	}
	return c.JSON(list(ds, next))
}

func (s *Server) getEncodingProfile(c *fiber.Ctx) error {
	p, err := s.cfg.Assets.EncodingProfile(c.UserContext(), acting(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) putEncodingProfile(c *fiber.Ctx) error {
	var in assets.EncodingProfile
	if err := decode(c, &in); err != nil {
		return err
	}
	p, err := s.cfg.Assets.SetEncodingProfile(c.UserContext(), acting(c).ID, in)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

// assetEvents streams an asset's state as server-sent events: one "asset"
// event now and one at each change, until it is ready or errored (then the
// stream ends) or 30 minutes pass. A comment every 15 s keeps proxies from
// closing an idle stream.
func (s *Server) assetEvents(c *fiber.Ctx) error {
	tenant, id := acting(c).ID, c.Params("id")
	first, err := s.cfg.Assets.Asset(c.UserContext(), tenant, id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		var last []byte
		lastWrite := time.Now()
		a := first
		for {
			b, _ := json.Marshal(view(a))
			if !bytes.Equal(b, last) {
				if _, err := fmt.Fprintf(w, "event: asset\ndata: %s\n\n", b); err != nil {
					return
				}
				last, lastWrite = b, time.Now()
			} else if time.Since(lastWrite) > 15*time.Second {
				if _, err := w.WriteString(": keep-alive\n\n"); err != nil {
					return
				}
				lastWrite = time.Now()
			}
			if err := w.Flush(); err != nil {
				return // the client went away
			}
			if a.Status == assets.StatusReady || a.Status == assets.StatusErrored {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(500 * time.Millisecond):
			}
			next, err := s.cfg.Assets.Asset(ctx, tenant, id)
			if err != nil {
				return
			}
			a = next
		}
	})
	return nil
}
