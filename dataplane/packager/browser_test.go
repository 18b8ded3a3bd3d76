package packager

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// chromiumPath is Debian's chromium, the browser the e2e tests use.
const chromiumPath = "/usr/bin/chromium"

type playReport struct {
	OK            bool        `json:"ok"`
	Error         string      `json:"error"`
	Types         []string    `json:"types"`
	Segments      []int       `json:"segments"`
	CurrentTime   float64     `json:"currentTime"`
	Duration      float64     `json:"duration"`
	Buffered      [][]float64 `json:"buffered"`
	DecodedFrames int         `json:"decodedFrames"`
	Log           []string    `json:"log"`
}

// TestChromiumPlaysPackage proves that Chromium's MSE accepts the CMAF
// segments with exactly the codecs strings the manifests advertise and plays
// them: a test-only player in testdata/play.html reads the DASH MPD or the
// HLS master over HTTP on loopback, appends one video rendition and the
// audio, plays muted, and reports back once currentTime passes 3.5 s.
func TestChromiumPlaysPackage(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s is not installed (apt-get install -y chromium); browser playback not tested", chromiumPath)
	}
	h264, err := Package(context.Background(), ladder(t), filepath.Join(t.TempDir(), "h264"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	av1, err := Package(context.Background(), []Track{
		{ID: "av1", Kind: KindVideo, Path: media(t, "av1")},
		{ID: "audio", Kind: KindAudio, Path: media(t, "audio")},
	}, filepath.Join(t.TempDir(), "av1"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join("testdata", "play.html"))
	if err != nil {
		t.Fatal(err)
	}
	results := make(chan playReport, 1)
	mux := http.NewServeMux()
	mux.Handle("/h264/", http.StripPrefix("/h264/", http.FileServer(http.Dir(h264.Dir))))
	mux.Handle("/av1/", http.StripPrefix("/av1/", http.FileServer(http.Dir(av1.Dir))))
	mux.HandleFunc("/play.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	})
	mux.HandleFunc("POST /result", func(w http.ResponseWriter, r *http.Request) {
		var rep playReport
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &rep); err != nil {
			rep = playReport{Error: "bad report: " + string(body)}
		}
		select {
		case results <- rep:
		default:
		}
	})
	srv := httptest.NewServer(mux) // 127.0.0.1, a random port
	defer srv.Close()

	cases := []struct {
		name, src, video string
		pkg              Output
	}{
		{"DASH h264", "/h264/manifest.mpd", "v480", h264},
		{"HLS h264", "/h264/master.m3u8", "v360", h264},
		{"DASH av1", "/av1/manifest.mpd", "av1", av1},
		{"HLS av1", "/av1/master.m3u8", "av1", av1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := url.Values{"src": {c.src}, "video": {c.video}}
			rep, logs := runChromium(t, srv.URL+"/play.html?"+q.Encode(), results)
			if !rep.OK || rep.CurrentTime <= 3 {
				t.Fatalf("playback failed: %+v\nchromium:\n%s", rep, logs)
			}
			video := trackByID(c.pkg, c.video)
			audio := trackByID(c.pkg, "audio")
			want := []string{`video/mp4; codecs="` + video.Codecs + `"`, `audio/mp4; codecs="` + audio.Codecs + `"`}
			if strings.Join(rep.Types, "|") != strings.Join(want, "|") {
				t.Errorf("MSE types %v, want %v", rep.Types, want)
			}
			if rep.Segments[0] != len(video.Segments) || rep.Segments[1] != len(audio.Segments) {
				t.Errorf("player appended %v segments, package has %d and %d", rep.Segments, len(video.Segments), len(audio.Segments))
			}
			if len(rep.Buffered) != 1 || rep.Buffered[0][0] > 0.1 || rep.Buffered[0][1] < 7.9 {
				t.Errorf("buffered %v, want one range covering 0–8 s", rep.Buffered)
			}
			t.Logf("%s: played to %.2fs of %.2fs, %d frames, buffered %v, types %v", c.name, rep.CurrentTime, rep.Duration, rep.DecodedFrames, rep.Buffered, rep.Types)
		})
	}
}

// runChromium opens pageURL in headless Chromium and waits for the page's
// report. The browser runs in its own process group, which is killed after.
func runChromium(t *testing.T, pageURL string, results chan playReport) (playReport, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var logs bytes.Buffer
	cmd := exec.Command(chromiumPath,
		"--headless", "--no-sandbox", "--disable-gpu", "--mute-audio", "--no-first-run",
		"--disable-extensions", "--disable-background-networking", "--disable-dev-shm-usage",
		"--autoplay-policy=no-user-gesture-required",
		"--user-data-dir="+t.TempDir(),
		pageURL)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	select {
	case rep := <-results:
		stop()
		return rep, logs.String()
	case err := <-exited:
		return playReport{Error: "chromium exited before the page reported: " + errString(err)}, logs.String()
	case <-ctx.Done():
		stop()
		return playReport{Error: "no report from the page in 60 s"}, logs.String()
	}
}

func errString(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}
