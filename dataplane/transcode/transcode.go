// Package transcode turns a source file into a bitrate ladder ready for CMAF
// packaging: one ffmpeg process decodes the source once, splits the picture to
// every rung, and writes each video rendition and the audio to fragmented MP4
// files of one track each, with closed GOPs aligned to the segment duration so
// that segments line up across renditions.
//
// It runs on worker nodes: libx264/libx265/SVT-AV1 on the CPU, or NVENC with
// CUDA decoding and scaling where a GPU is. It knows nothing of tenants; the
// worker gives it local files and reports its Result or *Error through the
// plane-to-plane contract.
package transcode

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Config configures a Transcoder. The zero value of each field is its default.
type Config struct {
	FFmpegPath      string        // default "ffmpeg" on PATH
	FFprobePath     string        // default "ffprobe" on PATH
	SegmentDuration time.Duration // keyframe interval and segment length; default 2s
	Encoder         string        // EncoderCPU (default) or EncoderNVENC; see DetectCapabilities
	Preset          string        // x264 speed preset, default "veryfast"; mapped for x265, SVT-AV1 and NVENC
}

// Transcoder runs ladder transcodes with ffmpeg. It is safe for concurrent use.
type Transcoder struct {
	cfg Config
}

// New checks cfg, fills in its defaults and returns a Transcoder.
func New(cfg Config) (*Transcoder, error) {
	if cfg.FFmpegPath == "" {
		cfg.FFmpegPath = "ffmpeg"
	}
	if cfg.FFprobePath == "" {
		cfg.FFprobePath = "ffprobe"
	}
	if cfg.SegmentDuration == 0 {
		cfg.SegmentDuration = 2 * time.Second
	}
	if cfg.Encoder == "" {
		cfg.Encoder = EncoderCPU
	}
	if cfg.Preset == "" {
		cfg.Preset = "veryfast"
	}
	switch {
	case cfg.SegmentDuration < 500*time.Millisecond || cfg.SegmentDuration > 30*time.Second ||
		cfg.SegmentDuration%time.Millisecond != 0:
		return nil, jobError("segment duration %v: want whole milliseconds from 0.5s to 30s", cfg.SegmentDuration)
	case cfg.Encoder != EncoderCPU && cfg.Encoder != EncoderNVENC:
		return nil, jobError("encoder %q: want %q or %q", cfg.Encoder, EncoderCPU, EncoderNVENC)
	case !slices.Contains(x264Presets, cfg.Preset):
		return nil, jobError("preset %q: want one of %v", cfg.Preset, x264Presets)
	}
	return &Transcoder{cfg: cfg}, nil
}

// Config is the configuration in effect, defaults filled in.
func (t *Transcoder) Config() Config { return t.cfg }

// Job is one transcode.
type Job struct {
	Input  string // local source file
	OutDir string // created if missing; outputs appear here only when the job succeeds
	// Ladder is the ladder profile; nil means DefaultLadder. It is fitted to the
	// source with PlanLadder, so it may name rungs above the source's size.
	Ladder []Rung
	// Progress, if set, is called with the percentage done, 0–100, never
	// decreasing; 100 comes once, when the outputs are in place. It is called
	// from another goroutine, but never after Transcode returns.
	Progress func(pct float64)
}

// Result describes the outputs of a successful job.
type Result struct {
	Duration      time.Duration // of the source
	Renditions    []Rendition   // in ladder order
	Audio         *AudioTrack   // nil when the source has no audio
	EncodeSeconds float64       // wall-clock time of the ffmpeg run
}

// Rendition is one video output: a fragmented MP4 with one track.
type Rendition struct {
	Name    string
	Path    string
	Width   int
	Height  int
	Bitrate int    // measured: file size over duration, bits per second
	Codec   string // RFC 6381, read from the file: "avc1.64001f", "hvc1.1.6.L93.B0", "av01.0.04M.08"
	Encoder string // ffmpeg encoder that made it: "libx264", "h264_nvenc" …
}

// AudioTrack is the audio output: a fragmented MP4 with one AAC-LC track.
type AudioTrack struct {
	Path       string
	Codec      string // "mp4a.40.2"
	Bitrate    int    // measured, bits per second
	Channels   int
	SampleRate int
}

// Transcode probes the source, fits the ladder to it and encodes every rung and
// the audio in one ffmpeg process. The job's ctx is its time limit: when it
// ends, ffmpeg's process group is killed. On any failure nothing of the job is
// left in OutDir, and the error is an *Error.
func (t *Transcoder) Transcode(ctx context.Context, job Job) (Result, error) {
	if job.Input == "" || job.OutDir == "" {
		return Result{}, jobError("a job needs an input and an output folder")
	}
	profile := job.Ladder
	if len(profile) == 0 {
		profile = DefaultLadder()
	}
	if err := validateLadder(profile); err != nil {
		return Result{}, err
	}
	info, err := Probe(ctx, t.cfg.FFprobePath, job.Input)
	if err != nil {
		return Result{}, err
	}
	rungs := PlanLadder(info, profile)
	if err := validateLadder(rungs); err != nil {
		return Result{}, err
	}

	staging, cleanup, err := stagingDir(job.OutDir)
	if err != nil {
		return Result{}, err
	}
	defer cleanup()

	spec := commandSpec{
		Input: job.Input, OutDir: staging, Source: info.Video, Rungs: rungs,
		Audio: info.Audio != nil, Segment: t.cfg.SegmentDuration,
		Encoder: t.cfg.Encoder, Preset: t.cfg.Preset,
	}
	progress := &progressWriter{total: info.Duration, report: job.Progress}
	start := time.Now()
	tail, err := runTool(ctx, t.cfg.FFmpegPath, buildArgs(spec), progress, svtQuiet)
	elapsed := time.Since(start)
	progress.stop()
	if err != nil {
		if e := startFailure(ctx, "ffmpeg", err); e != nil {
			return Result{}, e
		}
		return Result{}, ffmpegFailure("ffmpeg", err, redact(tail, job.Input, staging))
	}
	if e := contextError(ctx, "ffmpeg"); e != nil {
		return Result{}, e // finished, but too late to be wanted
	}

	res, err := t.collect(spec, info, job.OutDir)
	if err != nil {
		return Result{}, err
	}
	res.EncodeSeconds = elapsed.Seconds()
	if err := publish(staging, job.OutDir, res); err != nil {
		return Result{}, err
	}
	if job.Progress != nil {
		job.Progress(100)
	}
	return res, nil
}

// svtQuiet keeps SVT-AV1's banner out of stderr, whose tail goes into errors.
const svtQuiet = "SVT_LOG=2"

// collect checks each staged output (one track, with the codec it should have)
// and describes it under the path it will have once published.
func (t *Transcoder) collect(spec commandSpec, info MediaInfo, outDir string) (Result, error) {
	res := Result{Duration: info.Duration}
	for _, r := range spec.Rungs {
		name := videoFile(r)
		track, size, err := checkOutput(filepath.Join(spec.OutDir, name))
		if err != nil {
			return Result{}, err
		}
		res.Renditions = append(res.Renditions, Rendition{
			Name: r.Name, Path: filepath.Join(outDir, name), Width: r.Width, Height: r.Height,
			Bitrate: bitrate(size, info.Duration), Codec: track.Codec,
			Encoder: videoEncoder(spec.Encoder, r.codec()),
		})
	}
	if spec.Audio {
		_, size, err := checkOutput(filepath.Join(spec.OutDir, audioFile))
		if err != nil {
			return Result{}, err
		}
		res.Audio = &AudioTrack{
			Path: filepath.Join(outDir, audioFile), Codec: audioCodec, Bitrate: bitrate(size, info.Duration),
			Channels: audioChannels, SampleRate: audioSampleRate,
		}
	}
	return res, nil
}

// checkOutput makes sure ffmpeg wrote what packaging relies on.
func checkOutput(path string) (mp4Track, int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return mp4Track{}, 0, machineError(CodeFailed, err, "ffmpeg exited cleanly but wrote no %s", filepath.Base(path))
	}
	tracks, err := readTracks(path)
	if err != nil {
		return mp4Track{}, 0, machineError(CodeFailed, err, "unreadable output: %v", err)
	}
	if len(tracks) != 1 || tracks[0].Codec == "" {
		return mp4Track{}, 0, machineError(CodeFailed, nil, "%s: want one track with a known codec, found %+v", filepath.Base(path), tracks)
	}
	return tracks[0], fi.Size(), nil
}

func bitrate(size int64, d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(float64(size*8) / d.Seconds())
}

// stagingDir makes a private folder inside outDir for ffmpeg to write into, so
// that nothing appears under an output's final name until the job succeeds.
// cleanup removes the staging folder, and outDir too if this job created it
// and left nothing in it.
func stagingDir(outDir string) (dir string, cleanup func(), err error) {
	_, statErr := os.Stat(outDir)
	created := errors.Is(statErr, os.ErrNotExist)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", nil, machineError(CodeUnavailable, err, "output folder: %v", err)
	}
	dir, err = os.MkdirTemp(outDir, ".transcode-")
	if err != nil {
		return "", nil, machineError(CodeUnavailable, err, "output folder: %v", err)
	}
	return dir, func() {
		_ = os.RemoveAll(dir)
		if created {
			_ = os.Remove(outDir) // fails, as it should, when the job published into it
		}
	}, nil
}

// publish moves the outputs to their final names. A retried job overwrites
// what an earlier attempt published, so the outputs never come in duplicate.
// If a move fails, the files already moved are removed again.
func publish(staging, outDir string, res Result) error {
	var paths []string
	for _, r := range res.Renditions {
		paths = append(paths, r.Path)
	}
	if res.Audio != nil {
		paths = append(paths, res.Audio.Path)
	}
	for i, p := range paths {
		if err := os.Rename(filepath.Join(staging, filepath.Base(p)), p); err != nil {
			for _, done := range paths[:i] {
				_ = os.Remove(done)
			}
			return machineError(CodeUnavailable, err, "publishing outputs: %v", err)
		}
	}
	return nil
}
