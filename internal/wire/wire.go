// Package wire is the contract between Marquee's planes: the asynq task
// types and payloads the control plane enqueues, and the messages data-plane
// workers send back through the control plane's internal API. It is the only
// package both planes import; it holds data, no behaviour beyond validation.
package wire

import (
	"errors"
	"fmt"
	"time"
)

// Task types.
const (
	// TaskTranscode turns an asset's source into a packaged, multi-bitrate
	// rendition set.
	TaskTranscode = "media:transcode"
)

// Queues. GPU queues are consumed only by nodes that registered a GPU;
// every node consumes the CPU queue.
const (
	QueueCPU = "media-cpu"
	QueueGPU = "media-gpu"
)

// Rung is one rendition of a ladder.
type Rung struct {
	Name         string `json:"name"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	VideoBitrate int    `json:"video_bitrate"`
	Codec        string `json:"codec"` // h264, hevc or av1
}

// TranscodeTask is the payload of TaskTranscode. The task id is the job id,
// so enqueueing the same job twice is harmless.
type TranscodeTask struct {
	JobID    string `json:"job_id"`
	TenantID string `json:"tenant_id"`
	AssetID  string `json:"asset_id"`
	// SourceKey is the uploaded source in object storage; SourceURL a
	// remote source to fetch (SSRF rules apply on the worker).
	SourceKey      string `json:"source_key,omitempty"`
	SourceURL      string `json:"source_url,omitempty"`
	Ladder         []Rung `json:"ladder"`
	SegmentSeconds int    `json:"segment_seconds"`
	// OutputPrefix is where the packaged asset goes, under the tenant's
	// prefix. A worker writes into a per-attempt staging prefix and the
	// control plane publishes only a completed attempt.
	OutputPrefix string `json:"output_prefix"`
	// TimeLimit bounds the whole job on the worker.
	TimeLimit time.Duration `json:"time_limit"`
	// Protected packages encrypted, with the content key the worker gets
	// from the control plane's internal API.
	Protected bool `json:"protected,omitempty"`
}

// Validate checks a payload before it is enqueued or run.
func (t TranscodeTask) Validate() error {
	switch {
	case t.JobID == "" || t.TenantID == "" || t.AssetID == "":
		return errors.New("wire: transcode task needs job, tenant and asset ids")
	case (t.SourceKey == "") == (t.SourceURL == ""):
		return errors.New("wire: transcode task needs exactly one of source_key and source_url")
	case len(t.Ladder) == 0:
		return errors.New("wire: transcode task needs a ladder")
	case t.SegmentSeconds < 1 || t.SegmentSeconds > 10:
		return fmt.Errorf("wire: segment duration %d s out of range", t.SegmentSeconds)
	case t.OutputPrefix == "":
		return errors.New("wire: transcode task needs an output prefix")
	}
	return nil
}

// JobError is a failure that crosses the queue as data: the control plane
// stores it on the asset, and Retryable says whether trying again can help.
type JobError struct {
	Code      string `json:"code"`
	Retryable bool   `json:"retryable"`
	Message   string `json:"message"`
}

func (e *JobError) Error() string { return e.Code + ": " + e.Message }

// Rendition is one packaged video rendition.
type Rendition struct {
	Name    string `json:"name"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	Bitrate int    `json:"bitrate"`
	Codec   string `json:"codec"`
}

// UsageEvent is metered consumption with an id that makes counting it
// exactly-once.
type UsageEvent struct {
	ID         string            `json:"id"`
	Meter      string            `json:"meter"`
	Quantity   float64           `json:"quantity"`
	Dimensions map[string]string `json:"dimensions,omitempty"`
	At         time.Time         `json:"at"`
}

// JobResult is what a worker reports when a job ends.
type JobResult struct {
	JobID      string        `json:"job_id"`
	Attempt    string        `json:"attempt"`
	Error      *JobError     `json:"error,omitempty"`
	Duration   float64       `json:"duration,omitempty"`
	Renditions []Rendition   `json:"renditions,omitempty"`
	Audio      bool          `json:"audio,omitempty"`
	StagingKey string        `json:"staging_key,omitempty"` // the attempt's output prefix
	Usage      []UsageEvent  `json:"usage,omitempty"`
	Elapsed    time.Duration `json:"elapsed"`
}

// JobProgress reports a running job's progress, 0–100.
type JobProgress struct {
	JobID   string  `json:"job_id"`
	Attempt string  `json:"attempt"`
	Percent float64 `json:"percent"`
}

// NodeRegistration is what a worker node says about itself.
type NodeRegistration struct {
	Name     string   `json:"name"`
	Cores    int      `json:"cores"`
	GPU      string   `json:"gpu,omitempty"`
	Encoders []string `json:"encoders"`
	HWAccels []string `json:"hwaccels"`
	Queues   []string `json:"queues"`
	Capacity int      `json:"capacity"`
}

// NodeHeartbeat is a node's periodic report.
type NodeHeartbeat struct {
	Running  int  `json:"running"`
	Draining bool `json:"draining"`
}

// IndexName is the package index a worker writes at the root of an asset's
// package: what the manifest service renders personalised manifests from.
const IndexName = "index.json"

// Package variants: where each copy of the package sits under the asset's
// prefix. A clear asset has one clear copy at the root; a protected one a
// cenc copy (DASH, ClearKey, Widevine, PlayReady) and a cbcs copy (HLS,
// FairPlay, and Widevine/PlayReady on newer devices), and no clear one.
const (
	VariantClear = "clear"
	VariantCENC  = "cenc"
	VariantCBCS  = "cbcs"
)

// VariantDir is the folder of a variant under the asset's prefix, "" for
// the clear root.
func VariantDir(v string) string {
	if v == VariantClear {
		return ""
	}
	return v + "/"
}

// PackageIndex describes a packaged asset.
type PackageIndex struct {
	Version  int            `json:"version"`
	Duration float64        `json:"duration"`
	Variants []string       `json:"variants"`
	Tracks   []IndexedTrack `json:"tracks"`
	// KIDs are the content key ids of a protected package (hex).
	KIDs []string `json:"kids,omitempty"`
}

// IndexedTrack is one packaged track. Playlist and Init are relative to the
// variant's folder.
type IndexedTrack struct {
	ID               string  `json:"id"`
	Kind             string  `json:"kind"`
	Codecs           string  `json:"codecs"`
	Width            int     `json:"width,omitempty"`
	Height           int     `json:"height,omitempty"`
	FrameRate        float64 `json:"frame_rate,omitempty"`
	Bandwidth        int     `json:"bandwidth"`
	AverageBandwidth int     `json:"average_bandwidth"`
	Language         string  `json:"language,omitempty"`
	Playlist         string  `json:"playlist"`
}

// ContentKeyGrant is a protected job's content key, handed to the worker
// that packages it over the internal API (never through the queue).
type ContentKeyGrant struct {
	KID string `json:"kid"` // 32 hex digits
	Key string `json:"key"` // 32 hex digits
	// LicenseURL is the Clear Key license URL marker the manifest service
	// replaces with the viewer's tokenized license URL.
	LicenseURL string `json:"license_url"`
	// Systems are the DRM systems to signal besides ClearKey.
	Systems []string `json:"systems"`
}
