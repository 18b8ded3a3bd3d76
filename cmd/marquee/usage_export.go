package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/marquee-video/marquee/billing/invoices"
	"github.com/marquee-video/marquee/billing/metering"
	"github.com/marquee-video/marquee/internal/db"
)

// usageExport writes every tenant's usage and invoices for a period, as
// GET /v1/ops/usage does: `marquee admin usage-export --period 2026-11
// [--format json|csv] [--out FILE]`.
func usageExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin usage-export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	c.register(fs, false)
	period := fs.String("period", time.Now().UTC().Format("2006-01"), "the month, YYYY-MM (UTC)")
	format := fs.String("format", "json", "json or csv")
	out := fs.String("out", "", "write to this file instead of standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *format != "json" && *format != "csv" {
		return errors.New("--format must be json or csv")
	}
	if _, _, err := invoices.ParsePeriod(*period); err != nil {
		return err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	d, err := openDB(ctx, c)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.MigrateUp(ctx, log); err != nil {
		return err
	}
	var root string
	if err := d.System(ctx, func(tx *db.Tx) error {
		return tx.Raw("SELECT id FROM tenants WHERE kind = 'platform' AND parent_id IS NULL").Scan(&root).Error
	}); err != nil {
		return err
	}
	if root == "" {
		return errors.New("no platform tenant yet: start the control plane once")
	}
	e, err := invoices.BuildExport(ctx, metering.NewIngester(d), invoices.New(d), root, *period)
	if err != nil {
		return err
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if *format == "csv" {
		err = invoices.WriteCSV(w, e)
	} else {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(e)
	}
	if err != nil {
		return fmt.Errorf("usage export: %w", err)
	}
	return nil
}
