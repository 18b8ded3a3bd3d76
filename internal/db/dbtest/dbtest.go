// Package dbtest gives each test a fresh, migrated database: a new PostgreSQL
// database copied from a migrated template (fast, and parallel packages never
// share state), or a new embedded SQLite file in t.TempDir(). Each runs the
// same store suites over both engines.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/migrations"
)

// DefaultPostgresURL is used when DATABASE_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// PostgresURL is the server tests create their databases on.
func PostgresURL() string {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// Each runs fn as two subtests, "postgres" and "sqlite", each with its own
// fresh database.
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
}

// SQLite opens a migrated embedded database in t.TempDir().
func SQLite(t testing.TB) *db.DB {
	t.Helper()
	ctx := context.Background()
	d, err := db.OpenSQLite(ctx, filepath.Join(t.TempDir(), "marquee.db"))
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	if err := d.MigrateUp(ctx, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	return d
}

// Postgres creates a fresh migrated database and drops it when the test ends.
func Postgres(t testing.TB) *db.DB {
	t.Helper()
	u := NewPostgresDatabase(t)
	d, err := db.OpenPostgres(context.Background(), u)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// NewPostgresDatabase creates a fresh migrated database, registers its drop,
// and returns its URL (for tests that start the binary, say).
func NewPostgresDatabase(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := PostgresURL()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("dbtest: connect %s: %v (is PostgreSQL running? `make test` starts it)", redact(base), err)
	}
	defer admin.Close(ctx)

	tpl, err := ensureTemplate(ctx, admin, base)
	if err != nil {
		t.Fatalf("dbtest: template: %v", err)
	}
	name := "marquee_test_" + randomHex(6)
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tpl)); err != nil {
		t.Fatalf("dbtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("dbtest: drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)); err != nil {
			t.Logf("dbtest: drop %s: %v", name, err)
		}
	})
	return withDatabase(base, name)
}

// ensureTemplate creates, once per migration set, a migrated template
// database. An advisory lock keeps parallel test binaries from racing.
func ensureTemplate(ctx context.Context, admin *pgx.Conn, base string) (string, error) {
	sum, err := migrationsHash()
	if err != nil {
		return "", err
	}
	tpl := "marquee_tpl_" + sum[:12]
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(7264001)"); err != nil {
		return "", err
	}
	defer func() { _, _ = admin.Exec(context.Background(), "SELECT pg_advisory_unlock(7264001)") }()

	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", tpl).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return tpl, nil
	}
	building := tpl + "_build"
	if _, err := admin.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", building)); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s", building)); err != nil {
		return "", err
	}
	d, err := db.OpenPostgres(ctx, withDatabase(base, building))
	if err != nil {
		return "", err
	}
	err = d.MigrateUp(ctx, slog.New(slog.DiscardHandler))
	_ = d.Close()
	if err != nil {
		return "", err
	}
	// Renamed only once complete, so a crash mid-migration never leaves a
	// half-built template behind under the real name.
	if _, err := admin.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", building, tpl)); err != nil {
		return "", err
	}
	return tpl, nil
}

func migrationsHash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.Postgres(), ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.Postgres(), p)
		if err != nil {
			return err
		}
		h.Write([]byte(p))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		// key=value DSN
		return base + " dbname=" + name
	}
	u.Path = "/" + name
	return u.String()
}

func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "the database"
	}
	return p.Redacted()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}
