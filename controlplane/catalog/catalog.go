// Package catalog is a tenant's content catalog: titles (movies, and series
// with seasons and episodes) linked to assets, their metadata, availability
// and monetization, curated collections for the storefront, search with
// facets, and viewers' watch activity.
//
// Search gives the same answers on PostgreSQL and on the embedded SQLite:
// the Go code normalizes every title into token strings and parses every
// query into terms (text.go, query.go); both engines index the same tokens
// (a weighted tsvector, an FTS5 table), pick typo alternatives from the
// tenant's vocabulary by the same trigram similarity (pg_trgm's formula,
// computed here), and rank with one integer expression.
//
// This file is the contract: the types, the Store the domain needs and the
// errors. Service (service.go) holds the rules, validate.go the input checks,
// bulk.go import and export; the sqlstore sub-package implements Store.
package catalog

import (
	"context"
	"time"

	"github.com/marquee-video/marquee/internal/errs"
)

// Identifier prefixes.
const (
	PrefixTitle      = "ttl"
	PrefixSeason     = "sea"
	PrefixEpisode    = "epi"
	PrefixCollection = "col"
	PrefixEvent      = "vev"
)

// Kind is what a title is.
type Kind string

// The kinds of titles. Series hold seasons, which hold episodes.
const (
	KindMovie  Kind = "movie"
	KindSeries Kind = "series"
)

// Status is whether viewers may see a title or collection.
type Status string

// Drafts are visible to the tenant's editors only.
const (
	StatusDraft     Status = "draft"
	StatusPublished Status = "published"
)

// Credit is one person of the cast or crew.
type Credit struct {
	Name string `json:"name"`
	// Role is "actor" for cast; anything else ("director", "writer", …) is
	// crew.
	Role      string `json:"role"`
	Character string `json:"character,omitempty"`
}

// RoleActor marks cast members among the credits.
const RoleActor = "actor"

// Rating is a content rating in one system (see rating.go).
type Rating struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

// Artwork holds image URLs. Poster falls back to the linked asset's
// pipeline-made poster when it is not set.
type Artwork struct {
	Poster   string `json:"poster,omitempty"`
	Backdrop string `json:"backdrop,omitempty"`
}

// Availability is when and where a title may be watched. An empty allow
// list means everywhere not blocked.
type Availability struct {
	From             *time.Time `json:"from"`
	Until            *time.Time `json:"until"`
	AllowedCountries []string   `json:"allowed_countries"`
	BlockedCountries []string   `json:"blocked_countries"`
}

// Monetization models.
const (
	ModelFree = "free"
	ModelAVOD = "avod"
	ModelSVOD = "svod"
	ModelTVOD = "tvod"
)

// Monetization is how a title earns: free, with ads, in a subscription tier,
// or rented/bought for a price.
type Monetization struct {
	Model string `json:"model"`
	Tier  string `json:"tier,omitempty"`
	Price *Price `json:"price,omitempty"`
}

// Price is an amount in the currency's minor units (cents).
type Price struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// Title is a movie or a series.
type Title struct {
	ID                string       `json:"id"`
	Kind              Kind         `json:"kind"`
	Status            Status       `json:"status"`
	Title             string       `json:"title"`
	Synopsis          string       `json:"synopsis"`
	Genres            []string     `json:"genres"`
	Tags              []string     `json:"tags"`
	Credits           []Credit     `json:"credits"`
	ReleaseYear       *int         `json:"release_year"`
	RuntimeMinutes    *int         `json:"runtime_minutes"`
	Rating            *Rating      `json:"rating"`
	AudioLanguages    []string     `json:"audio_languages"`
	SubtitleLanguages []string     `json:"subtitle_languages"`
	Artwork           Artwork      `json:"artwork"`
	AssetID           string       `json:"asset_id,omitempty"`
	Availability      Availability `json:"availability"`
	Monetization      Monetization `json:"monetization"`
	PublishedAt       *time.Time   `json:"published_at"`
	CreatedAt         time.Time    `json:"created_at"`
	UpdatedAt         time.Time    `json:"updated_at"`
}

// Cast is the names of the title's actors.
func (t Title) Cast() []string {
	var out []string
	for _, c := range t.Credits {
		if c.Role == RoleActor {
			out = append(out, c.Name)
		}
	}
	return out
}

// TitleInput creates or replaces a title. Status defaults to draft and
// monetization to free.
type TitleInput struct {
	// ID is honoured by bulk import only (to update a title, or to keep ids
	// across environments); the API assigns ids.
	ID                string       `json:"id,omitempty"`
	Kind              Kind         `json:"kind"`
	Status            Status       `json:"status,omitempty"`
	Title             string       `json:"title"`
	Synopsis          string       `json:"synopsis,omitempty"`
	Genres            []string     `json:"genres,omitempty"`
	Tags              []string     `json:"tags,omitempty"`
	Credits           []Credit     `json:"credits,omitempty"`
	ReleaseYear       *int         `json:"release_year,omitempty"`
	RuntimeMinutes    *int         `json:"runtime_minutes,omitempty"`
	Rating            *Rating      `json:"rating,omitempty"`
	AudioLanguages    []string     `json:"audio_languages,omitempty"`
	SubtitleLanguages []string     `json:"subtitle_languages,omitempty"`
	Artwork           Artwork      `json:"artwork"`
	AssetID           string       `json:"asset_id,omitempty"`
	Availability      Availability `json:"availability"`
	Monetization      Monetization `json:"monetization"`
}

// Season is a numbered season of a series, with its episodes.
type Season struct {
	ID        string    `json:"id"`
	TitleID   string    `json:"title_id"`
	Number    int       `json:"number"`
	Name      string    `json:"name"`
	Synopsis  string    `json:"synopsis"`
	Episodes  []Episode `json:"episodes"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SeasonInput creates or replaces a season.
type SeasonInput struct {
	Number   int    `json:"number"`
	Name     string `json:"name,omitempty"`
	Synopsis string `json:"synopsis,omitempty"`
}

// Episode is a numbered episode of a season, usually linked to an asset.
type Episode struct {
	ID             string    `json:"id"`
	TitleID        string    `json:"title_id"`
	SeasonID       string    `json:"season_id"`
	Number         int       `json:"number"`
	Name           string    `json:"name"`
	Synopsis       string    `json:"synopsis"`
	RuntimeMinutes *int      `json:"runtime_minutes"`
	AssetID        string    `json:"asset_id,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// EpisodeInput creates or replaces an episode.
type EpisodeInput struct {
	Number         int    `json:"number"`
	Name           string `json:"name,omitempty"`
	Synopsis       string `json:"synopsis,omitempty"`
	RuntimeMinutes *int   `json:"runtime_minutes,omitempty"`
	AssetID        string `json:"asset_id,omitempty"`
}

// Collection is a curated row of titles for the storefront.
type Collection struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Status      Status    `json:"status"`
	Position    int       `json:"position"`
	TitleIDs    []string  `json:"title_ids"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// CollectionInput creates or replaces a collection.
type CollectionInput struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Status      Status   `json:"status,omitempty"`
	Position    int      `json:"position,omitempty"`
	TitleIDs    []string `json:"title_ids"`
}

// TitleFilter narrows a title listing.
type TitleFilter struct {
	Kind   Kind
	Status Status
}

// Viewer event types.
const (
	EventPlay     = "play"
	EventProgress = "progress"
	EventComplete = "complete"
)

// ViewerEvent is what a player or storefront reports about one viewer
// watching one title. Viewers and profiles are the tenant's own opaque ids.
type ViewerEvent struct {
	// ID makes a retried event count once; empty gets a fresh id.
	ID              string     `json:"id,omitempty"`
	ViewerID        string     `json:"viewer_id"`
	ProfileID       string     `json:"profile_id,omitempty"`
	Type            string     `json:"type"`
	TitleID         string     `json:"title_id"`
	EpisodeID       string     `json:"episode_id,omitempty"`
	PositionSeconds float64    `json:"position_seconds,omitempty"`
	DurationSeconds float64    `json:"duration_seconds,omitempty"`
	At              *time.Time `json:"at,omitempty"`
}

// Progress is a viewer profile's latest state on one title.
type Progress struct {
	ViewerID        string    `json:"viewer_id"`
	ProfileID       string    `json:"profile_id"`
	TitleID         string    `json:"title_id"`
	EpisodeID       string    `json:"episode_id,omitempty"`
	PositionSeconds float64   `json:"position_seconds"`
	DurationSeconds float64   `json:"duration_seconds"`
	Completed       bool      `json:"completed"`
	Plays           int       `json:"plays"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// WatchEntry is a progress with its title, as history and continue
// watching list them.
type WatchEntry struct {
	Progress
	Title Title `json:"title"`
}

// Viewer is who a search or a recommendation is for: the request names the
// country (ISO 3166-1 alpha-2) and the profile's rating limit.
type Viewer struct {
	Country   string
	MaxRating string
}

// SearchQuery is a search request.
type SearchQuery struct {
	Q      string
	Genre  string
	Cast   string
	Kind   Kind
	Year   int
	Rating string
	Viewer
	Limit  int
	Offset int
}

// FacetCount is how many results carry one facet value.
type FacetCount struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Facets are the result set's counts per facet, largest first.
type Facets struct {
	Genre  []FacetCount `json:"genre"`
	Year   []FacetCount `json:"year"`
	Rating []FacetCount `json:"rating"`
	Kind   []FacetCount `json:"kind"`
	Cast   []FacetCount `json:"cast"`
}

// Hit is one search result with its score (higher is better).
type Hit struct {
	Title
	Score int `json:"score"`
}

// SearchResult is one page of results, the total and the facets.
type SearchResult struct {
	Hits   []Hit  `json:"data"`
	Total  int    `json:"total"`
	Facets Facets `json:"facets"`
	// Next is the offset of the next page, 0 when this is the last.
	Next int `json:"-"`
}

// SearchPlan is what the store runs: the parsed terms with the typo
// alternatives the service chose, and the filters.
type SearchPlan struct {
	Terms []PlannedTerm
	SearchQuery
	// MaxRatingAge is the viewer's limit as an age, -1 for none.
	MaxRatingAge int
	Now          time.Time
}

// PlannedTerm is one query term: it matches a token equal to Term, or,
// when Prefix is set, a word of the title, cast, crew, genres or tags
// starting with it (synopsis words are typed in full), or a word equal to
// one of Typos. A Common term (in very many titles) is not looked for in
// synopses, nor are the typos listed in CommonTypos.
type PlannedTerm struct {
	Term        string
	Prefix      bool
	Common      bool
	Typos       []string
	CommonTypos []string
}

// Store is the persistence the domain needs. Every method takes the tenant.
type Store interface {
	CreateTitle(ctx context.Context, tenant string, t Title) error
	// ReplaceTitle overwrites the title's fields (not its id, kind or
	// created_at).
	ReplaceTitle(ctx context.Context, tenant string, t Title) error
	Title(ctx context.Context, tenant, id string) (Title, error)
	// TitlesByID returns the titles of ids that exist, in no order.
	TitlesByID(ctx context.Context, tenant string, ids []string) ([]Title, error)
	Titles(ctx context.Context, tenant string, f TitleFilter, limit int, after string) ([]Title, error)
	DeleteTitle(ctx context.Context, tenant, id string) error
	// AssetExists reports whether the tenant has the asset.
	AssetExists(ctx context.Context, tenant, id string) (bool, error)

	CreateSeason(ctx context.Context, tenant string, s Season) error
	ReplaceSeason(ctx context.Context, tenant string, s Season) error
	// Seasons lists a title's seasons by number, each with its episodes.
	Seasons(ctx context.Context, tenant, titleID string) ([]Season, error)
	DeleteSeason(ctx context.Context, tenant, titleID, id string) error
	CreateEpisode(ctx context.Context, tenant string, e Episode) error
	ReplaceEpisode(ctx context.Context, tenant string, e Episode) error
	DeleteEpisode(ctx context.Context, tenant, titleID, seasonID, id string) error

	CreateCollection(ctx context.Context, tenant string, c Collection) error
	ReplaceCollection(ctx context.Context, tenant string, c Collection) error
	Collection(ctx context.Context, tenant, id string) (Collection, error)
	Collections(ctx context.Context, tenant string, limit int, after string) ([]Collection, error)
	DeleteCollection(ctx context.Context, tenant, id string) error

	// Vocabulary returns the tenant's indexed words that may be within
	// typo distance of term: every word whose trigram similarity to it is
	// at least TypoSimilarity, and possibly others (the service filters).
	Vocabulary(ctx context.Context, tenant, term string) ([]string, error)
	Search(ctx context.Context, tenant string, p SearchPlan) (SearchResult, error)
	// WordTitles is how many of the tenant's titles use each of words
	// (absent: none).
	WordTitles(ctx context.Context, tenant string, words []string) (map[string]int, error)

	// RecordEvents stores events not stored before (by id) and folds them
	// into watch progress; it returns how many were new.
	RecordEvents(ctx context.Context, tenant string, es []ViewerEvent) (int, error)
	// Progress lists a viewer's progress, most recent first; only
	// unfinished when unfinished is set; profile "" is every profile.
	Progress(ctx context.Context, tenant, viewer, profile string, unfinished bool, limit, offset int) ([]Progress, error)
	ViewerExists(ctx context.Context, tenant, viewer string) (bool, error)
}

func titleNotFound(id string) error { return errs.NotFoundf("title %q not found", id) }
func seasonNotFound(id string) error {
	return errs.NotFoundf("season %q not found", id)
}
func episodeNotFound(id string) error { return errs.NotFoundf("episode %q not found", id) }
func collectionNotFound(id string) error {
	return errs.NotFoundf("collection %q not found", id)
}
func viewerNotFound(id string) error { return errs.NotFoundf("viewer %q not found", id) }
