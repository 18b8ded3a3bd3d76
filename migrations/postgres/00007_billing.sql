-- Billing: exact usage quantities, usage events partitioned by month, price
-- books and plans, billing accounts (plan, Stripe ids, dunning), invoices,
-- Stripe webhook events, and viewer commerce offers and checkouts.
--
-- usage_events becomes a table partitioned by month ('YYYY-MM' of the event
-- time, UTC). PostgreSQL enforces uniqueness per partition only, so the
-- idempotency key is (tenant, month, id): a repeat of an event carries its
-- time, hence its month. Partitions are created by marquee_usage_partition
-- (the ingester calls it for a month it has not seen; the migration creates
-- 2025-01 to 2027-12). marquee_app reaches the rows only through the parent,
-- where the policy applies: each partition forces row security, has no
-- policy and grants marquee_app nothing.
--
-- Quantities become numeric: sums are exact whatever the meter's unit.
-- The raw events drop the foreign key to tenants (a per-row trigger, the
-- largest cost of bulk ingestion); the ingester checks a batch's tenants
-- once per batch, and usage of a deleted tenant stays for its last invoice.

-- +goose Up
ALTER TABLE usage_events RENAME TO usage_events_v1;
ALTER TABLE usage_events_v1 RENAME CONSTRAINT usage_events_pkey TO usage_events_v1_pkey;
CREATE TABLE usage_events (
    tenant_id  text NOT NULL,
    month      text NOT NULL,
    id         text NOT NULL,
    meter      text NOT NULL,
    quantity   numeric NOT NULL CHECK (quantity >= 0),
    dimensions jsonb NOT NULL DEFAULT '{}',
    at         timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, month, id)
) PARTITION BY RANGE (month);
ALTER TABLE usage_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_events FORCE ROW LEVEL SECURITY;
CREATE POLICY usage_events_tenant ON usage_events USING (marquee_system() OR tenant_id = marquee_tenant());
GRANT SELECT, INSERT ON usage_events TO marquee_app;

-- +goose StatementBegin
CREATE FUNCTION marquee_usage_partition(m text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $f$
DECLARE
    part text;
    lo date;
BEGIN
    IF m IS NULL OR m !~ '^[0-9]{4}-(0[1-9]|1[0-2])$' THEN
        RAISE EXCEPTION 'usage partition: bad month %', m;
    END IF;
    part := 'usage_events_' || replace(m, '-', '_');
    IF to_regclass(part) IS NOT NULL THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext(part));
    IF to_regclass(part) IS NOT NULL THEN
        RETURN;
    END IF;
    lo := to_date(m || '-01', 'YYYY-MM-DD');
    EXECUTE format('CREATE TABLE %I PARTITION OF usage_events FOR VALUES FROM (%L) TO (%L)',
        part, m, to_char(lo + interval '1 month', 'YYYY-MM'));
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', part);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', part);
    EXECUTE format('REVOKE ALL ON %I FROM marquee_app', part);
END
$f$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION marquee_usage_partition(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION marquee_usage_partition(text) TO marquee_app;
SELECT marquee_usage_partition(to_char(d, 'YYYY-MM'))
FROM generate_series('2025-01-01'::date, '2027-12-01'::date, interval '1 month') AS d;
SELECT marquee_usage_partition(m)
FROM (SELECT DISTINCT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM') AS m FROM usage_events_v1) AS months;
INSERT INTO usage_events (tenant_id, month, id, meter, quantity, dimensions, at)
SELECT tenant_id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM'), id, meter, quantity::numeric, dimensions, at FROM usage_events_v1
ON CONFLICT DO NOTHING;
DROP TABLE usage_events_v1;

-- Rollups: exact, visible to ancestors (usage of a subtree), and rebuilt
-- from the raw events: events written before this version were stored
-- without being rolled up.
ALTER TABLE usage_rollups_hourly ALTER COLUMN quantity TYPE numeric;
DROP POLICY usage_rollups_hourly_tenant ON usage_rollups_hourly;
CREATE POLICY usage_rollups_hourly_subtree ON usage_rollups_hourly
    USING (marquee_system() OR EXISTS (SELECT 1 FROM tenants t WHERE t.id = usage_rollups_hourly.tenant_id));
DELETE FROM usage_rollups_hourly;
INSERT INTO usage_rollups_hourly (tenant_id, hour, meter, dimensions_key, dimensions, quantity, events)
SELECT e.tenant_id, date_trunc('hour', e.at), e.meter, k.key, min(e.dimensions::text)::jsonb, sum(e.quantity), count(*)
FROM usage_events e
CROSS JOIN LATERAL (SELECT coalesce(string_agg(j.key || '=' || j.value, ';' ORDER BY j.key COLLATE "C"), '') AS key
                    FROM jsonb_each_text(e.dimensions) AS j) AS k
WHERE EXISTS (SELECT 1 FROM tenants t WHERE t.id = e.tenant_id)
GROUP BY e.tenant_id, date_trunc('hour', e.at), e.meter, k.key;

-- Daily rollups, kept beside the hourly ones in the same transaction, so
-- that queries over whole days (a month by day, an invoice, a reseller's
-- subtree) read 24 times fewer rows. hour holds the start of the UTC day.
CREATE TABLE usage_rollups_daily (
    tenant_id      text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    hour           timestamptz NOT NULL,
    meter          text NOT NULL,
    dimensions_key text NOT NULL,
    dimensions     jsonb NOT NULL DEFAULT '{}',
    quantity       numeric NOT NULL CHECK (quantity >= 0),
    events         bigint NOT NULL CHECK (events >= 0),
    PRIMARY KEY (tenant_id, hour, meter, dimensions_key)
);
INSERT INTO usage_rollups_daily (tenant_id, hour, meter, dimensions_key, dimensions, quantity, events)
SELECT tenant_id, date_trunc('day', hour AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', meter, dimensions_key, min(dimensions::text)::jsonb, sum(quantity), sum(events)
FROM usage_rollups_hourly GROUP BY 1, 2, 3, 4;
ALTER TABLE usage_rollups_daily ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_rollups_daily FORCE ROW LEVEL SECURITY;
CREATE POLICY usage_rollups_daily_subtree ON usage_rollups_daily
    USING (marquee_system() OR EXISTS (SELECT 1 FROM tenants t WHERE t.id = usage_rollups_daily.tenant_id));
GRANT SELECT, INSERT, UPDATE, DELETE ON usage_rollups_daily TO marquee_app;

-- A price book is the plans one issuer (the platform or a reseller) sells.
CREATE TABLE billing_plans (
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         text NOT NULL,
    name       text NOT NULL,
    currency   text NOT NULL,
    base_fee   bigint NOT NULL CHECK (base_fee >= 0),
    prices     jsonb NOT NULL DEFAULT '[]',
    archived   boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- A billing account: who invoices the tenant (its parent), on which plan,
-- its Stripe objects and its dunning state. suspended_by_billing records that
-- dunning suspended the tenant, so payment resumes exactly that.
CREATE TABLE billing_accounts (
    tenant_id              text NOT NULL PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    issuer_id              text NOT NULL,
    plan_id                text,
    stripe_customer_id     text,
    stripe_subscription_id text,
    connect_account_id     text,
    dunning                text NOT NULL DEFAULT 'ok' CHECK (dunning IN ('ok', 'past_due', 'suspended')),
    past_due_since         timestamptz,
    suspended_by_billing   boolean NOT NULL DEFAULT false,
    updated_at             timestamptz NOT NULL
);

-- The plans a tenant has been on, for proration.
CREATE TABLE billing_plan_history (
    tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    starts_at timestamptz NOT NULL,
    issuer_id text NOT NULL,
    plan_id   text NOT NULL,
    PRIMARY KEY (tenant_id, starts_at)
);

CREATE TABLE invoices (
    tenant_id         text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                text NOT NULL,
    issuer_id         text NOT NULL,
    period            text NOT NULL,
    status            text NOT NULL CHECK (status IN ('draft', 'open', 'paid', 'void', 'uncollectible')),
    currency          text NOT NULL,
    subtotal          bigint NOT NULL,
    total             bigint NOT NULL,
    lines             jsonb NOT NULL DEFAULT '[]',
    stripe_invoice_id text,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    finalized_at      timestamptz,
    paid_at           timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, issuer_id, period)
);
CREATE INDEX invoices_stripe ON invoices (stripe_invoice_id) WHERE stripe_invoice_id IS NOT NULL;

-- Stripe webhook events already handled (idempotency by event id), and
-- the newest event time applied per Stripe object (out-of-order delivery).
CREATE TABLE stripe_events (
    id           text NOT NULL PRIMARY KEY,
    type         text NOT NULL,
    object_id    text NOT NULL,
    created      bigint NOT NULL,
    received_at  timestamptz NOT NULL
);
CREATE TABLE stripe_objects (
    object_id text NOT NULL PRIMARY KEY,
    created   bigint NOT NULL,
    event_id  text NOT NULL
);

-- Viewer commerce: what a tenant's storefront sells, and its checkouts.
CREATE TABLE commerce_offers (
    tenant_id      text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id             text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('svod', 'rental', 'purchase')),
    name           text NOT NULL,
    price          bigint NOT NULL CHECK (price > 0),
    currency       text NOT NULL,
    tier           text NOT NULL DEFAULT '',
    ad_free        boolean NOT NULL DEFAULT false,
    window_seconds bigint NOT NULL DEFAULT 0,
    title_id       text NOT NULL DEFAULT '',
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE commerce_checkouts (
    tenant_id    text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           text NOT NULL,
    offer_id     text NOT NULL,
    stripe_session_id text,
    viewer_id    text NOT NULL,
    status       text NOT NULL CHECK (status IN ('open', 'complete', 'expired')),
    grant_id     text,
    created_at   timestamptz NOT NULL,
    completed_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, offer_id) REFERENCES commerce_offers (tenant_id, id)
);

ALTER TABLE billing_plans ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing_plans FORCE ROW LEVEL SECURITY;
CREATE POLICY billing_plans_tenant ON billing_plans USING (marquee_system() OR tenant_id = marquee_tenant());
ALTER TABLE billing_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY billing_accounts_subtree ON billing_accounts
    USING (marquee_system() OR EXISTS (SELECT 1 FROM tenants t WHERE t.id = billing_accounts.tenant_id));
ALTER TABLE billing_plan_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing_plan_history FORCE ROW LEVEL SECURITY;
CREATE POLICY billing_plan_history_subtree ON billing_plan_history
    USING (marquee_system() OR EXISTS (SELECT 1 FROM tenants t WHERE t.id = billing_plan_history.tenant_id));
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY invoices_subtree ON invoices
    USING (marquee_system() OR EXISTS (SELECT 1 FROM tenants t WHERE t.id = invoices.tenant_id));
ALTER TABLE commerce_offers ENABLE ROW LEVEL SECURITY;
ALTER TABLE commerce_offers FORCE ROW LEVEL SECURITY;
CREATE POLICY commerce_offers_tenant ON commerce_offers USING (marquee_system() OR tenant_id = marquee_tenant());
ALTER TABLE commerce_checkouts ENABLE ROW LEVEL SECURITY;
ALTER TABLE commerce_checkouts FORCE ROW LEVEL SECURITY;
CREATE POLICY commerce_checkouts_tenant ON commerce_checkouts USING (marquee_system() OR tenant_id = marquee_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON billing_plans, billing_accounts, billing_plan_history, invoices,
    stripe_events, stripe_objects, commerce_offers, commerce_checkouts TO marquee_app;

-- +goose Down
DROP TABLE commerce_checkouts, commerce_offers, stripe_objects, stripe_events, invoices,
    billing_plan_history, billing_accounts, billing_plans, usage_rollups_daily;
DROP POLICY usage_rollups_hourly_subtree ON usage_rollups_hourly;
CREATE POLICY usage_rollups_hourly_tenant ON usage_rollups_hourly USING (marquee_system() OR tenant_id = marquee_tenant());
ALTER TABLE usage_rollups_hourly ALTER COLUMN quantity TYPE double precision;
CREATE TABLE usage_events_v1 (
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         text NOT NULL,
    meter      text NOT NULL,
    quantity   double precision NOT NULL CHECK (quantity >= 0),
    dimensions jsonb NOT NULL DEFAULT '{}',
    at         timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
INSERT INTO usage_events_v1 (tenant_id, id, meter, quantity, dimensions, at)
SELECT tenant_id, id, meter, quantity, dimensions, at FROM usage_events
WHERE EXISTS (SELECT 1 FROM tenants t WHERE t.id = usage_events.tenant_id)
ON CONFLICT DO NOTHING;
DROP TABLE usage_events;
DROP FUNCTION marquee_usage_partition(text);
ALTER TABLE usage_events_v1 RENAME TO usage_events;
ALTER TABLE usage_events RENAME CONSTRAINT usage_events_v1_pkey TO usage_events_pkey;
ALTER TABLE usage_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_events FORCE ROW LEVEL SECURITY;
CREATE POLICY usage_events_tenant ON usage_events USING (marquee_system() OR tenant_id = marquee_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON usage_events TO marquee_app;
