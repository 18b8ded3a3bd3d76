package drm_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/marquee-video/marquee/dataplane/drm"
)

const (
	hexA = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	hexB = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f"
)

func TestParseKeyRing(t *testing.T) {
	cases := []struct {
		name, spec, active string
		ids                int
		ok                 bool
	}{
		{"one", "k1:" + hexA, "k1", 1, true},
		{"last is active", "k1:" + hexA + ", k2:" + hexB, "k2", 2, true},
		{"marked active", "k1:" + hexA + ":active,k2:" + hexB, "k1", 2, true},
		{"trailing comma", "k1:" + hexA + ",", "k1", 1, true},
		{"empty", "", "", 0, false},
		{"short key", "k1:" + hexA[:62], "", 0, false},
		{"not hex", "k1:" + strings.Repeat("zz", 32), "", 0, false},
		{"no id", ":" + hexA, "", 0, false},
		{"bad id", "k 1:" + hexA, "", 0, false},
		{"duplicate", "k1:" + hexA + ",k1:" + hexB, "", 0, false},
		{"two active", "k1:" + hexA + ":active,k2:" + hexB + ":active", "", 0, false},
		{"bad marker", "k1:" + hexA + ":primary", "", 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := drm.ParseKeyRing(c.spec)
			if c.ok != (err == nil) {
				t.Fatalf("ParseKeyRing: %v", err)
			}
			if !c.ok {
				if !errors.Is(err, drm.ErrInvalidKeyRing) {
					t.Errorf("error %v is not ErrInvalidKeyRing", err)
				}
				if strings.Contains(err.Error(), hexA[:16]) || strings.Contains(err.Error(), hexB[:16]) {
					t.Errorf("error leaks key material: %v", err)
				}
				return
			}
			if r.Active() != c.active || len(r.IDs()) != c.ids {
				t.Errorf("active %q ids %v", r.Active(), r.IDs())
			}
		})
	}
}

func TestWrapUnwrap(t *testing.T) {
	old, err := drm.ParseKeyRing("k1:" + hexA)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := drm.ParseKeyRing("k1:" + hexA + ",k2:" + hexB)
	if err != nil {
		t.Fatal(err)
	}
	other, err := drm.ParseKeyRing("k1:" + hexB) // same id, different key
	if err != nil {
		t.Fatal(err)
	}
	onlyNew, err := drm.ParseKeyRing("k2:" + hexB)
	if err != nil {
		t.Fatal(err)
	}
	key := fixedKey(5)
	aad := drm.KeyAAD("tenant-a", key.KID)
	w, err := old.Wrap(key.Key, aad)
	if err != nil {
		t.Fatal(err)
	}
	if w.KEKID != "k1" || bytes.Contains(w.Ciphertext, key.Key) {
		t.Fatalf("wrapped %+v", w)
	}
	tamper := func(w drm.Wrapped) drm.Wrapped {
		ct := bytes.Clone(w.Ciphertext)
		ct[0] ^= 1
		return drm.Wrapped{KEKID: w.KEKID, Nonce: w.Nonce, Ciphertext: ct}
	}
	relabel := w
	relabel.KEKID = "k2"
	cases := []struct {
		name string
		ring *drm.KeyRing
		w    drm.Wrapped
		aad  []byte
		want error
	}{
		{"same ring", old, w, aad, nil},
		{"rotated ring reads old KEK", rotated, w, aad, nil},
		{"wrong KEK under same id", other, w, aad, drm.ErrUnwrap},
		{"KEK missing", onlyNew, w, aad, drm.ErrUnknownKEK},
		{"tampered ciphertext", old, tamper(w), aad, drm.ErrUnwrap},
		{"relabelled KEK id", rotated, relabel, aad, drm.ErrUnwrap},
		{"other tenant", old, w, drm.KeyAAD("tenant-b", key.KID), drm.ErrUnwrap},
		{"other KID", old, w, drm.KeyAAD("tenant-a", fixedKey(6).KID), drm.ErrUnwrap},
		{"short nonce", old, drm.Wrapped{KEKID: "k1", Nonce: w.Nonce[:8], Ciphertext: w.Ciphertext}, aad, drm.ErrUnwrap},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.ring.Unwrap(c.w, c.aad)
			if c.want == nil {
				if err != nil || !bytes.Equal(got, key.Key) {
					t.Fatalf("Unwrap = %x, %v", got, err)
				}
				return
			}
			if !errors.Is(err, c.want) || got != nil {
				t.Fatalf("Unwrap = %x, %v; want %v", got, err, c.want)
			}
		})
	}

	// Rotation: rewrap to the active KEK, then the old KEK can go.
	nw, changed, err := rotated.Rewrap(w, aad)
	if err != nil || !changed || nw.KEKID != "k2" {
		t.Fatalf("Rewrap = %+v %v %v", nw, changed, err)
	}
	if got, err := onlyNew.Unwrap(nw, aad); err != nil || !bytes.Equal(got, key.Key) {
		t.Fatalf("unwrap after rotation: %x %v", got, err)
	}
	again, changed, err := rotated.Rewrap(nw, aad)
	if err != nil || changed || again.String() != nw.String() {
		t.Errorf("second Rewrap changed=%v %v", changed, err)
	}
	if _, _, err := rotated.Rewrap(w, drm.KeyAAD("tenant-b", key.KID)); !errors.Is(err, drm.ErrUnwrap) {
		t.Errorf("Rewrap with wrong AAD: %v", err)
	}

	// Two wraps of the same key differ (fresh nonces).
	w2, _ := old.Wrap(key.Key, aad)
	if bytes.Equal(w2.Nonce, w.Nonce) || bytes.Equal(w2.Ciphertext, w.Ciphertext) {
		t.Error("wrap reused a nonce")
	}
}

func TestWrappedString(t *testing.T) {
	r, err := drm.ParseKeyRing("k1:" + hexA)
	if err != nil {
		t.Fatal(err)
	}
	key := fixedKey(8)
	w, err := r.Wrap(key.Key, nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		in   string
		ok   bool
	}{
		{"round trip", w.String(), true},
		{"empty", "", false},
		{"other version", strings.Replace(w.String(), "v1:", "v2:", 1), false},
		{"bad base64", "v1:k1:!!!", false},
		{"too short", "v1:k1:AAAA", false},
		{"bad kek id", "v1:k 1:" + strings.SplitN(w.String(), ":", 3)[2], false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := drm.ParseWrapped(c.in)
			if c.ok != (err == nil) {
				t.Fatalf("ParseWrapped: %v", err)
			}
			if !c.ok {
				if !errors.Is(err, drm.ErrUnwrap) {
					t.Errorf("error %v", err)
				}
				return
			}
			got, err := r.Unwrap(p, nil)
			if err != nil || !bytes.Equal(got, key.Key) {
				t.Errorf("Unwrap after parse: %x %v", got, err)
			}
		})
	}
}
