package transcode

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// fakeTools are scripts standing in for ffmpeg and nvidia-smi. They are all
// written before any test runs: executing a file that was just written while
// parallel tests fork can fail with "text file busy".
var fakeTools = map[string]string{}

// cleanupDirs are removed when the tests and benchmarks are done.
var cleanupDirs []string

var fakeScripts = map[string]string{
	// ffmpeg-<case>: writes into its last argument (an output in the staging
	// folder), prints 50 lines and a last one to stderr, and fails.
	"ffmpeg-unexplained": ffmpegFailing("Conversion failed!"),
	"ffmpeg-disk-full":   ffmpegFailing("Error writing trailer: No space left on device"),
	"ffmpeg-gpu-gone":    ffmpegFailing("[h264_nvenc @ 0x1] OpenEncodeSessionEx failed: out of memory (10)"),
	"ffmpeg-bad-data":    ffmpegFailing("Error while decoding stream #0:0: Invalid data found when processing input"),
	// ffmpeg-caps answers -encoders and -hwaccels like an ffmpeg built with NVENC.
	"ffmpeg-caps": "#!/bin/sh\ncase \"$2\" in\n-encoders) cat <<'EOF'\n" + encodersFixture + "EOF\n;;\n" +
		"-hwaccels) cat <<'EOF'\n" + hwaccelsFixture + "EOF\n;;\nesac\n",
	"nvidia-smi-gpu":    "#!/bin/sh\necho 'NVIDIA L40S'\n",
	"nvidia-smi-broken": "#!/bin/sh\necho 'NVIDIA-SMI has failed' >&2\nexit 9\n",
}

func ffmpegFailing(last string) string {
	return "#!/bin/sh\nfor a; do out=$a; done\necho partial > \"$out\"\n" +
		"i=1\nwhile [ $i -le 50 ]; do echo \"stderr line $i\" >&2; i=$((i+1)); done\n" +
		fmt.Sprintf("echo '%s' >&2\nexit 1\n", last)
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "transcode-fakes-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for name, script := range fakeScripts {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fakeTools[name] = path
	}
	cleanupDirs = append(cleanupDirs, dir)
	code := m.Run()
	for _, d := range cleanupDirs {
		_ = os.RemoveAll(d)
	}
	os.Exit(code)
}
