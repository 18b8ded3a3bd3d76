package catalog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marquee-video/marquee/controlplane/catalog"
	"github.com/marquee-video/marquee/controlplane/catalog/catalogtest"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/db/dbtest"
)

const badCSV = `title,kind,status,genres,cast,release_year,rating,monetization,tier,price,currency,allowed_countries,available_from,available_until
Good One,movie,published,drama;crime,Ann Actor;Bob Actor,2001,PG-13,free,,,,,,
Bad Year,movie,published,drama,,nineteen,PG,free,,,,,,
,movie,draft,,,,,free,,,,,,
Good Two,series,draft,comedy,,2010,TV-14,svod,premium,,,US;CA,,
Bad Rating,movie,draft,,,2010,PG-15,free,,,,,,
Bad Price,movie,draft,,,2010,,tvod,,0,USD,,,
Bad Country,movie,draft,,,2010,,free,,,,USA,,
Bad Window,movie,draft,,,2010,,free,,,,,2026-02-01T00:00:00Z,2026-01-01T00:00:00Z
Short Row,movie
Good Three,movie,published,,,1999,PEGI 12,tvod,,399,eur,,,
`

// TestImportKeepsGoodRowsAndReportsBadOnes imports files with bad rows in
// both formats: the good rows are stored and every bad one is reported
// with its row number and reason.
func TestImportKeepsGoodRowsAndReportsBadOnes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := newService(d)
		tenant := catalogtest.Tenants(t, d, 1)[0]

		rep, err := s.Import(ctx, tenant, catalog.FormatCSV, []byte(badCSV))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Created != 3 || rep.Updated != 0 || len(rep.TitleIDs) != 3 {
			t.Errorf("created %d, updated %d, ids %v; want 3 created", rep.Created, rep.Updated, rep.TitleIDs)
		}
		want := map[int]string{2: "release_year", 3: "title", 5: "rating", 6: "monetization.price", 7: "availability.allowed_countries", 8: "availability.until", 9: ""}
		got := map[int]string{}
		for _, r := range rep.Refused {
			got[r.Row] = r.Field
			if r.Message == "" || r.Code == "" {
				t.Errorf("row %d refused without a reason: %+v", r.Row, r)
			}
		}
		if len(got) != len(want) {
			t.Errorf("refused %+v, want rows %v", rep.Refused, want)
		}
		for row, field := range want {
			if f, ok := got[row]; !ok || f != field {
				t.Errorf("row %d: refused=%v field %q, want field %q (%+v)", row, ok, f, field, rep.Refused)
			}
		}
		ts, err := s.Titles(ctx, tenant, catalog.TitleFilter{}, 100, "")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, ti := range ts {
			names = append(names, ti.Title)
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"Good One", "Good Three", "Good Two"}) {
			t.Errorf("stored %v", names)
		}

		// Export, change one title, and re-import: it is updated by id, and
		// a JSON row of the wrong shape is reported on its own.
		var buf bytes.Buffer
		if err := s.Export(ctx, tenant, catalog.FormatJSON, &buf); err != nil {
			t.Fatal(err)
		}
		var exp struct {
			Titles []map[string]any `json:"titles"`
		}
		if err := json.Unmarshal(buf.Bytes(), &exp); err != nil || len(exp.Titles) != 3 {
			t.Fatalf("export: %v %s", err, buf.String())
		}
		exp.Titles[0]["title"] = "Renamed"
		rows := append(exp.Titles, map[string]any{"title": 5}, map[string]any{"kind": "movie", "title": "New", "colour": "red"}, map[string]any{"kind": "movie", "title": "Fresh"})
		body, _ := json.Marshal(map[string]any{"titles": rows})
		rep, err = s.Import(ctx, tenant, catalog.FormatJSON, body)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Created != 1 || rep.Updated != 3 || len(rep.Refused) != 2 || rep.Refused[0].Row != 4 || rep.Refused[1].Row != 5 {
			t.Errorf("re-import: %+v", rep)
		}
		first, err := s.Title(ctx, tenant, exp.Titles[0]["id"].(string))
		if err != nil || first.Title != "Renamed" {
			t.Errorf("updated title: %+v %v", first, err)
		}

		// CSV export round-trips through CSV import as updates.
		buf.Reset()
		if err := s.Export(ctx, tenant, catalog.FormatCSV, &buf); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(buf.String(), strings.Join(catalog.CSVColumns, ",")+"\n") {
			t.Errorf("csv header: %q", strings.SplitN(buf.String(), "\n", 2)[0])
		}
		rep, err = s.Import(ctx, tenant, catalog.FormatCSV, buf.Bytes())
		if err != nil || rep.Updated != 4 || rep.Created != 0 || len(rep.Refused) != 0 {
			t.Errorf("csv round trip: %+v %v", rep, err)
		}

		for name, bad := range map[string]string{"no header": "", "unknown column": "title,colour\nA,red\n", "not json": "{"} {
			f := catalog.FormatCSV
			if name == "not json" {
				f = catalog.FormatJSON
			}
			if _, err := s.Import(ctx, tenant, f, []byte(bad)); err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
	})
}

// TestViewerActivity folds play, progress and complete events into history
// and continue watching, counts a retried event once, and hides titles the
// viewer may no longer watch from continue watching.
func TestViewerActivity(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := newService(d)
		ten := catalogtest.Tenants(t, d, 2)
		ids := catalogtest.Load(t, s, ten[0], catalogtest.Fixture(time.Now().UTC()))
		ev := func(id, typ, title string, pos float64) catalog.ViewerEvent {
			return catalog.ViewerEvent{ID: id, ViewerID: "v1", ProfileID: "kids", Type: typ, TitleID: ids[title], PositionSeconds: pos, DurationSeconds: 100}
		}
		n, err := s.RecordEvents(ctx, ten[0], []catalog.ViewerEvent{ev("e1", "play", "toy-story", 0), ev("e2", "progress", "toy-story", 40),
			ev("e3", "play", "big", 0), ev("e4", "progress", "big", 96), ev("e5", "play", "us-only", 0), ev("e6", "progress", "us-only", 10)})
		if err != nil || n != 6 {
			t.Fatalf("record: %d %v", n, err)
		}
		if n, err := s.RecordEvents(ctx, ten[0], []catalog.ViewerEvent{ev("e2", "progress", "toy-story", 40)}); err != nil || n != 0 {
			t.Errorf("retried event recorded %d times (%v)", n, err)
		}
		hist, err := s.History(ctx, ten[0], "v1", "", 10, 0)
		if err != nil || len(hist) != 3 {
			t.Fatalf("history: %+v %v", hist, err)
		}
		for _, h := range hist {
			if h.TitleID == ids["toy-story"] && (h.Plays != 1 || h.PositionSeconds != 40 || h.Completed) {
				t.Errorf("toy story progress %+v", h.Progress)
			}
			if h.TitleID == ids["big"] && !h.Completed {
				t.Errorf("96%% watched is not finished: %+v", h.Progress)
			}
		}
		cw, err := s.ContinueWatching(ctx, ten[0], "v1", "kids", catalog.Viewer{Country: "FR"}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(cw) != 1 || cw[0].TitleID != ids["toy-story"] {
			t.Errorf("continue watching in FR: %+v (want toy story only: big is finished, us-only is not allowed)", cw)
		}
		cw, _ = s.ContinueWatching(ctx, ten[0], "v1", "kids", catalog.Viewer{Country: "US"}, 10)
		if len(cw) != 2 {
			t.Errorf("continue watching in US: %d entries, want 2", len(cw))
		}
		// Another tenant has no such viewer, and cannot record events on
		// the first tenant's titles.
		if _, err := s.History(ctx, ten[1], "v1", "", 10, 0); err == nil {
			t.Error("tenant 2 sees tenant 1's viewer")
		}
		if _, err := s.RecordEvents(ctx, ten[1], []catalog.ViewerEvent{ev("x1", "play", "big", 0)}); err == nil {
			t.Error("tenant 2 recorded an event on tenant 1's title")
		}
	})
}
