//go:build unix

package transcode

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The benchmarks encode a generated 1080p30 clip with sound: 10 s, or
// MARQUEE_BENCH_SECONDS (make bench uses 60). Run them with
//
//	go test -run '^$' -bench . -benchtime 1x ./dataplane/transcode/

var benchSource struct {
	once sync.Once
	path string
	err  error
}

func benchSeconds(b *testing.B) int {
	s := os.Getenv("MARQUEE_BENCH_SECONDS")
	if s == "" {
		return 10
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		b.Fatalf("MARQUEE_BENCH_SECONDS=%q: want whole seconds", s)
	}
	return n
}

// benchClip makes the source once per process: a high-quality 1080p H.264
// upload with AAC, as a creator's camera or editor would send.
func benchClip(b *testing.B) (string, MediaInfo) {
	b.Helper()
	requireFFmpeg(b)
	seconds := benchSeconds(b)
	benchSource.once.Do(func() {
		dir, err := os.MkdirTemp("", "transcode-bench-")
		if err != nil {
			benchSource.err = err
			return
		}
		cleanupDirs = append(cleanupDirs, dir)
		path := filepath.Join(dir, fmt.Sprintf("source_1080p_%ds.mp4", seconds))
		out, err := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y",
			"-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
			"-t", strconv.Itoa(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p",
			"-c:a", "aac", "-b:a", "192k", path).CombinedOutput()
		if err != nil {
			benchSource.err = fmt.Errorf("%v: %s", err, out)
			return
		}
		benchSource.path = path
	})
	if benchSource.err != nil {
		b.Fatal(benchSource.err)
	}
	info, err := Probe(context.Background(), "ffprobe", benchSource.path)
	if err != nil {
		b.Fatal(err)
	}
	return benchSource.path, info
}

// childCPU is the CPU time used so far by this process's finished children.
// On a shared machine CPU time says more than wall time about overhead.
func childCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runFFmpeg runs an argument list the way a person would: ffmpeg, nothing around it.
func runFFmpeg(b *testing.B, args []string) time.Duration {
	b.Helper()
	cmd := exec.Command("ffmpeg", args...)
	cmd.Stdout = io.Discard
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("ffmpeg: %v\n%s", err, stderr.String())
	}
	return time.Since(start)
}

func commandLine(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " ;()[]*,'\"") {
			a = "'" + a + "'"
		}
		quoted[i] = a
	}
	return "ffmpeg " + strings.Join(quoted, " ")
}

func (t *Transcoder) specFor(input string, info MediaInfo, outDir string, rungs []Rung, audio bool) commandSpec {
	return commandSpec{
		Input: input, OutDir: outDir, Source: info.Video, Rungs: rungs, Audio: audio,
		Segment: t.cfg.SegmentDuration, Encoder: t.cfg.Encoder, Preset: t.cfg.Preset,
	}
}

// BenchmarkPipelineVsRawFFmpeg: Transcode (probe, plan, run, check, publish)
// against the identical ffmpeg argument list run by hand, same clip, same run.
// ratio = raw time / pipeline time; 1 means the pipeline costs nothing.
func BenchmarkPipelineVsRawFFmpeg(b *testing.B) {
	src, info := benchClip(b)
	tr := newTestTranscoder(b, Config{})
	rungs := PlanLadder(info, DefaultLadder())
	var pipeline, encode, raw, pipelineCPU, rawCPU time.Duration
	for i := range b.N {
		rawDir, pipeDir := b.TempDir(), b.TempDir()
		args := buildArgs(tr.specFor(src, info, rawDir, rungs, info.Audio != nil))
		if i == 0 {
			b.Logf("%d s 1080p source, raw command:\n%s", benchSeconds(b), commandLine(args))
		}
		runRaw := func() {
			cpu := childCPU(b)
			raw += runFFmpeg(b, args)
			rawCPU += childCPU(b) - cpu
		}
		runPipeline := func() {
			cpu := childCPU(b)
			defer func() { pipelineCPU += childCPU(b) - cpu }()
			start := time.Now()
			res, err := tr.Transcode(context.Background(), Job{Input: src, OutDir: pipeDir})
			if err != nil {
				b.Fatal(err)
			}
			pipeline += time.Since(start)
			encode += time.Duration(res.EncodeSeconds * float64(time.Second))
		}
		// Alternate the order so that neither side always runs on a warm cache.
		if i%2 == 0 {
			runRaw()
			runPipeline()
		} else {
			runPipeline()
			runRaw()
		}
	}
	n := float64(b.N)
	b.ReportMetric(pipeline.Seconds()/n, "pipeline-s")
	b.ReportMetric(raw.Seconds()/n, "raw-ffmpeg-s")
	b.ReportMetric((pipeline-encode).Seconds()/n, "overhead-s") // probe, checks, publishing
	b.ReportMetric(raw.Seconds()/pipeline.Seconds(), "ratio")
	b.ReportMetric(rawCPU.Seconds()/pipelineCPU.Seconds(), "cpu-ratio") // ffprobe included
	b.ReportMetric(float64(benchSeconds(b))*n/pipeline.Seconds(), "x-realtime")
}

// BenchmarkSplitLadderVsPerRung: one process, one decode, split to all five
// rungs, against one ffmpeg process per rung run one after another (the audio
// with the first), each decoding the source again.
func BenchmarkSplitLadderVsPerRung(b *testing.B) {
	src, info := benchClip(b)
	tr := newTestTranscoder(b, Config{})
	rungs := PlanLadder(info, DefaultLadder())
	var split, perRung time.Duration
	for i := range b.N {
		splitArgs := buildArgs(tr.specFor(src, info, b.TempDir(), rungs, true))
		split += runFFmpeg(b, splitArgs)
		dir := b.TempDir()
		for j := range rungs {
			args := buildArgs(tr.specFor(src, info, dir, rungs[j:j+1], j == 0))
			if i == 0 && j == 1 {
				b.Logf("per-rung command, e.g. rung %s:\n%s", rungs[j].Name, commandLine(args))
			}
			perRung += runFFmpeg(b, args)
		}
	}
	n := float64(b.N)
	b.ReportMetric(split.Seconds()/n, "split-s")
	b.ReportMetric(perRung.Seconds()/n, "per-rung-s")
	b.ReportMetric(perRung.Seconds()/split.Seconds(), "speedup")
}

// BenchmarkNVENCVsX264 compares the NVENC ladder with the libx264 veryfast
// ladder in times real time. It runs only where DetectCapabilities finds NVENC.
func BenchmarkNVENCVsX264(b *testing.B) {
	requireFFmpeg(b)
	caps, err := DetectCapabilities(context.Background(), "ffmpeg")
	if err != nil || !caps.NVENC() {
		b.Skipf("no NVENC here (GPU %q, err %v)", caps.GPU, err)
	}
	src, info := benchClip(b)
	cpu := newTestTranscoder(b, Config{})
	gpu := newTestTranscoder(b, Config{Encoder: EncoderNVENC})
	var cpuTime, gpuTime time.Duration
	for range b.N {
		for _, side := range []struct {
			tr  *Transcoder
			sum *time.Duration
		}{{cpu, &cpuTime}, {gpu, &gpuTime}} {
			start := time.Now()
			if _, err := side.tr.Transcode(context.Background(), Job{Input: src, OutDir: b.TempDir()}); err != nil {
				b.Fatal(err)
			}
			*side.sum += time.Since(start)
		}
	}
	media := info.Duration.Seconds() * float64(b.N)
	b.ReportMetric(media/gpuTime.Seconds(), "nvenc-x-realtime")
	b.ReportMetric(media/cpuTime.Seconds(), "x264-x-realtime")
	b.Logf("GPU: %s", caps.GPU)
}
