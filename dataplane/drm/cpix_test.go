package drm_test

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"strings"
	"testing"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/marquee-video/marquee/dataplane/drm"
)

// cpixShape reads a document with its own minimal structure, written from
// the CPIX 2.3 schema, to check element names and namespaces.
type cpixShape struct {
	XMLName   xml.Name `xml:"urn:dashif:org:cpix CPIX"`
	Version   string   `xml:"version,attr"`
	ContentID string   `xml:"contentId,attr"`
	Keys      []struct {
		KID    string `xml:"kid,attr"`
		Scheme string `xml:"commonEncryptionScheme,attr"`
		IV     string `xml:"explicitIV,attr"`
		Data   struct {
			Secret struct {
				Plain string `xml:"urn:ietf:params:xml:ns:keyprov:pskc PlainValue"`
			} `xml:"urn:ietf:params:xml:ns:keyprov:pskc Secret"`
		} `xml:"urn:dashif:org:cpix Data"`
	} `xml:"urn:dashif:org:cpix ContentKeyList>ContentKey"`
	Systems []struct {
		KID      string `xml:"kid,attr"`
		SystemID string `xml:"systemId,attr"`
		PSSH     string `xml:"urn:dashif:org:cpix PSSH"`
		CPD      string `xml:"urn:dashif:org:cpix ContentProtectionData"`
		URI      string `xml:"urn:dashif:org:cpix URIExtXKey"`
		HLS      []struct {
			Playlist string `xml:"playlist,attr"`
		} `xml:"urn:dashif:org:cpix HLSSignalingData"`
	} `xml:"urn:dashif:org:cpix DRMSystemList>DRMSystem"`
}

func TestCPIXRoundTrip(t *testing.T) {
	cenc := fixedKey(1)
	cenc.IV = nil
	cbcs := fixedKey(2)
	cbcs.Scheme = drm.SchemeCBCS
	systems := []drm.System{drm.Widevine, drm.PlayReady, drm.FairPlay, drm.ClearKey}
	doc, err := drm.CPIX("asset <1> & co", []drm.ContentKey{cenc, cbcs}, systems)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, []byte(`xmlns="urn:dashif:org:cpix"`)) || !bytes.Contains(doc, []byte(`xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc"`)) ||
		!bytes.Contains(doc, []byte(`<pskc:Secret><pskc:PlainValue>`)) {
		t.Errorf("namespaces or pskc elements missing:\n%s", doc)
	}
	var shape cpixShape
	if err := xml.Unmarshal(doc, &shape); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	if shape.Version != "2.3" || shape.ContentID != "asset <1> & co" || len(shape.Keys) != 2 {
		t.Fatalf("CPIX %+v", shape)
	}
	if shape.Keys[0].Scheme != "cenc" || shape.Keys[0].IV != "" || shape.Keys[1].Scheme != "cbcs" ||
		shape.Keys[1].IV != base64.StdEncoding.EncodeToString(cbcs.IV) || shape.Keys[1].Data.Secret.Plain != base64.StdEncoding.EncodeToString(cbcs.Key) {
		t.Errorf("ContentKeys %+v", shape.Keys)
	}
	// cenc: Widevine, PlayReady, ClearKey (FairPlay needs cbcs); cbcs: all four.
	type want struct{ pssh, cpd, uri bool }
	expect := map[string]want{
		"cenc " + string(drm.Widevine): {true, true, true}, "cenc " + string(drm.PlayReady): {true, true, true},
		"cenc " + string(drm.FairPlay): {false, false, false}, "cenc " + string(drm.ClearKey): {true, true, false},
		"cbcs " + string(drm.Widevine): {true, true, true}, "cbcs " + string(drm.PlayReady): {true, true, true},
		"cbcs " + string(drm.FairPlay): {false, false, true}, "cbcs " + string(drm.ClearKey): {true, true, false},
	}
	if len(shape.Systems) != 8 {
		t.Fatalf("%d DRMSystem elements", len(shape.Systems))
	}
	for _, s := range shape.Systems {
		scheme := "cenc"
		if s.KID == cbcs.KIDUUID() {
			scheme = "cbcs"
		}
		w := expect[scheme+" "+s.SystemID]
		if (s.PSSH != "") != w.pssh || (s.CPD != "") != w.cpd || (s.URI != "") != w.uri || (len(s.HLS) == 2) != w.uri {
			t.Errorf("%s %s: PSSH %v CPD %v URI %v HLS %d", scheme, s.SystemID, s.PSSH != "", s.CPD != "", s.URI != "", len(s.HLS))
		}
		if s.CPD != "" {
			raw, _ := base64.StdEncoding.DecodeString(s.CPD)
			// Standalone XML: parses wrapped in an element without any declarations.
			if err := xml.Unmarshal([]byte("<ContentProtection>"+string(raw)+"</ContentProtection>"), new(struct{})); err != nil {
				t.Errorf("ContentProtectionData %s: %v", raw, err)
			}
		}
	}

	back, err := drm.ParseCPIX(doc)
	if err != nil {
		t.Fatal(err)
	}
	if back.ContentID != "asset <1> & co" || back.Version != "2.3" || len(back.Keys) != 2 {
		t.Fatalf("parsed %+v", back)
	}
	cenc.Scheme = "cenc"
	for i, k := range []drm.ContentKey{cenc, cbcs} {
		g := back.Keys[i]
		if !bytes.Equal(g.KID, k.KID) || !bytes.Equal(g.Key, k.Key) || !bytes.Equal(g.IV, k.IV) || g.Scheme != k.Scheme {
			t.Errorf("key %d: %+v, want %+v", i, g, k)
		}
	}
	for _, s := range back.DRMSystems {
		if len(s.PSSH) > 0 {
			boxes, err := mp4.PsshBoxesFromBytes(s.PSSH)
			if err != nil || boxes[0].SystemID.String() != string(s.System) {
				t.Errorf("%s: PSSH %v", s.System, err)
			}
		}
		if s.System == drm.FairPlay && bytes.Equal(s.KID, cbcs.KID) {
			if s.URIExtXKey != "skd://"+cbcs.KIDHex() || !strings.HasPrefix(s.HLSMedia, "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://") ||
				!strings.HasPrefix(s.HLSMaster, "#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,") {
				t.Errorf("fairplay %+v", s)
			}
		}
	}
}

// A vendor answer with the cpix: prefix, whitespace in base64 and a key
// request without values.
const vendorCPIX = `<?xml version="1.0" encoding="utf-8"?>
<cpix:CPIX xmlns:cpix="urn:dashif:org:cpix" xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc" contentId="abc123" version="2.3">
  <cpix:ContentKeyList>
    <cpix:ContentKey kid="af1ed63c-5784-460b-9e51-309dd47b7d9c" commonEncryptionScheme="cbcs" explicitIV="AAECAwQFBgcICQoLDA0ODw==">
      <cpix:Data><pskc:Secret><pskc:PlainValue>
        AAAAAAAAAAAAAAAAAAAAAA==
      </pskc:PlainValue></pskc:Secret></cpix:Data>
    </cpix:ContentKey>
    <cpix:ContentKey kid="11111111-2222-3333-4444-555555555555"/>
  </cpix:ContentKeyList>
  <cpix:DRMSystemList>
    <cpix:DRMSystem systemId="EDEF8BA9-79D6-4ACE-A3C8-27DCD51D21ED" kid="af1ed63c-5784-460b-9e51-309dd47b7d9c">
      <cpix:PSSH>AAAARnBzc2gBAAAA7e+LqXnWSs6jyCfc1R0h7QAAAAHoLxhMOqpXtKzoYGteP+utAAAAEhIQ6C8YTDqqV7Ss6GBrXj/rrQ==</cpix:PSSH>
      <cpix:HLSSignalingData playlist="media">I0VYVC1YLUtFWTpNRVRIT0Q9U0FNUExFLUFFUwo=</cpix:HLSSignalingData>
    </cpix:DRMSystem>
  </cpix:DRMSystemList>
</cpix:CPIX>`

func TestParseCPIX(t *testing.T) {
	doc, err := drm.ParseCPIX([]byte(vendorCPIX))
	if err != nil {
		t.Fatal(err)
	}
	if doc.ContentID != "abc123" || len(doc.Keys) != 2 || len(doc.DRMSystems) != 1 {
		t.Fatalf("%+v", doc)
	}
	k := doc.Keys[0]
	if k.KIDUUID() != "af1ed63c-5784-460b-9e51-309dd47b7d9c" || !bytes.Equal(k.Key, make([]byte, 16)) || k.Scheme != "cbcs" || k.IV[15] != 15 {
		t.Errorf("key %+v", k)
	}
	if doc.Keys[1].Key != nil {
		t.Errorf("request key has a value")
	}
	s := doc.DRMSystems[0]
	if s.System != drm.Widevine || len(s.PSSH) != 0x46 || s.HLSMedia != "#EXT-X-KEY:METHOD=SAMPLE-AES\n" {
		t.Errorf("DRMSystem %+v", s)
	}

	bad := []struct {
		name, doc string
		err       error
	}{
		{"not xml", "<CPIX", drm.ErrInvalidCPIX},
		{"wrong namespace", `<CPIX xmlns="urn:other"/>`, drm.ErrInvalidCPIX},
		{"bad kid", strings.Replace(vendorCPIX, "af1ed63c-5784-460b-9e51-309dd47b7d9c\" common", "zz\" common", 1), drm.ErrInvalidCPIX},
		{"short key", strings.Replace(vendorCPIX, "AAAAAAAAAAAAAAAAAAAAAA==", "AAAA", 1), drm.ErrInvalidCPIX},
		{"bad base64", strings.Replace(vendorCPIX, "AAAAAAAAAAAAAAAAAAAAAA==", "!!", 1), drm.ErrInvalidCPIX},
		{"encrypted key", strings.Replace(vendorCPIX, "<pskc:PlainValue>", "<pskc:EncryptedValue/><pskc:PlainValue>", 1), drm.ErrInvalidCPIX},
		{"bad scheme", strings.Replace(vendorCPIX, `"cbcs"`, `"cens"`, 1), drm.ErrInvalidCPIX},
		{"bad playlist", strings.Replace(vendorCPIX, `"media"`, `"other"`, 1), drm.ErrInvalidCPIX},
		{"too large", vendorCPIX + strings.Repeat(" ", drm.MaxCPIXBytes), drm.ErrTooLarge},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			if _, err := drm.ParseCPIX([]byte(c.doc)); !errors.Is(err, c.err) {
				t.Fatalf("err %v, want %v", err, c.err)
			}
		})
	}
}

func TestCPIXRejects(t *testing.T) {
	k := fixedKey(3)
	cases := []struct {
		name    string
		keys    []drm.ContentKey
		systems []drm.System
		err     error
	}{
		{"no keys", nil, nil, drm.ErrNoKey},
		{"bad key", []drm.ContentKey{{KID: k.KID}}, nil, drm.ErrInvalidKey},
		{"bad system", []drm.ContentKey{k}, []drm.System{"x"}, drm.ErrInvalidSystem},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := drm.CPIX("c", c.keys, c.systems); !errors.Is(err, c.err) {
				t.Fatalf("err %v", err)
			}
		})
	}
}
