package auth

import "slices"

// Kind is what a principal is.
type Kind uint8

// Principal kinds. The zero value is Anonymous, which Decide denies
// everything: only metadata and discovery are public, and the transports
// serve those without asking.
const (
	Anonymous    Kind = iota
	Practitioner      // a clinician or staff member signed in to the EHR itself
	PatientUser       // a patient signed in to the portal
	App               // a SMART app acting for a signed-in user (Practitioner or PatientUser)
	Backend           // a SMART backend-services client, no user (client_credentials)
	System            // the server itself: jobs, imports, HL7 feeds
)

func (k Kind) String() string {
	switch k {
	case Practitioner:
		return "practitioner"
	case PatientUser:
		return "patient"
	case App:
		return "app"
	case Backend:
		return "backend"
	case System:
		return "system"
	}
	return "anonymous"
}

// Membership is a role a practitioner user holds at an organization (a
// PractitionerRole). A user may hold different roles at different
// organizations, and each grants only there.
type Membership struct {
	Organization string // Organization id
	Role         Role
}

// User is the person behind a Practitioner, PatientUser or App principal.
type User struct {
	ID string // the account id (the OIDC sub)
	// Kind is Practitioner or PatientUser.
	Kind Kind
	// FHIRUser is the user's own resource, "Practitioner/123" or
	// "Patient/456" (the fhirUser claim).
	FHIRUser string
	// Memberships are a practitioner user's roles at organizations.
	Memberships []Membership
	// Patient is a patient user's own Patient id.
	Patient string
}

// Principal is who is calling, with everything authorization needs. Every
// call into interaction carries one; it is built by the transport (session,
// access token) or by the composition root (the system principal for jobs),
// and is read-only afterwards.
type Principal struct {
	Kind Kind
	// User is the signed-in user, for Practitioner, PatientUser and App.
	User User
	// ClientID is the OAuth client of an App or Backend principal.
	ClientID string
	// Scopes are the granted scopes. First-party sessions get theirs from
	// SessionScopes, so one rule (scopes ∩ roles ∩ boundary) covers every
	// principal.
	Scopes Scopes
	// Patient is the patient in context: the launch patient of a SMART
	// token, or a patient user's own Patient id. Patient-context access is
	// restricted to this patient's compartment.
	Patient string
	// Encounter is the launch encounter, if any (informational: SMART does
	// not restrict access by it).
	Encounter string
	// Organizations are the organizations a Backend client is enabled for.
	// Practitioner users get theirs from User.Memberships.
	Organizations []string
}

// SessionScopes are the scopes of a first-party session (the EHR's own UI):
// everything the user may do, so that roles and the data boundary alone
// decide. A practitioner gets user/*.cruds; a patient user gets
// patient/*.cruds with their own Patient in context.
func SessionScopes(k Kind) Scopes {
	ctx := UserContext
	if k == PatientUser {
		ctx = PatientContext
	}
	return NewScopes(Scope{Kind: ResourceScope, Context: ctx, Type: "*", Perms: AllPermissions})
}

// NewPractitionerSession returns the principal of a practitioner signed in
// to the EHR.
func NewPractitionerSession(userID, practitionerID string, memberships ...Membership) Principal {
	return Principal{
		Kind:   Practitioner,
		User:   User{ID: userID, Kind: Practitioner, FHIRUser: "Practitioner/" + practitionerID, Memberships: slices.Clone(memberships)},
		Scopes: SessionScopes(Practitioner),
	}
}

// NewPatientSession returns the principal of a patient signed in to the
// portal: their own Patient is the patient in context.
func NewPatientSession(userID, patientID string) Principal {
	return Principal{
		Kind:    PatientUser,
		User:    User{ID: userID, Kind: PatientUser, FHIRUser: "Patient/" + patientID, Patient: patientID},
		Scopes:  SessionScopes(PatientUser),
		Patient: patientID,
	}
}

// NewSystem returns the server's own principal, for jobs and feeds. It is
// not reachable from outside: no token or session maps to it.
func NewSystem() Principal {
	return Principal{Kind: System, Scopes: NewScopes(Scope{Kind: ResourceScope, Context: SystemContext, Type: "*", Perms: AllPermissions})}
}

// effectiveUserKind is the kind whose rules apply: an App acts with its
// user's rights, never more.
func (p Principal) effectiveUserKind() Kind {
	if p.Kind == App {
		return p.User.Kind
	}
	return p.Kind
}

// patientContext returns the patient whose compartment bounds the
// principal, if any. A patient user is always bounded by their own
// compartment, whatever the token says.
func (p Principal) patientContext() string {
	if p.effectiveUserKind() == PatientUser {
		return p.User.Patient
	}
	return p.Patient
}
