package server

import "net/http"

// securityHeaders sets defaults for every response; a handler may replace
// them (the UI, later, sets its own Content-Security-Policy for HTML pages).
//
//   - nosniff: browsers must not guess that a JSON body quoting user input is
//     HTML or script.
//   - no-referrer: URLs carry resource ids and search parameters (PHI) that
//     must not leak to other sites.
//   - CSP and X-Frame-Options: API responses load nothing and are never
//     framed (clickjacking).
//   - no-store: responses hold PHI; shared and browser caches must not keep
//     them.
//   - HSTS when serving TLS natively.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		if s.tls != nil {
			h.Set("Strict-Transport-Security", "max-age=63072000")
		}
		next.ServeHTTP(w, r)
	})
}
