package cdn_test

import (
	"encoding/json"
	"encoding/xml"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/marquee-video/marquee/dataplane/cdn"
	"github.com/marquee-video/marquee/internal/errs"
)

func TestHLSSteeringTag(t *testing.T) {
	tests := []struct {
		name, uri, pathway, want string
		invalid                  bool
	}{
		{"with pathway", "https://steer.example/v1/steer?session=abc", "cdn-a",
			`#EXT-X-CONTENT-STEERING:SERVER-URI="https://steer.example/v1/steer?session=abc",PATHWAY-ID="cdn-a"`, false},
		{"without pathway", "/steer/abc.json", "", `#EXT-X-CONTENT-STEERING:SERVER-URI="/steer/abc.json"`, false},
		{"quote in uri", `https://s.example/"x`, "", "", true},
		{"newline in uri", "https://s.example/\nx", "", "", true},
		{"empty uri", "", "cdn-a", "", true},
		{"bad pathway", "https://s.example/", "cdn a", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := cdn.HLSSteeringTag(tc.uri, tc.pathway)
			if tc.invalid {
				if !errs.Is(err, errs.Invalid) {
					t.Fatalf("err = %v, want Invalid", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if a, err := cdn.HLSPathwayAttr("cdn-b"); err != nil || a != `,PATHWAY-ID="cdn-b"` {
		t.Fatalf("HLSPathwayAttr = %q, %v", a, err)
	}
}

func TestSteeringJSON(t *testing.T) {
	// The example steering manifest of the HLS Content Steering
	// specification, and its DASH-IF counterpart.
	r := cdn.SteeringResponse{
		TTL:       300 * time.Second,
		ReloadURI: "https://steeringservice.com/app/instance12345?session=abc&n=2",
		Priority:  []string{"CDN-A", "CDN-B"},
	}
	tests := []struct {
		name        string
		render      func() ([]byte, error)
		priorityKey string
		want        string
	}{
		{"hls", r.HLSJSON, "PATHWAY-PRIORITY",
			`{"VERSION":1,"TTL":300,"RELOAD-URI":"https://steeringservice.com/app/instance12345?session=abc&n=2","PATHWAY-PRIORITY":["CDN-A","CDN-B"]}`},
		{"dash", r.DASHJSON, "SERVICE-LOCATION-PRIORITY",
			`{"VERSION":1,"TTL":300,"RELOAD-URI":"https://steeringservice.com/app/instance12345?session=abc&n=2","SERVICE-LOCATION-PRIORITY":["CDN-A","CDN-B"],"PATHWAY-PRIORITY":["CDN-A","CDN-B"]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.render()
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Fatalf("got  %s\nwant %s", b, tc.want)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			want := []string{tc.priorityKey, "RELOAD-URI", "TTL", "VERSION"}
			if tc.name == "dash" {
				want = append(want, "PATHWAY-PRIORITY") // for Shaka, which reads only this name
			}
			slices.Sort(want)
			if !slices.Equal(keys, want) {
				t.Fatalf("keys = %v, want the spec's %v", keys, want)
			}
		})
	}
	noReload := cdn.SteeringResponse{TTL: 10 * time.Second, Priority: []string{"a"}}
	if b, err := noReload.HLSJSON(); err != nil || string(b) != `{"VERSION":1,"TTL":10,"PATHWAY-PRIORITY":["a"]}` {
		t.Fatalf("without reload uri: %s, %v", b, err)
	}
}

func TestSteeringJSONRejects(t *testing.T) {
	tests := []struct {
		name string
		r    cdn.SteeringResponse
	}{
		{"zero ttl", cdn.SteeringResponse{Priority: []string{"a"}}},
		{"fractional ttl", cdn.SteeringResponse{TTL: 1500 * time.Millisecond, Priority: []string{"a"}}},
		{"empty priority", cdn.SteeringResponse{TTL: time.Minute}},
		{"duplicate", cdn.SteeringResponse{TTL: time.Minute, Priority: []string{"a", "a"}}},
		{"bad id", cdn.SteeringResponse{TTL: time.Minute, Priority: []string{"a/b"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.r.HLSJSON(); !errs.Is(err, errs.Invalid) {
				t.Fatalf("HLS err = %v", err)
			}
			if _, err := tc.r.DASHJSON(); !errs.Is(err, errs.Invalid) {
				t.Fatalf("DASH err = %v", err)
			}
		})
	}
}

func TestParseSteeringQuery(t *testing.T) {
	tests := []struct {
		query string
		want  cdn.SteeringRequest
	}{
		{"_HLS_pathway=cdn-b&_HLS_throughput=5800000", cdn.SteeringRequest{Pathway: "cdn-b", Throughput: 5800000}},
		{"_DASH_pathway=cdn-a&_DASH_throughput=120000", cdn.SteeringRequest{Pathway: "cdn-a", Throughput: 120000}},
		{"_HLS_pathway=bad%20id&_HLS_throughput=-5", cdn.SteeringRequest{}},
		{"session=x", cdn.SteeringRequest{}},
	}
	for _, tc := range tests {
		q, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		if got := cdn.ParseSteeringQuery(q); got != tc.want {
			t.Fatalf("%s: got %+v, want %+v", tc.query, got, tc.want)
		}
	}
}

func TestDASHSteeringXML(t *testing.T) {
	type contentSteering struct {
		XMLName                xml.Name `xml:"ContentSteering"`
		DefaultServiceLocation string   `xml:"defaultServiceLocation,attr"`
		QueryBeforeStart       string   `xml:"queryBeforeStart,attr"`
		ProxyServerURL         string   `xml:"proxyServerURL,attr"`
		URL                    string   `xml:",chardata"`
	}
	d := cdn.DASHSteering{
		ServerURL:               "https://steer.example/dash?session=a&b=c",
		DefaultServiceLocations: []string{"cdn-a"},
		QueryBeforeStart:        true,
		ProxyServerURL:          "https://proxy.example/p?x=1&y=2",
	}
	s, err := d.XML()
	if err != nil {
		t.Fatal(err)
	}
	want := `<ContentSteering defaultServiceLocation="cdn-a" queryBeforeStart="true" proxyServerURL="https://proxy.example/p?x=1&amp;y=2">https://steer.example/dash?session=a&amp;b=c</ContentSteering>`
	if s != want {
		t.Fatalf("got  %s\nwant %s", s, want)
	}
	var got contentSteering
	if err := xml.Unmarshal([]byte(s), &got); err != nil {
		t.Fatal(err)
	}
	if got.URL != d.ServerURL || got.ProxyServerURL != d.ProxyServerURL || got.DefaultServiceLocation != "cdn-a" || got.QueryBeforeStart != "true" {
		t.Fatalf("round trip = %+v", got)
	}
	if _, err := (cdn.DASHSteering{}).XML(); !errs.Is(err, errs.Invalid) {
		t.Fatalf("empty server URL: %v", err)
	}
	if _, err := (cdn.DASHSteering{ServerURL: "https://s", DefaultServiceLocations: []string{"cdn-a", `a"b`}}).XML(); !errs.Is(err, errs.Invalid) {
		t.Fatalf("bad service location: %v", err)
	}

	two, err := (cdn.DASHSteering{ServerURL: "/steer", DefaultServiceLocations: []string{"cdn-b", "cdn-a"}}).XML()
	if err != nil || two != `<ContentSteering defaultServiceLocation="cdn-b cdn-a" queryBeforeStart="false">/steer</ContentSteering>` {
		t.Fatalf("two defaults: %s, %v", two, err)
	}

	b, err := cdn.DASHBaseURL("cdn-b", "https://b.example/v/abc/?t=1&u=2")
	if err != nil || b != `<BaseURL serviceLocation="cdn-b">https://b.example/v/abc/?t=1&amp;u=2</BaseURL>` {
		t.Fatalf("DASHBaseURL = %s, %v", b, err)
	}
	if _, err := cdn.DASHBaseURL("cdn b", "https://b"); !errs.Is(err, errs.Invalid) {
		t.Fatalf("bad service location: %v", err)
	}
}
