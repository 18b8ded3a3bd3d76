package catalog_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/marquee-video/marquee/controlplane/catalog"
	"github.com/marquee-video/marquee/controlplane/catalog/catalogtest"
	"github.com/marquee-video/marquee/internal/db/dbtest"
	"github.com/marquee-video/marquee/internal/errs"
)

func TestParseQuery(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		bad  bool
	}{
		{"", nil, false},
		{"  The   Matrix ", []string{"the", "matrix"}, false},
		{"Amélie's café", []string{"amelie", "s", "cafe"}, false},
		{"matrix MATRIX matrix", []string{"matrix"}, false},
		{`"quoted" OR -neg* AND (x)`, []string{"quoted", "or", "neg", "and", "x"}, false},
		{"spider-man: 2", []string{"spider", "man", "2"}, false},
		{"東京 物語", []string{"東京", "物語"}, false},
		{"a b c d e f g h i", nil, true},
		{strings.Repeat("x", 41), nil, true},
		{strings.Repeat("ab ", 100), nil, true},
		{"\xff\xfe", nil, true},
	} {
		got, err := catalog.ParseQuery(tc.in)
		if tc.bad {
			if !errs.Is(err, errs.Invalid) {
				t.Errorf("%q: %v, want an invalid-input error", tc.in, err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%q: %q %v, want %q", tc.in, got, err, tc.want)
		}
	}
}

// FuzzParseQuery checks the query parser on any input: it never panics,
// refuses only with an invalid-input error, and its terms are distinct,
// non-empty, lower-case letters and digits, within the limits, and parse
// back to themselves.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"", "matrix", "The Matrix: Reloaded", "amélie", "'; DROP TABLE titles; --", `"a" OR b*`, "a:* & !b", "NEAR(a b)", "\x00", "ǅungla", "İstanbul", "ﬁlm", strings.Repeat("ab ", 10)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		terms, err := catalog.ParseQuery(q)
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("%q: %v is not an invalid-input error", q, err)
			}
			return
		}
		if len(terms) > catalog.MaxQueryTerms {
			t.Fatalf("%q: %d terms", q, len(terms))
		}
		seen := map[string]bool{}
		for _, term := range terms {
			if term == "" || seen[term] || utf8.RuneCountInString(term) > catalog.MaxTermRunes {
				t.Fatalf("%q: bad term %q in %q", q, term, terms)
			}
			seen[term] = true
			for _, r := range term {
				if !unicode.IsLetter(r) && !unicode.IsDigit(r) || unicode.ToLower(r) != r {
					t.Fatalf("%q: term %q has %q", q, term, r)
				}
			}
		}
		again, err := catalog.ParseQuery(strings.Join(terms, " "))
		if err != nil || !slices.Equal(again, terms) {
			t.Fatalf("%q: terms %q parse back to %q (%v)", q, terms, again, err)
		}
	})
}

// FuzzSearchSQLite runs fuzzed queries through the whole search on the
// embedded database: whatever the text, the FTS5 query the store writes is
// valid, so a search never fails other than as invalid input.
func FuzzSearchSQLite(f *testing.F) {
	for _, s := range []string{"matrix", "matrx", "kean reev", `"`, "*", "NEAR", "a AND", "^x", "col:matrix", "東京"} {
		f.Add(s)
	}
	d := dbtest.SQLite(f)
	s := newService(d)
	tenant := catalogtest.Tenants(f, d, 1)[0]
	catalogtest.Load(f, s, tenant, catalogtest.Fixture(timeNow()))
	f.Fuzz(func(t *testing.T, q string) {
		_, err := s.Search(context.Background(), tenant, catalog.SearchQuery{Q: q})
		if err != nil && !errs.Is(err, errs.Invalid) {
			t.Fatalf("%q: %v", q, err)
		}
	})
}
