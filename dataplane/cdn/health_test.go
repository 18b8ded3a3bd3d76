package cdn_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/marquee-video/marquee/dataplane/cdn"
	"github.com/marquee-video/marquee/internal/errs"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func threeCDNs() []cdn.CDN {
	return []cdn.CDN{
		{ID: "cdn-a", Provider: "akamai", BaseURL: "https://a.example", Weight: 3, Regions: []string{"eu", "us"}},
		{ID: "cdn-b", Provider: "fastly", BaseURL: "https://b.example", Weight: 1, Regions: []string{"eu"}},
		{ID: "cdn-c", Provider: "bunny", BaseURL: "https://c.example", Weight: 1, Regions: []string{"apac"}},
	}
}

func TestHealthHysteresis(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	h, err := cdn.NewHealth(threeCDNs(), cdn.HealthConfig{FailThreshold: 3, RecoverThreshold: 2, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	// Each step: a report for cdn-a, then whether cdn-a is up afterwards.
	steps := []struct {
		ok     bool
		wantUp bool
	}{
		{false, true}, {false, true}, // two failures: still up
		{true, true},                                 // a success resets the run
		{false, true}, {false, true}, {false, false}, // third consecutive: down
		{true, false},               // one success: still down
		{false, false},              // and it resets the recovery run
		{true, false}, {true, true}, // two consecutive: up
	}
	for i, s := range steps {
		clock.Advance(time.Second)
		h.Report("cdn-a", s.ok)
		st, ok := h.Status("cdn-a")
		if !ok {
			t.Fatal("cdn-a unknown")
		}
		if st.Up != s.wantUp {
			t.Fatalf("step %d (ok=%v): up = %v, want %v (%+v)", i, s.ok, st.Up, s.wantUp, st)
		}
		if !st.LastResult.Equal(clock.Now()) {
			t.Fatalf("step %d: LastResult = %v, want %v", i, st.LastResult, clock.Now())
		}
	}
	st, _ := h.Status("cdn-a")
	if want := time.Unix(1_700_000_010, 0); !st.Since.Equal(want) {
		t.Fatalf("Since = %v, want %v (the last transition)", st.Since, want)
	}
	h.Report("no-such-cdn", false) // ignored, no panic
	if _, ok := h.Status("no-such-cdn"); ok {
		t.Fatal("unknown CDN has a status")
	}
}

func TestPriorityOrdering(t *testing.T) {
	h, err := cdn.NewHealth(append(threeCDNs(), cdn.CDN{ID: "origin", BaseURL: "https://o.example", Weight: 0}), cdn.HealthConfig{FailThreshold: 1, RecoverThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, region string
		down         []string
		// wantSet[i] is the set position i must come from (order within a
		// set is the weighted draw).
		wantSets [][]string
	}{
		{"eu, all up", "eu", nil, [][]string{{"cdn-a", "cdn-b"}, {"cdn-a", "cdn-b"}, {"cdn-c"}, {"origin"}}},
		{"apac, all up", "APAC", nil, [][]string{{"cdn-c"}, {"cdn-a", "cdn-b"}, {"cdn-a", "cdn-b"}, {"origin"}}},
		{"eu, a down", "eu", []string{"cdn-a"}, [][]string{{"cdn-b"}, {"cdn-c"}, {"origin"}, {"cdn-a"}}},
		{"unknown region", "mars", []string{"cdn-c"}, [][]string{{"cdn-a", "cdn-b"}, {"cdn-a", "cdn-b"}, {"origin"}, {"cdn-c"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, id := range []string{"cdn-a", "cdn-b", "cdn-c", "origin"} {
				h.Report(id, !slices.Contains(tc.down, id))
			}
			for s := range 50 {
				session := fmt.Sprintf("sess-%d", s)
				got := h.Priority(tc.region, session)
				if len(got) != 4 {
					t.Fatalf("Priority = %v", got)
				}
				for i, id := range got {
					if !slices.Contains(tc.wantSets[i], id) {
						t.Fatalf("session %s: Priority = %v; position %d should be one of %v", session, got, i, tc.wantSets[i])
					}
				}
				if again := h.Priority(tc.region, session); !slices.Equal(again, got) {
					t.Fatalf("same session, different order: %v then %v", got, again)
				}
			}
		})
	}
}

func TestPrioritySpreadsByWeight(t *testing.T) {
	cdns := []cdn.CDN{
		{ID: "heavy", BaseURL: "https://h.example", Weight: 6},
		{ID: "mid", BaseURL: "https://m.example", Weight: 3},
		{ID: "light", BaseURL: "https://l.example", Weight: 1},
	}
	h, err := cdn.NewHealth(cdns, cdn.HealthConfig{})
	if err != nil {
		t.Fatal(err)
	}
	const sessions = 20000
	first := map[string]int{}
	for s := range sessions {
		first[h.Priority("", fmt.Sprintf("%08x-session", s))[0]]++
	}
	// Expected shares 0.6/0.3/0.1; the session ids are fixed, so this is
	// deterministic, and ±2.5 points is > 5 standard deviations.
	for id, want := range map[string]float64{"heavy": 0.6, "mid": 0.3, "light": 0.1} {
		got := float64(first[id]) / sessions
		if got < want-0.025 || got > want+0.025 {
			t.Errorf("%s first in %.3f of sessions, want %.2f (counts %v)", id, got, want, first)
		}
	}
}

func TestNewHealthRejectsBadCDNs(t *testing.T) {
	tests := []struct {
		name string
		cdns []cdn.CDN
		cfg  cdn.HealthConfig
	}{
		{"none", nil, cdn.HealthConfig{}},
		{"bad id", []cdn.CDN{{ID: "cdn a", BaseURL: "https://a"}}, cdn.HealthConfig{}},
		{"duplicate", []cdn.CDN{{ID: "a", BaseURL: "https://a"}, {ID: "a", BaseURL: "https://b"}}, cdn.HealthConfig{}},
		{"negative weight", []cdn.CDN{{ID: "a", BaseURL: "https://a", Weight: -1}}, cdn.HealthConfig{}},
		{"no base url", []cdn.CDN{{ID: "a"}}, cdn.HealthConfig{}},
		{"negative threshold", []cdn.CDN{{ID: "a", BaseURL: "https://a"}}, cdn.HealthConfig{FailThreshold: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := cdn.NewHealth(tc.cdns, tc.cfg); !errs.Is(err, errs.Invalid) {
				t.Fatalf("err = %v, want Invalid", err)
			}
		})
	}
}

// TestHealthConcurrent is for -race: reports, reads and priorities at once.
func TestHealthConcurrent(t *testing.T) {
	h, err := cdn.NewHealth(threeCDNs(), cdn.HealthConfig{FailThreshold: 2, RecoverThreshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				h.Report([]string{"cdn-a", "cdn-b", "cdn-c"}[i%3], (i+g)%4 != 0)
				if p := h.Priority("eu", fmt.Sprint(g, i)); len(p) != 3 {
					t.Errorf("Priority = %v", p)
					return
				}
				_ = h.Statuses()
			}
		})
	}
	wg.Wait()
	for _, s := range h.Statuses() {
		if s.ConsecutiveFailures > 0 && s.ConsecutiveSuccesses > 0 {
			t.Fatalf("inconsistent status %+v", s)
		}
	}
}

func BenchmarkPriority(b *testing.B) {
	h, err := cdn.NewHealth(threeCDNs(), cdn.HealthConfig{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		h.Priority("eu", "0f9c2b7e-session")
	}
}
