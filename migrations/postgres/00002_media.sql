-- Media pipeline: assets, the jobs that process them (the jobs table is the
-- outbox: a job row is written in the transaction that creates its asset, and
-- the relay enqueues pending jobs), worker nodes, tenant webhooks, and usage
-- events with ids for exactly-once metering.

-- +goose Up
CREATE TABLE assets (
    tenant_id       text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id              text NOT NULL,
    status          text NOT NULL CHECK (status IN ('waiting', 'processing', 'ready', 'errored')),
    progress        double precision NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 100),
    source_key      text,
    source_url      text,
    source_bytes    bigint NOT NULL DEFAULT 0,
    -- Bytes of the published package, counted in the tenant's storage use.
    stored_bytes    bigint NOT NULL DEFAULT 0,
    duration        double precision,
    renditions      jsonb NOT NULL DEFAULT '[]',
    has_audio       boolean NOT NULL DEFAULT false,
    playback_prefix text,
    error_code      text,
    error_message   text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE jobs (
    tenant_id    text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           text NOT NULL,
    asset_id     text NOT NULL,
    kind         text NOT NULL,
    state        text NOT NULL CHECK (state IN ('pending', 'queued', 'running', 'succeeded', 'failed')),
    queue        text NOT NULL,
    payload      jsonb NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    -- Bumped each time a lost job is returned to pending; the asynq task id is
    -- <job id>.<generation>, so a dead task of an earlier generation never
    -- blocks the job, and a repeated enqueue within one is a no-op.
    generation   integer NOT NULL DEFAULT 0,
    attempt      text,
    node_id      text,
    lease_until  timestamptz,
    error_code   text,
    created_at   timestamptz NOT NULL,
    queued_at    timestamptz,
    started_at   timestamptz,
    finished_at  timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, asset_id) REFERENCES assets (tenant_id, id) ON DELETE CASCADE
);
-- The relay's scan: pending and expired work, oldest first.
CREATE INDEX jobs_dispatch_idx ON jobs (state, created_at) WHERE state IN ('pending', 'queued', 'running');

-- Worker nodes are the platform's, not a tenant's.
CREATE TABLE nodes (
    id            text PRIMARY KEY,
    name          text NOT NULL,
    token_hash    text NOT NULL,
    cores         integer NOT NULL,
    gpu           text NOT NULL DEFAULT '',
    encoders      jsonb NOT NULL DEFAULT '[]',
    hwaccels      jsonb NOT NULL DEFAULT '[]',
    queues        jsonb NOT NULL DEFAULT '[]',
    capacity      integer NOT NULL,
    running       integer NOT NULL DEFAULT 0,
    draining      boolean NOT NULL DEFAULT false,
    registered_at timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL
);

CREATE TABLE webhook_endpoints (
    tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          text NOT NULL,
    url         text NOT NULL,
    events      jsonb NOT NULL,
    secret      text NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE webhook_deliveries (
    tenant_id        text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id               text NOT NULL,
    endpoint_id      text NOT NULL,
    event_type       text NOT NULL,
    payload          jsonb NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    created_at       timestamptz NOT NULL,
    delivered_at     timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    tenant_id    text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    delivery_id  text NOT NULL,
    n            integer NOT NULL,
    at           timestamptz NOT NULL,
    status_code  integer,
    error        text,
    duration_ms  integer NOT NULL,
    PRIMARY KEY (tenant_id, delivery_id, n),
    FOREIGN KEY (tenant_id, delivery_id) REFERENCES webhook_deliveries (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE usage_events (
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         text NOT NULL,
    meter      text NOT NULL,
    quantity   double precision NOT NULL CHECK (quantity >= 0),
    dimensions jsonb NOT NULL DEFAULT '{}',
    at         timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

ALTER TABLE assets ENABLE ROW LEVEL SECURITY;
ALTER TABLE assets FORCE ROW LEVEL SECURITY;
CREATE POLICY assets_tenant ON assets USING (marquee_system() OR tenant_id = marquee_tenant());
ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY jobs_tenant ON jobs USING (marquee_system() OR tenant_id = marquee_tenant());
ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_endpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_endpoints_tenant ON webhook_endpoints USING (marquee_system() OR tenant_id = marquee_tenant());
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_deliveries_tenant ON webhook_deliveries USING (marquee_system() OR tenant_id = marquee_tenant());
ALTER TABLE webhook_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_attempts FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_attempts_tenant ON webhook_attempts USING (marquee_system() OR tenant_id = marquee_tenant());
ALTER TABLE usage_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_events FORCE ROW LEVEL SECURITY;
CREATE POLICY usage_events_tenant ON usage_events USING (marquee_system() OR tenant_id = marquee_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO marquee_app;

-- +goose Down
DROP TABLE usage_events, webhook_attempts, webhook_deliveries, webhook_endpoints, nodes, jobs, assets;
