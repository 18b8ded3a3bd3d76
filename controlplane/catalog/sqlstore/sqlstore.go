// Package sqlstore implements catalog.Store with gorm on PostgreSQL and the
// embedded SQLite database. Every method runs in the tenant's scoped
// transaction and names the tenant in every query. Search (search.go)
// writes one SQL text per engine for the match, and shares the filters and
// the ranking expression, so both engines return the same results.
package sqlstore

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/marquee-video/marquee/controlplane/catalog"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/errs"
)

// Store is the SQL catalog.Store.
type Store struct{ db *db.DB }

var _ catalog.Store = (*Store)(nil)

// New returns a Store on d.
func New(d *db.DB) *Store { return &Store{db: d} }

type titleRow struct {
	TenantID          string `gorm:"primaryKey"`
	ID                string `gorm:"primaryKey"`
	Kind              string
	Status            string
	Title             string
	Synopsis          string
	Genres            string
	Tags              string
	Credits           string
	ReleaseYear       *int
	RuntimeMinutes    *int
	RatingSystem      *string
	Rating            *string
	RatingAge         *int
	AudioLanguages    string
	SubtitleLanguages string
	Artwork           string
	AssetID           *string
	AvailableFrom     *time.Time
	AvailableUntil    *time.Time
	AllowedCountries  string
	BlockedCountries  string
	Monetization      string
	GenresKey         string
	CastKey           string
	CastNames         string
	SearchTitle       string
	SearchPeople      string
	SearchSynopsis    string
	PublishedAt       *time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

func (titleRow) TableName() string { return "titles" }

// titleColumns are the columns of titleRow, for raw selects.
const titleColumns = `t.tenant_id, t.id, t.kind, t.status, t.title, t.synopsis, t.genres, t.tags, t.credits, t.release_year,
	t.runtime_minutes, t.rating_system, t.rating, t.rating_age, t.audio_languages, t.subtitle_languages, t.artwork, t.asset_id,
	t.available_from, t.available_until, t.allowed_countries, t.blocked_countries, t.monetization, t.genres_key, t.cast_key,
	t.cast_names, t.search_title, t.search_people, t.search_synopsis, t.published_at, t.created_at, t.updated_at`

func jsonText(v any) string {
	b, _ := json.Marshal(v) // plain data: cannot fail
	return string(b)
}

// key is a list as '|a|b|', tested with strpos/instr for '|a|'.
func key(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return "|" + strings.Join(l, "|") + "|"
}

func unkey(k string) []string {
	k = strings.Trim(k, "|")
	if k == "" {
		return []string{}
	}
	return strings.Split(k, "|")
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func utcp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func toRow(tenant string, t catalog.Title) titleRow {
	doc := t.Doc()
	r := titleRow{
		TenantID: tenant, ID: t.ID, Kind: string(t.Kind), Status: string(t.Status), Title: t.Title, Synopsis: t.Synopsis,
		Genres: jsonText(nonNil(t.Genres)), Tags: jsonText(nonNil(t.Tags)), Credits: jsonText(nonNilCredits(t.Credits)),
		ReleaseYear: t.ReleaseYear, RuntimeMinutes: t.RuntimeMinutes,
		AudioLanguages: jsonText(nonNil(t.AudioLanguages)), SubtitleLanguages: jsonText(nonNil(t.SubtitleLanguages)),
		Artwork: jsonText(t.Artwork), AssetID: strp(t.AssetID), AvailableFrom: t.Availability.From, AvailableUntil: t.Availability.Until,
		AllowedCountries: key(t.Availability.AllowedCountries), BlockedCountries: key(t.Availability.BlockedCountries),
		Monetization: jsonText(t.Monetization), GenresKey: key(t.Genres), CastKey: key(lowerAll(t.Cast())), CastNames: jsonText(castNames(t)),
		SearchTitle: doc.Title, SearchPeople: doc.People, SearchSynopsis: doc.Synopsis,
		PublishedAt: t.PublishedAt, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
	}
	if t.Rating != nil {
		_, age, _ := catalog.LookupRating(t.Rating.Value)
		r.RatingSystem, r.Rating, r.RatingAge = &t.Rating.System, &t.Rating.Value, &age
	}
	return r
}

func lowerAll(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = strings.ToLower(s)
	}
	return out
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func nonNilCredits(l []catalog.Credit) []catalog.Credit {
	if l == nil {
		return []catalog.Credit{}
	}
	return l
}

func (r titleRow) domain() catalog.Title {
	t := catalog.Title{
		ID: r.ID, Kind: catalog.Kind(r.Kind), Status: catalog.Status(r.Status), Title: r.Title, Synopsis: r.Synopsis,
		ReleaseYear: r.ReleaseYear, RuntimeMinutes: r.RuntimeMinutes, PublishedAt: utcp(r.PublishedAt),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		Availability: catalog.Availability{From: utcp(r.AvailableFrom), Until: utcp(r.AvailableUntil),
			AllowedCountries: unkey(r.AllowedCountries), BlockedCountries: unkey(r.BlockedCountries)},
	}
	// Written by us; a bad value reads as empty.
	_ = json.Unmarshal([]byte(r.Genres), &t.Genres)
	_ = json.Unmarshal([]byte(r.Tags), &t.Tags)
	_ = json.Unmarshal([]byte(r.Credits), &t.Credits)
	_ = json.Unmarshal([]byte(r.AudioLanguages), &t.AudioLanguages)
	_ = json.Unmarshal([]byte(r.SubtitleLanguages), &t.SubtitleLanguages)
	_ = json.Unmarshal([]byte(r.Artwork), &t.Artwork)
	_ = json.Unmarshal([]byte(r.Monetization), &t.Monetization)
	t.Genres, t.Tags, t.AudioLanguages, t.SubtitleLanguages = nonNil(t.Genres), nonNil(t.Tags), nonNil(t.AudioLanguages), nonNil(t.SubtitleLanguages)
	t.Credits = nonNilCredits(t.Credits)
	if r.Rating != nil && r.RatingSystem != nil {
		t.Rating = &catalog.Rating{System: *r.RatingSystem, Value: *r.Rating}
	}
	if r.AssetID != nil {
		t.AssetID = *r.AssetID
	}
	return t
}

// castNames are the title's actors, each once, for the cast facet.
func castNames(t catalog.Title) []string {
	out := []string{}
	for _, c := range t.Cast() {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

func words(r titleRow) []string {
	return catalog.SearchDoc{Title: r.SearchTitle, People: r.SearchPeople, Synopsis: r.SearchSynopsis}.Words()
}

// addTerms counts one more title for each of the (sorted, distinct) words.
// Sorted so that concurrent writers lock vocabulary rows in one order.
func addTerms(tx *db.Tx, tenant string, ws []string) error {
	for chunk := range slices.Chunk(ws, 200) {
		vals := make([]string, len(chunk))
		args := make([]any, 0, 2*len(chunk))
		for i, w := range chunk {
			vals[i] = "(?, ?, 1)"
			args = append(args, tenant, w)
		}
		q := "INSERT INTO catalog_terms (tenant_id, term, titles) VALUES " + strings.Join(vals, ", ") +
			" ON CONFLICT (tenant_id, term) DO UPDATE SET titles = catalog_terms.titles + 1"
		if err := tx.Exec(q, args...).Error; err != nil {
			return err
		}
	}
	return nil
}

// removeTerms counts one title less for each word, dropping words no title
// uses any more.
func removeTerms(tx *db.Tx, tenant string, ws []string) error {
	for chunk := range slices.Chunk(ws, 200) {
		if err := tx.Exec("DELETE FROM catalog_terms WHERE tenant_id = ? AND term IN ? AND titles <= 1", tenant, chunk).Error; err != nil {
			return err
		}
		if err := tx.Exec("UPDATE catalog_terms SET titles = titles - 1 WHERE tenant_id = ? AND term IN ?", tenant, chunk).Error; err != nil {
			return err
		}
	}
	return nil
}

func diff(a, b []string) []string {
	var out []string
	for _, w := range a {
		if _, found := slices.BinarySearch(b, w); !found {
			out = append(out, w)
		}
	}
	return out
}

// CreateTitle implements catalog.Store.
func (s *Store) CreateTitle(ctx context.Context, tenant string, t catalog.Title) error {
	r := toRow(tenant, t)
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		if err := tx.Create(&r).Error; err != nil {
			return err
		}
		return addTerms(tx, tenant, words(r))
	}))
}

// ReplaceTitle implements catalog.Store.
func (s *Store) ReplaceTitle(ctx context.Context, tenant string, t catalog.Title) error {
	r := toRow(tenant, t)
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		var old titleRow
		res := tx.Raw("SELECT "+titleColumns+" FROM titles t WHERE t.tenant_id = ? AND t.id = ?"+tx.ForUpdate(), tenant, t.ID).Scan(&old)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.NotFoundf("title %q not found", t.ID)
		}
		r.Kind, r.CreatedAt = old.Kind, old.CreatedAt
		if err := tx.Model(&titleRow{}).Where("tenant_id = ? AND id = ?", tenant, t.ID).Select("*").Omit("tenant_id", "id", "kind", "created_at").Updates(&r).Error; err != nil {
			return err
		}
		ow, nw := words(old), words(r)
		if err := removeTerms(tx, tenant, diff(ow, nw)); err != nil {
			return err
		}
		return addTerms(tx, tenant, diff(nw, ow))
	}))
}

// Title implements catalog.Store.
func (s *Store) Title(ctx context.Context, tenant, id string) (catalog.Title, error) {
	var r titleRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		res := tx.Raw("SELECT "+titleColumns+" FROM titles t WHERE t.tenant_id = ? AND t.id = ?", tenant, id).Scan(&r)
		if res.Error == nil && res.RowsAffected == 0 {
			return errs.NotFoundf("title %q not found", id)
		}
		return res.Error
	})
	if err != nil {
		return catalog.Title{}, db.Translate(err)
	}
	return r.domain(), nil
}

// TitlesByID implements catalog.Store.
func (s *Store) TitlesByID(ctx context.Context, tenant string, ids []string) ([]catalog.Title, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []titleRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		for chunk := range slices.Chunk(ids, 500) {
			var part []titleRow
			if err := tx.Raw("SELECT "+titleColumns+" FROM titles t WHERE t.tenant_id = ? AND t.id IN ?", tenant, chunk).Scan(&part).Error; err != nil {
				return err
			}
			rows = append(rows, part...)
		}
		return nil
	})
	out := make([]catalog.Title, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, db.Translate(err)
}

// Titles implements catalog.Store.
func (s *Store) Titles(ctx context.Context, tenant string, f catalog.TitleFilter, limit int, after string) ([]catalog.Title, error) {
	var rows []titleRow
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		q := "SELECT " + titleColumns + " FROM titles t WHERE t.tenant_id = ? AND t.id > ?"
		args := []any{tenant, after}
		if f.Kind != "" {
			q += " AND t.kind = ?"
			args = append(args, string(f.Kind))
		}
		if f.Status != "" {
			q += " AND t.status = ?"
			args = append(args, string(f.Status))
		}
		return tx.Raw(q+" ORDER BY t.id LIMIT ?", append(args, limit)...).Scan(&rows).Error
	})
	out := make([]catalog.Title, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, db.Translate(err)
}

// DeleteTitle implements catalog.Store. The schema's cascades remove the
// seasons, episodes, collection places and watch progress.
func (s *Store) DeleteTitle(ctx context.Context, tenant, id string) error {
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		var old titleRow
		res := tx.Raw("SELECT "+titleColumns+" FROM titles t WHERE t.tenant_id = ? AND t.id = ?"+tx.ForUpdate(), tenant, id).Scan(&old)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.NotFoundf("title %q not found", id)
		}
		if err := tx.Where("tenant_id = ? AND id = ?", tenant, id).Delete(&titleRow{}).Error; err != nil {
			return err
		}
		return removeTerms(tx, tenant, words(old))
	}))
}

// AssetExists implements catalog.Store.
func (s *Store) AssetExists(ctx context.Context, tenant, id string) (bool, error) {
	var n int64
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Table("assets").Where("tenant_id = ? AND id = ?", tenant, id).Count(&n).Error
	})
	return n > 0, db.Translate(err)
}

type seasonRow struct {
	TenantID  string `gorm:"primaryKey"`
	ID        string `gorm:"primaryKey"`
	TitleID   string
	Number    int
	Name      string
	Synopsis  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (seasonRow) TableName() string { return "seasons" }

type episodeRow struct {
	TenantID       string `gorm:"primaryKey"`
	ID             string `gorm:"primaryKey"`
	TitleID        string
	SeasonID       string
	Number         int
	Name           string
	Synopsis       string
	RuntimeMinutes *int
	AssetID        *string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (episodeRow) TableName() string { return "episodes" }

// CreateSeason implements catalog.Store.
func (s *Store) CreateSeason(ctx context.Context, tenant string, se catalog.Season) error {
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Create(&seasonRow{TenantID: tenant, ID: se.ID, TitleID: se.TitleID, Number: se.Number, Name: se.Name, Synopsis: se.Synopsis, CreatedAt: se.CreatedAt, UpdatedAt: se.UpdatedAt}).Error
	}))
}

// ReplaceSeason implements catalog.Store.
func (s *Store) ReplaceSeason(ctx context.Context, tenant string, se catalog.Season) error {
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		res := tx.Model(&seasonRow{}).Where("tenant_id = ? AND id = ? AND title_id = ?", tenant, se.ID, se.TitleID).
			Updates(map[string]any{"number": se.Number, "name": se.Name, "synopsis": se.Synopsis, "updated_at": se.UpdatedAt})
		if res.Error == nil && res.RowsAffected == 0 {
			return errs.NotFoundf("season %q not found", se.ID)
		}
		return res.Error
	}))
}

// Seasons implements catalog.Store.
func (s *Store) Seasons(ctx context.Context, tenant, titleID string) ([]catalog.Season, error) {
	var (
		ss []seasonRow
		es []episodeRow
	)
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		if err := tx.Where("tenant_id = ? AND title_id = ?", tenant, titleID).Order("number").Find(&ss).Error; err != nil {
			return err
		}
		return tx.Where("tenant_id = ? AND title_id = ?", tenant, titleID).Order("season_id, number").Find(&es).Error
	})
	if err != nil {
		return nil, db.Translate(err)
	}
	out := make([]catalog.Season, len(ss))
	at := map[string]int{}
	for i, r := range ss {
		out[i] = catalog.Season{ID: r.ID, TitleID: r.TitleID, Number: r.Number, Name: r.Name, Synopsis: r.Synopsis, Episodes: []catalog.Episode{}, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
		at[r.ID] = i
	}
	for _, r := range es {
		e := catalog.Episode{ID: r.ID, TitleID: r.TitleID, SeasonID: r.SeasonID, Number: r.Number, Name: r.Name, Synopsis: r.Synopsis, RuntimeMinutes: r.RuntimeMinutes, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
		if r.AssetID != nil {
			e.AssetID = *r.AssetID
		}
		if i, ok := at[r.SeasonID]; ok {
			out[i].Episodes = append(out[i].Episodes, e)
		}
	}
	return out, nil
}

// DeleteSeason implements catalog.Store.
func (s *Store) DeleteSeason(ctx context.Context, tenant, titleID, id string) error {
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		res := tx.Where("tenant_id = ? AND title_id = ? AND id = ?", tenant, titleID, id).Delete(&seasonRow{})
		if res.Error == nil && res.RowsAffected == 0 {
			return errs.NotFoundf("season %q not found", id)
		}
		return res.Error
	}))
}

func toEpisodeRow(tenant string, e catalog.Episode) episodeRow {
	return episodeRow{TenantID: tenant, ID: e.ID, TitleID: e.TitleID, SeasonID: e.SeasonID, Number: e.Number, Name: e.Name, Synopsis: e.Synopsis,
		RuntimeMinutes: e.RuntimeMinutes, AssetID: strp(e.AssetID), CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

// CreateEpisode implements catalog.Store.
func (s *Store) CreateEpisode(ctx context.Context, tenant string, e catalog.Episode) error {
	r := toEpisodeRow(tenant, e)
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error { return tx.Create(&r).Error }))
}

// ReplaceEpisode implements catalog.Store.
func (s *Store) ReplaceEpisode(ctx context.Context, tenant string, e catalog.Episode) error {
	r := toEpisodeRow(tenant, e)
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		res := tx.Model(&episodeRow{}).Where("tenant_id = ? AND id = ? AND season_id = ?", tenant, e.ID, e.SeasonID).
			Updates(map[string]any{"number": r.Number, "name": r.Name, "synopsis": r.Synopsis, "runtime_minutes": r.RuntimeMinutes, "asset_id": r.AssetID, "updated_at": r.UpdatedAt})
		if res.Error == nil && res.RowsAffected == 0 {
			return errs.NotFoundf("episode %q not found", e.ID)
		}
		return res.Error
	}))
}

// DeleteEpisode implements catalog.Store.
func (s *Store) DeleteEpisode(ctx context.Context, tenant, titleID, seasonID, id string) error {
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		res := tx.Where("tenant_id = ? AND title_id = ? AND season_id = ? AND id = ?", tenant, titleID, seasonID, id).Delete(&episodeRow{})
		if res.Error == nil && res.RowsAffected == 0 {
			return errs.NotFoundf("episode %q not found", id)
		}
		return res.Error
	}))
}

type collectionRow struct {
	TenantID    string `gorm:"primaryKey"`
	ID          string `gorm:"primaryKey"`
	Name        string
	Description string
	Status      string
	Position    int
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (collectionRow) TableName() string { return "collections" }

type itemRow struct {
	TenantID     string `gorm:"primaryKey"`
	CollectionID string `gorm:"primaryKey"`
	Position     int    `gorm:"primaryKey;autoIncrement:false"`
	TitleID      string
}

func (itemRow) TableName() string { return "collection_items" }

func writeItems(tx *db.Tx, tenant string, c catalog.Collection) error {
	if err := tx.Where("tenant_id = ? AND collection_id = ?", tenant, c.ID).Delete(&itemRow{}).Error; err != nil {
		return err
	}
	if len(c.TitleIDs) == 0 {
		return nil
	}
	items := make([]itemRow, len(c.TitleIDs))
	for i, id := range c.TitleIDs {
		items[i] = itemRow{TenantID: tenant, CollectionID: c.ID, Position: i, TitleID: id}
	}
	return tx.Create(&items).Error
}

// CreateCollection implements catalog.Store.
func (s *Store) CreateCollection(ctx context.Context, tenant string, c catalog.Collection) error {
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		if err := tx.Create(&collectionRow{TenantID: tenant, ID: c.ID, Name: c.Name, Description: c.Description, Status: string(c.Status), Position: c.Position, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}).Error; err != nil {
			return err
		}
		return writeItems(tx, tenant, c)
	}))
}

// ReplaceCollection implements catalog.Store.
func (s *Store) ReplaceCollection(ctx context.Context, tenant string, c catalog.Collection) error {
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		res := tx.Model(&collectionRow{}).Where("tenant_id = ? AND id = ?", tenant, c.ID).
			Updates(map[string]any{"name": c.Name, "description": c.Description, "status": string(c.Status), "position": c.Position, "updated_at": c.UpdatedAt})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.NotFoundf("collection %q not found", c.ID)
		}
		return writeItems(tx, tenant, c)
	}))
}

func (s *Store) collections(tx *db.Tx, tenant string, rows []collectionRow) ([]catalog.Collection, error) {
	out := make([]catalog.Collection, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	at := map[string]int{}
	idList := make([]string, len(rows))
	for i, r := range rows {
		out[i] = catalog.Collection{ID: r.ID, Name: r.Name, Description: r.Description, Status: catalog.Status(r.Status), Position: r.Position, TitleIDs: []string{}, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
		at[r.ID] = i
		idList[i] = r.ID
	}
	var items []itemRow
	if err := tx.Where("tenant_id = ? AND collection_id IN ?", tenant, idList).Order("collection_id, position").Find(&items).Error; err != nil {
		return nil, err
	}
	for _, it := range items {
		i := at[it.CollectionID]
		out[i].TitleIDs = append(out[i].TitleIDs, it.TitleID)
	}
	return out, nil
}

// Collection implements catalog.Store.
func (s *Store) Collection(ctx context.Context, tenant, id string) (catalog.Collection, error) {
	var out []catalog.Collection
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		var rows []collectionRow
		if err := tx.Where("tenant_id = ? AND id = ?", tenant, id).Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return errs.NotFoundf("collection %q not found", id)
		}
		var err error
		out, err = s.collections(tx, tenant, rows)
		return err
	})
	if err != nil {
		return catalog.Collection{}, db.Translate(err)
	}
	return out[0], nil
}

// Collections implements catalog.Store.
func (s *Store) Collections(ctx context.Context, tenant string, limit int, after string) ([]catalog.Collection, error) {
	var out []catalog.Collection
	err := s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		var rows []collectionRow
		if err := tx.Where("tenant_id = ? AND id > ?", tenant, after).Order("id").Limit(limit).Find(&rows).Error; err != nil {
			return err
		}
		var err error
		out, err = s.collections(tx, tenant, rows)
		return err
	})
	return out, db.Translate(err)
}

// DeleteCollection implements catalog.Store.
func (s *Store) DeleteCollection(ctx context.Context, tenant, id string) error {
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		res := tx.Where("tenant_id = ? AND id = ?", tenant, id).Delete(&collectionRow{})
		if res.Error == nil && res.RowsAffected == 0 {
			return errs.NotFoundf("collection %q not found", id)
		}
		return res.Error
	}))
}
