package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	neturl "net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/marquee-video/marquee/controlplane/catalog"
	"github.com/marquee-video/marquee/controlplane/catalog/catalogtest"
	"github.com/marquee-video/marquee/controlplane/catalog/sqlstore"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/db/dbtest"
	"github.com/marquee-video/marquee/internal/ids"
)

// Benchmark sizes: the measured tenant has benchTitles titles and
// benchInteractions watch-progress rows; benchTenants tenants hold
// benchTitles each, so the tables hold 1,000,000 titles in all.
const (
	benchTenants      = 10
	benchTitles       = 100_000
	benchInteractions = 1_000_000
	benchViewers      = 20_000
)

// corpus makes reproducible, Zipf-distributed words and names.
type corpus struct {
	r       *rand.Rand
	words   []string
	zw      *rand.Zipf
	first   []string
	last    []string
	zc      *rand.Zipf
	genres  []string
	ratings []string
}

func newCorpus(seed uint64) *corpus {
	r := rand.New(rand.NewPCG(seed, 7))
	// Letters drawn by their frequency in English text, so words share
	// trigrams about as often as real ones do.
	const letters = "eeeeeeeeeeeettttttttaaaaaaaaooooooooiiiiiiinnnnnnnsssssshhhhhhrrrrrrddddlllluuucccmmmwwffggyyppbbvkjxqz"
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = letters[r.IntN(len(letters))]
		}
		return string(b)
	}
	c := &corpus{r: r, genres: []string{"action", "comedy", "drama", "thriller", "horror", "romance", "sci-fi", "documentary", "animation", "family",
		"crime", "mystery", "fantasy", "western", "musical", "war", "history", "sport", "biography", "adventure"}, ratings: catalog.RatingLabels()}
	seen := map[string]bool{}
	for len(c.words) < 30_000 {
		if w := word(3 + r.IntN(7)); !seen[w] {
			seen[w] = true
			c.words = append(c.words, w)
		}
	}
	for range 2000 {
		c.first = append(c.first, strings.ToUpper(word(1))+word(3+r.IntN(4)))
		c.last = append(c.last, strings.ToUpper(word(1))+word(4+r.IntN(5)))
	}
	c.zw = rand.NewZipf(r, 1.1, 2, uint64(len(c.words)-1))
	c.zc = rand.NewZipf(r, 1.05, 5, uint64(len(c.first)*len(c.last)-1))
	return c
}

func (c *corpus) text(n int) string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = c.words[c.zw.Uint64()]
	}
	return strings.Join(ws, " ")
}

func (c *corpus) person() string {
	k := int(c.zc.Uint64())
	return c.first[k%len(c.first)] + " " + c.last[k/len(c.first)]
}

func (c *corpus) title(now time.Time) catalog.Title {
	y := 1950 + c.r.IntN(76)
	rt := 80 + c.r.IntN(100)
	t := catalog.Title{
		ID: ids.New(catalog.PrefixTitle), Kind: catalog.KindMovie, Status: catalog.StatusPublished,
		Title: c.text(1+c.r.IntN(3)) + " " + c.text(1), Synopsis: c.text(20),
		Genres: []string{}, Tags: []string{}, ReleaseYear: &y, RuntimeMinutes: &rt,
		AudioLanguages: []string{"en"}, SubtitleLanguages: []string{}, Monetization: catalog.Monetization{Model: catalog.ModelFree},
		CreatedAt: now, UpdatedAt: now, PublishedAt: &now,
	}
	if c.r.IntN(5) == 0 {
		t.Kind = catalog.KindSeries
	}
	for _, g := range c.r.Perm(len(c.genres))[:1+c.r.IntN(3)] {
		t.Genres = append(t.Genres, c.genres[g])
	}
	for range 3 + c.r.IntN(4) {
		t.Credits = append(t.Credits, catalog.Credit{Name: c.person(), Role: catalog.RoleActor})
	}
	t.Credits = append(t.Credits, catalog.Credit{Name: c.person(), Role: "director"})
	if c.r.IntN(10) > 0 {
		r, _, _ := catalog.LookupRating(c.ratings[c.r.IntN(len(c.ratings))])
		t.Rating = &r
	}
	switch c.r.IntN(20) {
	case 0:
		t.Status = catalog.StatusDraft
	case 1:
		t.Availability.AllowedCountries = []string{"US", "CA"}
	case 2:
		t.Availability.BlockedCountries = []string{"DE"}
	case 3:
		until := now.Add(-time.Hour)
		t.Availability.Until = &until
	}
	return t
}

func key(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return "|" + strings.Join(l, "|") + "|"
}

func raw(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// seed loads the benchmark data with COPY and returns the titles of the
// first tenant. It runs as the database owner (no row-level security), so
// the tenants' rows are written directly, as the store would write them.
func seed(b *testing.B, url string, tenants []string, withInteractions bool) []catalog.Title {
	b.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP INDEX titles_search_idx; DROP INDEX titles_genres_idx; DROP INDEX catalog_terms_trgm_idx; SET maintenance_work_mem = '512MB'"); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	cols := []string{"tenant_id", "id", "kind", "status", "title", "synopsis", "genres", "tags", "credits", "release_year", "runtime_minutes",
		"rating_system", "rating", "rating_age", "audio_languages", "subtitle_languages", "artwork", "available_from", "available_until",
		"allowed_countries", "blocked_countries", "monetization", "genres_key", "cast_key", "cast_names", "search_title", "search_people", "search_synopsis",
		"published_at", "created_at", "updated_at"}
	var first []catalog.Title
	for ti, tenant := range tenants {
		c := newCorpus(uint64(ti + 1))
		titles := make([]catalog.Title, benchTitles)
		for i := range titles {
			titles[i] = c.title(now)
		}
		if ti == 0 {
			first = titles
		}
		terms := map[string]int{}
		rows := make([][]any, len(titles))
		for i, t := range titles {
			doc := t.Doc()
			for _, w := range doc.Words() {
				terms[w]++
			}
			var rs, rl, ra any
			if t.Rating != nil {
				_, age, _ := catalog.LookupRating(t.Rating.Value)
				rs, rl, ra = t.Rating.System, t.Rating.Value, age
			}
			cast := t.Cast()
			lc := make([]string, len(cast))
			for j, n := range cast {
				lc[j] = strings.ToLower(n)
			}
			rows[i] = []any{tenant, t.ID, string(t.Kind), string(t.Status), t.Title, t.Synopsis, raw(t.Genres), raw(t.Tags), raw(t.Credits),
				*t.ReleaseYear, *t.RuntimeMinutes, rs, rl, ra, raw(t.AudioLanguages), raw(t.SubtitleLanguages), raw(t.Artwork),
				t.Availability.From, t.Availability.Until, key(t.Availability.AllowedCountries), key(t.Availability.BlockedCountries),
				raw(t.Monetization), key(t.Genres), key(lc), raw(slices.Compact(slices.Sorted(slices.Values(cast)))), doc.Title, doc.People, doc.Synopsis, t.PublishedAt, t.CreatedAt, t.UpdatedAt}
		}
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{"titles"}, cols, pgx.CopyFromRows(rows)); err != nil {
			b.Fatal(err)
		}
		var tr [][]any
		for w, n := range terms {
			tr = append(tr, []any{tenant, w, n})
		}
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{"catalog_terms"}, []string{"tenant_id", "term", "titles"}, pgx.CopyFromRows(tr)); err != nil {
			b.Fatal(err)
		}
	}
	if withInteractions {
		c := newCorpus(99)
		zt := rand.NewZipf(c.r, 1.05, 10, uint64(len(first)-1))
		seen := map[[2]int]bool{}
		var rows [][]any
		for len(rows) < benchInteractions {
			v, t := len(rows)%benchViewers, int(zt.Uint64())
			if seen[[2]int{v, t}] {
				continue
			}
			seen[[2]int{v, t}] = true
			done := c.r.IntN(3) > 0
			pos := float64(600 + c.r.IntN(5000))
			rows = append(rows, []any{tenants[0], fmt.Sprintf("viewer-%d", v), "", first[t].ID, "", pos, 6000.0, done, 1, now.Add(-time.Duration(c.r.IntN(30*24)) * time.Hour)})
		}
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{"watch_progress"}, []string{"tenant_id", "viewer_id", "profile_id", "title_id", "episode_id",
			"position_seconds", "duration_seconds", "completed", "plays", "updated_at"}, pgx.CopyFromRows(rows)); err != nil {
			b.Fatal(err)
		}
	}
	for _, q := range []string{
		"CREATE INDEX titles_search_idx ON titles USING gin (tenant_id, search_doc)",
		"CREATE INDEX titles_genres_idx ON titles USING gin (tenant_id, genres jsonb_path_ops)",
		"CREATE INDEX catalog_terms_trgm_idx ON catalog_terms USING gin (tenant_id, term gin_trgm_ops)",
		"VACUUM ANALYZE",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	return first
}

// heavy skips the catalog benchmarks unless MARQUEE_BENCH_CATALOG=1: they
// seed 1,000,000 titles with COPY (about ten minutes on two cores), too much
// for the foundation's `go test -bench . ./controlplane/...` sweep.
func heavy(b *testing.B) {
	b.Helper()
	if os.Getenv("MARQUEE_BENCH_CATALOG") != "1" {
		b.Skip("set MARQUEE_BENCH_CATALOG=1 to seed 1,000,000 titles and run the catalog benchmarks")
	}
}

// p95 runs fn b.N times and reports the latencies' 50th and 95th
// percentiles.
func p95(b *testing.B, fn func(i int)) {
	b.Helper()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		fn(i)
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	at := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.95), "p95-ms")
}

// BenchmarkSearchPostgres measures search latency in a tenant of 100,000
// titles among 1,000,000 titles of 10 tenants, on PostgreSQL, through
// catalog.Service (query parsing, typo vocabulary, ranking, facets).
func BenchmarkSearchPostgres(b *testing.B) {
	heavy(b)
	d, tenants, titles := searchData(b)
	s := catalog.NewService(sqlstore.New(d))
	// Queries built from the tenant's own titles: a word of a title, two,
	// a prefix, a typo, a cast member; with and without viewer filters.
	c := newCorpus(1234)
	pick := func() catalog.Title { return titles[c.r.IntN(len(titles))] }
	typo := func(w string) string {
		if len(w) < 5 {
			return w
		}
		i := 1 + c.r.IntN(len(w)-2)
		return w[:i] + w[i+1:]
	}
	classes := map[string][]catalog.SearchQuery{}
	var order []string
	add := func(class string, q catalog.SearchQuery) {
		if _, ok := classes[class]; !ok {
			order = append(order, class)
		}
		classes[class] = append(classes[class], q)
	}
	for range 200 {
		t := pick()
		ws := catalog.Tokens(t.Title)
		cast := t.Cast()
		add("word", catalog.SearchQuery{Q: ws[0], Viewer: catalog.Viewer{Country: "US"}})
		add("two-words-pg13", catalog.SearchQuery{Q: strings.Join(ws[:min(2, len(ws))], " "), Viewer: catalog.Viewer{Country: "FR", MaxRating: "PG-13"}})
		add("prefix", catalog.SearchQuery{Q: ws[0][:min(4, len(ws[0]))]})
		add("typo", catalog.SearchQuery{Q: typo(ws[len(ws)-1]), Viewer: catalog.Viewer{Country: "DE"}})
		add("cast-genre", catalog.SearchQuery{Q: cast[0], Genre: t.Genres[0]})
	}
	var queries []catalog.SearchQuery
	for i := range 200 {
		for _, c := range order {
			queries = append(queries, classes[c][i])
		}
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		q    func(i int) catalog.SearchQuery
	}{
		{"mixed", func(i int) catalog.SearchQuery { return queries[i%len(queries)] }},
		{"word", func(i int) catalog.SearchQuery { return classes["word"][i%200] }},
		{"two-words-pg13", func(i int) catalog.SearchQuery { return classes["two-words-pg13"][i%200] }},
		{"prefix", func(i int) catalog.SearchQuery { return classes["prefix"][i%200] }},
		{"typo", func(i int) catalog.SearchQuery { return classes["typo"][i%200] }},
		{"cast-genre", func(i int) catalog.SearchQuery { return classes["cast-genre"][i%200] }},
		{"browse-genre", func(i int) catalog.SearchQuery {
			return catalog.SearchQuery{Genre: c.genres[i%len(c.genres)], Viewer: catalog.Viewer{Country: "US"}}
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			p95(b, func(i int) {
				if _, err := s.Search(ctx, tenants[0], tc.q(i)); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// searchData opens the search benchmark's database: a fresh one, seeded and
// dropped at the end, or, with MARQUEE_BENCH_CATALOG_DB=name, a kept one of
// that name, seeded on the first run and migrated up and reused after, to
// iterate on queries without seeding again. It returns the tenants, the
// measured one first, and that tenant's titles (regenerated from the same
// seed on reuse: the queries use their words, not their ids).
func searchData(b *testing.B) (*db.DB, []string, []catalog.Title) {
	b.Helper()
	ctx := context.Background()
	url := dbtest.NewPostgresDatabase(b)
	kept := os.Getenv("MARQUEE_BENCH_CATALOG_DB")
	reuse := false
	if kept != "" {
		if strings.Trim(kept, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			b.Fatalf("MARQUEE_BENCH_CATALOG_DB=%q: not a plain lower-case database name", kept)
		}
		admin, err := pgx.Connect(ctx, dbtest.PostgresURL())
		if err != nil {
			b.Fatal(err)
		}
		defer admin.Close(ctx)
		if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", kept).Scan(&reuse); err != nil {
			b.Fatal(err)
		}
		u, err := neturl.Parse(url)
		if err != nil {
			b.Fatal(err)
		}
		if !reuse {
			// A copy of the fresh migrated database, which the test drops.
			if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", kept, strings.TrimPrefix(u.Path, "/"))); err != nil {
				b.Fatal(err)
			}
		}
		u.Path = "/" + kept
		url = u.String()
	}
	d, err := db.OpenPostgres(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = d.Close() })
	if reuse {
		if err := d.MigrateUp(ctx, slog.New(slog.DiscardHandler)); err != nil {
			b.Fatal(err)
		}
		first := newCorpus(1)
		titles := make([]catalog.Title, benchTitles)
		for i := range titles {
			titles[i] = first.title(time.Now().UTC())
		}
		var measured, others []string
		err := d.System(ctx, func(tx *db.Tx) error {
			if err := tx.Raw("SELECT tenant_id FROM titles WHERE title = ? AND synopsis = ?", titles[0].Title, titles[0].Synopsis).Scan(&measured).Error; err != nil || len(measured) != 1 {
				return fmt.Errorf("the measured tenant's first title: %d rows, %w", len(measured), err)
			}
			return tx.Raw("SELECT DISTINCT tenant_id FROM titles WHERE tenant_id <> ? ORDER BY 1", measured[0]).Scan(&others).Error
		})
		tenants := append(measured, others...)
		if err != nil {
			b.Fatalf("reuse %s: tenants: %v", kept, err)
		}
		b.Logf("reusing the seeded database %s", kept)
		return d, tenants, titles
	}
	tenants := catalogtest.Tenants(b, d, benchTenants)
	start := time.Now()
	titles := seed(b, url, tenants, false)
	b.Logf("seeded %d titles in %s", benchTenants*benchTitles, time.Since(start).Round(time.Second))
	return d, tenants, titles
}

// BenchmarkRecommendationsPostgres measures a model rebuild and the
// recommendation routes' work (history read, model query with the
// viewer's filters, title rows) for a tenant of 100,000 titles and
// 1,000,000 interactions.
func BenchmarkRecommendationsPostgres(b *testing.B) {
	heavy(b)
	url := dbtest.NewPostgresDatabase(b)
	d, err := db.OpenPostgres(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = d.Close() })
	tenants := catalogtest.Tenants(b, d, 1)
	titles := seed(b, url, tenants, true)
	st := sqlstore.New(d)
	s := catalog.NewService(st)
	r := catalog.NewRecommender(catalog.RecommenderConfig{Catalog: s, Store: st, Refresh: time.Hour})
	ctx := context.Background()
	start := time.Now()
	stats, err := r.Rebuild(ctx, tenants[0])
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("rebuild: %s in all (model build %d ms; %d titles, %d viewers, %d interactions, %d bytes)",
		time.Since(start).Round(time.Millisecond), stats.BuildMS, stats.Titles, stats.Viewers, stats.Interactions, stats.SizeBytes)
	if _, err := r.Trending(ctx, tenants[0], catalog.Viewer{}, 1); err != nil { // loads the model
		b.Fatal(err)
	}
	v := catalog.Viewer{Country: "US", MaxRating: "PG-13"}
	b.Run("for-viewer", func(b *testing.B) {
		p95(b, func(i int) {
			if _, err := r.ForViewer(ctx, tenants[0], fmt.Sprintf("viewer-%d", (i*7919)%benchViewers), "", v, 20); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("similar", func(b *testing.B) {
		p95(b, func(i int) {
			if _, err := r.Similar(ctx, tenants[0], titles[(i*104729)%len(titles)].ID, v, 20); err != nil {
				b.Fatal(err)
			}
		})
	})
}
