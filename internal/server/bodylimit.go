package server

import (
	"fmt"
	"net/http"

	"github.com/continuum-ehr/continuum/internal/outcome"
)

// limitBody bounds request bodies to MaxBodyBytes. A declared
// Content-Length over the limit is refused before reading anything; a body
// that turns out longer fails on read with *http.MaxBytesError, which the
// handler reports as 413 (rest.readBody).
func (s *Server) limitBody(next http.Handler) http.Handler {
	limit := s.opts.MaxBodyBytes
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			s.opts.ErrorWriter(w, r, outcome.New(outcome.TooLarge, "too-long",
				fmt.Sprintf("request body of %d bytes is larger than the limit of %d bytes", r.ContentLength, limit)))
			return
		}
		r2 := *r
		r2.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, &r2)
	})
}
