-- Playback and protection (the same tables as migrations/postgres/00005_playback.sql,
-- without row-level security): playback ids with their access rules, the
-- tenants' token signing keys (public halves only), CDN and DRM vendor
-- configurations, content keys wrapped under the platform's key-encryption
-- keys, and the entitlement data the playback policy reads (viewers, their
-- profiles, and grants: subscriptions, rentals, purchases).

-- +goose Up
ALTER TABLE assets ADD COLUMN protected BOOLEAN NOT NULL DEFAULT 0;

CREATE TABLE playback_ids (
    -- Playback ids are public and globally unique: /play/<id>.m3u8 is looked
    -- up without knowing the tenant.
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    asset_id   TEXT NOT NULL,
    policy     TEXT NOT NULL CHECK (policy IN ('public', 'signed', 'drm')),
    access     TEXT NOT NULL DEFAULT '{}',
    created_at DATETIME NOT NULL,
    FOREIGN KEY (tenant_id, asset_id) REFERENCES assets (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX playback_ids_asset_idx ON playback_ids (tenant_id, asset_id);

CREATE TABLE signing_keys (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    alg        TEXT NOT NULL CHECK (alg IN ('RS256', 'ES256')),
    public_key TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    revoked_at DATETIME
);
CREATE INDEX signing_keys_tenant_idx ON signing_keys (tenant_id, created_at);

CREATE TABLE cdn_configs (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    provider    TEXT NOT NULL,
    base_url    TEXT NOT NULL,
    key_id      TEXT NOT NULL DEFAULT '',
    -- The signing secret or private key, wrapped under the platform KEK.
    secret      TEXT NOT NULL DEFAULT '',
    weight      INTEGER NOT NULL DEFAULT 1 CHECK (weight >= 0),
    regions     TEXT NOT NULL DEFAULT '[]',
    canary_path TEXT NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE drm_configs (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    config     TEXT NOT NULL,
    updated_at DATETIME NOT NULL
);

CREATE TABLE content_keys (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    asset_id   TEXT NOT NULL,
    kid        TEXT NOT NULL,
    kek_id     TEXT NOT NULL,
    wrapped    TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, asset_id, kid),
    FOREIGN KEY (tenant_id, asset_id) REFERENCES assets (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE viewers (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    avod            BOOLEAN NOT NULL DEFAULT 0,
    created_at      DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE viewer_profiles (
    tenant_id    TEXT NOT NULL,
    viewer_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    name         TEXT NOT NULL,
    rating_limit TEXT NOT NULL DEFAULT '',
    pin_hash     TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, viewer_id, id),
    FOREIGN KEY (tenant_id, viewer_id) REFERENCES viewers (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE entitlements (
    tenant_id      TEXT NOT NULL,
    -- The grant's id is its idempotency key (a Stripe object id, or the
    -- tenant's own).
    id             TEXT NOT NULL,
    viewer_id      TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('svod', 'rental', 'purchase')),
    tier           TEXT NOT NULL DEFAULT '',
    asset_id       TEXT NOT NULL DEFAULT '',
    window_seconds INTEGER NOT NULL DEFAULT 0,
    first_play_at  DATETIME,
    expires_at     DATETIME,
    revoked_at     DATETIME,
    created_at     DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, viewer_id) REFERENCES viewers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX entitlements_viewer_idx ON entitlements (tenant_id, viewer_id);

-- +goose Down
DROP TABLE entitlements;
DROP TABLE viewer_profiles;
DROP TABLE viewers;
DROP TABLE content_keys;
DROP TABLE drm_configs;
DROP TABLE cdn_configs;
DROP TABLE signing_keys;
DROP TABLE playback_ids;
ALTER TABLE assets DROP COLUMN protected;
