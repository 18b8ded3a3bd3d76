package catalog

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/ids"
)

// Input limits.
const (
	MaxTitleRunes    = 300
	MaxSynopsisRunes = 5000
	MaxLabelRunes    = 60
	MaxGenres        = 20
	MaxTags          = 50
	MaxCredits       = 200
	MaxLanguages     = 40
	MaxCountries     = 250
	MaxURLLength     = 2048
	MinYear          = 1870
	MaxYear          = 2100
	MaxRuntime       = 10000
	MaxCollection    = 500
	MaxNameRunes     = 200
)

var (
	languageRE = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
	countryRE  = regexp.MustCompile(`^[A-Z]{2}$`)
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
)

func text(field, s string, max int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", errs.Field(field, "%s must be UTF-8 text", field)
	}
	if required && s == "" {
		return "", errs.Field(field, "%s is required", field)
	}
	if utf8.RuneCountInString(s) > max {
		return "", errs.Field(field, "%s is longer than %d characters", field, max)
	}
	return s, nil
}

// labels trims, checks and dedupes a list of short labels; lower folds
// them to lower case (genres and tags are matched as slugs).
func labels(field string, in []string, max int, lower bool) ([]string, error) {
	if len(in) > max {
		return nil, errs.Field(field, "%s has more than %d entries", field, max)
	}
	out := []string{}
	for _, l := range in {
		l, err := text(field, l, MaxLabelRunes, true)
		if err != nil {
			return nil, err
		}
		if strings.ContainsRune(l, '|') || strings.ContainsRune(l, ';') {
			return nil, errs.Field(field, "%s entries may not contain | or ;", field)
		}
		if lower {
			l = strings.ToLower(l)
		}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out, nil
}

func codes(field string, in []string, re *regexp.Regexp, max int, what string) ([]string, error) {
	if len(in) > max {
		return nil, errs.Field(field, "%s has more than %d entries", field, max)
	}
	out := []string{}
	for _, c := range in {
		c = strings.TrimSpace(c)
		if field == "availability.allowed_countries" || field == "availability.blocked_countries" {
			c = strings.ToUpper(c)
		}
		if !re.MatchString(c) {
			return nil, errs.Field(field, "%q is not %s", c, what)
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

func imageURL(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if len(s) > MaxURLLength {
		return "", errs.Field(field, "%s is longer than %d characters", field, MaxURLLength)
	}
	if ownArtworkRE.MatchString(s) {
		return s, nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return "", errs.Field(field, "%s must be an absolute https URL (or upload the image)", field)
	}
	return u.String(), nil
}

func optionalID(field, prefix, id string) error {
	if id != "" && !ids.Valid(prefix, id) {
		return errs.Field(field, "%s must be an id starting %s_", field, prefix)
	}
	return nil
}

func status(field string, s Status) (Status, error) {
	switch s {
	case "":
		return StatusDraft, nil
	case StatusDraft, StatusPublished:
		return s, nil
	}
	return "", errs.Field(field, "%s must be draft or published", field)
}

// normalize validates in and returns it cleaned, with the rating's age
// (-1 when unrated).
func (in TitleInput) normalize() (TitleInput, int, error) {
	out := in
	var err error
	if in.Kind != KindMovie && in.Kind != KindSeries {
		return out, 0, errs.Field("kind", "kind must be movie or series")
	}
	if out.Status, err = status("status", in.Status); err != nil {
		return out, 0, err
	}
	if out.Title, err = text("title", in.Title, MaxTitleRunes, true); err != nil {
		return out, 0, err
	}
	if out.Synopsis, err = text("synopsis", in.Synopsis, MaxSynopsisRunes, false); err != nil {
		return out, 0, err
	}
	if out.Genres, err = labels("genres", in.Genres, MaxGenres, true); err != nil {
		return out, 0, err
	}
	if out.Tags, err = labels("tags", in.Tags, MaxTags, true); err != nil {
		return out, 0, err
	}
	if len(in.Credits) > MaxCredits {
		return out, 0, errs.Field("credits", "credits has more than %d entries", MaxCredits)
	}
	out.Credits = make([]Credit, 0, len(in.Credits))
	for i, c := range in.Credits {
		f := fmt.Sprintf("credits[%d]", i)
		if c.Name, err = text(f+".name", c.Name, MaxNameRunes, true); err != nil {
			return out, 0, err
		}
		if strings.ContainsRune(c.Name, '|') || strings.ContainsRune(c.Name, ';') {
			return out, 0, errs.Field(f+".name", "names may not contain | or ;")
		}
		if c.Role, err = text(f+".role", strings.ToLower(c.Role), MaxLabelRunes, true); err != nil {
			return out, 0, err
		}
		if c.Character, err = text(f+".character", c.Character, MaxNameRunes, false); err != nil {
			return out, 0, err
		}
		out.Credits = append(out.Credits, c)
	}
	if y := in.ReleaseYear; y != nil && (*y < MinYear || *y > MaxYear) {
		return out, 0, errs.Field("release_year", "release_year must be between %d and %d", MinYear, MaxYear)
	}
	if r := in.RuntimeMinutes; r != nil && (*r < 1 || *r > MaxRuntime) {
		return out, 0, errs.Field("runtime_minutes", "runtime_minutes must be between 1 and %d", MaxRuntime)
	}
	age := -1
	if in.Rating != nil {
		r, a, err := in.Rating.Normalize()
		if err != nil {
			return out, 0, err
		}
		out.Rating, age = &r, a
	}
	if out.AudioLanguages, err = codes("audio_languages", in.AudioLanguages, languageRE, MaxLanguages, "a language tag such as en or pt-BR"); err != nil {
		return out, 0, err
	}
	if out.SubtitleLanguages, err = codes("subtitle_languages", in.SubtitleLanguages, languageRE, MaxLanguages, "a language tag such as en or pt-BR"); err != nil {
		return out, 0, err
	}
	if out.Artwork.Poster, err = imageURL("artwork.poster", in.Artwork.Poster); err != nil {
		return out, 0, err
	}
	if out.Artwork.Backdrop, err = imageURL("artwork.backdrop", in.Artwork.Backdrop); err != nil {
		return out, 0, err
	}
	if err := optionalID("asset_id", ids.Asset, in.AssetID); err != nil {
		return out, 0, err
	}
	av := in.Availability
	if av.From != nil && av.Until != nil && !av.Until.After(*av.From) {
		return out, 0, errs.Field("availability.until", "availability.until must be after availability.from")
	}
	if av.From != nil {
		f := av.From.UTC()
		out.Availability.From = &f
	}
	if av.Until != nil {
		u := av.Until.UTC()
		out.Availability.Until = &u
	}
	if out.Availability.AllowedCountries, err = codes("availability.allowed_countries", av.AllowedCountries, countryRE, MaxCountries, "an ISO 3166-1 alpha-2 country code"); err != nil {
		return out, 0, err
	}
	if out.Availability.BlockedCountries, err = codes("availability.blocked_countries", av.BlockedCountries, countryRE, MaxCountries, "an ISO 3166-1 alpha-2 country code"); err != nil {
		return out, 0, err
	}
	if out.Monetization, err = in.Monetization.normalize(); err != nil {
		return out, 0, err
	}
	return out, age, nil
}

func (m Monetization) normalize() (Monetization, error) {
	m.Model = strings.ToLower(strings.TrimSpace(m.Model))
	if m.Model == "" {
		m.Model = ModelFree
	}
	var err error
	if m.Tier, err = text("monetization.tier", m.Tier, MaxLabelRunes, false); err != nil {
		return m, err
	}
	switch m.Model {
	case ModelFree, ModelAVOD:
		if m.Tier != "" || m.Price != nil {
			return m, errs.Field("monetization", "%s titles take neither a tier nor a price", m.Model)
		}
	case ModelSVOD:
		if m.Tier == "" {
			return m, errs.Field("monetization.tier", "svod titles name the subscription tier that includes them")
		}
		if m.Price != nil {
			return m, errs.Field("monetization.price", "svod titles take no price; the tier has one")
		}
	case ModelTVOD:
		if m.Price == nil || m.Price.Amount <= 0 {
			return m, errs.Field("monetization.price", "tvod titles need a price above 0")
		}
		if m.Tier != "" {
			return m, errs.Field("monetization.tier", "tvod titles take no tier")
		}
		p := *m.Price
		p.Currency = strings.ToUpper(strings.TrimSpace(p.Currency))
		if !currencyRE.MatchString(p.Currency) {
			return m, errs.Field("monetization.price.currency", "currency must be an ISO 4217 code such as USD")
		}
		if p.Amount > 100_000_000 {
			return m, errs.Field("monetization.price.amount", "amount is in minor units and at most 100000000")
		}
		m.Price = &p
	default:
		return m, errs.Field("monetization.model", "monetization.model must be free, avod, svod or tvod")
	}
	return m, nil
}

func (in SeasonInput) normalize() (SeasonInput, error) {
	var err error
	if in.Number < 0 || in.Number > 10000 {
		return in, errs.Field("number", "number must be between 0 and 10000")
	}
	if in.Name, err = text("name", in.Name, MaxTitleRunes, false); err != nil {
		return in, err
	}
	if in.Synopsis, err = text("synopsis", in.Synopsis, MaxSynopsisRunes, false); err != nil {
		return in, err
	}
	return in, nil
}

func (in EpisodeInput) normalize() (EpisodeInput, error) {
	var err error
	if in.Number < 0 || in.Number > 100000 {
		return in, errs.Field("number", "number must be between 0 and 100000")
	}
	if in.Name, err = text("name", in.Name, MaxTitleRunes, false); err != nil {
		return in, err
	}
	if in.Synopsis, err = text("synopsis", in.Synopsis, MaxSynopsisRunes, false); err != nil {
		return in, err
	}
	if r := in.RuntimeMinutes; r != nil && (*r < 1 || *r > MaxRuntime) {
		return in, errs.Field("runtime_minutes", "runtime_minutes must be between 1 and %d", MaxRuntime)
	}
	return in, optionalID("asset_id", ids.Asset, in.AssetID)
}

func (in CollectionInput) normalize() (CollectionInput, error) {
	var err error
	if in.Name, err = text("name", in.Name, MaxNameRunes, true); err != nil {
		return in, err
	}
	if in.Description, err = text("description", in.Description, MaxSynopsisRunes, false); err != nil {
		return in, err
	}
	if in.Status, err = status("status", in.Status); err != nil {
		return in, err
	}
	if in.Position < 0 || in.Position > 100000 {
		return in, errs.Field("position", "position must be between 0 and 100000")
	}
	if len(in.TitleIDs) > MaxCollection {
		return in, errs.Field("title_ids", "a collection holds at most %d titles", MaxCollection)
	}
	seen := map[string]bool{}
	out := []string{}
	for _, id := range in.TitleIDs {
		if !ids.Valid(PrefixTitle, id) {
			return in, errs.Field("title_ids", "%q is not a title id", id)
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	in.TitleIDs = out
	return in, nil
}

var viewerIDRE = regexp.MustCompile(`^[A-Za-z0-9._:@-]{1,128}$`)

// ValidViewerID reports whether id can name a viewer or a profile.
func ValidViewerID(id string) bool { return viewerIDRE.MatchString(id) }

func (e ViewerEvent) normalize(i int) (ViewerEvent, error) {
	f := fmt.Sprintf("events[%d]", i)
	if !ValidViewerID(e.ViewerID) {
		return e, errs.Field(f+".viewer_id", "viewer_id must be 1 to 128 letters, digits or ._:@-")
	}
	if e.ProfileID != "" && !ValidViewerID(e.ProfileID) {
		return e, errs.Field(f+".profile_id", "profile_id must be 1 to 128 letters, digits or ._:@-")
	}
	if e.ID != "" && !ValidViewerID(e.ID) {
		return e, errs.Field(f+".id", "id must be 1 to 128 letters, digits or ._:@-")
	}
	switch e.Type {
	case EventPlay, EventProgress, EventComplete:
	default:
		return e, errs.Field(f+".type", "type must be play, progress or complete")
	}
	if !ids.Valid(PrefixTitle, e.TitleID) {
		return e, errs.Field(f+".title_id", "title_id must be a title id")
	}
	if err := optionalID(f+".episode_id", PrefixEpisode, e.EpisodeID); err != nil {
		return e, err
	}
	if e.PositionSeconds < 0 || e.PositionSeconds > 1e6 || e.DurationSeconds < 0 || e.DurationSeconds > 1e6 {
		return e, errs.Field(f+".position_seconds", "positions and durations are seconds between 0 and 1000000")
	}
	return e, nil
}
