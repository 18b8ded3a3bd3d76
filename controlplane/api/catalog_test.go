package api_test

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/marquee-video/marquee/controlplane/cptest"
)

// catalogChecker checks responses against the OpenAPI document, like
// TestOpenAPIResponses does for the foundation routes.
type catalogChecker struct {
	t       *testing.T
	s       *cptest.Server
	doc     map[string]any
	checked map[string]bool
}

func (ck *catalogChecker) do(route string, want int, req cptest.Request) cptest.Response {
	t := ck.t
	t.Helper()
	res := ck.s.Do(t, req)
	if res.Status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", req.Method, req.Path, res.Status, want, res.Body)
	}
	p := fiberParamRE.ReplaceAllString(route, "{$1}")
	item, _ := ck.doc["paths"].(map[string]any)[p].(map[string]any)
	op, _ := item[strings.ToLower(req.Method)].(map[string]any)
	if op == nil {
		t.Fatalf("%s %s is not documented", req.Method, route)
	}
	resps := op["responses"].(map[string]any)
	key := "default"
	if res.Status < 400 {
		key = strconv.Itoa(res.Status)
		ck.checked[req.Method+" "+p] = true
	}
	spec := resolve(t, ck.doc, resps[key])
	content, _ := spec["content"].(map[string]any)
	if len(content) == 0 {
		if len(res.Body) != 0 {
			t.Errorf("%s %s: documented without a body: %s", req.Method, route, res.Body)
		}
		return res
	}
	mt, _, _ := strings.Cut(res.Header.Get("Content-Type"), ";")
	media, ok := content[mt].(map[string]any)
	for k, v := range content {
		if !ok && strings.HasSuffix(k, "/*") && strings.HasPrefix(mt, strings.TrimSuffix(k, "*")) {
			media, ok = v.(map[string]any), true
		}
	}
	if !ok {
		t.Errorf("%s %s: Content-Type %q is not documented", req.Method, route, mt)
		return res
	}
	if !strings.HasSuffix(mt, "json") {
		return res
	}
	var v any
	if err := json.Unmarshal(res.Body, &v); err != nil {
		t.Fatalf("%s %s: %v", req.Method, route, err)
	}
	for _, e := range conform(t, ck.doc, media["schema"], v, "body") {
		t.Errorf("%s %s: %s", req.Method, route, e)
	}
	return res
}

// TestCatalogAPI walks the catalog routes end to end on both databases,
// checking every response against the OpenAPI document.
func TestCatalogAPI(t *testing.T) {
	cptest.Each(t, cptest.Options{}, func(t *testing.T, s *cptest.Server) {
		ck := &catalogChecker{t: t, s: s, doc: openAPIDoc(t, s), checked: map[string]bool{}}
		a := s.Signup(t, "Catalog A")
		b := s.Signup(t, "Catalog B")
		req := func(tok, method, path string, body any) cptest.Request {
			return cptest.Request{Method: method, Path: path, Token: tok, Body: body}
		}
		movie := map[string]any{
			"kind": "movie", "title": "The Matrix", "status": "published", "synopsis": "A hacker learns the truth.",
			"genres": []string{"Sci-Fi", "action"}, "credits": []map[string]string{{"name": "Keanu Reeves", "role": "actor", "character": "Neo"}, {"name": "Lana Wachowski", "role": "director"}},
			"release_year": 1999, "runtime_minutes": 136, "rating": map[string]string{"system": "mpaa", "value": "r"},
			"audio_languages": []string{"en", "fr"}, "subtitle_languages": []string{"pt-BR"},
			"artwork":      map[string]string{"poster": "https://img.example.com/matrix.jpg"},
			"availability": map[string]any{"from": "2020-01-01T00:00:00Z", "blocked_countries": []string{"de"}},
			"monetization": map[string]any{"model": "tvod", "price": map[string]any{"amount": 399, "currency": "usd"}},
		}
		// Idempotent creation: a retry with the same key is the same title.
		idem := req(a.Token, "POST", "/v1/titles", movie)
		idem.Header = map[string]string{"Idempotency-Key": "create-matrix"}
		m := ck.do("/v1/titles", 201, idem).JSON(t)
		again := s.Must(t, 201, idem)
		if again.Str(t, "id") != m["id"] || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("retried create made %s, first %s", again.Str(t, "id"), m["id"])
		}
		if m["rating"].(map[string]any)["value"] != "R" || m["genres"].([]any)[0] != "sci-fi" {
			t.Errorf("not normalized: %v %v", m["rating"], m["genres"])
		}
		mid := m["id"].(string)
		series := ck.do("/v1/titles", 201, req(a.Token, "POST", "/v1/titles", map[string]any{"kind": "series", "title": "Planet Earth", "status": "published", "genres": []string{"documentary"}})).Str(t, "id")
		ck.do("/v1/titles", 201, req(b.Token, "POST", "/v1/titles", map[string]any{"kind": "movie", "title": "Matrix of B", "status": "published", "genres": []string{"b-genre"}}))

		season := ck.do("/v1/titles/:id/seasons", 201, req(a.Token, "POST", "/v1/titles/"+series+"/seasons", map[string]any{"number": 1, "name": "Season One"})).Str(t, "id")
		ep := ck.do("/v1/titles/:id/seasons/:season/episodes", 201, req(a.Token, "POST", "/v1/titles/"+series+"/seasons/"+season+"/episodes", map[string]any{"number": 1, "name": "From Pole to Pole", "runtime_minutes": 50})).Str(t, "id")
		ck.do("/v1/titles/:id/seasons/:season/episodes/:episode", 200, req(a.Token, "PUT", "/v1/titles/"+series+"/seasons/"+season+"/episodes/"+ep, map[string]any{"number": 1, "name": "Pole to Pole"}))
		ck.do("/v1/titles/:id/seasons/:season", 200, req(a.Token, "PUT", "/v1/titles/"+series+"/seasons/"+season, map[string]any{"number": 1, "name": "S1"}))
		tree := ck.do("/v1/titles/:id/seasons", 200, req(a.Token, "GET", "/v1/titles/"+series+"/seasons", nil)).JSON(t)["data"].([]any)
		if len(tree) != 1 || tree[0].(map[string]any)["name"] != "S1" || len(tree[0].(map[string]any)["episodes"].([]any)) != 1 {
			t.Errorf("season tree %v", tree)
		}
		wantProblem(t, s.Do(t, req(a.Token, "POST", "/v1/titles/"+series+"/seasons", map[string]any{"number": 1})), 409, "season_exists", "")
		wantProblem(t, s.Do(t, req(a.Token, "POST", "/v1/titles/"+mid+"/seasons", map[string]any{"number": 1})), 409, "not_a_series", "")

		ck.do("/v1/titles/:id", 200, req(a.Token, "GET", "/v1/titles/"+mid, nil))
		movie["synopsis"] = "Updated."
		ck.do("/v1/titles/:id", 200, req(a.Token, "PUT", "/v1/titles/"+mid, movie))
		// Uploaded artwork: stored, public, and kept when the title is
		// written back as read.
		png := tinyPNG(t)
		art := ck.do("/v1/titles/:id/artwork/:kind", 200, cptest.Request{Method: "PUT", Path: "/v1/titles/" + mid + "/artwork/poster", Token: a.Token, Body: png, ContentType: "image/png"}).JSON(t)
		poster := art["artwork"].(map[string]any)["poster"].(string)
		if !strings.HasPrefix(poster, "/v1/public/artwork/"+a.TenantID+"/"+mid+"/poster-") {
			t.Fatalf("poster %q", poster)
		}
		img := ck.do("/v1/public/artwork/:tenant/:title/:name", 200, cptest.Request{Method: "GET", Path: poster})
		if string(img.Body) != string(png) || img.Header.Get("Content-Type") != "image/png" {
			t.Errorf("public poster: %s %d bytes", img.Header.Get("Content-Type"), len(img.Body))
		}
		movie["artwork"] = map[string]string{"poster": poster}
		if got := s.Must(t, 200, req(a.Token, "PUT", "/v1/titles/"+mid, movie)).JSON(t)["artwork"].(map[string]any)["poster"]; got != poster {
			t.Errorf("poster after write-back: %v", got)
		}
		wantProblem(t, s.Do(t, cptest.Request{Method: "PUT", Path: "/v1/titles/" + mid + "/artwork/poster", Token: a.Token, Body: []byte("<svg/>"), ContentType: "image/svg+xml"}), 400, "unsupported_media_type", "")
		wantProblem(t, s.Do(t, cptest.Request{Method: "PUT", Path: "/v1/titles/" + mid + "/artwork/poster", Token: a.Token, Body: []byte("not a png"), ContentType: "image/png"}), 400, "invalid_image", "")
		wantProblem(t, s.Do(t, cptest.Request{Method: "GET", Path: "/v1/public/artwork/" + a.TenantID + "/" + mid + "/../../x"}), 404, "not_found", "")
		ck.do("/v1/titles", 200, req(a.Token, "GET", "/v1/titles?limit=1", nil))
		ck.do("/v1/titles", 200, req(a.Token, "GET", "/v1/titles?kind=series", nil))

		col := ck.do("/v1/collections", 201, req(a.Token, "POST", "/v1/collections", map[string]any{"name": "Featured", "status": "published", "title_ids": []string{series, mid}})).Str(t, "id")
		ck.do("/v1/collections/:id", 200, req(a.Token, "PUT", "/v1/collections/"+col, map[string]any{"name": "Featured", "title_ids": []string{mid, series}}))
		ck.do("/v1/collections/:id", 200, req(a.Token, "GET", "/v1/collections/"+col, nil))
		ck.do("/v1/collections", 200, req(a.Token, "GET", "/v1/collections", nil))
		row := ck.do("/v1/collections/:id/titles", 200, req(a.Token, "GET", "/v1/collections/"+col+"/titles?country=DE", nil)).JSON(t)["data"].([]any)
		if len(row) != 1 || row[0].(map[string]any)["id"] != series {
			t.Errorf("row in DE: %v (the movie is blocked in DE)", row)
		}
		wantProblem(t, s.Do(t, req(b.Token, "PUT", "/v1/collections/"+col, map[string]any{"name": "x", "title_ids": []string{}})), 404, "not_found", "")
		// B cannot put A's title in its own collection.
		wantProblem(t, s.Do(t, req(b.Token, "POST", "/v1/collections", map[string]any{"name": "x", "title_ids": []string{mid}})), 400, "invalid_request", "title_ids")

		res := ck.do("/v1/search", 200, req(a.Token, "GET", "/v1/search?q=matrx&country=US", nil)).JSON(t)
		hits := res["data"].([]any)
		if len(hits) != 1 || hits[0].(map[string]any)["id"] != mid || res["total"].(float64) != 1 {
			t.Errorf("A's search: %v", res)
		}
		res = ck.do("/v1/search", 200, req(b.Token, "GET", "/v1/search?q=matrix&country=US", nil)).JSON(t)
		for _, h := range res["data"].([]any) {
			if h.(map[string]any)["id"] == mid {
				t.Errorf("B found A's title")
			}
		}
		if strings.Contains(string(s.Do(t, req(b.Token, "GET", "/v1/search?country=US", nil)).Body), "sci-fi") {
			t.Error("B's facets count A's genre")
		}
		res = ck.do("/v1/search", 200, req(a.Token, "GET", "/v1/search?"+url.Values{"genre": {"documentary"}, "limit": {"1"}}.Encode(), nil)).JSON(t)
		if res["total"].(float64) != 1 || res["next_cursor"] != nil {
			t.Errorf("genre search: %v", res)
		}
		wantProblem(t, s.Do(t, req(a.Token, "GET", "/v1/search?max_rating=XX", nil)), 400, "invalid_request", "max_rating")
		wantProblem(t, s.Do(t, req(a.Token, "GET", "/v1/search?year=abc", nil)), 400, "invalid_request", "year")
		wantProblem(t, s.Do(t, req(a.Token, "GET", "/v1/search?q="+strings.Repeat("a", 300), nil)), 400, "invalid_request", "q")

		ev := map[string]any{"events": []map[string]any{
			{"id": "ev-1", "viewer_id": "viewer-1", "type": "play", "title_id": mid, "duration_seconds": 100},
			{"id": "ev-2", "viewer_id": "viewer-1", "type": "progress", "title_id": mid, "position_seconds": 30, "duration_seconds": 100},
		}}
		acc := ck.do("/v1/viewer-events", 200, req(a.Token, "POST", "/v1/viewer-events", ev)).JSON(t)
		if acc["recorded"].(float64) != 2 {
			t.Errorf("recorded %v", acc)
		}
		if acc := s.Must(t, 200, req(a.Token, "POST", "/v1/viewer-events", ev)).JSON(t); acc["recorded"].(float64) != 0 {
			t.Errorf("retried events recorded again: %v", acc)
		}
		ck.do("/v1/viewers/:viewer/history", 200, req(a.Token, "GET", "/v1/viewers/viewer-1/history", nil))
		cw := ck.do("/v1/viewers/:viewer/continue-watching", 200, req(a.Token, "GET", "/v1/viewers/viewer-1/continue-watching?country=US", nil)).JSON(t)["data"].([]any)
		if len(cw) != 1 {
			t.Errorf("continue watching %v", cw)
		}
		wantProblem(t, s.Do(t, req(b.Token, "GET", "/v1/viewers/viewer-1/history", nil)), 404, "not_found", "")
		wantProblem(t, s.Do(t, req(b.Token, "POST", "/v1/viewer-events", ev)), 400, "invalid_request", "events.title_id")

		csv := "title,kind,status,release_year\nGood,movie,published,2001\nBad,movie,published,1700\n"
		rep := ck.do("/v1/titles/import", 200, cptest.Request{Method: "POST", Path: "/v1/titles/import", Token: a.Token, Body: csv, ContentType: "text/csv"}).JSON(t)
		if rep["created"].(float64) != 1 || len(rep["refused"].([]any)) != 1 {
			t.Errorf("import report %v", rep)
		}
		ck.do("/v1/titles/import", 200, req(a.Token, "POST", "/v1/titles/import", map[string]any{"titles": []map[string]any{{"kind": "movie", "title": "From JSON"}}}))
		ck.do("/v1/titles/export", 200, req(a.Token, "GET", "/v1/titles/export", nil))
		out := s.Must(t, 200, req(a.Token, "GET", "/v1/titles/export?format=csv", nil))
		if ct := out.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || strings.Count(string(out.Body), "\n") != 5 {
			t.Errorf("csv export %q: %s", ct, out.Body)
		}
		wantProblem(t, s.Do(t, cptest.Request{Method: "POST", Path: "/v1/titles/import", Token: a.Token, Body: "x", ContentType: "text/plain"}), 400, "unsupported_media_type", "")

		ck.do("/v1/titles/:id/seasons/:season/episodes/:episode", 204, req(a.Token, "DELETE", "/v1/titles/"+series+"/seasons/"+season+"/episodes/"+ep, nil))
		ck.do("/v1/titles/:id/seasons/:season", 204, req(a.Token, "DELETE", "/v1/titles/"+series+"/seasons/"+season, nil))
		ck.do("/v1/collections/:id", 204, req(a.Token, "DELETE", "/v1/collections/"+col, nil))
		ck.do("/v1/titles/:id", 204, req(a.Token, "DELETE", "/v1/titles/"+mid, nil))
		wantProblem(t, s.Do(t, req(a.Token, "GET", "/v1/titles/"+mid, nil)), 404, "not_found", "")
		// The deleted title leaves search, and the vocabulary with it.
		if res := s.Must(t, 200, req(a.Token, "GET", "/v1/search?q=matrx&country=US", nil)).JSON(t); res["total"].(float64) != 0 {
			t.Errorf("deleted title still found: %v", res)
		}

		for _, r := range s.App.Server().Routes() {
			if r.Object != "catalog" || strings.Contains(r.Path, "recommendations") || strings.HasSuffix(r.Path, "/similar") {
				continue // TestRecommendations checks those
			}
			if p := r.Method + " " + fiberParamRE.ReplaceAllString(r.Path, "{$1}"); !ck.checked[p] {
				t.Errorf("catalog route %s has no checked success response", p)
			}
		}
	})
}
