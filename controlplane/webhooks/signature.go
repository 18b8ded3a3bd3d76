package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/marquee-video/marquee/internal/errs"
)

// The headers of a webhook request.
const (
	// HeaderSignature is "t=<unix seconds>,v1=<hex HMAC-SHA256>", the MAC
	// keyed with the endpoint's whole secret (whsec_ included) over
	// "<t>.<body>". Binding the time lets a receiver refuse replays.
	HeaderSignature = "Marquee-Signature"
	// HeaderEvent is the event type.
	HeaderEvent = "Marquee-Event"
	// HeaderDelivery is the delivery id, the same on every retry: the key a
	// receiver deduplicates on.
	HeaderDelivery = "Marquee-Delivery"
)

// DefaultTolerance is how far a signature's time may be from the receiver's
// clock when VerifySignature is given no tolerance.
const DefaultTolerance = 5 * time.Minute

// Sign returns the Marquee-Signature header value for body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := t.Unix()
	return "t=" + strconv.FormatInt(ts, 10) + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret string, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// VerifySignature checks a Marquee-Signature header against the raw request
// body, as a receiver should before trusting it: one v1 value must be the
// MAC of body under secret (several are accepted, for a secret being
// rolled), and t must be within tolerance of now (DefaultTolerance when
// tolerance is 0 or less), so a captured request cannot be replayed later.
// The error is Unauthenticated: invalid_signature or signature_expired.
func VerifySignature(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var (
		ts     int64
		haveTS bool
		sigs   [][]byte
	)
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return errs.E(errs.Unauthenticated, "invalid_signature", "the signature's timestamp is not a number")
			}
			ts, haveTS = n, true
		case "v1":
			if b, err := hex.DecodeString(v); err == nil && len(b) == sha256.Size {
				sigs = append(sigs, b)
			}
		}
	}
	if !haveTS || len(sigs) == 0 {
		return errs.E(errs.Unauthenticated, "invalid_signature", "the %s header has no timestamp or no v1 signature", HeaderSignature)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return errs.E(errs.Unauthenticated, "signature_expired", "the signature's timestamp is %s away from now, beyond the %s tolerance", d.Round(time.Second), tolerance)
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return errs.E(errs.Unauthenticated, "invalid_signature", "no signature matches the body and the secret")
}
