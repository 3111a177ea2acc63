package server

import (
	"fmt"
	"net/http"
	"runtime/debug"

	"github.com/continuum-ehr/continuum/internal/outcome"
)

// recoverPanic turns a panicking handler into a 500 for that request alone.
// The stack goes to the log, with the request id; the client gets an
// OperationOutcome with the id and nothing of the stack.
func (s *Server) recoverPanic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p) // net/http's way to abort a response silently
			}
			s.log.ErrorContext(r.Context(), "panic serving request", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if rec, ok := w.(*recorder); ok && rec.wroteHeader() {
				// Too late for an error response: abort so the client sees a
				// broken response rather than a truncated "success".
				panic(http.ErrAbortHandler)
			}
			s.opts.ErrorWriter(w, r, &outcome.Error{
				Kind: outcome.Internal,
				Err:  fmt.Errorf("panic: %v", p),
				Issues: []outcome.Issue{{Severity: outcome.SevError, Code: "exception",
					Diagnostics: "internal error"}},
			})
		}()
		next.ServeHTTP(w, r)
	})
}
