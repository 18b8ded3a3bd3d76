package packager

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// audioGroup is the GROUP-ID every audio rendition belongs to.
const audioGroup = "audio"

// writeHLS writes master.m3u8 and <track>/playlist.m3u8 (RFC 8216, version 7:
// fMP4 segments with EXT-X-MAP).
func writeHLS(dir string, results []*trackResult, enc Encryptor) error {
	for _, r := range results {
		var keys []string
		if enc != nil {
			keys = enc.HLSKeyTags(r.track.ID)
		}
		pl, err := mediaPlaylist(r, keys)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, r.track.ID, PlaylistName), []byte(pl), 0o644); err != nil {
			return fmt.Errorf("packager: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, HLSMasterName), []byte(masterPlaylist(results)), 0o644); err != nil {
		return fmt.Errorf("packager: %w", err)
	}
	return nil
}

func mediaPlaylist(r *trackResult, keys []string) (string, error) {
	var b strings.Builder
	var maxDur uint64
	for _, d := range r.durs {
		maxDur = max(maxDur, d)
	}
	ts := uint64(r.timescale)
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:7\n")
	fmt.Fprintf(&b, "#EXT-X-TARGETDURATION:%d\n", (maxDur+ts-1)/ts)
	b.WriteString("#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	for _, k := range keys {
		if !strings.HasPrefix(k, "#EXT") || strings.ContainsAny(k, "\r\n") {
			return "", fmt.Errorf("packager: encryptor's HLS tag for %q is not one tag line: %q", r.track.ID, k)
		}
		b.WriteString(k)
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "#EXT-X-MAP:URI=%q\n", InitName)
	for i, d := range r.durs {
		fmt.Fprintf(&b, "#EXTINF:%.6f,\nseg-%d.m4s\n", float64(d)/float64(ts), i+1)
	}
	b.WriteString("#EXT-X-ENDLIST\n")
	return b.String(), nil
}

// masterPlaylist lists every audio track as an EXT-X-MEDIA of one group and
// every video track as a variant that refers to that group. A variant's
// BANDWIDTH is its peak plus the largest audio peak, an upper bound of the
// peak of the two together; CODECS names every codec the variant may need.
func masterPlaylist(results []*trackResult) string {
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	var audioPeak, audioAvg int
	var audioCodecs []string
	first := true
	for _, r := range results {
		if r.track.Kind != KindAudio {
			continue
		}
		p := r.packaged
		audioPeak = max(audioPeak, p.Bandwidth)
		audioAvg = max(audioAvg, p.AverageBandwidth)
		if !slices.Contains(audioCodecs, p.Codecs) {
			audioCodecs = append(audioCodecs, p.Codecs)
		}
		fmt.Fprintf(&b, "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=%q,NAME=%q", audioGroup, p.ID)
		if p.Language != "" {
			fmt.Fprintf(&b, ",LANGUAGE=%q", p.Language)
		}
		fmt.Fprintf(&b, ",DEFAULT=%s,AUTOSELECT=YES", yesNo(first))
		if r.info.channels > 0 {
			fmt.Fprintf(&b, ",CHANNELS=\"%d\"", r.info.channels)
		}
		fmt.Fprintf(&b, ",URI=%q\n", p.Playlist)
		first = false
	}
	for _, r := range results {
		if r.track.Kind != KindVideo {
			continue
		}
		p := r.packaged
		codecs := append([]string{p.Codecs}, audioCodecs...)
		fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d,CODECS=%q",
			p.Bandwidth+audioPeak, p.AverageBandwidth+audioAvg, strings.Join(codecs, ","))
		if p.Width > 0 && p.Height > 0 {
			fmt.Fprintf(&b, ",RESOLUTION=%dx%d", p.Width, p.Height)
		}
		if p.FrameRate > 0 {
			fmt.Fprintf(&b, ",FRAME-RATE=%.3f", p.FrameRate)
		}
		if len(audioCodecs) > 0 {
			fmt.Fprintf(&b, ",AUDIO=%q", audioGroup)
		}
		fmt.Fprintf(&b, "\n%s\n", p.Playlist)
	}
	return b.String()
}

func yesNo(v bool) string {
	if v {
		return "YES"
	}
	return "NO"
}
