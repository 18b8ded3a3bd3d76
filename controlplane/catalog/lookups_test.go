package catalog_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/marquee-video/marquee/controlplane/catalog"
	"github.com/marquee-video/marquee/controlplane/catalog/catalogtest"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/db/dbtest"
)

// TestRowLookupsKeepTheTenantWall checks the PostgreSQL functions search
// reads its rows through (00008): they run as their owner, outside
// row-level security, so each must return only the acting tenant's rows,
// and none without one, even where another tenant has the same words and
// genre.
func TestRowLookupsKeepTheTenantWall(t *testing.T) {
	d := dbtest.Postgres(t)
	ctx := context.Background()
	s := newService(d)
	ten := catalogtest.Tenants(t, d, 2)
	a, b := ten[0], ten[1]
	catalogtest.Load(t, s, a, catalogtest.Fixture(time.Now().UTC()))
	bTitle, err := s.CreateTitle(ctx, b, catalog.TitleInput{Kind: catalog.KindMovie, Status: catalog.StatusPublished, Title: "Matrix of Keanu",
		Genres: []string{"sci-fi"}, Credits: []catalog.Credit{{Name: "Keanu Reeves", Role: catalog.RoleActor}}})
	if err != nil {
		t.Fatal(err)
	}
	lookups := []struct {
		name, sql string
	}{
		{"catalog_match_titles", "SELECT id FROM catalog_match_titles(to_tsquery('simple', 'matrix:* | keanu'))"},
		{"catalog_genre_titles", "SELECT id FROM catalog_genre_titles('sci-fi')"},
	}
	inA := map[string][]string{}
	for _, l := range lookups {
		var asA, asB, asSystem []string
		err := d.Tx(ctx, a, func(tx *db.Tx) error { return tx.Raw(l.sql).Scan(&asA).Error })
		if err == nil {
			err = d.Tx(ctx, b, func(tx *db.Tx) error { return tx.Raw(l.sql).Scan(&asB).Error })
		}
		if err == nil {
			err = d.System(ctx, func(tx *db.Tx) error { return tx.Raw(l.sql).Scan(&asSystem).Error })
		}
		if err != nil {
			t.Fatalf("%s: %v", l.name, err)
		}
		inA[l.name] = asA
		if len(asA) == 0 || slices.Contains(asA, bTitle.ID) {
			t.Errorf("%s as A: %v, want A's titles only (some)", l.name, asA)
		}
		if !slices.Equal(asB, []string{bTitle.ID}) {
			t.Errorf("%s as B: %v, want only %s", l.name, asB, bTitle.ID)
		}
		if len(asSystem) != 0 {
			t.Errorf("%s without an acting tenant: %v, want none", l.name, asSystem)
		}
	}
	// The genre lookup finds what search's own genre test finds.
	var keyed []string
	err = d.Tx(ctx, a, func(tx *db.Tx) error {
		return tx.Raw("SELECT id FROM titles WHERE strpos(genres_key, '|sci-fi|') > 0").Scan(&keyed).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	got := inA["catalog_genre_titles"]
	slices.Sort(keyed)
	slices.Sort(got)
	if !slices.Equal(got, keyed) {
		t.Errorf("catalog_genre_titles('sci-fi') as A: %v, genres_key finds %v", got, keyed)
	}
}
