package api

import (
	"bytes"
	"io"
	"maps"
	"mime"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/marquee-video/marquee/controlplane/catalog"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/tenants"
)

// Param kinds of the catalog routes.
const (
	ParamTitle      = "title"
	ParamSeason     = "season"
	ParamEpisode    = "episode"
	ParamCollection = "collection"
	ParamViewer     = "viewer"
	// ParamArtworkKind is poster or backdrop; ParamArtworkFile an uploaded
	// image's file name.
	ParamArtworkKind = "artwork_kind"
	ParamArtworkFile = "artwork_file"
)

// catalogRoutes registers the catalog, search and viewer-activity routes.
func (s *Server) catalogRoutes() []Route {
	if s.cfg.Catalog == nil {
		return nil
	}
	title := map[string]string{"id": ParamTitle}
	season := map[string]string{"id": ParamTitle, "season": ParamSeason}
	episode := map[string]string{"id": ParamTitle, "season": ParamSeason, "episode": ParamEpisode}
	collection := map[string]string{"id": ParamCollection}
	viewer := map[string]string{"viewer": ParamViewer}
	rs := []Route{
		{Method: "POST", Path: "/v1/titles", Summary: "Create a title (movie or series); drafts until published", Object: "catalog", Action: "write", Request: "TitleInput", Response: "Title", Status: 201, Idempotent: true, Handler: s.createTitle},
		{Method: "GET", Path: "/v1/titles", Summary: "List titles, drafts included", Object: "catalog", Action: "read", Query: []string{"limit", "cursor", "kind", "status"}, Response: "TitleList", Status: 200, Handler: s.listTitles},
		{Method: "GET", Path: "/v1/titles/export", Summary: "Export every title as JSON ({\"titles\": [...]}) or, with format=csv, as text/csv", Object: "catalog", Action: "read", Query: []string{"format"}, Response: "TitleImport", Status: 200, Handler: s.exportTitles},
		{Method: "POST", Path: "/v1/titles/import", Summary: "Import titles from JSON ({\"titles\": [...]}) or a text/csv body; each row is validated alone and refused rows are reported", Object: "catalog", Action: "write", Request: "TitleImport", Response: "ImportReport", Status: 200, Idempotent: true, Handler: s.importTitles},
		{Method: "GET", Path: "/v1/titles/:id", Summary: "A title", Object: "catalog", Action: "read", Params: title, Response: "Title", Status: 200, Handler: s.getTitle},
		{Method: "PUT", Path: "/v1/titles/:id", Summary: "Replace a title's metadata, availability, monetization and status", Object: "catalog", Action: "write", Params: title, Request: "TitleInput", Response: "Title", Status: 200, Handler: s.putTitle},
		{Method: "DELETE", Path: "/v1/titles/:id", Summary: "Delete a title with its seasons and episodes", Object: "catalog", Action: "delete", Params: title, Status: 204, Handler: s.deleteTitle},
		{Method: "PUT", Path: "/v1/titles/:id/artwork/:kind", Summary: "Upload the title's poster or backdrop (raw PNG, JPEG or WebP bytes, at most 1 MiB)", Object: "catalog", Action: "write", Params: map[string]string{"id": ParamTitle, "kind": ParamArtworkKind}, Request: "binary", Response: "Title", Status: 200, Handler: s.putArtwork},
		{Method: "GET", Path: "/v1/public/artwork/:tenant/:title/:name", Summary: "An uploaded poster or backdrop, for storefronts", Params: map[string]string{"tenant": ParamTenant, "title": ParamTitle, "name": ParamArtworkFile}, Response: "binary", Status: 200, Handler: s.publicArtwork},
		{Method: "GET", Path: "/v1/titles/:id/seasons", Summary: "A series' seasons, each with its episodes", Object: "catalog", Action: "read", Params: title, Response: "SeasonList", Status: 200, Handler: s.listSeasons},
		{Method: "POST", Path: "/v1/titles/:id/seasons", Summary: "Add a season to a series", Object: "catalog", Action: "write", Params: title, Request: "SeasonInput", Response: "Season", Status: 201, Idempotent: true, Handler: s.createSeason},
		{Method: "PUT", Path: "/v1/titles/:id/seasons/:season", Summary: "Replace a season", Object: "catalog", Action: "write", Params: season, Request: "SeasonInput", Response: "Season", Status: 200, Handler: s.putSeason},
		{Method: "DELETE", Path: "/v1/titles/:id/seasons/:season", Summary: "Delete a season and its episodes", Object: "catalog", Action: "delete", Params: season, Status: 204, Handler: s.deleteSeason},
		{Method: "POST", Path: "/v1/titles/:id/seasons/:season/episodes", Summary: "Add an episode to a season", Object: "catalog", Action: "write", Params: season, Request: "EpisodeInput", Response: "Episode", Status: 201, Idempotent: true, Handler: s.createEpisode},
		{Method: "PUT", Path: "/v1/titles/:id/seasons/:season/episodes/:episode", Summary: "Replace an episode", Object: "catalog", Action: "write", Params: episode, Request: "EpisodeInput", Response: "Episode", Status: 200, Handler: s.putEpisode},
		{Method: "DELETE", Path: "/v1/titles/:id/seasons/:season/episodes/:episode", Summary: "Delete an episode", Object: "catalog", Action: "delete", Params: episode, Status: 204, Handler: s.deleteEpisode},

		{Method: "POST", Path: "/v1/collections", Summary: "Create a collection (a curated storefront row)", Object: "catalog", Action: "write", Request: "CollectionInput", Response: "Collection", Status: 201, Idempotent: true, Handler: s.createCollection},
		{Method: "GET", Path: "/v1/collections", Summary: "List collections", Object: "catalog", Action: "read", Query: []string{"limit", "cursor"}, Response: "CollectionList", Status: 200, Handler: s.listCollections},
		{Method: "GET", Path: "/v1/collections/:id", Summary: "A collection", Object: "catalog", Action: "read", Params: collection, Response: "Collection", Status: 200, Handler: s.getCollection},
		{Method: "GET", Path: "/v1/collections/:id/titles", Summary: "A collection's titles in order; with country or max_rating, only those that viewer may watch now", Object: "catalog", Action: "read", Params: collection, Query: []string{"country", "max_rating"}, Response: "TitleList", Status: 200, Handler: s.collectionTitles},
		{Method: "PUT", Path: "/v1/collections/:id", Summary: "Replace a collection", Object: "catalog", Action: "write", Params: collection, Request: "CollectionInput", Response: "Collection", Status: 200, Handler: s.putCollection},
		{Method: "DELETE", Path: "/v1/collections/:id", Summary: "Delete a collection (its titles stay)", Object: "catalog", Action: "delete", Params: collection, Status: 204, Handler: s.deleteCollection},

		{Method: "GET", Path: "/v1/search", Summary: "Search the published titles a viewer may watch now: ranked, prefix and typo tolerant, with facet counts", Object: "catalog", Action: "read", Query: []string{"q", "genre", "year", "rating", "kind", "cast", "country", "max_rating", "limit", "cursor"}, Response: "SearchResults", Status: 200, Handler: s.search},

		{Method: "POST", Path: "/v1/viewer-events", Summary: "Record viewers' play, progress and complete events (a repeated event id counts once)", Object: "catalog", Action: "write", Request: "ViewerEvents", Response: "ViewerEventsAccepted", Status: 200, Idempotent: true, Handler: s.recordViewerEvents},
		{Method: "GET", Path: "/v1/viewers/:viewer/history", Summary: "A viewer's watch history, most recent first", Object: "catalog", Action: "read", Params: viewer, Query: []string{"profile_id", "limit", "cursor"}, Response: "WatchList", Status: 200, Handler: s.viewerHistory},
		{Method: "GET", Path: "/v1/viewers/:viewer/continue-watching", Summary: "A viewer's unfinished titles that the viewer may still watch", Object: "catalog", Action: "read", Params: viewer, Query: []string{"profile_id", "country", "max_rating", "limit"}, Response: "WatchList", Status: 200, Handler: s.continueWatching},
	}
	if s.cfg.Recommendations != nil {
		rs = append(rs, []Route{
			{Method: "GET", Path: "/v1/viewers/:viewer/recommendations", Summary: "Titles for a viewer profile, from the tenant's model; never watched ones nor ones the viewer may not watch now", Object: "catalog", Action: "read", Params: viewer, Query: []string{"profile_id", "country", "max_rating", "limit"}, Response: "RecommendationList", Status: 200, Handler: s.viewerRecommendations},
			{Method: "GET", Path: "/v1/titles/:id/similar", Summary: "Titles like this one that the viewer may watch now", Object: "catalog", Action: "read", Params: title, Query: []string{"country", "max_rating", "limit"}, Response: "RecommendationList", Status: 200, Handler: s.similarTitles},
			{Method: "GET", Path: "/v1/recommendations/trending", Summary: "Trending titles the viewer may watch now (for viewers without history)", Object: "catalog", Action: "read", Query: []string{"country", "max_rating", "limit"}, Response: "RecommendationList", Status: 200, Handler: s.trendingTitles},
			{Method: "GET", Path: "/v1/recommendations/model", Summary: "The tenant's recommendation model: when it was built and from what", Object: "catalog", Action: "read", Response: "RecommendationModel", Status: 200, Handler: s.recommendationModel},
			{Method: "POST", Path: "/v1/recommendations/rebuild", Summary: "Queue a rebuild of the tenant's recommendation model (they also rebuild on a schedule)", Object: "catalog", Action: "write", Response: "RebuildQueued", Status: 202, Handler: s.rebuildRecommendations},
		}...)
	}
	return rs
}

func recoLimit(c *fiber.Ctx) (int, error) {
	if v := c.Query("limit"); v != "" {
		n, err := parseInt(v)
		if err != nil || n < 1 || n > 100 {
			return 0, errs.Field("limit", "limit must be between 1 and 100")
		}
		return n, nil
	}
	return 20, nil
}

func (s *Server) viewerRecommendations(c *fiber.Ctx) error {
	n, err := recoLimit(c)
	if err != nil {
		return err
	}
	v := catalog.Viewer{Country: c.Query("country"), MaxRating: c.Query("max_rating")}
	rs, err := s.cfg.Recommendations.ForViewer(c.UserContext(), acting(c).ID, c.Params("viewer"), c.Query("profile_id"), v, n)
	if err != nil {
		return err
	}
	return c.JSON(rs)
}

func (s *Server) similarTitles(c *fiber.Ctx) error {
	n, err := recoLimit(c)
	if err != nil {
		return err
	}
	v := catalog.Viewer{Country: c.Query("country"), MaxRating: c.Query("max_rating")}
	rs, err := s.cfg.Recommendations.Similar(c.UserContext(), acting(c).ID, c.Params("id"), v, n)
	if err != nil {
		return err
	}
	return c.JSON(rs)
}

func (s *Server) trendingTitles(c *fiber.Ctx) error {
	n, err := recoLimit(c)
	if err != nil {
		return err
	}
	v := catalog.Viewer{Country: c.Query("country"), MaxRating: c.Query("max_rating")}
	rs, err := s.cfg.Recommendations.Trending(c.UserContext(), acting(c).ID, v, n)
	if err != nil {
		return err
	}
	return c.JSON(rs)
}

func (s *Server) recommendationModel(c *fiber.Ctx) error {
	m, err := s.cfg.Recommendations.Model(c.UserContext(), acting(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

// RebuildWindow is how long repeated rebuild requests of one tenant share
// one queued task.
const RebuildWindow = time.Minute

func (s *Server) rebuildRecommendations(c *fiber.Ctx) error {
	if err := s.cfg.Recommendations.Enqueue(c.UserContext(), acting(c).ID, RebuildWindow); err != nil {
		return err
	}
	return c.Status(202).JSON(fiber.Map{"status": "queued"})
}

func (s *Server) createTitle(c *fiber.Ctx) error {
	var in catalog.TitleInput
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.ID != "" {
		return errs.Field("id", "ids are assigned by the API")
	}
	t, err := s.cfg.Catalog.CreateTitle(c.UserContext(), acting(c).ID, in)
	if err != nil {
		return err
	}
	return c.Status(201).JSON(t)
}

// pageOf lists one page of items fetched limit+1 at a time.
func pageOf[T any](items []T, limit int, id func(T) string) List[T] {
	next := ""
	if len(items) > limit {
		items = items[:limit]
		next = tenants.Cursor(id(items[len(items)-1]))
	}
	return list(items, next)
}

func (s *Server) listTitles(c *fiber.Ctx) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	f := catalog.TitleFilter{Kind: catalog.Kind(c.Query("kind")), Status: catalog.Status(c.Query("status"))}
	ts, err := s.cfg.Catalog.Titles(c.UserContext(), acting(c).ID, f, p.Limit+1, p.After)
	if err != nil {
		return err
	}
	return c.JSON(pageOf(ts, p.Limit, func(t catalog.Title) string { return t.ID }))
}

func (s *Server) getTitle(c *fiber.Ctx) error {
	t, err := s.cfg.Catalog.Title(c.UserContext(), acting(c).ID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(t)
}

func (s *Server) putTitle(c *fiber.Ctx) error {
	var in catalog.TitleInput
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.ID != "" && in.ID != c.Params("id") {
		return errs.Field("id", "id must be the title's own or left out")
	}
	t, err := s.cfg.Catalog.UpdateTitle(c.UserContext(), acting(c).ID, c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(t)
}

func (s *Server) deleteTitle(c *fiber.Ctx) error {
	if err := s.cfg.Catalog.DeleteTitle(c.UserContext(), acting(c).ID, c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(204)
}

// bulkFormat is the format of an import body or an export: the format
// query parameter, else the body's content type.
func bulkFormat(c *fiber.Ctx, body bool) (string, error) {
	f := strings.ToLower(c.Query("format"))
	if f == "" && body {
		mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
		switch mt {
		case "text/csv":
			f = catalog.FormatCSV
		case "", "application/json":
			f = catalog.FormatJSON
		default:
			return "", errs.E(errs.Invalid, "unsupported_media_type", "send the import as application/json or text/csv")
		}
	}
	if f == "" {
		f = catalog.FormatJSON
	}
	if f != catalog.FormatJSON && f != catalog.FormatCSV {
		return "", errs.Field("format", "format must be json or csv")
	}
	return f, nil
}

func (s *Server) importTitles(c *fiber.Ctx) error {
	f, err := bulkFormat(c, true)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(c.Body())) == 0 {
		return errs.E(errs.Invalid, "invalid_request", "the import body is empty")
	}
	rep, err := s.cfg.Catalog.Import(c.UserContext(), acting(c).ID, f, c.Body())
	if err != nil {
		return err
	}
	return c.JSON(rep)
}

func (s *Server) exportTitles(c *fiber.Ctx) error {
	f, err := bulkFormat(c, false)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := s.cfg.Catalog.Export(c.UserContext(), acting(c).ID, f, &buf); err != nil {
		return err
	}
	if f == catalog.FormatCSV {
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="titles.csv"`)
	} else {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	}
	return c.Send(buf.Bytes())
}

func (s *Server) putArtwork(c *fiber.Ctx) error {
	t, err := s.cfg.Catalog.SetArtwork(c.UserContext(), acting(c).ID, c.Params("id"), c.Params("kind"), c.Get(fiber.HeaderContentType), c.Body())
	if err != nil {
		return err
	}
	return c.JSON(t)
}

func (s *Server) publicArtwork(c *fiber.Ctx) error {
	r, ct, err := s.cfg.Catalog.Artwork(c.UserContext(), c.Params("tenant"), c.Params("title"), c.Params("name"))
	if err != nil {
		return err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, catalog.MaxArtworkBytes+1))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, ct)
	c.Set("X-Content-Type-Options", "nosniff")
	// The file name changes with every upload, so a copy never goes stale.
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	return c.Send(b)
}

func (s *Server) listSeasons(c *fiber.Ctx) error {
	ss, err := s.cfg.Catalog.Seasons(c.UserContext(), acting(c).ID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(list(ss, ""))
}

func (s *Server) createSeason(c *fiber.Ctx) error {
	var in catalog.SeasonInput
	if err := decode(c, &in); err != nil {
		return err
	}
	se, err := s.cfg.Catalog.CreateSeason(c.UserContext(), acting(c).ID, c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.Status(201).JSON(se)
}

func (s *Server) putSeason(c *fiber.Ctx) error {
	var in catalog.SeasonInput
	if err := decode(c, &in); err != nil {
		return err
	}
	se, err := s.cfg.Catalog.UpdateSeason(c.UserContext(), acting(c).ID, c.Params("id"), c.Params("season"), in)
	if err != nil {
		return err
	}
	return c.JSON(se)
}

func (s *Server) deleteSeason(c *fiber.Ctx) error {
	if err := s.cfg.Catalog.DeleteSeason(c.UserContext(), acting(c).ID, c.Params("id"), c.Params("season")); err != nil {
		return err
	}
	return c.SendStatus(204)
}

func (s *Server) createEpisode(c *fiber.Ctx) error {
	var in catalog.EpisodeInput
	if err := decode(c, &in); err != nil {
		return err
	}
	e, err := s.cfg.Catalog.CreateEpisode(c.UserContext(), acting(c).ID, c.Params("id"), c.Params("season"), in)
	if err != nil {
		return err
	}
	return c.Status(201).JSON(e)
}

func (s *Server) putEpisode(c *fiber.Ctx) error {
	var in catalog.EpisodeInput
	if err := decode(c, &in); err != nil {
		return err
	}
	e, err := s.cfg.Catalog.UpdateEpisode(c.UserContext(), acting(c).ID, c.Params("id"), c.Params("season"), c.Params("episode"), in)
	if err != nil {
		return err
	}
	return c.JSON(e)
}

func (s *Server) deleteEpisode(c *fiber.Ctx) error {
	if err := s.cfg.Catalog.DeleteEpisode(c.UserContext(), acting(c).ID, c.Params("id"), c.Params("season"), c.Params("episode")); err != nil {
		return err
	}
	return c.SendStatus(204)
}

func (s *Server) createCollection(c *fiber.Ctx) error {
	var in catalog.CollectionInput
	if err := decode(c, &in); err != nil {
		return err
	}
	col, err := s.cfg.Catalog.CreateCollection(c.UserContext(), acting(c).ID, in)
	if err != nil {
		return err
	}
	return c.Status(201).JSON(col)
}

func (s *Server) listCollections(c *fiber.Ctx) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	cs, err := s.cfg.Catalog.Collections(c.UserContext(), acting(c).ID, p.Limit+1, p.After)
	if err != nil {
		return err
	}
	return c.JSON(pageOf(cs, p.Limit, func(c catalog.Collection) string { return c.ID }))
}

func (s *Server) getCollection(c *fiber.Ctx) error {
	col, err := s.cfg.Catalog.Collection(c.UserContext(), acting(c).ID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(col)
}

// viewerOf reads the viewer's country and rating limit from the query;
// nil when neither is given.
func viewerOf(c *fiber.Ctx) *catalog.Viewer {
	v := catalog.Viewer{Country: c.Query("country"), MaxRating: c.Query("max_rating")}
	if v == (catalog.Viewer{}) {
		return nil
	}
	return &v
}

func (s *Server) collectionTitles(c *fiber.Ctx) error {
	ts, err := s.cfg.Catalog.CollectionTitles(c.UserContext(), acting(c).ID, c.Params("id"), viewerOf(c))
	if err != nil {
		return err
	}
	return c.JSON(list(ts, ""))
}

func (s *Server) putCollection(c *fiber.Ctx) error {
	var in catalog.CollectionInput
	if err := decode(c, &in); err != nil {
		return err
	}
	col, err := s.cfg.Catalog.UpdateCollection(c.UserContext(), acting(c).ID, c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(col)
}

func (s *Server) deleteCollection(c *fiber.Ctx) error {
	if err := s.cfg.Catalog.DeleteCollection(c.UserContext(), acting(c).ID, c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(204)
}

// offsetPage reads limit and an offset cursor (search and history pages
// are ranked or ordered by time, not by id).
func offsetPage(c *fiber.Ctx) (limit, offset int, err error) {
	p, err := page(c)
	if err != nil {
		return 0, 0, err
	}
	if p.After != "" {
		n, err := parseInt(p.After)
		if err != nil {
			return 0, 0, errs.E(errs.Invalid, "invalid_cursor", "cursor is not one this API issued")
		}
		offset = n
	}
	return p.Limit, offset, nil
}

// SearchResults is a page of search hits with the total and the facets.
type SearchResults struct {
	Data       []catalog.Hit  `json:"data"`
	Total      int            `json:"total"`
	Facets     catalog.Facets `json:"facets"`
	NextCursor *string        `json:"next_cursor"`
}

func (s *Server) search(c *fiber.Ctx) error {
	limit, offset, err := offsetPage(c)
	if err != nil {
		return err
	}
	q := catalog.SearchQuery{
		Q: c.Query("q"), Genre: c.Query("genre"), Cast: c.Query("cast"), Kind: catalog.Kind(c.Query("kind")), Rating: c.Query("rating"),
		Viewer: catalog.Viewer{Country: c.Query("country"), MaxRating: c.Query("max_rating")}, Limit: limit, Offset: offset,
	}
	if y := c.Query("year"); y != "" {
		if q.Year, err = parseInt(y); err != nil {
			return errs.Field("year", "year must be a whole number")
		}
	}
	if c.Query("limit") == "" {
		q.Limit = 20
	}
	res, err := s.cfg.Catalog.Search(c.UserContext(), acting(c).ID, q)
	if err != nil {
		return err
	}
	out := SearchResults{Data: res.Hits, Total: res.Total, Facets: res.Facets}
	if res.Next > 0 {
		next := tenants.Cursor(strconv.Itoa(res.Next))
		out.NextCursor = &next
	}
	return c.JSON(out)
}

// ViewerEvents is the body of POST /v1/viewer-events.
type ViewerEvents struct {
	Events []catalog.ViewerEvent `json:"events"`
}

func (s *Server) recordViewerEvents(c *fiber.Ctx) error {
	var in ViewerEvents
	if err := decode(c, &in); err != nil {
		return err
	}
	n, err := s.cfg.Catalog.RecordEvents(c.UserContext(), acting(c).ID, in.Events)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"received": len(in.Events), "recorded": n})
}

func (s *Server) viewerHistory(c *fiber.Ctx) error {
	limit, offset, err := offsetPage(c)
	if err != nil {
		return err
	}
	ws, err := s.cfg.Catalog.History(c.UserContext(), acting(c).ID, c.Params("viewer"), c.Query("profile_id"), limit+1, offset)
	if err != nil {
		return err
	}
	next := ""
	if len(ws) > limit {
		ws = ws[:limit]
		next = tenants.Cursor(strconv.Itoa(offset + limit))
	}
	return c.JSON(list(ws, next))
}

func (s *Server) continueWatching(c *fiber.Ctx) error {
	limit, _, err := offsetPage(c)
	if err != nil {
		return err
	}
	v := catalog.Viewer{Country: c.Query("country"), MaxRating: c.Query("max_rating")}
	ws, err := s.cfg.Catalog.ContinueWatching(c.UserContext(), acting(c).ID, c.Params("viewer"), c.Query("profile_id"), v, limit)
	if err != nil {
		return err
	}
	return c.JSON(list(ws, ""))
}

// catalogSchemas are the OpenAPI schemas the catalog routes name.
func catalogSchemas() map[string]any {
	str := map[string]any{"type": "string"}
	strOrNull := map[string]any{"type": []string{"string", "null"}}
	timeStr := map[string]any{"type": "string", "format": "date-time"}
	timeNull := map[string]any{"type": []string{"string", "null"}, "format": "date-time"}
	integer := map[string]any{"type": "integer"}
	intNull := map[string]any{"type": []string{"integer", "null"}}
	number := map[string]any{"type": "number", "minimum": 0}
	boolean := map[string]any{"type": "boolean"}
	strList := map[string]any{"type": "array", "items": str}
	kind := map[string]any{"type": "string", "enum": []string{"movie", "series"}}
	status := map[string]any{"type": "string", "enum": []string{"draft", "published"}}
	credit := obj([]string{"name", "role"}, map[string]any{"name": str, "role": map[string]any{"type": "string", "description": "actor for cast; director, writer, … for crew"}, "character": str})
	rating := obj([]string{"system", "value"}, map[string]any{
		"system": map[string]any{"type": "string", "enum": catalog.RatingSystems()},
		"value":  map[string]any{"type": "string", "enum": catalog.RatingLabels()},
	})
	ratingNull := map[string]any{"type": []string{"object", "null"}, "properties": rating["properties"], "required": rating["required"], "additionalProperties": false}
	artwork := obj(nil, map[string]any{"poster": str, "backdrop": str})
	availability := obj(nil, map[string]any{
		"from": timeNull, "until": timeNull,
		"allowed_countries": map[string]any{"type": "array", "items": map[string]any{"type": "string", "pattern": "^[A-Z]{2}$"}, "description": "empty: everywhere not blocked"},
		"blocked_countries": map[string]any{"type": "array", "items": map[string]any{"type": "string", "pattern": "^[A-Z]{2}$"}},
	})
	monetization := obj([]string{"model"}, map[string]any{
		"model": map[string]any{"type": "string", "enum": []string{catalog.ModelFree, catalog.ModelAVOD, catalog.ModelSVOD, catalog.ModelTVOD}},
		"tier":  map[string]any{"type": "string", "description": "svod: the subscription tier that includes the title"},
		"price": obj([]string{"amount", "currency"}, map[string]any{"amount": map[string]any{"type": "integer", "minimum": 1, "description": "minor units (cents)"}, "currency": map[string]any{"type": "string", "pattern": "^[A-Z]{3}$"}}),
	})
	titleProps := map[string]any{
		"id": str, "kind": kind, "status": status, "title": str, "synopsis": str, "genres": strList, "tags": strList,
		"credits": map[string]any{"type": "array", "items": credit}, "release_year": intNull, "runtime_minutes": intNull, "rating": ratingNull,
		"audio_languages": strList, "subtitle_languages": strList, "artwork": artwork, "asset_id": str, "availability": availability,
		"monetization": monetization, "published_at": timeNull, "created_at": timeStr, "updated_at": timeStr,
	}
	titleRequired := []string{"id", "kind", "status", "title", "synopsis", "genres", "tags", "credits", "release_year", "runtime_minutes", "rating",
		"audio_languages", "subtitle_languages", "artwork", "availability", "monetization", "published_at", "created_at", "updated_at"}
	hitProps := maps.Clone(titleProps)
	hitProps["score"] = integer
	inputProps := map[string]any{
		"id": map[string]any{"type": "string", "description": "import only: the id of the title to replace or create"}, "kind": kind, "status": status,
		"title": map[string]any{"type": "string", "minLength": 1, "maxLength": catalog.MaxTitleRunes}, "synopsis": str, "genres": strList, "tags": strList,
		"credits": map[string]any{"type": "array", "items": credit}, "release_year": map[string]any{"type": "integer", "minimum": catalog.MinYear, "maximum": catalog.MaxYear},
		"runtime_minutes": map[string]any{"type": "integer", "minimum": 1}, "rating": rating, "audio_languages": strList, "subtitle_languages": strList,
		"artwork": artwork, "asset_id": str, "availability": availability, "monetization": monetization,
	}
	episodeProps := map[string]any{"id": str, "title_id": str, "season_id": str, "number": integer, "name": str, "synopsis": str, "runtime_minutes": intNull, "asset_id": str, "created_at": timeStr, "updated_at": timeStr}
	episode := obj([]string{"id", "title_id", "season_id", "number", "name", "synopsis", "runtime_minutes", "created_at", "updated_at"}, episodeProps)
	facet := map[string]any{"type": "array", "items": obj([]string{"value", "count"}, map[string]any{"value": str, "count": integer})}
	progress := map[string]any{
		"viewer_id": str, "profile_id": str, "title_id": str, "episode_id": str, "position_seconds": number, "duration_seconds": number,
		"completed": boolean, "plays": integer, "updated_at": timeStr, "title": ref("Title"),
	}
	listOf := func(item string) map[string]any {
		return obj([]string{"data", "next_cursor"}, map[string]any{"data": map[string]any{"type": "array", "items": ref(item)}, "next_cursor": strOrNull})
	}
	return map[string]any{
		"Title":      obj(titleRequired, titleProps),
		"TitleInput": obj([]string{"kind", "title"}, inputProps),
		"TitleList":  listOf("Title"),
		"TitleImport": obj([]string{"titles"}, map[string]any{
			"titles": map[string]any{"type": "array", "items": ref("TitleInput"), "maxItems": catalog.MaxImportRows},
		}),
		"ImportReport": obj([]string{"created", "updated", "refused", "title_ids"}, map[string]any{
			"created": integer, "updated": integer, "title_ids": strList,
			"refused": map[string]any{"type": "array", "items": obj([]string{"row", "code", "message"}, map[string]any{"row": integer, "code": str, "field": str, "message": str})},
		}),
		"SeasonInput": obj([]string{"number"}, map[string]any{"number": map[string]any{"type": "integer", "minimum": 0}, "name": str, "synopsis": str}),
		"Season": obj([]string{"id", "title_id", "number", "name", "synopsis", "episodes", "created_at", "updated_at"}, map[string]any{
			"id": str, "title_id": str, "number": integer, "name": str, "synopsis": str, "episodes": map[string]any{"type": "array", "items": ref("Episode")}, "created_at": timeStr, "updated_at": timeStr,
		}),
		"SeasonList":   listOf("Season"),
		"EpisodeInput": obj([]string{"number"}, map[string]any{"number": map[string]any{"type": "integer", "minimum": 0}, "name": str, "synopsis": str, "runtime_minutes": map[string]any{"type": "integer", "minimum": 1}, "asset_id": str}),
		"Episode":      episode,
		"CollectionInput": obj([]string{"name", "title_ids"}, map[string]any{
			"name": str, "description": str, "status": status, "position": map[string]any{"type": "integer", "minimum": 0}, "title_ids": map[string]any{"type": "array", "items": str, "maxItems": catalog.MaxCollection},
		}),
		"Collection": obj([]string{"id", "name", "description", "status", "position", "title_ids", "created_at", "updated_at"}, map[string]any{
			"id": str, "name": str, "description": str, "status": status, "position": integer, "title_ids": strList, "created_at": timeStr, "updated_at": timeStr,
		}),
		"CollectionList": listOf("Collection"),
		"SearchHit":      obj(append(titleRequired, "score"), hitProps),
		"SearchResults": obj([]string{"data", "total", "facets", "next_cursor"}, map[string]any{
			"data": map[string]any{"type": "array", "items": ref("SearchHit")}, "total": integer, "next_cursor": strOrNull,
			"facets": obj([]string{"genre", "year", "rating", "kind", "cast"}, map[string]any{"genre": facet, "year": facet, "rating": facet, "kind": facet, "cast": facet}),
		}),
		"ViewerEvents": obj([]string{"events"}, map[string]any{"events": map[string]any{"type": "array", "maxItems": catalog.MaxEvents, "items": obj([]string{"viewer_id", "type", "title_id"}, map[string]any{
			"id": map[string]any{"type": "string", "description": "makes a retried event count once"}, "viewer_id": str, "profile_id": str,
			"type":     map[string]any{"type": "string", "enum": []string{catalog.EventPlay, catalog.EventProgress, catalog.EventComplete}},
			"title_id": str, "episode_id": str, "position_seconds": number, "duration_seconds": number, "at": timeStr,
		})}}),
		"ViewerEventsAccepted": obj([]string{"received", "recorded"}, map[string]any{"received": integer, "recorded": map[string]any{"type": "integer", "description": "events not seen before"}}),
		"WatchEntry":           obj([]string{"viewer_id", "profile_id", "title_id", "position_seconds", "duration_seconds", "completed", "plays", "updated_at", "title"}, progress),
		"WatchList":            listOf("WatchEntry"),
		"RecommendationList": obj([]string{"data", "model_built_at"}, map[string]any{
			"data": map[string]any{"type": "array", "items": obj([]string{"title", "score", "reason"}, map[string]any{
				"title": ref("Title"), "score": map[string]any{"type": "number"},
				"reason":  map[string]any{"type": "string", "enum": []string{"because_you_watched", "similar_content", "trending"}},
				"because": map[string]any{"type": "string", "description": "the watched title that earned a because_you_watched recommendation"},
			})},
			"model_built_at": map[string]any{"type": []string{"string", "null"}, "format": "date-time", "description": "null until the tenant's first model is built"},
		}),
		"RecommendationModel": obj([]string{"titles", "viewers", "interactions", "built_at", "build_ms"}, map[string]any{
			"titles": integer, "viewers": integer, "interactions": integer, "cold_titles": integer, "neighbors": integer, "build_ms": integer,
			"built_at": timeStr, "size_bytes": integer, "skipped_events": integer,
		}),
		"RebuildQueued": obj([]string{"status"}, map[string]any{"status": map[string]any{"const": "queued"}}),
	}
}
