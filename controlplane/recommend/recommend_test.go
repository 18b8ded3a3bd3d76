package recommend_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/marquee-video/marquee/controlplane/recommend"
	"github.com/marquee-video/marquee/controlplane/recommend/eval"
)

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// fixture is a generated tenant: 3,000 titles in 10 taste clusters, 30,000
// interactions, a few titles nobody has watched.
type fixture struct {
	g       eval.Generated
	events  []recommend.Event
	viewers map[string][]recommend.Event
	order   []string // viewers in generation order
	model   *recommend.Model
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{g: eval.Generate(eval.GenerateConfig{Interactions: 30_000, Items: 3_000, Clusters: 10, Seed: 7}), viewers: map[string][]recommend.Event{}}
	for _, x := range f.g.Interactions {
		e := recommend.Event{Viewer: x.Viewer, Item: x.Item, Weight: x.Weight, At: x.At, Completed: x.Weight > 1}
		f.events = append(f.events, e)
		if _, ok := f.viewers[x.Viewer]; !ok {
			f.order = append(f.order, x.Viewer)
		}
		f.viewers[x.Viewer] = append(f.viewers[x.Viewer], e)
	}
	m, err := recommend.Build(context.Background(), f.g.Items, f.events, recommend.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.model = m
	return f
}

func ids(recs []recommend.Rec) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func TestForViewerExcludesHistoryAndDisallowed(t *testing.T) {
	f := newFixture(t)
	rejectOdd := func(id string) bool { return (id[len(id)-1]-'0')%2 == 0 }
	cases := []struct {
		name  string
		n     int
		allow func(string) bool
	}{
		{"everything allowed", 10, nil},
		{"half the catalog rejected", 10, rejectOdd},
		{"long list, half rejected", 200, rejectOdd},
		{"only one cluster allowed", 30, func(id string) bool { return f.g.ItemCluster[id] == 3 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, v := range f.order[:300] {
				hist := f.viewers[v]
				recs := f.model.ForViewer(hist, c.n, c.allow)
				if len(recs) != c.n {
					t.Fatalf("viewer %s: %d recs, want %d (enough titles are allowed)", v, len(recs), c.n)
				}
				inHistory := map[string]bool{}
				for _, e := range hist {
					inHistory[e.Item] = true
				}
				dup := map[string]bool{}
				for k, r := range recs {
					if k > 0 && r.Score > recs[k-1].Score {
						t.Fatalf("viewer %s: score rises at %d: %v then %v", v, k, recs[k-1].Score, r.Score)
					}
					if inHistory[r.ID] {
						t.Fatalf("viewer %s: recommended %s from the history", v, r.ID)
					}
					if c.allow != nil && !c.allow(r.ID) {
						t.Fatalf("viewer %s: recommended disallowed %s", v, r.ID)
					}
					if dup[r.ID] {
						t.Fatalf("viewer %s: %s twice", v, r.ID)
					}
					dup[r.ID] = true
				}
			}
		})
	}
}

func TestForViewerNeverReturnsCompleted(t *testing.T) {
	// Viewers who completed a title are the ones most similar to it: without
	// the exclusion it would be their top recommendation.
	items := []recommend.Item{{ID: "a"}, {ID: "b"}, {ID: "c"}, {ID: "d"}}
	var events []recommend.Event
	for v := 0; v < 20; v++ {
		for _, it := range []string{"a", "b", "c"} {
			events = append(events, recommend.Event{Viewer: fmt.Sprint("v", v), Item: it, At: t0, Completed: true})
		}
	}
	m, err := recommend.Build(context.Background(), items, events, recommend.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hist := []recommend.Event{
		{Viewer: "x", Item: "a", At: t0, Completed: true},
		{Viewer: "x", Item: "b", At: t0.Add(time.Hour), Weight: 0.5},
		{Viewer: "x", Item: "b", At: t0.Add(2 * time.Hour), Completed: true},
	}
	got := ids(m.ForViewer(hist, 4, nil))
	if want := []string{"c", "d"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("recs %v, want %v (a and b are finished)", got, want)
	}
}

func TestBecauseYouWatchedNamesHistory(t *testing.T) {
	f := newFixture(t)
	because := 0
	for _, v := range f.order[:300] {
		hist := f.viewers[v]
		inHistory := map[string]bool{}
		for _, e := range hist {
			inHistory[e.Item] = true
		}
		for _, r := range f.model.ForViewer(hist, 10, nil) {
			switch r.Reason {
			case recommend.ReasonBecauseYouWatched:
				because++
				if !inHistory[r.Because] {
					t.Fatalf("viewer %s: %s because of %q, not in the history", v, r.ID, r.Because)
				}
			case recommend.ReasonSimilarContent, recommend.ReasonTrending:
				if r.Because != "" {
					t.Fatalf("viewer %s: %s reason %s with Because %q", v, r.ID, r.Reason, r.Because)
				}
			default:
				t.Fatalf("unknown reason %q", r.Reason)
			}
		}
	}
	if because < 1000 {
		t.Fatalf("%d because_you_watched recs in 3,000; want most of them", because)
	}
}

func TestCoWatchingDrivesRecommendations(t *testing.T) {
	// Two audiences: {a,b,c} and {d,e,f}; e is the most popular title overall.
	items := []recommend.Item{{ID: "a"}, {ID: "b"}, {ID: "c"}, {ID: "d"}, {ID: "e"}, {ID: "f"}}
	var events []recommend.Event
	add := func(v string, titles ...string) {
		for k, it := range titles {
			events = append(events, recommend.Event{Viewer: v, Item: it, At: t0.Add(time.Duration(k) * time.Hour)})
		}
	}
	for v := 0; v < 10; v++ {
		add(fmt.Sprint("p", v), "a", "b", "c")
	}
	for v := 0; v < 30; v++ {
		add(fmt.Sprint("q", v), "d", "e", "f")
	}
	for v := 0; v < 30; v++ {
		add(fmt.Sprint("r", v), "e")
	}
	m, err := recommend.Build(context.Background(), items, events, recommend.Options{})
	if err != nil {
		t.Fatal(err)
	}
	recs := m.ForViewer([]recommend.Event{{Viewer: "new", Item: "a", At: t0}}, 2, nil)
	if got := ids(recs); !reflect.DeepEqual(got, []string{"b", "c"}) {
		t.Fatalf("after a: %v, want [b c] (co-watched), not the popular e", got)
	}
	for _, r := range recs {
		if r.Reason != recommend.ReasonBecauseYouWatched || r.Because != "a" {
			t.Fatalf("rec %+v: want because_you_watched a", r)
		}
	}
	if got := ids(m.Similar("d", 2, nil)); !reflect.DeepEqual(got, []string{"f", "e"}) && !reflect.DeepEqual(got, []string{"e", "f"}) {
		t.Fatalf("similar to d: %v, want e and f", got)
	}
}

func TestColdStartTitleGetsSimilarContent(t *testing.T) {
	f := newFixture(t)
	if len(f.g.NewTitles) == 0 {
		t.Fatal("fixture has no new titles")
	}
	sameCluster, total := 0, 0
	for _, id := range f.g.NewTitles {
		recs := f.model.Similar(id, 10, nil)
		if len(recs) != 10 {
			t.Fatalf("similar to new title %s: %d recs, want 10", id, len(recs))
		}
		for _, r := range recs {
			if r.ID == id {
				t.Fatalf("%s similar to itself", id)
			}
			if r.Reason != recommend.ReasonSimilarContent || r.Because != "" {
				t.Fatalf("similar to new title %s: %+v, want similar_content", id, r)
			}
			total++
			if f.g.ItemCluster[r.ID] == f.g.ItemCluster[id] {
				sameCluster++
			}
		}
	}
	// Metadata follows the planted clusters: content neighbours must too.
	if sameCluster*10 < total*9 {
		t.Fatalf("%d of %d content neighbours in the new title's cluster, want 90%%", sameCluster, total)
	}

	// New titles reach viewers of their cluster through content.
	reached := 0
	isNew := map[string]bool{}
	for _, id := range f.g.NewTitles {
		isNew[id] = true
	}
	for _, v := range f.order[:500] {
		for _, r := range f.model.ForViewer(f.viewers[v], 50, nil) {
			if isNew[r.ID] {
				if r.Reason != recommend.ReasonSimilarContent {
					t.Fatalf("new title %s recommended with reason %s", r.ID, r.Reason)
				}
				reached++
			}
		}
	}
	if reached == 0 {
		t.Fatal("no new title reached any of 500 viewers")
	}
}

func TestNewViewerGetsTrending(t *testing.T) {
	f := newFixture(t)
	trending := f.model.Trending(10, nil)
	cases := []struct {
		name    string
		history []recommend.Event
	}{
		{"no history", nil},
		{"only titles the model does not know", []recommend.Event{{Viewer: "x", Item: "gone", At: t0}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			recs := f.model.ForViewer(c.history, 10, nil)
			if !reflect.DeepEqual(recs, trending) {
				t.Fatalf("got %v, want trending %v", ids(recs), ids(trending))
			}
			for _, r := range recs {
				if r.Reason != recommend.ReasonTrending || r.Because != "" {
					t.Fatalf("rec %+v: want trending", r)
				}
			}
		})
	}
}

func TestTrendingDecaysWithTime(t *testing.T) {
	items := []recommend.Item{{ID: "old-hit"}, {ID: "new-hit"}, {ID: "fresh", PublishedAt: t0}, {ID: "stale", PublishedAt: t0.AddDate(-1, 0, 0)}}
	var events []recommend.Event
	for v := 0; v < 10; v++ {
		events = append(events, recommend.Event{Viewer: fmt.Sprint("a", v), Item: "old-hit", At: t0.AddDate(0, 0, -60)})
	}
	for v := 0; v < 3; v++ {
		events = append(events, recommend.Event{Viewer: fmt.Sprint("b", v), Item: "new-hit", At: t0.AddDate(0, 0, -1)})
	}
	m, err := recommend.Build(context.Background(), items, events, recommend.Options{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"new-hit", "old-hit", "fresh", "stale"}
	if got := ids(m.Trending(10, nil)); !reflect.DeepEqual(got, want) {
		t.Fatalf("trending %v, want %v", got, want)
	}
	if got := ids(m.Trending(2, func(id string) bool { return id != "new-hit" })); !reflect.DeepEqual(got, []string{"old-hit", "fresh"}) {
		t.Fatalf("trending without new-hit %v", got)
	}
	// With a half-life of a year, ten old plays beat three new ones.
	m, err = recommend.Build(context.Background(), items, events, recommend.Options{Now: t0, TrendingHalfLife: 365 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(m.Trending(1, nil)); got[0] != "old-hit" {
		t.Fatalf("trending with a long half-life %v, want old-hit first", got)
	}
}

func TestSimilarRespectsAllowAndFillsUp(t *testing.T) {
	f := newFixture(t)
	allow := func(id string) bool { return f.g.ItemCluster[id] != f.g.ItemCluster["t000001"] }
	for _, n := range []int{1, 10, 120} {
		recs := f.model.Similar("t000001", n, allow)
		if len(recs) != n {
			t.Fatalf("n=%d: %d recs", n, len(recs))
		}
		for k, r := range recs {
			if k > 0 && r.Score > recs[k-1].Score {
				t.Fatalf("n=%d: score rises at %d", n, k)
			}
			if !allow(r.ID) || r.ID == "t000001" {
				t.Fatalf("n=%d: %s not allowed", n, r.ID)
			}
		}
	}
	if recs := f.model.Similar("no-such-title", 10, nil); recs != nil {
		t.Fatalf("unknown title: %v", recs)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	f := newFixture(t)
	blob, err := f.model.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back recommend.Model
	if err := back.UnmarshalBinary(blob); err != nil {
		t.Fatal(err)
	}
	if back.Stats() != f.model.Stats() {
		t.Fatalf("stats %+v, want %+v", back.Stats(), f.model.Stats())
	}
	allow := func(id string) bool { return id[len(id)-1] != '3' }
	for _, v := range f.order[:200] {
		if a, b := f.model.ForViewer(f.viewers[v], 20, allow), back.ForViewer(f.viewers[v], 20, allow); !reflect.DeepEqual(a, b) {
			t.Fatalf("viewer %s: %v, decoded model %v", v, a, b)
		}
	}
	for _, it := range f.g.Items[:200] {
		if a, b := f.model.Similar(it.ID, 20, allow), back.Similar(it.ID, 20, allow); !reflect.DeepEqual(a, b) {
			t.Fatalf("similar %s: %v, decoded model %v", it.ID, a, b)
		}
	}
	if a, b := f.model.Trending(50, allow), back.Trending(50, allow); !reflect.DeepEqual(a, b) {
		t.Fatalf("trending %v, decoded %v", a, b)
	}
	again, err := back.MarshalBinary()
	if err != nil || !reflect.DeepEqual(again, blob) {
		t.Fatalf("re-encoding differs (err %v)", err)
	}
}

func TestUnmarshalRejectsCorruptInput(t *testing.T) {
	items := []recommend.Item{{ID: "a", Tags: []string{"x"}}, {ID: "b", Tags: []string{"x"}}, {ID: "c"}}
	events := []recommend.Event{{Viewer: "v", Item: "a", At: t0}, {Viewer: "v", Item: "c", At: t0}}
	m, err := recommend.Build(context.Background(), items, events, recommend.Options{})
	if err != nil {
		t.Fatal(err)
	}
	blob, _ := m.MarshalBinary()
	before := m.Trending(3, nil)
	for cut := 0; cut < len(blob); cut++ {
		if err := m.UnmarshalBinary(blob[:cut]); !errors.Is(err, recommend.ErrInvalid) {
			t.Fatalf("truncated at %d of %d: err %v, want ErrInvalid", cut, len(blob), err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for k := 0; k < 2000; k++ {
		bad := append([]byte(nil), blob...)
		bad[rng.IntN(len(bad))] ^= byte(1 + rng.IntN(255))
		var x recommend.Model
		if err := x.UnmarshalBinary(bad); err == nil {
			// A flipped score byte still decodes; the model must still answer.
			x.ForViewer(events, 3, nil)
			x.Similar("a", 3, nil)
		}
	}
	if err := m.UnmarshalBinary(append(blob, 0)); !errors.Is(err, recommend.ErrInvalid) {
		t.Fatalf("trailing byte: %v", err)
	}
	if got := m.Trending(3, nil); !reflect.DeepEqual(got, before) {
		t.Fatal("a failed decode changed the model")
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	f := newFixture(t)
	rng := rand.New(rand.NewPCG(3, 4))
	items := append([]recommend.Item(nil), f.g.Items...)
	events := append([]recommend.Event(nil), f.events...)
	rng.Shuffle(len(items), func(a, b int) { items[a], items[b] = items[b], items[a] })
	// Shuffle events but keep each viewer's own events in order: the
	// co-occurrence counts do not depend on their interleaving.
	rng.Shuffle(len(events), func(a, b int) { events[a], events[b] = events[b], events[a] })
	m, err := recommend.Build(context.Background(), items, events, recommend.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range f.order[:200] {
		if a, b := f.model.ForViewer(f.viewers[v], 20, nil), m.ForViewer(f.viewers[v], 20, nil); !reflect.DeepEqual(a, b) {
			t.Fatalf("viewer %s: %v, shuffled input %v", v, ids(a), ids(b))
		}
	}
	for _, it := range f.g.Items[:300] {
		if a, b := f.model.Similar(it.ID, 20, nil), m.Similar(it.ID, 20, nil); !reflect.DeepEqual(a, b) {
			t.Fatalf("similar %s: %v, shuffled input %v", it.ID, ids(a), ids(b))
		}
	}
}

func TestBuildInput(t *testing.T) {
	cases := []struct {
		name  string
		items []recommend.Item
	}{
		{"empty id", []recommend.Item{{ID: "a"}, {ID: ""}}},
		{"duplicate id", []recommend.Item{{ID: "a"}, {ID: "b"}, {ID: "a"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := recommend.Build(context.Background(), c.items, nil, recommend.Options{}); !errors.Is(err, recommend.ErrInvalid) {
				t.Fatalf("err %v, want ErrInvalid", err)
			}
		})
	}
	t.Run("unusable events are skipped", func(t *testing.T) {
		events := []recommend.Event{
			{Viewer: "v", Item: "a", At: t0},
			{Viewer: "v", Item: "unknown", At: t0},
			{Viewer: "", Item: "a", At: t0},
			{Viewer: "v", Item: "b", At: t0, Weight: -1},
		}
		m, err := recommend.Build(context.Background(), []recommend.Item{{ID: "a"}, {ID: "b"}}, events, recommend.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if st := m.Stats(); st.Events != 1 || st.SkippedEvents != 3 || st.Viewers != 1 || st.Items != 2 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("empty model answers nothing", func(t *testing.T) {
		m, err := recommend.Build(context.Background(), nil, nil, recommend.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(m.ForViewer(nil, 5, nil)) != 0 || len(m.Trending(5, nil)) != 0 || len(m.Similar("a", 5, nil)) != 0 {
			t.Fatal("empty model recommended something")
		}
	})
}

func TestBuildHonoursCancellation(t *testing.T) {
	g := eval.Generate(eval.GenerateConfig{Interactions: 20_000, Seed: 1})
	var events []recommend.Event
	for _, x := range g.Interactions {
		events = append(events, recommend.Event{Viewer: x.Viewer, Item: x.Item, At: x.At})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := recommend.Build(ctx, g.Items, events, recommend.Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}

func TestConcurrentQueriesAgree(t *testing.T) {
	f := newFixture(t)
	want := make([][]recommend.Rec, 100)
	for i, v := range f.order[:100] {
		want[i] = f.model.ForViewer(f.viewers[v], 15, nil)
	}
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		go func() {
			for k := 0; k < 300; k++ {
				i := (k*7 + w) % 100
				got := f.model.ForViewer(f.viewers[f.order[i]], 15, nil)
				if !reflect.DeepEqual(got, want[i]) {
					errs <- fmt.Errorf("viewer %s: concurrent answer differs", f.order[i])
					return
				}
				f.model.Similar(f.g.Items[i].ID, 10, nil)
			}
			errs <- nil
		}()
	}
	for w := 0; w < 8; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
