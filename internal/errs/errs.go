// Package errs defines the few kinds of error Marquee's domains return and the
// stable codes clients see. Stores translate driver errors into these kinds,
// services add domain codes, and one HTTP error handler turns them into
// application/problem+json. Nothing else maps errors to status codes.
package errs

import (
	"errors"
	"fmt"
	"net/http"
)

// Kind is the class of an error: what the caller should do about it.
type Kind int

// The kinds. Internal is the zero value so that an unclassified error is never
// mistaken for the caller's fault.
const (
	Internal Kind = iota
	Invalid
	Unauthenticated
	Forbidden
	NotFound
	Conflict
	QuotaExceeded
	RateLimited
	Unavailable
	TooLarge
)

// Status is the HTTP status for the kind.
func (k Kind) Status() int {
	switch k {
	case Invalid:
		return http.StatusBadRequest
	case Unauthenticated:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case QuotaExceeded:
		return http.StatusForbidden
	case RateLimited:
		return http.StatusTooManyRequests
	case Unavailable:
		return http.StatusServiceUnavailable
	case TooLarge:
		return http.StatusRequestEntityTooLarge
	default:
		return http.StatusInternalServerError
	}
}

// DefaultCode is the code used when an error of the kind carries none.
func (k Kind) DefaultCode() string {
	switch k {
	case Invalid:
		return "invalid_request"
	case Unauthenticated:
		return "unauthenticated"
	case Forbidden:
		return "forbidden"
	case NotFound:
		return "not_found"
	case Conflict:
		return "conflict"
	case QuotaExceeded:
		return "quota_exceeded"
	case RateLimited:
		return "rate_limited"
	case Unavailable:
		return "unavailable"
	case TooLarge:
		return "payload_too_large"
	default:
		return "internal"
	}
}

// Error is a classified error with a stable code and a message safe to show
// to the caller. Field names the offending input field, if any. Err is the
// cause, logged but never shown.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Field   string
	Err     error
}

func (e *Error) Error() string {
	msg := e.Code
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an error of kind k with code and a formatted message. An empty code
// takes the kind's default.
func E(k Kind, code, format string, args ...any) *Error {
	if code == "" {
		code = k.DefaultCode()
	}
	return &Error{Kind: k, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Field builds an Invalid error about one input field.
func Field(field, format string, args ...any) *Error {
	e := E(Invalid, "invalid_request", format, args...)
	e.Field = field
	return e
}

// Wrap classifies cause as kind k with code, keeping it for the logs.
func Wrap(k Kind, code string, cause error, format string, args ...any) *Error {
	e := E(k, code, format, args...)
	e.Err = cause
	return e
}

// NotFoundf is the common not-found error; it never says whether the thing
// exists for somebody else.
func NotFoundf(format string, args ...any) *Error {
	return E(NotFound, "not_found", format, args...)
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// KindOf is the kind of err; Internal for unclassified errors.
func KindOf(err error) Kind {
	if e := As(err); e != nil {
		return e.Kind
	}
	return Internal
}

// CodeOf is the stable code of err; "internal" for unclassified errors.
func CodeOf(err error) string {
	if e := As(err); e != nil {
		return e.Code
	}
	return Internal.DefaultCode()
}

// Is reports whether err is classified with the given kind.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }
