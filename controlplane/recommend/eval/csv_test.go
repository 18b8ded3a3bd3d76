package eval_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/marquee-video/marquee/controlplane/recommend/eval"
)

func TestReadCSV(t *testing.T) {
	cases := []struct {
		name     string
		in       string
		wantRows []eval.Interaction
		wantBad  []eval.RowError
	}{
		{
			name: "header, unix and RFC 3339 times, optional weight",
			in:   "viewer,item,timestamp,weight\nv1,a,1700000000,2.5\nv1,b,2026-01-02T03:04:05Z\n",
			wantRows: []eval.Interaction{
				{Viewer: "v1", Item: "a", At: time.Unix(1700000000, 0).UTC(), Weight: 2.5, Line: 2},
				{Viewer: "v1", Item: "b", At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Weight: 1, Line: 3},
			},
		},
		{
			name:     "no header",
			in:       "v1,a,1700000000\n",
			wantRows: []eval.Interaction{{Viewer: "v1", Item: "a", At: time.Unix(1700000000, 0).UTC(), Weight: 1, Line: 1}},
		},
		{
			name: "bad rows are reported with their lines",
			in: strings.Join([]string{
				"user,movie,time",     // 1 header
				"v1,a,1700000000",     // 2 ok
				"v1,a",                // 3 too few fields
				"v1,,1700000000",      // 4 empty item
				",a,1700000000",       // 5 empty viewer
				"v1,a,yesterday",      // 6 bad time
				"v1,a,1700000000,-1",  // 7 negative weight
				"v1,a,1700000000,x",   // 8 weight not a number
				"v1,a,1700000000,1,9", // 9 too many fields
				`v1,"a,1700000000`,    // 10 broken quote runs to the end
			}, "\n") + "\n",
			wantRows: []eval.Interaction{{Viewer: "v1", Item: "a", At: time.Unix(1700000000, 0).UTC(), Weight: 1, Line: 2}},
			wantBad: []eval.RowError{
				{Line: 3, Err: "want 3 or 4 fields (viewer,item,timestamp[,weight]), got 2"},
				{Line: 4, Err: "empty item"},
				{Line: 5, Err: "empty viewer"},
				{Line: 6, Err: `timestamp "yesterday" is neither Unix seconds nor RFC 3339`},
				{Line: 7, Err: `weight "-1" is not a non-negative number`},
				{Line: 8, Err: `weight "x" is not a non-negative number`},
				{Line: 9, Err: "want 3 or 4 fields (viewer,item,timestamp[,weight]), got 5"},
				{Line: 10, Err: `extraneous or missing " in quoted-field`},
			},
		},
		{
			name:     "a first row that is not a header is a bad row",
			in:       "v1,a,soon\nv1,b,1700000000\n",
			wantRows: []eval.Interaction{{Viewer: "v1", Item: "b", At: time.Unix(1700000000, 0).UTC(), Weight: 1, Line: 2}},
			wantBad:  []eval.RowError{{Line: 1, Err: `timestamp "soon" is neither Unix seconds nor RFC 3339`}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows, bad, err := eval.ReadCSV(strings.NewReader(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(rows, c.wantRows) {
				t.Errorf("rows\n got %+v\nwant %+v", rows, c.wantRows)
			}
			if !reflect.DeepEqual(bad, c.wantBad) {
				t.Errorf("bad rows\n got %+v\nwant %+v", bad, c.wantBad)
			}
		})
	}
}

func TestWriteCSVRoundTrip(t *testing.T) {
	g := eval.Generate(eval.GenerateConfig{Interactions: 500, Seed: 3})
	var b strings.Builder
	if err := eval.WriteCSV(&b, g.Interactions); err != nil {
		t.Fatal(err)
	}
	rows, bad, err := eval.ReadCSV(strings.NewReader(b.String()))
	if err != nil || len(bad) != 0 {
		t.Fatalf("err %v, bad %v", err, bad)
	}
	if len(rows) != len(g.Interactions) {
		t.Fatalf("%d rows, want %d", len(rows), len(g.Interactions))
	}
	for i, r := range rows {
		w := g.Interactions[i]
		if r.Viewer != w.Viewer || r.Item != w.Item || !r.At.Equal(w.At) || r.Weight != w.Weight || r.Line != i+2 {
			t.Fatalf("row %d: %+v, want %+v", i, r, w)
		}
	}
}

func TestReadItemsCSV(t *testing.T) {
	in := strings.Join([]string{
		"id,genres,text,published_at,cast",
		`m1,Drama|Crime,The Godfather,1972-01-01T00:00:00Z,"Brando | Pacino"`,
		"m2,,Untitled,,",
		",Drama,No id,,",
		"m1,Drama,Again,,",
		"m3,Drama,Bad date,last year,",
		"m4,Drama",
	}, "\n")
	items, bad, err := eval.ReadItemsCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].ID != "m1" || !reflect.DeepEqual(items[0].Genres, []string{"Drama", "Crime"}) ||
		!reflect.DeepEqual(items[0].Cast, []string{"Brando", "Pacino"}) || items[0].PublishedAt.Year() != 1972 || items[1].ID != "m2" || items[1].Genres != nil {
		t.Fatalf("items %+v", items)
	}
	wantBad := []eval.RowError{
		{Line: 4, Err: "empty id"},
		{Line: 5, Err: `id "m1" already on line 2`},
		{Line: 6, Err: `published_at "last year" is not RFC 3339`},
		{Line: 7, Err: "want 5 fields, got 2"},
	}
	if !reflect.DeepEqual(bad, wantBad) {
		t.Fatalf("bad %+v, want %+v", bad, wantBad)
	}
	for _, h := range []string{"genres,text", "id,rating"} {
		if _, _, err := eval.ReadItemsCSV(strings.NewReader(h + "\n")); err == nil {
			t.Errorf("header %q accepted", h)
		}
	}
}
