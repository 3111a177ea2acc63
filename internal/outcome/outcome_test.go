package outcome_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/continuum-ehr/continuum/internal/outcome"
)

func TestKindStatus(t *testing.T) {
	cases := []struct {
		kind outcome.Kind
		want int
	}{
		{outcome.Internal, http.StatusInternalServerError},
		{outcome.Invalid, http.StatusBadRequest},
		{outcome.NotFound, http.StatusNotFound},
		// Existence must not leak: private answers exactly like not found.
		{outcome.Private, http.StatusNotFound},
		{outcome.Gone, http.StatusGone},
		{outcome.Conflict, http.StatusConflict},
		{outcome.Forbidden, http.StatusForbidden},
		{outcome.Unauthorized, http.StatusUnauthorized},
		{outcome.Precondition, http.StatusPreconditionFailed},
		{outcome.TooCostly, http.StatusUnprocessableEntity},
		{outcome.NotSupported, http.StatusNotImplemented},
		{outcome.TooLarge, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range cases {
		if got := tc.kind.HTTPStatus(); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.kind, got, tc.want)
		}
	}
}

func TestPrivateRendersLikeNotFound(t *testing.T) {
	priv := outcome.Errorf(outcome.Private, "Patient/1 is not visible")
	missing := outcome.Errorf(outcome.NotFound, "Patient/1 is not visible")
	if string(priv.OperationOutcome()) != string(missing.OperationOutcome()) {
		t.Errorf("private and not-found render differently:\n%s\n%s", priv.OperationOutcome(), missing.OperationOutcome())
	}
}

func TestOperationOutcome(t *testing.T) {
	b := outcome.OperationOutcome([]outcome.Issue{{Severity: outcome.SevError, Code: "required",
		Diagnostics: `missing "status"`, Expression: []string{"Observation.status"}}})
	var oo struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Severity, Code, Diagnostics string
			Expression                  []string
		} `json:"issue"`
	}
	if err := json.Unmarshal(b, &oo); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if oo.ResourceType != "OperationOutcome" || len(oo.Issue) != 1 || oo.Issue[0].Code != "required" ||
		oo.Issue[0].Expression[0] != "Observation.status" || oo.Issue[0].Diagnostics != `missing "status"` {
		t.Errorf("unexpected rendering %s", b)
	}
	// No issues: the "all OK" form with one information issue.
	if err := json.Unmarshal(outcome.OperationOutcome(nil), &oo); err != nil || len(oo.Issue) != 1 || oo.Issue[0].Severity != "information" {
		t.Errorf("empty outcome: %+v %v", oo, err)
	}
}

func TestInternalErrorsHideTheirCause(t *testing.T) {
	cause := errors.New("pq: password authentication failed for user secret")
	err := outcome.Wrap(cause, "storage unavailable")
	if got := string(err.OperationOutcome()); contains(got, "secret") {
		t.Errorf("cause leaked to the client: %s", got)
	}
	if !errors.Is(err, cause) {
		t.Error("the cause is not kept for logs")
	}
	wrapped := fmt.Errorf("reading: %w", outcome.New(outcome.Gone, "deleted", "Patient/1 was deleted"))
	if got := outcome.As(wrapped); got.Kind != outcome.Gone {
		t.Errorf("As lost the kind: %v", got)
	}
	if got := outcome.As(errors.New("boom")); got.Kind != outcome.Internal {
		t.Errorf("a plain error should be internal, got %v", got.Kind)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
