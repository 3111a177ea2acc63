package server

import (
	"context"
	"net/http"
	"time"
)

// accessLog writes one line per request: method, route pattern, status,
// duration and bytes written, with the request id. Not the path or the query:
// FHIR search parameters (name=, birthdate=, identifier=) are PHI, and so can
// be ids in paths; the route pattern ("GET /fhir/{type}/{id}") says which
// endpoint ran without saying about whom.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		route := new(string)
		r = r.WithContext(context.WithValue(r.Context(), routeKey{}, route))
		defer func() {
			// Deferred so a panic that recoverPanic re-raises
			// (http.ErrAbortHandler) is still logged.
			status := rec.status
			if status == 0 {
				status = http.StatusOK // nothing written: net/http sends 200
			}
			pattern := *route
			if pattern == "" {
				pattern = "unmatched"
			}
			s.log.InfoContext(r.Context(), "http request",
				"method", r.Method,
				"route", pattern,
				"status", status,
				"duration", time.Since(start),
				"bytes", rec.bytes,
			)
		}()
		next.ServeHTTP(rec, r)
	})
}

type routeKey struct{}

// recordRoute wraps the application's handler, normally a ServeMux, to
// report the pattern it matched (Request.Pattern, set by ServeMux on the
// request it was given) to accessLog, which holds an earlier copy of the
// request.
func recordRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p, ok := r.Context().Value(routeKey{}).(*string); ok {
				*p = r.Pattern
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// recorder remembers the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 && code >= 200 { // 1xx informational responses are not the status
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush, deadlines and hijacking.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// wroteHeader reports whether the response has started.
func (rec *recorder) wroteHeader() bool { return rec.status != 0 }
