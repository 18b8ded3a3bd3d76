-- Per-tenant encoding profile: the ladder a tenant's new assets are
-- transcoded with (capped at each source by the worker). No row: the
-- platform's default ladder.

-- +goose Up
CREATE TABLE encoding_profiles (
    tenant_id  text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    ladder     jsonb NOT NULL,
    updated_at timestamptz NOT NULL
);
ALTER TABLE encoding_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE encoding_profiles FORCE ROW LEVEL SECURITY;
CREATE POLICY encoding_profiles_tenant ON encoding_profiles USING (marquee_system() OR tenant_id = marquee_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON encoding_profiles TO marquee_app;

-- +goose Down
DROP TABLE encoding_profiles;
