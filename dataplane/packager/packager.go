// Package packager turns the transcoder's renditions into one CMAF package that
// is served by both HLS and DASH: per track an init segment and numbered media
// segments, an HLS master with media playlists, and a DASH MPD with a
// SegmentTemplate and an exact SegmentTimeline.
//
// Input is one fragmented MP4 per rendition with exactly one track (video
// H.264/HEVC/AV1 whose keyframes fall every segment duration and are aligned
// across renditions, or AAC audio), as ffmpeg writes it with
// -movflags +frag_keyframe+empty_moov+default_base_moof.
//
// Segments are cut at sync samples on a grid of Options.SegmentDuration: a
// video segment starts at the first keyframe at or after each grid point, so
// keyframes that are sparser than the grid give longer segments, never a
// segment that starts without one. All video tracks must end up with the same
// timeline (otherwise not_aligned); audio is cut at the sample nearest to each
// video segment start, so audio and video segments line up to within one audio
// frame. Each output segment is styp + one moof + one mdat.
//
// Encryption is not done here: an Encryptor (issue 4) sees every init and
// media segment before it is written and contributes the manifest signalling.
//
// Output is written to a hidden temporary folder next to outDir and renamed
// into place at the end, so a failed or cancelled run never leaves a partial
// package visible, and the same input gives the same bytes.
package packager

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"
)

// Track kinds.
const (
	KindVideo = "video"
	KindAudio = "audio"
)

// DefaultSegmentDuration is used when Options.SegmentDuration is zero.
const DefaultSegmentDuration = 2 * time.Second

// Bounds on Options.SegmentDuration.
const (
	MinSegmentDuration = 500 * time.Millisecond
	MaxSegmentDuration = 60 * time.Second
)

// File names inside a package. Track folders are named by Track.ID.
const (
	HLSMasterName    = "master.m3u8"
	DASHManifestName = "manifest.mpd"
	PlaylistName     = "playlist.m3u8"
	InitName         = "init.mp4"
)

// Track is one input rendition: a fragmented MP4 file with exactly one track.
type Track struct {
	// ID names the track's folder and is the DASH Representation id, so it is
	// restricted to letters, digits, '_' and '-' ("v720", "audio").
	ID string
	// Kind is KindVideo or KindAudio and must match the file's handler.
	Kind string
	// Path is the input file on local disk.
	Path string
	// Bandwidth is the encoder's declared peak bitrate in bits/s, or 0. The
	// manifests advertise the larger of it and the measured peak segment
	// bitrate, so BANDWIDTH is never below what the segments really need.
	Bandwidth int
	// Width and Height default to the track's display size.
	Width, Height int
	// Codecs is the RFC 6381 codecs string; derived from the sample entry
	// (e.g. "avc1.64001F", "mp4a.40.2") when empty.
	Codecs string
	// Language is a BCP 47 tag for HLS LANGUAGE and DASH @lang; defaults to the
	// track's mdhd language unless that is "und".
	Language string
}

// Encryptor is the DRM seam (issue 4). A nil Encryptor writes clear CMAF.
//
// For each track, EncryptInit is called once with the CMAF header before it is
// written (the codecs string is already taken, so changing the sample entry to
// encv/enca is fine), then EncryptSegment once per media segment in order,
// before it is written. A segment is styp + one fragment whose trun is already
// in its final compact form and is encoded without further optimisation, so
// offsets computed while encrypting (saio) stay valid; this is what
// mp4.InitProtect and mp4.EncryptFragment expect. The segment's buffers are
// reused after the call returns, so it must not be kept. Calls for different
// tracks may run concurrently; calls for one track never do.
//
// HLSKeyTags returns whole tag lines (e.g. `#EXT-X-KEY:METHOD=SAMPLE-AES,...`)
// written into the track's media playlist before EXT-X-MAP. DASHContentProtection
// returns whole <ContentProtection> elements; the MPD declares the cenc
// namespace (xmlns:cenc="urn:mpeg:cenc:2013"), any other prefix must be declared
// in the element itself. Elements that are the same for every Representation of
// an AdaptationSet are written once in the AdaptationSet, otherwise in each
// Representation. Both are called after all segments are written.
type Encryptor interface {
	EncryptInit(track string, init *mp4.InitSegment) error
	EncryptSegment(track string, seg *mp4.MediaSegment, init *mp4.InitSegment) error
	HLSKeyTags(track string) []string
	DASHContentProtection(track string) []string
}

// Options tune a Package call.
type Options struct {
	// SegmentDuration is the target segment duration D; it should equal the
	// transcoder's keyframe interval. Zero means DefaultSegmentDuration.
	SegmentDuration time.Duration
	// Encryptor, when set, encrypts segments and signals protection.
	Encryptor Encryptor
}

// Output describes a written package. Paths are relative to Dir, with '/'
// separators, so they double as object-storage keys under the asset prefix.
type Output struct {
	Dir          string
	HLSMaster    string // "master.m3u8"
	DASHManifest string // "manifest.mpd"
	Tracks       []PackagedTrack
	// Duration is the longest track's duration (DASH mediaPresentationDuration).
	Duration time.Duration
}

// PackagedTrack is one track of the package, in the order of the input.
type PackagedTrack struct {
	ID     string
	Kind   string
	Codecs string
	Width  int
	Height int
	// FrameRate is frames per second for video, 0 for audio.
	FrameRate float64
	// Bandwidth is the advertised peak bitrate (bits/s); AverageBandwidth the
	// measured mean over the whole track.
	Bandwidth        int
	AverageBandwidth int
	Language         string
	InitPath         string
	Playlist         string
	Segments         []Segment
	Duration         time.Duration
}

// Segment is one written media segment.
type Segment struct {
	Path     string
	Start    time.Duration
	Duration time.Duration
	Bytes    int
}

// Error codes. They describe the input and are never worth retrying; any other
// error Package returns (I/O, cancellation, an Encryptor's) may be.
const (
	CodeInvalidInput     = "invalid_input"
	CodeNotAligned       = "not_aligned"
	CodeUnsupportedCodec = "unsupported_codec"
)

// Error is a failure caused by the input. Match it with errors.As, or with
// errors.Is against ErrInvalidInput, ErrNotAligned or ErrUnsupportedCodec.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrInvalidInput     = &Error{Code: CodeInvalidInput}
	ErrNotAligned       = &Error{Code: CodeNotAligned}
	ErrUnsupportedCodec = &Error{Code: CodeUnsupportedCodec}
)

func inputErr(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

var trackIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func validate(tracks []Track, opt *Options) error {
	if opt.SegmentDuration == 0 {
		opt.SegmentDuration = DefaultSegmentDuration
	}
	if opt.SegmentDuration < MinSegmentDuration || opt.SegmentDuration > MaxSegmentDuration {
		return inputErr(CodeInvalidInput, "segment duration %v is outside [%v, %v]",
			opt.SegmentDuration, MinSegmentDuration, MaxSegmentDuration)
	}
	if len(tracks) == 0 {
		return inputErr(CodeInvalidInput, "no tracks")
	}
	seen := make(map[string]bool, len(tracks))
	videos := 0
	for i, t := range tracks {
		if !trackIDPattern.MatchString(t.ID) {
			return inputErr(CodeInvalidInput, "track %d: id %q must be 1-64 letters, digits, '_' or '-'", i, t.ID)
		}
		if seen[strings.ToLower(t.ID)] {
			return inputErr(CodeInvalidInput, "track %q: duplicate id", t.ID)
		}
		seen[strings.ToLower(t.ID)] = true
		switch t.Kind {
		case KindVideo:
			videos++
		case KindAudio:
		default:
			return inputErr(CodeInvalidInput, "track %q: kind %q is neither %q nor %q", t.ID, t.Kind, KindVideo, KindAudio)
		}
		if t.Path == "" {
			return inputErr(CodeInvalidInput, "track %q: no path", t.ID)
		}
		if t.Bandwidth < 0 || t.Width < 0 || t.Height < 0 {
			return inputErr(CodeInvalidInput, "track %q: negative bandwidth or size", t.ID)
		}
		if strings.ContainsAny(t.Codecs, "\"\r\n<>&") || strings.ContainsAny(t.Language, "\"\r\n<>&,") {
			return inputErr(CodeInvalidInput, "track %q: codecs or language contains a forbidden character", t.ID)
		}
	}
	if videos == 0 {
		return inputErr(CodeInvalidInput, "no video track")
	}
	return nil
}

// Package packages tracks into outDir (created, or replaced when it exists).
// Errors caused by the input are *Error; on any error nothing is left at
// outDir that was not there before.
func Package(ctx context.Context, tracks []Track, outDir string, opt Options) (Output, error) {
	if err := validate(tracks, &opt); err != nil {
		return Output{}, err
	}
	outDir = filepath.Clean(outDir)
	stage, err := newStage(outDir)
	if err != nil {
		return Output{}, err
	}
	defer stage.discard()

	results := make([]*trackResult, len(tracks))
	// Video first: every video track is cut on the grid independently, then
	// their timelines must agree; audio follows the video's segment starts.
	var videoIdx, audioIdx []int
	for i, t := range tracks {
		if t.Kind == KindVideo {
			videoIdx = append(videoIdx, i)
		} else {
			audioIdx = append(audioIdx, i)
		}
	}
	if err := runTracks(ctx, videoIdx, func(i int) error {
		r, err := packageTrack(ctx, tracks[i], stage.dir, opt, gridCutter(opt.SegmentDuration))
		results[i] = r
		return err
	}); err != nil {
		return Output{}, err
	}
	ref := results[videoIdx[0]]
	for _, i := range videoIdx[1:] {
		if err := sameTimeline(ref, results[i]); err != nil {
			return Output{}, err
		}
	}
	if err := runTracks(ctx, audioIdx, func(i int) error {
		r, err := packageTrack(ctx, tracks[i], stage.dir, opt, followCutter(ref))
		results[i] = r
		return err
	}); err != nil {
		return Output{}, err
	}

	out := Output{Dir: outDir, HLSMaster: HLSMasterName, DASHManifest: DASHManifestName}
	for _, r := range results {
		out.Tracks = append(out.Tracks, r.packaged)
		out.Duration = max(out.Duration, r.packaged.Duration)
	}
	if err := writeHLS(stage.dir, results, opt.Encryptor); err != nil {
		return Output{}, err
	}
	if err := writeDASH(stage.dir, results, opt.Encryptor); err != nil {
		return Output{}, err
	}
	if err := ctx.Err(); err != nil {
		return Output{}, err
	}
	if err := stage.publish(); err != nil {
		return Output{}, err
	}
	return out, nil
}

// runTracks runs fn for each index concurrently and returns the first error in
// index order, so which error wins does not depend on scheduling.
func runTracks(ctx context.Context, idx []int, fn func(i int) error) error {
	errs := make([]error, len(idx))
	var wg sync.WaitGroup
	for k, i := range idx {
		wg.Go(func() { errs[k] = fn(i) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return ctx.Err()
}

// stage is the hidden folder a package is built in before it is renamed to
// its final place.
type stage struct {
	dir, final string
	done       bool
}

func newStage(final string) (*stage, error) {
	parent := filepath.Dir(final)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("packager: create %s: %w", parent, err)
	}
	dir, err := os.MkdirTemp(parent, "."+filepath.Base(final)+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("packager: create staging folder: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("packager: %w", err)
	}
	return &stage{dir: dir, final: final}, nil
}

// publish renames the stage into place. An existing package at final (a
// retried job) is moved aside first and removed after, so readers see either
// the old or the new package, apart from the instant between two renames.
func (s *stage) publish() error {
	var old string
	if _, err := os.Lstat(s.final); err == nil {
		old = s.dir + ".old"
		if err := os.Rename(s.final, old); err != nil {
			return fmt.Errorf("packager: move old package aside: %w", err)
		}
	}
	if err := os.Rename(s.dir, s.final); err != nil {
		if old != "" {
			_ = os.Rename(old, s.final)
		}
		return fmt.Errorf("packager: publish: %w", err)
	}
	s.done = true
	if old != "" {
		_ = os.RemoveAll(old)
	}
	return nil
}

func (s *stage) discard() {
	if !s.done {
		_ = os.RemoveAll(s.dir)
	}
}
