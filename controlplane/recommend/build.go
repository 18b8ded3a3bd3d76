package recommend

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Model is a built recommender. It is safe for concurrent use by many
// goroutines; UnmarshalBinary must not run concurrently with queries.
type Model struct {
	ids   []string // sorted; an item's index is its position
	index map[string]int32

	// Neighbours of item i are nbrIdx[nbrOff[i]:nbrOff[i+1]], best first, with
	// their blended similarity and whether content carried it.
	nbrOff     []int32
	nbrIdx     []int32
	nbrSim     []float32
	nbrContent []bool

	trendScore []float32 // time-decayed popularity per item
	trendOrder []int32   // every item, most trending first

	stats Stats

	scratch *sync.Pool // of *queryScratch sized to len(ids)
}

// neighbour is a candidate similar item during a build.
type neighbour struct {
	j       int32
	sim     float32
	content bool
}

func (o Options) withDefaults() Options {
	if o.Neighbors <= 0 {
		o.Neighbors = DefaultNeighbors
	}
	if o.ContentWeight <= 0 {
		o.ContentWeight = DefaultContentWeight
	}
	if o.ContentWeight > 1 {
		o.ContentWeight = 1
	}
	if o.TrendingHalfLife <= 0 {
		o.TrendingHalfLife = DefaultTrendingHalfLife
	}
	return o
}

// viewerItem is one viewer's aggregated feedback on one item.
type viewerItem struct {
	item      int32
	conf      float32
	last      int64
	completed bool
}

func build(ctx context.Context, items []Item, events []Event, opt Options) (*Model, error) {
	start := time.Now()
	opt = opt.withDefaults()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// Items in id order: indexes then follow ids, so index order is the
	// deterministic tie-break everywhere.
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(items[a].ID, items[b].ID) })
	m := &Model{ids: make([]string, len(items)), index: make(map[string]int32, len(items))}
	sorted := make([]*Item, len(items))
	for pos, k := range order {
		id := items[k].ID
		if id == "" {
			return nil, fmt.Errorf("%w: item %d has no id", ErrInvalid, k)
		}
		if pos > 0 && m.ids[pos-1] == id {
			return nil, fmt.Errorf("%w: item %q listed twice", ErrInvalid, id)
		}
		m.ids[pos] = id
		m.index[id] = int32(pos)
		sorted[pos] = &items[k]
	}
	n := len(items)

	// Events: resolve ids, then group by viewer with a counting sort.
	if opt.Now.IsZero() {
		for i := range events {
			if events[i].At.After(opt.Now) {
				opt.Now = events[i].At
			}
		}
	}
	viewerIdx := make(map[string]int32)
	evViewer := make([]int32, 0, len(events))
	evPos := make([]int32, 0, len(events))
	support := make([]int32, n) // distinct viewers per item, filled below
	skipped := 0
	for k := range events {
		e := &events[k]
		_, ok := m.index[e.Item]
		if !ok || e.Viewer == "" || e.Weight < 0 || math.IsNaN(e.Weight) || math.IsInf(e.Weight, 0) {
			skipped++
			continue
		}
		v, ok := viewerIdx[e.Viewer]
		if !ok {
			v = int32(len(viewerIdx))
			viewerIdx[e.Viewer] = v
		}
		evViewer = append(evViewer, v)
		evPos = append(evPos, int32(k))
		if k&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
	}
	// Viewers in id order, so that sums do not depend on the events' order.
	names := make([]string, 0, len(viewerIdx))
	for name := range viewerIdx {
		names = append(names, name)
	}
	slices.Sort(names)
	rank := make([]int32, len(names))
	for r, name := range names {
		rank[viewerIdx[name]] = int32(r)
	}
	for k, v := range evViewer {
		evViewer[k] = rank[v]
	}
	names, rank = nil, nil
	nv := len(viewerIdx)
	vStart := make([]int32, nv+1)
	for _, v := range evViewer {
		vStart[v+1]++
	}
	for v := 0; v < nv; v++ {
		vStart[v+1] += vStart[v]
	}
	byViewer := make([]int32, len(evPos))
	fill := slices.Clone(vStart[:nv])
	for k, v := range evViewer {
		byViewer[fill[v]] = evPos[k]
		fill[v]++
	}
	evViewer, evPos, fill = nil, nil, nil

	// Per viewer: aggregate per item, keep the most recent maxViewerHistory,
	// and turn confidence into a rating (see rating).
	hOff := make([]int32, nv+1)
	hItem := make([]int32, 0, len(byViewer))
	hRate := make([]float32, 0, len(byViewer))
	trend := make([]float64, n)
	halfLife := opt.TrendingHalfLife.Seconds()
	var agg []viewerItem
	for v := 0; v < nv; v++ {
		agg = agg[:0]
		for _, k := range byViewer[vStart[v]:vStart[v+1]] {
			e := &events[k]
			agg = append(agg, viewerItem{item: m.index[e.Item], conf: float32(eventWeight(e)), last: e.At.UnixMilli(), completed: e.Completed})
		}
		slices.SortFunc(agg, func(a, b viewerItem) int {
			if c := cmp.Compare(a.item, b.item); c != 0 {
				return c
			}
			if c := cmp.Compare(a.last, b.last); c != 0 {
				return c
			}
			return cmp.Compare(a.conf, b.conf)
		})
		for _, a := range agg {
			age := float64(opt.Now.UnixMilli()-a.last) / 1e3
			trend[a.item] += float64(a.conf) * math.Exp2(-max(age, 0)/halfLife)
		}
		w := 0
		for r := 0; r < len(agg); r++ {
			if w > 0 && agg[w-1].item == agg[r].item {
				p := &agg[w-1]
				p.conf += agg[r].conf
				p.last = max(p.last, agg[r].last)
				p.completed = p.completed || agg[r].completed
				continue
			}
			agg[w] = agg[r]
			w++
		}
		agg = agg[:w]
		for _, a := range agg {
			support[a.item]++
		}
		if len(agg) > maxViewerHistory {
			slices.SortFunc(agg, func(a, b viewerItem) int {
				if c := cmp.Compare(b.last, a.last); c != 0 {
					return c
				}
				return cmp.Compare(a.item, b.item)
			})
			agg = agg[:maxViewerHistory]
			slices.SortFunc(agg, func(a, b viewerItem) int { return cmp.Compare(a.item, b.item) })
		}
		norm := viewerNorm(len(agg))
		for _, a := range agg {
			conf := a.conf
			if a.completed {
				conf++
			}
			hItem = append(hItem, a.item)
			hRate = append(hRate, float32(math.Log1p(float64(conf)))*norm)
		}
		hOff[v+1] = int32(len(hItem))
		if v&0x3ff == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
	}
	byViewer, vStart = nil, nil

	// Item → viewers (the transpose), and item norms.
	iOff := make([]int32, n+1)
	for _, it := range hItem {
		iOff[it+1]++
	}
	for i := 0; i < n; i++ {
		iOff[i+1] += iOff[i]
	}
	iViewer := make([]int32, len(hItem))
	iRate := make([]float32, len(hItem))
	pos := slices.Clone(iOff[:n])
	for v := 0; v < nv; v++ {
		for k := hOff[v]; k < hOff[v+1]; k++ {
			it := hItem[k]
			iViewer[pos[it]] = int32(v)
			iRate[pos[it]] = hRate[k]
			pos[it]++
		}
	}
	pos = nil
	norms := make([]float32, n)
	for i := 0; i < n; i++ {
		var s float64
		for _, r := range iRate[iOff[i]:iOff[i+1]] {
			s += float64(r) * float64(r)
		}
		norms[i] = float32(math.Sqrt(s))
	}

	k := opt.Neighbors
	cf := make([][]neighbour, n)
	err := parallel(ctx, n, func() func(i int) {
		acc := make([]float32, n)
		cnt := make([]int32, n)
		var touched []int32
		var top topK
		return func(i int) {
			touched = touched[:0]
			for p := iOff[i]; p < iOff[i+1]; p++ {
				v, ri := iViewer[p], iRate[p]
				for q := hOff[v]; q < hOff[v+1]; q++ {
					j := hItem[q]
					if j == int32(i) {
						continue
					}
					if cnt[j] == 0 {
						touched = append(touched, j)
					}
					acc[j] += ri * hRate[q]
					cnt[j]++
				}
			}
			top.reset(k)
			for _, j := range touched {
				c := float32(cnt[j])
				sim := acc[j] / (norms[i] * norms[j]) * c / (c + shrinkage)
				acc[j], cnt[j] = 0, 0
				if top.admits(sim) {
					top.push(j, sim)
				}
			}
			cf[i] = top.sorted(nil)
		}
	})
	if err != nil {
		return nil, err
	}
	hOff, hItem, hRate, iOff, iViewer, iRate = nil, nil, nil, nil, nil, nil

	content := buildContent(sorted)
	var cb [][]neighbour
	if content.any() {
		cb, err = content.neighbours(ctx, k)
		if err != nil {
			return nil, err
		}
	}

	// Blend: content takes over where either item lacks interaction evidence.
	// Content cosines run higher than CF cosines, so they are first put on
	// CF's scale (the ratio of the median best similarity of each).
	scale := float32(1)
	if cb != nil {
		scale = calibrate(cf, cb)
	}
	m.nbrOff = make([]int32, n+1)
	blended := make([][]neighbour, n)
	err = parallel(ctx, n, func() func(i int) {
		var top topK
		ctAt := make([]float32, n) // content similarity of i's content neighbours
		mine := make([]float32, content.vocab())
		return func(i int) {
			if cb == nil || !content.has(i) {
				blended[i] = cf[i]
				return
			}
			for _, c := range cb[i] {
				ctAt[c.j] = c.sim
			}
			content.spread(i, mine)
			blend := func(j int32, cfSim, ctSim float32) {
				if !content.has(int(j)) {
					top.pushFlag(j, cfSim, false)
					return
				}
				ctSim *= scale
				wcf := float32(1-opt.ContentWeight) * confidence(min(support[i], support[j]))
				cfPart, ctPart := wcf*cfSim, (1-wcf)*ctSim
				top.pushFlag(j, cfPart+ctPart, ctPart > cfPart)
			}
			top.reset(k)
			for _, c := range cf[i] {
				ct := ctAt[c.j]
				if ct == 0 {
					ct = content.dot(mine, int(c.j))
				}
				blend(c.j, c.sim, ct)
				ctAt[c.j] = -1 // done
			}
			for _, c := range cb[i] {
				if ctAt[c.j] > 0 {
					blend(c.j, 0, c.sim)
				}
				ctAt[c.j] = 0
			}
			for _, c := range cf[i] {
				ctAt[c.j] = 0
			}
			content.unspread(i, mine)
			blended[i] = top.sorted(nil)
			cf[i], cb[i] = nil, nil // only item i reads them: free early
		}
	})
	if err != nil {
		return nil, err
	}
	total := 0
	for i := 0; i < n; i++ {
		total += len(blended[i])
		m.nbrOff[i+1] = int32(total)
	}
	m.nbrIdx = make([]int32, 0, total)
	m.nbrSim = make([]float32, 0, total)
	m.nbrContent = make([]bool, 0, total)
	for i := 0; i < n; i++ {
		for _, b := range blended[i] {
			m.nbrIdx = append(m.nbrIdx, b.j)
			m.nbrSim = append(m.nbrSim, b.sim)
			m.nbrContent = append(m.nbrContent, b.content)
		}
	}

	// Trending: decayed popularity, then the newest titles, then id order.
	m.trendScore = make([]float32, n)
	m.trendOrder = make([]int32, n)
	for i := 0; i < n; i++ {
		m.trendScore[i] = float32(trend[i])
		m.trendOrder[i] = int32(i)
	}
	slices.SortFunc(m.trendOrder, func(a, b int32) int {
		if c := cmp.Compare(m.trendScore[b], m.trendScore[a]); c != 0 {
			return c
		}
		if c := sorted[b].PublishedAt.Compare(sorted[a].PublishedAt); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})

	cold := 0
	for _, s := range support {
		if float64(s) < coldSupport {
			cold++
		}
	}
	m.stats = Stats{
		Items:         n,
		Viewers:       nv,
		Events:        len(events) - skipped,
		SkippedEvents: skipped,
		ColdItems:     cold,
		Neighbors:     total,
		BuildDuration: time.Since(start),
	}
	m.initScratch()
	return m, nil
}

// eventWeight is an event's feedback strength; zero means one play.
func eventWeight(e *Event) float64 {
	if e.Weight == 0 {
		return 1
	}
	return e.Weight
}

// viewerNorm damps the ratings of viewers with long histories, whose
// co-watching says less about any one pair (inverse user frequency).
func viewerNorm(items int) float32 {
	return float32(1 / math.Sqrt(math.Log2(2+float64(items))))
}

// confidence is how much CF evidence an item pair with this many supporting
// viewers (of the rarer item) carries, in [0, 1).
func confidence(support int32) float32 {
	s := float32(support)
	return s / (s + coldSupport)
}

// calibrate returns the factor that puts content similarities on the CF scale:
// median best CF similarity over median best content similarity.
func calibrate(cf, cb [][]neighbour) float32 {
	var a, b []float32
	for i := range cf {
		if len(cf[i]) > 0 && len(cb[i]) > 0 {
			a = append(a, cf[i][0].sim)
			b = append(b, cb[i][0].sim)
		}
	}
	if len(a) == 0 {
		return 1
	}
	slices.Sort(a)
	slices.Sort(b)
	ma, mb := a[len(a)/2], b[len(b)/2]
	if ma <= 0 || mb <= 0 {
		return 1
	}
	return ma / mb
}

// parallel runs work(i) for i in [0, n) on GOMAXPROCS goroutines, each with
// its own scratch made by newWorker, and stops early when ctx is done.
func parallel(ctx context.Context, n int, newWorker func() func(i int)) error {
	workers := min(runtime.GOMAXPROCS(0), max(1, n/64))
	var next atomic.Int64
	var wg sync.WaitGroup
	const chunk = 64
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work := newWorker()
			for {
				if ctx.Err() != nil {
					return
				}
				lo := int(next.Add(chunk)) - chunk
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+chunk, n); i++ {
					work(i)
				}
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// topK keeps the k best (similarity, then lower index) candidates in a
// min-heap whose root is the worst kept.
type topK struct {
	k int
	h []neighbour
}

func (t *topK) reset(k int) { t.k, t.h = k, t.h[:0] }

// worse reports whether a ranks below b.
func worse(a, b neighbour) bool {
	if a.sim != b.sim {
		return a.sim < b.sim
	}
	return a.j > b.j
}

func (t *topK) push(j int32, sim float32) { t.pushFlag(j, sim, false) }

// admits reports whether a candidate with this similarity could be kept; it is
// the cheap test callers make before push in hot loops.
func (t *topK) admits(sim float32) bool {
	return sim > 0 && (len(t.h) < t.k || sim >= t.h[0].sim)
}

func (t *topK) pushFlag(j int32, sim float32, content bool) {
	if !(sim > 0) {
		return
	}
	c := neighbour{j: j, sim: sim, content: content}
	if len(t.h) < t.k {
		t.h = append(t.h, c)
		for x := len(t.h) - 1; x > 0; {
			p := (x - 1) / 2
			if !worse(t.h[x], t.h[p]) {
				break
			}
			t.h[x], t.h[p] = t.h[p], t.h[x]
			x = p
		}
		return
	}
	if t.k == 0 || !worse(t.h[0], c) {
		return
	}
	t.h[0] = c
	for x := 0; ; {
		l, r, s := 2*x+1, 2*x+2, x
		if l < len(t.h) && worse(t.h[l], t.h[s]) {
			s = l
		}
		if r < len(t.h) && worse(t.h[r], t.h[s]) {
			s = r
		}
		if s == x {
			break
		}
		t.h[x], t.h[s] = t.h[s], t.h[x]
		x = s
	}
}

// sorted appends the kept candidates, best first, to dst (a fresh slice when
// dst is nil).
func (t *topK) sorted(dst []neighbour) []neighbour {
	start := len(dst)
	dst = append(dst, t.h...)
	slices.SortFunc(dst[start:], func(a, b neighbour) int {
		if worse(a, b) {
			return 1
		}
		if worse(b, a) {
			return -1
		}
		return 0
	})
	return dst
}
