package catalog

import (
	"strings"

	"github.com/marquee-video/marquee/internal/errs"
)

// Rating systems.
const (
	SystemMPAA = "mpaa"
	SystemTV   = "tv"
	SystemPEGI = "pegi"
)

// ratingScales lists each system's ratings from the mildest, with the
// minimum age each stands for. Within a system the order is the system's
// own (MPAA G < PG < PG-13 < R < NC-17; TV-Y < TV-Y7 < TV-G < TV-PG < TV-14
// < TV-MA; PEGI 3 < 7 < 12 < 16 < 18). Across systems a profile's limit is
// compared by age: a "PG-13" limit (13) admits PEGI 12 but not TV-14. An
// unrated title is hidden from any profile with a limit.
var ratingScales = map[string][]struct {
	Label string
	Age   int
}{
	SystemMPAA: {{"G", 0}, {"PG", 8}, {"PG-13", 13}, {"R", 17}, {"NC-17", 18}},
	SystemTV:   {{"TV-Y", 0}, {"TV-Y7", 7}, {"TV-G", 8}, {"TV-PG", 10}, {"TV-14", 14}, {"TV-MA", 17}},
	SystemPEGI: {{"PEGI 3", 3}, {"PEGI 7", 7}, {"PEGI 12", 12}, {"PEGI 16", 16}, {"PEGI 18", 18}},
}

// RatingSystems lists the systems in the order the API documents them.
func RatingSystems() []string { return []string{SystemMPAA, SystemTV, SystemPEGI} }

// RatingLabels lists every rating label of every system, mildest first per
// system.
func RatingLabels() []string {
	var out []string
	for _, sys := range RatingSystems() {
		for _, r := range ratingScales[sys] {
			out = append(out, r.Label)
		}
	}
	return out
}

func canonLabel(s string) string {
	s = strings.ToUpper(strings.Join(strings.Fields(s), " "))
	if len(s) > 0 && s[0] >= '0' && s[0] <= '9' {
		s = "PEGI " + s // PEGI ratings are often written as the bare age
	}
	return s
}

// LookupRating finds a rating by its label in any system ("PG-13",
// "tv-ma", "PEGI 12", "12"), with its minimum age.
func LookupRating(label string) (Rating, int, bool) {
	l := canonLabel(label)
	for _, sys := range RatingSystems() {
		for _, r := range ratingScales[sys] {
			if r.Label == l {
				return Rating{System: sys, Value: r.Label}, r.Age, true
			}
		}
	}
	return Rating{}, 0, false
}

// Normalize checks r against its system and returns it with the canonical
// label and its minimum age.
func (r Rating) Normalize() (Rating, int, error) {
	sys := strings.ToLower(strings.TrimSpace(r.System))
	scale, ok := ratingScales[sys]
	if !ok {
		return Rating{}, 0, errs.Field("rating.system", "rating system must be one of %s", strings.Join(RatingSystems(), ", "))
	}
	l := canonLabel(r.Value)
	for _, s := range scale {
		if s.Label == l {
			return Rating{System: sys, Value: s.Label}, s.Age, nil
		}
	}
	labels := make([]string, len(scale))
	for i, s := range scale {
		labels[i] = s.Label
	}
	return Rating{}, 0, errs.Field("rating.value", "a %s rating must be one of %s", sys, strings.Join(labels, ", "))
}

// MaxRatingAge parses a profile's rating limit: -1 when none is given.
func MaxRatingAge(label string) (int, error) {
	if strings.TrimSpace(label) == "" {
		return -1, nil
	}
	_, age, ok := LookupRating(label)
	if !ok {
		return 0, errs.Field("max_rating", "max_rating must be a rating such as PG-13, TV-14 or PEGI 12")
	}
	return age, nil
}
