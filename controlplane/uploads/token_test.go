package uploads

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/ids"
)

func TestToken(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := &Service{key: bytes.Repeat([]byte{1}, 32), now: func() time.Time { return now }}
	g := Grant{UploadID: ids.New(IDPrefix), TenantID: ids.New(ids.Tenant), ExpiresAt: now.Add(time.Hour)}
	tok := s.sign(g)
	got, err := s.Authorize(tok)
	if err != nil || got != g {
		t.Fatalf("Authorize = %+v, %v; want %+v", got, err, g)
	}
	other := &Service{key: bytes.Repeat([]byte{2}, 32), now: s.now}
	parts := strings.Split(tok, ".")
	for name, bad := range map[string]string{
		"other key":      other.sign(g),
		"other tenant":   parts[0] + "." + ids.New(ids.Tenant) + "." + parts[2] + "." + parts[3],
		"later expiry":   parts[0] + "." + parts[1] + "." + "9999999999" + "." + parts[3],
		"truncated":      strings.Join(parts[:3], "."),
		"empty":          "",
		"not an upload":  "ast_x." + parts[1] + "." + parts[2] + "." + parts[3],
		"junk signature": parts[0] + "." + parts[1] + "." + parts[2] + ".!!",
	} {
		if _, err := s.Authorize(bad); errs.CodeOf(err) != "upload_token_invalid" {
			t.Errorf("%s: %v, want upload_token_invalid", name, err)
		}
	}
	now = now.Add(time.Hour)
	if _, err := s.Authorize(tok); errs.CodeOf(err) != "upload_token_expired" || errs.KindOf(err) != errs.Forbidden {
		t.Errorf("expired: %v, want upload_token_expired", err)
	}
}
