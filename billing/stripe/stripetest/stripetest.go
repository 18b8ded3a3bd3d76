// Package stripetest runs stripe-mock for tests and records what a Stripe
// client sends to it. stripe-mock is stateless and answers with canned
// objects, so tests assert on the requests recorded here and on what
// Marquee stores, not on what stripe-mock echoes.
package stripetest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Find locates stripe-mock: $STRIPE_MOCK, then .tools/bin of the repository
// (where `make test` installs it), then $PATH, then $(go env GOPATH)/bin.
func Find() (string, bool) {
	if bin := os.Getenv("STRIPE_MOCK"); bin != "" {
		_, err := os.Stat(bin)
		return bin, err == nil
	}
	if dir, err := os.Getwd(); err == nil {
		for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				bin := filepath.Join(dir, ".tools", "bin", "stripe-mock")
				if _, err := os.Stat(bin); err == nil {
					return bin, true
				}
				break
			}
		}
	}
	if bin, err := exec.LookPath("stripe-mock"); err == nil {
		return bin, true
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		bin := filepath.Join(strings.TrimSpace(string(out)), "bin", "stripe-mock")
		if _, err := os.Stat(bin); err == nil {
			return bin, true
		}
	}
	return "", false
}

// Start runs stripe-mock on random loopback ports until the test ends and
// returns its HTTP base URL. Without stripe-mock the test is skipped, except
// in CI (CI set), where it fails: `make test` installs it.
func Start(t testing.TB) string {
	t.Helper()
	bin, ok := Find()
	if !ok {
		if os.Getenv("CI") != "" {
			t.Fatal("stripetest: stripe-mock is not installed (make test installs it into .tools/bin)")
		}
		t.Skip("stripe-mock is not installed (make test installs it into .tools/bin)")
	}
	httpAddr, httpsAddr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(bin, "-http-addr", httpAddr, "-https-addr", httpsAddr)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("stripetest: start stripe-mock: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", httpAddr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stripetest: stripe-mock did not listen on %s: %s", httpAddr, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "http://" + httpAddr
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Call is one request a Stripe client sent.
type Call struct {
	Method, Path   string
	Form           url.Values
	IdempotencyKey string
	StripeAccount  string
	Status         int
}

// Recorder is an http.RoundTripper that records every call.
type Recorder struct {
	Next  http.RoundTripper
	mu    sync.Mutex
	calls []Call
}

// RoundTrip implements http.RoundTripper.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	c := Call{Method: req.Method, Path: req.URL.Path, IdempotencyKey: req.Header.Get("Idempotency-Key"), StripeAccount: req.Header.Get("Stripe-Account")}
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		c.Form, _ = url.ParseQuery(string(b))
	}
	if c.Form == nil {
		c.Form, _ = url.ParseQuery(req.URL.RawQuery)
	}
	next := r.Next
	if next == nil {
		next = http.DefaultTransport
	}
	res, err := next.RoundTrip(req)
	if res != nil {
		c.Status = res.StatusCode
	}
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
	return res, err
}

// Calls returns the calls so far whose path starts with prefix.
func (r *Recorder) Calls(method, prefix string) []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Call
	for _, c := range r.calls {
		if c.Method == method && strings.HasPrefix(c.Path, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// String lists the calls, for failure messages.
func (r *Recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, c := range r.calls {
		fmt.Fprintf(&b, "%s %s %d\n", c.Method, c.Path, c.Status)
	}
	return b.String()
}
