-- Hourly usage rollups (see migrations/postgres/00004_usage_rollups.sql).

-- +goose Up
CREATE TABLE usage_rollups_hourly (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    hour           DATETIME NOT NULL,
    meter          TEXT NOT NULL,
    dimensions_key TEXT NOT NULL,
    dimensions     TEXT NOT NULL DEFAULT '{}',
    quantity       REAL NOT NULL CHECK (quantity >= 0),
    events         INTEGER NOT NULL CHECK (events >= 0),
    PRIMARY KEY (tenant_id, hour, meter, dimensions_key)
);

-- +goose Down
DROP TABLE usage_rollups_hourly;
