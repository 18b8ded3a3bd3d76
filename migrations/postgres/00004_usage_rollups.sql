-- Hourly usage rollups per tenant, meter and dimension set. The ingester
-- adds to them only the events its own INSERT … ON CONFLICT DO NOTHING
-- actually wrote, in the same transaction, so every event is counted exactly
-- once however often it is sent. dimensions_key is the canonical sorted
-- "k=v;k=v" form of dimensions, the part of the key a jsonb cannot be.

-- +goose Up
CREATE TABLE usage_rollups_hourly (
    tenant_id      text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    hour           timestamptz NOT NULL,
    meter          text NOT NULL,
    dimensions_key text NOT NULL,
    dimensions     jsonb NOT NULL DEFAULT '{}',
    quantity       double precision NOT NULL CHECK (quantity >= 0),
    events         bigint NOT NULL CHECK (events >= 0),
    PRIMARY KEY (tenant_id, hour, meter, dimensions_key)
);
ALTER TABLE usage_rollups_hourly ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_rollups_hourly FORCE ROW LEVEL SECURITY;
CREATE POLICY usage_rollups_hourly_tenant ON usage_rollups_hourly USING (marquee_system() OR tenant_id = marquee_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON usage_rollups_hourly TO marquee_app;

-- +goose Down
DROP TABLE usage_rollups_hourly;
