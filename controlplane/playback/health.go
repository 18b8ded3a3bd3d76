package playback

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/marquee-video/marquee/dataplane/cdn"
)

// tenantHealth is the health of one tenant's pathways. It is rebuilt when
// the tenant's CDN set changes (the key says which set it was built for).
type tenantHealth struct {
	key string
	h   *cdn.Health
}

func pathwaysKey(ps []pathway) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.id + "|" + p.base + "|" + p.canary + "\n")
	}
	return b.String()
}

func (s *Service) healthOf(tenant string, tp *tenantPathways) *tenantHealth {
	key, ps := tp.key, tp.list
	s.mu.Lock()
	defer s.mu.Unlock()
	if th, ok := s.health[tenant]; ok && th.key == key {
		return th
	}
	cs := make([]cdn.CDN, len(ps))
	for i, p := range ps {
		cs[i] = cdn.CDN{ID: p.id, Provider: p.provider, BaseURL: p.base, Weight: p.weight, Regions: p.regions, CanaryPath: p.canary}
	}
	h, err := cdn.NewHealth(cs, cdn.HealthConfig{Now: s.cfg.Now})
	if err != nil {
		// Pathways were validated when stored; an invalid one would only
		// lose health tracking, never playback.
		s.cfg.Log.Error("cdn health", "tenant", tenant, "err", err)
		h, _ = cdn.NewHealth(nil, cdn.HealthConfig{})
	}
	th := &tenantHealth{key: key, h: h}
	s.health[tenant] = th
	return th
}

// priority is the session's pathway order: healthy CDNs first, then those
// serving the region, then by weight, stable per session.
func (s *Service) priority(tenant string, tp *tenantPathways, region, session string) []string {
	if len(tp.list) == 1 {
		return []string{tp.list[0].id}
	}
	order := s.healthOf(tenant, tp).h.Priority(region, session)
	// Pathways the tracker does not know (it failed to build) go last.
	for _, p := range tp.list {
		if !slices.Contains(order, p.id) {
			order = append(order, p.id)
		}
	}
	return order
}

// Probe fetches every known tenant CDN's canary object once and records the
// results; RunProbes calls it on an interval.
func (s *Service) Probe(ctx context.Context, client *http.Client) {
	s.mu.Lock()
	hs := make([]*tenantHealth, 0, len(s.health))
	for _, th := range s.health {
		hs = append(hs, th)
	}
	s.mu.Unlock()
	for _, th := range hs {
		if len(th.h.CDNs()) < 2 {
			continue // one pathway has nowhere to fail over to
		}
		p := cdn.Prober{Health: th.h, Client: client, Timeout: 2 * time.Second, Logger: s.cfg.Log}
		p.ProbeOnce(ctx)
	}
}

// RunProbes probes every interval until ctx ends.
func (s *Service) RunProbes(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Probe(ctx, nil)
		}
	}
}
