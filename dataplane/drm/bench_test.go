package drm_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/marquee-video/marquee/dataplane/drm"
	"github.com/marquee-video/marquee/dataplane/packager"
)

func init() {
	video := func(size, kbps string) []string {
		return []string{"-f", "lavfi", "-i", "testsrc2=size=" + size + ":rate=30", "-t", "10",
			"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-b:v", kbps, "-pix_fmt", "yuv420p",
			"-force_key_frames", "expr:gte(t,n_forced*2)", "-sc_threshold", "0", "-movflags", fragFlags}
	}
	clipArgs["b720"] = video("1280x720", "3000k")
	clipArgs["b360"] = video("640x360", "800k")
	clipArgs["baudio"] = []string{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "10",
		"-ac", "2", "-c:a", "aac", "-b:a", "128k", "-frag_duration", "2000000", "-movflags", fragFlags}
}

// BenchmarkEncrypt packages a 10 s ladder (720p at 3 Mb/s, 360p, AAC) clear
// and through drm.Encryptor with cenc and cbcs, signalled for Widevine,
// PlayReady and Clear Key (and FairPlay for cbcs); MB/s is input bytes per
// second, so the difference to "clear" is the cost of encryption.
func BenchmarkEncrypt(b *testing.B) {
	tracks := []packager.Track{
		{ID: "v720", Kind: packager.KindVideo, Path: media(b, "b720")},
		{ID: "v360", Kind: packager.KindVideo, Path: media(b, "b360")},
		{ID: "audio", Kind: packager.KindAudio, Path: media(b, "baudio")},
	}
	var size int64
	for _, t := range tracks {
		fi, err := os.Stat(t.Path)
		if err != nil {
			b.Fatal(err)
		}
		size += fi.Size()
	}
	// One untimed run so every variant finds the inputs in the page cache.
	if _, err := packager.Package(context.Background(), tracks, filepath.Join(b.TempDir(), "warm"), packager.Options{}); err != nil {
		b.Fatal(err)
	}
	key := fixedKey(1)
	for _, scheme := range []string{"clear", drm.SchemeCENC, drm.SchemeCBCS} {
		b.Run(scheme, func(b *testing.B) {
			dir := b.TempDir()
			b.SetBytes(size)
			n := 0
			for b.Loop() {
				var opt packager.Options
				if scheme != "clear" {
					sig := drm.Signalling{Systems: []drm.System{drm.Widevine, drm.PlayReady, drm.ClearKey}}
					if scheme == drm.SchemeCBCS {
						sig.Systems = append(sig.Systems, drm.FairPlay)
					}
					enc, err := drm.NewEncryptor(scheme, map[string]drm.ContentKey{drm.AllTracks: key}, sig)
					if err != nil {
						b.Fatal(err)
					}
					opt.Encryptor = enc
				}
				n++
				if _, err := packager.Package(context.Background(), tracks, filepath.Join(dir, fmt.Sprint(n)), opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
