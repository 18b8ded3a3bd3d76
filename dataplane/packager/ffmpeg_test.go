package packager

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFFmpegReadsManifests has ffprobe and ffmpeg, an independent HLS and DASH
// client, open both manifests, find every track with the right codec and
// decode all of it without a single error.
func TestFFmpegReadsManifests(t *testing.T) {
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	cases := []struct {
		name   string
		tracks func(t testing.TB) []Track
		codecs []string // ffprobe codec_name per stream, in any order
		frames int      // decoded frames per video stream
	}{
		{"h264 ladder and aac", ladder, []string{"h264", "h264", "h264", "aac"}, 240},
		{"hevc and aac", func(t testing.TB) []Track {
			return []Track{{ID: "hevc", Kind: KindVideo, Path: media(t, "hevc")}, {ID: "audio", Kind: KindAudio, Path: media(t, "audio")}}
		}, []string{"hevc", "aac"}, 240},
		{"av1", func(t testing.TB) []Track {
			return []Track{{ID: "av1", Kind: KindVideo, Path: media(t, "av1")}}
		}, []string{"av1"}, 240},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := Package(context.Background(), c.tracks(t), filepath.Join(t.TempDir(), "pkg"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, manifest := range []string{out.HLSMaster, out.DASHManifest} {
				t.Run(manifest, func(t *testing.T) {
					file := filepath.Join(out.Dir, manifest)
					streams := probe(t, file)
					var names []string
					for _, s := range streams {
						names = append(names, s.CodecName)
					}
					if !sameMultiset(names, c.codecs) {
						t.Errorf("ffprobe sees %v, want %v", names, c.codecs)
					}
					// Decode everything: not one error.
					cmd := exec.Command("ffmpeg", "-v", "error", "-nostdin", "-i", file, "-map", "0", "-f", "null", "-")
					if msg, err := cmd.CombinedOutput(); err != nil || len(msg) > 0 {
						t.Fatalf("ffmpeg decode: %v\n%s", err, msg)
					}
					// Every frame of every rendition is there. One rendition at a
					// time, as a player reads them: ffmpeg 5.1's DASH demuxer drops
					// the last packets of some representation when it reads all of
					// them at once, with its own DASH muxer's output too.
					video := 0
					for _, s := range streams {
						if s.CodecType != "video" {
							continue
						}
						n := countPackets(t, file, fmt.Sprintf("0:v:%d", video))
						video++
						if n != c.frames {
							t.Errorf("stream %d (%s): %d frames, want %d", s.Index, s.CodecName, n, c.frames)
						}
					}
				})
			}
		})
	}
}

// countPackets demuxes one stream and counts its packets.
func countPackets(t *testing.T, file, stream string) int {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-v", "error", "-nostdin", "-i", file, "-map", stream, "-c", "copy", "-f", "framecrc", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("ffmpeg %s: %v\n%s", stream, err, stderr.Bytes())
	}
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			n++
		}
	}
	return n
}

type probeStream struct {
	Index     int
	CodecName string
	CodecType string
}

func probe(t *testing.T, file string) []probeStream {
	t.Helper()
	args := []string{"-v", "error", "-show_entries", "stream=index,codec_name,codec_type", "-of", "json"}
	raw, err := exec.Command("ffprobe", append(args, file)...).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", file, err)
	}
	var doc struct {
		Streams []struct {
			Index     int    `json:"index"`
			CodecName string `json:"codec_name"`
			CodecType string `json:"codec_type"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("ffprobe output: %v\n%s", err, raw)
	}
	var out []probeStream
	for _, s := range doc.Streams {
		out = append(out, probeStream{s.Index, s.CodecName, s.CodecType})
	}
	return out
}

func sameMultiset(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	count := map[string]int{}
	for _, v := range a {
		count[v]++
	}
	for _, v := range b {
		count[v]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}
