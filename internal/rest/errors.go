package rest

import (
	"net/http"

	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/reqid"
)

// WriteError is the one function that turns an error into a response: an
// OperationOutcome with the status of the error's kind
// (outcome.Kind.HTTPStatus; Private answers 404 like NotFound). The server
// uses it too, for panics and oversized bodies.
//
// Internal errors are logged with their cause and the request id; the client
// sees only that something failed and the id to quote. Other errors are the
// caller's and are logged at debug level without their diagnostics, which
// may quote the request's content (PHI).
func (a *API) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	oe := outcome.As(err)
	status := oe.Kind.HTTPStatus()
	if oe.Kind == outcome.Internal {
		a.log.ErrorContext(ctx, "request failed", "kind", oe.Kind.String(), "status", status, "err", err)
		id := reqid.From(ctx)
		in := oe.Issues
		if len(in) == 0 {
			in = []outcome.Issue{{Severity: outcome.SevError, Code: "exception", Diagnostics: "internal error"}}
		}
		issues := make([]outcome.Issue, 0, len(in))
		for _, is := range in {
			if id != "" {
				is.Diagnostics += " (request id " + id + ")"
			}
			issues = append(issues, is)
		}
		oe = &outcome.Error{Kind: oe.Kind, Issues: issues}
	} else {
		a.log.DebugContext(ctx, "request refused", "kind", oe.Kind.String(), "status", status)
	}
	writeFHIR(w, status, oe.OperationOutcome())
}

// ContentType is the media type of every FHIR response
// (https://hl7.org/fhir/R4/http.html#mime-type).
const ContentType = "application/fhir+json; charset=utf-8"

// writeFHIR writes a FHIR JSON resource.
func writeFHIR(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Del("Content-Length") // set by an earlier writer, e.g. a failed handler
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
