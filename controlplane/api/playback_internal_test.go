package api

import "testing"

func TestParseRange(t *testing.T) {
	cases := []struct {
		h          string
		size       int64
		start, end int64
		ok         bool
	}{
		{"bytes=0-99", 1000, 0, 99, true},
		{"bytes=900-", 1000, 900, 999, true},
		{"bytes=-100", 1000, 900, 999, true},
		{"bytes=-5000", 1000, 0, 999, true},
		{"bytes=990-2000", 1000, 990, 999, true},
		{"bytes=1000-", 1000, 0, 0, false},
		{"bytes=5-4", 1000, 0, 0, false},
		{"bytes=0-1,5-6", 1000, 0, 0, false},
		{"bytes=-0", 1000, 0, 0, false},
		{"items=0-1", 1000, 0, 0, false},
		{"bytes=a-b", 1000, 0, 0, false},
		{"bytes=0-0", 0, 0, 0, false},
	}
	for _, tc := range cases {
		s, e, ok := parseRange(tc.h, tc.size)
		if ok != tc.ok || (ok && (s != tc.start || e != tc.end)) {
			t.Errorf("%q of %d: %d-%d %v, want %d-%d %v", tc.h, tc.size, s, e, ok, tc.start, tc.end, tc.ok)
		}
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-99", "bytes=-1", "bytes=9223372036854775807-", "bytes=--1"} {
		f.Add(s, int64(1000))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -size
		}
		s, e, ok := parseRange(h, size)
		if ok && (s < 0 || e >= size || s > e) {
			t.Fatalf("%q of %d gave %d-%d", h, size, s, e)
		}
	})
}
