package recommend

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"
	"unicode"
)

// Field weights of content tokens: a shared genre says less than a shared tag or
// cast member once IDF has done its part, and description words are noisy.
const (
	genreWeight = 1.0
	tagWeight   = 1.0
	castWeight  = 1.0
	textWeight  = 0.5
)

const (
	// commonDF is the document frequency above which a token (typically a
	// genre) no longer generates candidates by scanning its posting list; it
	// still counts in every cosine.
	commonDF = 1000
	// contentCandidates is how many candidates per item are scored exactly, as
	// a multiple of the neighbours kept.
	contentCandidates = 4
)

// contentIndex holds L2-normalised TF-IDF vectors per item and their
// transpose.
type contentIndex struct {
	off []int32 // item i's tokens are tok[off[i]:off[i+1]], ascending
	tok []int32
	w   []float32

	pOff   []int32 // token t's items are pItem[pOff[t]:pOff[t+1]]
	pItem  []int32
	pW     []float32
	common []bool

	// Item i's common tokens alone: cTok[cOff[i]:cOff[i+1]], ascending.
	cOff []int32
	cTok []int32
	cW   []float32
}

func (c *contentIndex) any() bool      { return len(c.tok) > 0 }
func (c *contentIndex) has(i int) bool { return c.off[i+1] > c.off[i] }

type rawToken struct {
	tok int32
	w   float32
}

func buildContent(items []*Item) *contentIndex {
	n := len(items)
	vocab := make(map[string]int32)
	c := &contentIndex{off: make([]int32, n+1)}
	var raw []rawToken
	add := func(prefix, s string, w float32) {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "" {
			return
		}
		key := prefix + s
		t, ok := vocab[key]
		if !ok {
			t = int32(len(vocab))
			vocab[key] = t
		}
		raw = append(raw, rawToken{tok: t, w: w})
	}
	for i, it := range items {
		raw = raw[:0]
		for _, g := range it.Genres {
			add("g:", g, genreWeight)
		}
		for _, t := range it.Tags {
			add("t:", t, tagWeight)
		}
		for _, p := range it.Cast {
			add("c:", p, castWeight)
		}
		for _, word := range words(it.Text) {
			add("w:", word, textWeight)
		}
		// Sum repeats; text term frequency is then dampened by a log.
		slices.SortFunc(raw, func(a, b rawToken) int { return cmp.Compare(a.tok, b.tok) })
		start := len(c.tok)
		for _, r := range raw {
			if len(c.tok) > start && c.tok[len(c.tok)-1] == r.tok {
				c.w[len(c.w)-1] += r.w
				continue
			}
			c.tok = append(c.tok, r.tok)
			c.w = append(c.w, r.w)
		}
		c.off[i+1] = int32(len(c.tok))
	}
	nt := len(vocab)
	df := make([]int32, nt)
	for _, t := range c.tok {
		df[t]++
	}
	for i := 0; i < n; i++ {
		var norm float64
		for p := c.off[i]; p < c.off[i+1]; p++ {
			w := float64(c.w[p])
			if w > 1 {
				w = 1 + math.Log(w)
			}
			w *= math.Log(1 + float64(n)/float64(df[c.tok[p]]))
			c.w[p] = float32(w)
			norm += w * w
		}
		if norm > 0 {
			inv := float32(1 / math.Sqrt(norm))
			for p := c.off[i]; p < c.off[i+1]; p++ {
				c.w[p] *= inv
			}
		}
	}
	c.pOff = make([]int32, nt+1)
	for t := 0; t < nt; t++ {
		c.pOff[t+1] = c.pOff[t] + df[t]
	}
	c.pItem = make([]int32, len(c.tok))
	c.pW = make([]float32, len(c.tok))
	fill := slices.Clone(c.pOff[:nt])
	for i := 0; i < n; i++ {
		for p := c.off[i]; p < c.off[i+1]; p++ {
			t := c.tok[p]
			c.pItem[fill[t]] = int32(i)
			c.pW[fill[t]] = c.w[p]
			fill[t]++
		}
	}
	// A common token's postings are scanned only partly, newest titles first,
	// so that new titles of a genre are the ones found.
	c.common = make([]bool, nt)
	type posting struct {
		item int32
		w    float32
	}
	var ps []posting
	for t := 0; t < nt; t++ {
		if df[t] <= commonDF {
			continue
		}
		c.common[t] = true
		ps = ps[:0]
		for p := c.pOff[t]; p < c.pOff[t+1]; p++ {
			ps = append(ps, posting{c.pItem[p], c.pW[p]})
		}
		slices.SortFunc(ps, func(a, b posting) int {
			if d := items[b.item].PublishedAt.Compare(items[a.item].PublishedAt); d != 0 {
				return d
			}
			return cmp.Compare(a.item, b.item)
		})
		for k, q := range ps {
			c.pItem[int(c.pOff[t])+k], c.pW[int(c.pOff[t])+k] = q.item, q.w
		}
	}
	c.cOff = make([]int32, n+1)
	for i := 0; i < n; i++ {
		for p := c.off[i]; p < c.off[i+1]; p++ {
			if c.common[c.tok[p]] {
				c.cTok = append(c.cTok, c.tok[p])
				c.cW = append(c.cW, c.w[p])
			}
		}
		c.cOff[i+1] = int32(len(c.cTok))
	}
	return c
}

func (c *contentIndex) vocab() int { return len(c.common) }

// spread writes item i's weights into dense, indexed by token, for dot.
func (c *contentIndex) spread(i int, dense []float32) {
	for p := c.off[i]; p < c.off[i+1]; p++ {
		dense[c.tok[p]] = c.w[p]
	}
}

// unspread zeroes what spread wrote.
func (c *contentIndex) unspread(i int, dense []float32) {
	for p := c.off[i]; p < c.off[i+1]; p++ {
		dense[c.tok[p]] = 0
	}
}

// dot is the content cosine of item j and the item spread into dense.
func (c *contentIndex) dot(dense []float32, j int) float32 {
	var s float32
	for p := c.off[j]; p < c.off[j+1]; p++ {
		s += dense[c.tok[p]] * c.w[p]
	}
	return s
}

// neighbours returns the k most content-similar items of every item. Rare
// tokens generate candidates through their posting lists, topped up from the
// newest titles sharing a common token when they are few; every candidate is
// scored exactly.
func (c *contentIndex) neighbours(ctx context.Context, k int) ([][]neighbour, error) {
	n := len(c.off) - 1
	out := make([][]neighbour, n)
	limit := contentCandidates * k
	err := parallel(ctx, n, func() func(i int) {
		acc := make([]float32, n)
		mine := make([]float32, len(c.common)) // item i's weights of common tokens
		var touched []int32
		var top topK
		return func(i int) {
			if !c.has(i) {
				return
			}
			touched = touched[:0]
			hasCommon := false
			for p := c.off[i]; p < c.off[i+1]; p++ {
				t, w := c.tok[p], c.w[p]
				if c.common[t] {
					hasCommon = true
					continue
				}
				// Item i itself is accumulated too and skipped when scoring;
				// acc[j] > 0 marks j as touched (all weights are positive).
				ws := c.pW[c.pOff[t]:c.pOff[t+1]]
				for q, j := range c.pItem[c.pOff[t]:c.pOff[t+1]] {
					if acc[j] == 0 {
						touched = append(touched, j)
					}
					acc[j] += w * ws[q]
				}
			}
			if hasCommon && len(touched) < limit {
				// A candidate found only here scores from common tokens alone;
				// its tiny mark does not move its score.
				for p := c.off[i]; p < c.off[i+1] && len(touched) < limit; p++ {
					t := c.tok[p]
					if !c.common[t] {
						continue
					}
					for q := c.pOff[t]; q < c.pOff[t+1] && q-c.pOff[t] < int32(limit); q++ {
						if j := c.pItem[q]; acc[j] == 0 {
							acc[j] = math.SmallestNonzeroFloat32
							touched = append(touched, j)
						}
					}
				}
			}
			// Rare tokens gave exact partial dot products; common tokens add
			// theirs from the short per-item lists.
			for p := c.cOff[i]; p < c.cOff[i+1]; p++ {
				mine[c.cTok[p]] = c.cW[p]
			}
			top.reset(k)
			for _, j := range touched {
				if int(j) == i {
					continue
				}
				sim := acc[j]
				for p := c.cOff[j]; p < c.cOff[j+1]; p++ {
					sim += mine[c.cTok[p]] * c.cW[p]
				}
				if top.admits(sim) {
					top.push(j, sim)
				}
			}
			for _, j := range touched {
				acc[j] = 0
			}
			for p := c.cOff[i]; p < c.cOff[i+1]; p++ {
				mine[c.cTok[p]] = 0
			}
			out[i] = top.sorted(nil)
		}
	})
	return out, err
}

// stopword reports whether a description word is too common to mean anything.
func stopword(w string) bool {
	switch w {
	case "the", "and", "for", "with", "from", "that", "this", "his", "her", "their",
		"they", "are", "was", "were", "into", "who", "when", "what", "but", "not",
		"its", "has", "have", "one", "after", "about", "out", "all", "can", "she",
		"him", "them", "than", "then", "will", "must":
		return true
	}
	return false
}

// words splits a description into lower-case words of three or more letters
// or digits, without stopwords.
func words(s string) []string {
	if s == "" {
		return nil
	}
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	out := f[:0]
	for _, w := range f {
		if len([]rune(w)) >= 3 && !stopword(w) {
			out = append(out, w)
		}
	}
	return out
}
