// Package worker is the data-plane agent that `marquee worker` runs (and
// `marquee dev` runs in process): it enrolls with the control plane, reports
// its capabilities and heartbeats, consumes media tasks from asynq, and for
// each one takes the job under a fresh attempt id, fetches the source,
// transcodes the ladder, packages CMAF for HLS and DASH, makes a poster and
// a storyboard, uploads everything under a per-attempt staging prefix, and
// reports the result. The control plane publishes only the attempt that
// holds the job, so a killed worker leaves nothing visible and its job is
// retried elsewhere. It speaks only the contract in internal/wire.
package worker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"

	"github.com/marquee-video/marquee/dataplane/fetch"
	"github.com/marquee-video/marquee/dataplane/packager"
	"github.com/marquee-video/marquee/dataplane/transcode"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/objects"
	"github.com/marquee-video/marquee/internal/queue"
	"github.com/marquee-video/marquee/internal/wire"
)

// workPathRE matches the worker's scratch paths in error messages.
var workPathRE = regexp.MustCompile(`(file:)?/\S*marquee-job_[a-z0-9]+-\d+/\S*`)

// Config configures a worker.
type Config struct {
	// ControlPlane is the control plane's base URL; NodeKey the platform's
	// node enrollment key.
	ControlPlane string
	NodeKey      string
	Name         string
	Redis        asynq.RedisConnOpt
	Objects      objects.Store
	Fetcher      *fetch.Fetcher
	FFmpegPath   string
	FFprobePath  string
	// Concurrency is how many jobs run at once; 0 means one per 4 cores
	// (at least one): each ffmpeg already uses several cores.
	Concurrency int
	WorkDir     string
	Heartbeat   time.Duration // default 10 s
	// DrainTimeout bounds how long SIGTERM waits for running jobs.
	DrainTimeout time.Duration // default 10 min
	Log          *slog.Logger
}

// Worker is an enrolled node.
type Worker struct {
	cfg     Config
	cp      *ControlPlane
	tc      *transcode.Transcoder
	caps    transcode.Capabilities
	nodeID  string
	running atomic.Int64
	log     *slog.Logger
}

// New detects the node's capabilities and enrolls it.
func New(ctx context.Context, cfg Config) (*Worker, error) {
	if cfg.ControlPlane == "" || cfg.NodeKey == "" || cfg.Redis == nil || cfg.Objects == nil {
		return nil, errors.New("worker: control plane URL, node key, Redis and object storage are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Name == "" {
		cfg.Name, _ = os.Hostname()
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = max(1, runtime.NumCPU()/4)
	}
	if cfg.FFmpegPath == "" {
		cfg.FFmpegPath = "ffmpeg"
	}
	if cfg.FFprobePath == "" {
		cfg.FFprobePath = "ffprobe"
	}
	if cfg.WorkDir == "" {
		cfg.WorkDir = os.TempDir()
	}
	if err := os.MkdirAll(cfg.WorkDir, 0o750); err != nil {
		return nil, fmt.Errorf("worker: work dir: %w", err)
	}
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = 10 * time.Second
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = 10 * time.Minute
	}
	if cfg.Fetcher == nil {
		allow, err := fetch.ParseAllowCIDRs(os.Getenv(fetch.EnvAllowCIDRs))
		if err != nil {
			return nil, err
		}
		cfg.Fetcher = fetch.New(fetch.Config{AllowCIDRs: allow, MaxBytes: 50 << 30, Timeout: time.Hour})
	}
	caps, err := transcode.DetectCapabilities(ctx, cfg.FFmpegPath)
	if err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	tc, err := transcode.New(transcode.Config{FFmpegPath: cfg.FFmpegPath, FFprobePath: cfg.FFprobePath, Encoder: caps.Encoder()})
	if err != nil {
		return nil, err
	}
	w := &Worker{cfg: cfg, tc: tc, caps: caps, log: cfg.Log,
		cp: &ControlPlane{base: strings.TrimSuffix(cfg.ControlPlane, "/"), http: &http.Client{Timeout: 30 * time.Second}}}
	queues := []string{wire.QueueCPU}
	if caps.NVENC() {
		queues = append(queues, wire.QueueGPU)
	}
	var enrolled struct{ ID, Token string }
	err = w.cp.do(ctx, http.MethodPost, "/internal/v1/nodes", cfg.NodeKey, wire.NodeRegistration{
		Name: cfg.Name, Cores: runtime.NumCPU(), GPU: caps.GPU, Encoders: caps.Encoders, HWAccels: caps.HWAccels,
		Queues: queues, Capacity: cfg.Concurrency,
	}, &enrolled)
	if err != nil {
		return nil, fmt.Errorf("worker: enroll: %w", err)
	}
	w.nodeID, w.cp.token = enrolled.ID, enrolled.Token
	return w, nil
}

// NodeID is the id the control plane gave this node.
func (w *Worker) NodeID() string { return w.nodeID }

// Run consumes tasks until ctx ends, then drains: it takes no new task,
// lets running ones finish (up to DrainTimeout) and says so in its
// heartbeats.
func (w *Worker) Run(ctx context.Context) error {
	queues := map[string]int{wire.QueueCPU: 1}
	if w.caps.NVENC() {
		queues = map[string]int{wire.QueueGPU: 6, wire.QueueCPU: 1}
	}
	srv := asynq.NewServer(w.cfg.Redis, asynq.Config{
		Concurrency: w.cfg.Concurrency, Queues: queues, ShutdownTimeout: w.cfg.DrainTimeout,
		Logger: queue.Logger(w.log), LogLevel: asynq.WarnLevel,
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(wire.TaskTranscode, w.handleTranscode)
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	var wg sync.WaitGroup
	hbCtx, stopHB := context.WithCancel(context.WithoutCancel(ctx))
	wg.Go(func() { w.heartbeats(hbCtx, ctx) })
	<-ctx.Done()
	w.log.Info("draining", "node", w.nodeID, "running", w.running.Load())
	srv.Shutdown()
	stopHB()
	wg.Wait()
	return nil
}

func (w *Worker) heartbeats(ctx, serving context.Context) {
	t := time.NewTicker(w.cfg.Heartbeat)
	defer t.Stop()
	for {
		hb := wire.NodeHeartbeat{Running: int(w.running.Load()), Draining: serving.Err() != nil}
		if err := w.cp.do(ctx, http.MethodPost, "/internal/v1/nodes/heartbeat", w.cp.token, hb, nil); err != nil && ctx.Err() == nil {
			w.log.Warn("heartbeat", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// handleTranscode runs one task. It returns nil once the control plane has
// the result, failures included: the control plane decides retries.
func (w *Worker) handleTranscode(ctx context.Context, task *asynq.Task) error {
	var p wire.TranscodeTask
	if err := json.Unmarshal(task.Payload(), &p); err != nil || p.Validate() != nil {
		w.log.Error("unreadable task dropped", "task", task.ResultWriter().TaskID(), "err", err)
		return fmt.Errorf("bad payload: %w", asynq.SkipRetry)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	attempt := "att_" + hex.EncodeToString(b)
	log := w.log.With("job", p.JobID, "tenant", p.TenantID, "asset", p.AssetID, "attempt", attempt)
	var lease struct {
		ContentKey *wire.ContentKeyGrant `json:"content_key"`
	}
	if err := w.cp.do(ctx, http.MethodPost, jobPath(p.TenantID, p.JobID, "start"), w.cp.token, map[string]string{"attempt": attempt}, &lease); err != nil {
		if isCode(err, "job_final", "job_leased", "not_found") {
			log.Info("job not ours to run", "reason", err)
			return nil
		}
		return err
	}
	w.running.Add(1)
	defer w.running.Add(-1)
	start := time.Now()
	if p.Protected && lease.ContentKey == nil {
		return fmt.Errorf("worker: job %s is protected but its lease has no content key", p.JobID)
	}
	res, jerr := w.run(ctx, p, attempt, lease.ContentKey, log)
	if jerr != nil {
		// The tenant sees this message: no paths of the worker's disk.
		jerr.Message = workPathRE.ReplaceAllString(jerr.Message, "the source")
	}
	res.JobID, res.Attempt, res.Elapsed = p.JobID, attempt, time.Since(start)
	if jerr != nil {
		res = wire.JobResult{JobID: p.JobID, Attempt: attempt, Error: jerr, Elapsed: time.Since(start)}
		log.Warn("job failed", "code", jerr.Code, "retryable", jerr.Retryable, "message", jerr.Message)
	}
	// The report must reach the control plane even if the task's own
	// context is ending.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := w.cp.do(rctx, http.MethodPost, jobPath(p.TenantID, p.JobID, "finish"), w.cp.token, res, nil); err != nil {
		if isCode(err, "stale_attempt") {
			log.Warn("result refused: another attempt holds the job")
			return nil
		}
		return err
	}
	log.Info("job done", "seconds", res.Elapsed.Seconds(), "failed", jerr != nil)
	return nil
}

func (w *Worker) run(ctx context.Context, p wire.TranscodeTask, attempt string, key *wire.ContentKeyGrant, log *slog.Logger) (wire.JobResult, *wire.JobError) {
	if p.TimeLimit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.TimeLimit)
		defer cancel()
	}
	dir, err := os.MkdirTemp(w.cfg.WorkDir, "marquee-"+p.JobID+"-")
	if err != nil {
		return wire.JobResult{}, &wire.JobError{Code: "worker_disk", Retryable: true, Message: err.Error()}
	}
	defer os.RemoveAll(dir)

	src := filepath.Join(dir, "source")
	if jerr := w.download(ctx, p, src); jerr != nil {
		return wire.JobResult{}, jerr
	}
	ladder := make([]transcode.Rung, len(p.Ladder))
	for i, r := range p.Ladder {
		ladder[i] = transcode.Rung{Name: r.Name, Width: r.Width, Height: r.Height, VideoBitrate: r.VideoBitrate, Codec: r.Codec}
	}
	progress := newProgressReporter(w.cp, p, attempt, log)
	defer progress.stop()
	res, err := w.tc.Transcode(ctx, transcode.Job{Input: src, OutDir: filepath.Join(dir, "renditions"), Ladder: ladder, Progress: func(pct float64) {
		progress.set(pct * 0.9) // packaging and upload are the last tenth
	}})
	if err != nil {
		return wire.JobResult{}, jobError(ctx, err)
	}
	tracks := make([]packager.Track, 0, len(res.Renditions)+1)
	for _, r := range res.Renditions {
		tracks = append(tracks, packager.Track{ID: r.Name, Kind: "video", Path: r.Path, Bandwidth: r.Bitrate, Width: r.Width, Height: r.Height, Codecs: r.Codec})
	}
	if res.Audio != nil {
		tracks = append(tracks, packager.Track{ID: "audio", Kind: "audio", Path: res.Audio.Path, Bandwidth: res.Audio.Bitrate, Codecs: res.Audio.Codec})
	}
	out, err := packageVariants(ctx, tracks, filepath.Join(dir, "package"), time.Duration(p.SegmentSeconds)*time.Second, key)
	if err != nil {
		return wire.JobResult{}, jobError(ctx, err)
	}
	if err := w.tc.Poster(ctx, src, filepath.Join(out.Dir, "poster.jpg"), res.Duration/10); err != nil {
		log.Warn("poster", "err", err) // a missing poster does not fail the asset
	}
	if _, err := w.tc.Storyboard(ctx, src, filepath.Join(out.Dir, "storyboard"), storyboardInterval(res.Duration), 160, 10); err != nil {
		log.Warn("storyboard", "err", err)
	}
	progress.set(92)
	staging := p.OutputPrefix + "attempts/" + attempt + "/"
	stored, err := w.upload(ctx, out.Dir, staging)
	if err != nil {
		return wire.JobResult{}, jobError(ctx, err)
	}
	result := wire.JobResult{Duration: res.Duration.Seconds(), Audio: res.Audio != nil, StagingKey: staging}
	now := time.Now().UTC()
	for _, r := range res.Renditions {
		result.Renditions = append(result.Renditions, wire.Rendition{Name: r.Name, Width: r.Width, Height: r.Height, Bitrate: r.Bitrate, Codec: r.Codec})
		// Ids are stable per job and rung, not per attempt: whichever attempt
		// reports, each rung's minutes count once.
		result.Usage = append(result.Usage, wire.UsageEvent{
			ID: "use_" + p.JobID + "_transcode_" + r.Name, Meter: "transcode_seconds", Quantity: res.Duration.Seconds(),
			Dimensions: map[string]string{"tier": tier(r.Width, r.Height), "encoder": r.Encoder, "codec": r.Codec}, At: now,
		})
	}
	result.Usage = append(result.Usage, wire.UsageEvent{ID: "use_" + p.JobID + "_stored", Meter: "stored_bytes", Quantity: float64(stored), At: now})
	return result, nil
}

func storyboardInterval(d time.Duration) time.Duration {
	// About 100 tiles whatever the length, at least one a second.
	return max(time.Second, (d / 100).Round(time.Second))
}

// tier names a rendition's resolution class for metering.
func tier(w, h int) string {
	switch s := min(w, h); {
	case s > 1080:
		return "uhd"
	case s > 720:
		return "fhd"
	case s >= 720:
		return "hd"
	default:
		return "sd"
	}
}

func (w *Worker) download(ctx context.Context, p wire.TranscodeTask, dst string) *wire.JobError {
	f, err := os.Create(dst)
	if err != nil {
		return &wire.JobError{Code: "worker_disk", Retryable: true, Message: err.Error()}
	}
	defer f.Close()
	if p.SourceURL != "" {
		if _, _, err := w.cfg.Fetcher.Fetch(ctx, p.SourceURL, f); err != nil {
			var fe *fetch.Error
			if errors.As(err, &fe) {
				return &wire.JobError{Code: "source_" + fe.Code, Retryable: fe.Retryable, Message: fe.Message}
			}
			return &wire.JobError{Code: "source_unreachable", Retryable: true, Message: "the source could not be fetched"}
		}
		return nil
	}
	r, err := w.cfg.Objects.Get(ctx, p.SourceKey)
	if errs.Is(err, errs.NotFound) {
		return &wire.JobError{Code: "source_missing", Message: "the uploaded source is gone"}
	}
	if err != nil {
		return &wire.JobError{Code: "storage_unavailable", Retryable: true, Message: "object storage did not answer"}
	}
	defer r.Close()
	if _, err := io.Copy(f, r); err != nil {
		return &wire.JobError{Code: "storage_unavailable", Retryable: true, Message: "reading the source failed"}
	}
	return nil
}

// upload puts every file of dir under prefix and returns the bytes stored.
func (w *Worker) upload(ctx context.Context, dir, prefix string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		return w.cfg.Objects.PutFile(ctx, prefix+filepath.ToSlash(rel), path, "")
	})
	return total, err
}

// jobError turns an error of the media steps into the wire's data, keeping
// the steps' own codes and saying whether retrying can help.
func jobError(ctx context.Context, err error) *wire.JobError {
	var te *transcode.Error
	var pe *packager.Error
	switch {
	case errors.As(err, &te):
		return &wire.JobError{Code: te.Code, Retryable: te.Retryable, Message: te.Message}
	case errors.As(err, &pe):
		return &wire.JobError{Code: pe.Code, Message: pe.Message}
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded:
		return &wire.JobError{Code: "time_limit", Message: "the job ran past its time limit"}
	case ctx.Err() != nil:
		return &wire.JobError{Code: "worker_stopped", Retryable: true, Message: "the worker stopped before the job finished"}
	}
	return &wire.JobError{Code: "worker_error", Retryable: true, Message: err.Error()}
}

// progressReporter sends the latest progress at most once a second, off the
// encoder's path; each report also extends the attempt's lease.
type progressReporter struct {
	latest atomic.Value
	done   chan struct{}
	wg     sync.WaitGroup
}

func newProgressReporter(cp *ControlPlane, p wire.TranscodeTask, attempt string, log *slog.Logger) *progressReporter {
	r := &progressReporter{done: make(chan struct{})}
	r.latest.Store(0.0)
	r.wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-r.done:
				return
			case <-t.C:
			}
			// Sent every second even when unchanged: each report also
			// extends the attempt's lease.
			pct := r.latest.Load().(float64)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := cp.do(ctx, http.MethodPost, jobPath(p.TenantID, p.JobID, "progress"), cp.token, wire.JobProgress{JobID: p.JobID, Attempt: attempt, Percent: pct}, nil)
			cancel()
			if err != nil {
				log.Warn("progress report", "err", err)
			}
		}
	})
	return r
}

func (r *progressReporter) set(pct float64) { r.latest.Store(pct) }

func (r *progressReporter) stop() {
	close(r.done)
	r.wg.Wait()
}
