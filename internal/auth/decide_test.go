package auth

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/search"
)

// Outcomes of a decision, for compact tables.
const (
	allow     = "allow"
	forbidden = "forbidden"
	priv      = "private"
)

func outcomeOf(d Decision) string {
	switch {
	case d.Allowed:
		return allow
	case d.Private:
		return priv
	}
	return forbidden
}

func mustScopes(t *testing.T, s string) Scopes {
	t.Helper()
	ss, err := ParseScopes(s)
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

func practitioner(role Role, orgs ...string) Principal {
	var ms []Membership
	for _, o := range orgs {
		ms = append(ms, Membership{Organization: o, Role: role})
	}
	return NewPractitionerSession("u1", "p1", ms...)
}

// TestRoleInteractions runs every role against every interaction on one
// type of each category, inside its organization: the result must be what
// the role table says, and nothing else.
func TestRoleInteractions(t *testing.T) {
	types := map[Category]string{
		Clinical: "Observation", Orders: "MedicationRequest", Notes: "DocumentReference",
		Demographics: "Patient", Encounters: "Encounter", Scheduling: "Appointment",
		Financial: "Coverage", PatientInput: "QuestionnaireResponse", Consents: "Consent",
		Provenances: "Provenance", Audit: "AuditEvent", Definitions: "Questionnaire",
		Directory: "Practitioner", Conformance: "ValueSet", Infrastructure: "Subscription",
	}
	if len(types) != int(numCategories) {
		t.Fatalf("the test covers %d categories of %d", len(types), numCategories)
	}
	interactions := []struct {
		i  Interaction
		id string
	}{
		{InteractionRead, "1"}, {InteractionVRead, "1"}, {InteractionSearch, ""}, {InteractionCreate, ""},
		{InteractionUpdate, "1"}, {InteractionPatch, "1"}, {InteractionDelete, "1"}, {InteractionHistory, "1"},
		{InteractionHistory, ""}, {InteractionExport, ""}, {InteractionOperation, "1"}, {InteractionOperation, ""},
	}
	for _, role := range Roles() {
		p := practitioner(role, "org-a")
		for cat, typ := range types {
			for _, it := range interactions {
				req := Request{Interaction: it.i, ResourceType: typ, ID: it.id, Organization: "org-a"}
				if Shared(typ) {
					req.Organization = ""
				}
				d := Decide(p, req)
				want := RolePermissions(role)[cat].Has(it.i.permission(it.id != ""))
				if d.Allowed != want {
					t.Errorf("%s %s %s (id %q): allowed = %v, want %v (%s)", role, it.i, typ, it.id, d.Allowed, want, d.Reason)
				}
				if d.Private {
					t.Errorf("%s %s %s: private inside the caller's organization", role, it.i, typ)
				}
				if d.Allowed {
					wantOrgs := []string{"org-a"}
					if Shared(typ) {
						wantOrgs = nil
					}
					if !reflect.DeepEqual(d.Organizations, wantOrgs) {
						t.Errorf("%s %s %s: organizations %v, want %v", role, it.i, typ, d.Organizations, wantOrgs)
					}
					if d.Patient != "" {
						t.Errorf("%s %s %s: patient narrowing %q for a practitioner session", role, it.i, typ, d.Patient)
					}
				}
			}
		}
	}
}

// TestRoleTableIntent pins the rules the brief states in words, so that a
// change to the table that breaks them fails loudly.
func TestRoleTableIntent(t *testing.T) {
	tests := []struct {
		role Role
		typ  string
		perm Permission
		want bool
	}{
		{FrontDesk, "Patient", Update, true},
		{FrontDesk, "Appointment", Create, true},
		{FrontDesk, "Coverage", Update, true},
		{FrontDesk, "DocumentReference", Read, false},
		{FrontDesk, "Composition", Search, false},
		{FrontDesk, "Observation", Read, false},
		{Admin, "AuditEvent", Search, true},
		{Admin, "AuditEvent", Create, false},
		{Admin, "PractitionerRole", Create, true},
		{Admin, "Observation", Create, false},
		{Admin, "Observation", Read, false},
		{Admin, "MedicationRequest", Update, false},
		{Nurse, "MedicationRequest", Create, false},
		{Nurse, "Observation", Create, true},
		{Physician, "MedicationRequest", Create, true},
		{Physician, "AuditEvent", Read, false},
		{Therapist, "Patient", Update, false},
		{Therapist, "Observation", Create, true},
	}
	for _, tt := range tests {
		if got := RolePermission(tt.role, tt.typ).Has(tt.perm); got != tt.want {
			t.Errorf("%s may %s %s = %v, want %v", tt.role, tt.perm, tt.typ, got, tt.want)
		}
	}
	for _, role := range Roles() {
		for _, typ := range []string{"AuditEvent", "Provenance"} {
			if p := RolePermission(role, typ); p&(Create|Update|Delete) != 0 {
				t.Errorf("%s may write %s (%s): only the server writes it", role, typ, p)
			}
		}
	}
}

func TestOrganizationBoundary(t *testing.T) {
	multi := NewPractitionerSession("u1", "p1",
		Membership{Organization: "org-b", Role: FrontDesk},
		Membership{Organization: "org-a", Role: Physician})
	tests := []struct {
		name string
		p    Principal
		req  Request
		want string
		orgs []string
	}{
		{"own org read", practitioner(Physician, "org-a"),
			Request{Interaction: InteractionRead, ResourceType: "Observation", ID: "1", Organization: "org-a"}, allow, []string{"org-a"}},
		{"other org read is private", practitioner(Physician, "org-a"),
			Request{Interaction: InteractionRead, ResourceType: "Observation", ID: "1", Organization: "org-b"}, priv, nil},
		{"other org vread is private", practitioner(Physician, "org-a"),
			Request{Interaction: InteractionVRead, ResourceType: "Observation", ID: "1", Organization: "org-b"}, priv, nil},
		{"other org update is private", practitioner(Physician, "org-a"),
			Request{Interaction: InteractionUpdate, ResourceType: "Observation", ID: "1", Organization: "org-b"}, priv, nil},
		{"other org delete is private", practitioner(Physician, "org-a"),
			Request{Interaction: InteractionDelete, ResourceType: "Observation", ID: "1", Organization: "org-b"}, priv, nil},
		{"other org history is private", practitioner(Physician, "org-a"),
			Request{Interaction: InteractionHistory, ResourceType: "Observation", ID: "1", Organization: "org-b"}, priv, nil},
		{"create for other org is forbidden, not private", practitioner(Physician, "org-a"),
			Request{Interaction: InteractionCreate, ResourceType: "Observation", Organization: "org-b"}, forbidden, nil},
		{"create with owner undecided is narrowed", practitioner(Physician, "org-a"),
			Request{Interaction: InteractionCreate, ResourceType: "Observation"}, allow, []string{"org-a"}},
		{"search is narrowed, never private", practitioner(Physician, "org-a", "org-c"),
			Request{Interaction: InteractionSearch, ResourceType: "Observation"}, allow, []string{"org-a", "org-c"}},
		{"role without the permission is forbidden even outside the org", practitioner(FrontDesk, "org-a"),
			Request{Interaction: InteractionRead, ResourceType: "Observation", ID: "1", Organization: "org-b"}, forbidden, nil},
		{"shared types cross organizations", practitioner(Nurse, "org-a"),
			Request{Interaction: InteractionRead, ResourceType: "Organization", ID: "org-b"}, allow, nil},
		{"shared types are searched unnarrowed", practitioner(FrontDesk, "org-a"),
			Request{Interaction: InteractionSearch, ResourceType: "Medication"}, allow, nil},
		{"role holds only where held: clinical narrowed to the physician org", multi,
			Request{Interaction: InteractionSearch, ResourceType: "Observation"}, allow, []string{"org-a"}},
		{"role holds only where held: front desk org is private for clinical", multi,
			Request{Interaction: InteractionRead, ResourceType: "Observation", ID: "1", Organization: "org-b"}, priv, nil},
		{"role holds only where held: demographics in both", multi,
			Request{Interaction: InteractionSearch, ResourceType: "Patient"}, allow, []string{"org-a", "org-b"}},
		{"no memberships", NewPractitionerSession("u", "p"),
			Request{Interaction: InteractionSearch, ResourceType: "Patient"}, forbidden, nil},
		{"backend in its organizations", Principal{Kind: Backend, ClientID: "c", Scopes: mustScopes(t, "system/*.rs"), Organizations: []string{"org-b", "org-a", "org-b"}},
			Request{Interaction: InteractionSearch, ResourceType: "Observation"}, allow, []string{"org-a", "org-b"}},
		{"backend outside its organizations", Principal{Kind: Backend, ClientID: "c", Scopes: mustScopes(t, "system/*.rs"), Organizations: []string{"org-a"}},
			Request{Interaction: InteractionRead, ResourceType: "Observation", ID: "1", Organization: "org-z"}, priv, nil},
		{"backend enabled nowhere", Principal{Kind: Backend, ClientID: "c", Scopes: mustScopes(t, "system/*.rs")},
			Request{Interaction: InteractionSearch, ResourceType: "Observation"}, forbidden, nil},
		{"backend reads shared types anyway", Principal{Kind: Backend, ClientID: "c", Scopes: mustScopes(t, "system/*.rs")},
			Request{Interaction: InteractionSearch, ResourceType: "ValueSet"}, allow, nil},
		{"backend export", Principal{Kind: Backend, ClientID: "c", Scopes: mustScopes(t, "system/*.read"), Organizations: []string{"org-a"}},
			Request{Interaction: InteractionExport, ResourceType: "Patient"}, allow, []string{"org-a"}},
		{"backend export needs r and s", Principal{Kind: Backend, ClientID: "c", Scopes: mustScopes(t, "system/*.s"), Organizations: []string{"org-a"}},
			Request{Interaction: InteractionExport, ResourceType: "Patient"}, forbidden, nil},
		{"backend cannot use user scopes", Principal{Kind: Backend, ClientID: "c", Scopes: mustScopes(t, "user/*.cruds"), Organizations: []string{"org-a"}},
			Request{Interaction: InteractionSearch, ResourceType: "Patient"}, forbidden, nil},
		{"system has no boundary", NewSystem(),
			Request{Interaction: InteractionUpdate, ResourceType: "Observation", ID: "1", Organization: "org-z"}, allow, nil},
		{"anonymous gets nothing", Principal{},
			Request{Interaction: InteractionRead, ResourceType: "CapabilityStatement", ID: "x"}, forbidden, nil},
		{"unknown type", NewSystem(),
			Request{Interaction: InteractionRead, ResourceType: "Resource", ID: "x"}, forbidden, nil},
		{"unknown interaction", NewSystem(),
			Request{ResourceType: "Patient", ID: "x"}, forbidden, nil},
		{"app without a user", Principal{Kind: App, ClientID: "c", Scopes: mustScopes(t, "user/*.cruds")},
			Request{Interaction: InteractionSearch, ResourceType: "Patient"}, forbidden, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(tt.p, tt.req)
			if got := outcomeOf(d); got != tt.want {
				t.Fatalf("Decide = %s (%s), want %s", got, d.Reason, tt.want)
			}
			if !reflect.DeepEqual(d.Organizations, tt.orgs) {
				t.Errorf("organizations = %v, want %v", d.Organizations, tt.orgs)
			}
			if d.Reason == "" {
				t.Error("no reason")
			}
		})
	}
}

// TestScopesNarrowRoles checks that an app gets scopes ∩ role: neither
// alone.
func TestScopesNarrowRoles(t *testing.T) {
	app := func(scopes string, role Role) Principal {
		p := practitioner(role, "org-a")
		p.Kind, p.ClientID, p.Scopes = App, "app", mustScopes(t, scopes)
		return p
	}
	tests := []struct {
		name string
		p    Principal
		req  Request
		want string
	}{
		{"read-only scope, physician: write forbidden", app("user/*.rs", Physician),
			Request{Interaction: InteractionCreate, ResourceType: "Observation", Organization: "org-a"}, forbidden},
		{"read-only scope, physician: read", app("user/*.rs", Physician),
			Request{Interaction: InteractionRead, ResourceType: "Observation", ID: "1", Organization: "org-a"}, allow},
		{"v1 read scope: search", app("user/Observation.read", Physician),
			Request{Interaction: InteractionSearch, ResourceType: "Observation"}, allow},
		{"broad scope, front desk: clinical forbidden", app("user/*.cruds", FrontDesk),
			Request{Interaction: InteractionRead, ResourceType: "Observation", ID: "1", Organization: "org-a"}, forbidden},
		{"scope for another type", app("user/Patient.rs", Physician),
			Request{Interaction: InteractionRead, ResourceType: "Observation", ID: "1", Organization: "org-a"}, forbidden},
		{"identity scopes grant no data", app("openid fhirUser profile launch offline_access", Physician),
			Request{Interaction: InteractionRead, ResourceType: "Patient", ID: "1", Organization: "org-a"}, forbidden},
		{"scope letter r does not give search", app("user/Observation.r", Physician),
			Request{Interaction: InteractionSearch, ResourceType: "Observation"}, forbidden},
		{"scope letter u gives patch", app("user/Observation.u", Physician),
			Request{Interaction: InteractionPatch, ResourceType: "Observation", ID: "1", Organization: "org-a"}, allow},
		{"scope letter s gives type history", app("user/Observation.s", Physician),
			Request{Interaction: InteractionHistory, ResourceType: "Observation"}, allow},
		{"scope letter s does not give instance history", app("user/Observation.s", Physician),
			Request{Interaction: InteractionHistory, ResourceType: "Observation", ID: "1", Organization: "org-a"}, forbidden},
	}
	for _, tt := range tests {
		if got := Decide(tt.p, tt.req); outcomeOf(got) != tt.want {
			t.Errorf("%s: %s (%s), want %s", tt.name, outcomeOf(got), got.Reason, tt.want)
		}
	}
}

// TestPatientContextNeverReachesAnotherPatient runs every interaction on
// every compartment type for patient-context principals, with the target in
// another patient's compartment, and asserts it is never allowed; and that
// where the membership is unknown (a search) the decision narrows to the
// patient in context.
func TestPatientContextNeverReachesAnotherPatient(t *testing.T) {
	launch := practitioner(Physician, "org-a")
	launch.Kind, launch.ClientID, launch.Patient = App, "app", "A"
	launch.Scopes = mustScopes(t, "patient/*.cruds launch/patient")

	patientApp := NewPatientSession("pu", "A")
	patientApp.Kind, patientApp.ClientID = App, "app"
	// A patient user's app holding user/ scopes is still bound to the
	// patient's own compartment.
	patientApp.Scopes = mustScopes(t, "user/*.cruds")

	// The token claims patient B in context; a patient user is bound to
	// their own compartment whatever the token says.
	confused := NewPatientSession("pu", "A")
	confused.Kind, confused.ClientID, confused.Patient = App, "app", "B"
	confused.Scopes = mustScopes(t, "patient/*.rs")

	principals := map[string]Principal{
		"ehr launch": launch, "patient session": NewPatientSession("pu", "A"),
		"patient app with user scopes": patientApp, "patient app claiming B": confused,
	}
	all := []Interaction{InteractionRead, InteractionVRead, InteractionSearch, InteractionCreate, InteractionUpdate,
		InteractionPatch, InteractionDelete, InteractionHistory, InteractionExport, InteractionOperation}
	for name, p := range principals {
		for _, typ := range specTypes() {
			for _, i := range all {
				for _, id := range []string{"", "1"} {
					req := Request{Interaction: i, ResourceType: typ, ID: id, Organization: "org-a",
						Patients: []string{"B"}, PatientsKnown: true}
					if Shared(typ) {
						continue
					}
					if d := Decide(p, req); d.Allowed {
						t.Fatalf("%s: %s %s/%s in B's compartment allowed: %+v", name, i, typ, id, d)
					}
					req.Patients, req.PatientsKnown = nil, false
					d := Decide(p, req)
					if d.Allowed && d.Patient != "A" {
						t.Fatalf("%s: %s %s/%s allowed without narrowing to A: %+v", name, i, typ, id, d)
					}
					if d.Allowed && !PatientContextReachable(typ) {
						t.Fatalf("%s: %s %s allowed but the type is outside the compartment", name, i, typ)
					}
				}
			}
		}
	}
}

func TestPatientContext(t *testing.T) {
	launch := func(scopes, patient string) Principal {
		p := practitioner(Physician, "org-a")
		p.Kind, p.ClientID, p.Patient, p.Scopes = App, "app", patient, mustScopes(t, scopes)
		return p
	}
	inA := Request{Interaction: InteractionRead, ResourceType: "Observation", ID: "1", Organization: "org-a", Patients: []string{"A"}, PatientsKnown: true}
	tests := []struct {
		name    string
		p       Principal
		req     Request
		want    string
		patient string
	}{
		{"launch patient's record", launch("patient/*.rs", "A"), inA, allow, "A"},
		{"patient/ scope without a patient in context", launch("patient/*.rs", ""), inA, forbidden, ""},
		{"another patient's record is private", launch("patient/*.rs", "B"), inA, priv, ""},
		{"user scope wins over patient scope: no compartment", launch("user/Observation.rs patient/*.rs", "B"), inA, allow, ""},
		{"patient scope still bounded by organization", launch("patient/*.rs", "A"),
			Request{Interaction: InteractionRead, ResourceType: "Observation", ID: "1", Organization: "org-b", Patients: []string{"A"}, PatientsKnown: true}, priv, ""},
		{"group lists other patients", launch("patient/*.rs", "A"),
			Request{Interaction: InteractionSearch, ResourceType: "Group"}, forbidden, ""},
		{"list lists other patients", launch("patient/*.rs", "A"),
			Request{Interaction: InteractionRead, ResourceType: "List", ID: "1", Patients: []string{"A"}, PatientsKnown: true}, forbidden, ""},
		{"audit events list other patients", NewPatientSession("pu", "A"),
			Request{Interaction: InteractionSearch, ResourceType: "AuditEvent"}, forbidden, ""},
		{"type outside the compartment", launch("patient/*.rs", "A"),
			Request{Interaction: InteractionSearch, ResourceType: "Task"}, forbidden, ""},
		{"shared type outside any compartment", launch("patient/*.rs", "A"),
			Request{Interaction: InteractionRead, ResourceType: "Practitioner", ID: "x"}, allow, ""},
		{"patient reads own Patient", NewPatientSession("pu", "A"),
			Request{Interaction: InteractionRead, ResourceType: "Patient", ID: "A", Patients: []string{"A"}, PatientsKnown: true}, allow, "A"},
		{"patient reads another Patient: private", NewPatientSession("pu", "A"),
			Request{Interaction: InteractionRead, ResourceType: "Patient", ID: "B", Patients: []string{"B"}, PatientsKnown: true}, priv, ""},
		{"patient reads own record in any organization", NewPatientSession("pu", "A"),
			Request{Interaction: InteractionRead, ResourceType: "Observation", ID: "1", Organization: "org-z", Patients: []string{"A"}, PatientsKnown: true}, allow, "A"},
		{"patient cannot write clinical data", NewPatientSession("pu", "A"),
			Request{Interaction: InteractionCreate, ResourceType: "Observation", Patients: []string{"A"}, PatientsKnown: true}, forbidden, ""},
		{"patient answers a questionnaire", NewPatientSession("pu", "A"),
			Request{Interaction: InteractionCreate, ResourceType: "QuestionnaireResponse", Patients: []string{"A"}, PatientsKnown: true}, allow, "A"},
		{"patient creates for another patient: forbidden", NewPatientSession("pu", "A"),
			Request{Interaction: InteractionCreate, ResourceType: "QuestionnaireResponse", Patients: []string{"B"}, PatientsKnown: true}, forbidden, ""},
		{"patient requests an appointment", NewPatientSession("pu", "A"),
			Request{Interaction: InteractionCreate, ResourceType: "Appointment"}, allow, "A"},
		{"patient cannot delete an appointment", NewPatientSession("pu", "A"),
			Request{Interaction: InteractionDelete, ResourceType: "Appointment", ID: "1", Patients: []string{"A"}, PatientsKnown: true}, forbidden, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(tt.p, tt.req)
			if got := outcomeOf(d); got != tt.want {
				t.Fatalf("Decide = %s (%s), want %s", got, d.Reason, tt.want)
			}
			if d.Patient != tt.patient {
				t.Errorf("patient narrowing = %q, want %q", d.Patient, tt.patient)
			}
		})
	}
}

func TestScopeConstraintsInDecision(t *testing.T) {
	p := practitioner(Physician, "org-a")
	p.Kind, p.ClientID, p.Patient = App, "app", "A"
	p.Scopes = mustScopes(t, "patient/Observation.rs?category=laboratory patient/Observation.rs?category=vital-signs patient/Condition.rs")
	d := Decide(p, Request{Interaction: InteractionSearch, ResourceType: "Observation"})
	if !d.Allowed || len(d.Scope) != 2 || d.Patient != "A" {
		t.Fatalf("decision = %+v", d)
	}
	// The narrowing goes into the parsed query, before it runs.
	opts := search.Options{Compartment: d.Compartment()}
	sq, ok := AsQuery(d.Scope)
	if !ok {
		t.Fatal("AsQuery")
	}
	parsed, err := search.Parse(spec.R4(), "Observation", sq, opts)
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Compartment == nil || parsed.Compartment.ID != "A" || len(parsed.Filters) != 1 {
		t.Errorf("narrowed query = %+v", parsed)
	}
	if (Decision{}).Compartment() != nil {
		t.Error("a decision without a patient narrows to a compartment")
	}
	q, ok := AsQuery(d.Scope)
	if !ok || q.Get("category") != "laboratory,vital-signs" {
		t.Errorf("AsQuery = %v %v", q, ok)
	}
	if d := Decide(p, Request{Interaction: InteractionSearch, ResourceType: "Condition"}); !d.Allowed || d.Scope != nil {
		t.Errorf("Condition decision = %+v", d)
	}
}

func TestDecisionErr(t *testing.T) {
	req := Request{Interaction: InteractionRead, ResourceType: "Observation", ID: "42"}
	if err := (Decision{Allowed: true}).Err(req); err != nil {
		t.Errorf("allowed: %v", err)
	}
	var oe *outcome.Error
	err := Decision{Private: true, Reason: "other org"}.Err(req)
	if !errors.As(err, &oe) || oe.Kind != outcome.Private || oe.Kind.HTTPStatus() != 404 {
		t.Fatalf("private: %v", err)
	}
	// Worded exactly like a missing resource, and never the reason.
	if d := oe.Issues[0].Diagnostics; d != "Observation/42 is not known" || strings.Contains(err.Error(), "other org") {
		t.Errorf("private diagnostics = %q", d)
	}
	err = Decision{Reason: "scope"}.Err(req)
	if !errors.As(err, &oe) || oe.Kind != outcome.Forbidden || oe.Kind.HTTPStatus() != 403 {
		t.Fatalf("forbidden: %v", err)
	}
}

func TestInteractionString(t *testing.T) {
	for i := InteractionRead; i <= InteractionOperation; i++ {
		if s := i.String(); strings.HasPrefix(s, "interaction(") {
			t.Errorf("%d has no name", i)
		}
	}
	if s := Interaction(99).String(); s != fmt.Sprintf("interaction(%d)", 99) {
		t.Errorf("unknown interaction renders %q", s)
	}
}

func TestBreakGlass(t *testing.T) {
	app := practitioner(Physician, "org-a")
	app.Kind, app.ClientID, app.Scopes = App, "app", mustScopes(t, "user/*.cruds")
	elsewhere := Request{Interaction: InteractionRead, ResourceType: "Observation", ID: "1", Organization: "org-b", BreakGlass: "unconscious in ED"}
	tests := []struct {
		name  string
		p     Principal
		req   Request
		want  string
		broke bool
	}{
		{"physician reads another organization's record", practitioner(Physician, "org-a"), elsewhere, allow, true},
		{"without a reason it stays private", practitioner(Physician, "org-a"),
			Request{Interaction: InteractionRead, ResourceType: "Observation", ID: "1", Organization: "org-b"}, priv, false},
		{"search across organizations", practitioner(Nurse, "org-a"),
			Request{Interaction: InteractionSearch, ResourceType: "Condition", BreakGlass: "r"}, allow, true},
		{"no writes", practitioner(Physician, "org-a"),
			Request{Interaction: InteractionUpdate, ResourceType: "Observation", ID: "1", Organization: "org-b", BreakGlass: "r"}, priv, false},
		{"the role still applies", practitioner(FrontDesk, "org-a"), elsewhere, forbidden, false},
		{"admin has no clinical read to extend", practitioner(Admin, "org-a"), elsewhere, forbidden, false},
		{"apps cannot break the glass", app, elsewhere, priv, false},
		{"shared types need no glass", practitioner(Physician, "org-a"),
			Request{Interaction: InteractionRead, ResourceType: "Location", ID: "1", BreakGlass: "r"}, allow, false},
		{"own organization: nothing to break", practitioner(Physician, "org-b"), elsewhere, allow, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(tt.p, tt.req)
			if got := outcomeOf(d); got != tt.want || d.BrokeGlass != tt.broke {
				t.Fatalf("Decide = %s broke=%v (%s), want %s broke=%v", got, d.BrokeGlass, d.Reason, tt.want, tt.broke)
			}
			if d.BrokeGlass && (d.Organizations != nil || !strings.Contains(d.Reason, tt.req.BreakGlass)) {
				t.Errorf("broken glass: organizations %v, reason %q", d.Organizations, d.Reason)
			}
		})
	}
}
