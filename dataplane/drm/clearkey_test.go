package drm_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/marquee-video/marquee/dataplane/drm"
)

func TestParseClearKeyRequest(t *testing.T) {
	k1, k2 := fixedKey(1), fixedKey(2)
	b1, b2 := k1.KIDBase64URL(), k2.KIDBase64URL()
	many := make([]string, drm.MaxClearKeyKIDs+1)
	for i := range many {
		many[i] = fmt.Sprintf("%q", drm.UUIDString(bytes.Repeat([]byte{byte(i)}, 16)))
	}
	cases := []struct {
		name, body string
		kids       [][]byte
		typ        string
		err        error
	}{
		{"one", `{"kids":["` + b1 + `"],"type":"temporary"}`, [][]byte{k1.KID}, "temporary", nil},
		{"two, no type", `{"kids":["` + b1 + `","` + b2 + `"]}`, [][]byte{k1.KID, k2.KID}, "temporary", nil},
		{"persistent", `{"kids":["` + b1 + `"],"type":"persistent-license"}`, [][]byte{k1.KID}, "persistent-license", nil},
		{"padded", `{"kids":["` + b1 + `=="]}`, nil, "", drm.ErrBadRequest},
		{"std alphabet", `{"kids":["` + strings.NewReplacer("-", "+", "_", "/").Replace(b1+"+/") + `"]}`, nil, "", drm.ErrBadRequest},
		{"short kid", `{"kids":["AAEC"]}`, nil, "", drm.ErrBadRequest},
		{"duplicate", `{"kids":["` + b1 + `","` + b1 + `"]}`, nil, "", drm.ErrBadRequest},
		{"no kids", `{"kids":[],"type":"temporary"}`, nil, "", drm.ErrBadRequest},
		{"missing kids", `{"type":"temporary"}`, nil, "", drm.ErrBadRequest},
		{"bad type", `{"kids":["` + b1 + `"],"type":"forever"}`, nil, "", drm.ErrBadRequest},
		{"unknown field", `{"kids":["` + b1 + `"],"x":1}`, nil, "", drm.ErrBadRequest},
		{"kids not strings", `{"kids":[1]}`, nil, "", drm.ErrBadRequest},
		{"trailing data", `{"kids":["` + b1 + `"]}{}`, nil, "", drm.ErrBadRequest},
		{"not json", `kids=1`, nil, "", drm.ErrBadRequest},
		{"empty", ``, nil, "", drm.ErrBadRequest},
		{"too many kids", `{"kids":[` + strings.Join(many, ",") + `]}`, nil, "", drm.ErrTooLarge},
		{"too large", `{"kids":["` + b1 + `"],"type":"` + strings.Repeat("x", drm.MaxClearKeyRequestBytes) + `"}`, nil, "", drm.ErrTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := drm.DecodeClearKeyRequest([]byte(c.body))
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("err %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			kids, err := drm.ParseClearKeyRequest([]byte(c.body))
			if err != nil || len(kids) != len(c.kids) || req.Type != c.typ {
				t.Fatalf("kids %x type %q err %v", kids, req.Type, err)
			}
			for i := range kids {
				if !bytes.Equal(kids[i], c.kids[i]) {
					t.Errorf("kid %d = %x", i, kids[i])
				}
			}
		})
	}
}

func TestClearKeyResponse(t *testing.T) {
	kid := []byte{0xfb, 0xff, 0xfe, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xff}
	key := []byte{0xff, 0xef, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xfe}
	cases := []struct {
		name string
		keys []drm.ContentKey
		typ  string
		want string
	}{
		{"one key", []drm.ContentKey{{KID: kid, Key: key}}, "",
			`{"keys":[{"kty":"oct","kid":"-__-AwQFBgcICQoLDA0O_w","k":"_-8CAwQFBgcICQoLDA0O_g"}],"type":"temporary"}`},
		{"persistent", []drm.ContentKey{{KID: kid, Key: key}}, "persistent-license",
			`{"keys":[{"kty":"oct","kid":"-__-AwQFBgcICQoLDA0O_w","k":"_-8CAwQFBgcICQoLDA0O_g"}],"type":"persistent-license"}`},
		{"none", nil, "temporary", `{"keys":[],"type":"temporary"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := drm.ClearKeyResponse(c.keys, c.typ)
			if string(got) != c.want {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
			if !json.Valid(got) {
				t.Error("invalid JSON")
			}
		})
	}
}
