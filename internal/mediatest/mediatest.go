// Package mediatest makes test media with ffmpeg: small generated clips,
// never downloads.
package mediatest

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
)

// Clip writes dir/name: seconds of ffmpeg's testsrc2 at size ("640x360",
// 30 fps) and a sine tone, H.264 + AAC in MP4, and returns its path. The
// test is skipped when ffmpeg is missing.
func Clip(t testing.TB, dir, name, size string, seconds int) string {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg is not installed")
	}
	out := filepath.Join(dir, name)
	cmd := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size="+size+":rate=30",
		"-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000", "-t", fmt.Sprint(seconds),
		"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, b)
	}
	return out
}
