package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// ControlPlane is the worker's client of the control plane's internal API.
// It holds no database credentials: this API is all a worker can reach.
type ControlPlane struct {
	base  string
	http  *http.Client
	token string
}

// APIError is a refusal from the control plane, with its stable code.
type APIError struct {
	Status int
	Code   string
	Detail string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("control plane: %d %s: %s", e.Status, e.Code, e.Detail)
}

// Retryable reports whether trying again later can help.
func (e *APIError) Retryable() bool { return e.Status >= 500 || e.Status == http.StatusTooManyRequests }

func (c *ControlPlane) do(ctx context.Context, method, path, bearer string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	var last error
	for attempt := range 4 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * 250 * time.Millisecond):
			}
		}
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+bearer)
		res, err := c.http.Do(req)
		if err != nil {
			last = err
			continue
		}
		b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
		if res.StatusCode >= 300 {
			var p struct{ Code, Detail string }
			_ = json.Unmarshal(b, &p)
			last = &APIError{Status: res.StatusCode, Code: p.Code, Detail: p.Detail}
			if last.(*APIError).Retryable() {
				continue
			}
			return last
		}
		if out != nil && len(b) > 0 {
			return json.Unmarshal(b, out)
		}
		return nil
	}
	return last
}

func jobPath(tenant, job, action string) string {
	return "/internal/v1/jobs/" + tenant + "/" + job + "/" + action
}

func isCode(err error, codes ...string) bool {
	e, ok := err.(*APIError)
	if !ok {
		return false
	}
	for _, c := range codes {
		if strings.EqualFold(e.Code, c) {
			return true
		}
	}
	return false
}
