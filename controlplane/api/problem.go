package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/marquee-video/marquee/internal/errs"
)

// Problem is an RFC 9457 problem document with Marquee's stable code.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Code      string `json:"code"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

const problemTypeBase = "https://docs.marquee.video/errors/"

// errorHandler is fiber's one place where errors become responses: domain
// errors by kind, fiber's own (404 route, 405, 413) by status, anything else
// a logged 500 whose cause never reaches the client.
func errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		var p Problem
		var fe *fiber.Error
		switch e := errs.As(err); {
		case e != nil:
			p = Problem{Status: e.Kind.Status(), Code: e.Code, Detail: e.Message, Field: e.Field}
			if e.Kind == errs.Internal || e.Kind == errs.Unavailable {
				log.ErrorContext(c.UserContext(), "request failed", "request_id", requestID(c), "code", e.Code, "err", err)
			}
		case errors.As(err, &fe):
			p = fiberProblem(fe)
		default:
			log.ErrorContext(c.UserContext(), "request failed", "request_id", requestID(c), "method", c.Method(), "path", c.Path(), "err", err)
			p = Problem{Status: http.StatusInternalServerError, Code: "internal", Detail: "something went wrong on our side; quote the request id if you contact support"}
		}
		p.Title = http.StatusText(p.Status)
		p.Type = problemTypeBase + p.Code
		p.RequestID = requestID(c)
		return writeProblem(c, p)
	}
}

func writeProblem(c *fiber.Ctx, p Problem) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	c.Status(p.Status)
	c.Set(fiber.HeaderContentType, "application/problem+json")
	return c.Send(b)
}

func fiberProblem(fe *fiber.Error) Problem {
	switch fe.Code {
	case fiber.StatusNotFound:
		return Problem{Status: fe.Code, Code: "not_found", Detail: "no such route"}
	case fiber.StatusMethodNotAllowed:
		return Problem{Status: fe.Code, Code: "method_not_allowed", Detail: "this route does not take that method"}
	case fiber.StatusRequestEntityTooLarge:
		return Problem{Status: fe.Code, Code: "payload_too_large", Detail: "request bodies are limited to 1 MiB"}
	case fiber.StatusRequestHeaderFieldsTooLarge:
		return Problem{Status: fe.Code, Code: "headers_too_large", Detail: "request headers are too large"}
	}
	if fe.Code >= 400 && fe.Code < 500 {
		return Problem{Status: fe.Code, Code: "invalid_request", Detail: fe.Message}
	}
	return Problem{Status: http.StatusInternalServerError, Code: "internal", Detail: "something went wrong on our side"}
}

// decode reads a JSON request body into v strictly: the content type must be
// JSON, unknown fields and trailing data are refused, and type mismatches
// name the field.
func decode(c *fiber.Ctx, v any) error {
	ct := c.Get(fiber.HeaderContentType)
	if mt, _, err := mime.ParseMediaType(ct); ct != "" && (err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json"))) {
		return errs.E(errs.Invalid, "unsupported_media_type", "send the body as application/json")
	}
	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return errs.E(errs.Invalid, "invalid_json", "a JSON request body is required")
	}
	return decodeJSON(body, v)
}

func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return errs.E(errs.Invalid, "invalid_json", "malformed JSON at byte %d", se.Offset)
		case errors.As(err, &te):
			e := errs.E(errs.Invalid, "invalid_request", "%s must be %s, not %s", fieldName(te), jsonType(te.Type.Kind().String()), te.Value)
			e.Field = fieldName(te)
			return e
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			e := errs.E(errs.Invalid, "unknown_field", "unknown field %q", f)
			e.Field = f
			return e
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return errs.E(errs.Invalid, "invalid_json", "the JSON body ends too early")
		default:
			return errs.Wrap(errs.Invalid, "invalid_json", err, "the body is not valid JSON for this request")
		}
	}
	if dec.More() {
		return errs.E(errs.Invalid, "invalid_json", "unexpected data after the JSON body")
	}
	return nil
}

func fieldName(te *json.UnmarshalTypeError) string {
	if te.Field == "" {
		return "body"
	}
	return te.Field
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "a number"
	case "bool":
		return "a boolean"
	case "struct", "map":
		return "an object"
	case "slice":
		return "an array"
	case "ptr":
		return "a value of another type"
	}
	return fmt.Sprintf("a %s", kind)
}
