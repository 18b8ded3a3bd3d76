// Package controlplane assembles Marquee's control plane: the database, the
// queue's Redis, the tenancy domain, the policy engines and the HTTP API with
// the portal. cmd/marquee starts an App for `dev` and `controlplane`; tests
// start one on port 0 through controlplane/cptest.
package controlplane

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/marquee-video/marquee/controlplane/api"
	"github.com/marquee-video/marquee/controlplane/assets"
	assetstore "github.com/marquee-video/marquee/controlplane/assets/sqlstore"
	"github.com/marquee-video/marquee/controlplane/catalog"
	catalogstore "github.com/marquee-video/marquee/controlplane/catalog/sqlstore"
	"github.com/marquee-video/marquee/controlplane/nodes"
	"github.com/marquee-video/marquee/controlplane/playback"
	pbstore "github.com/marquee-video/marquee/controlplane/playback/sqlstore"
	"github.com/marquee-video/marquee/controlplane/uploads"
	"github.com/marquee-video/marquee/controlplane/usage"
	"github.com/marquee-video/marquee/controlplane/webhooks"
	hookstore "github.com/marquee-video/marquee/controlplane/webhooks/sqlstore"
	"github.com/marquee-video/marquee/dataplane/drm"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/idempotency"
	"github.com/marquee-video/marquee/internal/ids"
	"github.com/marquee-video/marquee/internal/netguard"
	"github.com/marquee-video/marquee/internal/objects"
	"github.com/marquee-video/marquee/internal/queue"
	"github.com/marquee-video/marquee/policies"
	"github.com/marquee-video/marquee/portal"
	"github.com/marquee-video/marquee/tenants"
	"github.com/marquee-video/marquee/tenants/sqlstore"
)

// Config is everything an App is built from. Zero values mean the embedded
// default: SQLite and objects under DataDir, an in-process Redis.
type Config struct {
	// Addr is the listen address; port 0 picks a free one.
	Addr string
	// DataDir holds the embedded database, objects and the session key.
	DataDir string
	// DatabaseURL selects PostgreSQL.
	DatabaseURL string
	// RedisURL selects a real Redis; empty starts the embedded one.
	RedisURL string
	// SessionSecret signs session tokens; empty reads or creates
	// DataDir/session.key.
	SessionSecret []byte
	// SessionTTL is a session token's lifetime.
	SessionTTL time.Duration
	// Migrate applies pending migrations at start.
	Migrate bool
	// APIKeyRequestsPerMinute bounds each API key.
	APIKeyRequestsPerMinute int
	// Resolver answers custom-domain TXT lookups; nil uses the system's.
	Resolver tenants.TXTResolver
	// S3 selects S3-compatible object storage; nil keeps objects under
	// DataDir/objects.
	S3 *objects.S3Config
	// NodeKey is what worker nodes present to enroll; empty reads or
	// creates DataDir/node.key.
	NodeKey []byte
	// RelayInterval and QueuedLease tune the outbox relay (zero: defaults).
	RelayInterval time.Duration
	QueuedLease   time.Duration
	// UploadMaxBytes is the largest direct upload (zero: 50 GiB); partial
	// uploads are kept under DataDir/uploads.
	UploadMaxBytes int64
	// WebhookAllowCIDRs lets webhooks reach these otherwise forbidden
	// (private, loopback) addresses; WebhookPollInterval and WebhookBackoff
	// tune delivery (zero: defaults).
	WebhookAllowCIDRs   []netip.Prefix
	WebhookPollInterval time.Duration
	WebhookBackoff      func(n int) time.Duration
	// PublicURL is how viewers reach this control plane (the built-in
	// origin, steering and license URLs); empty: the listening address.
	PublicURL string
	// KEK is the key-encryption key ring that wraps content keys
	// ("k1:<64 hex>,k2:<64 hex>", the last active); empty reads or creates
	// DataDir/kek.key.
	KEK string
	// GeoHeader is the trusted edge's country header (default
	// CF-IPCountry), believed from TrustedProxyCIDRs (default loopback);
	// GeoIPDB a MaxMind-format country database for everyone else.
	GeoHeader         string
	TrustedProxyCIDRs []netip.Prefix
	GeoIPDB           string
	// CDNProbeInterval is how often CDN canaries are probed (default 10s);
	// UsageFlushInterval how often hot-path usage (egress, licenses) is
	// ingested (default 5s).
	CDNProbeInterval   time.Duration
	UsageFlushInterval time.Duration
	// Billing configures Stripe, dunning and entitlements (zero: Stripe off).
	Billing BillingConfig
	// RecommendationsEvery is how often every tenant's recommendation
	// model is rebuilt (zero: hourly).
	RecommendationsEvery time.Duration
	Log                  *slog.Logger
}

// App is a running control plane.
type App struct {
	cfg        Config
	log        *slog.Logger
	db         *db.DB
	redis      *queue.Redis
	tenants    *tenants.Service
	assets     *assets.Service
	objects    objects.Store
	relay      *assets.Relay
	dispatcher *webhooks.Dispatcher
	queue      *asynq.Client
	nodeKey    []byte
	server     *api.Server
	playback   *playback.Service
	usage      *usage.Counter
	geo        *playback.Geo
	billing    *billingParts
	ln         net.Listener
	reco       *catalog.Recommender
}

// New opens every dependency and listens, without serving yet.
func New(ctx context.Context, cfg Config) (_ *App, err error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.DataDir == "" {
		cfg.DataDir = ".marquee"
	}
	a := &App{cfg: cfg, log: cfg.Log}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	if a.db, err = db.Open(ctx, cfg.DatabaseURL, cfg.DataDir); err != nil {
		return nil, err
	}
	if cfg.Migrate {
		if err = a.db.MigrateUp(ctx, cfg.Log); err != nil {
			return nil, err
		}
	}
	if cfg.RedisURL != "" {
		a.redis, err = queue.Connect(cfg.RedisURL)
	} else {
		a.redis, err = queue.StartEmbedded()
	}
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	secret := cfg.SessionSecret
	if len(secret) == 0 {
		if secret, err = secretFile(cfg.DataDir, "session.key"); err != nil {
			return nil, err
		}
	}
	sessions, err := tenants.NewSessions(secret, cfg.SessionTTL)
	if err != nil {
		return nil, err
	}
	var objs objects.Store
	if cfg.S3 != nil {
		objs, err = objects.NewS3(ctx, *cfg.S3)
	} else {
		objs, err = objects.NewLocal(filepath.Join(cfg.DataDir, "objects"))
	}
	if err != nil {
		return nil, err
	}
	a.objects = objs
	quotas, err := policies.NewQuotaPolicy(ctx)
	if err != nil {
		return nil, err
	}
	access, err := policies.NewAccessPolicy(ctx)
	if err != nil {
		return nil, err
	}
	authz, err := policies.NewAuthorizer()
	if err != nil {
		return nil, err
	}
	resolver := cfg.Resolver
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	a.tenants, err = tenants.NewService(tenants.Config{
		Store: sqlstore.New(a.db), Quotas: quotas, Objects: objs, Sessions: sessions, Resolver: resolver, Log: cfg.Log,
	})
	if err != nil {
		return nil, err
	}
	if _, err = a.tenants.EnsureRoot(ctx); err != nil {
		return nil, fmt.Errorf("platform root: %w", err)
	}
	a.queue = asynq.NewClient(a.redis.ClientOpt())
	hooksStore := hookstore.New(a.db)
	hooks := webhooks.NewService(hooksStore, netguard.Policy{Allow: cfg.WebhookAllowCIDRs})
	a.dispatcher = webhooks.NewDispatcher(hooksStore, webhooks.DispatcherConfig{Allow: cfg.WebhookAllowCIDRs, PollInterval: cfg.WebhookPollInterval, Backoff: cfg.WebhookBackoff, Log: cfg.Log})
	assetStore := assetstore.New(a.db, hooks)
	bcfg := cfg.Billing
	if bcfg.Granter == nil {
		bcfg.Granter = playbackGranter{app: a}
	}
	a.billing = newBilling(a.db, a.tenants, bcfg, cfg.Log)
	a.usage = usage.New(a.billing.api.Metering.Ingest, cfg.Log)
	a.relay = assets.NewRelay(assetStore, a.queue, assets.RelayConfig{Interval: cfg.RelayInterval, QueuedLease: cfg.QueuedLease, Log: cfg.Log})
	a.assets, err = assets.NewService(assets.Config{Store: assetStore, Quotas: quotas, Objects: objs, Poke: a.relay.Poke, Log: cfg.Log, Gate: a.billing.gate})
	if err != nil {
		return nil, err
	}
	a.nodeKey = cfg.NodeKey
	if len(a.nodeKey) == 0 {
		if a.nodeKey, err = secretFile(cfg.DataDir, "node.key"); err != nil {
			return nil, err
		}
	}
	registry, err := nodes.NewRegistry(a.db, []byte(hex.EncodeToString(a.nodeKey)))
	if err != nil {
		return nil, err
	}
	ups, err := uploads.NewService(uploads.Config{
		Dir: filepath.Join(cfg.DataDir, "uploads"), Objects: objs, Assets: a.assets, Quotas: quotas,
		Storage: a.storageQuota, Key: derivedKey(secret, "uploads"), MaxSize: cfg.UploadMaxBytes, Log: cfg.Log,
	})
	if err != nil {
		return nil, err
	}
	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	if a.ln, err = net.Listen("tcp", addr); err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	if err = a.openPlayback(ctx, secret); err != nil {
		return nil, err
	}
	catStore := catalogstore.New(a.db)
	cat := catalog.NewService(catStore).WithObjects(objs)
	a.reco = catalog.NewRecommender(catalog.RecommenderConfig{Catalog: cat, Store: catStore, Queue: a.queue, Log: cfg.Log})
	a.server, err = api.New(api.Config{
		Billing: a.billing.api, Playback: a.playback, Geo: a.geo,
		Assets: a.assets, Nodes: registry, Media: objs, Webhooks: hooks, Uploads: ups,
		Catalog: cat, Recommendations: a.reco,
		Tenants: a.tenants, Authz: authz, Access: access, Log: cfg.Log, Portal: portal.Assets(),
		APIKeyRequestsPerMinute: cfg.APIKeyRequestsPerMinute,
		Idempotency:             idempotency.New(a.db),
		Ready: []api.ReadyCheck{
			{Name: "database", Check: a.db.Ping},
			{Name: "redis", Check: a.redis.Ping},
		},
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// openPlayback builds the playback service: the KEK ring, the entitlement
// policy, geo and the per-tenant origin secret.
func (a *App) openPlayback(ctx context.Context, secret []byte) error {
	spec := a.cfg.KEK
	if spec == "" {
		k, err := secretFile(a.cfg.DataDir, "kek.key")
		if err != nil {
			return err
		}
		spec = "k1:" + hex.EncodeToString(k)
	}
	ring, err := drm.ParseKeyRing(spec)
	if err != nil {
		return fmt.Errorf("key-encryption keys: %w", err)
	}
	policy, err := policies.NewPlaybackPolicy(ctx)
	if err != nil {
		return err
	}
	trusted := a.cfg.TrustedProxyCIDRs
	if trusted == nil {
		trusted = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	if a.geo, err = playback.OpenGeo(a.cfg.GeoHeader, trusted, a.cfg.GeoIPDB); err != nil {
		return err
	}
	public := a.cfg.PublicURL
	if public == "" {
		public = a.URL()
	}
	a.playback, err = playback.NewService(playback.Config{
		Store: pbstore.New(a.db), Assets: a.assets, Objects: a.objects, Policy: policy, Keys: ring,
		OriginSecret: derivedKey(secret, "origin"), PublicURL: public,
		LicenseGuard: netguard.Policy{Allow: a.cfg.WebhookAllowCIDRs}, Usage: a.usage, Log: a.cfg.Log,
	})
	return err
}

// secretFile reads a 32-byte secret kept hex-encoded in the data directory,
// creating it on first start so it survives restarts (the session signing
// key, the node enrollment key).
func secretFile(dir, name string) ([]byte, error) {
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if err == nil {
		return hex.DecodeString(strings.TrimSpace(string(b)))
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(key)), 0o600); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return key, nil
}

// derivedKey is a key for one purpose derived from a shared secret, so that
// a token of one kind can never pass for another.
func derivedKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("marquee key\x00" + purpose))
	return m.Sum(nil)
}

// storageQuota is a tenant's storage_bytes limit and use, read as the tenant
// itself (uploads are checked where no principal is at hand).
func (a *App) storageQuota(ctx context.Context, tenant string) (*int64, int64, error) {
	r, err := a.tenants.Quotas(ctx, tenants.Tenant{ID: tenant}, tenant)
	if err != nil {
		return nil, 0, err
	}
	return r.Limits[tenants.ResStorageBytes], r.Usage[tenants.ResStorageBytes], nil
}

// URL is the base URL the App answers on.
func (a *App) URL() string { return "http://" + a.ln.Addr().String() }

// Tenants is the tenancy service (for the admin CLI and tests).
func (a *App) Tenants() *tenants.Service { return a.tenants }

// Objects is the object store (the in-process worker of `dev` shares it).
func (a *App) Objects() objects.Store { return a.objects }

// NodeKey is the enrollment key worker nodes present, as they send it.
func (a *App) NodeKey() string { return hex.EncodeToString(a.nodeKey) }

// RedisAddr is the queue's Redis address (host:port), for worker processes.
func (a *App) RedisAddr() string { return a.redis.Addr() }

// RedisOpt is the queue's Redis, for an in-process worker.
func (a *App) RedisOpt() asynq.RedisConnOpt { return a.redis.ClientOpt() }

// Assets is the assets service (for tests).
func (a *App) Assets() *assets.Service { return a.assets }

// DB is the database (for tests).
func (a *App) DB() *db.DB { return a.db }

// Server is the API server (for tests).
func (a *App) Server() *api.Server { return a.server }

// Serve answers requests and runs the background loops (the outbox relay,
// webhook delivery) until ctx ends, then shuts down gracefully: it stops
// accepting, lets in-flight requests finish (up to 20 s), stops the loops,
// and only then closes the database and Redis.
func (a *App) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- a.server.Serve(a.ln) }()
	bgCtx, stopBackground := context.WithCancel(ctx)
	var bg sync.WaitGroup
	bg.Go(func() { a.relay.Run(bgCtx) })
	bg.Go(func() { _ = a.dispatcher.Run(bgCtx) })
	probe := a.cfg.CDNProbeInterval
	if probe <= 0 {
		probe = 10 * time.Second
	}
	bg.Go(func() { a.playback.RunProbes(bgCtx, probe) })
	flush := a.cfg.UsageFlushInterval
	if flush <= 0 {
		flush = 5 * time.Second
	}
	bg.Go(func() { a.usage.Run(bgCtx, flush) })
	bg.Go(func() { a.billing.runDunning(bgCtx, a.log) })
	bg.Go(func() { a.billing.runJobs(bgCtx, a.redis.ClientOpt(), a.log) })
	// Catalog tasks (recommendation rebuilds) need the database, so the
	// control plane serves their queue itself.
	every := a.cfg.RecommendationsEvery
	if every <= 0 {
		every = time.Hour
	}
	tasks := asynq.NewServer(a.redis.ClientOpt(), asynq.Config{
		Concurrency: 1, Queues: map[string]int{catalog.QueueCatalog: 1},
		Logger: queue.Logger(a.log), LogLevel: asynq.WarnLevel,
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(catalog.TaskRebuild, a.reco.HandleRebuild)
	if err := tasks.Start(mux); err != nil {
		a.log.Error("catalog task server", "err", err)
		tasks = nil
	}
	bg.Go(func() { a.reco.RunSchedule(bgCtx, every) })
	var err error
	select {
	case err = <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
		err = a.server.Shutdown(sctx)
		cancel()
		<-errc
	}
	stopBackground()
	bg.Wait()
	if tasks != nil {
		tasks.Shutdown()
	}
	a.close()
	return err
}

func (a *App) close() {
	if a.ln != nil {
		_ = a.ln.Close()
	}
	if a.queue != nil {
		_ = a.queue.Close()
	}
	if a.redis != nil {
		_ = a.redis.Close()
	}
	if a.db != nil {
		_ = a.db.Close()
	}
	if a.geo != nil {
		_ = a.geo.Close()
	}
}

// Playback is the playback service (for tests and the admin CLI).
func (a *App) Playback() *playback.Service { return a.playback }

// assetOfTitle resolves what a viewer rents or buys to the asset that plays:
// an asset id names itself.
func (a *App) assetOfTitle(ctx context.Context, tenant, id string) (string, error) {
	if ids.Valid(ids.Asset, id) {
		if _, err := a.assets.Asset(ctx, tenant, id); err != nil {
			return "", err
		}
		return id, nil
	}
	return "", errs.Field("title_id", "%q is not an asset of this tenant", id)
}

// FlushUsage ingests the hot-path usage counted so far (tests, shutdown).
func (a *App) FlushUsage(ctx context.Context) error { return a.usage.Flush(ctx, time.Now()) }
