-- Search speed (see migrations/postgres/00008_search_speed.sql): row-level
-- security functions and a genre index for PostgreSQL only; SQLite's
-- search already reads its FTS5 matches by rowid. Nothing changes here.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
