package transcode

import (
	"context"
	"errors"
	"fmt"
)

// Failure codes. They are stable: they cross the queue in job results and reach
// tenants in an asset's error. The media codes are the uploader's problem and are
// never retried; the others are the machine's and are.
const (
	// CodeInvalidMedia: not media at all, unreadable, empty, or so damaged that
	// there is no decodable video stream or no duration.
	CodeInvalidMedia = "invalid_media"
	// CodeNoVideoStream: media without a picture, such as an audio-only file.
	CodeNoVideoStream = "no_video_stream"
	// CodeUnsupportedMedia: well-formed media that Marquee will not process, such
	// as an absurd picture size or a codec this ffmpeg cannot decode.
	CodeUnsupportedMedia = "unsupported_media"
	// CodeInvalidJob: the job itself is wrong (empty output folder, bad ladder);
	// a bug in the caller, so retrying cannot help.
	CodeInvalidJob = "invalid_job"
	// CodeUnavailable: a tool or resource of this node is missing or broken
	// (ffmpeg not installed, input not readable, disk full, GPU gone).
	CodeUnavailable = "unavailable"
	// CodeCanceled: the job's context was cancelled (worker shutting down).
	CodeCanceled = "canceled"
	// CodeTimeout: the job's time limit ran out.
	CodeTimeout = "timeout"
	// CodeFailed: ffmpeg failed for a reason we could not classify.
	CodeFailed = "transcode_failed"
)

// Error is how this package fails. It is data rather than a Go error chain so
// that the worker can put it in a job result as it is: {code, retryable, message}.
type Error struct {
	Code      string `json:"code"`
	Retryable bool   `json:"retryable"`
	Message   string `json:"message"`

	cause error
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "transcode: " + e.Code
	}
	return "transcode: " + e.Code + ": " + e.Message
}

// Unwrap gives the underlying cause, such as context.Canceled, where there is one.
func (e *Error) Unwrap() error { return e.cause }

// Is reports whether target is an *Error with the same Code, so that
// errors.Is(err, &transcode.Error{Code: transcode.CodeInvalidMedia}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code != "" && t.Code == e.Code
}

// Classify returns err as an *Error; an error from elsewhere becomes a retryable
// CodeFailed so that nothing reaches a job result unclassified.
func Classify(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeFailed, Retryable: true, Message: err.Error(), cause: err}
}

func mediaError(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func machineError(code string, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Retryable: true, Message: fmt.Sprintf(format, args...), cause: cause}
}

func jobError(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidJob, Message: fmt.Sprintf(format, args...)}
}

// contextError turns a finished context into CodeCanceled or CodeTimeout, or
// returns nil while the context is live.
func contextError(ctx context.Context, what string) *Error {
	switch err := ctx.Err(); {
	case err == nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded):
		return machineError(CodeTimeout, err, "%s: time limit reached", what)
	default:
		return machineError(CodeCanceled, err, "%s: canceled", what)
	}
}
