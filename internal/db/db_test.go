package db_test

import (
	"context"
	"io/fs"
	"slices"
	"testing"

	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/db/dbtest"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/migrations"
)

func TestMigrationVersionsMatchAcrossDialects(t *testing.T) {
	names := func(f fs.FS) []string {
		m, err := fs.Glob(f, "*.sql")
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(m)
		return m
	}
	pg, lite := names(migrations.Postgres()), names(migrations.SQLite())
	if len(pg) == 0 || !slices.Equal(pg, lite) {
		t.Fatalf("migration files differ:\npostgres %v\nsqlite   %v", pg, lite)
	}
}

func TestMigrateDownAndUpAgain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		p, err := d.Migrator()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.DownTo(ctx, 0); err != nil {
			t.Fatalf("down: %v", err)
		}
		if _, err := p.Up(ctx); err != nil {
			t.Fatalf("up again: %v", err)
		}
		if pending, err := p.HasPending(ctx); err != nil || pending {
			t.Fatalf("pending after up: %v %v", pending, err)
		}
	})
}

// Every table that holds tenant data must have row-level security enabled
// and forced, so a new migration cannot forget it.
func TestEveryTenantTableHasForcedRLS(t *testing.T) {
	d := dbtest.Postgres(t)
	rows, err := d.SQL().Query(`
		SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
		  AND (c.relname = 'tenants' OR EXISTS (
		      SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var name string
		var enabled, forced bool
		if err := rows.Scan(&name, &enabled, &forced); err != nil {
			t.Fatal(err)
		}
		n++
		if !enabled || !forced {
			t.Errorf("table %s: row security enabled=%v forced=%v", name, enabled, forced)
		}
	}
	if n < 5 {
		t.Fatalf("found only %d tenant tables", n)
	}
}

func TestAppRoleCannotBypassRLS(t *testing.T) {
	d := dbtest.Postgres(t)
	var bypass, super bool
	if err := d.SQL().QueryRow(`SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = $1`, db.AppRole).Scan(&bypass, &super); err != nil {
		t.Fatal(err)
	}
	if bypass || super {
		t.Fatalf("%s: bypassrls=%v superuser=%v", db.AppRole, bypass, super)
	}
	// Inside a tenant transaction the session really is the app role.
	err := d.Tx(context.Background(), "ten_x", func(tx *db.Tx) error {
		var role, tenant string
		if err := tx.Raw("SELECT current_user, current_setting('app.tenant_id')").Row().Scan(&role, &tenant); err != nil {
			return err
		}
		if role != db.AppRole || tenant != "ten_x" {
			t.Errorf("in tenant tx: role %q tenant %q", role, tenant)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTranslate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		insert := func(tx *db.Tx) error {
			return db.Translate(tx.Exec(`INSERT INTO users (id, email, password_hash, created_at) VALUES ('usr_1', 'a@example.com', 'x', CURRENT_TIMESTAMP)`).Error)
		}
		if err := d.System(ctx, insert); err != nil {
			t.Fatal(err)
		}
		err := d.System(ctx, insert)
		if !errs.Is(err, errs.Conflict) {
			t.Fatalf("duplicate insert: got %v, want Conflict", err)
		}
		err = d.System(ctx, func(tx *db.Tx) error {
			var id string
			return db.Translate(tx.Raw(`SELECT id FROM users WHERE id = 'nope'`).Row().Scan(&id))
		})
		if !errs.Is(err, errs.NotFound) {
			t.Fatalf("missing row: got %v, want NotFound", err)
		}
	})
}
