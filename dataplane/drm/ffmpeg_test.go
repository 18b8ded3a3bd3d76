package drm_test

import (
	"context"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marquee-video/marquee/dataplane/drm"
	"github.com/marquee-video/marquee/dataplane/packager"
)

// TestFFmpegDecrypts checks the encryption with an independent decryptor:
// ffmpeg decrypts each segment with the key and decodes it, and the decoded
// frames must hash the same as the clear package's. Segments are checked one
// at a time (init + segment): ffmpeg 5.1 loses track of per-fragment
// encryption info in a file of several fragments without sidx, even for
// mp4ff's own reference file, so a whole-track file is not a fair test.
func TestFFmpegDecrypts(t *testing.T) {
	tracks := []packager.Track{
		{ID: "v240", Kind: packager.KindVideo, Path: media(t, "v240")},
		{ID: "audio", Kind: packager.KindAudio, Path: media(t, "audio")},
	}
	ctx := context.Background()
	clearOut, err := packager.Package(ctx, tracks, filepath.Join(t.TempDir(), "clear"), packager.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := fixedKey(4)
	for _, scheme := range []string{drm.SchemeCENC, drm.SchemeCBCS} {
		t.Run(scheme, func(t *testing.T) {
			enc, err := drm.NewEncryptor(scheme, map[string]drm.ContentKey{drm.AllTracks: key}, drm.Signalling{Systems: []drm.System{drm.Widevine, drm.PlayReady}})
			if err != nil {
				t.Fatal(err)
			}
			out, err := packager.Package(ctx, tracks, filepath.Join(t.TempDir(), "pkg"), packager.Options{Encryptor: enc})
			if err != nil {
				t.Fatal(err)
			}
			for i, tr := range out.Tracks {
				for j := range tr.Segments {
					want := frameHashes(t, joinSegment(t, clearOut.Dir, clearOut.Tracks[i], j), "")
					got := frameHashes(t, joinSegment(t, out.Dir, tr, j), hex.EncodeToString(key.Key))
					if len(want) == 0 || strings.Join(got, "\n") != strings.Join(want, "\n") {
						t.Errorf("%s segment %d: ffmpeg decodes %d frames that differ from the clear package's %d", tr.ID, j+1, len(got), len(want))
					}
				}
			}
		})
	}
}

// joinSegment writes a track's init segment followed by its media segment j
// into one file.
func joinSegment(t *testing.T, dir string, tr packager.PackagedTrack, j int) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, tr.InitPath))
	if err != nil {
		t.Fatal(err)
	}
	seg, err := os.ReadFile(filepath.Join(dir, tr.Segments[j].Path))
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, seg...)
	path := filepath.Join(t.TempDir(), tr.ID+".mp4")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// frameHashes is ffmpeg's MD5 of every decoded frame.
func frameHashes(t *testing.T, file, key string) []string {
	t.Helper()
	args := []string{"-v", "error", "-xerror"}
	if key != "" {
		args = append(args, "-decryption_key", key)
	}
	args = append(args, "-i", file, "-f", "framemd5", "-")
	out, err := exec.Command("ffmpeg", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
	var hashes []string
	for line := range strings.Lines(string(out)) {
		if f := strings.Split(line, ","); len(f) == 6 && !strings.HasPrefix(line, "#") {
			hashes = append(hashes, strings.TrimSpace(f[5]))
		}
	}
	return hashes
}
