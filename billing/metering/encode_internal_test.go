package metering

import (
	"encoding/json"
	"testing"
)

// TestEncodeDimensions checks the one-pass encoder against DimensionsKey
// and encoding/json.
func TestEncodeDimensions(t *testing.T) {
	for _, dims := range []map[string]string{
		nil,
		{},
		{"cdn": "fastly"},
		{"tier": "uhd", "encoder": "nvenc", "codec": "h264"},
		{"title": `say "hi"`, "path": `a\b`, "html": "<b>&</b>"},
		{"name": "café ☕", "z": "last", "a": "first"},
	} {
		key, js, err := encodeDimensions(dims)
		if err != nil {
			t.Fatal(err)
		}
		if key != DimensionsKey(dims) {
			t.Errorf("%v: key %q, want %q", dims, key, DimensionsKey(dims))
		}
		want, _ := json.Marshal(nonNil(dims))
		if js != string(want) {
			t.Errorf("%v: json %s, want %s", dims, js, want)
		}
	}
}
