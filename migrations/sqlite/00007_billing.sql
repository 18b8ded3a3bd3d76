-- Billing (see migrations/postgres/00007_billing.sql). SQLite has no
-- partitions; the idempotency key is the same (tenant, month, id).
-- SQLite has no exact decimal type: quantities are stored as decimal text
-- and summed in Go.

-- +goose Up
CREATE TABLE usage_events_v2 (
    tenant_id  TEXT NOT NULL,
    month      TEXT NOT NULL,
    id         TEXT NOT NULL,
    meter      TEXT NOT NULL,
    quantity   TEXT NOT NULL,
    dimensions TEXT NOT NULL DEFAULT '{}',
    at         DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, month, id)
);
INSERT OR IGNORE INTO usage_events_v2 (tenant_id, month, id, meter, quantity, dimensions, at)
SELECT tenant_id, substr(at, 1, 7), id, meter, CAST(quantity AS TEXT), dimensions, at FROM usage_events;
DROP TABLE usage_events;
ALTER TABLE usage_events_v2 RENAME TO usage_events;

CREATE TABLE usage_rollups_v2 (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    hour           DATETIME NOT NULL,
    meter          TEXT NOT NULL,
    dimensions_key TEXT NOT NULL,
    dimensions     TEXT NOT NULL DEFAULT '{}',
    quantity       TEXT NOT NULL,
    events         INTEGER NOT NULL CHECK (events >= 0),
    PRIMARY KEY (tenant_id, hour, meter, dimensions_key)
);
INSERT INTO usage_rollups_v2 SELECT tenant_id, hour, meter, dimensions_key, dimensions, CAST(quantity AS TEXT), events FROM usage_rollups_hourly;
DROP TABLE usage_rollups_hourly;
ALTER TABLE usage_rollups_v2 RENAME TO usage_rollups_hourly;

-- Daily rollups (see the PostgreSQL migration). An embedded database's
-- usage from before this version stays in the hourly rollups only: its
-- quantities were floating point and its job usage was never rolled up.
CREATE TABLE usage_rollups_daily (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    hour           DATETIME NOT NULL,
    meter          TEXT NOT NULL,
    dimensions_key TEXT NOT NULL,
    dimensions     TEXT NOT NULL DEFAULT '{}',
    quantity       TEXT NOT NULL,
    events         INTEGER NOT NULL CHECK (events >= 0),
    PRIMARY KEY (tenant_id, hour, meter, dimensions_key)
);

CREATE TABLE billing_plans (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         TEXT NOT NULL,
    name       TEXT NOT NULL,
    currency   TEXT NOT NULL,
    base_fee   INTEGER NOT NULL CHECK (base_fee >= 0),
    prices     TEXT NOT NULL DEFAULT '[]',
    archived   BOOLEAN NOT NULL DEFAULT false,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE billing_accounts (
    tenant_id              TEXT NOT NULL PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    issuer_id              TEXT NOT NULL,
    plan_id                TEXT,
    stripe_customer_id     TEXT,
    stripe_subscription_id TEXT,
    connect_account_id     TEXT,
    dunning                TEXT NOT NULL DEFAULT 'ok' CHECK (dunning IN ('ok', 'past_due', 'suspended')),
    past_due_since         DATETIME,
    suspended_by_billing   BOOLEAN NOT NULL DEFAULT false,
    updated_at             DATETIME NOT NULL
);
CREATE TABLE billing_plan_history (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    starts_at DATETIME NOT NULL,
    issuer_id TEXT NOT NULL,
    plan_id   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, starts_at)
);
CREATE TABLE invoices (
    tenant_id         TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                TEXT NOT NULL,
    issuer_id         TEXT NOT NULL,
    period            TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('draft', 'open', 'paid', 'void', 'uncollectible')),
    currency          TEXT NOT NULL,
    subtotal          INTEGER NOT NULL,
    total             INTEGER NOT NULL,
    lines             TEXT NOT NULL DEFAULT '[]',
    stripe_invoice_id TEXT,
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL,
    finalized_at      DATETIME,
    paid_at           DATETIME,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, issuer_id, period)
);
CREATE INDEX invoices_stripe ON invoices (stripe_invoice_id) WHERE stripe_invoice_id IS NOT NULL;
CREATE TABLE stripe_events (
    id          TEXT NOT NULL PRIMARY KEY,
    type        TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    created     INTEGER NOT NULL,
    received_at DATETIME NOT NULL
);
CREATE TABLE stripe_objects (
    object_id TEXT NOT NULL PRIMARY KEY,
    created   INTEGER NOT NULL,
    event_id  TEXT NOT NULL
);
CREATE TABLE commerce_offers (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id             TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('svod', 'rental', 'purchase')),
    name           TEXT NOT NULL,
    price          INTEGER NOT NULL CHECK (price > 0),
    currency       TEXT NOT NULL,
    tier           TEXT NOT NULL DEFAULT '',
    ad_free        BOOLEAN NOT NULL DEFAULT false,
    window_seconds INTEGER NOT NULL DEFAULT 0,
    title_id       TEXT NOT NULL DEFAULT '',
    active         BOOLEAN NOT NULL DEFAULT true,
    created_at     DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE commerce_checkouts (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    offer_id     TEXT NOT NULL,
    stripe_session_id TEXT,
    viewer_id    TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('open', 'complete', 'expired')),
    grant_id     TEXT,
    created_at   DATETIME NOT NULL,
    completed_at DATETIME,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, offer_id) REFERENCES commerce_offers (tenant_id, id)
);

-- +goose Down
DROP TABLE commerce_checkouts;
DROP TABLE commerce_offers;
DROP TABLE stripe_objects;
DROP TABLE stripe_events;
DROP TABLE invoices;
DROP TABLE billing_plan_history;
DROP TABLE billing_accounts;
DROP TABLE billing_plans;
DROP TABLE usage_rollups_daily;
CREATE TABLE usage_events_v1 (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         TEXT NOT NULL,
    meter      TEXT NOT NULL,
    quantity   REAL NOT NULL CHECK (quantity >= 0),
    dimensions TEXT NOT NULL DEFAULT '{}',
    at         DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
INSERT OR IGNORE INTO usage_events_v1 (tenant_id, id, meter, quantity, dimensions, at)
SELECT tenant_id, id, meter, quantity, dimensions, at FROM usage_events;
DROP TABLE usage_events;
ALTER TABLE usage_events_v1 RENAME TO usage_events;
