package auth

import (
	"fmt"
	"slices"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
)

// Role is a practitioner user's job at an organization. The closed list is
// the one `continuum user create --role` accepts.
type Role string

// Roles.
const (
	Physician Role = "physician"
	Nurse     Role = "nurse"
	Therapist Role = "therapist"
	FrontDesk Role = "front-desk"
	Admin     Role = "admin"
)

// Roles lists the roles in a stable order, for help texts and docs.
func Roles() []Role { return []Role{Physician, Nurse, Therapist, FrontDesk, Admin} }

// ParseRole returns the role called s.
func ParseRole(s string) (Role, error) {
	if slices.Contains(Roles(), Role(s)) {
		return Role(s), nil
	}
	return "", fmt.Errorf("unknown role %q: want one of physician, nurse, therapist, front-desk, admin", s)
}

// Category groups resource types that roles treat alike. Permissions are
// granted per category rather than per type so that the table stays small
// enough to review, and a type added later falls into Clinical, the most
// guarded category, until someone decides otherwise.
type Category uint8

// Categories.
const (
	Clinical       Category = iota // findings, conditions, medications given, procedures … (the default)
	Orders                         // requests a clinician signs: prescriptions, referrals, orders
	Notes                          // clinical notes and documents
	Demographics                   // who the patient is
	Encounters                     // visits and episodes
	Scheduling                     // appointments, schedules, slots
	Financial                      // coverage, claims, accounts, billing
	PatientInput                   // what patients send: questionnaire answers, messages
	Consents                       // consent and privacy directives
	Provenances                    // who wrote what (written by the server on every write)
	Audit                          // AuditEvent: the access log
	Definitions                    // the organization's forms, order sets, measures
	Directory                      // shared directory: organizations, people, places, medications
	Conformance                    // shared conformance and terminology resources
	Infrastructure                 // subscriptions and messaging plumbing
	numCategories
)

func (c Category) String() string {
	names := [...]string{
		Clinical: "clinical", Orders: "orders", Notes: "notes", Demographics: "demographics",
		Encounters: "encounters", Scheduling: "scheduling", Financial: "financial",
		PatientInput: "patient-input", Consents: "consent", Provenances: "provenance", Audit: "audit",
		Definitions: "definitions", Directory: "directory", Conformance: "conformance",
		Infrastructure: "infrastructure",
	}
	if int(c) < len(names) {
		return names[c]
	}
	return fmt.Sprintf("category(%d)", c)
}

// CategoryOf returns the category of a resource type; every type not
// listed is Clinical. Directory and Conformance are exactly the
// deployment-wide types of docs/decisions/0004-tenancy.md
// (store.DirectoryTypes; a test keeps the two lists equal), and
// testdata/categories.txt lists every R4 type's category for review.
func CategoryOf(resourceType string) Category {
	switch resourceType {
	case "MedicationRequest", "ServiceRequest", "DeviceRequest", "NutritionOrder", "VisionPrescription",
		"RequestGroup", "SupplyRequest":
		return Orders
	case "DocumentReference", "Composition", "DocumentManifest", "ClinicalImpression":
		return Notes
	case "Patient", "RelatedPerson", "Person":
		return Demographics
	case "Encounter", "EpisodeOfCare":
		return Encounters
	case "Appointment", "AppointmentResponse", "Schedule", "Slot":
		return Scheduling
	case "Account", "Coverage", "CoverageEligibilityRequest", "CoverageEligibilityResponse", "Claim",
		"ClaimResponse", "ExplanationOfBenefit", "Invoice", "ChargeItem", "PaymentNotice", "PaymentReconciliation",
		"EnrollmentRequest", "EnrollmentResponse", "Contract", "InsurancePlan":
		return Financial
	case "QuestionnaireResponse", "Communication", "CommunicationRequest":
		return PatientInput
	case "Consent":
		return Consents
	case "Provenance":
		return Provenances
	case "AuditEvent":
		return Audit
	case "Questionnaire", "PlanDefinition", "ActivityDefinition", "Library", "Measure", "ObservationDefinition",
		"SpecimenDefinition", "ChargeItemDefinition", "EventDefinition", "DeviceDefinition", "MedicationKnowledge",
		"OrganizationAffiliation":
		return Definitions
	case "Organization", "Practitioner", "PractitionerRole", "Location", "HealthcareService", "Endpoint",
		"Medication":
		return Directory
	case "CapabilityStatement", "StructureDefinition", "ImplementationGuide", "SearchParameter",
		"MessageDefinition", "OperationDefinition", "CompartmentDefinition", "StructureMap", "GraphDefinition",
		"ExampleScenario", "CodeSystem", "ValueSet", "ConceptMap", "NamingSystem", "TerminologyCapabilities":
		return Conformance
	case "Subscription", "MessageHeader":
		return Infrastructure
	}
	return Clinical
}

// Shared reports whether resources of the type are deployment-wide (the
// directory, conformance and terminology): owned by no organization and
// readable from every one
// (https://hl7.org/fhir/R4/administration-module.html,
// https://hl7.org/fhir/R4/conformance-module.html).
func Shared(resourceType string) bool {
	c := CategoryOf(resourceType)
	return c == Directory || c == Conformance
}

// SharedTypes lists the deployment-wide types, sorted.
func SharedTypes() []string {
	var out []string
	for _, t := range spec.R4().ResourceTypes() {
		if Shared(t) {
			out = append(out, t)
		}
	}
	return out
}

// Letters shorthand for the table below.
const (
	rs    = Read | Search
	crus  = Create | Read | Update | Search
	cruds = AllPermissions
)

// roleRow is the role table: what each role may do to each category
// at an organization where the user holds the role. It is the "role
// permissions" term of scopes ∩ roles ∩ boundary (architecture.md §4); a
// missing entry is no access. docs/security.md renders it. It returns an
// array, a fresh value per call, so nobody can change the table.
//
// Why each row is what it is:
//   - physician: full clinical authority, including orders and deleting
//     clinical records entered in error (FHIR delete keeps history). Reads
//     coverage (formulary, prior auth) but does not bill. No audit: reading
//     the access log is an administrator's job, and a clinician should not
//     be able to see who else looked at a record they are curious about.
//   - nurse: documents care (observations, administrations, notes) and
//     keeps demographics and appointments current, but does not order:
//     orders need a prescriber. Reads orders to carry them out.
//   - therapist: documents their own findings, notes and goals and keeps
//     their appointments; reads the rest of the chart for context; no
//     demographics edits, no billing, no deletes.
//   - front-desk: registration, scheduling, check-in, coverage and consent
//     forms. No clinical data, no notes, no orders: HIPAA's minimum
//     necessary standard (45 CFR 164.502(b)) keeps the desk out of the
//     chart.
//   - admin: runs the organization: the directory (practitioners, roles,
//     locations), forms and definitions, conformance and terminology, and
//     reads the audit log and provenance. Reads demographics to manage
//     accounts and merges, and coverage and consent to answer requests. No
//     clinical reads or writes: an admin opening a chart uses
//     break-the-glass, which is audited.
//
// Nobody writes AuditEvent or Provenance through the API: the server does.
func roleRow(role Role) [numCategories]Permission {
	switch role {
	case Physician:
		return [numCategories]Permission{
			Clinical: cruds, Orders: cruds, Notes: cruds, Demographics: crus, Encounters: crus,
			Scheduling: cruds, Financial: rs, PatientInput: cruds, Consents: crus, Provenances: rs,
			Definitions: rs, Directory: rs, Conformance: rs,
		}
	case Nurse:
		return [numCategories]Permission{
			Clinical: crus, Orders: rs, Notes: crus, Demographics: crus, Encounters: crus,
			Scheduling: cruds, Financial: rs, PatientInput: crus, Consents: rs, Provenances: rs,
			Definitions: rs, Directory: rs, Conformance: rs,
		}
	case Therapist:
		return [numCategories]Permission{
			Clinical: crus, Orders: rs, Notes: crus, Demographics: rs, Encounters: rs,
			Scheduling: crus, PatientInput: crus, Consents: rs, Provenances: rs,
			Definitions: rs, Directory: rs, Conformance: rs,
		}
	case FrontDesk:
		return [numCategories]Permission{
			Demographics: crus, Encounters: crus, Scheduling: cruds, Financial: crus, Consents: crus,
			Definitions: rs, Directory: rs, Conformance: rs,
		}
	case Admin:
		return [numCategories]Permission{
			Demographics: rs, Financial: rs, Consents: rs, Provenances: rs, Audit: rs,
			Definitions: cruds, Directory: cruds, Conformance: cruds, Infrastructure: cruds,
		}
	}
	return [numCategories]Permission{}
}

// patientRow is what a patient user may do within their own
// compartment: read their record (the HIPAA right of access, 45 CFR
// 164.524), request appointments, and send answers and messages. Their
// record's clinical content is written by their care team, not by them.
// AuditEvent is absent: the access report is its own, redacted, feature.
func patientRow() [numCategories]Permission {
	return [numCategories]Permission{
		Clinical: rs, Orders: rs, Notes: rs, Demographics: rs, Encounters: rs,
		Scheduling: Create | Read | Search, Financial: rs, PatientInput: crus, Consents: rs, Provenances: rs,
		Definitions: rs, Directory: rs, Conformance: rs,
	}
}

// RolePermission returns what role may do to resources of resourceType.
func RolePermission(role Role, resourceType string) Permission {
	return roleRow(role)[CategoryOf(resourceType)]
}

// PatientPermission returns what a patient user may do to resources of
// resourceType in their own compartment.
func PatientPermission(resourceType string) Permission {
	return patientRow()[CategoryOf(resourceType)]
}

// RolePermissions returns what role may do to each category, for
// documentation.
func RolePermissions(role Role) [numCategories]Permission { return roleRow(role) }

// PatientPermissions returns what a patient user may do to each category,
// for documentation.
func PatientPermissions() [numCategories]Permission { return patientRow() }
