package recommend_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/marquee-video/marquee/controlplane/recommend"
	"github.com/marquee-video/marquee/controlplane/recommend/eval"
)

// benchData is the benchmark tenant: 100,000 titles and 1,000,000
// interactions from 100,000 viewers in 50 taste clusters.
func benchData(b *testing.B) ([]recommend.Item, []recommend.Event, eval.Generated) {
	b.Helper()
	g := eval.Generate(eval.GenerateConfig{Interactions: 1_000_000, Viewers: 100_000, Items: 100_000, Clusters: 50, Seed: 42})
	events := make([]recommend.Event, len(g.Interactions))
	for i, x := range g.Interactions {
		events[i] = recommend.Event{Viewer: x.Viewer, Item: x.Item, Weight: x.Weight, At: x.At, Completed: x.Weight > 1}
	}
	return g.Items, events, g
}

func BenchmarkBuild(b *testing.B) {
	items, events, _ := benchData(b)
	b.ReportAllocs()
	b.ResetTimer()
	var m *recommend.Model
	for b.Loop() {
		var err error
		m, err = recommend.Build(context.Background(), items, events, recommend.Options{})
		if err != nil {
			b.Fatal(err)
		}
	}
	st := m.Stats()
	blob, err := m.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(st.Neighbors), "neighbours")
	b.ReportMetric(float64(len(blob))/(1<<20), "model-MiB")
}

func BenchmarkForViewer(b *testing.B) {
	items, events, _ := benchData(b)
	m, err := recommend.Build(context.Background(), items, events, recommend.Options{})
	if err != nil {
		b.Fatal(err)
	}
	// Real histories of the benchmark's viewers, each asked for 20 titles
	// with an allow filter that rejects a tenth of the catalog.
	var histories [][]recommend.Event
	for k := 0; k < len(events); {
		j := k
		for j < len(events) && events[j].Viewer == events[k].Viewer {
			j++
		}
		histories = append(histories, events[k:j])
		k = j
	}
	allow := func(id string) bool { return id[len(id)-1] != '7' }
	var lat []time.Duration
	b.ResetTimer()
	i := 0
	for b.Loop() {
		start := time.Now()
		recs := m.ForViewer(histories[i%len(histories)], 20, allow)
		lat = append(lat, time.Since(start))
		if len(recs) != 20 {
			b.Fatalf("got %d recs", len(recs))
		}
		i++
	}
	b.StopTimer()
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.95), "p95-µs")
	b.ReportMetric(q(0.99), "p99-µs")
}

func BenchmarkSimilar(b *testing.B) {
	items, events, _ := benchData(b)
	m, err := recommend.Build(context.Background(), items, events, recommend.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	b.ResetTimer()
	i := 0
	for b.Loop() {
		start := time.Now()
		m.Similar(items[(i*7919)%len(items)].ID, 20, nil)
		lat = append(lat, time.Since(start))
		i++
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[int(0.95*float64(len(lat)-1))].Microseconds()), "p95-µs")
}

// BenchmarkUnmarshalBinary is the cost of loading a stored tenant model.
func BenchmarkUnmarshalBinary(b *testing.B) {
	items, events, _ := benchData(b)
	m, err := recommend.Build(context.Background(), items, events, recommend.Options{})
	if err != nil {
		b.Fatal(err)
	}
	blob, err := m.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(blob)))
	b.ResetTimer()
	for b.Loop() {
		var x recommend.Model
		if err := x.UnmarshalBinary(blob); err != nil {
			b.Fatal(err)
		}
	}
}
