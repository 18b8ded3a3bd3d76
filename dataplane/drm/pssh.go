package drm

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"strings"
	"unicode/utf16"

	"github.com/Eyevinn/mp4ff/mp4"
)

// WidevinePSSH is the Widevine PSSH payload (WidevinePsshData protobuf).
type WidevinePSSH struct {
	KeyIDs    [][]byte // field 2
	Provider  string   // field 3, optional
	ContentID []byte   // field 4, optional
	// Scheme is SchemeCENC or SchemeCBCS (field 9, as a fourcc), or empty.
	Scheme string
}

// Marshal encodes the protobuf. Fields are written in field-number order,
// as protobuf encoders do, so the bytes match other packagers'.
func (w WidevinePSSH) Marshal() []byte {
	var b []byte
	for _, k := range w.KeyIDs {
		b = appendPBBytes(b, 2, k)
	}
	if w.Provider != "" {
		b = appendPBBytes(b, 3, []byte(w.Provider))
	}
	if len(w.ContentID) > 0 {
		b = appendPBBytes(b, 4, w.ContentID)
	}
	if w.Scheme != "" {
		b = appendPBVarint(b, 9<<3 /* field 9, wire type varint */, uint64(binary.BigEndian.Uint32([]byte(w.Scheme + "\x00\x00\x00\x00")[:4])))
	}
	return b
}

func appendPBVarint(b []byte, tag byte, v uint64) []byte {
	return binary.AppendUvarint(append(b, tag), v)
}

func appendPBBytes(b []byte, field byte, v []byte) []byte {
	b = binary.AppendUvarint(append(b, field<<3|2), uint64(len(v)))
	return append(b, v...)
}

// ParseWidevinePSSH decodes a WidevinePsshData protobuf. Unknown fields are
// skipped, as protobuf requires.
func ParseWidevinePSSH(data []byte) (WidevinePSSH, error) {
	var w WidevinePSSH
	for len(data) > 0 {
		key, n := binary.Uvarint(data)
		if n <= 0 {
			return w, errorf(CodeBadRequest, "widevine pssh: bad tag")
		}
		data = data[n:]
		field, wire := key>>3, key&7
		switch wire {
		case 0:
			v, n := binary.Uvarint(data)
			if n <= 0 {
				return w, errorf(CodeBadRequest, "widevine pssh: bad varint")
			}
			data = data[n:]
			if field == 9 {
				w.Scheme = string(binary.BigEndian.AppendUint32(nil, uint32(v)))
			}
		case 2:
			l, n := binary.Uvarint(data)
			if n <= 0 || uint64(len(data)-n) < l {
				return w, errorf(CodeBadRequest, "widevine pssh: bad length")
			}
			v := data[n : n+int(l)]
			data = data[n+int(l):]
			switch field {
			case 2:
				w.KeyIDs = append(w.KeyIDs, v)
			case 3:
				w.Provider = string(v)
			case 4:
				w.ContentID = v
			}
		case 5:
			if len(data) < 4 {
				return w, errorf(CodeBadRequest, "widevine pssh: truncated")
			}
			data = data[4:]
		case 1:
			if len(data) < 8 {
				return w, errorf(CodeBadRequest, "widevine pssh: truncated")
			}
			data = data[8:]
		default:
			return w, errorf(CodeBadRequest, "widevine pssh: wire type %d", wire)
		}
	}
	return w, nil
}

// PlayReady header namespace.
const playReadyHeaderNS = "http://schemas.microsoft.com/DRM/2007/03/PlayReadyHeader"

// PlayReadyHeader is a WRMHEADER version 4.3.0.0.
type PlayReadyHeader struct {
	KIDs [][]byte
	// Scheme selects ALGID: AESCTR for cenc, AESCBC for cbcs.
	Scheme string
	// LicenseURL is LA_URL, optional.
	LicenseURL string
}

// GUIDBase64 is the PlayReady form of a KID: base64 of the GUID whose first
// three fields are little-endian.
func GUIDBase64(kid []byte) string {
	return base64.StdEncoding.EncodeToString(swapGUID(kid))
}

// swapGUID converts between big-endian UUID bytes and little-endian GUID
// bytes (the operation is its own inverse).
func swapGUID(kid []byte) []byte {
	g := bytes.Clone(kid)
	if len(g) != 16 {
		return g
	}
	g[0], g[1], g[2], g[3] = kid[3], kid[2], kid[1], kid[0]
	g[4], g[5] = kid[5], kid[4]
	g[6], g[7] = kid[7], kid[6]
	return g
}

// XML is the WRMHEADER document.
func (h PlayReadyHeader) XML() string {
	alg := "AESCTR"
	if h.Scheme == SchemeCBCS {
		alg = "AESCBC"
	}
	var b strings.Builder
	b.WriteString(`<WRMHEADER xmlns="` + playReadyHeaderNS + `" version="4.3.0.0"><DATA><PROTECTINFO><KIDS>`)
	for _, k := range h.KIDs {
		fmt.Fprintf(&b, `<KID ALGID="%s" VALUE="%s"></KID>`, alg, GUIDBase64(k))
	}
	b.WriteString(`</KIDS></PROTECTINFO>`)
	if h.LicenseURL != "" {
		b.WriteString("<LA_URL>" + xmlEscape(h.LicenseURL) + "</LA_URL>")
	}
	b.WriteString(`</DATA></WRMHEADER>`)
	return b.String()
}

// Object is the PlayReady Object (PRO): a little-endian length, a record
// count and one rights-management-header record holding the XML in UTF-16LE.
// It is the PSSH payload, the mspr:pro element and the HLS data URI.
func (h PlayReadyHeader) Object() []byte {
	u := utf16.Encode([]rune(h.XML()))
	rec := make([]byte, 0, 2*len(u))
	for _, c := range u {
		rec = binary.LittleEndian.AppendUint16(rec, c)
	}
	out := binary.LittleEndian.AppendUint32(nil, uint32(4+2+4+len(rec)))
	out = binary.LittleEndian.AppendUint16(out, 1) // one record
	out = binary.LittleEndian.AppendUint16(out, 1) // type: rights management header
	out = binary.LittleEndian.AppendUint16(out, uint16(len(rec)))
	return append(out, rec...)
}

// ParsePlayReadyObject returns the WRMHEADER XML of a PlayReady Object.
func ParsePlayReadyObject(pro []byte) (string, error) {
	if len(pro) < 6 || int(binary.LittleEndian.Uint32(pro)) != len(pro) {
		return "", errorf(CodeBadRequest, "playready object: bad length")
	}
	n := int(binary.LittleEndian.Uint16(pro[4:]))
	p := pro[6:]
	for range n {
		if len(p) < 4 {
			return "", errorf(CodeBadRequest, "playready object: truncated record")
		}
		typ, l := binary.LittleEndian.Uint16(p), int(binary.LittleEndian.Uint16(p[2:]))
		if len(p) < 4+l || l%2 != 0 {
			return "", errorf(CodeBadRequest, "playready object: truncated record")
		}
		if typ == 1 {
			u := make([]uint16, l/2)
			for i := range u {
				u[i] = binary.LittleEndian.Uint16(p[4+2*i:])
			}
			return string(utf16.Decode(u)), nil
		}
		p = p[4+l:]
	}
	return "", errorf(CodeBadRequest, "playready object: no rights management header")
}

// PSSHOptions are the per-system details of PSSH boxes.
type PSSHOptions struct {
	Scheme              string // SchemeCENC or SchemeCBCS
	ContentID           []byte // Widevine content_id, optional
	WidevineProvider    string // Widevine provider, optional
	PlayReadyLicenseURL string // PlayReady LA_URL, optional
}

// PSSH builds the PSSH box of system for the given KIDs: Widevine and
// PlayReady as version 0 boxes with the KIDs in their payload (what older
// CDMs read), the W3C Common (ClearKey) box as version 1 with the KIDs in
// the box and no payload. FairPlay has no PSSH box; asking for one is an error.
func PSSH(system System, kids [][]byte, opt PSSHOptions) (*mp4.PsshBox, error) {
	if len(kids) == 0 {
		return nil, errorf(CodeInvalidKey, "no KIDs")
	}
	for _, k := range kids {
		if len(k) != KeySize {
			return nil, errorf(CodeInvalidKey, "KID is %d bytes", len(k))
		}
	}
	var data []byte
	var boxKIDs []string
	switch system {
	case Widevine:
		data = WidevinePSSH{KeyIDs: kids, Provider: opt.WidevineProvider, ContentID: opt.ContentID, Scheme: opt.Scheme}.Marshal()
	case PlayReady:
		data = PlayReadyHeader{KIDs: kids, Scheme: opt.Scheme, LicenseURL: opt.PlayReadyLicenseURL}.Object()
	case ClearKey, ClearKeyDASH:
		system = ClearKey
		for _, k := range kids {
			boxKIDs = append(boxKIDs, UUIDString(k))
		}
	default:
		return nil, errorf(CodeInvalidSystem, "no PSSH box for system %s", system.Name())
	}
	box, err := mp4.NewPsshBox(string(system), boxKIDs, nil)
	if err != nil {
		return nil, fmt.Errorf("drm: pssh: %w", err)
	}
	// mp4ff v0.51.0's NewPsshBox drops its data argument; set it here.
	box.Data = data
	return box, nil
}

// PSSHBytes encodes a PSSH box, e.g. for cenc:pssh (base64 of these bytes).
func PSSHBytes(box *mp4.PsshBox) []byte {
	var buf bytes.Buffer
	// Encoding into a bytes.Buffer cannot fail.
	_ = box.Encode(&buf)
	return buf.Bytes()
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
