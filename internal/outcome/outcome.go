// Package outcome is Continuum's one error type.
//
// Every layer reports failures as an *Error with a Kind from a closed list and
// zero or more Issues. Exactly one place per transport turns an *Error into a
// response: REST renders it as a FHIR OperationOutcome with the status from
// Kind.HTTPStatus, the CLI prints the same OperationOutcome. Kind Private exists
// so that "you may not see this" and "this does not exist" are indistinguishable
// to the caller (both render as 404) while logs and audit still know which it
// was.
//
// OperationOutcome: https://hl7.org/fhir/R4/operationoutcome.html
// Issue type codes: https://hl7.org/fhir/R4/valueset-issue-type.html
package outcome

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// Kind classifies an error by what the caller can do about it.
type Kind uint8

// The closed list of kinds. The zero value is Internal so that an error built
// carelessly never claims to be the caller's fault.
const (
	Internal     Kind = iota // a bug or an unavailable dependency
	Invalid                  // the request or resource is malformed or breaks a rule
	NotFound                 // no such resource
	Private                  // exists, but the caller may not know that: rendered exactly like NotFound
	Gone                     // deleted
	Conflict                 // version conflict or duplicate
	Forbidden                // the caller is known and may see the resource but not do this
	Unauthorized             // no or bad credentials
	Precondition             // If-Match / conditional failed
	TooCostly                // over a size, depth, time or count limit
	NotSupported             // a valid request for something not implemented
	TooLarge                 // request body over the limit

	// Content negotiation failures. They are HTTP concepts, but a transport
	// needs them to answer a FHIR request in a format the server does not
	// speak (https://hl7.org/fhir/R4/http.html#mime-type).
	NotAcceptable        // no acceptable response format (406)
	UnsupportedMediaType // request body in a format the server does not read (415)
)

var kindNames = [...]string{
	Internal:     "internal",
	Invalid:      "invalid",
	NotFound:     "not-found",
	Private:      "private",
	Gone:         "gone",
	Conflict:     "conflict",
	Forbidden:    "forbidden",
	Unauthorized: "unauthorized",
	Precondition: "precondition",
	TooCostly:    "too-costly",
	NotSupported: "not-supported",
	TooLarge:     "too-large",

	NotAcceptable:        "not-acceptable",
	UnsupportedMediaType: "unsupported-media-type",
}

// String returns the stable name of the kind, used in logs.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// HTTPStatus is the status a REST response carries for this kind.
// Private answers 404 so existence does not leak.
func (k Kind) HTTPStatus() int {
	switch k {
	case Invalid:
		return http.StatusBadRequest
	case NotFound, Private:
		return http.StatusNotFound
	case Gone:
		return http.StatusGone
	case Conflict:
		return http.StatusConflict
	case Forbidden:
		return http.StatusForbidden
	case Unauthorized:
		return http.StatusUnauthorized
	case Precondition:
		return http.StatusPreconditionFailed
	case TooCostly:
		return http.StatusUnprocessableEntity
	case NotSupported:
		return http.StatusNotImplemented
	case TooLarge:
		return http.StatusRequestEntityTooLarge
	case NotAcceptable:
		return http.StatusNotAcceptable
	case UnsupportedMediaType:
		return http.StatusUnsupportedMediaType
	}
	return http.StatusInternalServerError
}

// defaultCode is the issue type code used when an error of this kind is
// built without issues.
func (k Kind) defaultCode() string {
	switch k {
	case Invalid:
		return "invalid"
	case NotFound, Private, Gone:
		return "not-found"
	case Conflict:
		return "conflict"
	case Forbidden, Unauthorized:
		return "security"
	case Precondition:
		return "conflict"
	case TooCostly:
		return "too-costly"
	case NotSupported, NotAcceptable, UnsupportedMediaType:
		return "not-supported"
	case TooLarge:
		return "too-long"
	}
	return "exception"
}

// Severity values of OperationOutcome.issue.severity.
const (
	SevFatal   = "fatal"
	SevError   = "error"
	SevWarning = "warning"
	SevInfo    = "information"
)

// Issue is one OperationOutcome.issue.
type Issue struct {
	Severity    string   // fatal | error | warning | information
	Code        string   // an issue-type code: structure, required, value, invariant, …
	Diagnostics string   // human-readable, never PHI
	Expression  []string // FHIRPath locations, e.g. Patient.name[0].given[1]
}

// IsError reports whether the issue makes the input unacceptable.
func (i Issue) IsError() bool { return i.Severity == SevFatal || i.Severity == SevError }

// Error is the error type of Continuum.
type Error struct {
	Kind   Kind
	Issues []Issue
	Err    error // underlying cause, for logs only; never rendered to clients
}

// New returns an error of kind k with one error-severity issue.
func New(k Kind, code, diagnostics string, expression ...string) *Error {
	return &Error{Kind: k, Issues: []Issue{{Severity: SevError, Code: code, Diagnostics: diagnostics, Expression: expression}}}
}

// Errorf returns an error of kind k with the kind's default issue code.
func Errorf(k Kind, format string, args ...any) *Error {
	return New(k, k.defaultCode(), fmt.Sprintf(format, args...))
}

// Wrap returns an Internal error that keeps err for logs and tells the client
// only that something went wrong.
func Wrap(err error, what string) *Error {
	return &Error{Kind: Internal, Err: err, Issues: []Issue{{Severity: SevError, Code: "exception", Diagnostics: what}}}
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.String())
	for i, is := range e.Issues {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		if len(is.Expression) > 0 {
			b.WriteString(strings.Join(is.Expression, ","))
			b.WriteString(": ")
		}
		b.WriteString(is.Diagnostics)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// As returns err as an *Error, wrapping anything else as Internal.
func As(err error) *Error {
	if err == nil {
		return nil
	}
	var oe *Error
	if errors.As(err, &oe) {
		return oe
	}
	return Wrap(err, "internal error")
}

// HasErrors reports whether any issue is an error or fatal.
func HasErrors(issues []Issue) bool {
	for _, is := range issues {
		if is.IsError() {
			return true
		}
	}
	return false
}

// OperationOutcome renders issues as an OperationOutcome resource (JSON).
// An empty list renders the "all OK" form the spec asks for: one information
// issue.
func OperationOutcome(issues []Issue) []byte {
	if len(issues) == 0 {
		issues = []Issue{{Severity: SevInfo, Code: "informational", Diagnostics: "All OK"}}
	}
	var buf bytes.Buffer
	enc := jsontext.NewEncoder(&buf, jsontext.WithIndentPrefix(""), jsontext.WithIndent("  "))
	w := func(t jsontext.Token) { _ = enc.WriteToken(t) }
	str := func(s string) { w(jsontext.String(s)) }
	w(jsontext.BeginObject)
	str("resourceType")
	str("OperationOutcome")
	str("issue")
	w(jsontext.BeginArray)
	for _, is := range issues {
		w(jsontext.BeginObject)
		str("severity")
		str(is.Severity)
		str("code")
		str(is.Code)
		if is.Diagnostics != "" {
			str("diagnostics")
			str(is.Diagnostics)
		}
		if len(is.Expression) > 0 {
			str("expression")
			w(jsontext.BeginArray)
			for _, x := range is.Expression {
				str(x)
			}
			w(jsontext.EndArray)
		}
		w(jsontext.EndObject)
	}
	w(jsontext.EndArray)
	w(jsontext.EndObject)
	return buf.Bytes()
}

// OperationOutcome renders the error. Internal errors never expose Err.
func (e *Error) OperationOutcome() []byte {
	if len(e.Issues) == 0 {
		return OperationOutcome([]Issue{{Severity: SevError, Code: e.Kind.defaultCode(), Diagnostics: e.Kind.String()}})
	}
	return OperationOutcome(e.Issues)
}
