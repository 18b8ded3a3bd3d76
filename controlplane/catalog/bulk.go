package catalog

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/ids"
)

// Bulk formats.
const (
	FormatJSON = "json"
	FormatCSV  = "csv"
)

// MaxImportRows bounds one import.
const MaxImportRows = 5000

// ImportReport says what an import did: rows are numbered from 1 (for CSV,
// the first row after the header).
type ImportReport struct {
	Created  int        `json:"created"`
	Updated  int        `json:"updated"`
	Refused  []RowError `json:"refused"`
	TitleIDs []string   `json:"title_ids"`
}

// RowError is why one row was refused.
type RowError struct {
	Row     int    `json:"row"`
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// CSVColumns are the columns of the CSV format, in order. Lists are
// separated by ";". Cast are the actors; directors the crew with role
// director (other crew survive only in JSON).
var CSVColumns = []string{
	"id", "kind", "status", "title", "synopsis", "genres", "tags", "cast", "directors",
	"release_year", "runtime_minutes", "rating", "audio_languages", "subtitle_languages",
	"poster", "backdrop", "asset_id", "available_from", "available_until",
	"allowed_countries", "blocked_countries", "monetization", "tier", "price", "currency",
}

// Import reads titles in format (json: an array of title inputs, or an
// object with "titles"; csv: a header of CSVColumns' names in any order,
// then one title per row), validates each row on its own, stores the good
// ones and reports each refused row. A row with the id of an existing
// title replaces it; with an unknown id it creates the title under that id.
func (s *Service) Import(ctx context.Context, tenant, format string, data []byte) (ImportReport, error) {
	var (
		rows   []TitleInput
		broken []RowError
		err    error
	)
	switch format {
	case FormatJSON:
		rows, broken, err = parseJSONRows(data)
	case FormatCSV:
		rows, broken, err = parseCSVRows(data)
	default:
		return ImportReport{}, errs.Field("format", "format must be json or csv")
	}
	if err != nil {
		return ImportReport{}, err
	}
	rep := ImportReport{Refused: []RowError{}, TitleIDs: []string{}}
	bad := map[int]RowError{}
	for _, b := range broken {
		bad[b.Row] = b
	}
	for i, in := range rows {
		n := i + 1
		if b, ok := bad[n]; ok {
			rep.Refused = append(rep.Refused, b)
			continue
		}
		id, created, err := s.importRow(ctx, tenant, in)
		if err != nil {
			e := errs.As(err)
			if e == nil || e.Kind == errs.Internal || e.Kind == errs.Unavailable {
				return rep, err // the database failing is not the row's fault
			}
			rep.Refused = append(rep.Refused, RowError{Row: n, Code: e.Code, Field: e.Field, Message: e.Message})
			continue
		}
		rep.TitleIDs = append(rep.TitleIDs, id)
		if created {
			rep.Created++
		} else {
			rep.Updated++
		}
	}
	return rep, nil
}

func (s *Service) importRow(ctx context.Context, tenant string, in TitleInput) (string, bool, error) {
	if in.ID == "" {
		t, err := s.createTitle(ctx, tenant, in, ids.New(PrefixTitle))
		return t.ID, true, err
	}
	if !ids.Valid(PrefixTitle, in.ID) {
		return "", false, errs.Field("id", "id must be a title id (ttl_…) or empty")
	}
	cur, err := s.store.Title(ctx, tenant, in.ID)
	switch {
	case errs.Is(err, errs.NotFound):
		t, err := s.createTitle(ctx, tenant, in, in.ID)
		if errs.Is(err, errs.Conflict) {
			err = errs.Field("id", "id %q is taken", in.ID)
		}
		return t.ID, true, err
	case err != nil:
		return "", false, err
	}
	t, err := s.replaceTitle(ctx, tenant, cur, in)
	return t.ID, false, err
}

func rowError(n int, err error) RowError {
	if e := errs.As(err); e != nil {
		return RowError{Row: n, Code: e.Code, Field: e.Field, Message: e.Message}
	}
	return RowError{Row: n, Code: "invalid_row", Message: err.Error()}
}

func parseJSONRows(data []byte) ([]TitleInput, []RowError, error) {
	data = bytes.TrimSpace(data)
	var raw []json.RawMessage
	if len(data) > 0 && data[0] == '{' {
		var wrap struct {
			Titles []json.RawMessage `json:"titles"`
		}
		if err := json.Unmarshal(data, &wrap); err != nil {
			return nil, nil, errs.E(errs.Invalid, "invalid_json", "the import is not a JSON array of titles or {\"titles\": [...]}")
		}
		raw = wrap.Titles
	} else if err := json.Unmarshal(data, &raw); err != nil {
		return nil, nil, errs.E(errs.Invalid, "invalid_json", "the import is not a JSON array of titles or {\"titles\": [...]}")
	}
	if len(raw) > MaxImportRows {
		return nil, nil, errs.E(errs.Invalid, "too_many_rows", "an import holds at most %d titles", MaxImportRows)
	}
	rows := make([]TitleInput, len(raw))
	var broken []RowError
	for i, r := range raw {
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rows[i]); err != nil {
			msg := err.Error()
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				msg = fmt.Sprintf("%s has the wrong type", te.Field)
			}
			broken = append(broken, RowError{Row: i + 1, Code: "invalid_row", Message: strings.TrimPrefix(msg, "json: ")})
		}
	}
	return rows, broken, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func optInt(field, s string) (*int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, errs.Field(field, "%s must be a whole number", field)
	}
	return &n, nil
}

func optTime(field, s string) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, errs.Field(field, "%s must be an RFC 3339 time such as 2026-01-02T15:04:05Z", field)
	}
	return &t, nil
}

func parseCSVRows(data []byte) ([]TitleInput, []RowError, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, nil, errs.E(errs.Invalid, "invalid_csv", "the import has no CSV header row")
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !slices.Contains(CSVColumns, h) {
			return nil, nil, errs.E(errs.Invalid, "invalid_csv", "unknown column %q; columns are %s", h, strings.Join(CSVColumns, ", "))
		}
		if _, dup := col[h]; dup {
			return nil, nil, errs.E(errs.Invalid, "invalid_csv", "column %q appears twice", h)
		}
		col[h] = i
	}
	if _, ok := col["title"]; !ok {
		return nil, nil, errs.E(errs.Invalid, "invalid_csv", "the header must name at least the title column")
	}
	var (
		rows   []TitleInput
		broken []RowError
	)
	for n := 1; ; n++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if n > MaxImportRows {
			return nil, nil, errs.E(errs.Invalid, "too_many_rows", "an import holds at most %d titles", MaxImportRows)
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && !errors.Is(pe.Err, csv.ErrFieldCount) {
				// A quoting error leaves the reader unable to find the
				// next row reliably: stop here, keeping what came before.
				broken = append(broken, RowError{Row: n, Code: "invalid_csv", Message: pe.Err.Error()})
				rows = append(rows, TitleInput{})
				break
			}
		}
		in, err := csvRow(rec, col)
		if err != nil {
			broken = append(broken, rowError(n, err))
		}
		rows = append(rows, in)
	}
	return rows, broken, nil
}

func csvRow(rec []string, col map[string]int) (TitleInput, error) {
	get := func(name string) string {
		i, ok := col[name]
		if !ok || i >= len(rec) {
			return ""
		}
		return rec[i]
	}
	if len(rec) != len(col) {
		return TitleInput{}, errs.E(errs.Invalid, "invalid_row", "the row has %d fields; the header has %d", len(rec), len(col))
	}
	in := TitleInput{
		ID: strings.TrimSpace(get("id")), Kind: Kind(strings.ToLower(strings.TrimSpace(get("kind")))), Status: Status(strings.ToLower(strings.TrimSpace(get("status")))),
		Title: get("title"), Synopsis: get("synopsis"), Genres: splitList(get("genres")), Tags: splitList(get("tags")),
		AudioLanguages: splitList(get("audio_languages")), SubtitleLanguages: splitList(get("subtitle_languages")),
		Artwork: Artwork{Poster: get("poster"), Backdrop: get("backdrop")}, AssetID: strings.TrimSpace(get("asset_id")),
		Monetization: Monetization{Model: get("monetization"), Tier: get("tier")},
	}
	if in.Kind == "" {
		in.Kind = KindMovie
	}
	for _, name := range splitList(get("cast")) {
		in.Credits = append(in.Credits, Credit{Name: name, Role: RoleActor})
	}
	for _, name := range splitList(get("directors")) {
		in.Credits = append(in.Credits, Credit{Name: name, Role: "director"})
	}
	var err error
	if in.ReleaseYear, err = optInt("release_year", get("release_year")); err != nil {
		return in, err
	}
	if in.RuntimeMinutes, err = optInt("runtime_minutes", get("runtime_minutes")); err != nil {
		return in, err
	}
	if l := strings.TrimSpace(get("rating")); l != "" {
		r, _, ok := LookupRating(l)
		if !ok {
			return in, errs.Field("rating", "rating %q is not an MPAA, TV or PEGI rating", l)
		}
		in.Rating = &r
	}
	if in.Availability.From, err = optTime("available_from", get("available_from")); err != nil {
		return in, err
	}
	if in.Availability.Until, err = optTime("available_until", get("available_until")); err != nil {
		return in, err
	}
	in.Availability.AllowedCountries = splitList(get("allowed_countries"))
	in.Availability.BlockedCountries = splitList(get("blocked_countries"))
	if p := strings.TrimSpace(get("price")); p != "" {
		amount, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return in, errs.Field("price", "price must be a whole number of minor units (cents)")
		}
		in.Monetization.Price = &Price{Amount: amount, Currency: get("currency")}
	}
	return in, nil
}

// Export writes every title of the tenant in format, in id order.
func (s *Service) Export(ctx context.Context, tenant, format string, w io.Writer) error {
	if format != FormatJSON && format != FormatCSV {
		return errs.Field("format", "format must be json or csv")
	}
	var all []Title
	after := ""
	for {
		ts, err := s.store.Titles(ctx, tenant, TitleFilter{}, 500, after)
		if err != nil {
			return err
		}
		all = append(all, ts...)
		if len(ts) < 500 {
			break
		}
		after = ts[len(ts)-1].ID
	}
	if format == FormatJSON {
		out := struct {
			Titles []TitleInput `json:"titles"`
		}{Titles: make([]TitleInput, len(all))}
		for i, t := range all {
			out.Titles[i] = t.Input()
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVColumns); err != nil {
		return err
	}
	for _, t := range all {
		if err := cw.Write(t.csvRecord()); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Input is the TitleInput that recreates t.
func (t Title) Input() TitleInput {
	return TitleInput{
		ID: t.ID, Kind: t.Kind, Status: t.Status, Title: t.Title, Synopsis: t.Synopsis, Genres: t.Genres, Tags: t.Tags,
		Credits: t.Credits, ReleaseYear: t.ReleaseYear, RuntimeMinutes: t.RuntimeMinutes, Rating: t.Rating,
		AudioLanguages: t.AudioLanguages, SubtitleLanguages: t.SubtitleLanguages, Artwork: t.Artwork, AssetID: t.AssetID,
		Availability: t.Availability, Monetization: t.Monetization,
	}
}

func (t Title) csvRecord() []string {
	itoa := func(p *int) string {
		if p == nil {
			return ""
		}
		return strconv.Itoa(*p)
	}
	ts := func(p *time.Time) string {
		if p == nil {
			return ""
		}
		return p.UTC().Format(time.RFC3339Nano)
	}
	var cast, directors []string
	for _, c := range t.Credits {
		switch c.Role {
		case RoleActor:
			cast = append(cast, c.Name)
		case "director":
			directors = append(directors, c.Name)
		}
	}
	rating, price, currency := "", "", ""
	if t.Rating != nil {
		rating = t.Rating.Value
	}
	if p := t.Monetization.Price; p != nil {
		price, currency = strconv.FormatInt(p.Amount, 10), p.Currency
	}
	j := func(l []string) string { return strings.Join(l, ";") }
	return []string{
		t.ID, string(t.Kind), string(t.Status), t.Title, t.Synopsis, j(t.Genres), j(t.Tags), j(cast), j(directors),
		itoa(t.ReleaseYear), itoa(t.RuntimeMinutes), rating, j(t.AudioLanguages), j(t.SubtitleLanguages),
		t.Artwork.Poster, t.Artwork.Backdrop, t.AssetID, ts(t.Availability.From), ts(t.Availability.Until),
		j(t.Availability.AllowedCountries), j(t.Availability.BlockedCountries), t.Monetization.Model, t.Monetization.Tier, price, currency,
	}
}
