package rest

import (
	"net/http"
)

// healthz answers 200 "ok" when the server can take traffic, for load
// balancers and orchestrators (architecture.md §6).
func (a *API) healthz(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	if a.opts.Ready != nil {
		if err := a.opts.Ready(r.Context()); err != nil {
			a.log.WarnContext(r.Context(), "not ready", "err", err)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready"))
			return nil
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok"))
	return nil
}
