package recommend

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// randomCatalog makes n items; with genres, every item has one of two genres,
// so a genre's document frequency passes commonDF when n > 2*commonDF.
func randomCatalog(n int, genres bool, seed uint64) []*Item {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]*Item, n)
	for i := range out {
		it := &Item{ID: fmt.Sprintf("i%05d", i), PublishedAt: time.Unix(int64(rng.IntN(1e6)), 0)}
		if genres {
			it.Genres = []string{fmt.Sprint("g", rng.IntN(2))}
		}
		for k := 0; k < 3; k++ {
			it.Tags = append(it.Tags, fmt.Sprint("t", rng.IntN(n/5+1)))
		}
		it.Cast = []string{fmt.Sprint("c", rng.IntN(n/3+1))}
		it.Text = fmt.Sprintf("word%d word%d word%d", rng.IntN(50), rng.IntN(500), rng.IntN(500))
		out[i] = it
	}
	return out
}

// bruteForce is the exact top k by content cosine, from all pairs.
func bruteForce(c *contentIndex, i, k int) []neighbour {
	dense := make([]float32, c.vocab())
	c.spread(i, dense)
	var top topK
	top.reset(k)
	for j := 0; j < len(c.off)-1; j++ {
		if j != i {
			top.push(int32(j), c.dot(dense, j))
		}
	}
	return top.sorted(nil)
}

func TestContentNeighboursMatchBruteForce(t *testing.T) {
	cases := []struct {
		name      string
		n         int
		genres    bool
		minRecall float64
	}{
		{"rare tokens only: exact", 800, false, 1},
		{"common genre tokens: scores exact, neighbours nearly", 2500, true, 0.9},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			items := randomCatalog(c.n, c.genres, 5)
			idx := buildContent(items)
			if hasCommon := slicesAny(idx.common); hasCommon != c.genres {
				t.Fatalf("common tokens present: %v, want %v", hasCommon, c.genres)
			}
			got, err := idx.neighbours(context.Background(), 20)
			if err != nil {
				t.Fatal(err)
			}
			found, total := 0, 0
			for i := 0; i < c.n; i += 7 {
				want := bruteForce(idx, i, 20)
				exact := map[int32]float32{}
				for _, w := range want {
					exact[w.j] = w.sim
				}
				dense := make([]float32, idx.vocab())
				idx.spread(i, dense)
				for _, g := range got[i] {
					if d := idx.dot(dense, int(g.j)); math.Abs(float64(d-g.sim)) > 1e-5 {
						t.Fatalf("item %d neighbour %d: score %v, exact %v", i, g.j, g.sim, d)
					}
					if _, ok := exact[g.j]; ok {
						found++
					}
				}
				total += len(want)
				if c.minRecall == 1 && len(got[i]) != len(want) {
					t.Fatalf("item %d: %d neighbours, brute force %d", i, len(got[i]), len(want))
				}
			}
			if recall := float64(found) / float64(total); recall < c.minRecall {
				t.Fatalf("recall of exact top-20: %.3f, want ≥ %.2f", recall, c.minRecall)
			}
		})
	}
}

func TestContentVectorsAreUnitLength(t *testing.T) {
	idx := buildContent(randomCatalog(300, true, 2))
	for i := 0; i < 300; i++ {
		var s float64
		for p := idx.off[i]; p < idx.off[i+1]; p++ {
			s += float64(idx.w[p]) * float64(idx.w[p])
		}
		if math.Abs(s-1) > 1e-5 {
			t.Fatalf("item %d: |v|² = %v", i, s)
		}
	}
	if got := words("The Man who knew TOO much, 1956!"); fmt.Sprint(got) != "[man knew too much 1956]" {
		t.Fatalf("words: %v", got)
	}
}

func slicesAny(b []bool) bool {
	for _, x := range b {
		if x {
			return true
		}
	}
	return false
}
