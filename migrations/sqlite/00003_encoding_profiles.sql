-- Per-tenant encoding profile (see migrations/postgres/00003_encoding_profiles.sql).

-- +goose Up
CREATE TABLE encoding_profiles (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    ladder     TEXT NOT NULL,
    updated_at DATETIME NOT NULL
);

-- +goose Down
DROP TABLE encoding_profiles;
