// Package recommend is Marquee's recommendation engine: a pure, in-memory model
// built per tenant from the catalog and the viewers' implicit feedback (plays,
// progress, completions), with no database and no HTTP. The catalog stores a
// built model (MarshalBinary) and serves its answers.
//
// The model blends three signals:
//
//   - item-to-item collaborative filtering: cosine similarity between items over
//     log-scaled, activity-normalised viewer vectors, shrunk towards zero when few
//     viewers support it, with the top Neighbors kept per item (sparse);
//   - content similarity: TF-IDF cosine over genres, tags, cast and description
//     words, which carries titles that few or no viewers have watched yet (cold
//     start) and is blended in by how little interaction data a pair has;
//   - trending: popularity with exponential time decay, for viewers without
//     history and to fill short lists.
//
// Every ranking applies the caller's allow filter while it walks the candidates,
// so the answer has n titles whenever n allowed titles exist. Results are
// deterministic for the same input: ties break on item id.
package recommend

import (
	"context"
	"errors"
	"time"
)

// Reasons a recommendation carries, for the "because you watched X" shelves.
const (
	ReasonBecauseYouWatched = "because_you_watched"
	ReasonSimilarContent    = "similar_content"
	ReasonTrending          = "trending"
)

// Item is a title of the catalog with the metadata content similarity uses.
type Item struct {
	ID                 string
	Genres, Tags, Cast []string
	Text               string
	PublishedAt        time.Time
}

// Event is one piece of implicit feedback: a play, a progress report, a
// completion. Weight is the strength of the signal (zero counts as 1); several
// events of one viewer on one item add up.
type Event struct {
	Viewer, Item string
	Weight       float64
	At           time.Time
	Completed    bool
}

// Options tune a build. Zero values take the defaults below.
type Options struct {
	// Neighbors is how many similar items are kept per item (default 50).
	Neighbors int
	// ContentWeight is the share content similarity keeps between two items that
	// both have plenty of interactions (default 0.1). Between a cold item and
	// anything, content similarity takes over entirely.
	ContentWeight float64
	// TrendingHalfLife is the half-life of an event's contribution to trending
	// (default 7 days).
	TrendingHalfLife time.Duration
	// Now is the reference time of trending (default: the latest event's time,
	// which keeps builds reproducible).
	Now time.Time
}

// Defaults of Options.
const (
	DefaultNeighbors        = 50
	DefaultContentWeight    = 0.1
	DefaultTrendingHalfLife = 7 * 24 * time.Hour
)

// Rec is one recommended title.
type Rec struct {
	ID    string
	Score float64
	// Reason is ReasonBecauseYouWatched, ReasonSimilarContent or ReasonTrending.
	Reason string
	// Because is the id of the item that earned a because_you_watched
	// recommendation, else "".
	Because string
}

// Stats describe a built model.
type Stats struct {
	Items         int           // titles in the model
	Viewers       int           // distinct viewers with feedback
	Events        int           // events used
	SkippedEvents int           // events ignored: unknown item or no viewer
	ColdItems     int           // items with fewer than coldSupport viewers
	Neighbors     int           // item-item similarities kept, all items together
	BuildDuration time.Duration // wall time of Build
}

// ErrInvalid reports input Build cannot use; errors.Is works on what Build and
// UnmarshalBinary return.
var ErrInvalid = errors.New("recommend: invalid input")

// Limits that keep a build bounded whatever the input.
const (
	// maxViewerHistory caps how many (most recent) items of one viewer enter the
	// co-occurrence counts: a viewer with L items costs L² pairs.
	maxViewerHistory = 300
	// maxQueryHistory caps how many (most recent) history items score a
	// ForViewer request.
	maxQueryHistory = 50
	// shrinkage damps CF similarities supported by few common viewers:
	// sim·n/(n+shrinkage).
	shrinkage = 5.0
	// coldSupport is the viewer count at which an item's CF evidence counts half.
	coldSupport = 10.0
)

// Build makes a model from the catalog and the feedback. Events on items that
// are not in items are skipped (Stats.SkippedEvents). Build stops early, with
// ctx's error, when ctx is done.
func Build(ctx context.Context, items []Item, events []Event, opt Options) (*Model, error) {
	return build(ctx, items, events, opt)
}
