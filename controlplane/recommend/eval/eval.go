// Package eval measures Marquee's recommender offline: it reads interaction
// logs (or generates ones with planted taste clusters), holds out each
// viewer's latest title or everything after a point in time, and scores the
// model against popularity and random baselines on precision, recall and NDCG
// at k and on catalog coverage.
package eval

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/marquee-video/marquee/controlplane/recommend"
)

// Split is how interactions are divided into training and test data.
type Split string

const (
	// LeaveLastOut holds out each viewer's latest title (viewers with at least
	// two titles are tested).
	LeaveLastOut Split = "leave-last-out"
	// Temporal trains on everything before a cut-off time and tests each viewer
	// on the new titles they watched after it.
	Temporal Split = "temporal"
)

// Names of the recommenders in a report.
const (
	ModelName      = "marquee item-kNN + content"
	PopularityName = "popularity"
	RandomName     = "random"
)

// ErrNoTestData is returned when the split leaves no viewer to test.
var ErrNoTestData = errors.New("eval: the split leaves no viewer with both training and test titles")

// Config tunes an evaluation. Zero values take defaults.
type Config struct {
	Split        Split   // default LeaveLastOut
	K            int     // list length scored (default 10)
	TestFraction float64 // Temporal: share of interactions after the cut-off (default 0.2)
	MaxViewers   int     // test at most this many viewers, a seeded sample (0: all)
	Seed         uint64  // random baseline and viewer sample
	// Items is the catalog with metadata, when known (generated data). Without
	// it the catalog is the titles of the training data, without metadata.
	Items   []recommend.Item
	Options recommend.Options
}

// Result is one recommender's scores, averaged over the tested viewers.
type Result struct {
	Name                    string
	Precision, Recall, NDCG float64
	Coverage                float64 // share of the catalog recommended to anyone
}

// Report is the outcome of one evaluation run.
type Report struct {
	Split                     Split
	K                         int
	Interactions, Viewers     int
	CatalogItems, TrainEvents int
	TestViewers               int
	Build                     recommend.Stats
	Results                   []Result // model, popularity, random
}

// Result returns the named recommender's result.
func (r Report) Result(name string) (Result, bool) {
	for _, x := range r.Results {
		if x.Name == name {
			return x, true
		}
	}
	return Result{}, false
}

// testCase is one tested viewer: training history and held-out titles.
type testCase struct {
	viewer  string
	history []recommend.Event
	held    map[string]bool
}

// Evaluate splits data, builds the model on the training part, and scores the
// model and the baselines on the same test viewers.
func Evaluate(ctx context.Context, data []Interaction, cfg Config) (Report, error) {
	if cfg.Split == "" {
		cfg.Split = LeaveLastOut
	}
	if cfg.K <= 0 {
		cfg.K = 10
	}
	if cfg.TestFraction <= 0 || cfg.TestFraction >= 1 {
		cfg.TestFraction = 0.2
	}
	train, tests, err := split(data, cfg)
	if err != nil {
		return Report{}, err
	}
	viewers := map[string]bool{}
	for _, x := range data {
		viewers[x.Viewer] = true
	}
	rep := Report{Split: cfg.Split, K: cfg.K, Interactions: len(data), Viewers: len(viewers), TrainEvents: len(train)}
	if cfg.MaxViewers > 0 && len(tests) > cfg.MaxViewers {
		rng := rand.New(rand.NewPCG(cfg.Seed, 7))
		rng.Shuffle(len(tests), func(a, b int) { tests[a], tests[b] = tests[b], tests[a] })
		tests = tests[:cfg.MaxViewers]
		slices.SortFunc(tests, func(a, b testCase) int { return cmp.Compare(a.viewer, b.viewer) })
	}
	rep.TestViewers = len(tests)

	// Catalog and training popularity.
	items := cfg.Items
	if items == nil {
		ids := map[string]bool{}
		for _, e := range train {
			if !ids[e.Item] {
				ids[e.Item] = true
				items = append(items, recommend.Item{ID: e.Item})
			}
		}
	}
	rep.CatalogItems = len(items)
	catalog := make([]string, len(items))
	index := make(map[string]int, len(items))
	for i, it := range items {
		catalog[i] = it.ID
	}
	slices.Sort(catalog)
	for i, id := range catalog {
		index[id] = i
	}
	pop := popularity(train, catalog)

	model, err := recommend.Build(ctx, items, train, cfg.Options)
	if err != nil {
		return Report{}, fmt.Errorf("build model: %w", err)
	}
	rep.Build = model.Stats()

	recommenders := []struct {
		name string
		list func(t *testCase, seen map[string]bool, rng *rand.Rand) []string
	}{
		{ModelName, func(t *testCase, _ map[string]bool, _ *rand.Rand) []string {
			recs := model.ForViewer(t.history, cfg.K, nil)
			out := make([]string, len(recs))
			for i, r := range recs {
				out[i] = r.ID
			}
			return out
		}},
		{PopularityName, func(_ *testCase, seen map[string]bool, _ *rand.Rand) []string {
			var out []string
			for _, id := range pop {
				if len(out) == cfg.K {
					break
				}
				if !seen[id] {
					out = append(out, id)
				}
			}
			return out
		}},
		{RandomName, func(_ *testCase, seen map[string]bool, rng *rand.Rand) []string {
			var out []string
			picked := map[string]bool{}
			for try := 0; len(out) < cfg.K && try < 50*cfg.K; try++ {
				id := catalog[rng.IntN(len(catalog))]
				if !seen[id] && !picked[id] {
					picked[id] = true
					out = append(out, id)
				}
			}
			return out
		}},
	}
	for _, r := range recommenders {
		res, err := score(ctx, tests, cfg, index, r.list)
		if err != nil {
			return Report{}, err
		}
		res.Name = r.name
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}

// score runs one recommender for every test case, in parallel, and averages
// the metrics in test-case order (so the sums, too, are deterministic).
func score(ctx context.Context, tests []testCase, cfg Config, index map[string]int, list func(*testCase, map[string]bool, *rand.Rand) []string) (Result, error) {
	type metrics struct{ p, r, ndcg float64 }
	per := make([]metrics, len(tests))
	covered := make([]bool, len(index))
	var mu sync.Mutex
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]bool, len(index))
			for t := w; t < len(tests); t += workers {
				if ctx.Err() != nil {
					return
				}
				tc := &tests[t]
				seen := make(map[string]bool, len(tc.history))
				for _, e := range tc.history {
					seen[e.Item] = true
				}
				rng := rand.New(rand.NewPCG(cfg.Seed, uint64(t)))
				recs := list(tc, seen, rng)
				hits, dcg := 0, 0.0
				for rank, id := range recs {
					if i, ok := index[id]; ok {
						local[i] = true
					}
					if tc.held[id] {
						hits++
						dcg += 1 / math.Log2(float64(rank)+2)
					}
				}
				idcg := 0.0
				for rank := 0; rank < min(len(tc.held), cfg.K); rank++ {
					idcg += 1 / math.Log2(float64(rank)+2)
				}
				per[t] = metrics{p: float64(hits) / float64(cfg.K), r: float64(hits) / float64(len(tc.held)), ndcg: dcg / idcg}
			}
			mu.Lock()
			for i, c := range local {
				covered[i] = covered[i] || c
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	var res Result
	for _, m := range per {
		res.Precision += m.p
		res.Recall += m.r
		res.NDCG += m.ndcg
	}
	if n := float64(len(tests)); n > 0 {
		res.Precision /= n
		res.Recall /= n
		res.NDCG /= n
	}
	c := 0
	for _, x := range covered {
		if x {
			c++
		}
	}
	if len(covered) > 0 {
		res.Coverage = float64(c) / float64(len(covered))
	}
	return res, nil
}

// popularity orders the catalog by distinct training viewers, then id.
func popularity(train []recommend.Event, catalog []string) []string {
	type pair struct{ v, i string }
	seen := map[pair]bool{}
	count := map[string]int{}
	for _, e := range train {
		if p := (pair{e.Viewer, e.Item}); !seen[p] {
			seen[p] = true
			count[e.Item]++
		}
	}
	out := slices.Clone(catalog)
	slices.SortStableFunc(out, func(a, b string) int { return cmp.Compare(count[b], count[a]) })
	return out
}

func event(x Interaction) recommend.Event {
	return recommend.Event{Viewer: x.Viewer, Item: x.Item, Weight: x.Weight, At: x.At}
}

// split divides data per cfg.Split into training events and test cases, in
// viewer order.
func split(data []Interaction, cfg Config) ([]recommend.Event, []testCase, error) {
	sorted := slices.Clone(data)
	// Time, then input order: the latest row wins a tie.
	slices.SortStableFunc(sorted, func(a, b Interaction) int { return a.At.Compare(b.At) })
	byViewer := map[string][]Interaction{}
	var order []string
	for _, x := range sorted {
		if _, ok := byViewer[x.Viewer]; !ok {
			order = append(order, x.Viewer)
		}
		byViewer[x.Viewer] = append(byViewer[x.Viewer], x)
	}
	slices.Sort(order)

	var train []recommend.Event
	var tests []testCase
	switch cfg.Split {
	case LeaveLastOut:
		for _, v := range order {
			xs := byViewer[v]
			last := xs[len(xs)-1].Item
			tc := testCase{viewer: v, held: map[string]bool{last: true}}
			for _, x := range xs {
				if x.Item != last {
					tc.history = append(tc.history, event(x))
				}
			}
			if len(tc.history) == 0 {
				for _, x := range xs {
					train = append(train, event(x))
				}
				continue
			}
			train = append(train, tc.history...)
			tests = append(tests, tc)
		}
	case Temporal:
		if len(sorted) == 0 {
			return nil, nil, ErrNoTestData
		}
		cut := sorted[min(len(sorted)-1, int(float64(len(sorted))*(1-cfg.TestFraction)))].At
		for _, v := range order {
			tc := testCase{viewer: v, held: map[string]bool{}}
			known := map[string]bool{}
			for _, x := range byViewer[v] {
				if x.At.Before(cut) {
					tc.history = append(tc.history, event(x))
					known[x.Item] = true
				}
			}
			for _, x := range byViewer[v] {
				if !x.At.Before(cut) && !known[x.Item] {
					tc.held[x.Item] = true
				}
			}
			train = append(train, tc.history...)
			if len(tc.history) > 0 && len(tc.held) > 0 {
				tests = append(tests, tc)
			}
		}
	default:
		return nil, nil, fmt.Errorf("eval: unknown split %q: want %s or %s", cfg.Split, LeaveLastOut, Temporal)
	}
	if len(tests) == 0 {
		return nil, nil, ErrNoTestData
	}
	return train, tests, nil
}

// Markdown renders the report as a short description and a table.
func (r Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "split %s, k=%d: %d interactions, %d viewers, %d catalog titles; trained on %d events, tested %d viewers; model built in %s (%d neighbours kept, %d cold titles)\n\n",
		r.Split, r.K, r.Interactions, r.Viewers, r.CatalogItems, r.TrainEvents, r.TestViewers,
		r.Build.BuildDuration.Round(time.Millisecond), r.Build.Neighbors, r.Build.ColdItems)
	fmt.Fprintf(&b, "| recommender | precision@%d | recall@%d | NDCG@%d | coverage |\n", r.K, r.K, r.K)
	b.WriteString("|---|---:|---:|---:|---:|\n")
	for _, x := range r.Results {
		fmt.Fprintf(&b, "| %s | %.4f | %.4f | %.4f | %.4f |\n", x.Name, x.Precision, x.Recall, x.NDCG, x.Coverage)
	}
	return b.String()
}
