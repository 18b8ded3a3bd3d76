package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/marquee-video/marquee/controlplane/recommend"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/ids"
)

// Recommendations are built per tenant by a queued task (TaskRebuild) into
// one stored model blob, and served from the model with every answer
// filtered for the viewer: only published titles inside their window, in
// the viewer's country and rating limit, and not already watched.

// TaskRebuild is the asynq task type that rebuilds a tenant's model.
const TaskRebuild = "catalog:recommendations:rebuild"

// QueueCatalog is the asynq queue of catalog tasks, served by the control
// plane itself (the data plane has no database).
const QueueCatalog = "catalog"

// StoredModel is a tenant's built model as the database keeps it.
type StoredModel struct {
	Blob    []byte
	Stats   ModelStats
	BuiltAt time.Time
}

// ModelStats describe a stored model for the API.
type ModelStats struct {
	Titles        int       `json:"titles"`
	Viewers       int       `json:"viewers"`
	Interactions  int       `json:"interactions"`
	ColdTitles    int       `json:"cold_titles"`
	Neighbors     int       `json:"neighbors"`
	BuildMS       int64     `json:"build_ms"`
	BuiltAt       time.Time `json:"built_at"`
	SizeBytes     int       `json:"size_bytes"`
	SkippedEvents int       `json:"skipped_events"`
}

// TitleFacts is what deciding a title's visibility takes.
type TitleFacts struct {
	ID               string
	Status           Status
	From, Until      *time.Time
	AllowedCountries []string
	BlockedCountries []string
	Rating           string
}

func (f TitleFacts) title() Title {
	t := Title{ID: f.ID, Status: f.Status, Availability: Availability{From: f.From, Until: f.Until, AllowedCountries: f.AllowedCountries, BlockedCountries: f.BlockedCountries}}
	if f.Rating != "" {
		r, _, _ := LookupRating(f.Rating)
		t.Rating = &r
	}
	return t
}

// ModelStore is the persistence recommendations need.
type ModelStore interface {
	// PublishedTitles are the titles a model is built over.
	PublishedTitles(ctx context.Context, tenant string) ([]Title, error)
	// AllProgress is every viewer's progress of the tenant.
	AllProgress(ctx context.Context, tenant string) ([]Progress, error)
	SaveModel(ctx context.Context, tenant string, m StoredModel) error
	// LoadModel is NotFound when the tenant has no model yet.
	LoadModel(ctx context.Context, tenant string) (StoredModel, error)
	// ModelBuiltAt is the zero time when there is no model.
	ModelBuiltAt(ctx context.Context, tenant string) (time.Time, error)
	TitleFacts(ctx context.Context, tenant string) ([]TitleFacts, error)
	// CatalogTenants lists the tenants that have titles (across tenants:
	// the schedule serves the platform).
	CatalogTenants(ctx context.Context) ([]string, error)
}

// Enqueuer puts a task on the queue (asynq.Client does).
type Enqueuer interface {
	EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// RecommenderConfig configures a Recommender.
type RecommenderConfig struct {
	Catalog *Service
	Store   ModelStore
	Queue   Enqueuer
	// Options tune model builds.
	Options recommend.Options
	// Refresh is how long a loaded model and its title facts are used
	// before the database is asked whether a newer model exists (default
	// 10 s). Every answer is still checked against fresh title rows.
	Refresh time.Duration
	Log     *slog.Logger
}

// Recommender builds, stores and serves recommendation models.
type Recommender struct {
	cfg RecommenderConfig

	mu     sync.Mutex
	loaded map[string]*loadedModel
}

type loadedModel struct {
	mu      sync.Mutex // serializes loading
	model   *recommend.Model
	facts   map[string]TitleFacts
	builtAt time.Time
	checked time.Time
}

// NewRecommender returns a Recommender.
func NewRecommender(cfg RecommenderConfig) *Recommender {
	if cfg.Refresh <= 0 {
		cfg.Refresh = 10 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Recommender{cfg: cfg, loaded: map[string]*loadedModel{}}
}

type rebuildPayload struct {
	Tenant string `json:"tenant"`
}

// Enqueue asks for a rebuild of tenant's model. Requests within the same
// window share one task (its id names the window), so a burst of requests
// or several control planes on a schedule build once.
func (r *Recommender) Enqueue(ctx context.Context, tenant string, window time.Duration) error {
	payload, err := json.Marshal(rebuildPayload{Tenant: tenant})
	if err != nil {
		return err
	}
	slot := time.Now().UTC().Truncate(window).Unix()
	id := fmt.Sprintf("reco.%s.%d", tenant, slot)
	_, err = r.cfg.Queue.EnqueueContext(ctx, asynq.NewTask(TaskRebuild, payload), asynq.TaskID(id), asynq.Queue(QueueCatalog),
		asynq.MaxRetry(3), asynq.Timeout(30*time.Minute), asynq.Retention(window))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return errs.Wrap(errs.Unavailable, "queue_unavailable", err, "the task queue is not reachable")
	}
	return nil
}

// EnqueueAll asks for a rebuild of every tenant with titles.
func (r *Recommender) EnqueueAll(ctx context.Context, window time.Duration) error {
	ts, err := r.cfg.Store.CatalogTenants(ctx)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if err := r.Enqueue(ctx, t, window); err != nil {
			return err
		}
	}
	return nil
}

// RunSchedule enqueues every tenant's rebuild each interval until ctx ends.
func (r *Recommender) RunSchedule(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.EnqueueAll(ctx, interval); err != nil && ctx.Err() == nil {
				r.cfg.Log.Warn("schedule recommendation rebuilds", "err", err)
			}
		}
	}
}

// HandleRebuild is the asynq handler of TaskRebuild.
func (r *Recommender) HandleRebuild(ctx context.Context, t *asynq.Task) error {
	var p rebuildPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || !ids.Valid(ids.Tenant, p.Tenant) {
		return fmt.Errorf("catalog: bad rebuild payload: %w", asynq.SkipRetry)
	}
	_, err := r.Rebuild(ctx, p.Tenant)
	return err
}

// viewerKey is the model's viewer: each profile is a person.
func viewerKey(viewer, profile string) string { return viewer + "\x00" + profile }

func event(p Progress) recommend.Event {
	w := float64(max(p.Plays, 1))
	switch {
	case p.Completed:
		w++
	case p.DurationSeconds > 0:
		w += min(p.PositionSeconds/p.DurationSeconds, 1)
	}
	return recommend.Event{Viewer: viewerKey(p.ViewerID, p.ProfileID), Item: p.TitleID, Weight: w, At: p.UpdatedAt, Completed: p.Completed}
}

// Rebuild builds tenant's model from its published titles and all watch
// progress, and stores it.
func (r *Recommender) Rebuild(ctx context.Context, tenant string) (ModelStats, error) {
	ts, err := r.cfg.Store.PublishedTitles(ctx, tenant)
	if err != nil {
		return ModelStats{}, err
	}
	ps, err := r.cfg.Store.AllProgress(ctx, tenant)
	if err != nil {
		return ModelStats{}, err
	}
	start := time.Now()
	items := make([]recommend.Item, len(ts))
	for i, t := range ts {
		published := t.CreatedAt
		if t.PublishedAt != nil {
			published = *t.PublishedAt
		}
		items[i] = recommend.Item{ID: t.ID, Genres: t.Genres, Tags: t.Tags, Cast: t.Cast(), Text: t.Title + " " + t.Synopsis, PublishedAt: published}
	}
	events := make([]recommend.Event, len(ps))
	for i, p := range ps {
		events[i] = event(p)
	}
	m, err := recommend.Build(ctx, items, events, r.cfg.Options)
	if err != nil {
		return ModelStats{}, fmt.Errorf("catalog: build recommendations of %s: %w", tenant, err)
	}
	blob, err := m.MarshalBinary()
	if err != nil {
		return ModelStats{}, err
	}
	st := m.Stats()
	stats := ModelStats{Titles: st.Items, Viewers: st.Viewers, Interactions: st.Events, ColdTitles: st.ColdItems, Neighbors: st.Neighbors,
		BuildMS: time.Since(start).Milliseconds(), BuiltAt: time.Now().UTC().Truncate(time.Microsecond), SizeBytes: len(blob), SkippedEvents: st.SkippedEvents}
	if err := r.cfg.Store.SaveModel(ctx, tenant, StoredModel{Blob: blob, Stats: stats, BuiltAt: stats.BuiltAt}); err != nil {
		return ModelStats{}, err
	}
	r.cfg.Log.Info("recommendations rebuilt", "tenant", tenant, "titles", stats.Titles, "interactions", stats.Interactions, "build_ms", stats.BuildMS)
	return stats, nil
}

// Model describes tenant's stored model; NotFound when none is built.
func (r *Recommender) Model(ctx context.Context, tenant string) (ModelStats, error) {
	m, err := r.cfg.Store.LoadModel(ctx, tenant)
	if err != nil {
		return ModelStats{}, err
	}
	m.Stats.BuiltAt = m.BuiltAt
	return m.Stats, nil
}

// load returns tenant's model, loading it when none is in memory or, at
// most every Refresh, a newer one was stored. nil when none is built.
func (r *Recommender) load(ctx context.Context, tenant string) (*loadedModel, error) {
	r.mu.Lock()
	lm := r.loaded[tenant]
	if lm == nil {
		lm = &loadedModel{}
		r.loaded[tenant] = lm
	}
	r.mu.Unlock()
	lm.mu.Lock()
	defer lm.mu.Unlock()
	if lm.model != nil && time.Since(lm.checked) < r.cfg.Refresh {
		return lm, nil
	}
	builtAt, err := r.cfg.Store.ModelBuiltAt(ctx, tenant)
	if err != nil {
		return nil, err
	}
	if builtAt.IsZero() {
		return nil, nil
	}
	if lm.model == nil || builtAt.After(lm.builtAt) {
		sm, err := r.cfg.Store.LoadModel(ctx, tenant)
		if err != nil {
			return nil, err
		}
		m := &recommend.Model{}
		if err := m.UnmarshalBinary(sm.Blob); err != nil {
			return nil, fmt.Errorf("catalog: stored model of %s: %w", tenant, err)
		}
		lm.model, lm.builtAt = m, sm.BuiltAt
	}
	facts, err := r.cfg.Store.TitleFacts(ctx, tenant)
	if err != nil {
		return nil, err
	}
	lm.facts = make(map[string]TitleFacts, len(facts))
	for _, f := range facts {
		lm.facts[f.ID] = f
	}
	lm.checked = time.Now()
	return lm, nil
}

// Recommendation is one recommended title.
type Recommendation struct {
	Title   Title   `json:"title"`
	Score   float64 `json:"score"`
	Reason  string  `json:"reason"`
	Because string  `json:"because,omitempty"`
}

// Recommendations is an answer with the model it came from.
type Recommendations struct {
	Data         []Recommendation `json:"data"`
	ModelBuiltAt *time.Time       `json:"model_built_at"`
}

// serve asks ask for n titles the viewer may watch, checking each against
// the current title rows: the in-memory facts may be up to Refresh old, so
// a title hidden since is dropped and asked for again.
func (r *Recommender) serve(ctx context.Context, tenant string, v Viewer, n int, skip func(string) bool, ask func(m *recommend.Model, n int, allow func(string) bool) []recommend.Rec) (Recommendations, error) {
	out := Recommendations{Data: []Recommendation{}}
	visible, err := r.cfg.Catalog.Visible(v)
	if err != nil {
		return out, err
	}
	if n <= 0 {
		n = 20
	}
	n = min(n, 100)
	lm, err := r.load(ctx, tenant)
	if err != nil || lm == nil {
		return out, err
	}
	out.ModelBuiltAt = &lm.builtAt
	dropped := map[string]bool{}
	allow := func(id string) bool {
		f, ok := lm.facts[id]
		return ok && !dropped[id] && (skip == nil || !skip(id)) && visible(f.title())
	}
	for range 3 {
		recs := ask(lm.model, n, allow)
		idList := make([]string, len(recs))
		for i, rc := range recs {
			idList[i] = rc.ID
		}
		ts, err := r.cfg.Catalog.store.TitlesByID(ctx, tenant, idList)
		if err != nil {
			return out, err
		}
		byID := map[string]Title{}
		for _, t := range ts {
			byID[t.ID] = t
		}
		out.Data = out.Data[:0]
		stale := false
		for _, rc := range recs {
			t, ok := byID[rc.ID]
			if !ok || !visible(t) {
				dropped[rc.ID], stale = true, true
				continue
			}
			out.Data = append(out.Data, Recommendation{Title: present(t), Score: rc.Score, Reason: rc.Reason, Because: rc.Because})
		}
		if !stale {
			break
		}
	}
	return out, nil
}

// ForViewer recommends titles to a viewer profile (every profile of the
// viewer when profile is ""): never what the profile has watched, nor what
// it may not watch now. NotFound for a viewer without activity.
func (r *Recommender) ForViewer(ctx context.Context, tenant, viewer, profile string, v Viewer, n int) (Recommendations, error) {
	if !ValidViewerID(viewer) {
		return Recommendations{}, viewerNotFound(viewer)
	}
	if profile != "" && !ValidViewerID(profile) {
		return Recommendations{}, errs.Field("profile_id", "profile_id must be 1 to 128 letters, digits or ._:@-")
	}
	ps, err := r.cfg.Catalog.store.Progress(ctx, tenant, viewer, profile, false, 300, 0)
	if err != nil {
		return Recommendations{}, err
	}
	if len(ps) == 0 {
		ok, err := r.cfg.Catalog.store.ViewerExists(ctx, tenant, viewer)
		if err != nil {
			return Recommendations{}, err
		}
		if !ok {
			return Recommendations{}, viewerNotFound(viewer)
		}
	}
	history := make([]recommend.Event, len(ps))
	watched := map[string]bool{}
	for i, p := range ps {
		history[i] = event(p)
		watched[p.TitleID] = true
	}
	return r.serve(ctx, tenant, v, n, func(id string) bool { return watched[id] }, func(m *recommend.Model, n int, allow func(string) bool) []recommend.Rec {
		return m.ForViewer(history, n, allow)
	})
}

// Similar lists titles like a title, for the viewer.
func (r *Recommender) Similar(ctx context.Context, tenant, titleID string, v Viewer, n int) (Recommendations, error) {
	if _, err := r.cfg.Catalog.Title(ctx, tenant, titleID); err != nil {
		return Recommendations{}, err
	}
	return r.serve(ctx, tenant, v, n, func(id string) bool { return id == titleID }, func(m *recommend.Model, n int, allow func(string) bool) []recommend.Rec {
		if recs := m.Similar(titleID, n, allow); len(recs) > 0 {
			return recs
		}
		return m.Trending(n, allow) // a title published since the build
	})
}

// Trending lists the tenant's trending titles, for the viewer.
func (r *Recommender) Trending(ctx context.Context, tenant string, v Viewer, n int) (Recommendations, error) {
	return r.serve(ctx, tenant, v, n, nil, func(m *recommend.Model, n int, allow func(string) bool) []recommend.Rec {
		return m.Trending(n, allow)
	})
}
