package drm_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/marquee-video/marquee/dataplane/drm"
)

func TestNewContentKey(t *testing.T) {
	seq := make([]byte, 48)
	for i := range seq {
		seq[i] = byte(i)
	}
	k, err := drm.NewContentKey(bytes.NewReader(seq))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, got, want string
	}{
		{"uuid", k.KIDUUID(), "00010203-0405-4607-8809-0a0b0c0d0e0f"},
		{"hex", k.KIDHex(), "0001020304054607880" + "90a0b0c0d0e0f"},
		{"base64url", k.KIDBase64URL(), "AAECAwQFRgeICQoLDA0ODw"},
		{"key", string(k.Key), string(seq[16:32])},
		{"iv", string(k.IV), string(seq[32:48])},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %q, want %q", c.got, c.want)
			}
		})
	}
	if err := k.Validate(); err != nil {
		t.Error(err)
	}
	if _, err := drm.NewContentKey(iotest.ErrReader(io.ErrUnexpectedEOF)); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("failing reader: %v", err)
	}
	a, _ := drm.NewContentKey(nil)
	b, _ := drm.NewContentKey(nil)
	if bytes.Equal(a.KID, b.KID) || bytes.Equal(a.Key, b.Key) || a.KID[6]>>4 != 4 || a.KID[8]>>6 != 2 {
		t.Errorf("crypto/rand keys: %x %x", a.KID, b.KID)
	}
}

func TestParseKID(t *testing.T) {
	want := []byte{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x46, 0x07, 0x88, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0xff}
	cases := []struct {
		in string
		ok bool
	}{
		{"00010203-0405-4607-8809-0a0b0c0d0eff", true},
		{"000102030405460788090A0B0C0D0EFF", true},
		{"AAECAwQFRgeICQoLDA0O_w", true},
		{"AAECAwQFRgeICQoLDA0O/w==", true},
		{"00010203-0405-4607-8809-0a0b0c0d0e", false},
		{"not a kid", false},
		{"", false},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := drm.ParseKID(c.in)
			if c.ok != (err == nil) || (c.ok && !bytes.Equal(got, want)) {
				t.Fatalf("ParseKID = %x, %v", got, err)
			}
			if !c.ok && !errors.Is(err, drm.ErrInvalidKey) {
				t.Errorf("error %v is not ErrInvalidKey", err)
			}
		})
	}
}

func TestContentKeyValidate(t *testing.T) {
	k16 := bytes.Repeat([]byte{1}, 16)
	cases := []struct {
		name string
		key  drm.ContentKey
		ok   bool
	}{
		{"full", drm.ContentKey{KID: k16, Key: k16, IV: k16}, true},
		{"no IV", drm.ContentKey{KID: k16, Key: k16}, true},
		{"8-byte IV", drm.ContentKey{KID: k16, Key: k16, IV: k16[:8]}, true},
		{"short KID", drm.ContentKey{KID: k16[:15], Key: k16}, false},
		{"long key", drm.ContentKey{KID: k16, Key: append(k16, 1)}, false},
		{"odd IV", drm.ContentKey{KID: k16, Key: k16, IV: k16[:12]}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.key.Validate()
			if c.ok != (err == nil) || (err != nil && !errors.Is(err, drm.ErrInvalidKey)) {
				t.Fatalf("Validate = %v", err)
			}
		})
	}
}

func TestParseSystem(t *testing.T) {
	cases := []struct {
		in   string
		want drm.System
		ok   bool
	}{
		{"widevine", drm.Widevine, true},
		{"urn:uuid:EDEF8BA9-79D6-4ACE-A3C8-27DCD51D21ED", drm.Widevine, true},
		{"PlayReady", drm.PlayReady, true},
		{"fairplay", drm.FairPlay, true},
		{"urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e", drm.ClearKey, true},
		{"1077efec-c0b2-4d02-ace3-3c1e52e2fb4b", drm.ClearKey, true},
		{"primetime", "", false},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := drm.ParseSystem(c.in)
			if c.ok != (err == nil) || got != c.want {
				t.Fatalf("ParseSystem = %q, %v", got, err)
			}
			if !c.ok && !errors.Is(err, drm.ErrInvalidSystem) {
				t.Errorf("error %v", err)
			}
		})
	}
	if s := drm.System("x").Name(); !strings.EqualFold(s, "x") {
		t.Errorf("unknown system name %q", s)
	}
}
