-- Playback and protection: playback ids with their access rules, the
-- tenants' token signing keys (public halves only), CDN and DRM vendor
-- configurations, content keys wrapped under the platform's key-encryption
-- keys, and the entitlement data the playback policy reads (viewers, their
-- profiles, and grants: subscriptions, rentals, purchases).

-- +goose Up
ALTER TABLE assets ADD COLUMN protected boolean NOT NULL DEFAULT false;

CREATE TABLE playback_ids (
    -- Playback ids are public and globally unique: /play/<id>.m3u8 is looked
    -- up without knowing the tenant.
    id         text PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    asset_id   text NOT NULL,
    policy     text NOT NULL CHECK (policy IN ('public', 'signed', 'drm')),
    access     jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    FOREIGN KEY (tenant_id, asset_id) REFERENCES assets (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX playback_ids_asset_idx ON playback_ids (tenant_id, asset_id);

CREATE TABLE signing_keys (
    id         text PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    alg        text NOT NULL CHECK (alg IN ('RS256', 'ES256')),
    public_key text NOT NULL,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX signing_keys_tenant_idx ON signing_keys (tenant_id, created_at);

CREATE TABLE cdn_configs (
    tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          text NOT NULL,
    name        text NOT NULL,
    provider    text NOT NULL,
    base_url    text NOT NULL,
    key_id      text NOT NULL DEFAULT '',
    -- The signing secret or private key, wrapped under the platform KEK.
    secret      text NOT NULL DEFAULT '',
    weight      integer NOT NULL DEFAULT 1 CHECK (weight >= 0),
    regions     jsonb NOT NULL DEFAULT '[]',
    canary_path text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE drm_configs (
    tenant_id  text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    config     jsonb NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE content_keys (
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    asset_id   text NOT NULL,
    kid        text NOT NULL,
    kek_id     text NOT NULL,
    wrapped    text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, asset_id, kid),
    FOREIGN KEY (tenant_id, asset_id) REFERENCES assets (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE viewers (
    tenant_id       text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id              text NOT NULL,
    avod            boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE viewer_profiles (
    tenant_id    text NOT NULL,
    viewer_id    text NOT NULL,
    id           text NOT NULL,
    name         text NOT NULL,
    rating_limit text NOT NULL DEFAULT '',
    pin_hash     text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, viewer_id, id),
    FOREIGN KEY (tenant_id, viewer_id) REFERENCES viewers (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE entitlements (
    tenant_id      text NOT NULL,
    -- The grant's id is its idempotency key (a Stripe object id, or the
    -- tenant's own).
    id             text NOT NULL,
    viewer_id      text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('svod', 'rental', 'purchase')),
    tier           text NOT NULL DEFAULT '',
    asset_id       text NOT NULL DEFAULT '',
    window_seconds bigint NOT NULL DEFAULT 0,
    first_play_at  timestamptz,
    expires_at     timestamptz,
    revoked_at     timestamptz,
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, viewer_id) REFERENCES viewers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX entitlements_viewer_idx ON entitlements (tenant_id, viewer_id);

ALTER TABLE playback_ids ENABLE ROW LEVEL SECURITY;
ALTER TABLE playback_ids FORCE ROW LEVEL SECURITY;
CREATE POLICY playback_ids_tenant ON playback_ids USING (marquee_system() OR tenant_id = marquee_tenant());
ALTER TABLE signing_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE signing_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY signing_keys_tenant ON signing_keys USING (marquee_system() OR tenant_id = marquee_tenant());
ALTER TABLE cdn_configs ENABLE ROW LEVEL SECURITY;
ALTER TABLE cdn_configs FORCE ROW LEVEL SECURITY;
CREATE POLICY cdn_configs_tenant ON cdn_configs USING (marquee_system() OR tenant_id = marquee_tenant());
ALTER TABLE drm_configs ENABLE ROW LEVEL SECURITY;
ALTER TABLE drm_configs FORCE ROW LEVEL SECURITY;
CREATE POLICY drm_configs_tenant ON drm_configs USING (marquee_system() OR tenant_id = marquee_tenant());
ALTER TABLE content_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE content_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY content_keys_tenant ON content_keys USING (marquee_system() OR tenant_id = marquee_tenant());
ALTER TABLE viewers ENABLE ROW LEVEL SECURITY;
ALTER TABLE viewers FORCE ROW LEVEL SECURITY;
CREATE POLICY viewers_tenant ON viewers USING (marquee_system() OR tenant_id = marquee_tenant());
ALTER TABLE viewer_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE viewer_profiles FORCE ROW LEVEL SECURITY;
CREATE POLICY viewer_profiles_tenant ON viewer_profiles USING (marquee_system() OR tenant_id = marquee_tenant());
ALTER TABLE entitlements ENABLE ROW LEVEL SECURITY;
ALTER TABLE entitlements FORCE ROW LEVEL SECURITY;
CREATE POLICY entitlements_tenant ON entitlements USING (marquee_system() OR tenant_id = marquee_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON playback_ids, signing_keys, cdn_configs, drm_configs, content_keys, viewers, viewer_profiles, entitlements TO marquee_app;

-- +goose Down
DROP TABLE entitlements, viewer_profiles, viewers, content_keys, drm_configs, cdn_configs, signing_keys, playback_ids;
ALTER TABLE assets DROP COLUMN protected;
