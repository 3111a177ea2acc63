package server

import (
	"net/http"

	"github.com/continuum-ehr/continuum/internal/reqid"
)

// RequestIDHeader carries the request id in both directions.
const RequestIDHeader = "X-Request-Id"

// requestID gives every request an id: the caller's X-Request-Id when it is
// sane (reqid.Valid: a proxy or client correlating its own logs), otherwise
// a random one. It is echoed in the response and carried by the context
// into every log line (reqid.Handler).
func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !reqid.Valid(id) {
			id = reqid.New()
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(reqid.With(r.Context(), id)))
	})
}
