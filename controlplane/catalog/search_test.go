package catalog_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/marquee-video/marquee/controlplane/catalog"
	"github.com/marquee-video/marquee/controlplane/catalog/catalogtest"
	"github.com/marquee-video/marquee/controlplane/catalog/sqlstore"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/db/dbtest"
)

func newService(d *db.DB) *catalog.Service { return catalog.NewService(sqlstore.New(d)) }

// searchCases are the queries both engines must answer alike; top, when
// set, is the fixture keys the first results must be, in order.
var searchCases = []struct {
	name string
	q    catalog.SearchQuery
	top  []string
}{
	{"exact title word", catalog.SearchQuery{Q: "matrix", Viewer: catalog.Viewer{Country: "FR"}}, []string{"matrix", "not-de", "unrated", "reloaded"}},
	{"two words", catalog.SearchQuery{Q: "matrix reloaded", Viewer: catalog.Viewer{Country: "FR"}}, []string{"reloaded"}},
	{"prefix", catalog.SearchQuery{Q: "matr", Viewer: catalog.Viewer{Country: "FR"}}, []string{"matrix", "not-de"}},
	{"typo", catalog.SearchQuery{Q: "matrx", Viewer: catalog.Viewer{Country: "FR"}}, []string{"matrix", "not-de"}},
	{"typo in cast", catalog.SearchQuery{Q: "keanu reves"}, []string{"john-wick", "matrix"}},
	{"diacritics", catalog.SearchQuery{Q: "Amelie"}, []string{"amelie"}},
	{"cast field", catalog.SearchQuery{Q: "tom hanks"}, []string{"big", "toy-story"}},
	{"synopsis only", catalog.SearchQuery{Q: "waitress"}, []string{"amelie"}},
	{"title beats synopsis", catalog.SearchQuery{Q: "chemistry"}, []string{"chemistry", "breaking"}},
	{"genre filter", catalog.SearchQuery{Genre: "comedy"}, []string{"amelie", "toy-story", "big"}},
	{"year filter", catalog.SearchQuery{Year: 2008}, []string{"breaking", "racer"}},
	{"kind filter", catalog.SearchQuery{Kind: catalog.KindSeries}, []string{"breaking", "planet"}},
	{"cast filter", catalog.SearchQuery{Cast: "Tom Hanks"}, []string{"toy-story", "big"}},
	{"rating limit", catalog.SearchQuery{Viewer: catalog.Viewer{MaxRating: "PG"}}, []string{"racer", "planet", "toy-story", "big"}},
	{"country US", catalog.SearchQuery{Q: "matrix", Viewer: catalog.Viewer{Country: "US"}}, []string{"matrix", "not-de", "unrated", "reloaded", "us-only"}},
	{"browse", catalog.SearchQuery{}, nil},
	{"nothing", catalog.SearchQuery{Q: "zzzzqqq"}, []string{}},
}

func keysOf(t *testing.T, ids map[string]string, hits []catalog.Hit) []string {
	t.Helper()
	byID := map[string]string{}
	for k, id := range ids {
		byID[id] = k
	}
	out := []string{}
	for _, h := range hits {
		k, ok := byID[h.ID]
		if !ok {
			t.Fatalf("hit %s (%s) is not of this tenant's fixture", h.ID, h.Title.Title)
		}
		out = append(out, k)
	}
	return out
}

type answer struct {
	Keys   []string
	Scores []int
	Total  int
	Facets catalog.Facets
}

// TestSearchSameOnBothEngines loads the fixture catalog into PostgreSQL
// and SQLite and checks that every query gives the same results, scores,
// totals and facets on both, and the expected top results.
func TestSearchSameOnBothEngines(t *testing.T) {
	answers := map[string]map[string]answer{}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newService(d)
		tenant := catalogtest.Tenants(t, d, 1)[0]
		ids := catalogtest.Load(t, s, tenant, catalogtest.Fixture(time.Now().UTC()))
		got := map[string]answer{}
		// Also with common words: a threshold this catalog reaches, so
		// that words in 3 or more titles are not looked for in synopses.
		common := s.WithCommonWordTitles(3)
		for _, tc := range searchCases {
			res, err := common.Search(context.Background(), tenant, tc.q)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			a := answer{Keys: keysOf(t, ids, res.Hits), Total: res.Total, Facets: res.Facets}
			for _, h := range res.Hits {
				a.Scores = append(a.Scores, h.Score)
			}
			got["common/"+tc.name] = a
		}
		for _, tc := range searchCases {
			res, err := s.Search(context.Background(), tenant, tc.q)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			a := answer{Keys: keysOf(t, ids, res.Hits), Total: res.Total, Facets: res.Facets}
			for _, h := range res.Hits {
				a.Scores = append(a.Scores, h.Score)
			}
			if tc.top != nil {
				n := min(len(tc.top), len(a.Keys))
				if len(a.Keys) < len(tc.top) || !slices.Equal(a.Keys[:n], tc.top) {
					t.Errorf("%s: top %v, want %v (scores %v)", tc.name, a.Keys, tc.top, a.Scores)
				}
			}
			got[tc.name] = a
		}
		answers[string(d.Dialect())] = got
	})
	pg, lite := answers["postgres"], answers["sqlite"]
	if pg == nil || lite == nil {
		t.Fatal("an engine did not run")
	}
	for _, tc := range searchCases {
		for _, name := range []string{tc.name, "common/" + tc.name} {
			if !reflect.DeepEqual(pg[name], lite[name]) {
				t.Errorf("%s: engines differ\npostgres %+v\nsqlite   %+v", name, pg[name], lite[name])
			}
		}
	}
}

func timeNow() time.Time { return time.Now().UTC() }
