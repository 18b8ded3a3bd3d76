package packager

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func init() {
	for _, c := range []clip{
		videoClip("b720", "1280x720", 3000, 10, 2),
		videoClip("b480", "854x480", 1500, 10, 2),
		videoClip("b360", "640x360", 800, 10, 2),
		audioClip("baudio", 10, 2),
	} {
		clips[c.name] = c
	}
}

// BenchmarkPackage packages a 10 s ladder of three H.264 renditions (720p at
// 3 Mb/s, 480p, 360p) and AAC; MB/s is input bytes per second. The cenc and
// cbcs runs add mp4ff encryption through the Encryptor seam, the cost issue 4
// reports.
func BenchmarkPackage(b *testing.B) {
	tracks := []Track{
		{ID: "v720", Kind: KindVideo, Path: media(b, "b720")},
		{ID: "v480", Kind: KindVideo, Path: media(b, "b480")},
		{ID: "v360", Kind: KindVideo, Path: media(b, "b360")},
		{ID: "audio", Kind: KindAudio, Path: media(b, "baudio")},
	}
	var size int64
	for _, t := range tracks {
		fi, err := os.Stat(t.Path)
		if err != nil {
			b.Fatal(err)
		}
		size += fi.Size()
	}
	// One untimed run first, so that every variant finds the inputs in the
	// page cache and none pays for the first run's warm-up.
	if _, err := Package(context.Background(), tracks, filepath.Join(b.TempDir(), "warm"), Options{}); err != nil {
		b.Fatal(err)
	}
	for _, scheme := range []string{"clear", "cenc", "cbcs"} {
		b.Run(scheme, func(b *testing.B) {
			dir := b.TempDir()
			b.SetBytes(size)
			n := 0
			for b.Loop() {
				var opt Options
				if scheme != "clear" {
					opt.Encryptor = newTestEncryptor(scheme, false)
				}
				n++
				if _, err := Package(context.Background(), tracks, filepath.Join(dir, fmt.Sprint(n)), opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
