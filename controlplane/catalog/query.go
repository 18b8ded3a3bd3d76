package catalog

import (
	"slices"
	"unicode/utf8"

	"github.com/marquee-video/marquee/internal/errs"
)

// Query limits: longer input is refused rather than truncated, so a
// client learns its query was not what ran.
const (
	MaxQueryBytes = 256
	MaxQueryTerms = 8
	MaxTermRunes  = 40
	// MinTypoRunes is the shortest term that gets typo alternatives: with
	// fewer letters nearly every word is "similar".
	MinTypoRunes = 4
	// MaxTypos is how many alternatives one term gets at most.
	MaxTypos = 3
)

// ParseQuery turns a search box's text into terms: the tokens of Tokens, in
// order, each once. All terms must match; the last may match the start of a
// word. An empty query parses to no terms (browse).
func ParseQuery(q string) ([]string, error) {
	if len(q) > MaxQueryBytes {
		return nil, errs.Field("q", "q is longer than %d bytes", MaxQueryBytes)
	}
	if !utf8.ValidString(q) {
		return nil, errs.Field("q", "q must be UTF-8 text")
	}
	var terms []string
	for _, t := range Tokens(q) {
		if utf8.RuneCountInString(t) > MaxTermRunes {
			return nil, errs.Field("q", "a word of q is longer than %d characters", MaxTermRunes)
		}
		if slices.Contains(terms, t) {
			continue
		}
		terms = append(terms, t)
	}
	if len(terms) > MaxQueryTerms {
		return nil, errs.Field("q", "q has more than %d words", MaxQueryTerms)
	}
	return terms, nil
}

// typoCandidate is a vocabulary word near a term.
type typoCandidate struct {
	word          string
	shared, union int
}

// pickTypos chooses a term's alternatives from vocabulary words: only when
// the term is long enough and is not itself a word of the vocabulary; the
// MaxTypos most similar, ties by word. The store may return more words
// than qualify; this decides, so both engines choose alike.
func pickTypos(term string, vocab []string) []string {
	if utf8.RuneCountInString(term) < MinTypoRunes || slices.Contains(vocab, term) {
		return nil
	}
	var cs []typoCandidate
	for _, w := range vocab {
		if ok, sh, un := Similar(term, w); ok {
			cs = append(cs, typoCandidate{w, sh, un})
		}
	}
	slices.SortFunc(cs, func(a, b typoCandidate) int {
		// a.shared/a.union > b.shared/b.union, in integers.
		if d := b.shared*a.union - a.shared*b.union; d != 0 {
			return d
		}
		if a.word < b.word {
			return -1
		}
		if a.word > b.word {
			return 1
		}
		return 0
	})
	out := make([]string, 0, MaxTypos)
	for _, c := range cs {
		if len(out) == MaxTypos {
			break
		}
		out = append(out, c.word)
	}
	return out
}
