package sqlstore

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/marquee-video/marquee/controlplane/catalog"
	"github.com/marquee-video/marquee/internal/db"
)

// Ranking weights. A term scores the best of its matches: in the title
// (A), the people, genres and tags (B) or the synopsis (C), as the word
// itself, a word it starts, or one of its typo alternatives. Integers, so
// that both engines compute the very same scores and ties.
const (
	weightA, weightB, weightC          = 100, 40, 20
	matchExact, matchPrefix, matchTypo = 10, 8, 6
	// bonusWholeTitle rewards a query that is the whole title.
	bonusWholeTitle = 500
	// facetSize is how many values each facet lists.
	facetSize = 20
	// searchWorkMem is PostgreSQL's work_mem for a search's statement.
	searchWorkMem = "32MB"
)

// Facet names, as search reports them.
const (
	facetGenre  = "genre"
	facetCast   = "cast"
	facetKind   = "kind"
	facetYear   = "year"
	facetRating = "rating"
)

// Vocabulary implements catalog.Store. On PostgreSQL pg_trgm's % operator
// (similarity at least pg_trgm.similarity_threshold, which
// catalog_similar_terms sets to catalog.TypoSimilarity) finds them with the
// trigram index; on SQLite the
// FTS5 trigram index finds every word sharing a trigram, a superset.
func (s *Store) Vocabulary(ctx context.Context, tenant, term string) ([]string, error) {
	var out []string
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		if tx.Dialect() == db.Postgres {
			return tx.Raw("SELECT term FROM catalog_similar_terms(?)", term).Scan(&out).Error
		}
		padded := []rune("__" + term + "_")
		var grams []string
		for i := 0; i+3 <= len(padded); i++ {
			g := `"` + string(padded[i:i+3]) + `"`
			if !slices.Contains(grams, g) {
				grams = append(grams, g)
			}
		}
		return tx.Raw(`SELECT c.term FROM catalog_terms_fts f JOIN catalog_terms c ON c.seq = f.rowid
			WHERE catalog_terms_fts MATCH ? AND c.tenant_id = ?`, strings.Join(grams, " OR "), tenant).Scan(&out).Error
	})
	return out, db.Translate(err)
}

// WordTitles implements catalog.Store.
func (s *Store) WordTitles(ctx context.Context, tenant string, words []string) (map[string]int, error) {
	var rows []struct {
		Term   string
		Titles int
	}
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Raw("SELECT term, titles FROM catalog_terms WHERE tenant_id = ? AND term IN ?", tenant, words).Scan(&rows).Error
	})
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.Term] = r.Titles
	}
	return out, db.Translate(err)
}

// contains is the engine's substring test.
func contains(d db.Dialect, haystack string) string {
	if d == db.Postgres {
		return "strpos(" + haystack + ", ?) > 0"
	}
	return "instr(" + haystack + ", ?) > 0"
}

// filters are the WHERE conditions every search applies: the tenant,
// visibility to the viewer now, the facet filters and the text match.
func filters(d db.Dialect, tenant string, p catalog.SearchPlan) (string, []any) {
	where := []string{
		"t.tenant_id = ?", "t.status = 'published'",
		"(t.available_from IS NULL OR t.available_from <= ?)",
		"(t.available_until IS NULL OR t.available_until > ?)",
	}
	args := []any{tenant, p.Now, p.Now}
	if p.Country == "" {
		where = append(where, "t.allowed_countries = ''")
	} else {
		where = append(where, "(t.allowed_countries = '' OR "+contains(d, "t.allowed_countries")+")", "NOT "+contains(d, "t.blocked_countries"))
		args = append(args, "|"+p.Country+"|", "|"+p.Country+"|")
	}
	if p.MaxRatingAge >= 0 {
		where = append(where, "t.rating_age IS NOT NULL AND t.rating_age <= ?")
		args = append(args, p.MaxRatingAge)
	}
	if p.Genre != "" {
		where = append(where, contains(d, "t.genres_key"))
		args = append(args, "|"+p.Genre+"|")
	}
	if p.Cast != "" {
		where = append(where, contains(d, "t.cast_key"))
		args = append(args, "|"+strings.ToLower(p.Cast)+"|")
	}
	if p.Kind != "" {
		where = append(where, "t.kind = ?")
		args = append(args, string(p.Kind))
	}
	if p.Year != 0 {
		where = append(where, "t.release_year = ?")
		args = append(args, p.Year)
	}
	if p.Rating != "" {
		where = append(where, "t.rating = ?")
		args = append(args, p.Rating)
	}
	if len(p.Terms) > 0 && d != db.Postgres {
		where = append(where, "t.seq IN (SELECT rowid FROM titles_fts WHERE titles_fts MATCH ?)")
		args = append(args, ftsQuery(p.Terms))
	}
	return strings.Join(where, " AND "), args
}

// source is the set of rows a search filters, as t. On PostgreSQL it is the
// text matches or, with no text, the genre's titles, read with their
// indexes by functions that apply the tenant wall themselves, since under
// row-level security the planner cannot use those indexes (see 00006 and
// 00008); filters still applies every condition, the genre's included, to
// the rows they return. On SQLite, and with neither, it is the table.
func source(d db.Dialect, p catalog.SearchPlan) (string, []any) {
	switch {
	case d != db.Postgres:
		return "titles t", nil
	case len(p.Terms) > 0:
		return "catalog_match_titles(to_tsquery('simple', ?)) t", []any{tsquery(p.Terms)}
	case p.Genre != "":
		return "catalog_genre_titles(?) t", []any{p.Genre}
	}
	return "titles t", nil
}

// tsquery is the terms as a PostgreSQL tsquery: each term or one of its
// typos, all terms required. Weights A and B (title; cast, crew, genres,
// tags) take prefixes and common words; C (synopsis) only whole, uncommon
// words. Terms are letters and digits only (catalog.Tokens), so they need
// no quoting beyond this.
func tsquery(terms []catalog.PlannedTerm) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		w := "'" + t.Term + "'"
		var alts []string
		switch {
		case t.Prefix && t.Common:
			alts = []string{w + ":*AB"}
		case t.Prefix:
			alts = []string{w + ":*AB", w}
		case t.Common:
			alts = []string{w + ":AB"}
		default:
			alts = []string{w}
		}
		for _, ty := range t.Typos {
			if slices.Contains(t.CommonTypos, ty) {
				alts = append(alts, "'"+ty+"':AB")
			} else {
				alts = append(alts, "'"+ty+"'")
			}
		}
		parts[i] = "(" + strings.Join(alts, " | ") + ")"
	}
	return strings.Join(parts, " & ")
}

// ftsQuery is the same query in FTS5's syntax, a column filter standing for
// the weights.
func ftsQuery(terms []catalog.PlannedTerm) string {
	const ab = "{search_title search_people} : "
	parts := make([]string, len(terms))
	for i, t := range terms {
		w := `"` + t.Term + `"`
		var alts []string
		switch {
		case t.Prefix && t.Common:
			alts = []string{ab + w + "*"}
		case t.Prefix:
			alts = []string{ab + w + "*", w}
		case t.Common:
			alts = []string{ab + w}
		default:
			alts = []string{w}
		}
		for _, ty := range t.Typos {
			if slices.Contains(t.CommonTypos, ty) {
				alts = append(alts, ab+`"`+ty+`"`)
			} else {
				alts = append(alts, `"`+ty+`"`)
			}
		}
		parts[i] = "(" + strings.Join(alts, " OR ") + ")"
	}
	return strings.Join(parts, " AND ")
}

// score is the ranking expression: per term, a CASE taking its best match
// (the branches are in descending order of value), summed, plus the whole
// title bonus. Matching is on ' '-padded token strings with LIKE, which
// both engines evaluate alike on these lower-case tokens.
func score(terms []catalog.PlannedTerm) (string, []any) {
	if len(terms) == 0 {
		return "0", nil
	}
	var (
		sums []string
		args []any
	)
	fields := []struct {
		col    string
		weight int
	}{{"t.search_title", weightA}, {"t.search_people", weightB}, {"t.search_synopsis", weightC}}
	whole := make([]string, len(terms))
	for i, t := range terms {
		whole[i] = t.Term
		var b strings.Builder
		b.WriteString("(CASE")
		for _, f := range fields {
			synopsis := f.col == "t.search_synopsis"
			padded := "(' ' || " + f.col + " || ' ')"
			if !synopsis || !t.Common {
				b.WriteString(" WHEN " + padded + " LIKE ? THEN " + strconv.Itoa(f.weight*matchExact))
				args = append(args, "% "+t.Term+" %")
			}
			if t.Prefix && !synopsis {
				b.WriteString(" WHEN " + padded + " LIKE ? THEN " + strconv.Itoa(f.weight*matchPrefix))
				args = append(args, "% "+t.Term+"%")
			}
			for _, ty := range t.Typos {
				if synopsis && slices.Contains(t.CommonTypos, ty) {
					continue
				}
				b.WriteString(" WHEN " + padded + " LIKE ? THEN " + strconv.Itoa(f.weight*matchTypo))
				args = append(args, "% "+ty+" %")
			}
		}
		b.WriteString(" ELSE 0 END)")
		sums = append(sums, b.String())
	}
	sums = append(sums, "(CASE WHEN t.search_title = ? THEN "+strconv.Itoa(bonusWholeTitle)+" ELSE 0 END)")
	args = append(args, strings.Join(whole, " "))
	return strings.Join(sums, " + "), args
}

// searchSQL is the whole search as one statement over one materialized set
// of matches (one index scan, one read of each matching row): the page of
// hits in rank order, tagged 'hit' with their rank, and the facets: kind,
// year and rating are columns, genres and cast JSON arrays unnested by each
// engine's function, their top values picked here in byte order for ties,
// as Go sorts them. Its arguments are those of score, then of from, then of where, then
// limit and offset.
func searchSQL(d db.Dialect, score, from, where string, terms bool) string {
	// A facet's values, one row each: on PostgreSQL a set-returning
	// function in the select list (no tuple store per row, as a lateral
	// function scan builds).
	each, collate := "SELECT x.value FROM m, json_each(m.%s) AS x", ""
	if d == db.Postgres {
		each, collate = "SELECT jsonb_array_elements_text(m.%s) AS value FROM m", ` COLLATE "C"`
	}
	// Among equal scores a shorter title is the closer match (the query
	// covers more of it); then newer titles first, then the normalized
	// title in byte order, then the id.
	order := "m.score DESC, "
	if terms {
		order += "m.len, "
	}
	order += "m.year0 DESC, m.st" + collate + ", m.id"
	top := func(facet, from string) string {
		return "SELECT * FROM (SELECT '" + facet + "' AS facet, x.value AS value, count(*) AS n, 0 AS rk FROM (" + from + ") AS x" +
			" GROUP BY x.value ORDER BY n DESC, x.value" + collate + " LIMIT " + strconv.Itoa(facetSize) + ") AS " + facet + "_top"
	}
	return "WITH m AS MATERIALIZED (SELECT t.id, " + score + " AS score, length(t.search_title) AS len, COALESCE(t.release_year, 0) AS year0," +
		" t.search_title AS st, t.kind, t.release_year, t.rating, t.genres, t.cast_names FROM " + from + " WHERE " + where + ")" +
		// The page first (a top-N sort), then its ranks: numbering every
		// match would sort them all.
		" SELECT * FROM (SELECT 'hit' AS facet, m.id AS value, m.score AS n, ROW_NUMBER() OVER (ORDER BY " + order + ") AS rk" +
		" FROM (SELECT * FROM m ORDER BY " + order + " LIMIT ? OFFSET ?) AS m) AS hits" +
		" UNION ALL SELECT 'kind', m.kind, count(*), 0 FROM m GROUP BY m.kind" +
		" UNION ALL SELECT 'year', CAST(m.release_year AS TEXT), count(*), 0 FROM m WHERE m.release_year IS NOT NULL GROUP BY m.release_year" +
		" UNION ALL SELECT 'rating', m.rating, count(*), 0 FROM m WHERE m.rating IS NOT NULL GROUP BY m.rating" +
		" UNION ALL " + top(facetGenre, strings.ReplaceAll(each, "%s", "genres")) +
		" UNION ALL " + top(facetCast, strings.ReplaceAll(each, "%s", "cast_names"))
}

type facetCountRow struct {
	Facet string
	Value string
	N     int
	Rk    int
}

// Search implements catalog.Store.
func (s *Store) Search(ctx context.Context, tenant string, p catalog.SearchPlan) (catalog.SearchResult, error) {
	var (
		hits   []facetCountRow
		rows   []titleRow
		counts []facetCountRow
	)
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		if tx.Dialect() == db.Postgres {
			// A broad search sorts and counts tens of thousands of matches:
			// in memory, not spilled to temporary files at the default 4MB.
			if err := tx.Exec("SET LOCAL work_mem = '" + searchWorkMem + "'").Error; err != nil {
				return err
			}
		}
		from, fargs := source(tx.Dialect(), p)
		where, wargs := filters(tx.Dialect(), tenant, p)
		sc, sargs := score(p.Terms)
		var all []facetCountRow
		args := append(append(append(sargs, fargs...), wargs...), p.Limit, p.Offset)
		if err := tx.Raw(searchSQL(tx.Dialect(), sc, from, where, len(p.Terms) > 0), args...).Scan(&all).Error; err != nil {
			return err
		}
		for _, r := range all {
			if r.Facet == "hit" {
				hits = append(hits, r)
			} else {
				counts = append(counts, r)
			}
		}
		if len(hits) == 0 {
			return nil
		}
		slices.SortFunc(hits, func(a, b facetCountRow) int { return a.Rk - b.Rk })
		idList := make([]string, len(hits))
		for i, h := range hits {
			idList[i] = h.Value
		}
		return tx.Raw("SELECT "+titleColumns+" FROM titles t WHERE t.tenant_id = ? AND t.id IN ?", tenant, idList).Scan(&rows).Error
	})
	if err != nil {
		return catalog.SearchResult{}, db.Translate(err)
	}
	byID := make(map[string]titleRow, len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	res := catalog.SearchResult{Hits: make([]catalog.Hit, 0, len(hits))}
	for _, h := range hits {
		if r, ok := byID[h.Value]; ok {
			res.Hits = append(res.Hits, catalog.Hit{Title: r.domain(), Score: h.N})
		}
	}
	byFacet := map[string][]catalog.FacetCount{}
	for _, c := range counts {
		byFacet[c.Facet] = append(byFacet[c.Facet], catalog.FacetCount{Value: c.Value, Count: c.N})
		if c.Facet == facetKind {
			res.Total += c.N // every title has exactly one kind
		}
	}
	top := func(name string) []catalog.FacetCount {
		fs := byFacet[name]
		slices.SortFunc(fs, func(a, b catalog.FacetCount) int {
			if a.Count != b.Count {
				return b.Count - a.Count
			}
			return strings.Compare(a.Value, b.Value)
		})
		if len(fs) > facetSize {
			fs = fs[:facetSize]
		}
		if fs == nil {
			fs = []catalog.FacetCount{}
		}
		return fs
	}
	res.Facets = catalog.Facets{Genre: top(facetGenre), Year: top(facetYear), Rating: top(facetRating), Kind: top(facetKind), Cast: top(facetCast)}
	return res, nil
}
