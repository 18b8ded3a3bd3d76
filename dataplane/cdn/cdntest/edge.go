// Package cdntest starts real nginx processes as CDN edges for tests: a
// caching reverse proxy in front of an origin that enforces nginx
// secure_link tokens (as cdn.NewSigner("nginx", …) issues them), and a plain
// static file server. Each runs as a child process on a random 127.0.0.1 port
// with its configuration, cache, temp paths and logs under t.TempDir(), so it
// needs no root and touches nothing outside the test.
package cdntest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"
)

// NginxBinary is where Debian installs nginx.
const NginxBinary = "/usr/sbin/nginx"

// EdgeConfig describes a caching edge.
type EdgeConfig struct {
	// Origin is the upstream base URL, e.g. an httptest server's URL; a path
	// in it is prepended to request paths.
	Origin string
	// Secret is the secure_link_md5 secret; the edge checks
	//   secure_link $arg_md5,$arg_expires;
	//   secure_link_md5 "$secure_link_expires$uri <Secret>";
	// and answers 403 for missing or bad links and 410 for expired ones.
	// Letters, digits and -_.~+/= only, so it can sit in the config as is.
	Secret string
	// CacheValid is how long 200/206 answers are cached (default 10m).
	CacheValid time.Duration
}

// Edge is one nginx process. Stop and Start may be called in any order, from
// the test goroutine.
type Edge struct {
	t    testing.TB
	dir  string
	port int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func safeSecret(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.ContainsRune("-_.~+/=", c)) {
			return false
		}
	}
	return true
}

const commonConf = `daemon off;
master_process off;
worker_processes 1;
pid {{.Dir}}/nginx.pid;
error_log {{.Dir}}/error.log info;
events { worker_connections 256; }
http {
    access_log {{.Dir}}/access.log combined;
    client_body_temp_path {{.Dir}}/tmp/client_body;
    proxy_temp_path {{.Dir}}/tmp/proxy;
    fastcgi_temp_path {{.Dir}}/tmp/fastcgi;
    uwsgi_temp_path {{.Dir}}/tmp/uwsgi;
    scgi_temp_path {{.Dir}}/tmp/scgi;
    types {
        application/vnd.apple.mpegurl m3u8;
        application/dash+xml mpd;
        video/mp2t ts;
        video/iso.segment m4s;
        video/mp4 mp4;
        audio/mp4 m4a;
        text/vtt vtt;
        application/json json;
        text/plain txt;
    }
    default_type application/octet-stream;
    sendfile on;
`

var edgeConf = template.Must(template.New("edge").Parse(commonConf + `
    proxy_cache_path {{.Dir}}/cache levels=1:2 keys_zone=edge:4m max_size=256m inactive=1h use_temp_path=off;
    server {
        listen 127.0.0.1:{{.Port}};
        # A browser player fetches segments cross-origin.
        add_header Access-Control-Allow-Origin * always;
        add_header Access-Control-Expose-Headers "Content-Length, Content-Range, X-Cache-Status" always;
        # Path tokens (controlplane/playback): /t/<md5>/<expires>/a/<asset>/<file>,
        # one signature for everything under the asset's prefix, so relative
        # URLs in playlists and MPDs stay signed.
        location ~ "^/t/([A-Za-z0-9_-]{22})/([0-9]+)(/a/[A-Za-z0-9_]+/)(.*)$" {
            if ($request_method = OPTIONS) {
                add_header Access-Control-Allow-Origin * always;
                add_header Access-Control-Allow-Methods "GET, HEAD, OPTIONS" always;
                add_header Access-Control-Allow-Headers "Range" always;
                return 204;
            }
            secure_link $1,$2;
            secure_link_md5 "$2$3 {{.Secret}}";
            if ($secure_link = "") { return 403; }
            if ($secure_link = "0") { return 410; }
{{if .OriginHost}}
            proxy_pass {{.OriginHost}};
{{else}}
            return 502;
{{end}}
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache edge;
            proxy_cache_key $3$4;
            # The origin answers CORS itself; a second header would make
            # browsers refuse the answer.
            proxy_hide_header Access-Control-Allow-Origin;
            proxy_hide_header Access-Control-Expose-Headers;
            proxy_cache_valid 200 206 {{.CacheValid}}s;
            proxy_cache_lock on;
            add_header X-Cache-Status $upstream_cache_status always;
            add_header Access-Control-Allow-Origin * always;
            add_header Access-Control-Expose-Headers "Content-Length, Content-Range, X-Cache-Status" always;
        }
        # The health canary: fetched through to the origin, never cached.
        location = /canary {
{{if .OriginHost}}
            proxy_pass {{.OriginHost}};
{{else}}
            return 502;
{{end}}
            add_header Access-Control-Allow-Origin * always;
        }
        location / {
            if ($request_method = OPTIONS) {
                add_header Access-Control-Allow-Origin * always;
                add_header Access-Control-Allow-Methods "GET, HEAD, OPTIONS" always;
                add_header Access-Control-Allow-Headers "Range" always;
                add_header Access-Control-Max-Age 86400 always;
                return 204;
            }
            secure_link $arg_md5,$arg_expires;
            secure_link_md5 "$secure_link_expires$uri {{.Secret}}";
            if ($secure_link = "") { return 403; }
            if ($secure_link = "0") { return 410; }

            proxy_pass {{.Origin}};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache edge;
            # Tokens differ per viewer; the object does not.
            proxy_cache_key $uri;
            proxy_hide_header Access-Control-Allow-Origin;
            proxy_hide_header Access-Control-Expose-Headers;
            proxy_cache_valid 200 206 {{.CacheValid}}s;
            proxy_cache_lock on;
            add_header X-Cache-Status $upstream_cache_status always;
            add_header Access-Control-Allow-Origin * always;
            add_header Access-Control-Expose-Headers "Content-Length, Content-Range, X-Cache-Status" always;
        }
    }
}
`))

var staticConf = template.Must(template.New("static").Parse(commonConf + `
    server {
        listen 127.0.0.1:{{.Port}};
        root {{.Root}};
        add_header Access-Control-Allow-Origin * always;
        location / {
            if ($request_method = OPTIONS) {
                add_header Access-Control-Allow-Origin * always;
                add_header Access-Control-Allow-Methods "GET, HEAD, OPTIONS" always;
                add_header Access-Control-Allow-Headers "Range" always;
                return 204;
            }
        }
    }
}
`))

// StartEdge starts a caching, secure_link-checking edge in front of
// cfg.Origin and stops it when the test ends.
func StartEdge(t testing.TB, cfg EdgeConfig) *Edge {
	t.Helper()
	origin, err := url.Parse(cfg.Origin)
	if err != nil || (origin.Scheme != "http" && origin.Scheme != "https") || origin.Host == "" {
		t.Fatalf("cdntest: origin %q is not an http(s) base URL", cfg.Origin)
	}
	if !safeSecret(cfg.Secret) {
		t.Fatalf("cdntest: secret must be non-empty [A-Za-z0-9-_.~+/=]")
	}
	valid := cfg.CacheValid
	if valid <= 0 {
		valid = 10 * time.Minute
	}
	originURL := strings.TrimSuffix(origin.String(), "/")
	if origin.Path != "" && origin.Path != "/" {
		// With a URI part, proxy_pass replaces the location's "/" with it.
		originURL += "/"
	}
	originHost := ""
	if origin.Path == "" || origin.Path == "/" {
		// A regex location's proxy_pass may not have a URI part: path
		// tokens need an origin at the root.
		originHost = origin.Scheme + "://" + origin.Host
	}
	return start(t, edgeConf, map[string]any{
		"Origin":     originURL,
		"OriginHost": originHost,
		"Secret":     cfg.Secret,
		"CacheValid": int64(valid / time.Second),
	})
}

// StartStatic serves dir as static files (with CORS, no tokens, no cache),
// the reference edge for benchmarks.
func StartStatic(t testing.TB, dir string) *Edge {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatalf("cdntest: %v", err)
	}
	if strings.ContainsAny(abs, " ;{}\"'$\\") {
		t.Fatalf("cdntest: directory %q cannot be written into an nginx config unquoted", abs)
	}
	return start(t, staticConf, map[string]any{"Root": abs})
}

func start(t testing.TB, tmpl *template.Template, data map[string]any) *Edge {
	t.Helper()
	if _, err := os.Stat(NginxBinary); err != nil {
		t.Fatalf("cdntest: nginx is not installed at %s: %v", NginxBinary, err)
	}
	dir := t.TempDir()
	for _, d := range []string{"tmp", "cache"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatalf("cdntest: %v", err)
		}
	}
	e := &Edge{t: t, dir: dir}
	t.Cleanup(e.Stop)
	// The port is free when picked but another process may take it before
	// nginx binds; pick again a few times.
	var err error
	for range 5 {
		if e.port, err = freePort(); err != nil {
			t.Fatalf("cdntest: %v", err)
		}
		data["Dir"], data["Port"] = dir, e.port
		var conf bytes.Buffer
		if err := tmpl.Execute(&conf, data); err != nil {
			t.Fatalf("cdntest: render nginx config: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), conf.Bytes(), 0o644); err != nil {
			t.Fatalf("cdntest: %v", err)
		}
		if err = e.start(); err == nil || !strings.Contains(e.Logs(), "Address already in use") {
			break
		}
	}
	if err != nil {
		t.Fatalf("cdntest: %v", err)
	}
	return e
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// URL is the edge's base URL, http://127.0.0.1:<port>, the same across Stop
// and Start.
func (e *Edge) URL() string { return "http://127.0.0.1:" + strconv.Itoa(e.port) }

// Dir is the edge's temp directory (config, logs, cache).
func (e *Edge) Dir() string { return e.dir }

// Start (re)starts nginx on the edge's port and waits until it accepts
// connections. It does nothing if the edge is running. Call it from the test
// goroutine: it fails the test if nginx does not come up.
func (e *Edge) Start() {
	e.t.Helper()
	if err := e.start(); err != nil {
		e.t.Fatalf("cdntest: %v", err)
	}
}

func (e *Edge) start() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cmd != nil {
		return nil
	}
	cmd := exec.Command(NginxBinary, "-p", e.dir, "-c", filepath.Join(e.dir, "nginx.conf"), "-e", filepath.Join(e.dir, "error.log"))
	out, err := os.OpenFile(filepath.Join(e.dir, "stderr.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("start nginx: %w", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		out.Close()
		close(done)
	}()
	e.cmd, e.done = cmd, done

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", "127.0.0.1:"+strconv.Itoa(e.port))
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-done:
			e.cmd, e.done = nil, nil
			return fmt.Errorf("nginx exited during start-up:\n%s", e.logsLocked())
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			<-done
			e.cmd, e.done = nil, nil
			return fmt.Errorf("nginx did not accept connections on %d: %w\n%s", e.port, errors.Join(err, ctx.Err()), e.logsLocked())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop kills nginx (SIGKILL, like a crashed edge) and waits for it to exit.
// Connections are refused until Start.
func (e *Edge) Stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cmd == nil {
		return
	}
	_ = e.cmd.Process.Kill()
	<-e.done
	e.cmd, e.done = nil, nil
}

// Logs returns nginx's error log, access log and stderr, for failure
// messages.
func (e *Edge) Logs() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.logsLocked()
}

func (e *Edge) logsLocked() string {
	var b strings.Builder
	for _, f := range []string{"error.log", "access.log", "stderr.log"} {
		data, err := os.ReadFile(filepath.Join(e.dir, f))
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "==> %s <==\n%s\n", f, data)
	}
	return b.String()
}
