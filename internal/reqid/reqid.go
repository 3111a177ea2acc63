// Package reqid carries a request's id through a context.Context and into
// every log line written with that context.
//
// The id is chosen once per request by the HTTP server (or by any other
// entry point, such as an MLLP connection later), returned to the caller in
// the X-Request-Id header and logged as request_id by Handler, so that an
// operator can find every line of one request and a caller can quote the id
// in a support ticket. Ids never carry PHI: they are random or a sane id the
// caller sent.
package reqid

import (
	"context"
	"crypto/rand"
	"log/slog"
)

type ctxKey struct{}

// MaxLen is the longest id accepted from a caller. 64 is also the limit of a
// FHIR id (https://hl7.org/fhir/R4/datatypes.html#id), so an id can be used
// wherever FHIR expects one.
const MaxLen = 64

// New returns a fresh random id (26 characters of base32, 128 bits).
func New() string { return rand.Text() }

// Valid reports whether s is acceptable as a caller-supplied id: 1 to 64
// characters of [A-Za-z0-9.-], the FHIR id alphabet. Anything else (log
// injection, very long values) is replaced by a generated id.
func Valid(s string) bool {
	if len(s) == 0 || len(s) > MaxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}

// With returns a context carrying id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// From returns the id carried by ctx, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// Handler wraps h so that every record logged with a context carrying an id
// gets a request_id attribute. Code logs with the *Context methods
// (InfoContext, ErrorContext, …) and the request's context to benefit.
func Handler(h slog.Handler) slog.Handler { return handler{h} }

type handler struct{ slog.Handler }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	if id := From(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h handler) WithAttrs(as []slog.Attr) slog.Handler { return handler{h.Handler.WithAttrs(as)} }
func (h handler) WithGroup(name string) slog.Handler    { return handler{h.Handler.WithGroup(name)} }
