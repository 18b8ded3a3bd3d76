package catalog_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/marquee-video/marquee/controlplane/catalog"
	"github.com/marquee-video/marquee/controlplane/catalog/catalogtest"
	"github.com/marquee-video/marquee/controlplane/catalog/sqlstore"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/db/dbtest"
)

// queue records enqueued tasks and, like asynq, refuses a task id it has.
type queue struct {
	mu    sync.Mutex
	tasks map[string]*asynq.Task
}

func (q *queue) EnqueueContext(_ context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var id, qn string
	for _, o := range opts {
		switch o.Type() {
		case asynq.TaskIDOpt:
			id = o.Value().(string)
		case asynq.QueueOpt:
			qn = o.Value().(string)
		}
	}
	if qn != catalog.QueueCatalog {
		return nil, errors.New("task on queue " + qn)
	}
	if _, dup := q.tasks[id]; dup {
		return nil, asynq.ErrTaskIDConflict
	}
	q.tasks[id] = t
	return &asynq.TaskInfo{ID: id}, nil
}

// TestScheduledRebuilds enqueues one rebuild per tenant with titles and
// window, and the handler builds and stores each tenant's own model.
func TestScheduledRebuilds(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		st := sqlstore.New(d)
		s := catalog.NewService(st)
		ten := catalogtest.Tenants(t, d, 3) // the third has no titles
		a := catalogtest.Load(t, s, ten[0], catalogtest.Fixture(time.Now().UTC()))
		catalogtest.Load(t, s, ten[1], map[string]catalog.TitleInput{"one": {Kind: catalog.KindMovie, Status: catalog.StatusPublished, Title: "Only"}})
		q := &queue{tasks: map[string]*asynq.Task{}}
		r := catalog.NewRecommender(catalog.RecommenderConfig{Catalog: s, Store: st, Queue: q})
		for range 2 { // the second pass falls in the same window: no new tasks
			if err := r.EnqueueAll(ctx, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		if len(q.tasks) != 2 {
			t.Fatalf("%d tasks, want one for each tenant with titles", len(q.tasks))
		}
		var ids []string
		for id, task := range q.tasks {
			ids = append(ids, id)
			if task.Type() != catalog.TaskRebuild {
				t.Errorf("task type %s", task.Type())
			}
			if err := r.HandleRebuild(ctx, task); err != nil {
				t.Fatal(err)
			}
		}
		slices.Sort(ids)
		if !strings.Contains(ids[0]+ids[1], ten[0]) || !strings.Contains(ids[0]+ids[1], ten[1]) {
			t.Errorf("task ids %v do not name the tenants", ids)
		}
		ma, err := r.Model(ctx, ten[0])
		if err != nil {
			t.Fatal(err)
		}
		published := 0
		for k := range a {
			if k != "draft" {
				published++
			}
		}
		if ma.Titles != published {
			t.Errorf("tenant A's model has %d titles, want its %d published", ma.Titles, published)
		}
		if mb, err := r.Model(ctx, ten[1]); err != nil || mb.Titles != 1 {
			t.Errorf("tenant B's model: %+v %v", mb, err)
		}
		if _, err := r.Model(ctx, ten[2]); err == nil {
			t.Error("a tenant without titles has a model")
		}
		if err := r.HandleRebuild(ctx, asynq.NewTask(catalog.TaskRebuild, []byte(`{"tenant":"nope"}`))); !errors.Is(err, asynq.SkipRetry) {
			t.Errorf("bad payload: %v, want SkipRetry", err)
		}
	})
}
