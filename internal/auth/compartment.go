package auth

import (
	"slices"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
)

// The Patient compartment of R4
// (https://hl7.org/fhir/R4/compartmentdefinition-patient.html) decides what a
// patient-context token can reach: a resource is in patient X's compartment
// when one of the listed search parameters refers to Patient/X (and
// Patient/X itself is in it). Types the definition does not list are never
// in any patient's compartment, so a patient-context token never reaches
// them, whatever its scopes say.

// InPatientCompartment returns the search parameters that link resources
// of resourceType to a patient (Observation → subject, performer), and
// whether the type belongs to the Patient compartment at all. For Patient
// itself the parameters are those of other patients linking to it (link);
// the resource Patient/X is in X's compartment by definition.
func InPatientCompartment(resourceType string) (params []string, ok bool) {
	for _, c := range spec.R4().Compartments {
		if c.Code != "Patient" {
			continue
		}
		if resourceType == "Patient" {
			return slices.Clone(c.Resources["Patient"]), true
		}
		p := c.Resources[resourceType]
		return slices.Clone(p), len(p) > 0
	}
	return nil, false
}

// listsOtherPatients reports compartment types whose instances routinely name
// many patients: a Group's members, a List's entries (a ward list), an
// AuditEvent's entities. Being in patient X's compartment means one of the
// references is X, not that the others are; returning such a resource to a
// patient-context token would reveal the other patients. Until redacted
// views exist, patient-context tokens do not reach them at all.
func listsOtherPatients(resourceType string) bool {
	switch resourceType {
	case "Group", "List", "AuditEvent":
		return true
	}
	return false
}

// PatientContextReachable reports whether a patient-context principal may
// reach resources of resourceType at all: shared directory and conformance
// types (which are about nobody), and Patient-compartment types that do
// not list other patients.
func PatientContextReachable(resourceType string) bool {
	if Shared(resourceType) {
		return true
	}
	if listsOtherPatients(resourceType) {
		return false
	}
	_, ok := InPatientCompartment(resourceType)
	return ok
}
