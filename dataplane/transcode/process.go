package transcode

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// stderrTailLines is how much of a tool's stderr an error message carries:
	// enough to diagnose, never a whole log.
	stderrTailLines = 20
	// stderrLineMax cuts pathological lines (a filter graph dump, binary junk).
	stderrLineMax = 400
	// waitDelay bounds how long Wait waits for pipes after the process is gone.
	waitDelay = 5 * time.Second
)

// runTool runs one ffmpeg-family process in its own process group, so that a
// cancelled ctx kills it and anything it started. It returns the tail of stderr.
func runTool(ctx context.Context, path string, args []string, stdout io.Writer, env ...string) (string, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout = stdout
	tail := &tailWriter{max: stderrTailLines}
	cmd.Stderr = tail
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	setProcessGroup(cmd)
	cmd.WaitDelay = waitDelay
	err := cmd.Run()
	return tail.String(), err
}

// startFailure classifies what went wrong around a tool rather than inside it:
// the context ended, or the binary could not be started. It returns nil when the
// tool ran and exited non-zero, which the caller classifies from stderr.
func startFailure(ctx context.Context, tool string, err error) *Error {
	if e := contextError(ctx, tool); e != nil {
		return e
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return nil
	}
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return machineError(CodeUnavailable, err, "%s is not runnable on this node: %v", tool, err)
	}
	return machineError(CodeUnavailable, err, "%s: %v", tool, err)
}

// Markers in ffmpeg's stderr. Machine faults are checked first: a disk-full
// error often comes with decoder noise that would otherwise read as bad media.
var (
	machineMarkers = []string{
		"No space left on device", "Cannot allocate memory", "out of memory",
		"Too many open files", "Permission denied", "Read-only file system",
		"CUDA_ERROR", "Cannot load libcuda", "Cannot load libnvidia-encode",
		"No capable devices found", "Device creation failed", "OpenEncodeSessionEx failed",
		"No NVENC capable devices", "Unknown encoder",
	}
	unsupportedMarkers = []string{
		"Decoder (codec", "not supported by the decoder", "Unsupported codec",
	}
	mediaMarkers = []string{
		"Invalid data found when processing input", "moov atom not found",
		"Format not on whitelist", "could not find codec parameters",
		"Error while decoding stream", "error reading header", "Truncating packet",
		"partial file", "corrupt",
	}
)

// ffmpegFailure classifies a non-zero exit of ffmpeg from its stderr tail.
func ffmpegFailure(tool string, err error, tail string) *Error {
	msg := tool + " failed (" + err.Error() + ")"
	if tail != "" {
		msg += ":\n" + tail
	}
	switch {
	case containsAny(tail, machineMarkers):
		return machineError(CodeUnavailable, err, "%s", msg)
	case containsAny(tail, unsupportedMarkers):
		return &Error{Code: CodeUnsupportedMedia, Message: msg, cause: err}
	case containsAny(tail, mediaMarkers):
		return &Error{Code: CodeInvalidMedia, Message: msg, cause: err}
	default:
		return machineError(CodeFailed, err, "%s", msg)
	}
}

// redact replaces the node's local paths in a tool's message: the message may
// reach the tenant, the worker's folder layout should not.
func redact(msg, input, outDir string) string {
	for _, r := range []struct{ path, name string }{{fileURL(input), "input"}, {input, "input"}, {outDir, "output"}} {
		if r.path != "" {
			msg = strings.ReplaceAll(msg, r.path, r.name)
		}
	}
	return msg
}

func containsAny(s string, markers []string) bool {
	for _, m := range markers {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// tailWriter keeps the last max lines written to it.
type tailWriter struct {
	mu      sync.Mutex
	max     int
	lines   []string
	partial []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexAny(w.partial, "\r\n")
		if i < 0 {
			break
		}
		w.add(w.partial[:i])
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) > stderrLineMax {
		w.add(w.partial)
		w.partial = w.partial[:0]
	}
	return len(p), nil
}

func (w *tailWriter) add(line []byte) {
	s := strings.TrimSpace(string(line))
	if s == "" {
		return
	}
	if len(s) > stderrLineMax {
		s = s[:stderrLineMax] + "…"
	}
	w.lines = append(w.lines, s)
	if len(w.lines) > w.max {
		w.lines = append(w.lines[:0], w.lines[len(w.lines)-w.max:]...)
	}
}

func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	lines := w.lines
	if s := strings.TrimSpace(string(w.partial)); s != "" {
		lines = append(lines[:len(lines):len(lines)], s)
		if len(lines) > w.max {
			lines = lines[len(lines)-w.max:]
		}
	}
	return strings.Join(lines, "\n")
}

// progressWriter parses ffmpeg's -progress key=value stream and reports the
// share of total done, 0–99: the caller reports 100 once the outputs are in
// place, so that 100 always means finished. Reports only ever increase.
type progressWriter struct {
	total   time.Duration
	report  func(pct float64)
	last    float64
	partial []byte

	mu      sync.Mutex
	stopped bool
}

// stop makes sure report is not called again, even by a copy goroutine that
// exec abandoned after its WaitDelay.
func (w *progressWriter) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
}

const progressCeiling = 99

func (w *progressWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return len(p), nil
	}
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) > 4096 { // not -progress output; do not grow without bound
		w.partial = w.partial[:0]
	}
	return len(p), nil
}

func (w *progressWriter) line(s string) {
	key, value, ok := strings.Cut(strings.TrimSpace(s), "=")
	if !ok || key != "out_time_us" || w.report == nil || w.total <= 0 {
		return
	}
	us, err := strconv.ParseInt(value, 10, 64) // "N/A" before the first frame
	if err != nil || us <= 0 {
		return
	}
	pct := min(float64(us)/float64(w.total.Microseconds())*100, progressCeiling)
	if pct > w.last {
		w.last = pct
		w.report(pct)
	}
}
