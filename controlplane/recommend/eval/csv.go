package eval

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Interaction is one row of an interactions file: a viewer watched an item at
// a time, with an optional strength (a rating, a completion share; 1 if
// absent).
type Interaction struct {
	Viewer, Item string
	At           time.Time
	Weight       float64
	Line         int // line of the input it came from; 0 for generated data
}

// RowError is a row of the input that was skipped, and why.
type RowError struct {
	Line int
	Err  string
}

func (e RowError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Err) }

// ReadCSV reads interactions as CSV rows viewer,item,timestamp[,weight]. The
// timestamp is Unix seconds or RFC 3339; a first row whose timestamp does not
// parse is taken for a header when it names the columns. Bad rows are skipped
// and returned with their line numbers; the error is for unreadable input.
func ReadCSV(r io.Reader) ([]Interaction, []RowError, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true
	var out []Interaction
	var bad []RowError
	first := true
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
			return nil, nil, fmt.Errorf("read interactions: %w", err)
		}
		line, _ := cr.FieldPos(0)
		isHeader := first && len(rec) >= 3 && isHeaderRow(rec)
		first = false
		if isHeader {
			continue
		}
		in, msg := parseRow(rec)
		if msg != "" {
			bad = append(bad, RowError{Line: line, Err: msg})
			continue
		}
		in.Line = line
		out = append(out, in)
	}
	return out, bad, nil
}

func isHeaderRow(rec []string) bool {
	_, msg := parseRow(rec)
	if msg == "" {
		return false
	}
	h := strings.ToLower(rec[2])
	return strings.Contains(h, "time") || strings.Contains(h, "date") || h == "at" || h == "ts"
}

func parseRow(rec []string) (Interaction, string) {
	if len(rec) < 3 || len(rec) > 4 {
		return Interaction{}, fmt.Sprintf("want 3 or 4 fields (viewer,item,timestamp[,weight]), got %d", len(rec))
	}
	in := Interaction{Viewer: strings.TrimSpace(rec[0]), Item: strings.TrimSpace(rec[1]), Weight: 1}
	if in.Viewer == "" {
		return in, "empty viewer"
	}
	if in.Item == "" {
		return in, "empty item"
	}
	ts := strings.TrimSpace(rec[2])
	if sec, err := strconv.ParseInt(ts, 10, 64); err == nil {
		in.At = time.Unix(sec, 0).UTC()
	} else if t, err := time.Parse(time.RFC3339, ts); err == nil {
		in.At = t.UTC()
	} else {
		return in, fmt.Sprintf("timestamp %q is neither Unix seconds nor RFC 3339", ts)
	}
	if len(rec) == 4 && strings.TrimSpace(rec[3]) != "" {
		w, err := strconv.ParseFloat(strings.TrimSpace(rec[3]), 64)
		if err != nil || math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
			return in, fmt.Sprintf("weight %q is not a non-negative number", rec[3])
		}
		in.Weight = w
	}
	return in, ""
}

// WriteCSV writes interactions in the format ReadCSV reads, with a header.
func WriteCSV(w io.Writer, in []Interaction) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"viewer", "item", "timestamp", "weight"}); err != nil {
		return err
	}
	for _, x := range in {
		if err := cw.Write([]string{x.Viewer, x.Item, strconv.FormatInt(x.At.Unix(), 10), strconv.FormatFloat(x.Weight, 'g', -1, 64)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
