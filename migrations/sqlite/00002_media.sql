-- Media pipeline (the same tables as migrations/postgres/00002_media.sql, without
-- row-level security): assets, the jobs that process them (the jobs table is the
-- outbox: a job row is written in the transaction that creates its asset, and
-- the relay enqueues pending jobs), worker nodes, tenant webhooks, and usage
-- events with ids for exactly-once metering.

-- +goose Up
CREATE TABLE assets (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('waiting', 'processing', 'ready', 'errored')),
    progress        REAL NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 100),
    source_key      TEXT,
    source_url      TEXT,
    source_bytes    INTEGER NOT NULL DEFAULT 0,
    -- Bytes of the published package, counted in the tenant's storage use.
    stored_bytes    INTEGER NOT NULL DEFAULT 0,
    duration        REAL,
    renditions      TEXT NOT NULL DEFAULT '[]',
    has_audio       BOOLEAN NOT NULL DEFAULT 0,
    playback_prefix TEXT,
    error_code      TEXT,
    error_message   TEXT,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE jobs (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    asset_id     TEXT NOT NULL,
    kind         TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'queued', 'running', 'succeeded', 'failed')),
    queue        TEXT NOT NULL,
    payload      TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    -- Bumped each time a lost job is returned to pending; the asynq task id is
    -- <job id>.<generation>, so a dead task of an earlier generation never
    -- blocks the job, and a repeated enqueue within one is a no-op.
    generation   INTEGER NOT NULL DEFAULT 0,
    attempt      TEXT,
    node_id      TEXT,
    lease_until  DATETIME,
    error_code   TEXT,
    created_at   DATETIME NOT NULL,
    queued_at    DATETIME,
    started_at   DATETIME,
    finished_at  DATETIME,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, asset_id) REFERENCES assets (tenant_id, id) ON DELETE CASCADE
);
-- The relay's scan: pending and expired work, oldest first.
CREATE INDEX jobs_dispatch_idx ON jobs (state, created_at) WHERE state IN ('pending', 'queued', 'running');

-- Worker nodes are the platform's, not a tenant's.
CREATE TABLE nodes (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL,
    cores         INTEGER NOT NULL,
    gpu           TEXT NOT NULL DEFAULT '',
    encoders      TEXT NOT NULL DEFAULT '[]',
    hwaccels      TEXT NOT NULL DEFAULT '[]',
    queues        TEXT NOT NULL DEFAULT '[]',
    capacity      INTEGER NOT NULL,
    running       INTEGER NOT NULL DEFAULT 0,
    draining      BOOLEAN NOT NULL DEFAULT 0,
    registered_at DATETIME NOT NULL,
    last_seen_at  DATETIME NOT NULL
);

CREATE TABLE webhook_endpoints (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    url         TEXT NOT NULL,
    events      TEXT NOT NULL,
    secret      TEXT NOT NULL,
    created_at  DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE webhook_deliveries (
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id               TEXT NOT NULL,
    endpoint_id      TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  DATETIME NOT NULL,
    created_at       DATETIME NOT NULL,
    delivered_at     DATETIME,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    delivery_id  TEXT NOT NULL,
    n            INTEGER NOT NULL,
    at           DATETIME NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    duration_ms  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, delivery_id, n),
    FOREIGN KEY (tenant_id, delivery_id) REFERENCES webhook_deliveries (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE usage_events (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         TEXT NOT NULL,
    meter      TEXT NOT NULL,
    quantity   REAL NOT NULL CHECK (quantity >= 0),
    dimensions TEXT NOT NULL DEFAULT '{}',
    at         DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- +goose Down
DROP TABLE usage_events;
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE nodes;
DROP TABLE jobs;
DROP TABLE assets;
