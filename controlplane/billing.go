package controlplane

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/hibiken/asynq"

	"github.com/marquee-video/marquee/billing/commerce"
	"github.com/marquee-video/marquee/billing/invoices"
	"github.com/marquee-video/marquee/billing/metering"
	"github.com/marquee-video/marquee/billing/plans"
	bstripe "github.com/marquee-video/marquee/billing/stripe"
	"github.com/marquee-video/marquee/controlplane/api"
	"github.com/marquee-video/marquee/controlplane/playback"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/queue"
	"github.com/marquee-video/marquee/tenants"
)

// BillingConfig configures billing. Every field is optional: without a
// Stripe key Stripe is off and invoices are computed and finalized locally.
type BillingConfig struct {
	StripeSecretKey     string
	StripeWebhookSecret string
	// StripeAPIURL points the Stripe client at stripe-mock, and
	// StripeHTTPClient replaces its HTTP client (tests record calls).
	StripeAPIURL     string
	StripeHTTPClient *http.Client
	// DunningGrace is how long an account stays past due before its
	// tenant is suspended (zero: 7 days); DunningInterval is how often
	// that is checked (zero: 1 hour).
	DunningGrace    time.Duration
	DunningInterval time.Duration
	// Granter records viewers' entitlements from completed checkouts (the
	// playback side). Nil: completed checkouts are refused as unavailable,
	// so Stripe retries them once a granter is wired.
	Granter commerce.Granter
}

// billingParts is billing as wired into the App.
type billingParts struct {
	api      *api.Billing
	dunning  *invoices.Dunning
	interval time.Duration
}

func newBilling(d *db.DB, ts *tenants.Service, cfg BillingConfig, log *slog.Logger) *billingParts {
	granter := cfg.Granter
	if granter == nil {
		granter = unwiredGranter{}
	}
	sc := bstripe.NewClient(bstripe.Config{SecretKey: cfg.StripeSecretKey, APIURL: cfg.StripeAPIURL, HTTPClient: cfg.StripeHTTPClient})
	inv := invoices.New(d)
	dun := invoices.NewDunning(d, tenantSuspender{ts: ts}, cfg.DunningGrace)
	com := commerce.New(d, sc, granter)
	st := bstripe.New(bstripe.Config{WebhookSecret: cfg.StripeWebhookSecret, Log: log}, sc, d, inv, dun, com)
	interval := cfg.DunningInterval
	if interval <= 0 {
		interval = time.Hour
	}
	return &billingParts{
		api:      &api.Billing{Metering: metering.NewIngester(d), Book: plans.NewBook(d), Invoices: inv, Stripe: st, Commerce: com},
		dunning:  dun,
		interval: interval,
	}
}

// gate refuses new media work past a monthly usage quota.
func (b *billingParts) gate(ctx context.Context, tenant string) error {
	return b.api.Metering.CheckQuotas(ctx, tenant, time.Now().UTC())
}

// SweepDunning suspends now every tenant past its grace period, as the
// hourly loop does; it returns the tenants suspended (operations, tests).
func (a *App) SweepDunning(ctx context.Context) ([]string, error) {
	return a.billing.dunning.Sweep(ctx)
}

// Closing a month: shortly after midnight UTC on the 1st, the month that
// ended is invoiced (drafts computed, finalized, mirrored to Stripe when it
// is on).
const (
	TaskClosePeriod = "billing:close_period"
	ClosePeriodCron = "20 0 1 * *"
)

// ClosePeriod invoices the month before now's for every issuer and, with
// Stripe on, mirrors every open invoice of the month not mirrored yet (of a
// tenant with a Stripe customer), so a retry after a Stripe failure
// finishes the job. Idempotent: finalized invoices are left alone, and
// mirroring uses idempotency keys.
func (b *billingParts) ClosePeriod(ctx context.Context, now time.Time) ([]invoices.Invoice, error) {
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	period := first.AddDate(0, -1, 0).Format("2006-01")
	closed, err := b.api.Invoices.ClosePeriod(ctx, period, nil)
	if err != nil || !b.api.Stripe.Enabled() {
		return closed, err
	}
	all, err := b.api.Invoices.All(ctx, period)
	if err != nil {
		return closed, err
	}
	for _, inv := range all {
		if inv.Status != invoices.StatusOpen || inv.StripeInvoiceID != nil {
			continue
		}
		acct, err := b.api.Book.Account(ctx, inv.IssuerID, inv.TenantID)
		if err != nil {
			return closed, err
		}
		if acct.StripeCustomerID == nil {
			continue
		}
		if _, err := b.api.Stripe.Mirror(ctx, inv, *acct.StripeCustomerID); err != nil {
			return closed, err
		}
	}
	return closed, nil
}

// runJobs serves billing's periodic asynq jobs (the hourly storage sample)
// and schedules them, until ctx ends. The scheduler may run in every
// control-plane process: the sample is idempotent per hour, and the task is
// unique per hour in the queue.
func (b *billingParts) runJobs(ctx context.Context, redis asynq.RedisConnOpt, log *slog.Logger) {
	srv := asynq.NewServer(redis, asynq.Config{
		Concurrency: 1, Queues: map[string]int{metering.QueueBilling: 1},
		Logger: queue.Logger(log), LogLevel: asynq.WarnLevel,
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(metering.TaskSampleStorage, b.api.Metering.HandleSampleStorage)
	mux.HandleFunc(TaskClosePeriod, func(ctx context.Context, _ *asynq.Task) error {
		_, err := b.ClosePeriod(ctx, time.Now().UTC())
		return err
	})
	if err := srv.Start(mux); err != nil {
		log.ErrorContext(ctx, "billing jobs", "err", err)
		return
	}
	sched := asynq.NewScheduler(redis, &asynq.SchedulerOpts{Logger: queue.Logger(log), LogLevel: asynq.WarnLevel, Location: time.UTC})
	if _, err := sched.Register(metering.SampleStorageCron, asynq.NewTask(metering.TaskSampleStorage, nil),
		asynq.Queue(metering.QueueBilling), asynq.Unique(50*time.Minute), asynq.MaxRetry(5)); err != nil {
		log.ErrorContext(ctx, "billing schedule", "err", err)
	} else if _, err := sched.Register(ClosePeriodCron, asynq.NewTask(TaskClosePeriod, nil),
		asynq.Queue(metering.QueueBilling), asynq.Unique(12*time.Hour), asynq.MaxRetry(10)); err != nil {
		log.ErrorContext(ctx, "billing schedule", "err", err)
	} else if err := sched.Start(); err != nil {
		log.ErrorContext(ctx, "billing scheduler", "err", err)
	}
	<-ctx.Done()
	sched.Shutdown()
	srv.Shutdown()
}

// runDunning suspends accounts past their grace period, every interval,
// until ctx ends.
func (b *billingParts) runDunning(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(b.interval)
	defer t.Stop()
	for {
		if done, err := b.dunning.Sweep(ctx); err != nil && ctx.Err() == nil {
			log.ErrorContext(ctx, "dunning sweep", "err", err)
		} else if len(done) > 0 {
			log.InfoContext(ctx, "suspended for non-payment", "tenants", done)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// tenantSuspender suspends and resumes through the tenant service, acting
// as the platform root, exactly as PATCH /v1/tenants/:id does.
type tenantSuspender struct {
	ts *tenants.Service
}

func (s tenantSuspender) root(ctx context.Context) (tenants.Tenant, error) { return s.ts.Root(ctx) }

func (s tenantSuspender) Suspend(ctx context.Context, id string) (bool, error) {
	root, err := s.root(ctx)
	if err != nil {
		return false, err
	}
	t, err := s.ts.Tenant(ctx, root, id)
	if err != nil {
		return false, err
	}
	if t.Status == tenants.StatusSuspended {
		return false, nil
	}
	st := tenants.StatusSuspended
	if _, err := s.ts.UpdateChild(ctx, root, id, tenants.UpdateTenantInput{Status: &st}); err != nil {
		return false, err
	}
	return true, nil
}

func (s tenantSuspender) Resume(ctx context.Context, id string) error {
	root, err := s.root(ctx)
	if err != nil {
		return err
	}
	t, err := s.ts.Tenant(ctx, root, id)
	if err != nil {
		return err
	}
	// Resume only the suspension of this tenant itself (an ancestor's
	// suspension is not billing's to lift).
	if t.Status != tenants.StatusSuspended || t.SuspendedBy == nil || *t.SuspendedBy != id {
		return nil
	}
	st := tenants.StatusActive
	_, err = s.ts.UpdateChild(ctx, root, id, tenants.UpdateTenantInput{Status: &st})
	return err
}

// unwiredGranter refuses grants until the playback side's is wired, so
// that Stripe retries the webhook instead of the grant being lost.
type unwiredGranter struct{}

var errNoGranter = errs.E(errs.Unavailable, "entitlements_unavailable", "viewer entitlements are not wired on this platform yet")

func (unwiredGranter) Grant(context.Context, commerce.Grant) error  { return errNoGranter }
func (unwiredGranter) Revoke(context.Context, string, string) error { return errNoGranter }

// playbackGranter records checkout grants as the playback side's
// entitlements, which the playback policy reads. A grant names the asset
// it rents or sells (an asset id, or a catalog title resolved to its
// asset); the viewer is created on its first grant.
type playbackGranter struct{ app *App }

func (g playbackGranter) Grant(ctx context.Context, gr commerce.Grant) error {
	pb := g.app.playback
	if pb == nil {
		return errNoGranter
	}
	if err := pb.EnsureViewer(ctx, gr.TenantID, gr.ViewerID); err != nil {
		return err
	}
	in := playback.GrantInput{ID: gr.ID, Kind: gr.Kind, Tier: gr.Tier}
	if !gr.ExpiresAt.IsZero() {
		exp := gr.ExpiresAt
		in.ExpiresAt = &exp
	}
	if gr.Kind == playback.KindRental || gr.Kind == playback.KindPurchase {
		asset, err := g.app.assetOfTitle(ctx, gr.TenantID, gr.TitleID)
		if err != nil {
			return err
		}
		in.AssetID = asset
		if gr.Window > 0 {
			in.WindowHours = int((gr.Window + time.Hour - 1) / time.Hour)
		}
	}
	_, err := pb.Grant(ctx, gr.TenantID, gr.ViewerID, in)
	return err
}

func (g playbackGranter) Revoke(ctx context.Context, tenantID, grantID string) error {
	pb := g.app.playback
	if pb == nil {
		return errNoGranter
	}
	err := pb.RevokeGrant(ctx, tenantID, grantID)
	if errs.Is(err, errs.NotFound) {
		return nil // never granted, or already gone: revoking is idempotent
	}
	return err
}
