package cdn_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/marquee-video/marquee/dataplane/cdn"
	"github.com/marquee-video/marquee/dataplane/cdn/cdntest"
)

// TestProberAgainstRealEdge takes a real nginx edge down and up again and
// watches the hysteresis move it to the back of the priority list and back.
func TestProberAgainstRealEdge(t *testing.T) {
	const secret = "probe-s3cret"
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/canary/ok.txt" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer origin.Close()
	edge := cdntest.StartEdge(t, cdntest.EdgeConfig{Origin: origin.URL, Secret: secret})
	signer, err := cdn.NewSigner("nginx", cdn.SignerConfig{Key: secret})
	if err != nil {
		t.Fatal(err)
	}
	unsignedEdge := cdntest.StartEdge(t, cdntest.EdgeConfig{Origin: origin.URL, Secret: "other"})

	h, err := cdn.NewHealth([]cdn.CDN{
		{ID: "edge", Provider: "nginx", BaseURL: edge.URL(), Weight: 1, CanaryPath: "/canary/ok.txt", Signer: signer},
		{ID: "origin", Provider: "generic", BaseURL: origin.URL, Weight: 1, CanaryPath: "canary/ok.txt"},
		// Probed without the right token: the edge answers 403, a failure.
		{ID: "misconfigured", Provider: "nginx", BaseURL: unsignedEdge.URL(), Weight: 100, CanaryPath: "/canary/ok.txt", Signer: signer},
	}, cdn.HealthConfig{FailThreshold: 2, RecoverThreshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	p := &cdn.Prober{Health: h, Timeout: 5 * time.Second}
	ctx := context.Background()

	steps := []struct {
		name   string
		before func()
		edgeOK bool
		wantUp bool
	}{
		{"healthy", nil, true, true},
		{"stopped once: still up", edge.Stop, false, true},
		{"stopped twice: down", nil, false, false},
		{"restarted once: still down", edge.Start, true, false},
		{"restarted twice: up", nil, true, true},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		res := p.ProbeOnce(ctx)
		if (res["edge"] == nil) != s.edgeOK {
			t.Fatalf("%s: edge probe error = %v, want ok=%v\n%s", s.name, res["edge"], s.edgeOK, edge.Logs())
		}
		if res["origin"] != nil {
			t.Fatalf("%s: origin probe: %v", s.name, res["origin"])
		}
		if res["misconfigured"] == nil || !strings.Contains(res["misconfigured"].Error(), "HTTP 403") {
			t.Fatalf("%s: misconfigured probe error = %v, want HTTP 403", s.name, res["misconfigured"])
		}
		st, _ := h.Status("edge")
		if st.Up != s.wantUp {
			t.Fatalf("%s: up = %v, want %v (%+v)", s.name, st.Up, s.wantUp, st)
		}
		prio := h.Priority("", "session-1")
		if last := prio[len(prio)-1]; !s.wantUp && last != "edge" && last != "misconfigured" {
			t.Fatalf("%s: down edge not at the back: %v", s.name, prio)
		}
	}
	if st, _ := h.Status("misconfigured"); st.Up || !strings.Contains(st.LastError, "HTTP 403") {
		t.Fatalf("misconfigured status = %+v", st)
	}
	if got := h.Priority("", "session-1"); got[2] != "misconfigured" {
		t.Fatalf("down CDN with weight 100 not last: %v", got)
	}
}

func TestProberTimeoutAndRun(t *testing.T) {
	seen := make(chan struct{}, 100)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case seen <- struct{}{}:
		default:
		}
		<-r.Context().Done() // never answers; the probe's timeout must end it
	}))
	defer hang.Close()
	h, err := cdn.NewHealth([]cdn.CDN{{ID: "slow", BaseURL: hang.URL, CanaryPath: "/c"}}, cdn.HealthConfig{FailThreshold: 1, RecoverThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	p := &cdn.Prober{Health: h, Timeout: 50 * time.Millisecond, Interval: time.Millisecond}
	res := p.ProbeOnce(context.Background())
	if !errors.Is(res["slow"], context.DeadlineExceeded) {
		t.Fatalf("probe error = %v, want a deadline", res["slow"])
	}
	if st, _ := h.Status("slow"); st.Up {
		t.Fatal("timed-out CDN still up")
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	for range 3 { // Run keeps probing
		<-seen
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
}
