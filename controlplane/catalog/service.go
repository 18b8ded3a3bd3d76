package catalog

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/ids"
)

// Page sizes.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
	// MaxSearchOffset bounds how deep search results can be paged.
	MaxSearchOffset = 1000
	// MaxEvents is how many viewer events one request may carry.
	MaxEvents = 100
	// CompletedRatio is the share of a title's duration after which it
	// counts as finished.
	CompletedRatio = 0.95
)

// Service holds the catalog's rules.
type Service struct {
	store   Store
	clock   func() time.Time
	objects Objects
	common  int
}

// CommonWordTitles is how many titles a word must be in to be common: such
// a word is not looked for in synopses, where it says little about a title
// and would make nearly every title a match to rank and count.
const CommonWordTitles = 2000

// NewService returns a Service on store.
func NewService(store Store) *Service {
	return &Service{store: store, clock: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }, common: CommonWordTitles}
}

// WithClock returns s reading the time from now (for tests of availability
// windows).
func (s *Service) WithClock(now func() time.Time) *Service {
	c := *s
	c.clock = now
	return &c
}

// WithCommonWordTitles returns s with another CommonWordTitles (tests use
// small catalogs).
func (s *Service) WithCommonWordTitles(n int) *Service {
	c := *s
	c.common = n
	return &c
}

func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

// present fills what a title shows but does not store: the pipeline's
// poster of its asset when no poster was given.
func present(t Title) Title {
	if t.Artwork.Poster == "" && t.AssetID != "" {
		t.Artwork.Poster = "/stream/" + t.AssetID + "/poster.jpg"
	}
	return t
}

func (s *Service) checkAsset(ctx context.Context, tenant, field, id string) error {
	if id == "" {
		return nil
	}
	ok, err := s.store.AssetExists(ctx, tenant, id)
	if err != nil {
		return err
	}
	if !ok {
		return errs.Field(field, "asset %q not found", id)
	}
	return nil
}

func (s *Service) build(ctx context.Context, tenant string, in TitleInput) (Title, error) {
	in, _, err := in.normalize()
	if err != nil {
		return Title{}, err
	}
	if err := s.checkAsset(ctx, tenant, "asset_id", in.AssetID); err != nil {
		return Title{}, err
	}
	return Title{
		Kind: in.Kind, Status: in.Status, Title: in.Title, Synopsis: in.Synopsis, Genres: in.Genres, Tags: in.Tags,
		Credits: in.Credits, ReleaseYear: in.ReleaseYear, RuntimeMinutes: in.RuntimeMinutes, Rating: in.Rating,
		AudioLanguages: in.AudioLanguages, SubtitleLanguages: in.SubtitleLanguages, Artwork: in.Artwork,
		AssetID: in.AssetID, Availability: in.Availability, Monetization: in.Monetization,
	}, nil
}

// CreateTitle validates in and stores a new title.
func (s *Service) CreateTitle(ctx context.Context, tenant string, in TitleInput) (Title, error) {
	in.ID = ""
	return s.createTitle(ctx, tenant, in, ids.New(PrefixTitle))
}

func (s *Service) createTitle(ctx context.Context, tenant string, in TitleInput, id string) (Title, error) {
	t, err := s.build(ctx, tenant, in)
	if err != nil {
		return Title{}, err
	}
	now := s.now()
	t.ID, t.CreatedAt, t.UpdatedAt = id, now, now
	if t.Status == StatusPublished {
		t.PublishedAt = &now
	}
	if err := s.store.CreateTitle(ctx, tenant, t); err != nil {
		return Title{}, err
	}
	return present(t), nil
}

// Title returns one title.
func (s *Service) Title(ctx context.Context, tenant, id string) (Title, error) {
	if !ids.Valid(PrefixTitle, id) {
		return Title{}, titleNotFound(id)
	}
	t, err := s.store.Title(ctx, tenant, id)
	return present(t), err
}

// Titles lists titles by id (creation order), limit after the id after.
func (s *Service) Titles(ctx context.Context, tenant string, f TitleFilter, limit int, after string) ([]Title, error) {
	switch f.Kind {
	case "", KindMovie, KindSeries:
	default:
		return nil, errs.Field("kind", "kind must be movie or series")
	}
	switch f.Status {
	case "", StatusDraft, StatusPublished:
	default:
		return nil, errs.Field("status", "status must be draft or published")
	}
	if limit <= 0 {
		limit = DefaultPageSize
	}
	ts, err := s.store.Titles(ctx, tenant, f, min(limit, MaxPageSize+1), after)
	for i := range ts {
		ts[i] = present(ts[i])
	}
	return ts, err
}

// UpdateTitle replaces a title's fields. Its kind cannot change: a series'
// seasons would lose their meaning.
func (s *Service) UpdateTitle(ctx context.Context, tenant, id string, in TitleInput) (Title, error) {
	cur, err := s.Title(ctx, tenant, id)
	if err != nil {
		return Title{}, err
	}
	return s.replaceTitle(ctx, tenant, cur, in)
}

func (s *Service) replaceTitle(ctx context.Context, tenant string, cur Title, in TitleInput) (Title, error) {
	if in.Kind != "" && in.Kind != cur.Kind {
		return Title{}, errs.Field("kind", "a title's kind cannot change (it is a %s)", cur.Kind)
	}
	in.Kind = cur.Kind
	t, err := s.build(ctx, tenant, in)
	if err != nil {
		return Title{}, err
	}
	t.ID, t.CreatedAt, t.UpdatedAt, t.PublishedAt = cur.ID, cur.CreatedAt, s.now(), cur.PublishedAt
	switch {
	case t.Status == StatusPublished && cur.Status != StatusPublished:
		t.PublishedAt = &t.UpdatedAt
	case t.Status == StatusDraft:
		t.PublishedAt = nil
	}
	if err := s.store.ReplaceTitle(ctx, tenant, t); err != nil {
		return Title{}, err
	}
	return present(t), nil
}

// DeleteTitle removes a title with its seasons, episodes, places in
// collections and watch progress.
func (s *Service) DeleteTitle(ctx context.Context, tenant, id string) error {
	if !ids.Valid(PrefixTitle, id) {
		return titleNotFound(id)
	}
	return s.store.DeleteTitle(ctx, tenant, id)
}

func (s *Service) series(ctx context.Context, tenant, id string) error {
	t, err := s.Title(ctx, tenant, id)
	if err != nil {
		return err
	}
	if t.Kind != KindSeries {
		return errs.E(errs.Conflict, "not_a_series", "title %q is a %s; only series have seasons", id, t.Kind)
	}
	return nil
}

// CreateSeason adds a season to a series.
func (s *Service) CreateSeason(ctx context.Context, tenant, titleID string, in SeasonInput) (Season, error) {
	in, err := in.normalize()
	if err != nil {
		return Season{}, err
	}
	if err := s.series(ctx, tenant, titleID); err != nil {
		return Season{}, err
	}
	now := s.now()
	se := Season{ID: ids.New(PrefixSeason), TitleID: titleID, Number: in.Number, Name: in.Name, Synopsis: in.Synopsis, Episodes: []Episode{}, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateSeason(ctx, tenant, se); err != nil {
		return Season{}, seasonConflict(err, in.Number)
	}
	return se, nil
}

func seasonConflict(err error, n int) error {
	if errs.Is(err, errs.Conflict) && errs.CodeOf(err) == "conflict" {
		return errs.E(errs.Conflict, "season_exists", "the series already has a season %d", n)
	}
	return err
}

func episodeConflict(err error, n int) error {
	if errs.Is(err, errs.Conflict) && errs.CodeOf(err) == "conflict" {
		return errs.E(errs.Conflict, "episode_exists", "the season already has an episode %d", n)
	}
	return err
}

// Seasons lists a series' seasons with their episodes: the tree an editor
// sees.
func (s *Service) Seasons(ctx context.Context, tenant, titleID string) ([]Season, error) {
	if _, err := s.Title(ctx, tenant, titleID); err != nil {
		return nil, err
	}
	return s.store.Seasons(ctx, tenant, titleID)
}

func (s *Service) season(ctx context.Context, tenant, titleID, id string) (Season, error) {
	ss, err := s.Seasons(ctx, tenant, titleID)
	if err != nil {
		return Season{}, err
	}
	for _, se := range ss {
		if se.ID == id {
			return se, nil
		}
	}
	return Season{}, seasonNotFound(id)
}

// UpdateSeason replaces a season's number, name and synopsis.
func (s *Service) UpdateSeason(ctx context.Context, tenant, titleID, id string, in SeasonInput) (Season, error) {
	in, err := in.normalize()
	if err != nil {
		return Season{}, err
	}
	se, err := s.season(ctx, tenant, titleID, id)
	if err != nil {
		return Season{}, err
	}
	se.Number, se.Name, se.Synopsis, se.UpdatedAt = in.Number, in.Name, in.Synopsis, s.now()
	if err := s.store.ReplaceSeason(ctx, tenant, se); err != nil {
		return Season{}, seasonConflict(err, in.Number)
	}
	return se, nil
}

// DeleteSeason removes a season and its episodes.
func (s *Service) DeleteSeason(ctx context.Context, tenant, titleID, id string) error {
	if !ids.Valid(PrefixTitle, titleID) {
		return titleNotFound(titleID)
	}
	if !ids.Valid(PrefixSeason, id) {
		return seasonNotFound(id)
	}
	return s.store.DeleteSeason(ctx, tenant, titleID, id)
}

// CreateEpisode adds an episode to a season.
func (s *Service) CreateEpisode(ctx context.Context, tenant, titleID, seasonID string, in EpisodeInput) (Episode, error) {
	in, err := in.normalize()
	if err != nil {
		return Episode{}, err
	}
	if _, err := s.season(ctx, tenant, titleID, seasonID); err != nil {
		return Episode{}, err
	}
	if err := s.checkAsset(ctx, tenant, "asset_id", in.AssetID); err != nil {
		return Episode{}, err
	}
	now := s.now()
	e := Episode{ID: ids.New(PrefixEpisode), TitleID: titleID, SeasonID: seasonID, Number: in.Number, Name: in.Name, Synopsis: in.Synopsis,
		RuntimeMinutes: in.RuntimeMinutes, AssetID: in.AssetID, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateEpisode(ctx, tenant, e); err != nil {
		return Episode{}, episodeConflict(err, in.Number)
	}
	return e, nil
}

// UpdateEpisode replaces an episode's fields.
func (s *Service) UpdateEpisode(ctx context.Context, tenant, titleID, seasonID, id string, in EpisodeInput) (Episode, error) {
	in, err := in.normalize()
	if err != nil {
		return Episode{}, err
	}
	se, err := s.season(ctx, tenant, titleID, seasonID)
	if err != nil {
		return Episode{}, err
	}
	i := slices.IndexFunc(se.Episodes, func(e Episode) bool { return e.ID == id })
	if i < 0 {
		return Episode{}, episodeNotFound(id)
	}
	if err := s.checkAsset(ctx, tenant, "asset_id", in.AssetID); err != nil {
		return Episode{}, err
	}
	e := se.Episodes[i]
	e.Number, e.Name, e.Synopsis, e.RuntimeMinutes, e.AssetID, e.UpdatedAt = in.Number, in.Name, in.Synopsis, in.RuntimeMinutes, in.AssetID, s.now()
	if err := s.store.ReplaceEpisode(ctx, tenant, e); err != nil {
		return Episode{}, episodeConflict(err, in.Number)
	}
	return e, nil
}

// DeleteEpisode removes an episode.
func (s *Service) DeleteEpisode(ctx context.Context, tenant, titleID, seasonID, id string) error {
	if !ids.Valid(PrefixTitle, titleID) {
		return titleNotFound(titleID)
	}
	if !ids.Valid(PrefixSeason, seasonID) {
		return seasonNotFound(seasonID)
	}
	if !ids.Valid(PrefixEpisode, id) {
		return episodeNotFound(id)
	}
	return s.store.DeleteEpisode(ctx, tenant, titleID, seasonID, id)
}

func (s *Service) checkTitles(ctx context.Context, tenant, field string, want []string) error {
	if len(want) == 0 {
		return nil
	}
	have, err := s.store.TitlesByID(ctx, tenant, want)
	if err != nil {
		return err
	}
	found := map[string]bool{}
	for _, t := range have {
		found[t.ID] = true
	}
	for _, id := range want {
		if !found[id] {
			return errs.Field(field, "title %q not found", id)
		}
	}
	return nil
}

// CreateCollection stores a new collection of existing titles.
func (s *Service) CreateCollection(ctx context.Context, tenant string, in CollectionInput) (Collection, error) {
	in, err := in.normalize()
	if err != nil {
		return Collection{}, err
	}
	if err := s.checkTitles(ctx, tenant, "title_ids", in.TitleIDs); err != nil {
		return Collection{}, err
	}
	now := s.now()
	c := Collection{ID: ids.New(PrefixCollection), Name: in.Name, Description: in.Description, Status: in.Status, Position: in.Position, TitleIDs: in.TitleIDs, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateCollection(ctx, tenant, c); err != nil {
		return Collection{}, err
	}
	return c, nil
}

// Collection returns one collection.
func (s *Service) Collection(ctx context.Context, tenant, id string) (Collection, error) {
	if !ids.Valid(PrefixCollection, id) {
		return Collection{}, collectionNotFound(id)
	}
	return s.store.Collection(ctx, tenant, id)
}

// CollectionTitles returns a collection's titles in its order; with
// viewer set, only those the viewer may see now (the storefront's row).
func (s *Service) CollectionTitles(ctx context.Context, tenant, id string, v *Viewer) ([]Title, error) {
	c, err := s.Collection(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	ts, err := s.store.TitlesByID(ctx, tenant, c.TitleIDs)
	if err != nil {
		return nil, err
	}
	allow := func(Title) bool { return true }
	if v != nil {
		if allow, err = s.Visible(*v); err != nil {
			return nil, err
		}
	}
	byID := map[string]Title{}
	for _, t := range ts {
		byID[t.ID] = t
	}
	out := []Title{}
	for _, id := range c.TitleIDs {
		if t, ok := byID[id]; ok && allow(t) {
			out = append(out, present(t))
		}
	}
	return out, nil
}

// Collections lists collections by id.
func (s *Service) Collections(ctx context.Context, tenant string, limit int, after string) ([]Collection, error) {
	if limit <= 0 {
		limit = DefaultPageSize
	}
	return s.store.Collections(ctx, tenant, min(limit, MaxPageSize+1), after)
}

// UpdateCollection replaces a collection.
func (s *Service) UpdateCollection(ctx context.Context, tenant, id string, in CollectionInput) (Collection, error) {
	in, err := in.normalize()
	if err != nil {
		return Collection{}, err
	}
	c, err := s.Collection(ctx, tenant, id)
	if err != nil {
		return Collection{}, err
	}
	if err := s.checkTitles(ctx, tenant, "title_ids", in.TitleIDs); err != nil {
		return Collection{}, err
	}
	c.Name, c.Description, c.Status, c.Position, c.TitleIDs, c.UpdatedAt = in.Name, in.Description, in.Status, in.Position, in.TitleIDs, s.now()
	if err := s.store.ReplaceCollection(ctx, tenant, c); err != nil {
		return Collection{}, err
	}
	return c, nil
}

// DeleteCollection removes a collection (not its titles).
func (s *Service) DeleteCollection(ctx context.Context, tenant, id string) error {
	if !ids.Valid(PrefixCollection, id) {
		return collectionNotFound(id)
	}
	return s.store.DeleteCollection(ctx, tenant, id)
}

// Visible returns the test a title must pass for viewer v now: published,
// inside its availability window, allowed in v's country, and within v's
// rating limit. Search applies the same rules in SQL; recommendations and
// collections use this.
func (s *Service) Visible(v Viewer) (func(Title) bool, error) {
	v, maxAge, err := v.normalize()
	if err != nil {
		return nil, err
	}
	now := s.now()
	return func(t Title) bool { return visible(t, v, maxAge, now) }, nil
}

func visible(t Title, v Viewer, maxAge int, now time.Time) bool {
	if t.Status != StatusPublished {
		return false
	}
	av := t.Availability
	if av.From != nil && av.From.After(now) || av.Until != nil && !av.Until.After(now) {
		return false
	}
	if v.Country == "" {
		if len(av.AllowedCountries) > 0 {
			return false
		}
	} else if len(av.AllowedCountries) > 0 && !slices.Contains(av.AllowedCountries, v.Country) || slices.Contains(av.BlockedCountries, v.Country) {
		return false
	}
	if maxAge >= 0 {
		if t.Rating == nil {
			return false
		}
		_, age, _ := LookupRating(t.Rating.Value)
		if age > maxAge {
			return false
		}
	}
	return true
}

func (v Viewer) normalize() (Viewer, int, error) {
	v.Country = strings.ToUpper(strings.TrimSpace(v.Country))
	if v.Country != "" && !countryRE.MatchString(v.Country) {
		return v, 0, errs.Field("country", "country must be an ISO 3166-1 alpha-2 code such as US")
	}
	age, err := MaxRatingAge(v.MaxRating)
	return v, age, err
}

// Search finds the tenant's titles a viewer may watch now. Without a
// country, only titles without an allow list are shown (the viewer could be
// anywhere); with a rating limit, unrated titles are hidden.
func (s *Service) Search(ctx context.Context, tenant string, q SearchQuery) (SearchResult, error) {
	terms, err := ParseQuery(q.Q)
	if err != nil {
		return SearchResult{}, err
	}
	v, maxAge, err := q.Viewer.normalize()
	if err != nil {
		return SearchResult{}, err
	}
	q.Viewer = v
	switch q.Kind {
	case "", KindMovie, KindSeries:
	default:
		return SearchResult{}, errs.Field("kind", "kind must be movie or series")
	}
	if q.Year != 0 && (q.Year < MinYear || q.Year > MaxYear) {
		return SearchResult{}, errs.Field("year", "year must be between %d and %d", MinYear, MaxYear)
	}
	if q.Rating != "" {
		r, _, ok := LookupRating(q.Rating)
		if !ok {
			return SearchResult{}, errs.Field("rating", "rating must be a rating such as PG-13, TV-14 or PEGI 12")
		}
		q.Rating = r.Value
	}
	q.Genre = strings.ToLower(strings.TrimSpace(q.Genre))
	q.Cast = strings.TrimSpace(q.Cast)
	if len(q.Genre) > MaxLabelRunes*4 || len(q.Cast) > MaxNameRunes*4 {
		return SearchResult{}, errs.Field("genre", "facet filters are too long")
	}
	if q.Limit <= 0 {
		q.Limit = 20
	}
	q.Limit = min(q.Limit, 100)
	if q.Offset < 0 || q.Offset > MaxSearchOffset {
		return SearchResult{}, errs.E(errs.Invalid, "invalid_cursor", "cursor is not one this API issued")
	}
	plan := SearchPlan{SearchQuery: q, MaxRatingAge: maxAge, Now: s.now()}
	var df map[string]int
	if len(terms) > 0 {
		if df, err = s.store.WordTitles(ctx, tenant, terms); err != nil {
			return SearchResult{}, err
		}
	}
	for i, t := range terms {
		// Only the last word is a prefix, as a viewer types it; the
		// others are complete, which keeps long queries selective.
		pt := PlannedTerm{Term: t, Prefix: i == len(terms)-1, Common: df[t] >= s.common}
		if len([]rune(t)) >= MinTypoRunes {
			vocab, err := s.store.Vocabulary(ctx, tenant, t)
			if err != nil {
				return SearchResult{}, err
			}
			pt.Typos = pickTypos(t, vocab)
		}
		plan.Terms = append(plan.Terms, pt)
	}
	var typos []string
	for _, pt := range plan.Terms {
		typos = append(typos, pt.Typos...)
	}
	if len(typos) > 0 {
		tdf, err := s.store.WordTitles(ctx, tenant, typos)
		if err != nil {
			return SearchResult{}, err
		}
		for i, pt := range plan.Terms {
			for _, ty := range pt.Typos {
				if tdf[ty] >= s.common {
					plan.Terms[i].CommonTypos = append(plan.Terms[i].CommonTypos, ty)
				}
			}
		}
	}
	res, err := s.store.Search(ctx, tenant, plan)
	if err != nil {
		return SearchResult{}, err
	}
	for i := range res.Hits {
		res.Hits[i].Title = present(res.Hits[i].Title)
	}
	if res.Hits == nil {
		res.Hits = []Hit{}
	}
	if q.Offset+len(res.Hits) < res.Total && q.Offset+len(res.Hits) <= MaxSearchOffset {
		res.Next = q.Offset + len(res.Hits)
	}
	return res, nil
}

// RecordEvents stores viewer events and updates watch progress. Every title
// named must be the tenant's.
func (s *Service) RecordEvents(ctx context.Context, tenant string, es []ViewerEvent) (int, error) {
	if len(es) == 0 {
		return 0, errs.Field("events", "send at least one event")
	}
	if len(es) > MaxEvents {
		return 0, errs.Field("events", "send at most %d events at once", MaxEvents)
	}
	now := s.now()
	var titleIDs []string
	for i := range es {
		e, err := es[i].normalize(i)
		if err != nil {
			return 0, err
		}
		if e.ID == "" {
			e.ID = ids.New(PrefixEvent)
		}
		if e.At == nil || e.At.After(now) {
			e.At = &now
		} else {
			at := e.At.UTC().Truncate(time.Microsecond)
			e.At = &at
		}
		es[i] = e
		if !slices.Contains(titleIDs, e.TitleID) {
			titleIDs = append(titleIDs, e.TitleID)
		}
	}
	if err := s.checkTitles(ctx, tenant, "events.title_id", titleIDs); err != nil {
		return 0, err
	}
	slices.SortStableFunc(es, func(a, b ViewerEvent) int { return a.At.Compare(*b.At) })
	return s.store.RecordEvents(ctx, tenant, es)
}

// Fold applies event e to progress p (the zero Progress when the viewer
// had none on the title): a play counts a play, any event moves the
// position, and a complete event or a position past CompletedRatio of the
// duration finishes the title.
func Fold(p Progress, e ViewerEvent) Progress {
	p.ViewerID, p.ProfileID, p.TitleID = e.ViewerID, e.ProfileID, e.TitleID
	if e.EpisodeID != "" {
		p.EpisodeID = e.EpisodeID
	}
	if e.At != nil && e.At.After(p.UpdatedAt) {
		p.UpdatedAt = *e.At
	}
	if e.DurationSeconds > 0 {
		p.DurationSeconds = e.DurationSeconds
	}
	switch e.Type {
	case EventPlay:
		p.Plays++
		p.PositionSeconds = e.PositionSeconds
		p.Completed = false
	case EventProgress:
		p.PositionSeconds = e.PositionSeconds
	case EventComplete:
		p.Completed = true
		if p.DurationSeconds > 0 {
			p.PositionSeconds = p.DurationSeconds
		}
	}
	if p.DurationSeconds > 0 && p.PositionSeconds >= CompletedRatio*p.DurationSeconds {
		p.Completed = true
	}
	return p
}

// History lists a viewer's titles, most recently watched first; profile ""
// is every profile of the viewer.
func (s *Service) History(ctx context.Context, tenant, viewer, profile string, limit, offset int) ([]WatchEntry, error) {
	return s.watch(ctx, tenant, viewer, profile, false, limit, offset, nil)
}

// ContinueWatching lists the viewer's unfinished titles that the viewer may
// still watch, most recent first.
func (s *Service) ContinueWatching(ctx context.Context, tenant, viewer, profile string, v Viewer, limit int) ([]WatchEntry, error) {
	allow, err := s.Visible(v)
	if err != nil {
		return nil, err
	}
	return s.watch(ctx, tenant, viewer, profile, true, limit, 0, allow)
}

func (s *Service) watch(ctx context.Context, tenant, viewer, profile string, unfinished bool, limit, offset int, allow func(Title) bool) ([]WatchEntry, error) {
	if !ValidViewerID(viewer) {
		return nil, viewerNotFound(viewer)
	}
	if profile != "" && !ValidViewerID(profile) {
		return nil, errs.Field("profile_id", "profile_id must be 1 to 128 letters, digits or ._:@-")
	}
	ok, err := s.store.ViewerExists(ctx, tenant, viewer)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, viewerNotFound(viewer)
	}
	if limit <= 0 {
		limit = DefaultPageSize
	}
	ps, err := s.store.Progress(ctx, tenant, viewer, profile, unfinished, min(limit, MaxPageSize+1), offset)
	if err != nil {
		return nil, err
	}
	var tids []string
	for _, p := range ps {
		tids = append(tids, p.TitleID)
	}
	ts, err := s.store.TitlesByID(ctx, tenant, tids)
	if err != nil {
		return nil, err
	}
	byID := map[string]Title{}
	for _, t := range ts {
		byID[t.ID] = t
	}
	out := []WatchEntry{}
	for _, p := range ps {
		t, ok := byID[p.TitleID]
		if !ok || allow != nil && !allow(t) {
			continue
		}
		out = append(out, WatchEntry{Progress: p, Title: present(t)})
	}
	return out, nil
}

// ViewerExists reports whether the tenant has recorded activity of viewer.
func (s *Service) ViewerExists(ctx context.Context, tenant, viewer string) (bool, error) {
	if !ValidViewerID(viewer) {
		return false, nil
	}
	return s.store.ViewerExists(ctx, tenant, viewer)
}
