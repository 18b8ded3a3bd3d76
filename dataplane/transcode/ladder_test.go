package transcode

import (
	"fmt"
	"reflect"
	"testing"
)

func source(w, h int) MediaInfo {
	return MediaInfo{Video: VideoStream{Width: w, Height: h, SampleAspect: Rational{1, 1}}}
}

func TestPlanLadder(t *testing.T) {
	t.Parallel()
	type size struct {
		name string
		w, h int
	}
	rotated := source(1920, 1080)
	rotated.Video.Rotation = 90
	anamorphic := source(720, 480) // NTSC DVD 16:9: displays as 853x480
	anamorphic.Video.SampleAspect = Rational{32, 27}

	tests := []struct {
		name string
		info MediaInfo
		want []size
	}{
		{"1080p source keeps every rung", source(1920, 1080),
			[]size{{"1080p", 1920, 1080}, {"720p", 1280, 720}, {"480p", 854, 480}, {"360p", 640, 360}, {"240p", 426, 240}}},
		{"4K source is capped by the ladder, not scaled up", source(3840, 2160),
			[]size{{"1080p", 1920, 1080}, {"720p", 1280, 720}, {"480p", 854, 480}, {"360p", 640, 360}, {"240p", 426, 240}}},
		{"720p source", source(1280, 720),
			[]size{{"720p", 1280, 720}, {"480p", 854, 480}, {"360p", 640, 360}, {"240p", 426, 240}}},
		{"between rungs", source(1600, 900),
			[]size{{"720p", 1280, 720}, {"480p", 854, 480}, {"360p", 640, 360}, {"240p", 426, 240}}},
		{"640x360", source(640, 360), []size{{"360p", 640, 360}, {"240p", 426, 240}}},
		{"odd size", source(641, 361), []size{{"360p", 640, 360}, {"240p", 426, 240}}},
		{"odd width at the top rung", source(639, 360), []size{{"360p", 638, 360}, {"240p", 426, 240}}},
		{"portrait 9:16", source(1080, 1920),
			[]size{{"1080p", 1080, 1920}, {"720p", 720, 1280}, {"480p", 480, 854}, {"360p", 360, 640}, {"240p", 240, 426}}},
		{"portrait by rotation", rotated,
			[]size{{"1080p", 1080, 1920}, {"720p", 720, 1280}, {"480p", 480, 854}, {"360p", 360, 640}, {"240p", 240, 426}}},
		{"odd portrait", source(361, 641), []size{{"360p", 360, 640}, {"240p", 240, 426}}},
		{"4:3", source(1440, 1080),
			[]size{{"1080p", 1440, 1080}, {"720p", 960, 720}, {"480p", 640, 480}, {"360p", 480, 360}, {"240p", 320, 240}}},
		{"cinemascope 2.39:1", source(1920, 804),
			[]size{{"720p", 1720, 720}, {"480p", 1146, 480}, {"360p", 860, 360}, {"240p", 574, 240}}},
		{"anamorphic", anamorphic, []size{{"480p", 852, 480}, {"360p", 640, 360}, {"240p", 426, 240}}},
		{"square", source(500, 500), []size{{"480p", 480, 480}, {"360p", 360, 360}, {"240p", 240, 240}}},
		{"smaller than every rung keeps one, at source size", source(320, 180), []size{{"180p", 320, 180}}},
		{"tiny odd source", source(175, 99), []size{{"98p", 174, 98}}},
		{"tiny portrait", source(99, 175), []size{{"98p", 98, 174}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := PlanLadder(tc.info, DefaultLadder())
			var sizes []size
			for _, r := range got {
				sizes = append(sizes, size{r.Name, r.Width, r.Height})
			}
			if !reflect.DeepEqual(sizes, tc.want) {
				t.Fatalf("got  %v\nwant %v", sizes, tc.want)
			}
			sw, sh := tc.info.Video.DisplaySize()
			for _, r := range got {
				if r.Width%2 != 0 || r.Height%2 != 0 {
					t.Errorf("%s: odd size %dx%d", r.Name, r.Width, r.Height)
				}
				if r.Width > sw || r.Height > sh {
					t.Errorf("%s: %dx%d upscales a %dx%d source", r.Name, r.Width, r.Height, sw, sh)
				}
				if r.Codec != CodecH264 || r.VideoBitrate <= 0 {
					t.Errorf("%s: codec %q bitrate %d", r.Name, r.Codec, r.VideoBitrate)
				}
			}
			if again := PlanLadder(tc.info, got); !reflect.DeepEqual(again, got) {
				t.Errorf("planning is not idempotent:\n%v\n%v", got, again)
			}
			if err := validateLadder(got); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestPlanLadderKeepsProfileDetails(t *testing.T) {
	t.Parallel()
	profile := []Rung{
		{Name: "720p-hevc", Height: 720, VideoBitrate: 2_000_000, Codec: CodecHEVC},
		{Name: "720p", Width: 1280, Height: 720, VideoBitrate: 3_000_000},
		{Name: "360p-av1", Height: 360, VideoBitrate: 500_000, Codec: CodecAV1},
	}
	got := PlanLadder(source(1280, 720), profile)
	want := []Rung{
		{Name: "720p-hevc", Width: 1280, Height: 720, VideoBitrate: 2_000_000, Codec: CodecHEVC},
		{Name: "720p", Width: 1280, Height: 720, VideoBitrate: 3_000_000, Codec: CodecH264},
		{Name: "360p-av1", Width: 640, Height: 360, VideoBitrate: 500_000, Codec: CodecAV1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	// Below every rung, each codec of the smallest tier survives.
	small := PlanLadder(source(256, 144), []Rung{
		{Name: "240p", Height: 240, VideoBitrate: 400_000},
		{Name: "240p-av1", Height: 240, VideoBitrate: 300_000, Codec: CodecAV1},
		{Name: "480p", Height: 480, VideoBitrate: 1_000_000},
	})
	if len(small) != 2 || small[0].Name != "144p" || small[1].Name != "144p-av1" || small[1].Codec != CodecAV1 {
		t.Fatalf("%+v", small)
	}
	if got := PlanLadder(MediaInfo{}, DefaultLadder()); got != nil {
		t.Errorf("a source without size planned %v", got)
	}
	if got := PlanLadder(source(1920, 1080), nil); got != nil {
		t.Errorf("an empty profile planned %v", got)
	}
}

func TestValidateLadder(t *testing.T) {
	t.Parallel()
	ok := Rung{Name: "720p", Width: 1280, Height: 720, VideoBitrate: 3_000_000}
	with := func(f func(*Rung)) []Rung { r := ok; f(&r); return []Rung{r} }
	bad := map[string][]Rung{
		"empty":           nil,
		"no name":         with(func(r *Rung) { r.Name = "" }),
		"path in name":    with(func(r *Rung) { r.Name = "../720p" }),
		"space in name":   with(func(r *Rung) { r.Name = "7 20p" }),
		"duplicate":       {ok, ok},
		"no height":       with(func(r *Rung) { r.Height = 0 }),
		"huge":            with(func(r *Rung) { r.Height = 10000 }),
		"no bitrate":      with(func(r *Rung) { r.VideoBitrate = 0 }),
		"unknown codec":   with(func(r *Rung) { r.Codec = "vp9" }),
		"absurd bitrate":  with(func(r *Rung) { r.VideoBitrate = 1 << 40 }),
		"negative width":  with(func(r *Rung) { r.Width = -2 }),
		"name too long":   with(func(r *Rung) { r.Name = fmt.Sprintf("%040d", 7) }),
		"leading hyphen":  with(func(r *Rung) { r.Name = "-720p" }),
		"shell character": with(func(r *Rung) { r.Name = "720p;rm" }),
	}
	for name, ladder := range bad {
		if err := validateLadder(ladder); err == nil {
			t.Errorf("%s: accepted %+v", name, ladder)
		} else {
			wantCode(t, err, CodeInvalidJob, false)
		}
	}
	if err := validateLadder(DefaultLadder()); err != nil {
		t.Errorf("default ladder: %v", err)
	}
}
