package drm

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"strings"
)

// CPIX namespaces and version.
const (
	CPIXNamespace = "urn:dashif:org:cpix"
	PSKCNamespace = "urn:ietf:params:xml:ns:keyprov:pskc"
	CPIXVersion   = "2.3"
	// MaxCPIXBytes bounds documents ParseCPIX reads.
	MaxCPIXBytes = 4 << 20
)

// CPIXDRMSystem is one DRMSystem element: the signalling of one system for
// one KID. Byte fields hold the decoded values of the base64 elements.
type CPIXDRMSystem struct {
	KID    []byte
	System System
	// PSSH is the whole PSSH box.
	PSSH []byte
	// ContentProtectionData is the XML that goes inside the DASH
	// ContentProtection element of the system.
	ContentProtectionData []byte
	// URIExtXKey is the URI of the system's EXT-X-KEY.
	URIExtXKey string
	// HLSMedia and HLSMaster are the tag lines for media and master
	// playlists (HLSSignalingData playlist="media" / "master").
	HLSMedia, HLSMaster string
}

// CPIXDocument is a parsed CPIX document.
type CPIXDocument struct {
	ContentID  string
	Version    string
	Keys       []ContentKey
	DRMSystems []CPIXDRMSystem
}

// CPIX writes a DASH-IF CPIX 2.3 document listing keys in clear (the
// document must travel over an authenticated, encrypted channel) and, for
// every key and system, the signalling Encryptor would write with default
// Signalling. The scheme of each key comes from ContentKey.Scheme (cenc
// when empty).
func CPIX(contentID string, keys []ContentKey, systems []System) ([]byte, error) {
	return CPIXWithSignalling(contentID, keys, Signalling{Systems: systems})
}

// CPIXWithSignalling is CPIX with license URLs and the other details of sig.
func CPIXWithSignalling(contentID string, keys []ContentKey, sig Signalling) ([]byte, error) {
	if len(keys) == 0 {
		return nil, errorf(CodeNoKey, "no content keys")
	}
	for i, k := range keys {
		if err := k.Validate(); err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
	}
	systems, err := normalizeSystems(sig.Systems)
	if err != nil {
		return nil, err
	}
	sig.Systems = systems
	var b strings.Builder
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, `<CPIX xmlns="%s" xmlns:pskc="%s" version="%s"`, CPIXNamespace, PSKCNamespace, CPIXVersion)
	if contentID != "" {
		fmt.Fprintf(&b, ` contentId="%s"`, xmlEscape(contentID))
	}
	b.WriteString(">\n  <ContentKeyList>\n")
	for _, k := range keys {
		fmt.Fprintf(&b, `    <ContentKey kid="%s" commonEncryptionScheme="%s"`, k.KIDUUID(), keyScheme(k))
		if len(k.IV) > 0 {
			fmt.Fprintf(&b, ` explicitIV="%s"`, base64.StdEncoding.EncodeToString(iv16(k.IV)))
		}
		fmt.Fprintf(&b, ">\n      <Data><pskc:Secret><pskc:PlainValue>%s</pskc:PlainValue></pskc:Secret></Data>\n    </ContentKey>\n",
			base64.StdEncoding.EncodeToString(k.Key))
	}
	b.WriteString("  </ContentKeyList>\n")
	if len(sig.Systems) > 0 {
		b.WriteString("  <DRMSystemList>\n")
		for _, k := range keys {
			scheme := keyScheme(k)
			for _, sys := range cpixOrder {
				if !sig.has(sys) {
					continue
				}
				writeDRMSystem(&b, sys, scheme, k, sig)
			}
		}
		b.WriteString("  </DRMSystemList>\n")
	}
	b.WriteString("</CPIX>\n")
	return []byte(b.String()), nil
}

var cpixOrder = []System{Widevine, PlayReady, FairPlay, ClearKey}

func keyScheme(k ContentKey) string {
	if k.Scheme == "" {
		return SchemeCENC
	}
	return k.Scheme
}

func iv16(iv []byte) []byte {
	if len(iv) == 8 {
		return append(bytes.Clone(iv), make([]byte, 8)...)
	}
	return iv
}

func writeDRMSystem(b *strings.Builder, sys System, scheme string, k ContentKey, sig Signalling) {
	enc := base64.StdEncoding.EncodeToString
	fmt.Fprintf(b, "    <DRMSystem kid=\"%s\" systemId=\"%s\">\n", k.KIDUUID(), sys)
	if box, err := PSSH(sys, [][]byte{k.KID}, psshOptions(scheme, sig)); err == nil {
		fmt.Fprintf(b, "      <PSSH>%s</PSSH>\n", enc(PSSHBytes(box)))
	}
	if cpd, ok := dashContentProtectionData(sys, scheme, k, sig); ok {
		fmt.Fprintf(b, "      <ContentProtectionData>%s</ContentProtectionData>\n", enc([]byte(cpd)))
	}
	if uri, ok := hlsKeyURI(sys, scheme, k, sig); ok {
		attrs, _ := hlsKeyAttrs(sys, scheme, k, sig)
		fmt.Fprintf(b, "      <URIExtXKey>%s</URIExtXKey>\n", enc([]byte(uri)))
		fmt.Fprintf(b, "      <HLSSignalingData playlist=\"media\">%s</HLSSignalingData>\n", enc([]byte("#EXT-X-KEY:"+attrs+"\n")))
		fmt.Fprintf(b, "      <HLSSignalingData playlist=\"master\">%s</HLSSignalingData>\n", enc([]byte("#EXT-X-SESSION-KEY:"+attrs+"\n")))
	}
	b.WriteString("    </DRMSystem>\n")
}

type cpixXML struct {
	XMLName   xml.Name `xml:"urn:dashif:org:cpix CPIX"`
	ContentID string   `xml:"contentId,attr"`
	Version   string   `xml:"version,attr"`
	Keys      []struct {
		KID    string `xml:"kid,attr"`
		Scheme string `xml:"commonEncryptionScheme,attr"`
		IV     string `xml:"explicitIV,attr"`
		Data   *struct {
			Plain     *string   `xml:"urn:ietf:params:xml:ns:keyprov:pskc Secret>PlainValue"`
			Encrypted *struct{} `xml:"urn:ietf:params:xml:ns:keyprov:pskc Secret>EncryptedValue"`
		} `xml:"urn:dashif:org:cpix Data"`
	} `xml:"urn:dashif:org:cpix ContentKeyList>ContentKey"`
	DRMSystems []struct {
		KID      string `xml:"kid,attr"`
		SystemID string `xml:"systemId,attr"`
		PSSH     string `xml:"urn:dashif:org:cpix PSSH"`
		CPD      string `xml:"urn:dashif:org:cpix ContentProtectionData"`
		URI      string `xml:"urn:dashif:org:cpix URIExtXKey"`
		HLS      []struct {
			Playlist string `xml:"playlist,attr"`
			Value    string `xml:",chardata"`
		} `xml:"urn:dashif:org:cpix HLSSignalingData"`
	} `xml:"urn:dashif:org:cpix DRMSystemList>DRMSystem"`
}

// ParseCPIX reads a CPIX document, such as a key vendor's answer. Keys must
// be in clear (pskc:PlainValue); a key without Data (a request document)
// has a nil Key. Encrypted documents and key values are not supported and
// fail with ErrInvalidCPIX, as does anything malformed.
func ParseCPIX(doc []byte) (CPIXDocument, error) {
	if len(doc) > MaxCPIXBytes {
		return CPIXDocument{}, errorf(CodeTooLarge, "CPIX document is %d bytes, limit %d", len(doc), MaxCPIXBytes)
	}
	var x cpixXML
	if err := xml.Unmarshal(doc, &x); err != nil {
		return CPIXDocument{}, wrapErr(CodeInvalidCPIX, err, "not a CPIX document")
	}
	out := CPIXDocument{ContentID: x.ContentID, Version: x.Version}
	dec := func(what, s string) ([]byte, error) {
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
		if err != nil {
			return nil, errorf(CodeInvalidCPIX, "%s is not base64", what)
		}
		return b, nil
	}
	for i, k := range x.Keys {
		kid, err := ParseKID(k.KID)
		if err != nil {
			return CPIXDocument{}, &Error{Code: CodeInvalidCPIX, Message: fmt.Sprintf("ContentKey %d: %v", i, err), Err: err}
		}
		ck := ContentKey{KID: kid, Scheme: k.Scheme}
		if k.IV != "" {
			if ck.IV, err = dec("explicitIV", k.IV); err != nil {
				return CPIXDocument{}, err
			}
		}
		if k.Data != nil {
			if k.Data.Encrypted != nil || k.Data.Plain == nil {
				return CPIXDocument{}, errorf(CodeInvalidCPIX, "ContentKey %s: only pskc:PlainValue keys are supported", UUIDString(kid))
			}
			if ck.Key, err = dec("PlainValue", *k.Data.Plain); err != nil {
				return CPIXDocument{}, err
			}
		}
		check := ck
		if check.Key == nil {
			check.Key = make([]byte, KeySize)
		}
		if err := check.Validate(); err != nil {
			return CPIXDocument{}, &Error{Code: CodeInvalidCPIX, Message: fmt.Sprintf("ContentKey %s: %v", UUIDString(kid), err), Err: err}
		}
		out.Keys = append(out.Keys, ck)
	}
	for _, d := range x.DRMSystems {
		kid, err := ParseKID(d.KID)
		if err != nil {
			return CPIXDocument{}, &Error{Code: CodeInvalidCPIX, Message: "DRMSystem: " + err.Error(), Err: err}
		}
		s := CPIXDRMSystem{KID: kid, System: System(strings.ToLower(d.SystemID))}
		if known, err := ParseSystem(d.SystemID); err == nil {
			s.System = known
		}
		if s.PSSH, err = dec("PSSH", d.PSSH); err != nil {
			return CPIXDocument{}, err
		}
		if s.ContentProtectionData, err = dec("ContentProtectionData", d.CPD); err != nil {
			return CPIXDocument{}, err
		}
		uri, err := dec("URIExtXKey", d.URI)
		if err != nil {
			return CPIXDocument{}, err
		}
		s.URIExtXKey = string(uri)
		for _, h := range d.HLS {
			v, err := dec("HLSSignalingData", h.Value)
			if err != nil {
				return CPIXDocument{}, err
			}
			switch h.Playlist {
			case "master":
				s.HLSMaster = string(v)
			case "media", "":
				s.HLSMedia = string(v)
			default:
				return CPIXDocument{}, errorf(CodeInvalidCPIX, "HLSSignalingData playlist %q", h.Playlist)
			}
		}
		out.DRMSystems = append(out.DRMSystems, s)
	}
	return out, nil
}
