package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/marquee-video/marquee/controlplane/recommend"
)

// GenerateConfig describes a synthetic catalog and its viewers. Zero values
// take the defaults of DefaultGenerateConfig.
type GenerateConfig struct {
	Interactions int     // total interactions (default 100,000)
	Viewers      int     // about this many (default Interactions/10); more join while interactions fall short
	Items        int     // default Interactions/20, at least 100
	Clusters     int     // planted taste clusters (default 20)
	InCluster    float64 // chance an interaction is in the viewer's cluster (default 0.8)
	NewTitles    float64 // share of titles nobody has watched yet (default 0.02)
	Seed         uint64
	Start        time.Time // first interaction (default 2026-01-01 UTC)
}

func (c GenerateConfig) withDefaults() GenerateConfig {
	if c.Interactions <= 0 {
		c.Interactions = 100_000
	}
	if c.Viewers <= 0 {
		c.Viewers = max(1, c.Interactions/10)
	}
	if c.Items <= 0 {
		c.Items = max(100, c.Interactions/20)
	}
	if c.Clusters <= 0 {
		c.Clusters = 20
	}
	c.Clusters = min(c.Clusters, c.Items)
	if c.InCluster <= 0 || c.InCluster > 1 {
		c.InCluster = 0.8
	}
	if c.NewTitles <= 0 || c.NewTitles >= 1 {
		c.NewTitles = 0.02
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return c
}

// Generated is a synthetic dataset: a catalog with metadata that follows the
// clusters, and interactions in time order of each viewer.
type Generated struct {
	Items        []recommend.Item
	Interactions []Interaction
	// Cluster of each item id and each viewer id: the planted truth.
	ItemCluster, ViewerCluster map[string]int
	// NewTitles are the items no interaction touches.
	NewTitles []string
}

// Generate makes a dataset with planted taste clusters: every viewer belongs
// to one cluster and draws most titles from it, by a Zipf popularity within
// the cluster, and the rest from the global popularity. A recommender that
// learns the clusters beats global popularity; one that does not cannot.
// The same config gives the same dataset.
func Generate(cfg GenerateConfig) Generated {
	cfg = cfg.withDefaults()
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	g := Generated{ItemCluster: make(map[string]int, cfg.Items), ViewerCluster: make(map[string]int, cfg.Viewers)}

	// Catalog: each item a cluster, metadata drawn from the cluster's pools.
	const genresTotal, genresPerCluster = 24, 2
	const tagsPerCluster, castPerCluster, wordsPerCluster = 20, 200, 120
	common := []string{"story", "life", "world", "journey", "night", "city", "family", "secret", "time", "home"}
	members := make([][]int, cfg.Clusters)
	newCount := int(math.Round(float64(cfg.Items) * cfg.NewTitles))
	g.Items = make([]recommend.Item, cfg.Items)
	for i := range g.Items {
		c := rng.IntN(cfg.Clusters)
		it := recommend.Item{ID: fmt.Sprintf("t%06d", i)}
		for k := 0; k < genresPerCluster; k++ {
			it.Genres = append(it.Genres, fmt.Sprintf("genre-%d", (c*genresPerCluster+k)%genresTotal))
		}
		for k := 0; k < 3; k++ {
			it.Tags = append(it.Tags, fmt.Sprintf("tag-%d-%d", c, rng.IntN(tagsPerCluster)))
		}
		it.Tags = append(it.Tags, fmt.Sprintf("tag-any-%d", rng.IntN(200)))
		for k := 0; k < 3; k++ {
			it.Cast = append(it.Cast, fmt.Sprintf("actor-%d-%d", c, rng.IntN(castPerCluster)))
		}
		words := make([]string, 0, 10)
		for k := 0; k < 8; k++ {
			words = append(words, fmt.Sprintf("w%dx%d", c, rng.IntN(wordsPerCluster)))
		}
		words = append(words, common[rng.IntN(len(common))], common[rng.IntN(len(common))])
		it.Text = fmt.Sprint(words)
		it.PublishedAt = cfg.Start.Add(-time.Duration(rng.IntN(3*365*24)) * time.Hour)
		if i >= cfg.Items-newCount {
			it.PublishedAt = cfg.Start.Add(90 * 24 * time.Hour).Add(time.Duration(i) * time.Minute)
			g.NewTitles = append(g.NewTitles, it.ID)
		} else {
			members[c] = append(members[c], i)
		}
		g.Items[i] = it
		g.ItemCluster[it.ID] = c
	}

	// Popularity: Zipf by a random rank, within each cluster and globally.
	zipf := func(n int) []float64 {
		cum := make([]float64, n)
		s := 0.0
		for r := 0; r < n; r++ {
			s += 1 / math.Pow(float64(r+1), 0.9)
			cum[r] = s
		}
		return cum
	}
	draw := func(cum []float64) int {
		return min(sort.SearchFloat64s(cum, rng.Float64()*cum[len(cum)-1]), len(cum)-1)
	}
	for c := range members {
		rng.Shuffle(len(members[c]), func(a, b int) { members[c][a], members[c][b] = members[c][b], members[c][a] })
	}
	var all []int
	for c := range members {
		all = append(all, members[c]...)
	}
	slices.Sort(all)
	rng.Shuffle(len(all), func(a, b int) { all[a], all[b] = all[b], all[a] })
	clusterCum := make([][]float64, cfg.Clusters)
	for c := range members {
		if len(members[c]) > 0 {
			clusterCum[c] = zipf(len(members[c]))
		}
	}
	globalCum := zipf(len(all))

	// Viewers: history lengths from a geometric-like spread around the mean,
	// at least 2, and the total trimmed to Interactions.
	mean := float64(cfg.Interactions) / float64(cfg.Viewers)
	g.Interactions = make([]Interaction, 0, cfg.Interactions)
	seen := make(map[int]bool)
	for v := 0; len(g.Interactions) < cfg.Interactions && v < 10*(cfg.Viewers+cfg.Interactions); v++ {
		id := fmt.Sprintf("v%06d", v)
		c := rng.IntN(cfg.Clusters)
		for len(members[c]) == 0 {
			c = rng.IntN(cfg.Clusters)
		}
		g.ViewerCluster[id] = c
		n := max(2, int(math.Round(rng.ExpFloat64()*(mean-2)))+2)
		n = min(n, cfg.Interactions-len(g.Interactions), len(all))
		at := cfg.Start.Add(time.Duration(rng.IntN(60*24)) * time.Hour)
		clear(seen)
		for k := 0; k < n; k++ {
			var item int
			for try := 0; try < 20; try++ {
				if rng.Float64() < cfg.InCluster {
					item = members[c][draw(clusterCum[c])]
				} else {
					item = all[draw(globalCum)]
				}
				if !seen[item] {
					break
				}
			}
			if seen[item] {
				continue
			}
			seen[item] = true
			at = at.Add(time.Duration(1+rng.IntN(48)) * time.Hour)
			w := 1.0
			if rng.Float64() < 0.3 {
				w = 2 // finished it
			}
			g.Interactions = append(g.Interactions, Interaction{Viewer: id, Item: g.Items[item].ID, At: at, Weight: w})
		}
	}
	return g
}
