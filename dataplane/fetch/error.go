package fetch

// The codes an ingest job reports when a fetch fails. They cross the queue
// as data ({code, retryable, message}), so they never change meaning.
const (
	// CodeInvalidURL: not an absolute http(s) URL, or one with credentials.
	CodeInvalidURL = "invalid_url"
	// CodeForbiddenAddress: the host is, or resolves to, an address ingest
	// may not reach (loopback, private, link-local, …).
	CodeForbiddenAddress = "forbidden_address"
	// CodeTooLarge: the source is over Config.MaxBytes.
	CodeTooLarge = "too_large"
	// CodeHTTPStatus: the server answered with a non-2xx status.
	CodeHTTPStatus = "http_status"
	// CodeTooManyRedirects: more than MaxRedirects redirects.
	CodeTooManyRedirects = "too_many_redirects"
	// CodeUnreachable: DNS, connection, TLS or timeout failure.
	CodeUnreachable = "unreachable"
)

// Error is a fetch failure. Message is safe to show to the tenant: it never
// names a resolved address, so ingest cannot be used to map the internal
// network. Err is the cause, for the logs.
type Error struct {
	Code      string
	Retryable bool
	Message   string
	Err       error
}

func (e *Error) Error() string {
	msg := "fetch: " + e.Code + ": " + e.Message
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

func fail(code string, retryable bool, cause error, msg string) *Error {
	return &Error{Code: code, Retryable: retryable, Message: msg, Err: cause}
}
