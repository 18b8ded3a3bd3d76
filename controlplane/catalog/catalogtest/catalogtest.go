// Package catalogtest holds what catalog tests share: tenants written
// straight into a fresh database and a fixture catalog with every kind of
// title search must rank, filter or hide.
package catalogtest

import (
	"context"
	"testing"
	"time"

	"github.com/marquee-video/marquee/controlplane/catalog"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/ids"
)

// Tenants writes a platform root and n creators under it and returns the
// creators' ids.
func Tenants(t testing.TB, d *db.DB, n int) []string {
	t.Helper()
	root := ids.New(ids.Tenant)
	at := time.Now().UTC()
	var out []string
	err := d.System(context.Background(), func(tx *db.Tx) error {
		const insert = `INSERT INTO tenants (id, parent_id, path, slug, name, kind, status, plan, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 'active', 'free', ?, ?)`
		if err := tx.Exec(insert, root, nil, "/"+root+"/", "platform-"+root[4:], "Platform", "platform", at, at).Error; err != nil {
			return err
		}
		for range n {
			id := ids.New(ids.Tenant)
			if err := tx.Exec(insert, id, root, "/"+root+"/"+id+"/", id[4:], "Creator", "creator", at, at).Error; err != nil {
				return err
			}
			out = append(out, id)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("catalogtest: tenants: %v", err)
	}
	return out
}

func year(y int) *int { return &y }

func rating(label string) *catalog.Rating {
	r, _, ok := catalog.LookupRating(label)
	if !ok {
		panic("catalogtest: unknown rating " + label)
	}
	return &r
}

func cast(names ...string) []catalog.Credit {
	out := make([]catalog.Credit, len(names))
	for i, n := range names {
		out[i] = catalog.Credit{Name: n, Role: catalog.RoleActor}
	}
	return out
}

// Fixture is the fixture catalog: published, available everywhere unless
// its name says otherwise. Keys are short names tests refer to.
func Fixture(now time.Time) map[string]catalog.TitleInput {
	past, past2, future, soon := now.Add(-48*time.Hour), now.Add(-24*time.Hour), now.Add(48*time.Hour), now.Add(24*time.Hour)
	pub := catalog.StatusPublished
	return map[string]catalog.TitleInput{
		"matrix": {Kind: catalog.KindMovie, Status: pub, Title: "The Matrix", Synopsis: "A hacker learns that reality is a simulation.",
			Genres: []string{"sci-fi", "action"}, Credits: cast("Keanu Reeves", "Carrie-Anne Moss"), ReleaseYear: year(1999), Rating: rating("R")},
		"reloaded": {Kind: catalog.KindMovie, Status: pub, Title: "The Matrix Reloaded", Synopsis: "Neo returns to fight the machines.",
			Genres: []string{"sci-fi", "action"}, Credits: cast("Keanu Reeves", "Carrie-Anne Moss"), ReleaseYear: year(2003), Rating: rating("R")},
		"john-wick": {Kind: catalog.KindMovie, Status: pub, Title: "John Wick", Synopsis: "A retired hitman seeks vengeance.",
			Genres: []string{"action", "thriller"}, Credits: cast("Keanu Reeves"), ReleaseYear: year(2014), Rating: rating("R")},
		"amelie": {Kind: catalog.KindMovie, Status: pub, Title: "Amélie", Synopsis: "A shy waitress in Paris decides to change the lives of those around her.",
			Genres: []string{"comedy", "romance"}, Credits: cast("Audrey Tautou"), ReleaseYear: year(2001), Rating: rating("R")},
		"toy-story": {Kind: catalog.KindMovie, Status: pub, Title: "Toy Story", Synopsis: "Toys come to life when nobody is looking.",
			Genres: []string{"animation", "family", "comedy"}, Credits: cast("Tom Hanks", "Tim Allen"), ReleaseYear: year(1995), Rating: rating("G")},
		"big": {Kind: catalog.KindMovie, Status: pub, Title: "Big", Synopsis: "A boy wakes up in the body of an adult.",
			Genres: []string{"comedy", "family"}, Credits: cast("Tom Hanks"), ReleaseYear: year(1988), Rating: rating("PG")},
		"planet": {Kind: catalog.KindSeries, Status: pub, Title: "Planet Earth", Synopsis: "The natural world, from the deep ocean to the highest mountains.",
			Genres: []string{"documentary", "nature"}, Credits: cast("David Attenborough"), ReleaseYear: year(2006), Rating: rating("TV-G"), Tags: []string{"bbc"}},
		"breaking": {Kind: catalog.KindSeries, Status: pub, Title: "Breaking Bad", Synopsis: "A chemistry teacher turns to making drugs.",
			Genres: []string{"drama", "crime"}, Credits: cast("Bryan Cranston", "Aaron Paul"), ReleaseYear: year(2008), Rating: rating("TV-MA")},
		"chemistry": {Kind: catalog.KindMovie, Status: pub, Title: "Chemistry of Love", Synopsis: "Two chemists fall for each other.",
			Genres: []string{"romance"}, Credits: cast("Jane Doe"), ReleaseYear: year(2019), Rating: rating("PEGI 12")},
		"racer": {Kind: catalog.KindMovie, Status: pub, Title: "Speed Racer", Synopsis: "A young driver takes on a corrupt racing league.",
			Genres: []string{"action", "family"}, Credits: cast("Emile Hirsch"), ReleaseYear: year(2008), Rating: rating("PG")},
		"unrated": {Kind: catalog.KindMovie, Status: pub, Title: "Matrix Home Movies", Synopsis: "Behind the scenes footage.",
			Genres: []string{"documentary"}, ReleaseYear: year(2020)},
		// Hidden from everyone.
		"draft": {Kind: catalog.KindMovie, Status: catalog.StatusDraft, Title: "The Matrix Resurrections", Synopsis: "Draft only.",
			Genres: []string{"sci-fi"}, Credits: cast("Keanu Reeves"), ReleaseYear: year(2021), Rating: rating("R")},
		"expired": {Kind: catalog.KindMovie, Status: pub, Title: "Matrix Expired Cut", Genres: []string{"sci-fi"}, Credits: cast("Keanu Reeves"), ReleaseYear: year(2000), Rating: rating("R"),
			Availability: catalog.Availability{From: &past, Until: &past2}},
		"upcoming": {Kind: catalog.KindMovie, Status: pub, Title: "Matrix Upcoming", Genres: []string{"sci-fi"}, Credits: cast("Keanu Reeves"), ReleaseYear: year(2027), Rating: rating("R"),
			Availability: catalog.Availability{From: &soon, Until: &future}},
		// Geo rules.
		"us-only": {Kind: catalog.KindMovie, Status: pub, Title: "Matrix American Edition", Genres: []string{"sci-fi"}, Credits: cast("Keanu Reeves"), ReleaseYear: year(2001), Rating: rating("R"),
			Availability: catalog.Availability{AllowedCountries: []string{"US"}}},
		"not-de": {Kind: catalog.KindMovie, Status: pub, Title: "Matrix Uncut", Genres: []string{"sci-fi"}, Credits: cast("Keanu Reeves"), ReleaseYear: year(2002), Rating: rating("NC-17"),
			Availability: catalog.Availability{BlockedCountries: []string{"DE"}}},
	}
}

// Load creates the fixture in tenant and returns the ids by key.
func Load(t testing.TB, s *catalog.Service, tenant string, fx map[string]catalog.TitleInput) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, in := range fx {
		ti, err := s.CreateTitle(context.Background(), tenant, in)
		if err != nil {
			t.Fatalf("catalogtest: create %s: %v", k, err)
		}
		out[k] = ti.ID
	}
	return out
}
