package audit

import (
	"encoding/base64"
	"strings"
	"time"

	"github.com/continuum-ehr/continuum/internal/fhir"
)

// Action is what was done: a FHIR restful-interaction code
// (https://hl7.org/fhir/R4/codesystem-restful-interaction.html), or a
// sign-in event.
type Action string

// Actions.
const (
	Read            Action = "read"
	VRead           Action = "vread"
	HistoryInstance Action = "history-instance"
	HistoryType     Action = "history-type"
	HistorySystem   Action = "history-system"
	SearchType      Action = "search-type"
	SearchSystem    Action = "search-system"
	Create          Action = "create"
	Update          Action = "update"
	Patch           Action = "patch"
	Delete          Action = "delete"
	Batch           Action = "batch"
	Transaction     Action = "transaction"
	Operation       Action = "operation" // Record.Operation names it ($export, $everything)
	Capabilities    Action = "capabilities"
	Login           Action = "login"
	Logout          Action = "logout"
)

// Outcome is AuditEvent.outcome
// (https://hl7.org/fhir/R4/valueset-audit-event-outcome.html).
type Outcome uint8

// Outcomes.
const (
	Success        Outcome = 0  // the action succeeded
	MinorFailure   Outcome = 4  // refused or invalid: the caller's side (4xx, denials)
	SeriousFailure Outcome = 8  // the server failed (5xx)
	MajorFailure   Outcome = 12 // the server failed and could not continue
)

// Agent is a participant: the user, or the client application.
type Agent struct {
	ID        string // account id (user) or client_id (client)
	Reference string // the user's FHIR resource: Practitioner/123, Patient/456
	Address   string // network address the request came from (client only)
}

// Resource is a resource the action touched.
type Resource struct {
	Type, ID, Version string
}

func (r Resource) reference() string {
	ref := r.Type + "/" + r.ID
	if r.Version != "" {
		ref += "/_history/" + r.Version
	}
	return ref
}

// Record is one audited event, as the interaction layer knows it. Event
// turns it into an AuditEvent; the AuditEvent's bytes are what the chain
// hashes.
type Record struct {
	ID          string // the AuditEvent id
	Recorded    time.Time
	Action      Action
	Operation   string // with Action Operation: "$export", "$everything", …
	Outcome     Outcome
	OutcomeDesc string // why it failed; never PHI
	User        Agent  // zero for backend clients and the system
	Client      Agent  // the OAuth client, zero for first-party sessions
	Server      string // the FHIR base URL
	Observer    string // the name of this server (AuditEvent.source.observer)
	Site        string // the deployment (AuditEvent.source.site)
	Patients    []string
	Resources   []Resource
	// Query is a search as received, after the base: "Observation?code=…".
	// BALP keeps it base64-encoded so that even malformed or hostile input
	// is preserved exactly; Cleaned is the canonical form the server ran.
	Query, Cleaned string
	// BreakGlass is the reason a practitioner gave to open a record outside
	// their boundary; it marks the event for review.
	BreakGlass string
	RequestID  string // X-Request-Id, tying the event to the log line
	// Organizations own the resources the event is about. They are not
	// part of the AuditEvent: they are stored beside it so that an
	// organization's administrators see their organization's events.
	Organizations []string
}

// Code systems (https://profiles.ihe.net/ITI/BALP/).
const (
	sysEventType   = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	sysRestful     = "http://hl7.org/fhir/restful-interaction"
	sysDICOM       = "http://dicom.nema.org/resources/ontology/DCM"
	sysParticipate = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	sysRoleClass   = "http://terminology.hl7.org/CodeSystem/v3-RoleClass"
	sysSourceType  = "http://terminology.hl7.org/CodeSystem/security-source-type"
	sysEntityType  = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
	sysObjectRole  = "http://terminology.hl7.org/CodeSystem/object-role"
	sysActReason   = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
	sysBALPEntity  = "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType"
	balpProfile    = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit."
)

// action is AuditEvent.action: C R U D or E (execute, for searches and
// operations), as BALP assigns them.
func (a Action) action() string {
	switch a {
	case Read, VRead, HistoryInstance, HistoryType, HistorySystem, Capabilities:
		return "R"
	case Create:
		return "C"
	case Update, Patch:
		return "U"
	case Delete:
		return "D"
	}
	return "E"
}

// dataFromServer reports whether data flows from the server to the client.
// BALP names the agents by the flow: on a read the server is the source
// (DCM 110153) and the client the destination (110152); on a query or a
// write the client is the source.
func (a Action) dataFromServer() bool {
	switch a {
	case Read, VRead, HistoryInstance, HistoryType, HistorySystem:
		return true
	}
	return false
}

// profile is the BALP profile a successful event conforms to, if any.
func (r Record) profile() string {
	if r.Outcome != Success {
		return ""
	}
	var name string
	switch r.Action {
	case Read, VRead, HistoryInstance:
		name = "Read"
	case SearchType, SearchSystem:
		name = "Query"
	case Create:
		name = "Create"
	case Update, Patch:
		name = "Update"
	case Delete:
		name = "Delete"
	default:
		return ""
	}
	switch len(r.Patients) {
	case 0:
		return balpProfile + name
	case 1:
		return balpProfile + "Patient" + name
	}
	return ""
}

// Small builders for the fhir.Value tree; member order is the order of the
// R4 AuditEvent definition, so the bytes are stable.
type obj []fhir.Member

func (o obj) add(name string, v fhir.Value) obj { return append(o, fhir.Member{Name: name, Value: v}) }
func (o obj) str(name, s string) obj {
	if s == "" {
		return o
	}
	return o.add(name, str(s))
}
func (o obj) value() fhir.Value { return fhir.Value{Kind: fhir.Object, Members: o} }

func str(s string) fhir.Value { return fhir.Value{Kind: fhir.String, Text: s} }
func arr(items ...fhir.Value) fhir.Value {
	return fhir.Value{Kind: fhir.Array, Items: items}
}
func coding(system, code, display string) fhir.Value {
	return obj{}.str("system", system).str("code", code).str("display", display).value()
}
func concept(system, code, display string) fhir.Value {
	return obj{}.add("coding", arr(coding(system, code, display))).value()
}
func reference(ref string) fhir.Value { return obj{}.str("reference", ref).value() }

// Event builds the IHE BALP-shaped AuditEvent of r
// (https://profiles.ihe.net/ITI/BALP/content.html): type rest with the
// interaction as subtype (or DICOM user authentication for sign-in), the
// user, client and server agents, the server as source, an entity per
// patient, per resource, for the query and for the request id.
func Event(r Record) fhir.Value {
	o := obj{}.str("resourceType", "AuditEvent").str("id", r.ID)
	if p := r.profile(); p != "" {
		o = o.add("meta", obj{}.add("profile", arr(str(p))).value())
	}
	switch r.Action {
	case Login, Logout:
		o = o.add("type", coding(sysDICOM, "110114", "User Authentication"))
		code, display := "110122", "Login"
		if r.Action == Logout {
			code, display = "110123", "Logout"
		}
		o = o.add("subtype", arr(coding(sysDICOM, code, display)))
	default:
		o = o.add("type", coding(sysEventType, "rest", "Restful Operation"))
		o = o.add("subtype", arr(coding(sysRestful, string(r.Action), string(r.Action))))
	}
	o = o.str("action", r.Action.action())
	o = o.str("recorded", r.Recorded.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
	o = o.add("outcome", fhir.Value{Kind: fhir.String, Text: outcomeCode(r.Outcome)})
	o = o.str("outcomeDesc", r.OutcomeDesc)
	if r.BreakGlass != "" {
		o = o.add("purposeOfEvent", arr(obj{}.add("coding", arr(coding(sysActReason, "BTG", "break the glass"))).
			str("text", r.BreakGlass).value()))
	}

	var agents []fhir.Value
	if r.User.ID != "" || r.User.Reference != "" {
		who := obj{}
		if r.User.Reference != "" {
			who = who.str("reference", r.User.Reference)
		}
		if r.User.ID != "" {
			who = who.add("identifier", obj{}.str("value", r.User.ID).value())
		}
		agents = append(agents, obj{}.
			add("type", r.userType()).
			add("who", who.value()).
			add("requestor", fhir.Value{Kind: fhir.Bool, Bool: true}).value())
	}
	source := agentRole{"110153", "Source Role ID"}
	destination := agentRole{"110152", "Destination Role ID"}
	clientRole, serverRole := source, destination
	if r.Action.dataFromServer() {
		clientRole, serverRole = destination, source
	}
	if r.Client.ID != "" || r.Client.Address != "" {
		a := obj{}.add("type", concept(sysDICOM, clientRole.code, clientRole.display))
		if r.Client.ID != "" {
			a = a.add("who", obj{}.add("identifier", obj{}.str("value", r.Client.ID).value()).value())
		}
		a = a.add("requestor", fhir.Value{Kind: fhir.Bool, Bool: r.User.ID == "" && r.User.Reference == ""})
		if r.Client.Address != "" {
			a = a.add("network", obj{}.str("address", r.Client.Address).str("type", "2").value())
		}
		agents = append(agents, a.value())
	}
	if r.Server != "" {
		agents = append(agents, obj{}.
			add("type", concept(sysDICOM, serverRole.code, serverRole.display)).
			add("who", obj{}.str("display", r.Server).value()).
			add("requestor", fhir.Value{Kind: fhir.Bool}).
			add("network", obj{}.str("address", r.Server).str("type", "5").value()).value())
	}
	o = o.add("agent", arr(agents...))

	src := obj{}.str("site", r.Site).add("observer", obj{}.str("display", r.Observer).value()).
		add("type", arr(coding(sysSourceType, "4", "Application Server")))
	o = o.add("source", src.value())

	var entities []fhir.Value
	for _, p := range r.Patients {
		entities = append(entities, obj{}.
			add("what", reference("Patient/"+p)).
			add("type", coding(sysEntityType, "1", "Person")).
			add("role", coding(sysObjectRole, "1", "Patient")).value())
	}
	for _, res := range r.Resources {
		entities = append(entities, obj{}.
			add("what", reference(res.reference())).
			add("type", coding(sysEntityType, "2", "System Object")).
			add("role", coding(sysObjectRole, "4", "Domain Resource")).value())
	}
	if r.Query != "" || r.Operation != "" {
		e := obj{}.add("type", coding(sysEntityType, "2", "System Object")).
			add("role", coding(sysObjectRole, "24", "Query")).
			str("name", r.Operation).
			str("description", r.Cleaned)
		if r.Query != "" {
			e = e.str("query", base64.StdEncoding.EncodeToString([]byte(r.Query)))
		}
		entities = append(entities, e.value())
	}
	if r.RequestID != "" {
		entities = append(entities, obj{}.
			add("what", obj{}.add("identifier", obj{}.str("value", r.RequestID).value()).value()).
			add("type", coding(sysBALPEntity, "XrequestId", "X-Request-Id")).value())
	}
	if len(entities) > 0 {
		o = o.add("entity", arr(entities...))
	}
	return o.value()
}

type agentRole struct{ code, display string }

// userType is the user agent's type, as BALP's UserAgentTypesVS describes
// it (https://profiles.ihe.net/ITI/BALP/ValueSet-UserAgentTypesVS.html):
// the patient when the user is the patient, the information recipient on
// reads and queries, an agent when pushing data.
func (r Record) userType() fhir.Value {
	switch {
	case strings.HasPrefix(r.User.Reference, "Patient/"):
		return concept(sysRoleClass, "PAT", "patient")
	case r.Action.dataFromServer(), r.Action == SearchType, r.Action == SearchSystem:
		return concept(sysParticipate, "IRCP", "information recipient")
	}
	return concept(sysRoleClass, "AGNT", "agent")
}

func outcomeCode(o Outcome) string {
	switch o {
	case Success:
		return "0"
	case MinorFailure:
		return "4"
	case SeriousFailure:
		return "8"
	}
	return "12"
}

// JSON returns the AuditEvent of r as compact JSON. The bytes are
// deterministic for a given Record, and they are what the chain hashes
// (Digest) and the store keeps.
func (r Record) JSON() []byte { return Event(r).Marshal() }
