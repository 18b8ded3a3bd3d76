package usage

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/marquee-video/marquee/billing/metering"
)

type sink struct {
	mu   sync.Mutex
	byID map[string]metering.Event
	fail bool
}

func (s *sink) ingest(_ context.Context, es []metering.Event) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return 0, errors.New("down")
	}
	n := 0
	for _, e := range es {
		if _, dup := s.byID[e.ID]; !dup {
			s.byID[e.ID] = e
			n++
		}
	}
	return n, nil
}

func (s *sink) total(tenant, meter, dim string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, e := range s.byID {
		if e.TenantID == tenant && e.Meter == meter && (dim == "" || e.Dimensions["cdn"] == dim) {
			n += e.Quantity.IntPart()
		}
	}
	return n
}

func TestCounterFlushesExactlyOnce(t *testing.T) {
	s := &sink{byID: map[string]metering.Event{}}
	c := New(s.ingest, nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for range 1000 {
				c.Add("ten_a", metering.EgressBytes, 10, "cdn="+[]string{"a", "b"}[g%2])
				c.Add("ten_b", metering.DRMLicenses, 1)
			}
		})
	}
	wg.Wait()
	s.fail = true
	if err := c.Flush(context.Background(), time.Now()); err == nil {
		t.Fatal("a failed ingest flushed")
	}
	c.Add("ten_a", metering.EgressBytes, 5, "cdn=a") // counted after the failure
	s.fail = false
	for range 3 { // the failed batch again (same ids), then the new counts
		if err := c.Flush(context.Background(), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.total("ten_a", metering.EgressBytes, "a"); got != 20005 {
		t.Errorf("egress via a = %d, want 20005", got)
	}
	if got := s.total("ten_a", metering.EgressBytes, "b"); got != 20000 {
		t.Errorf("egress via b = %d, want 20000", got)
	}
	if got := s.total("ten_b", metering.DRMLicenses, ""); got != 4000 {
		t.Errorf("licenses = %d, want 4000", got)
	}
	var nilCounter *Counter
	nilCounter.Add("ten_a", metering.EgressBytes, 1) // a nil Counter counts nothing and does not panic
}
