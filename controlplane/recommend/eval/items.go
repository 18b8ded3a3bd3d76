package eval

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/marquee-video/marquee/controlplane/recommend"
)

// itemColumns are the columns ReadItemsCSV knows; id is required.
const itemColumns = "id, genres, tags, cast, text, published_at"

func knownItemColumn(h string) bool {
	switch h {
	case "id", "genres", "tags", "cast", "text", "published_at":
		return true
	}
	return false
}

// ReadItemsCSV reads catalog metadata as CSV with a header naming any of the
// columns id, genres, tags, cast, text, published_at (id required, others
// optional, any order). List columns are separated by "|"; published_at is RFC
// 3339 or empty. Bad rows are skipped and returned with their line numbers.
func ReadItemsCSV(r io.Reader) ([]recommend.Item, []RowError, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("read items header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if !knownItemColumn(h) {
			return nil, nil, fmt.Errorf("items header: unknown column %q (want %s)", h, itemColumns)
		}
		col[h] = i
	}
	if _, ok := col["id"]; !ok {
		return nil, nil, errors.New("items header: no id column")
	}
	field := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	list := func(s string) []string {
		if s == "" {
			return nil
		}
		var out []string
		for _, x := range strings.Split(s, "|") {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
		return out
	}
	var items []recommend.Item
	var bad []RowError
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			bad = append(bad, RowError{Line: perr.StartLine, Err: perr.Err.Error()})
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read items: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			bad = append(bad, RowError{Line: line, Err: fmt.Sprintf("want %d fields, got %d", len(header), len(rec))})
			continue
		}
		it := recommend.Item{ID: field(rec, "id"), Genres: list(field(rec, "genres")), Tags: list(field(rec, "tags")), Cast: list(field(rec, "cast")), Text: field(rec, "text")}
		if it.ID == "" {
			bad = append(bad, RowError{Line: line, Err: "empty id"})
			continue
		}
		if prev, ok := seen[it.ID]; ok {
			bad = append(bad, RowError{Line: line, Err: fmt.Sprintf("id %q already on line %d", it.ID, prev)})
			continue
		}
		if p := field(rec, "published_at"); p != "" {
			t, err := time.Parse(time.RFC3339, p)
			if err != nil {
				bad = append(bad, RowError{Line: line, Err: fmt.Sprintf("published_at %q is not RFC 3339", p)})
				continue
			}
			it.PublishedAt = t
		}
		seen[it.ID] = line
		items = append(items, it)
	}
	return items, bad, nil
}
