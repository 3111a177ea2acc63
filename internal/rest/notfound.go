package rest

import (
	"net/http"

	"github.com/continuum-ehr/continuum/internal/outcome"
)

// notFound answers requests under /fhir that match no route.
func (a *API) notFound(w http.ResponseWriter, r *http.Request) error {
	return outcome.New(outcome.NotFound, "not-found", "no FHIR endpoint for "+r.Method+" "+r.URL.Path)
}
