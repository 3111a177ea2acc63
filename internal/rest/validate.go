package rest

import (
	"net/http"

	"github.com/continuum-ehr/continuum/internal/operation"
	"github.com/continuum-ehr/continuum/internal/outcome"
)

// validate is POST [base]/$validate and POST [base]/[type]/$validate
// (https://hl7.org/fhir/R4/resource-operation-validate.html). The body is
// the resource, or a Parameters with the resource in its "resource"
// parameter. The answer is the OperationOutcome: 200 when it holds no error,
// 400 when the resource is invalid (the operation itself succeeded, but
// clients and the checks built on this server rely on the status).
func (a *API) validate(w http.ResponseWriter, r *http.Request) error {
	if err := checkBody(r); err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	issues := a.opts.Validate.Run(r.Context(), operation.ValidateInput{
		Body:       body,
		Type:       r.PathValue("type"),
		Parameters: true,
	})
	status := http.StatusOK
	if outcome.HasErrors(issues) {
		status = http.StatusBadRequest
	}
	writeFHIR(w, status, outcome.OperationOutcome(issues))
	return nil
}
