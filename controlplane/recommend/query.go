package recommend

import (
	"cmp"
	"math"
	"slices"
	"sync"
)

// recencyHalfRank is how many more recent titles halve a history title's say
// in a viewer's recommendations.
const recencyHalfRank = 10.0

// queryScratch is per-request working memory, one slot per item, kept zeroed
// between requests.
type queryScratch struct {
	score, cf, bestCF []float32
	fromCF            []int32
	seen              []bool
	touched           []int32
	picked            []int32
}

func (m *Model) initScratch() {
	n := len(m.ids)
	m.scratch = &sync.Pool{New: func() any {
		return &queryScratch{
			score: make([]float32, n), cf: make([]float32, n), bestCF: make([]float32, n),
			fromCF: make([]int32, n), seen: make([]bool, n),
		}
	}}
}

// historyItem is one title of a viewer's history, aggregated.
type historyItem struct {
	item int32
	conf float64
	last int64
}

// ForViewer recommends up to n titles for a viewer with this history (any
// order; several events per title add up). Titles in the history are never
// recommended: completed ones are finished, and started ones belong on a
// continue-watching shelf. Titles allow rejects are skipped (nil allows all).
// Scores descend along the list: titles like the history first, then trending
// titles when those run short. With no usable history the list is Trending's.
func (m *Model) ForViewer(history []Event, n int, allow func(itemID string) bool) []Rec {
	if n <= 0 || len(m.ids) == 0 {
		return nil
	}
	sc := m.scratch.Get().(*queryScratch)
	defer m.scratch.Put(sc)

	hs := make([]historyItem, 0, len(history))
	at := make(map[int32]int, len(history))
	for k := range history {
		e := &history[k]
		i, ok := m.index[e.Item]
		if !ok {
			continue
		}
		w := eventWeight(e)
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			w = 0
		}
		if e.Completed {
			w++
		}
		if x, ok := at[i]; ok {
			hs[x].conf += w
			hs[x].last = max(hs[x].last, e.At.UnixMilli())
			continue
		}
		at[i] = len(hs)
		hs = append(hs, historyItem{item: i, conf: w, last: e.At.UnixMilli()})
		sc.seen[i] = true
	}
	slices.SortFunc(hs, func(a, b historyItem) int {
		if c := cmp.Compare(b.last, a.last); c != 0 {
			return c
		}
		return cmp.Compare(a.item, b.item)
	})

	sc.touched = sc.touched[:0]
	for p, h := range hs[:min(len(hs), maxQueryHistory)] {
		rw := float32(math.Log1p(h.conf) * math.Exp2(-float64(p)/recencyHalfRank))
		if !(rw > 0) {
			continue
		}
		for q := m.nbrOff[h.item]; q < m.nbrOff[h.item+1]; q++ {
			j := m.nbrIdx[q]
			if sc.seen[j] {
				continue
			}
			c := rw * m.nbrSim[q]
			if sc.score[j] == 0 {
				sc.touched = append(sc.touched, j)
			}
			sc.score[j] += c
			if !m.nbrContent[q] {
				sc.cf[j] += c
				if c > sc.bestCF[j] {
					sc.bestCF[j], sc.fromCF[j] = c, h.item
				}
			}
		}
	}
	slices.SortFunc(sc.touched, func(a, b int32) int {
		if c := cmp.Compare(sc.score[b], sc.score[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})

	out := make([]Rec, 0, n)
	sc.picked = sc.picked[:0]
	for _, j := range sc.touched {
		if len(out) == n {
			break
		}
		id := m.ids[j]
		if allow != nil && !allow(id) {
			continue
		}
		r := Rec{ID: id, Score: float64(sc.score[j]), Reason: ReasonSimilarContent}
		if sc.cf[j]*2 >= sc.score[j] {
			r.Reason, r.Because = ReasonBecauseYouWatched, m.ids[sc.fromCF[j]]
		}
		out = append(out, r)
		sc.seen[j] = true
		sc.picked = append(sc.picked, j)
	}
	out = m.fillTrending(out, n, sc.seen, allow)

	for _, j := range sc.touched {
		sc.score[j], sc.cf[j], sc.bestCF[j], sc.fromCF[j] = 0, 0, 0, 0
	}
	for _, j := range sc.picked {
		sc.seen[j] = false
	}
	for _, h := range hs {
		sc.seen[h.item] = false
	}
	return out
}

// fillTrending appends trending titles that are not seen and are allowed
// until out has n. After other recommendations their scores are put below the
// last one, so scores descend along every list.
func (m *Model) fillTrending(out []Rec, n int, seen []bool, allow func(string) bool) []Rec {
	ceiling, top := 0.0, 0.0
	if len(out) > 0 && len(m.trendOrder) > 0 {
		ceiling, top = out[len(out)-1].Score, float64(m.trendScore[m.trendOrder[0]])
	}
	for _, j := range m.trendOrder {
		if len(out) >= n {
			break
		}
		if seen != nil && seen[j] {
			continue
		}
		id := m.ids[j]
		if allow != nil && !allow(id) {
			continue
		}
		score := float64(m.trendScore[j])
		if ceiling > 0 {
			score = below(ceiling, score, top)
		}
		out = append(out, Rec{ID: id, Score: score, Reason: ReasonTrending})
	}
	return out
}

// below maps x in [0, top] into [ceiling/2, ceiling) keeping its order.
func below(ceiling, x, top float64) float64 {
	if top <= 0 {
		return ceiling / 2
	}
	return ceiling * (0.5 + 0.49*x/top)
}

// Similar returns up to n titles like itemID: its neighbours, then their
// neighbours, then trending titles, skipping itemID and what allow rejects. A
// neighbour carried by co-watching has reason because_you_watched with Because
// itemID; one carried by metadata has similar_content. An unknown itemID gets
// nil.
func (m *Model) Similar(itemID string, n int, allow func(itemID string) bool) []Rec {
	i, ok := m.index[itemID]
	if !ok || n <= 0 {
		return nil
	}
	sc := m.scratch.Get().(*queryScratch)
	defer m.scratch.Put(sc)
	out := make([]Rec, 0, n)
	sc.seen[i] = true
	sc.picked = append(sc.picked[:0], i)
	emit := func(j int32, score float32, content bool) {
		id := m.ids[j]
		sc.seen[j] = true
		sc.picked = append(sc.picked, j)
		if allow != nil && !allow(id) {
			return
		}
		r := Rec{ID: id, Score: float64(score), Reason: ReasonBecauseYouWatched, Because: itemID}
		if content {
			r.Reason, r.Because = ReasonSimilarContent, ""
		}
		out = append(out, r)
	}
	for q := m.nbrOff[i]; q < m.nbrOff[i+1] && len(out) < n; q++ {
		emit(m.nbrIdx[q], m.nbrSim[q], m.nbrContent[q])
	}
	if len(out) < n {
		// Two hops: friends of friends, scored by the product of similarities.
		sc.touched = sc.touched[:0]
		for q := m.nbrOff[i]; q < m.nbrOff[i+1]; q++ {
			k, s := m.nbrIdx[q], m.nbrSim[q]
			for r := m.nbrOff[k]; r < m.nbrOff[k+1]; r++ {
				j := m.nbrIdx[r]
				if sc.seen[j] {
					continue
				}
				if sc.score[j] == 0 {
					sc.touched = append(sc.touched, j)
				}
				c := s * m.nbrSim[r]
				sc.score[j] += c
				if !m.nbrContent[r] {
					sc.cf[j] += c
				}
			}
		}
		slices.SortFunc(sc.touched, func(a, b int32) int {
			if c := cmp.Compare(sc.score[b], sc.score[a]); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		ceiling := 0.0
		if len(out) > 0 && len(sc.touched) > 0 {
			ceiling = out[len(out)-1].Score
		}
		for _, j := range sc.touched {
			if len(out) == n {
				break
			}
			score := float64(sc.score[j])
			if ceiling > 0 {
				score = below(ceiling, score, float64(sc.score[sc.touched[0]]))
			}
			emit(j, float32(score), sc.cf[j]*2 < sc.score[j])
		}
		for _, j := range sc.touched {
			sc.score[j], sc.cf[j] = 0, 0
		}
	}
	out = m.fillTrending(out, n, sc.seen, allow)
	for _, j := range sc.picked {
		sc.seen[j] = false
	}
	return out
}

// Trending returns up to n titles by time-decayed popularity, then newest,
// skipping what allow rejects.
func (m *Model) Trending(n int, allow func(itemID string) bool) []Rec {
	if n <= 0 {
		return nil
	}
	return m.fillTrending(make([]Rec, 0, min(n, len(m.ids))), n, nil, allow)
}

// Stats describes the model.
func (m *Model) Stats() Stats { return m.stats }

// Has reports whether itemID is in the model.
func (m *Model) Has(itemID string) bool {
	_, ok := m.index[itemID]
	return ok
}
