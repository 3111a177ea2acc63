package auth

import (
	"fmt"
	"slices"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/search"
)

// Interaction is a FHIR RESTful interaction
// (https://hl7.org/fhir/R4/http.html), plus export and operations.
type Interaction uint8

// Interactions.
const (
	InteractionRead Interaction = iota + 1
	InteractionVRead
	InteractionSearch
	InteractionCreate
	InteractionUpdate
	InteractionPatch
	InteractionDelete
	InteractionHistory
	InteractionExport
	InteractionOperation
)

func (i Interaction) String() string {
	names := [...]string{
		InteractionRead: "read", InteractionVRead: "vread", InteractionSearch: "search",
		InteractionCreate: "create", InteractionUpdate: "update", InteractionPatch: "patch",
		InteractionDelete: "delete", InteractionHistory: "history", InteractionExport: "export",
		InteractionOperation: "operation",
	}
	if int(i) < len(names) && names[i] != "" {
		return names[i]
	}
	return fmt.Sprintf("interaction(%d)", i)
}

// permission is the SMART permission an interaction needs
// (https://hl7.org/fhir/smart-app-launch/STU2.2/scopes-and-launch-context.html#scopes-for-requesting-fhir-resources):
// r covers read, vread and instance history; s covers search and type or
// system history; u covers update and patch (and update-as-create). Export
// returns whole resources in bulk, so it needs both r and s, as SMART
// Backend Services' system/*.rs (or v1 system/*.read) grants. An operation
// on an instance needs r, on a type s: it only gates invoking the
// operation, whose own reads and writes are authorized one by one.
func (i Interaction) permission(instance bool) Permission {
	switch i {
	case InteractionRead, InteractionVRead:
		return Read
	case InteractionSearch:
		return Search
	case InteractionCreate:
		return Create
	case InteractionUpdate, InteractionPatch:
		return Update
	case InteractionDelete:
		return Delete
	case InteractionHistory, InteractionOperation:
		if instance {
			return Read
		}
		return Search
	case InteractionExport:
		return Read | Search
	}
	return 0
}

// Request is what the caller wants to do, with what it knows about the
// target. Interaction and ResourceType are required: a system-level search,
// history or export is decided once per type it may return.
type Request struct {
	Interaction  Interaction
	ResourceType string
	// ID is the target instance of read, vread, update, patch, delete,
	// instance history and instance operations; "" for type-level calls.
	ID string
	// Organization owns the target ("" when unknown, or for shared types).
	// For read, vread, update, patch, delete and instance history the
	// caller reads the current version first and passes its owner, so the
	// answer can be Private. For a create it is the organization the new
	// resource will belong to, if the caller has chosen one.
	Organization string
	// Patients are the ids of the patients whose compartment the target is
	// in, when PatientsKnown (from the index rows of the current version;
	// for creates and updates, of the new content).
	Patients      []string
	PatientsKnown bool
	// BreakGlass is the reason a practitioner gave, in the EHR itself, to
	// read records outside their organizations (an emergency). It lifts
	// the organization boundary for reads only; scopes, roles and the
	// patient compartment still apply, and the access is flagged.
	BreakGlass string
}

func (r Request) instance() bool { return r.ID != "" }

// Decision is the answer: whether the request may proceed and, when it may,
// how it must be narrowed. All the narrowing is conjunctive: the caller
// ANDs every non-empty field into the query it runs (or, for an instance,
// checks the instance against it) before anything is returned, so that
// totals and paging are those of the permitted subset.
type Decision struct {
	Allowed bool
	// Private marks a denial that depends on the target: it exists but lies
	// outside the caller's boundary (another organization, another
	// patient). It answers 404, exactly like a missing resource, so that
	// existence does not leak (outcome.Private).
	Private bool
	// Reason explains the decision for logs and the audit trail; never
	// shown to the caller.
	Reason string
	// Organizations, when non-nil, restricts to resources owned by one of
	// these organizations. Nil means no organization narrowing (shared
	// types, patient users, the system).
	Organizations []string
	// Patient, when set, restricts to resources in this patient's
	// compartment (InPatientCompartment gives the search parameters; the
	// Patient resource itself is in its own compartment). For writes, both
	// the current and the new version must be in it.
	Patient string
	// BrokeGlass reports that the organization boundary was lifted on the
	// user's stated reason (Request.BreakGlass): the audit record must
	// carry the reason so administrators can review it.
	BrokeGlass bool
	// Scope holds the alternatives of the v2 scope constraints that bound
	// the grant: the target must match at least one (see AsQuery). Empty
	// means the scope grants the type without constraint.
	Scope []Constraint
}

// Err returns the error to answer a denial with: Private (404, worded
// exactly like a resource that does not exist) or Forbidden (403). It
// returns nil for an allowed request.
func (d Decision) Err(req Request) error {
	switch {
	case d.Allowed:
		return nil
	case d.Private:
		return &outcome.Error{Kind: outcome.Private, Issues: []outcome.Issue{{
			Severity: outcome.SevError, Code: "not-found",
			Diagnostics: fmt.Sprintf("%s/%s is not known", req.ResourceType, req.ID)}}}
	}
	return outcome.New(outcome.Forbidden, "forbidden",
		fmt.Sprintf("not permitted: %s on %s", req.Interaction, req.ResourceType))
}

// Compartment returns the compartment a search must be restricted to when
// the decision narrows to a patient, in the form search.Options takes
// (https://hl7.org/fhir/R4/search.html#compartments), or nil.
func (d Decision) Compartment() *search.CompartmentRef {
	if d.Patient == "" {
		return nil
	}
	return &search.CompartmentRef{Type: "Patient", ID: d.Patient}
}

func deny(format string, args ...any) Decision {
	return Decision{Reason: fmt.Sprintf(format, args...)}
}

func private(format string, args ...any) Decision {
	return Decision{Private: true, Reason: fmt.Sprintf(format, args...)}
}

// Decide authorizes one request: SMART scopes ∩ role permissions ∩ data
// boundary (architecture.md §4), denying by default.
//
// Denials that do not depend on the target (no scope for the type, no role
// that allows it) are Forbidden; denials that do (the target belongs to
// another organization or patient) are Private, so that the answer for an
// existing resource outside the boundary is the answer for a missing one.
// A create is never Private: it reveals nothing that exists.
func Decide(p Principal, req Request) Decision {
	if t := spec.R4().Resource(req.ResourceType); t == nil || t.Abstract {
		return deny("%q is not an R4 resource type", req.ResourceType)
	}
	perm := req.Interaction.permission(req.instance())
	if perm == 0 {
		return deny("unknown interaction %d", req.Interaction)
	}
	user := p.effectiveUserKind()

	// 1. Scopes. The contexts a principal may use, broadest first; the first
	// that grants decides (we never union across contexts, which could
	// grant more than any one scope does).
	var contexts []Context
	switch {
	case p.Kind == System, p.Kind == Backend:
		contexts = []Context{SystemContext}
	case p.Kind == App && p.User.Kind != Practitioner && p.User.Kind != PatientUser:
		return deny("app principal without a user")
	case user == Practitioner || user == PatientUser:
		contexts = []Context{UserContext, PatientContext}
	default:
		return deny("%s principal", p.Kind)
	}
	var used Context
	var constraints []Constraint
	for _, c := range contexts {
		if ok, cons := p.Scopes.Allows(c, req.ResourceType, perm); ok {
			used, constraints = c, cons
			break
		}
	}
	if used == NoContext {
		return deny("no granted scope allows %s on %s", perm, req.ResourceType)
	}
	d := Decision{Allowed: true, Scope: constraints}

	// 2. Roles, and the organization boundary they imply.
	shared := Shared(req.ResourceType)
	switch user {
	case Practitioner:
		var orgs []string
		for _, m := range p.User.Memberships {
			if RolePermission(m.Role, req.ResourceType).Has(perm) && !slices.Contains(orgs, m.Organization) {
				orgs = append(orgs, m.Organization)
			}
		}
		if len(orgs) == 0 {
			return deny("no role of the user allows %s on %s", perm, req.ResourceType)
		}
		inside := req.Organization != "" && slices.Contains(orgs, req.Organization)
		switch {
		case shared:
		case req.BreakGlass != "" && !inside && p.Kind == Practitioner && perm&(Create|Update|Delete) == 0:
			// Break-the-glass is a decision a person makes in the EHR's
			// own UI, never an app; and it opens records to read, not
			// to change.
			d.BrokeGlass = true
		default:
			slices.Sort(orgs)
			if dd, ok := boundary(req, orgs); !ok {
				return dd
			}
			d.Organizations = orgs
		}
	case PatientUser:
		if !PatientPermission(req.ResourceType).Has(perm) {
			return deny("patients may not %s %s", perm, req.ResourceType)
		}
	case Backend:
		if !shared {
			if len(p.Organizations) == 0 {
				return deny("client %s is enabled for no organization", p.ClientID)
			}
			orgs := slices.Sorted(slices.Values(p.Organizations))
			orgs = slices.Compact(orgs)
			if dd, ok := boundary(req, orgs); !ok {
				return dd
			}
			d.Organizations = orgs
		}
	case System:
		// The server's own jobs have no boundary.
	}

	// 3. The patient compartment, for patient-context tokens and patient
	// users (whose own compartment bounds them whatever the token says).
	patient := ""
	if used == PatientContext || user == PatientUser {
		patient = p.patientContext()
		if patient == "" {
			// SMART: granting a patient/ scope establishes a patient in
			// context; a token without one reaches nobody's data.
			return deny("patient-context access without a patient in context")
		}
	}
	if patient != "" && !shared {
		if !PatientContextReachable(req.ResourceType) {
			return deny("%s is outside every patient compartment, or lists other patients", req.ResourceType)
		}
		if req.PatientsKnown && !slices.Contains(req.Patients, patient) {
			if req.Interaction == InteractionCreate {
				return deny("the new %s is not in the compartment of the patient in context", req.ResourceType)
			}
			return private("%s/%s is outside the compartment of the patient in context", req.ResourceType, req.ID)
		}
		d.Patient = patient
	}
	d.Reason = fmt.Sprintf("%s scope", used)
	if d.BrokeGlass {
		d.Reason += ", break-the-glass: " + req.BreakGlass
	}
	return d
}

// boundary checks a target's known owner against the organizations the
// caller may act in. Outside them, an existing target is Private; a create
// for another organization is simply Forbidden.
func boundary(req Request, orgs []string) (Decision, bool) {
	if req.Organization == "" || slices.Contains(orgs, req.Organization) {
		return Decision{}, true
	}
	if req.Interaction == InteractionCreate {
		return deny("may not create %s for organization %s", req.ResourceType, req.Organization), false
	}
	return private("%s/%s belongs to an organization outside the caller's", req.ResourceType, req.ID), false
}
