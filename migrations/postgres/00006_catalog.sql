-- Catalog and search: titles (movies and series) with their seasons and
-- episodes, curated collections, viewer activity (watch progress), and one
-- recommendation model per tenant.
--
-- Search: the Go code normalizes each title's text into three token strings
-- (search_title, search_people, search_synopsis: lower-case words without
-- diacritics, separated by single spaces), so PostgreSQL and the embedded
-- SQLite (FTS5) see the same tokens. Here they feed a weighted tsvector
-- (A title, B cast/genres/tags, C synopsis) under a tenant-first GIN index
-- (btree_gin). catalog_terms is each tenant's vocabulary with a pg_trgm
-- index, from which typo-tolerant queries pick similar words. The ranking
-- itself is an integer expression the Go code writes for both engines.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;

CREATE TABLE titles (
    tenant_id          text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                 text NOT NULL,
    kind               text NOT NULL CHECK (kind IN ('movie', 'series')),
    status             text NOT NULL CHECK (status IN ('draft', 'published')),
    title              text NOT NULL,
    synopsis           text NOT NULL DEFAULT '',
    genres             jsonb NOT NULL DEFAULT '[]',
    tags               jsonb NOT NULL DEFAULT '[]',
    credits            jsonb NOT NULL DEFAULT '[]',
    release_year       integer,
    runtime_minutes    integer,
    rating_system      text,
    rating             text,
    -- The rating's minimum age, so a profile's limit is one comparison.
    rating_age         integer,
    audio_languages    jsonb NOT NULL DEFAULT '[]',
    subtitle_languages jsonb NOT NULL DEFAULT '[]',
    artwork            jsonb NOT NULL DEFAULT '{}',
    asset_id           text,
    available_from     timestamptz,
    available_until    timestamptz,
    -- '|US|CA|': matched with strpos, the same test on both engines.
    allowed_countries  text NOT NULL DEFAULT '',
    blocked_countries  text NOT NULL DEFAULT '',
    monetization       jsonb NOT NULL DEFAULT '{}',
    genres_key         text NOT NULL DEFAULT '',
    cast_key           text NOT NULL DEFAULT '',
    -- The actors' names as shown, for the cast facet.
    cast_names         jsonb NOT NULL DEFAULT '[]',
    search_title       text NOT NULL DEFAULT '',
    search_people      text NOT NULL DEFAULT '',
    search_synopsis    text NOT NULL DEFAULT '',
    search_doc         tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', search_title), 'A') ||
        setweight(to_tsvector('simple', search_people), 'B') ||
        setweight(to_tsvector('simple', search_synopsis), 'C')) STORED,
    published_at       timestamptz,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX titles_search_idx ON titles USING gin (tenant_id, search_doc);

CREATE TABLE catalog_terms (
    tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    term      text NOT NULL,
    titles    integer NOT NULL CHECK (titles > 0),
    PRIMARY KEY (tenant_id, term)
);
CREATE INDEX catalog_terms_trgm_idx ON catalog_terms USING gin (tenant_id, term gin_trgm_ops);

CREATE TABLE seasons (
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         text NOT NULL,
    title_id   text NOT NULL,
    number     integer NOT NULL CHECK (number >= 0),
    name       text NOT NULL DEFAULT '',
    synopsis   text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, title_id, number),
    FOREIGN KEY (tenant_id, title_id) REFERENCES titles (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE episodes (
    tenant_id       text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id              text NOT NULL,
    title_id        text NOT NULL,
    season_id       text NOT NULL,
    number          integer NOT NULL CHECK (number >= 0),
    name            text NOT NULL DEFAULT '',
    synopsis        text NOT NULL DEFAULT '',
    runtime_minutes integer,
    asset_id        text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, season_id, number),
    FOREIGN KEY (tenant_id, season_id) REFERENCES seasons (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE collections (
    tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          text NOT NULL,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    status      text NOT NULL CHECK (status IN ('draft', 'published')),
    position    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE collection_items (
    tenant_id     text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    collection_id text NOT NULL,
    position      integer NOT NULL,
    title_id      text NOT NULL,
    PRIMARY KEY (tenant_id, collection_id, position),
    FOREIGN KEY (tenant_id, collection_id) REFERENCES collections (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, title_id) REFERENCES titles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX collection_items_title_idx ON collection_items (tenant_id, title_id);

-- Viewer activity. Events are kept by id (a retried event counts once);
-- watch_progress is each viewer profile's latest state per title.
CREATE TABLE viewer_events (
    tenant_id        text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id               text NOT NULL,
    viewer_id        text NOT NULL,
    profile_id       text NOT NULL DEFAULT '',
    title_id         text NOT NULL,
    episode_id       text NOT NULL DEFAULT '',
    type             text NOT NULL CHECK (type IN ('play', 'progress', 'complete')),
    position_seconds double precision NOT NULL DEFAULT 0,
    duration_seconds double precision NOT NULL DEFAULT 0,
    at               timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, title_id) REFERENCES titles (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE watch_progress (
    tenant_id        text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    viewer_id        text NOT NULL,
    profile_id       text NOT NULL DEFAULT '',
    title_id         text NOT NULL,
    episode_id       text NOT NULL DEFAULT '',
    position_seconds double precision NOT NULL DEFAULT 0,
    duration_seconds double precision NOT NULL DEFAULT 0,
    completed        boolean NOT NULL DEFAULT false,
    plays            integer NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, viewer_id, profile_id, title_id),
    FOREIGN KEY (tenant_id, title_id) REFERENCES titles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX watch_progress_recent_idx ON watch_progress (tenant_id, viewer_id, updated_at);

-- One recommendation model per tenant, rebuilt by a queued task.
CREATE TABLE recommendation_models (
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    model      bytea NOT NULL,
    stats      jsonb NOT NULL DEFAULT '{}',
    build_ms   integer NOT NULL DEFAULT 0,
    built_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id)
);

ALTER TABLE titles ENABLE ROW LEVEL SECURITY;
ALTER TABLE titles FORCE ROW LEVEL SECURITY;
CREATE POLICY titles_tenant ON titles USING (marquee_system() OR tenant_id = marquee_tenant());
ALTER TABLE catalog_terms ENABLE ROW LEVEL SECURITY;
ALTER TABLE catalog_terms FORCE ROW LEVEL SECURITY;
CREATE POLICY catalog_terms_tenant ON catalog_terms USING (marquee_system() OR tenant_id = marquee_tenant());
ALTER TABLE seasons ENABLE ROW LEVEL SECURITY;
ALTER TABLE seasons FORCE ROW LEVEL SECURITY;
CREATE POLICY seasons_tenant ON seasons USING (marquee_system() OR tenant_id = marquee_tenant());
ALTER TABLE episodes ENABLE ROW LEVEL SECURITY;
ALTER TABLE episodes FORCE ROW LEVEL SECURITY;
CREATE POLICY episodes_tenant ON episodes USING (marquee_system() OR tenant_id = marquee_tenant());
ALTER TABLE collections ENABLE ROW LEVEL SECURITY;
ALTER TABLE collections FORCE ROW LEVEL SECURITY;
CREATE POLICY collections_tenant ON collections USING (marquee_system() OR tenant_id = marquee_tenant());
ALTER TABLE collection_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE collection_items FORCE ROW LEVEL SECURITY;
CREATE POLICY collection_items_tenant ON collection_items USING (marquee_system() OR tenant_id = marquee_tenant());
ALTER TABLE viewer_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE viewer_events FORCE ROW LEVEL SECURITY;
CREATE POLICY viewer_events_tenant ON viewer_events USING (marquee_system() OR tenant_id = marquee_tenant());
ALTER TABLE watch_progress ENABLE ROW LEVEL SECURITY;
ALTER TABLE watch_progress FORCE ROW LEVEL SECURITY;
CREATE POLICY watch_progress_tenant ON watch_progress USING (marquee_system() OR tenant_id = marquee_tenant());
ALTER TABLE recommendation_models ENABLE ROW LEVEL SECURITY;
ALTER TABLE recommendation_models FORCE ROW LEVEL SECURITY;
CREATE POLICY recommendation_models_tenant ON recommendation_models USING (marquee_system() OR tenant_id = marquee_tenant());

-- Row-level security hides index use from the planner: a policy is a
-- security barrier, so a query's own conditions run after it unless their
-- operators are LEAKPROOF, which @@ (tsvector) and % (pg_trgm) are not.
-- Searched as marquee_app, every match would scan all the tenant's rows.
-- These two functions run as their owner, which is not subject to the
-- policies, and apply the same wall themselves: only the acting tenant's
-- rows (marquee_tenant(), the transaction's app.tenant_id), so the indexes
-- serve and isolation still holds in the database, not only in Go.
-- +goose StatementBegin
CREATE FUNCTION catalog_match(q tsquery) RETURNS TABLE (id text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS
$f$ SELECT t.id FROM public.titles t WHERE t.tenant_id = public.marquee_tenant() AND t.search_doc @@ q $f$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION catalog_similar_terms(word text) RETURNS TABLE (term text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public SET pg_trgm.similarity_threshold = 0.3 AS
$f$ SELECT c.term FROM public.catalog_terms c WHERE c.tenant_id = public.marquee_tenant() AND c.term OPERATOR(public.%) word $f$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION catalog_match(tsquery), catalog_similar_terms(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_match(tsquery), catalog_similar_terms(text) TO marquee_app;

GRANT SELECT, INSERT, UPDATE, DELETE ON titles, catalog_terms, seasons, episodes, collections,
    collection_items, viewer_events, watch_progress, recommendation_models TO marquee_app;

-- +goose Down
DROP FUNCTION catalog_match(tsquery), catalog_similar_terms(text);
DROP TABLE recommendation_models, watch_progress, viewer_events, collection_items, collections, episodes, seasons,
    catalog_terms, titles;
