package api_test

import (
	"testing"

	"github.com/marquee-video/marquee/controlplane/api"
	"github.com/marquee-video/marquee/controlplane/cptest"
)

// catalogFixtures gives every tenant of the isolation tree a series with a
// season and an episode, a collection, and a viewer with watch progress.
func catalogFixtures(t *testing.T, s *cptest.Server, tr *tree) {
	t.Helper()
	for name, id := range tr.ids {
		req := func(method, path string, body any) cptest.Request {
			return cptest.Request{Method: method, Path: path, Token: tr.opsToken, Tenant: id, Body: body}
		}
		title := s.Must(t, 201, req("POST", "/v1/titles", map[string]any{"kind": "series", "title": "Series of " + name, "status": "published", "genres": []string{"drama"}})).Str(t, "id")
		season := s.Must(t, 201, req("POST", "/v1/titles/"+title+"/seasons", map[string]any{"number": 1})).Str(t, "id")
		episode := s.Must(t, 201, req("POST", "/v1/titles/"+title+"/seasons/"+season+"/episodes", map[string]any{"number": 1, "name": "Pilot"})).Str(t, "id")
		collection := s.Must(t, 201, req("POST", "/v1/collections", map[string]any{"name": "Row of " + name, "title_ids": []string{title}})).Str(t, "id")
		viewer := "viewer-" + name
		s.Must(t, 200, req("POST", "/v1/viewer-events", map[string]any{"events": []map[string]any{{"viewer_id": viewer, "type": "play", "title_id": title, "episode_id": episode, "position_seconds": 10, "duration_seconds": 100}}}))
		tr.put(api.ParamTitle, name, title)
		tr.put(api.ParamSeason, name, season)
		tr.put(api.ParamEpisode, name, episode)
		tr.put(api.ParamCollection, name, collection)
		tr.put(api.ParamViewer, name, viewer)
		tr.put(api.ParamArtworkKind, name, "poster")
	}
}

// catalogSamples are valid request bodies for the catalog schemas.
func catalogSamples() map[string]any {
	return map[string]any{
		"TitleInput":      map[string]any{"kind": "movie", "title": "Intruder"},
		"TitleImport":     map[string]any{"titles": []map[string]any{{"kind": "movie", "title": "Intruder"}}},
		"SeasonInput":     map[string]any{"number": 9},
		"EpisodeInput":    map[string]any{"number": 9, "name": "Intruder"},
		"CollectionInput": map[string]any{"name": "Intruder", "title_ids": []string{}},
		"ViewerEvents":    map[string]any{"events": []map[string]any{{"viewer_id": "intruder", "type": "play", "title_id": "ttl_01jh3k5q8x2v7r6m4n9p0s1t2w"}}},
	}
}
