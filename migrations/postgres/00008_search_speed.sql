-- Search speed (see bench/RESULTS.md, catalog). Measured with EXPLAIN
-- (ANALYZE, BUFFERS) on 100,000 titles of one tenant among 1,000,000:
--
-- * catalog_match returned ids only, so a word in 20,000 titles read them
--   twice: a bitmap scan of the text index, then 20,000 primary-key probes
--   (over a third of the time). catalog_match_titles returns the rows
--   themselves from the one bitmap scan: the columns search reads, not the
--   wide ones (credits, synopsis, search_doc), since a function's rows are
--   copied into a tuple store first.
-- * A genre browse with no text read every title of the tenant through the
--   primary key (26,000 pages for 9,000 rows): genres have no index, and
--   under row-level security none could serve (jsonb's @> is not
--   LEAKPROOF). catalog_genre_titles reads the genre's rows through a
--   tenant-first GIN index on genres.
--
-- Both apply the tenant wall themselves, like catalog_match (00006): they
-- run as their owner, who is not subject to the policies, and return only
-- the acting tenant's rows. The search keeps all its own conditions
-- (visibility, facets, genres_key) on what they return.

-- +goose Up
CREATE INDEX titles_genres_idx ON titles USING gin (tenant_id, genres jsonb_path_ops);

-- +goose StatementBegin
CREATE FUNCTION catalog_match_titles(q tsquery) RETURNS TABLE (tenant_id text, id text, kind text, status text, release_year integer, rating text, rating_age integer,
        available_from timestamptz, available_until timestamptz, allowed_countries text, blocked_countries text,
        genres_key text, cast_key text, genres jsonb, cast_names jsonb, search_title text, search_people text, search_synopsis text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public ROWS 2000 AS
$f$ SELECT t.tenant_id, t.id, t.kind, t.status, t.release_year, t.rating, t.rating_age, t.available_from, t.available_until,
    t.allowed_countries, t.blocked_countries, t.genres_key, t.cast_key, t.genres, t.cast_names, t.search_title, t.search_people, t.search_synopsis
    FROM public.titles t WHERE t.tenant_id = public.marquee_tenant() AND t.search_doc @@ q $f$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION catalog_genre_titles(genre text) RETURNS TABLE (tenant_id text, id text, kind text, status text, release_year integer, rating text, rating_age integer,
        available_from timestamptz, available_until timestamptz, allowed_countries text, blocked_countries text,
        genres_key text, cast_key text, genres jsonb, cast_names jsonb, search_title text, search_people text, search_synopsis text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public ROWS 5000 AS
$f$ SELECT t.tenant_id, t.id, t.kind, t.status, t.release_year, t.rating, t.rating_age, t.available_from, t.available_until,
    t.allowed_countries, t.blocked_countries, t.genres_key, t.cast_key, t.genres, t.cast_names, t.search_title, t.search_people, t.search_synopsis
    FROM public.titles t WHERE t.tenant_id = public.marquee_tenant() AND t.genres @> jsonb_build_array(genre) $f$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION catalog_match_titles(tsquery), catalog_genre_titles(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_match_titles(tsquery), catalog_genre_titles(text) TO marquee_app;

-- +goose Down
DROP FUNCTION catalog_match_titles(tsquery), catalog_genre_titles(text);
DROP INDEX titles_genres_idx;
