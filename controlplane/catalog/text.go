package catalog

import (
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Tokens splits s into search tokens: lower case, diacritics removed
// ("Amélie" → "amelie"), letters and digits only, anything else separates.
// Both databases index the tokens joined by single spaces, so they agree on
// what a word is.
func Tokens(s string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
		}
	}
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// A combining mark of the letter before it.
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	return out
}

// searchText is the token string of the given texts.
func searchText(texts ...string) string {
	var all []string
	for _, t := range texts {
		all = append(all, Tokens(t)...)
	}
	return strings.Join(all, " ")
}

// SearchDoc is a title's indexed text, weighted A (title), B (cast, crew,
// genres, tags) and C (synopsis).
type SearchDoc struct {
	Title, People, Synopsis string
}

// Doc builds t's search document.
func (t Title) Doc() SearchDoc {
	people := make([]string, 0, len(t.Credits)+len(t.Genres)+len(t.Tags))
	for _, c := range t.Credits {
		people = append(people, c.Name)
	}
	people = append(people, t.Genres...)
	people = append(people, t.Tags...)
	return SearchDoc{Title: searchText(t.Title), People: searchText(people...), Synopsis: searchText(t.Synopsis)}
}

// Words is the distinct tokens of the document, sorted: the title's
// contribution to the tenant's vocabulary.
func (d SearchDoc) Words() []string {
	var ws []string
	for _, s := range []string{d.Title, d.People, d.Synopsis} {
		ws = append(ws, strings.Fields(s)...)
	}
	slices.Sort(ws)
	return slices.Compact(ws)
}

// TypoSimilarity is the least trigram similarity of a typo alternative;
// it is pg_trgm's default similarity_threshold.
const TypoSimilarity = 0.3

// trigrams are the distinct trigrams of one word as pg_trgm makes them: the
// word padded with two spaces before and one after.
func trigrams(word string) []string {
	rs := []rune("  " + word + " ")
	out := make([]string, 0, len(rs))
	for i := 0; i+3 <= len(rs); i++ {
		out = append(out, string(rs[i:i+3]))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Similar reports whether two words' trigram similarity (shared trigrams
// over all distinct trigrams, pg_trgm's similarity()) is at least
// TypoSimilarity, and returns it as shared and union counts so callers can
// rank without floating-point ties.
func Similar(a, b string) (ok bool, shared, union int) {
	ta, tb := trigrams(a), trigrams(b)
	i, j := 0, 0
	for i < len(ta) && j < len(tb) {
		switch {
		case ta[i] == tb[j]:
			shared++
			i++
			j++
		case ta[i] < tb[j]:
			i++
		default:
			j++
		}
	}
	union = len(ta) + len(tb) - shared
	// shared/union >= 0.3, in integers.
	return union > 0 && 10*shared >= 3*union, shared, union
}
