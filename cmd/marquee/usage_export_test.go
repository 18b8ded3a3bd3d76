package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/marquee-video/marquee/billing/metering"
	"github.com/marquee-video/marquee/internal/db"
)

// TestUsageExport runs `marquee admin usage-export` on an embedded
// database holding the platform tenant's usage.
func TestUsageExport(t *testing.T) {
	t.Setenv("DATABASE_URL", "") // the embedded database under dir, never a shared one
	ctx := context.Background()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"admin", "usage-export", "--data-dir", dir}, &out, &errb); err == nil || !strings.Contains(err.Error(), "no platform tenant") {
		t.Fatalf("export before any tenant: %v", err)
	}
	if err := run(ctx, []string{"admin", "create-user", "--data-dir", dir, "--email", "ops@example.com", "--password", "correct horse battery", "--platform"}, &out, &errb); err != nil {
		t.Fatalf("create-user: %v: %s", err, errb.String())
	}
	d, err := db.Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	var root string
	if err := d.System(ctx, func(tx *db.Tx) error {
		return tx.Raw("SELECT id FROM tenants WHERE kind = 'platform'").Scan(&root).Error
	}); err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Add(-time.Hour)
	if _, err := metering.NewIngester(d).Ingest(ctx, []metering.Event{
		{TenantID: root, ID: "x1", Meter: metering.EgressBytes, Quantity: decimal.RequireFromString("12.5"), Dimensions: map[string]string{"cdn": "fastly"}, At: at},
	}); err != nil {
		t.Fatal(err)
	}
	d.Close()
	period := at.Format("2006-01")

	out.Reset()
	if err := run(ctx, []string{"admin", "usage-export", "--data-dir", dir, "--period", period, "--format", "csv"}, &out, &errb); err != nil {
		t.Fatalf("csv export: %v: %s", err, errb.String())
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][0] != "usage" || rows[1][2] != root || rows[1][4] != "cdn=fastly" || rows[1][5] != "12.5" {
		t.Errorf("csv export = %v, %v", rows, err)
	}
	out.Reset()
	if err := run(ctx, []string{"admin", "usage-export", "--data-dir", dir, "--period", period}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	var e struct {
		Period string `json:"period"`
		Usage  []struct {
			Quantity string `json:"quantity"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(out.Bytes(), &e); err != nil || e.Period != period || len(e.Usage) != 1 || e.Usage[0].Quantity != "12.5" {
		t.Errorf("json export = %s (%v)", out.String(), err)
	}
	if err := run(ctx, []string{"admin", "usage-export", "--data-dir", dir, "--period", "2026-13"}, &out, &errb); err == nil {
		t.Error("a bad period was accepted")
	}
}
