-- Catalog and search (the same tables as migrations/postgres/00006_catalog.sql,
-- without row-level security). Search uses an FTS5 table over the same
-- normalized token strings PostgreSQL indexes; titles has an explicit integer
-- key (seq) because FTS5's external content is addressed by rowid, and an
-- implicit rowid may change on VACUUM.

-- +goose Up
CREATE TABLE titles (
    seq                INTEGER PRIMARY KEY,
    tenant_id          TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                 TEXT NOT NULL,
    kind               TEXT NOT NULL CHECK (kind IN ('movie', 'series')),
    status             TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    title              TEXT NOT NULL,
    synopsis           TEXT NOT NULL DEFAULT '',
    genres             TEXT NOT NULL DEFAULT '[]',
    tags               TEXT NOT NULL DEFAULT '[]',
    credits            TEXT NOT NULL DEFAULT '[]',
    release_year       INTEGER,
    runtime_minutes    INTEGER,
    rating_system      TEXT,
    rating             TEXT,
    rating_age         INTEGER,
    audio_languages    TEXT NOT NULL DEFAULT '[]',
    subtitle_languages TEXT NOT NULL DEFAULT '[]',
    artwork            TEXT NOT NULL DEFAULT '{}',
    asset_id           TEXT,
    available_from     DATETIME,
    available_until    DATETIME,
    allowed_countries  TEXT NOT NULL DEFAULT '',
    blocked_countries  TEXT NOT NULL DEFAULT '',
    monetization       TEXT NOT NULL DEFAULT '{}',
    genres_key         TEXT NOT NULL DEFAULT '',
    cast_key           TEXT NOT NULL DEFAULT '',
    cast_names         TEXT NOT NULL DEFAULT '[]',
    search_title       TEXT NOT NULL DEFAULT '',
    search_people      TEXT NOT NULL DEFAULT '',
    search_synopsis    TEXT NOT NULL DEFAULT '',
    published_at       DATETIME,
    created_at         DATETIME NOT NULL,
    updated_at         DATETIME NOT NULL,
    UNIQUE (tenant_id, id)
);

CREATE VIRTUAL TABLE titles_fts USING fts5(
    search_title, search_people, search_synopsis,
    content = 'titles', content_rowid = 'seq', tokenize = 'unicode61', prefix = '2 3'
);
-- +goose StatementBegin
CREATE TRIGGER titles_fts_insert AFTER INSERT ON titles BEGIN
    INSERT INTO titles_fts (rowid, search_title, search_people, search_synopsis)
    VALUES (new.seq, new.search_title, new.search_people, new.search_synopsis);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER titles_fts_delete AFTER DELETE ON titles BEGIN
    INSERT INTO titles_fts (titles_fts, rowid, search_title, search_people, search_synopsis)
    VALUES ('delete', old.seq, old.search_title, old.search_people, old.search_synopsis);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER titles_fts_update AFTER UPDATE OF search_title, search_people, search_synopsis ON titles BEGIN
    INSERT INTO titles_fts (titles_fts, rowid, search_title, search_people, search_synopsis)
    VALUES ('delete', old.seq, old.search_title, old.search_people, old.search_synopsis);
    INSERT INTO titles_fts (rowid, search_title, search_people, search_synopsis)
    VALUES (new.seq, new.search_title, new.search_people, new.search_synopsis);
END;
-- +goose StatementEnd

-- The vocabulary, with a trigram index of each word padded as pg_trgm pads
-- it ("__word_", '_' for its spaces): a typo candidate shares a trigram.
CREATE TABLE catalog_terms (
    seq       INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    term      TEXT NOT NULL,
    titles    INTEGER NOT NULL CHECK (titles > 0),
    UNIQUE (tenant_id, term)
);
CREATE VIRTUAL TABLE catalog_terms_fts USING fts5(padded, tokenize = 'trigram');
-- +goose StatementBegin
CREATE TRIGGER catalog_terms_fts_insert AFTER INSERT ON catalog_terms BEGIN
    INSERT INTO catalog_terms_fts (rowid, padded) VALUES (new.seq, '__' || new.term || '_');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER catalog_terms_fts_delete AFTER DELETE ON catalog_terms BEGIN
    DELETE FROM catalog_terms_fts WHERE rowid = old.seq;
END;
-- +goose StatementEnd

CREATE TABLE seasons (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         TEXT NOT NULL,
    title_id   TEXT NOT NULL,
    number     INTEGER NOT NULL CHECK (number >= 0),
    name       TEXT NOT NULL DEFAULT '',
    synopsis   TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, title_id, number),
    FOREIGN KEY (tenant_id, title_id) REFERENCES titles (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE episodes (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    title_id        TEXT NOT NULL,
    season_id       TEXT NOT NULL,
    number          INTEGER NOT NULL CHECK (number >= 0),
    name            TEXT NOT NULL DEFAULT '',
    synopsis        TEXT NOT NULL DEFAULT '',
    runtime_minutes INTEGER,
    asset_id        TEXT,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, season_id, number),
    FOREIGN KEY (tenant_id, season_id) REFERENCES seasons (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE collections (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    position    INTEGER NOT NULL DEFAULT 0,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE collection_items (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    collection_id TEXT NOT NULL,
    position      INTEGER NOT NULL,
    title_id      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, collection_id, position),
    FOREIGN KEY (tenant_id, collection_id) REFERENCES collections (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, title_id) REFERENCES titles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX collection_items_title_idx ON collection_items (tenant_id, title_id);

CREATE TABLE viewer_events (
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id               TEXT NOT NULL,
    viewer_id        TEXT NOT NULL,
    profile_id       TEXT NOT NULL DEFAULT '',
    title_id         TEXT NOT NULL,
    episode_id       TEXT NOT NULL DEFAULT '',
    type             TEXT NOT NULL CHECK (type IN ('play', 'progress', 'complete')),
    position_seconds REAL NOT NULL DEFAULT 0,
    duration_seconds REAL NOT NULL DEFAULT 0,
    at               DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, title_id) REFERENCES titles (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE watch_progress (
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    viewer_id        TEXT NOT NULL,
    profile_id       TEXT NOT NULL DEFAULT '',
    title_id         TEXT NOT NULL,
    episode_id       TEXT NOT NULL DEFAULT '',
    position_seconds REAL NOT NULL DEFAULT 0,
    duration_seconds REAL NOT NULL DEFAULT 0,
    completed        BOOLEAN NOT NULL DEFAULT 0,
    plays            INTEGER NOT NULL DEFAULT 0,
    updated_at       DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, viewer_id, profile_id, title_id),
    FOREIGN KEY (tenant_id, title_id) REFERENCES titles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX watch_progress_recent_idx ON watch_progress (tenant_id, viewer_id, updated_at);

CREATE TABLE recommendation_models (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    model      BLOB NOT NULL,
    stats      TEXT NOT NULL DEFAULT '{}',
    build_ms   INTEGER NOT NULL DEFAULT 0,
    built_at   DATETIME NOT NULL,
    PRIMARY KEY (tenant_id)
);

-- +goose Down
DROP TABLE recommendation_models;
DROP TABLE watch_progress;
DROP TABLE viewer_events;
DROP TABLE collection_items;
DROP TABLE collections;
DROP TABLE episodes;
DROP TABLE seasons;
DROP TABLE catalog_terms_fts;
DROP TABLE catalog_terms;
DROP TABLE titles_fts;
DROP TABLE titles;
