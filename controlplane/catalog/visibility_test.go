package catalog_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marquee-video/marquee/controlplane/catalog"
	"github.com/marquee-video/marquee/controlplane/catalog/catalogtest"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/db/dbtest"
)

// allFacetValues flattens a result's facets as "facet=value" strings.
func allFacetValues(f catalog.Facets) []string {
	var out []string
	for name, fs := range map[string][]catalog.FacetCount{"genre": f.Genre, "year": f.Year, "rating": f.Rating, "kind": f.Kind, "cast": f.Cast} {
		for _, c := range fs {
			out = append(out, name+"="+c.Value)
		}
	}
	return out
}

// TestSearchNeverCrossesTenants gives two tenants catalogs that share
// words, and checks that no query of one returns, counts or facets the
// other's titles.
func TestSearchNeverCrossesTenants(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := newService(d)
		ten := catalogtest.Tenants(t, d, 2)
		a, b := ten[0], ten[1]
		now := time.Now().UTC()
		aIDs := catalogtest.Load(t, s, a, catalogtest.Fixture(now))
		// B has one title sharing A's words, with a genre, a cast member
		// and a year A does not have.
		bTitle, err := s.CreateTitle(ctx, b, catalog.TitleInput{Kind: catalog.KindMovie, Status: catalog.StatusPublished, Title: "Matrix of Keanu",
			Genres: []string{"b-only-genre"}, Credits: []catalog.Credit{{Name: "Bee Only", Role: catalog.RoleActor}}, ReleaseYear: ptr(1901)})
		if err != nil {
			t.Fatal(err)
		}
		aSet := map[string]bool{}
		for _, id := range aIDs {
			aSet[id] = true
		}
		for _, q := range []catalog.SearchQuery{{Q: "matrix"}, {Q: "keanu"}, {Q: "matrx"}, {}, {Genre: "sci-fi"}, {Q: "bee"}, {Genre: "b-only-genre"}, {Year: 1901}} {
			ra, err := s.Search(ctx, a, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range ra.Hits {
				if !aSet[h.ID] {
					t.Errorf("A's search %+v returned %s (%s)", q, h.ID, h.Title.Title)
				}
			}
			for _, v := range allFacetValues(ra.Facets) {
				if v == "genre=b-only-genre" || v == "cast=Bee Only" || v == "year=1901" {
					t.Errorf("A's search %+v counts B's facet %s", q, v)
				}
			}
			rb, err := s.Search(ctx, b, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range rb.Hits {
				if h.ID != bTitle.ID {
					t.Errorf("B's search %+v returned A's %s (%s)", q, h.ID, h.Title.Title)
				}
			}
			if rb.Total > 1 {
				t.Errorf("B's search %+v counts %d titles; B has 1", q, rb.Total)
			}
			for _, v := range allFacetValues(rb.Facets) {
				if v == "genre=sci-fi" || v == "cast=Keanu Reeves" {
					t.Errorf("B's search %+v counts A's facet %s", q, v)
				}
			}
		}
		// On PostgreSQL the indexed lookups run as their owner, outside
		// row-level security, and must apply the tenant wall themselves:
		// asked in B's transaction they see only B's rows.
		if d.Dialect() == db.Postgres {
			err := d.Tx(ctx, b, func(tx *db.Tx) error {
				var matches []string
				if err := tx.Raw("SELECT id FROM catalog_match(to_tsquery('simple', 'matrix:*'))").Scan(&matches).Error; err != nil {
					return err
				}
				if !slices.Equal(matches, []string{bTitle.ID}) {
					t.Errorf("catalog_match as B: %v, want only %s", matches, bTitle.ID)
				}
				var words []string
				if err := tx.Raw("SELECT term FROM catalog_similar_terms('reevs')").Scan(&words).Error; err != nil {
					return err
				}
				if len(words) != 0 {
					t.Errorf("catalog_similar_terms as B found A's words %v", words)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			err = d.System(ctx, func(tx *db.Tx) error {
				var n int
				if err := tx.Raw("SELECT count(*) FROM catalog_match(to_tsquery('simple', 'matrix:*'))").Scan(&n).Error; err != nil {
					return err
				}
				if n != 0 {
					t.Errorf("catalog_match without an acting tenant found %d titles", n)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		// B's typo vocabulary is B's: A's words do not become B's typos.
		r, err := s.Search(ctx, b, catalog.SearchQuery{Q: "reevs"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Total != 0 {
			t.Errorf("B found %d titles for A's cast member's name", r.Total)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// TestSearchHidesWhatAViewerMayNotWatch checks each rule on its own: a
// title is found exactly when it is published, inside its window, allowed
// in the viewer's country and within the profile's rating limit.
func TestSearchHidesWhatAViewerMayNotWatch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := newService(d)
		tenant := catalogtest.Tenants(t, d, 1)[0]
		ids := catalogtest.Load(t, s, tenant, catalogtest.Fixture(time.Now().UTC()))
		found := func(v catalog.Viewer) []string {
			t.Helper()
			var keys []string
			for off := 0; ; {
				r, err := s.Search(ctx, tenant, catalog.SearchQuery{Q: "matrix", Viewer: v, Limit: 100, Offset: off})
				if err != nil {
					t.Fatal(err)
				}
				keys = append(keys, keysOf(t, ids, r.Hits)...)
				if r.Next == 0 {
					break
				}
				off = r.Next
			}
			slices.Sort(keys)
			return keys
		}
		cases := []struct {
			viewer catalog.Viewer
			want   []string
		}{
			// Without a country, an allow list hides the title.
			{catalog.Viewer{}, []string{"matrix", "not-de", "reloaded", "unrated"}},
			{catalog.Viewer{Country: "US"}, []string{"matrix", "not-de", "reloaded", "unrated", "us-only"}},
			{catalog.Viewer{Country: "de"}, []string{"matrix", "reloaded", "unrated"}},
			{catalog.Viewer{Country: "FR"}, []string{"matrix", "not-de", "reloaded", "unrated"}},
			// R (17) passes a TV-MA (17) limit; NC-17 (18) does not; unrated
			// titles are hidden under any limit.
			{catalog.Viewer{Country: "US", MaxRating: "TV-MA"}, []string{"matrix", "reloaded", "us-only"}},
			{catalog.Viewer{Country: "US", MaxRating: "PG-13"}, nil},
			{catalog.Viewer{Country: "US", MaxRating: "PEGI 18"}, []string{"matrix", "not-de", "reloaded", "us-only"}},
		}
		for _, tc := range cases {
			got := found(tc.viewer)
			if !slices.Equal(got, tc.want) {
				t.Errorf("viewer %+v: found %v, want %v", tc.viewer, got, tc.want)
			}
			for _, k := range got {
				if k == "draft" || k == "expired" || k == "upcoming" {
					t.Errorf("viewer %+v found %s", tc.viewer, k)
				}
			}
		}
		// Visible, used by collections and recommendations, agrees.
		for _, tc := range cases {
			allow, err := s.Visible(tc.viewer)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for k, id := range ids {
				ti, err := s.Title(ctx, tenant, id)
				if err != nil {
					t.Fatal(err)
				}
				if allow(ti) && strings.Contains(strings.ToLower(ti.Title), "matrix") {
					got = append(got, k)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Visible(%+v): %v, want %v", tc.viewer, got, tc.want)
			}
		}
		// The window moves with the clock: tomorrow "upcoming" is on.
		later := s.WithClock(func() time.Time { return time.Now().Add(36 * time.Hour) })
		r, err := later.Search(ctx, tenant, catalog.SearchQuery{Q: "upcoming"})
		if err != nil {
			t.Fatal(err)
		}
		if got := keysOf(t, ids, r.Hits); !slices.Equal(got, []string{"upcoming"}) {
			t.Errorf("in 36 h, \"upcoming\" finds %v", got)
		}
		for _, bad := range []catalog.Viewer{{Country: "USA"}, {MaxRating: "XXX"}} {
			if _, err := s.Search(ctx, tenant, catalog.SearchQuery{Viewer: bad}); err == nil {
				t.Errorf("viewer %+v accepted", bad)
			}
		}
	})
}

// TestTrigramSimilarityMatchesPgTrgm keeps the Go similarity equal to
// pg_trgm's, which the typo alternatives of both engines rely on.
func TestTrigramSimilarityMatchesPgTrgm(t *testing.T) {
	d := dbtest.Postgres(t)
	pairs := [][2]string{{"matrix", "matrx"}, {"cat", "car"}, {"keanu", "keanau"}, {"reeves", "reves"}, {"aaaa", "aaaaaaaaaaaa"},
		{"amelie", "emilie"}, {"attenborough", "atenborough"}, {"x", "y"}, {"chemistry", "chemists"}, {"naïve", "naive"}, {"1999", "1998"}}
	for _, p := range pairs {
		var sim float64
		if err := d.SQL().QueryRow("SELECT similarity($1, $2)", p[0], p[1]).Scan(&sim); err != nil {
			t.Fatal(err)
		}
		ok, shared, union := catalog.Similar(p[0], p[1])
		if want := sim >= catalog.TypoSimilarity; ok != want {
			t.Errorf("%q~%q: Go %d/%d (%v), pg_trgm %.4f", p[0], p[1], shared, union, ok, sim)
		}
		if union > 0 && (float64(shared)/float64(union)-sim > 1e-6 || sim-float64(shared)/float64(union) > 1e-6) {
			t.Errorf("%q~%q: Go %d/%d, pg_trgm %.6f", p[0], p[1], shared, union, sim)
		}
	}
}

// TestCommonWordsSkipSynopses: a word in at least CommonWordTitles titles
// matches titles, cast, crew, genres and tags only; a rarer one synopses too.
func TestCommonWordsSkipSynopses(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := newService(d)
		tenant := catalogtest.Tenants(t, d, 1)[0]
		mk := func(title, synopsis string) string {
			ti, err := s.CreateTitle(ctx, tenant, catalog.TitleInput{Kind: catalog.KindMovie, Status: catalog.StatusPublished, Title: title, Synopsis: synopsis})
			if err != nil {
				t.Fatal(err)
			}
			return ti.ID
		}
		inTitle := mk("Ocean Story", "")
		mk("First", "an ocean voyage")
		mk("Second", "the ocean again")
		for _, tc := range []struct {
			threshold, want int
		}{{3, 1}, {4, 3}} {
			r, err := s.WithCommonWordTitles(tc.threshold).Search(ctx, tenant, catalog.SearchQuery{Q: "ocean"})
			if err != nil {
				t.Fatal(err)
			}
			if r.Total != tc.want || r.Hits[0].ID != inTitle {
				t.Errorf("threshold %d: %d titles (first %s), want %d with the title match first", tc.threshold, r.Total, r.Hits[0].ID, tc.want)
			}
		}
	})
}
