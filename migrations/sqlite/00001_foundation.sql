-- Foundation: the same tables as migrations/postgres/00001_foundation.sql.
-- SQLite has no row-level security; isolation here rests on the Go scoping
-- alone, which the shared store test suite checks on both databases.

-- +goose Up
CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    parent_id   TEXT REFERENCES tenants (id) ON DELETE RESTRICT,
    path        TEXT NOT NULL,
    slug        TEXT NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('platform', 'reseller', 'creator')),
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    -- The tenant whose suspension suspended this one (itself, or an ancestor
    -- whose suspension cascaded); resuming that tenant resumes exactly these.
    suspended_by TEXT,
    plan        TEXT NOT NULL DEFAULT 'free',
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL,
    CHECK ((kind = 'platform') = (parent_id IS NULL))
);
CREATE UNIQUE INDEX tenants_slug_key ON tenants (slug);
CREATE INDEX tenants_parent_idx ON tenants (parent_id, id);
CREATE UNIQUE INDEX tenants_one_platform ON tenants (kind) WHERE kind = 'platform';

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    created_at    DATETIME NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE memberships (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id, tenant_id);

CREATE TABLE api_keys (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    created_at   DATETIME NOT NULL,
    last_used_at DATETIME,
    revoked_at   DATETIME,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX api_keys_prefix_key ON api_keys (prefix);

CREATE TABLE tenant_quotas (
    tenant_id                   TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    storage_bytes               INTEGER CHECK (storage_bytes >= 0),
    transcode_minutes_per_month INTEGER CHECK (transcode_minutes_per_month >= 0),
    assets                      INTEGER CHECK (assets >= 0),
    concurrent_jobs             INTEGER CHECK (concurrent_jobs >= 0),
    sub_tenants                 INTEGER CHECK (sub_tenants >= 0),
    egress_gb_per_month         INTEGER CHECK (egress_gb_per_month >= 0),
    updated_at                  DATETIME NOT NULL
);

CREATE TABLE quota_usage (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    resource   TEXT NOT NULL,
    used       INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0),
    PRIMARY KEY (tenant_id, resource)
);

CREATE TABLE branding (
    tenant_id         TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    display_name      TEXT NOT NULL,
    primary_color     TEXT NOT NULL,
    accent_color      TEXT NOT NULL,
    background_color  TEXT NOT NULL,
    email_sender_name TEXT NOT NULL,
    logo_key          TEXT,
    logo_content_type TEXT,
    updated_at        DATETIME NOT NULL
);

CREATE TABLE custom_domains (
    tenant_id          TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    domain             TEXT NOT NULL,
    verification_token TEXT NOT NULL,
    verified_at        DATETIME,
    created_at         DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, domain)
);
CREATE UNIQUE INDEX custom_domains_domain_key ON custom_domains (domain);

CREATE TABLE idempotency_keys (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,
    status        INTEGER NOT NULL,
    response_body BLOB NOT NULL,
    created_at    DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE custom_domains;
DROP TABLE branding;
DROP TABLE quota_usage;
DROP TABLE tenant_quotas;
DROP TABLE api_keys;
DROP TABLE memberships;
DROP TABLE users;
DROP TABLE tenants;
