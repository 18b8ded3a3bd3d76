-- Foundation: the tenant tree, users, memberships, API keys, quotas, branding.
--
-- Isolation: every tenant table has FORCE ROW LEVEL SECURITY. The application
-- runs each transaction as the role marquee_app (SET LOCAL ROLE), which has no
-- BYPASSRLS, with app.tenant_id set by set_config(..., true). A transaction
-- that must cross tenants on purpose (authenticating an API key by its
-- prefix, public branding by slug) sets app.scope = 'system' instead; the Go
-- code does that in one audited function.

-- +goose Up
-- +goose StatementBegin
DO $$ BEGIN
  CREATE ROLE marquee_app NOLOGIN NOBYPASSRLS;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
DO $$ BEGIN
  EXECUTE format('GRANT marquee_app TO %I', current_user);
END $$;
-- +goose StatementEnd
GRANT USAGE ON SCHEMA public TO marquee_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO marquee_app;

-- +goose StatementBegin
CREATE FUNCTION marquee_system() RETURNS boolean LANGUAGE sql STABLE AS
  $f$ SELECT coalesce(current_setting('app.scope', true), '') = 'system' $f$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION marquee_tenant() RETURNS text LANGUAGE sql STABLE AS
  $f$ SELECT nullif(current_setting('app.tenant_id', true), '') $f$;
-- +goose StatementEnd

CREATE TABLE tenants (
    id          text PRIMARY KEY,
    parent_id   text REFERENCES tenants (id) ON DELETE RESTRICT,
    -- '/root/.../id/': the ancestors and the tenant itself, for subtree checks.
    path        text NOT NULL,
    slug        text NOT NULL,
    name        text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('platform', 'reseller', 'creator')),
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    -- The tenant whose suspension suspended this one (itself, or an ancestor
    -- whose suspension cascaded); resuming that tenant resumes exactly these.
    suspended_by text,
    plan        text NOT NULL DEFAULT 'free',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    CHECK ((kind = 'platform') = (parent_id IS NULL))
);
CREATE UNIQUE INDEX tenants_slug_key ON tenants (slug);
CREATE INDEX tenants_parent_idx ON tenants (parent_id, id);
CREATE UNIQUE INDEX tenants_one_platform ON tenants (kind) WHERE kind = 'platform';

CREATE TABLE users (
    id            text PRIMARY KEY,
    email         text NOT NULL,
    name          text NOT NULL DEFAULT '',
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE memberships (
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id, tenant_id);

CREATE TABLE api_keys (
    tenant_id    text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           text NOT NULL,
    name         text NOT NULL,
    role         text NOT NULL,
    prefix       text NOT NULL,
    secret_hash  text NOT NULL,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX api_keys_prefix_key ON api_keys (prefix);

CREATE TABLE tenant_quotas (
    tenant_id                   text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    storage_bytes               bigint CHECK (storage_bytes >= 0),
    transcode_minutes_per_month bigint CHECK (transcode_minutes_per_month >= 0),
    assets                      bigint CHECK (assets >= 0),
    concurrent_jobs             bigint CHECK (concurrent_jobs >= 0),
    sub_tenants                 bigint CHECK (sub_tenants >= 0),
    egress_gb_per_month         bigint CHECK (egress_gb_per_month >= 0),
    updated_at                  timestamptz NOT NULL
);

-- Counters of consumption that no table row count gives (bytes stored,
-- minutes transcoded this month). Later issues feed them.
CREATE TABLE quota_usage (
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    resource   text NOT NULL,
    used       bigint NOT NULL DEFAULT 0 CHECK (used >= 0),
    PRIMARY KEY (tenant_id, resource)
);

CREATE TABLE branding (
    tenant_id         text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    display_name      text NOT NULL,
    primary_color     text NOT NULL,
    accent_color      text NOT NULL,
    background_color  text NOT NULL,
    email_sender_name text NOT NULL,
    logo_key          text,
    logo_content_type text,
    updated_at        timestamptz NOT NULL
);

CREATE TABLE custom_domains (
    tenant_id          text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    domain             text NOT NULL,
    verification_token text NOT NULL,
    verified_at        timestamptz,
    created_at         timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, domain)
);
CREATE UNIQUE INDEX custom_domains_domain_key ON custom_domains (domain);

CREATE TABLE idempotency_keys (
    tenant_id     text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key           text NOT NULL,
    fingerprint   text NOT NULL,
    status        integer NOT NULL,
    response_body bytea NOT NULL,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

-- Row-level security. tenants: a tenant sees itself and its descendants.
-- tenant_quotas, quota_usage: visible where their tenant row is (a parent
-- sets and reads its children's limits). Everything else: the acting tenant's
-- own rows only.
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenants_subtree ON tenants
    USING (marquee_system() OR position('/' || marquee_tenant() || '/' IN path) > 0);

ALTER TABLE tenant_quotas ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_quotas FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_quotas_subtree ON tenant_quotas
    USING (marquee_system() OR EXISTS (SELECT 1 FROM tenants t WHERE t.id = tenant_quotas.tenant_id));

ALTER TABLE quota_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE quota_usage FORCE ROW LEVEL SECURITY;
CREATE POLICY quota_usage_subtree ON quota_usage
    USING (marquee_system() OR EXISTS (SELECT 1 FROM tenants t WHERE t.id = quota_usage.tenant_id));

ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY memberships_tenant ON memberships
    USING (marquee_system() OR tenant_id = marquee_tenant());

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY api_keys_tenant ON api_keys
    USING (marquee_system() OR tenant_id = marquee_tenant());

ALTER TABLE branding ENABLE ROW LEVEL SECURITY;
ALTER TABLE branding FORCE ROW LEVEL SECURITY;
CREATE POLICY branding_tenant ON branding
    USING (marquee_system() OR tenant_id = marquee_tenant());

ALTER TABLE custom_domains ENABLE ROW LEVEL SECURITY;
ALTER TABLE custom_domains FORCE ROW LEVEL SECURITY;
CREATE POLICY custom_domains_tenant ON custom_domains
    USING (marquee_system() OR tenant_id = marquee_tenant());

ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY idempotency_keys_tenant ON idempotency_keys
    USING (marquee_system() OR tenant_id = marquee_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO marquee_app;

-- +goose Down
DROP TABLE idempotency_keys, custom_domains, branding, quota_usage, tenant_quotas, api_keys, memberships, users, tenants;
DROP FUNCTION marquee_tenant();
DROP FUNCTION marquee_system();
