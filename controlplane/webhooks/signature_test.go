package webhooks_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/marquee-video/marquee/controlplane/webhooks"
	"github.com/marquee-video/marquee/internal/errs"
)

func TestSignatureScheme(t *testing.T) {
	const secret = "whsec_test"
	body := []byte(`{"id":"evt_1","type":"asset.ready"}`)
	at := time.Unix(1_700_000_000, 0)

	// The scheme, spelled out as a receiver in another language would.
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%d.%s", at.Unix(), body)
	want := fmt.Sprintf("t=%d,v1=%s", at.Unix(), hex.EncodeToString(m.Sum(nil)))
	if got := webhooks.Sign(secret, at, body); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	sig := webhooks.Sign(secret, at, body)
	other := webhooks.Sign("whsec_other", at, body)

	tests := []struct {
		name     string
		secret   string
		header   string
		body     []byte
		now      time.Time
		tol      time.Duration
		wantCode string // "" for valid
	}{
		{name: "valid", secret: secret, header: sig, body: body, now: at.Add(time.Minute), tol: 5 * time.Minute},
		{name: "valid, clock behind", secret: secret, header: sig, body: body, now: at.Add(-time.Minute), tol: 5 * time.Minute},
		{name: "default tolerance", secret: secret, header: sig, body: body, now: at.Add(4 * time.Minute)},
		{name: "rolled secret: one of two matches", secret: secret, header: other + ",v1=" + sig[len("t=1700000000,v1="):], body: body, now: at},
		{name: "spaces", secret: secret, header: "t=1700000000, v1=" + sig[len("t=1700000000,v1="):], body: body, now: at},
		{name: "tampered body", secret: secret, header: sig, body: append([]byte(nil), append(body, ' ')...), now: at, wantCode: "invalid_signature"},
		{name: "wrong secret", secret: "whsec_other", header: sig, body: body, now: at, wantCode: "invalid_signature"},
		{name: "too old", secret: secret, header: sig, body: body, now: at.Add(6 * time.Minute), tol: 5 * time.Minute, wantCode: "signature_expired"},
		{name: "too old by default", secret: secret, header: sig, body: body, now: at.Add(time.Hour), wantCode: "signature_expired"},
		{name: "from the future", secret: secret, header: sig, body: body, now: at.Add(-time.Hour), tol: time.Minute, wantCode: "signature_expired"},
		{name: "timestamp moved", secret: secret, header: "t=1700000001" + sig[len("t=1700000000"):], body: body, now: at, wantCode: "invalid_signature"},
		{name: "empty", secret: secret, header: "", body: body, now: at, wantCode: "invalid_signature"},
		{name: "no timestamp", secret: secret, header: sig[len("t=1700000000,"):], body: body, now: at, wantCode: "invalid_signature"},
		{name: "no v1", secret: secret, header: "t=1700000000", body: body, now: at, wantCode: "invalid_signature"},
		{name: "v0 only", secret: secret, header: "t=1700000000,v0=" + sig[len("t=1700000000,v1="):], body: body, now: at, wantCode: "invalid_signature"},
		{name: "short v1", secret: secret, header: "t=1700000000,v1=abcd", body: body, now: at, wantCode: "invalid_signature"},
		{name: "bad timestamp", secret: secret, header: "t=soon,v1=" + sig[len("t=1700000000,v1="):], body: body, now: at, wantCode: "invalid_signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := webhooks.VerifySignature(tt.secret, tt.header, tt.body, tt.now, tt.tol)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("VerifySignature: %v", err)
				}
				return
			}
			if errs.CodeOf(err) != tt.wantCode || !errs.Is(err, errs.Unauthenticated) {
				t.Fatalf("VerifySignature = %v, want Unauthenticated %s", err, tt.wantCode)
			}
		})
	}
}
