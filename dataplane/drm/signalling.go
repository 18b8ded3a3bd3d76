package drm

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// The order systems are written in, so output does not depend on the order
// of Signalling.Systems.
var (
	psshOrder = []System{Widevine, PlayReady, ClearKey}
	dashOrder = []System{ClearKey, Widevine, PlayReady}
	hlsOrder  = []System{FairPlay, Widevine, PlayReady, ClearKey}
)

func psshOptions(scheme string, sig Signalling) PSSHOptions {
	return PSSHOptions{Scheme: scheme, ContentID: sig.ContentID,
		WidevineProvider: sig.WidevineProvider, PlayReadyLicenseURL: sig.PlayReadyLicenseURL}
}

func psshBase64(sys System, scheme string, key ContentKey, sig Signalling) (string, bool) {
	b, err := PSSH(sys, [][]byte{key.KID}, psshOptions(scheme, sig))
	if err != nil {
		return "", false
	}
	return base64.StdEncoding.EncodeToString(PSSHBytes(b)), true
}

// hlsKeyURI is the EXT-X-KEY URI of sys, or false when sys has none in HLS.
func hlsKeyURI(sys System, scheme string, key ContentKey, sig Signalling) (string, bool) {
	switch sys {
	case FairPlay:
		if scheme != SchemeCBCS {
			return "", false
		}
		tmpl := sig.FairPlayKeyURI
		if tmpl == "" {
			tmpl = "skd://{kid}"
		}
		return strings.ReplaceAll(tmpl, "{kid}", key.KIDHex()), true
	case Widevine:
		b64, ok := psshBase64(Widevine, scheme, key, sig)
		return "data:text/plain;base64," + b64, ok
	case PlayReady:
		pro := PlayReadyHeader{KIDs: [][]byte{key.KID}, Scheme: scheme, LicenseURL: sig.PlayReadyLicenseURL}.Object()
		return "data:text/plain;charset=UTF-16;base64," + base64.StdEncoding.EncodeToString(pro), true
	case ClearKey, ClearKeyDASH:
		if sig.ClearKeyHLSKeyURI == "" {
			return "", false
		}
		return strings.ReplaceAll(sig.ClearKeyHLSKeyURI, "{kid}", key.KIDHex()), true
	}
	return "", false
}

var hlsKeyFormats = map[System]string{
	FairPlay:  "com.apple.streamingkeydelivery",
	Widevine:  "urn:uuid:" + string(Widevine),
	PlayReady: "com.microsoft.playready",
	ClearKey:  "identity",
}

// hlsKeyAttrs is the attribute list of an EXT-X-KEY (or EXT-X-SESSION-KEY)
// tag for sys: SAMPLE-AES for cbcs, SAMPLE-AES-CTR for cenc. FairPlay's skd
// URI names the key itself, so it gets no KEYID.
func hlsKeyAttrs(sys System, scheme string, key ContentKey, sig Signalling) (string, bool) {
	if sys == ClearKeyDASH {
		sys = ClearKey
	}
	uri, ok := hlsKeyURI(sys, scheme, key, sig)
	if !ok {
		return "", false
	}
	method := "SAMPLE-AES"
	if scheme == SchemeCENC {
		method = "SAMPLE-AES-CTR"
	}
	keyID := ""
	if sys != FairPlay {
		keyID = ",KEYID=0x" + key.KIDHex()
	}
	return fmt.Sprintf(`METHOD=%s,URI="%s"%s,KEYFORMAT="%s",KEYFORMATVERSIONS="1"`, method, uri, keyID, hlsKeyFormats[sys]), true
}

// dashContentProtection is the ContentProtection element of sys, or false
// when sys has none in DASH (FairPlay).
func dashContentProtection(sys System, scheme string, key ContentKey, sig Signalling) (string, bool) {
	inner, ok := dashContentProtectionData(sys, scheme, key, sig)
	if !ok {
		return "", false
	}
	switch sys {
	case ClearKey, ClearKeyDASH:
		return fmt.Sprintf(`<ContentProtection schemeIdUri="urn:uuid:%s" value="ClearKey1.0">%s</ContentProtection>`, ClearKeyDASH, inner), true
	case Widevine:
		return fmt.Sprintf(`<ContentProtection schemeIdUri="urn:uuid:%s" value="Widevine">%s</ContentProtection>`, Widevine, inner), true
	case PlayReady:
		return fmt.Sprintf(`<ContentProtection schemeIdUri="urn:uuid:%s" value="MSPR 2.0">%s</ContentProtection>`, PlayReady, inner), true
	}
	return "", false
}

// dashContentProtectionData is the content of sys's ContentProtection
// element. Every prefix is declared on the element that uses it, so the
// fragment stands alone (CPIX ContentProtectionData requires that) and is
// valid inside any MPD.
func dashContentProtectionData(sys System, scheme string, key ContentKey, sig Signalling) (string, bool) {
	if sys == ClearKeyDASH {
		sys = ClearKey
	}
	if sys == FairPlay {
		return "", false
	}
	b64, ok := psshBase64(sys, scheme, key, sig)
	if !ok {
		return "", false
	}
	pssh := `<cenc:pssh xmlns:cenc="urn:mpeg:cenc:2013">` + b64 + `</cenc:pssh>`
	switch sys {
	case ClearKey:
		laurl := ""
		if sig.ClearKeyLicenseURL != "" {
			laurl = `<dashif:Laurl xmlns:dashif="https://dashif.org/CPS" licenseType="EME-1.0">` + xmlEscape(sig.ClearKeyLicenseURL) + `</dashif:Laurl>`
		}
		return laurl + pssh, true
	case PlayReady:
		pro := PlayReadyHeader{KIDs: [][]byte{key.KID}, Scheme: scheme, LicenseURL: sig.PlayReadyLicenseURL}.Object()
		return pssh + `<mspr:pro xmlns:mspr="urn:microsoft:playready">` + base64.StdEncoding.EncodeToString(pro) + `</mspr:pro>`, true
	}
	return pssh, true
}
