package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/db/dbtest"
	"github.com/marquee-video/marquee/tenants"
)

// tenantTables lists every table with tenant data, from the catalog, so a
// new table is checked without anyone remembering. Partitions are left out:
// the application reaches them only through their parent, whose policy
// applies (internal/db checks that they force row security too).
func tenantTables(t *testing.T, d *db.DB) []string {
	t.Helper()
	rows, err := d.SQL().Query(`
		SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND EXISTS (
		      SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// asApp runs fn in a transaction as the application role, with the given
// tenant set (or none).
func asApp(t *testing.T, d *db.DB, tenant string, fn func(tx *sql.Tx) error) error {
	t.Helper()
	tx, err := d.SQL().BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.Exec("SET LOCAL ROLE " + db.AppRole); err != nil {
		t.Fatal(err)
	}
	if tenant != "" {
		if _, err := tx.Exec("SELECT set_config('app.tenant_id', $1, true)", tenant); err != nil {
			t.Fatal(err)
		}
	}
	return fn(tx)
}

func count(tx *sql.Tx, q string, args ...any) (int, error) {
	var n int
	err := tx.QueryRow(q, args...).Scan(&n)
	return n, err
}

// TestRowLevelSecurity fills every tenant table for two tenants, then reads
// as the application role: with no tenant set, nothing; with A set, only A's
// rows (and A's subtree, for the tenant tree itself).
func TestRowLevelSecurity(t *testing.T) {
	d := dbtest.Postgres(t)
	svc := newService(t, d)
	ctx := context.Background()
	a, _, _, err := svc.Signup(ctx, tenants.SignupInput{Email: "a@example.com", Password: "correct horse battery", Name: "Tenant A"})
	if err != nil {
		t.Fatal(err)
	}
	b, _, _, err := svc.Signup(ctx, tenants.SignupInput{Email: "b@example.com", Password: "correct horse battery", Name: "Tenant B"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ten := range []tenants.Tenant{a, b} {
		if _, _, err := svc.CreateAPIKey(ctx, ten, tenants.CreateAPIKeyInput{Name: "k", Role: "owner"}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddDomain(ctx, ten, tenants.AddDomainInput{Domain: ten.Slug + ".example.com"}); err != nil {
			t.Fatal(err)
		}
		err := d.System(ctx, func(tx *db.Tx) error {
			if err := tx.Exec("INSERT INTO quota_usage (tenant_id, resource, used) VALUES (?, 'storage_bytes', 10)", ten.ID).Error; err != nil {
				return err
			}
			for _, q := range []string{
				"INSERT INTO idempotency_keys (tenant_id, key, fingerprint, status, response_body, created_at) VALUES (?, 'k', 'f', 201, '', now())",
				"INSERT INTO assets (tenant_id, id, status, created_at, updated_at) VALUES (?, 'ast_1', 'waiting', now(), now())",
				"INSERT INTO jobs (tenant_id, id, asset_id, kind, state, queue, payload, created_at) VALUES (?, 'job_1', 'ast_1', 'transcode', 'pending', 'media-cpu', '{}', now())",
				"INSERT INTO usage_events (tenant_id, month, id, meter, quantity, at) VALUES (?, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM'), 'use_1', 'transcode_seconds', 1, now())",
				"INSERT INTO webhook_endpoints (tenant_id, id, url, events, secret, created_at) VALUES (?, 'whe_1', 'https://example.com/hook', '[]', 's', now())",
				"INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, event_type, payload, status, next_attempt_at, created_at) VALUES (?, 'whd_1', 'whe_1', 'asset.ready', '{}', 'pending', now(), now())",
				"INSERT INTO webhook_attempts (tenant_id, delivery_id, n, at, duration_ms) VALUES (?, 'whd_1', 1, now(), 3)",
				"INSERT INTO encoding_profiles (tenant_id, ladder, updated_at) VALUES (?, '[]', now())",
				"INSERT INTO billing_plans (tenant_id, id, name, currency, base_fee, created_at, updated_at) VALUES (?, 'pln_1', 'p', 'usd', 100, now(), now())",
				"INSERT INTO billing_accounts (tenant_id, issuer_id, updated_at) VALUES (?, 'ten_root', now())",
				"INSERT INTO billing_plan_history (tenant_id, starts_at, issuer_id, plan_id) VALUES (?, now(), 'ten_root', 'pln_1')",
				"INSERT INTO invoices (tenant_id, id, issuer_id, period, status, currency, subtotal, total, created_at, updated_at) VALUES (?, 'inv_1', 'ten_root', '2026-11', 'draft', 'usd', 0, 0, now(), now())",
				"INSERT INTO commerce_offers (tenant_id, id, kind, name, price, currency, created_at) VALUES (?, 'off_1', 'svod', 'o', 500, 'usd', now())",
				"INSERT INTO commerce_checkouts (tenant_id, id, offer_id, viewer_id, status, created_at) VALUES (?, 'cs_1', 'off_1', 'v', 'open', now())",
				"INSERT INTO usage_rollups_daily (tenant_id, hour, meter, dimensions_key, dimensions, quantity, events) VALUES (?, date_trunc('day', now()), 'transcode_seconds', '', '{}', 1, 1)",
				"INSERT INTO usage_rollups_hourly (tenant_id, hour, meter, dimensions_key, dimensions, quantity, events) VALUES (?, date_trunc('hour', now()), 'transcode_seconds', '', '{}', 1, 1)",
				// Playback ids and signing keys are globally unique: the ids
				// are made from the tenant's.
				"INSERT INTO playback_ids (id, tenant_id, asset_id, policy, created_at) SELECT 'pb_' || t, t, 'ast_1', 'signed', now() FROM (SELECT ?::text AS t) x",
				"INSERT INTO signing_keys (id, tenant_id, alg, public_key, created_at) SELECT 'sk_' || t, t, 'ES256', 'pem', now() FROM (SELECT ?::text AS t) x",
				"INSERT INTO cdn_configs (tenant_id, id, name, provider, base_url, created_at) VALUES (?, 'cdn_1', 'edge', 'nginx', 'https://edge.example.com', now())",
				"INSERT INTO drm_configs (tenant_id, config, updated_at) VALUES (?, '{}', now())",
				"INSERT INTO content_keys (tenant_id, asset_id, kid, kek_id, wrapped, created_at) VALUES (?, 'ast_1', '00', 'k1', 'w', now())",
				"INSERT INTO viewers (tenant_id, id, created_at) VALUES (?, 'v1', now())",
				"INSERT INTO viewer_profiles (tenant_id, viewer_id, id, name, created_at) VALUES (?, 'v1', 'p1', 'Kid', now())",
				"INSERT INTO entitlements (tenant_id, id, viewer_id, kind, tier, created_at) VALUES (?, 'ent_1', 'v1', 'svod', 'gold', now())",
				"INSERT INTO titles (tenant_id, id, kind, status, title, created_at, updated_at) VALUES (?, 'ttl_1', 'series', 'published', 'Show', now(), now())",
				"INSERT INTO catalog_terms (tenant_id, term, titles) VALUES (?, 'show', 1)",
				"INSERT INTO seasons (tenant_id, id, title_id, number, created_at, updated_at) VALUES (?, 'sea_1', 'ttl_1', 1, now(), now())",
				"INSERT INTO episodes (tenant_id, id, title_id, season_id, number, created_at, updated_at) VALUES (?, 'epi_1', 'ttl_1', 'sea_1', 1, now(), now())",
				"INSERT INTO collections (tenant_id, id, name, status, created_at, updated_at) VALUES (?, 'col_1', 'Row', 'published', now(), now())",
				"INSERT INTO collection_items (tenant_id, collection_id, position, title_id) VALUES (?, 'col_1', 0, 'ttl_1')",
				"INSERT INTO viewer_events (tenant_id, id, viewer_id, title_id, type, at) VALUES (?, 'vev_1', 'v1', 'ttl_1', 'play', now())",
				"INSERT INTO watch_progress (tenant_id, viewer_id, title_id, updated_at) VALUES (?, 'v1', 'ttl_1', now())",
				"INSERT INTO recommendation_models (tenant_id, model, built_at) VALUES (?, '\\x00', now())",
			} {
				if err := tx.Exec(q, ten.ID).Error; err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	tables := append(tenantTables(t, d), "tenants")
	if len(tables) < 8 {
		t.Fatalf("found only tables %v", tables)
	}
	col := func(table string) string {
		if table == "tenants" {
			return "id"
		}
		return "tenant_id"
	}
	for _, table := range tables {
		t.Run(table, func(t *testing.T) {
			err := asApp(t, d, "", func(tx *sql.Tx) error {
				n, err := count(tx, "SELECT count(*) FROM "+table)
				if err == nil && n != 0 {
					err = fmt.Errorf("no tenant set: %d rows visible, want 0", n)
				}
				return err
			})
			if err != nil {
				t.Error(err)
			}
			err = asApp(t, d, a.ID, func(tx *sql.Tx) error {
				mine, err := count(tx, "SELECT count(*) FROM "+table+" WHERE "+col(table)+" = $1", a.ID)
				if err != nil {
					return err
				}
				others, err := count(tx, "SELECT count(*) FROM "+table+" WHERE "+col(table)+" <> $1", a.ID)
				if err != nil {
					return err
				}
				if mine == 0 || others != 0 {
					return fmt.Errorf("as A: %d of A's rows and %d of others' visible", mine, others)
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}

	// Writing into another tenant is refused by the policy, not just hidden.
	err = asApp(t, d, a.ID, func(tx *sql.Tx) error {
		_, err := tx.Exec("INSERT INTO branding (tenant_id, display_name, primary_color, accent_color, background_color, email_sender_name, updated_at) VALUES ($1, 'x', '#000000', '#000000', '#000000', 'x', now())", b.ID)
		return err
	})
	if err == nil {
		t.Fatal("as A, inserting a row for B succeeded")
	}
	err = asApp(t, d, a.ID, func(tx *sql.Tx) error {
		res, err := tx.Exec("UPDATE branding SET display_name = 'pwned' WHERE tenant_id = $1", b.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 0 {
			return fmt.Errorf("as A, updated %d of B's rows", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
