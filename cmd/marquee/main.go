// Command marquee is Marquee's one binary:
//
//	marquee dev            the whole platform in one process, no external services
//	marquee controlplane   the API server on PostgreSQL and Redis
//	marquee worker         a data-plane node: transcode, package, upload
//	marquee migrate        apply, roll back or show the database migrations
//	marquee admin          operator tasks (create-user, sign-playback-token, usage-export, reco-eval)
//
// Configuration comes from defaults, then the environment (DATABASE_URL,
// REDIS_URL, MARQUEE_*), then flags, and is validated in one place.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/marquee-video/marquee/controlplane"
	"github.com/marquee-video/marquee/dataplane/worker"
	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/netguard"
	"github.com/marquee-video/marquee/internal/objects"
	"github.com/marquee-video/marquee/internal/queue"
	"github.com/marquee-video/marquee/policies"
	"github.com/marquee-video/marquee/tenants"
	"github.com/marquee-video/marquee/tenants/sqlstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "marquee:", err)
		os.Exit(1)
	}
}

const usage = `usage: marquee <command> [flags]

commands:
  dev            run the whole platform in one process (embedded database, Redis and storage)
  controlplane   run the API server (DATABASE_URL, REDIS_URL)
  worker         run a data-plane worker node (MARQUEE_CONTROLPLANE_URL, MARQUEE_NODE_KEY, REDIS_URL)
  migrate        up | down | status
  admin          create-user | sign-playback-token | usage-export | reco-eval (run "marquee admin" for their flags)

Run "marquee <command> -h" for a command's flags.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "dev":
		return serve(ctx, args[1:], stdout, stderr, true)
	case "controlplane":
		return serve(ctx, args[1:], stdout, stderr, false)
	case "worker":
		return runWorker(ctx, args[1:], stderr)
	case "migrate":
		return migrate(ctx, args[1:], stdout, stderr)
	case "admin":
		return admin(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// config is the resolved configuration of a command.
type config struct {
	addr          string
	dataDir       string
	databaseURL   string
	redisURL      string
	sessionSecret string
	logLevel      string
	keyRateLimit  int
}

func (c *config) register(fs *flag.FlagSet, server bool) {
	c.dataDir = env("MARQUEE_DATA_DIR", ".marquee")
	c.databaseURL = os.Getenv("DATABASE_URL")
	fs.StringVar(&c.dataDir, "data-dir", c.dataDir, "directory for the embedded database, objects and session key (env MARQUEE_DATA_DIR)")
	fs.StringVar(&c.databaseURL, "database-url", c.databaseURL, "PostgreSQL URL; empty uses the embedded database (env DATABASE_URL)")
	fs.StringVar(&c.logLevel, "log-level", env("MARQUEE_LOG_LEVEL", "info"), "debug, info, warn or error (env MARQUEE_LOG_LEVEL)")
	if !server {
		return
	}
	c.addr = env("MARQUEE_ADDR", "127.0.0.1:8080")
	c.redisURL = os.Getenv("REDIS_URL")
	c.sessionSecret = os.Getenv("MARQUEE_SESSION_SECRET")
	c.keyRateLimit, _ = strconv.Atoi(env("MARQUEE_API_KEY_RATE_LIMIT", "1200"))
	fs.StringVar(&c.addr, "addr", c.addr, "listen address; port 0 picks a free port (env MARQUEE_ADDR)")
	fs.StringVar(&c.redisURL, "redis-url", c.redisURL, "Redis URL; empty starts an embedded server (env REDIS_URL)")
	fs.IntVar(&c.keyRateLimit, "api-key-rate-limit", c.keyRateLimit, "requests per minute per API key (env MARQUEE_API_KEY_RATE_LIMIT)")
}

func (c *config) validate(dev bool) error {
	if !dev && c.databaseURL == "" {
		return errors.New("controlplane needs DATABASE_URL (or use `marquee dev` for the embedded default)")
	}
	if !dev && c.redisURL == "" {
		return errors.New("controlplane needs REDIS_URL (or use `marquee dev` for the embedded default)")
	}
	if c.keyRateLimit < 1 {
		return errors.New("--api-key-rate-limit must be at least 1")
	}
	if c.sessionSecret != "" {
		if b, err := hex.DecodeString(c.sessionSecret); err != nil || len(b) < 32 {
			return errors.New("MARQUEE_SESSION_SECRET must be at least 32 bytes, hex-encoded")
		}
	}
	return nil
}

func (c *config) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})), nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, dev bool) error {
	name := "controlplane"
	if dev {
		name = "dev"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	c.register(fs, true)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if dev {
		// The embedded default: nothing external unless asked for.
		if c.databaseURL != "" || c.redisURL != "" {
			fmt.Fprintln(stderr, "marquee dev: using DATABASE_URL/REDIS_URL from the environment")
		}
	}
	if err := c.validate(dev); err != nil {
		return err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	var secret []byte
	if c.sessionSecret != "" {
		secret, _ = hex.DecodeString(c.sessionSecret)
	}
	var s3 *objects.S3Config
	if cfg, ok := s3FromEnv(); ok {
		s3 = &cfg
	}
	var nodeKey []byte
	if k := os.Getenv("MARQUEE_NODE_KEY"); k != "" {
		if nodeKey, err = hex.DecodeString(k); err != nil || len(nodeKey) < 16 {
			return errors.New("MARQUEE_NODE_KEY must be at least 16 bytes, hex-encoded")
		}
	}
	hookAllow, err := netguard.ParseAllowCIDRs(os.Getenv("MARQUEE_WEBHOOK_ALLOW_CIDRS"))
	if err != nil {
		return fmt.Errorf("MARQUEE_WEBHOOK_ALLOW_CIDRS: %w", err)
	}
	var trusted []netip.Prefix
	if v := os.Getenv("MARQUEE_TRUSTED_PROXY_CIDRS"); v != "" {
		if trusted, err = netguard.ParseAllowCIDRs(v); err != nil {
			return fmt.Errorf("MARQUEE_TRUSTED_PROXY_CIDRS: %w", err)
		}
	}
	var recoEvery time.Duration
	if v := os.Getenv("MARQUEE_RECOMMENDATIONS_EVERY"); v != "" {
		if recoEvery, err = time.ParseDuration(v); err != nil || recoEvery < time.Minute {
			return errors.New("MARQUEE_RECOMMENDATIONS_EVERY must be a duration of at least 1m, such as 1h")
		}
	}
	app, err := controlplane.New(ctx, controlplane.Config{
		Addr: c.addr, DataDir: c.dataDir, DatabaseURL: c.databaseURL, RedisURL: c.redisURL,
		SessionSecret: secret, Migrate: dev, APIKeyRequestsPerMinute: c.keyRateLimit, Log: log,
		S3: s3, NodeKey: nodeKey, WebhookAllowCIDRs: hookAllow, RecommendationsEvery: recoEvery,
		PublicURL: os.Getenv("MARQUEE_PUBLIC_URL"), KEK: os.Getenv("MARQUEE_KEK"),
		GeoHeader: os.Getenv("MARQUEE_GEO_HEADER"), TrustedProxyCIDRs: trusted, GeoIPDB: os.Getenv("MARQUEE_GEOIP_DB"),
		// Stripe is off without a secret key; MARQUEE_STRIPE_API_URL points
		// it at stripe-mock (scripts/stripe-mock.sh).
		Billing: controlplane.BillingConfig{
			StripeSecretKey: os.Getenv("MARQUEE_STRIPE_SECRET_KEY"), StripeWebhookSecret: os.Getenv("MARQUEE_STRIPE_WEBHOOK_SECRET"),
			StripeAPIURL: os.Getenv("MARQUEE_STRIPE_API_URL"),
		},
	})
	if err != nil {
		return err
	}
	log.Info("marquee started", "mode", name, "url", app.URL(), "embedded_database", c.databaseURL == "", "embedded_redis", c.redisURL == "")
	if addr := os.Getenv("MARQUEE_PPROF_ADDR"); addr != "" {
		// Profiling for operators, on its own (loopback) listener, never on
		// the public one.
		go func() {
			mux := http.NewServeMux()
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
			mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
			srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
			log.Info("pprof listening", "addr", addr, "err", srv.ListenAndServe())
		}()
	}
	if !dev {
		fmt.Fprintf(stdout, "Marquee control plane is running.\n  Portal: %s/\n  API:    %s/v1\n", app.URL(), app.URL())
		return app.Serve(ctx)
	}
	// The embedded default runs a worker in the same process, sharing the
	// object folder and the embedded Redis, enrolled like any other node.
	serveCtx, stopServe := context.WithCancel(ctx)
	defer stopServe()
	served := make(chan error, 1)
	go func() { served <- app.Serve(serveCtx) }()
	w, err := worker.New(ctx, worker.Config{
		ControlPlane: app.URL(), NodeKey: app.NodeKey(), Name: "dev-worker", Redis: app.RedisOpt(), Objects: app.Objects(),
		WorkDir: filepath.Join(c.dataDir, "work"), Log: log.With("component", "worker"),
	})
	if err != nil {
		stopServe()
		<-served
		return err
	}
	fmt.Fprintf(stdout, "Marquee is running.\n  Portal: %s/\n  API:    %s/v1 (OpenAPI at %s/v1/openapi.json)\n", app.URL(), app.URL(), app.URL())
	werr := w.Run(ctx) // returns once ctx ends and running jobs drained
	stopServe()
	return errors.Join(werr, <-served)
}

// runWorker runs a data-plane node against a remote control plane. It holds
// no database credentials: only the control plane's URL, the node key,
// Redis and object storage.
func runWorker(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cpURL := fs.String("controlplane", os.Getenv("MARQUEE_CONTROLPLANE_URL"), "the control plane's base URL (env MARQUEE_CONTROLPLANE_URL)")
	nodeKey := fs.String("node-key", os.Getenv("MARQUEE_NODE_KEY"), "the platform's node enrollment key (env MARQUEE_NODE_KEY)")
	redisURL := fs.String("redis-url", os.Getenv("REDIS_URL"), "the queue's Redis (env REDIS_URL)")
	objectsDir := fs.String("objects-dir", os.Getenv("MARQUEE_OBJECTS_DIR"), "a shared object folder, when not using S3 (env MARQUEE_OBJECTS_DIR)")
	name := fs.String("name", "", "the node's name (default: the host name)")
	concurrency := fs.Int("concurrency", 0, "jobs at once (default: one per 4 cores)")
	logLevel := fs.String("log-level", env("MARQUEE_LOG_LEVEL", "info"), "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c := config{logLevel: *logLevel}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	if *cpURL == "" || *nodeKey == "" || *redisURL == "" {
		return errors.New("worker needs --controlplane, --node-key and --redis-url (or their environment variables)")
	}
	rd, err := queue.Connect(*redisURL)
	if err != nil {
		return err
	}
	defer rd.Close()
	objs, err := objectStore(ctx, *objectsDir)
	if err != nil {
		return err
	}
	w, err := worker.New(ctx, worker.Config{ControlPlane: *cpURL, NodeKey: *nodeKey, Name: *name, Redis: rd.ClientOpt(), Objects: objs, Concurrency: *concurrency, Log: log})
	if err != nil {
		return err
	}
	log.Info("worker enrolled", "node", w.NodeID())
	return w.Run(ctx)
}

// objectStore is S3 when MARQUEE_S3_BUCKET is set, else the folder dir.
func objectStore(ctx context.Context, dir string) (objects.Store, error) {
	if cfg, ok := s3FromEnv(); ok {
		return objects.NewS3(ctx, cfg)
	}
	if dir == "" {
		return nil, errors.New("set MARQUEE_S3_BUCKET (and MARQUEE_S3_ENDPOINT, _REGION, _ACCESS_KEY, _SECRET_KEY) or --objects-dir")
	}
	return objects.NewLocal(dir)
}

func s3FromEnv() (objects.S3Config, bool) {
	bucket := os.Getenv("MARQUEE_S3_BUCKET")
	if bucket == "" {
		return objects.S3Config{}, false
	}
	return objects.S3Config{
		Endpoint: os.Getenv("MARQUEE_S3_ENDPOINT"), Region: os.Getenv("MARQUEE_S3_REGION"), Bucket: bucket,
		AccessKey: os.Getenv("MARQUEE_S3_ACCESS_KEY"), SecretKey: os.Getenv("MARQUEE_S3_SECRET_KEY"),
		PathStyle: os.Getenv("MARQUEE_S3_PATH_STYLE") == "true", Prefix: os.Getenv("MARQUEE_S3_PREFIX"),
	}, true
}

func openDB(ctx context.Context, c config) (*db.DB, error) {
	return db.Open(ctx, c.databaseURL, c.dataDir)
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	c.register(fs, false)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: marquee migrate [flags] up|down|status")
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
	p, err := d.Migrator()
	if err != nil {
		return err
	}
	switch fs.Arg(0) {
	case "up":
		return d.MigrateUp(ctx, log)
	case "down":
		r, err := p.Down(ctx)
		if err != nil {
			return fmt.Errorf("migrate down: %w", err)
		}
		fmt.Fprintf(stdout, "rolled back %d %s\n", r.Source.Version, r.Source.Path)
		return nil
	case "status":
		st, err := p.Status(ctx)
		if err != nil {
			return fmt.Errorf("migrate status: %w", err)
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "VERSION\tSTATE\tAPPLIED AT\tFILE")
		for _, s := range st {
			at := ""
			if !s.AppliedAt.IsZero() {
				at = s.AppliedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", s.Source.Version, s.State, at, s.Source.Path)
		}
		return w.Flush()
	}
	return fmt.Errorf("unknown migrate action %q: want up, down or status", fs.Arg(0))
}

const adminUsage = `usage: marquee admin <task> [flags]
  create-user --email E --password P (--platform | --tenant ID) [--role R]
  sign-playback-token --key-id K --private-key-file F --playback-id P [--aud v|t|l] [--ttl 1h] [--viewer V] ...
  usage-export [--period YYYY-MM] [--format json|csv] [--out FILE]
  reco-eval (--input interactions.csv | --generate N) [--split leave-last-out|temporal] [--k 10]`

func admin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(adminUsage)
	}
	switch args[0] {
	case "create-user":
		return createUser(ctx, args, stdout, stderr)
	case "sign-playback-token":
		return signPlaybackToken(args[1:], stdout, stderr)
	case "usage-export":
		return usageExport(ctx, args[1:], stdout, stderr)
	case "reco-eval":
		return recoEval(ctx, args[1:], stdout, stderr)
	}
	return errors.New(adminUsage)
}

func createUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin create-user", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	c.register(fs, false)
	email := fs.String("email", "", "the user's email")
	password := fs.String("password", "", "the user's password (at least 10 characters)")
	platform := fs.Bool("platform", false, "make the user a member of the platform root tenant")
	tenantID := fs.String("tenant", "", "make the user a member of this tenant")
	role := fs.String("role", tenants.RoleOwner, "the user's role in the tenant")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *platform == (*tenantID != "") {
		return errors.New("give exactly one of --platform or --tenant")
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
	// The admin CLI issues no session tokens; a throwaway key satisfies the
	// service.
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	sessions, err := tenants.NewSessions(key, time.Hour)
	if err != nil {
		return err
	}
	quotas, err := policies.NewQuotaPolicy(ctx)
	if err != nil {
		return err
	}
	objs, err := objects.NewLocal(filepath.Join(c.dataDir, "objects"))
	if err != nil {
		return err
	}
	svc, err := tenants.NewService(tenants.Config{Store: sqlstore.New(d), Quotas: quotas, Objects: objs, Sessions: sessions, Log: log})
	if err != nil {
		return err
	}
	if *platform {
		root, err := svc.EnsureRoot(ctx)
		if err != nil {
			return err
		}
		*tenantID = root.ID
	}
	u, err := svc.CreateUser(ctx, tenants.CreateUserInput{Email: *email, Password: *password, TenantID: *tenantID, Role: *role})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created user %s (%s) as %s of tenant %s\n", u.ID, u.Email, *role, *tenantID)
	return nil
}
