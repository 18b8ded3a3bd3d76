package drm_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"testing"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/marquee-video/marquee/dataplane/drm"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Published Widevine PSSH boxes: one made by Unified Streaming's
// widevine_pssh.py for KID e82f184c-3aaa-57b4-ace8-606b5e3febad, one from a
// commercial service's MPD (algorithm, key id, content id and field 7).
const (
	usp       = "AAAARnBzc2gBAAAA7e+LqXnWSs6jyCfc1R0h7QAAAAHoLxhMOqpXtKzoYGteP+utAAAAEhIQ6C8YTDqqV7Ss6GBrXj/rrQ=="
	paramount = "AAAAWHBzc2gAAAAA7e+LqXnWSs6jyCfc1R0h7QAAADgIARIQO+i+k3yYSDGEspQXP5FSryIgZXlUX1JZa3FOdUhfNlpZcmVwTHR4a2lQTzFIQTdkSVU4AQ=="
)

func TestWidevinePSSHPublished(t *testing.T) {
	cases := []struct {
		name, box string
		kid       string
		contentID string
	}{
		{"unified streaming", usp, "e82f184c3aaa57b4ace8606b5e3febad", ""},
		{"paramount", paramount, "3be8be937c98483184b294173f9152af", "eyT_RYkqNuH_6ZYrepLtxkiPO1HA7dIU"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			boxes, err := mp4.PsshBoxesFromBase64(c.box)
			if err != nil {
				t.Fatal(err)
			}
			w, err := drm.ParseWidevinePSSH(boxes[0].Data)
			if err != nil {
				t.Fatal(err)
			}
			if len(w.KeyIDs) != 1 || hex.EncodeToString(w.KeyIDs[0]) != c.kid || string(w.ContentID) != c.contentID {
				t.Errorf("parsed %+v", w)
			}
		})
	}
	// Our encoder gives the published payload byte for byte.
	boxes, _ := mp4.PsshBoxesFromBase64(usp)
	got := drm.WidevinePSSH{KeyIDs: [][]byte{mustHex(t, "e82f184c3aaa57b4ace8606b5e3febad")}}.Marshal()
	if !bytes.Equal(got, boxes[0].Data) {
		t.Errorf("Marshal = %x, published %x", got, boxes[0].Data)
	}
}

// Field 9 is a varint of the fourcc read as a big-endian uint32, worked out by
// hand: "cenc" = 0x63656e63 = e3 dc 95 9b 06, "cbcs" = 0x63626373 = f3 c6 89 9b 06.
func TestWidevinePSSHMarshal(t *testing.T) {
	kid := mustHex(t, "0123456789abcdef0123456789abcdef")
	cases := []struct {
		name string
		in   drm.WidevinePSSH
		want string // hex
	}{
		{"kid only", drm.WidevinePSSH{KeyIDs: [][]byte{kid}}, "1210" + hex.EncodeToString(kid)},
		{"cenc", drm.WidevinePSSH{KeyIDs: [][]byte{kid}, Scheme: "cenc"}, "1210" + hex.EncodeToString(kid) + "48e3dc959b06"},
		{"cbcs with content id and provider", drm.WidevinePSSH{KeyIDs: [][]byte{kid}, Provider: "mq", ContentID: []byte("abc"), Scheme: "cbcs"},
			"1210" + hex.EncodeToString(kid) + "1a026d71" + "2203616263" + "48f3c6899b06"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.in.Marshal()
			if hex.EncodeToString(got) != c.want {
				t.Fatalf("Marshal = %x, want %s", got, c.want)
			}
			back, err := drm.ParseWidevinePSSH(got)
			if err != nil || back.Scheme != c.in.Scheme || back.Provider != c.in.Provider || !bytes.Equal(back.ContentID, c.in.ContentID) {
				t.Errorf("round trip %+v, %v", back, err)
			}
		})
	}
	for _, bad := range []string{"12", "1220aa", "ff", "4d"} {
		if _, err := drm.ParseWidevinePSSH(mustHex(t, bad)); !errors.Is(err, drm.ErrBadRequest) {
			t.Errorf("ParseWidevinePSSH(%s) = %v", bad, err)
		}
	}
}

type wrmHeader struct {
	XMLName xml.Name `xml:"http://schemas.microsoft.com/DRM/2007/03/PlayReadyHeader WRMHEADER"`
	Version string   `xml:"version,attr"`
	KIDs    []struct {
		AlgID string `xml:"ALGID,attr"`
		Value string `xml:"VALUE,attr"`
	} `xml:"DATA>PROTECTINFO>KIDS>KID"`
	LAURL string `xml:"DATA>LA_URL"`
}

func TestPlayReadyHeader(t *testing.T) {
	// The KID of Microsoft's PlayReady header documentation and its GUID form.
	msKID := mustHex(t, "10000000100010001000100000000001")
	if got := drm.GUIDBase64(msKID); got != "AAAAEAAQABAQABAAAAAAAQ==" {
		t.Errorf("GUIDBase64 = %s", got)
	}
	cases := []struct {
		name, scheme, url, alg string
	}{
		{"cenc", drm.SchemeCENC, "", "AESCTR"},
		{"cbcs with LA_URL", drm.SchemeCBCS, "https://pr.example/lic?a=1&b=2", "AESCBC"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pro := drm.PlayReadyHeader{KIDs: [][]byte{msKID}, Scheme: c.scheme, LicenseURL: c.url}.Object()
			if int(binary.LittleEndian.Uint32(pro)) != len(pro) || binary.LittleEndian.Uint16(pro[4:]) != 1 ||
				binary.LittleEndian.Uint16(pro[6:]) != 1 || int(binary.LittleEndian.Uint16(pro[8:])) != len(pro)-10 {
				t.Fatalf("PRO header % x", pro[:10])
			}
			if pro[10] != '<' || pro[11] != 0 {
				t.Errorf("record is not UTF-16LE: % x", pro[10:14])
			}
			x, err := drm.ParsePlayReadyObject(pro)
			if err != nil {
				t.Fatal(err)
			}
			var h wrmHeader
			if err := xml.Unmarshal([]byte(x), &h); err != nil {
				t.Fatalf("%v in %s", err, x)
			}
			if h.Version != "4.3.0.0" || len(h.KIDs) != 1 || h.KIDs[0].AlgID != c.alg ||
				h.KIDs[0].Value != "AAAAEAAQABAQABAAAAAAAQ==" || h.LAURL != c.url {
				t.Errorf("header %+v", h)
			}
		})
	}
	for _, bad := range [][]byte{nil, {1, 0, 0, 0}, {12, 0, 0, 0, 1, 0, 1, 0, 9, 0, 0, 0}} {
		if _, err := drm.ParsePlayReadyObject(bad); !errors.Is(err, drm.ErrBadRequest) {
			t.Errorf("ParsePlayReadyObject(% x) = %v", bad, err)
		}
	}
}

func TestPSSHBoxes(t *testing.T) {
	kids := [][]byte{fixedKey(1).KID, fixedKey(2).KID}
	cases := []struct {
		name    string
		system  drm.System
		version byte
		boxKIDs int
		err     error
	}{
		{"widevine", drm.Widevine, 0, 0, nil},
		{"playready", drm.PlayReady, 0, 0, nil},
		{"clearkey", drm.ClearKey, 1, 2, nil},
		{"clearkey dash id", drm.ClearKeyDASH, 1, 2, nil},
		{"fairplay has none", drm.FairPlay, 0, 0, drm.ErrInvalidSystem},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			box, err := drm.PSSH(c.system, kids, drm.PSSHOptions{Scheme: drm.SchemeCENC})
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("err %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			raw := drm.PSSHBytes(box)
			back, err := mp4.PsshBoxesFromBytes(raw)
			if err != nil || len(back) != 1 {
				t.Fatal(err)
			}
			b := back[0]
			wantSys := c.system
			if wantSys == drm.ClearKeyDASH {
				wantSys = drm.ClearKey
			}
			if b.SystemID.String() != string(wantSys) || b.Version != c.version || len(b.KIDs) != c.boxKIDs {
				t.Errorf("box %s v%d %d KIDs", b.SystemID, b.Version, len(b.KIDs))
			}
			switch c.system {
			case drm.Widevine:
				w, err := drm.ParseWidevinePSSH(b.Data)
				if err != nil || len(w.KeyIDs) != 2 || w.Scheme != "cenc" {
					t.Errorf("widevine data %+v %v", w, err)
				}
			case drm.PlayReady:
				if _, err := drm.ParsePlayReadyObject(b.Data); err != nil {
					t.Error(err)
				}
			default:
				if len(b.Data) != 0 {
					t.Errorf("common pssh has %d bytes of data", len(b.Data))
				}
			}
		})
	}
	if _, err := drm.PSSH(drm.Widevine, nil, drm.PSSHOptions{}); !errors.Is(err, drm.ErrInvalidKey) {
		t.Errorf("no KIDs: %v", err)
	}
	if _, err := drm.PSSH(drm.Widevine, [][]byte{{1, 2}}, drm.PSSHOptions{}); !errors.Is(err, drm.ErrInvalidKey) {
		t.Errorf("short KID: %v", err)
	}
}
