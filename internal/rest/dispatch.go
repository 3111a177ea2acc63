package rest

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/continuum-ehr/continuum/internal/outcome"
)

// dispatch routes POST [base]/$name and POST [base]/[type]/$name to the
// operation called name in ops, and POST [base]/[type] to create.
func (a *API) dispatch(ops map[string]handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		name := r.PathValue("name")
		if !strings.HasPrefix(name, "$") {
			if r.PathValue("type") == "" && a.opts.Interactions != nil {
				return a.create(w, r) // POST [base]/[type]
			}
			return a.notFound(w, r)
		}
		if typ := r.PathValue("type"); typ != "" {
			if t := a.opts.Spec.Resource(typ); t == nil || t.Abstract {
				return outcome.New(outcome.NotFound, "not-found", fmt.Sprintf("unknown resource type %q", typ))
			}
		}
		h, ok := ops[name]
		if !ok {
			return outcome.New(outcome.NotFound, "not-supported", fmt.Sprintf("operation %s is not supported here", name))
		}
		return h(w, r)
	}
}
