package cdn

import (
	"cmp"
	"hash/fnv"
	"math"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/marquee-video/marquee/internal/errs"
)

// CDN is one delivery network a tenant's content is served through.
type CDN struct {
	// ID is the pathway ID (HLS) / service location (DASH) the CDN appears
	// as in manifests and steering responses: [A-Za-z0-9._-]+.
	ID       string
	Provider string
	// BaseURL is the scheme://host[/path] segment URLs are built on.
	BaseURL string
	// Weight is the CDN's share of sessions among equally placed CDNs; 0
	// keeps it as a fallback only.
	Weight int
	// Regions the CDN is preferred in (e.g. "eu", "us-east"); empty means
	// no preference anywhere.
	Regions []string
	// CanaryPath is the object the Prober fetches, relative to BaseURL.
	CanaryPath string
	// Signer signs canary URLs; nil probes them unsigned.
	Signer Signer
}

// Validate checks what Health and the steering renderers rely on.
func (c CDN) Validate() error {
	if !ValidPathwayID(c.ID) {
		return errs.Field("id", "CDN id %q must be non-empty and use only A-Z a-z 0-9 . - _", c.ID)
	}
	if c.Weight < 0 {
		return errs.Field("weight", "CDN %s: weight %d is negative", c.ID, c.Weight)
	}
	if c.BaseURL == "" {
		return errs.Field("base_url", "CDN %s has no base URL", c.ID)
	}
	return nil
}

// URL is the CDN's URL for p (a path relative to BaseURL, with or without a
// leading slash, optionally with a query), signed with the CDN's Signer
// until expires; unsigned if the CDN has no Signer.
func (c CDN) URL(p string, expires time.Time) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSuffix(c.BaseURL, "/") + "/" + strings.TrimPrefix(p, "/"))
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, "invalid_request", err, "CDN %s: URL for %q", c.ID, p)
	}
	if c.Signer == nil {
		return u, nil
	}
	return c.Signer.Sign(u, expires)
}

// HealthConfig tunes the hysteresis. Zero values take the defaults.
type HealthConfig struct {
	// FailThreshold consecutive failures mark an up CDN down (default 3).
	FailThreshold int
	// RecoverThreshold consecutive successes mark a down CDN up (default 5).
	RecoverThreshold int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// CDNStatus is a snapshot of one CDN's health.
type CDNStatus struct {
	ID string
	Up bool
	// ConsecutiveFailures and ConsecutiveSuccesses count the current run of
	// results; one resets the other.
	ConsecutiveFailures  int
	ConsecutiveSuccesses int
	// Since is when Up last changed (the tracker's creation at first).
	Since time.Time
	// LastResult is when the last probe or report arrived; zero if none.
	LastResult time.Time
	// LastError is the last probe failure's message, "" after a success.
	LastError string
}

// Health tracks whether each CDN is serving and orders CDNs for sessions.
// Active probe results and passive reports from players and edges feed the
// same hysteresis: a CDN goes down after FailThreshold consecutive failures
// and comes back after RecoverThreshold consecutive successes, so one lost
// request does not move traffic and one lucky probe does not bring it back.
// All CDNs start up. Safe for concurrent use.
type Health struct {
	cfg   HealthConfig
	cdns  []CDN // in the order given; never modified
	index map[string]int

	mu    sync.RWMutex
	state []CDNStatus
}

// NewHealth tracks cdns, whose IDs must be unique.
func NewHealth(cdns []CDN, cfg HealthConfig) (*Health, error) {
	if len(cdns) == 0 {
		return nil, errs.Field("cdns", "no CDNs to track")
	}
	if cfg.FailThreshold < 0 || cfg.RecoverThreshold < 0 {
		return nil, errs.Field("thresholds", "hysteresis thresholds must not be negative")
	}
	if cfg.FailThreshold == 0 {
		cfg.FailThreshold = 3
	}
	if cfg.RecoverThreshold == 0 {
		cfg.RecoverThreshold = 5
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Health{cfg: cfg, cdns: make([]CDN, len(cdns)), index: make(map[string]int, len(cdns)), state: make([]CDNStatus, len(cdns))}
	now := cfg.Now()
	for i, c := range cdns {
		if err := c.Validate(); err != nil {
			return nil, err
		}
		if _, dup := h.index[c.ID]; dup {
			return nil, errs.Field("id", "CDN id %q appears twice", c.ID)
		}
		c.Regions = slices.Clone(c.Regions)
		h.cdns[i] = c
		h.index[c.ID] = i
		h.state[i] = CDNStatus{ID: c.ID, Up: true, Since: now}
	}
	return h, nil
}

// CDNs returns the tracked CDNs in the order given to NewHealth.
func (h *Health) CDNs() []CDN { return slices.Clone(h.cdns) }

// Report records a passive result for cdnID: ok is a segment served, !ok a
// failed or timed-out fetch reported by a player or an edge. Unknown IDs are
// ignored: reports come from the field and may name a CDN since removed.
func (h *Health) Report(cdnID string, ok bool) {
	h.record(cdnID, ok, "")
}

// record applies one result. errMsg is kept for status pages.
func (h *Health) record(cdnID string, ok bool, errMsg string) bool {
	i, known := h.index[cdnID]
	if !known {
		return false
	}
	now := h.cfg.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	s := &h.state[i]
	s.LastResult = now
	if ok {
		s.ConsecutiveFailures = 0
		s.ConsecutiveSuccesses++
		s.LastError = ""
		if !s.Up && s.ConsecutiveSuccesses >= h.cfg.RecoverThreshold {
			s.Up, s.Since = true, now
		}
		return true
	}
	s.ConsecutiveSuccesses = 0
	s.ConsecutiveFailures++
	if errMsg != "" {
		s.LastError = errMsg
	}
	if s.Up && s.ConsecutiveFailures >= h.cfg.FailThreshold {
		s.Up, s.Since = false, now
	}
	return true
}

// Status returns the state of one CDN.
func (h *Health) Status(cdnID string) (CDNStatus, bool) {
	i, ok := h.index[cdnID]
	if !ok {
		return CDNStatus{}, false
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.state[i], true
}

// Statuses returns the state of every CDN, in the order given to NewHealth.
func (h *Health) Statuses() []CDNStatus {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return slices.Clone(h.state)
}

// Priority orders the CDN IDs for one playback session: up CDNs before down
// ones; within each, CDNs serving region (case-insensitive) before the rest;
// within those, a weighted random order drawn from sessionID, so that across
// sessions each CDN comes first in proportion to its weight while one
// session gets the same order every time it asks (manifest reloads, steering
// polls) until health changes. Weight-0 CDNs come after weighted ones.
func (h *Health) Priority(region, sessionID string) []string {
	type ranked struct {
		id       string
		up       bool
		inRegion bool
		weighted bool
		key      float64
	}
	h.mu.RLock()
	rs := make([]ranked, len(h.cdns))
	for i, c := range h.cdns {
		rs[i] = ranked{id: c.ID, up: h.state[i].Up}
	}
	h.mu.RUnlock()
	for i, c := range h.cdns {
		rs[i].inRegion = region != "" && slices.ContainsFunc(c.Regions, func(r string) bool { return strings.EqualFold(r, region) })
		rs[i].weighted = c.Weight > 0
		if c.Weight > 0 {
			// Efraimidis–Spirakis: sorting by u^(1/w) descending, u uniform
			// in (0,1), draws a weighted order without replacement. Its log,
			// ln(u)/w, sorts the same and keeps precision.
			rs[i].key = math.Log(sessionUniform(sessionID, c.ID)) / float64(c.Weight)
		}
	}
	slices.SortStableFunc(rs, func(a, b ranked) int {
		if a.up != b.up {
			return boolFirst(a.up)
		}
		if a.inRegion != b.inRegion {
			return boolFirst(a.inRegion)
		}
		if a.weighted != b.weighted {
			return boolFirst(a.weighted)
		}
		if c := cmp.Compare(b.key, a.key); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.id
	}
	return out
}

func boolFirst(a bool) int {
	if a {
		return -1
	}
	return 1
}

// sessionUniform maps (session, cdn) to a number in (0,1), the same for the
// same pair on every replica, independent across CDNs.
func sessionUniform(sessionID, cdnID string) float64 {
	h := fnv.New64a()
	h.Write([]byte(sessionID))
	h.Write([]byte{0})
	h.Write([]byte(cdnID))
	x := h.Sum64()
	// FNV's low bits mix poorly for short inputs; finish with splitmix64.
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return (float64(x>>11) + 0.5) / (1 << 53)
}
