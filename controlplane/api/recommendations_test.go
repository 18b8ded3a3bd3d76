package api_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/marquee-video/marquee/controlplane/cptest"
)

// waitForModel polls the model route until a model built after since
// exists. The rebuild runs on the control plane's own task queue.
func waitForModel(t *testing.T, s *cptest.Server, tok string, since time.Time) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		res := s.Do(t, cptest.Request{Method: "GET", Path: "/v1/recommendations/model", Token: tok})
		if res.Status == 200 {
			m := res.JSON(t)
			if at, err := time.Parse(time.RFC3339Nano, m["built_at"].(string)); err == nil && !at.Before(since) {
				return m
			}
		} else if res.Status != 404 {
			t.Fatalf("model: %d %s", res.Status, res.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no model was built within a minute of the rebuild request")
	return nil
}

// TestRecommendations builds a tenant's model through the queued rebuild
// and checks what it serves: only titles the viewer may watch now, never
// ones the profile watched, never another tenant's.
func TestRecommendations(t *testing.T) {
	cptest.Each(t, cptest.Options{}, func(t *testing.T, s *cptest.Server) {
		ck := &catalogChecker{t: t, s: s, doc: openAPIDoc(t, s), checked: map[string]bool{}}
		a := s.Signup(t, "Reco A")
		b := s.Signup(t, "Reco B")
		mk := func(tok string, body map[string]any) string {
			body["kind"], body["status"] = "movie", "published"
			return s.Must(t, 201, cptest.Request{Method: "POST", Path: "/v1/titles", Token: tok, Body: body}).Str(t, "id")
		}
		r := map[string]any{"system": "mpaa", "value": "PG"}
		var action []string
		for i := range 6 {
			action = append(action, mk(a.Token, map[string]any{"title": fmt.Sprintf("Action %d", i), "genres": []string{"action"}, "rating": r}))
		}
		blocked := mk(a.Token, map[string]any{"title": "Action Blocked", "genres": []string{"action"}, "rating": r, "availability": map[string]any{"blocked_countries": []string{"US"}}})
		adult := mk(a.Token, map[string]any{"title": "Action Adult", "genres": []string{"action"}, "rating": map[string]any{"system": "mpaa", "value": "NC-17"}})
		expiring := mk(a.Token, map[string]any{"title": "Action Leaving", "genres": []string{"action"}, "rating": r})
		bTitle := mk(b.Token, map[string]any{"title": "B Action", "genres": []string{"action"}, "rating": r})

		// Ten viewers watch everything of A; viewer-0 only the first two.
		var events []map[string]any
		for v := range 10 {
			for i, id := range append(append([]string{}, action...), blocked, adult, expiring) {
				if v == 0 && i >= 2 {
					break
				}
				events = append(events, map[string]any{"viewer_id": fmt.Sprintf("viewer-%d", v), "type": "complete", "title_id": id, "duration_seconds": 100})
			}
		}
		for i := 0; i < len(events); i += 100 {
			s.Must(t, 200, cptest.Request{Method: "POST", Path: "/v1/viewer-events", Token: a.Token, Body: map[string]any{"events": events[i:min(i+100, len(events))]}})
		}
		s.Must(t, 200, cptest.Request{Method: "POST", Path: "/v1/viewer-events", Token: b.Token, Body: map[string]any{"events": []map[string]any{{"viewer_id": "viewer-0", "type": "play", "title_id": bTitle}}}})

		// Before any build: an empty answer, not an error.
		empty := ck.do("/v1/recommendations/trending", 200, cptest.Request{Method: "GET", Path: "/v1/recommendations/trending", Token: a.Token}).JSON(t)
		if len(empty["data"].([]any)) != 0 || empty["model_built_at"] != nil {
			t.Errorf("before a build: %v", empty)
		}
		since := time.Now().Add(-time.Second)
		ck.do("/v1/recommendations/rebuild", 202, cptest.Request{Method: "POST", Path: "/v1/recommendations/rebuild", Token: a.Token})
		s.Must(t, 202, cptest.Request{Method: "POST", Path: "/v1/recommendations/rebuild", Token: b.Token})
		m := waitForModel(t, s, a.Token, since)
		if m["titles"].(float64) != 9 || m["viewers"].(float64) != 10 {
			t.Errorf("model %v: want 9 titles, 10 viewers", m)
		}
		ck.do("/v1/recommendations/model", 200, cptest.Request{Method: "GET", Path: "/v1/recommendations/model", Token: a.Token})
		waitForModel(t, s, b.Token, since)

		// The title leaves after the build: it must not be served.
		s.Must(t, 200, cptest.Request{Method: "PUT", Path: "/v1/titles/" + expiring, Token: a.Token, Body: map[string]any{"kind": "movie", "status": "draft", "title": "Action Leaving"}})

		ids := func(res cptest.Response) []string {
			var out []string
			for _, d := range res.JSON(t)["data"].([]any) {
				out = append(out, d.(map[string]any)["title"].(map[string]any)["id"].(string))
			}
			return out
		}
		got := ids(ck.do("/v1/viewers/:viewer/recommendations", 200, cptest.Request{Method: "GET", Path: "/v1/viewers/viewer-0/recommendations?country=US&max_rating=PG-13&limit=50", Token: a.Token}))
		if len(got) != 4 {
			t.Errorf("viewer-0 got %d titles %v, want the 4 unwatched action titles it may watch", len(got), got)
		}
		for _, id := range got {
			if id == blocked || id == adult || id == expiring || id == bTitle || id == action[0] || id == action[1] {
				t.Errorf("viewer-0 was recommended %s", id)
			}
		}
		got = ids(ck.do("/v1/titles/:id/similar", 200, cptest.Request{Method: "GET", Path: "/v1/titles/" + action[0] + "/similar?country=DE", Token: a.Token}))
		if slices.Contains(got, action[0]) || slices.Contains(got, expiring) || slices.Contains(got, bTitle) || !slices.Contains(got, blocked) || len(got) != 7 {
			t.Errorf("similar in DE: %v", got)
		}
		got = ids(ck.do("/v1/recommendations/trending", 200, cptest.Request{Method: "GET", Path: "/v1/recommendations/trending?country=US&max_rating=PG", Token: a.Token}))
		if len(got) != 6 || slices.Contains(got, adult) || slices.Contains(got, blocked) {
			t.Errorf("trending in US for PG: %v", got)
		}
		for _, path := range []string{"/v1/recommendations/trending", "/v1/viewers/viewer-0/recommendations", "/v1/titles/" + bTitle + "/similar"} {
			for _, id := range ids(s.Must(t, 200, cptest.Request{Method: "GET", Path: path, Token: b.Token})) {
				if id != bTitle {
					t.Errorf("B's %s served A's %s", path, id)
				}
			}
		}
		wantProblem(t, s.Do(t, cptest.Request{Method: "GET", Path: "/v1/viewers/viewer-9/recommendations", Token: b.Token}), 404, "not_found", "")
		wantProblem(t, s.Do(t, cptest.Request{Method: "GET", Path: "/v1/titles/" + action[0] + "/similar", Token: b.Token}), 404, "not_found", "")
		wantProblem(t, s.Do(t, cptest.Request{Method: "GET", Path: "/v1/recommendations/trending?limit=500", Token: a.Token}), 400, "invalid_request", "limit")
	})
}
