package rest

import "net/http"

// routes is the URL space of the API. The FHIR base is /fhir
// (architecture.md §6).
func (a *API) routes() *http.ServeMux {
	mux := http.NewServeMux()

	// Operations: is the process ready for traffic.
	mux.Handle("GET /healthz", a.plain(a.healthz))

	// Capabilities: https://hl7.org/fhir/R4/http.html#capabilities
	// Public, like discovery under /fhir/.well-known/ (a.public); everything
	// else under /fhir needs a principal (a.fhir, auth.go).
	mux.Handle("GET /fhir/metadata", a.public(a.capabilities))

	// Resource interactions: https://hl7.org/fhir/R4/http.html
	// POST [base]/[type] (create) shares its pattern with the system
	// operations: dispatch sends names without '$' to create.
	if a.opts.Interactions != nil {
		// Real clients post Bundles to the base with and without a
		// trailing slash.
		mux.Handle("POST /fhir", a.fhir(a.bundle))
		mux.Handle("POST /fhir/{$}", a.fhir(a.bundle))
		mux.Handle("GET /fhir/_history", a.fhir(a.history))
		mux.Handle("GET /fhir/{type}/_history", a.fhir(a.history))
		mux.Handle("GET /fhir/{type}/{id}", a.fhir(a.read))
		mux.Handle("PUT /fhir/{type}", a.fhir(a.conditionalUpdate))
		mux.Handle("DELETE /fhir/{type}", a.fhir(a.conditionalDelete))
		mux.Handle("PUT /fhir/{type}/{id}", a.fhir(a.update))
		mux.Handle("PATCH /fhir/{type}/{id}", a.fhir(a.patch))
		mux.Handle("DELETE /fhir/{type}/{id}", a.fhir(a.delete))
		mux.Handle("GET /fhir/{type}/{id}/_history", a.fhir(a.history))
		mux.Handle("GET /fhir/{type}/{id}/_history/{vid}", a.fhir(a.vread))

		// Search: https://hl7.org/fhir/R4/http.html#search. The
		// compartment pattern is the only three-segment GET besides
		// instance history, which is more specific and wins.
		mux.Handle("GET /fhir/{type}", a.fhir(a.searchType))
		mux.Handle("POST /fhir/{type}/_search", a.fhir(a.searchType))
		mux.Handle("GET /fhir", a.fhir(a.searchSystem))
		mux.Handle("GET /fhir/{$}", a.fhir(a.searchSystem))
		mux.Handle("POST /fhir/_search", a.fhir(a.searchSystem))
		mux.Handle("GET /fhir/{ctype}/{cid}/{type}", a.fhir(a.searchCompartment))
		// The audit trail, for administrators: it is not clinical data and
		// lives outside the resource store (auditevent.go).
		// GET /fhir/AuditEvent/{id} is the read route's (resources.go).
		mux.Handle("GET /fhir/AuditEvent", a.fhir(a.auditSearch))
		// Who accessed a patient's record, for the patient and administrators.
		mux.Handle("GET /fhir/Patient/{id}/$access-report", a.fhir(a.accessReport))
	}

	// Operations: https://hl7.org/fhir/R4/operations.html#executing
	// ServeMux cannot hold "POST /fhir/{type}" (create, later) beside
	// "POST /fhir/{op}": both are one wildcard segment and registration
	// panics. So each level has one pattern, and names starting with '$'
	// dispatch to the operation tables below.
	system := map[string]handlerFunc{
		"$validate": a.validate, // https://hl7.org/fhir/R4/resource-operation-validate.html
	}
	typed := map[string]handlerFunc{
		"$validate": a.validate,
	}
	mux.Handle("POST /fhir/{name}", a.fhir(a.dispatch(system)))
	mux.Handle("POST /fhir/{type}/{name}", a.fhir(a.dispatch(typed)))

	// Everything else under the FHIR base answers with an OperationOutcome.
	// Unknown discovery documents answer 404 to anyone (a.fhir); any other
	// unknown path 401 before 404, so the URL space is not probed
	// anonymously.
	mux.Handle("/fhir/", a.fhir(a.notFound))
	mux.Handle("/fhir", a.fhir(a.notFound))

	return mux
}
