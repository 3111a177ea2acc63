package interaction

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/fhir"
	searchindex "github.com/continuum-ehr/continuum/internal/index"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// Enforcement: every interaction takes the caller's principal from the
// context (auth.FromContext; none is Unauthorized), asks auth.Decide with
// the real facts of the target, and leaves exactly one AuditEvent
// (docs/security.md).
//
// The facts: the owning organization is the stored version's; patient
// compartment membership is computed from the resource's references with
// the search parameters of the R4 Patient CompartmentDefinition
// (auth.InPatientCompartment), evaluated by package index exactly as
// search will index them. A write is decided on the current version (so a
// resource outside the boundary answers 404 without revealing that it
// exists) and on the new content (so a patient-context write cannot move a
// resource into or out of a compartment).

// Origin is where a call comes from, for the audit record. Transports set
// it with WithOrigin (REST: the connection's remote address and the request
// id), never from headers a client controls.
type Origin struct {
	Address   string
	RequestID string
}

type originKey struct{}

// WithOrigin returns a copy of ctx carrying o.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

func originFrom(ctx context.Context) Origin {
	o, _ := ctx.Value(originKey{}).(Origin)
	return o
}

// Auditor appends AuditEvents; *audit.Trail is the implementation.
// AppendTx commits with a write; Record is for everything that writes
// nothing, durable within the trail's group-commit window.
type Auditor interface {
	AppendTx(ctx context.Context, tx store.Tx, recs ...audit.Record) error
	Record(ctx context.Context, rec audit.Record) error
}

// caller is who is calling, from where.
type caller struct {
	p      auth.Principal
	ok     bool // a transport authenticated the caller
	origin Origin
}

func callerFrom(ctx context.Context) caller {
	p, ok := auth.FromContext(ctx)
	return caller{p: p, ok: ok && p.Kind != auth.Anonymous, origin: originFrom(ctx)}
}

var errUnauthenticated = outcome.New(outcome.Unauthorized, "login", "authentication is required")

// trace collects what one interaction touched, for its AuditEvent.
type trace struct {
	action     audit.Action
	resources  []audit.Resource
	patients   []string
	breakGlass string
	reason     string // why a request was denied (never shown to the caller)
	query      string
	orgs       []string         // owners of the resources touched
	written    []*store.Version // versions the call wrote, for its Provenance
	// audited is set once the event went into a write's transaction.
	audited bool
	// hidden is a denial answered like a missing target (a delete of a
	// resource outside the boundary answers as a delete of nothing):
	// the caller sees success, the audit the denial.
	hidden error
}

func (tr *trace) touch(typ, id, vid string, patients []string) {
	if id != "" {
		// One entity per resource, with the latest version seen (an
		// update names the version it wrote, not the one it replaced).
		i := slices.IndexFunc(tr.resources, func(r audit.Resource) bool { return r.Type == typ && r.ID == id })
		switch {
		case i < 0:
			tr.resources = append(tr.resources, audit.Resource{Type: typ, ID: id, Version: vid})
		case vid != "":
			tr.resources[i].Version = vid
		}
	}
	for _, p := range patients {
		if !slices.Contains(tr.patients, p) {
			tr.patients = append(tr.patients, p)
		}
	}
}

// merge adds what another trace touched and wrote (a transaction's
// entries into the transaction's one AuditEvent).
func (tr *trace) merge(o *trace) {
	for _, r := range o.resources {
		tr.touch(r.Type, r.ID, r.Version, nil)
	}
	tr.touch("", "", "", o.patients)
	for _, org := range o.orgs {
		if !slices.Contains(tr.orgs, org) {
			tr.orgs = append(tr.orgs, org)
		}
	}
	tr.written = append(tr.written, o.written...)
	if tr.breakGlass == "" {
		tr.breakGlass = o.breakGlass
	}
	if tr.hidden == nil && o.hidden != nil {
		tr.hidden, tr.reason = o.hidden, o.reason
	}
}

// wrote records a version the call wrote.
func (tr *trace) wrote(v *store.Version, patients []string) {
	tr.touchVersion(v, patients)
	tr.written = append(tr.written, v)
}

func (tr *trace) touchVersion(v *store.Version, patients []string) {
	if v != nil {
		tr.touch(v.Type, v.ID, v.VersionID, patients)
		if v.Org != "" && !slices.Contains(tr.orgs, v.Org) {
			tr.orgs = append(tr.orgs, v.Org)
		}
	}
}

// record builds the AuditEvent of a call that ended with err.
func (s *Service) record(c caller, tr *trace, err error) audit.Record {
	r := audit.Record{
		Action: tr.action, Server: s.server, Observer: "continuum", Site: s.site,
		Patients: tr.patients, Resources: tr.resources, Query: tr.query, Cleaned: tr.query,
		BreakGlass: tr.breakGlass, RequestID: c.origin.RequestID, Organizations: tr.orgs,
		Client: audit.Agent{ID: c.p.ClientID, Address: c.origin.Address},
	}
	switch c.p.Kind {
	case auth.Practitioner, auth.PatientUser, auth.App:
		r.User = audit.Agent{ID: c.p.User.ID, Reference: c.p.User.FHIRUser}
	case auth.System:
		r.User = audit.Agent{ID: "system"}
	}
	if err != nil {
		oe := outcome.As(err)
		r.Outcome = audit.MinorFailure
		if oe.Kind == outcome.Internal {
			r.Outcome = audit.SeriousFailure
		}
		r.OutcomeDesc = oe.Kind.String()
		if tr.reason != "" {
			r.OutcomeDesc += ": " + tr.reason
		}
	}
	return r
}

// finish leaves the call's one AuditEvent, unless a write's transaction
// already holds it, and returns err. A read whose event cannot be queued
// fails: nothing is disclosed without an audit record.
func (s *Service) finish(ctx context.Context, c caller, tr *trace, err error) error {
	if tr.audited && err == nil {
		return nil
	}
	rerr := err
	if rerr == nil {
		rerr = tr.hidden
	}
	if aerr := s.audit.Record(context.WithoutCancel(ctx), s.record(c, tr, rerr)); aerr != nil && err == nil {
		return outcome.Wrap(aerr, "cannot record the audit event")
	}
	return err
}

// commitTx ends a write's transaction: the Provenance of what the traces
// wrote (provenance.go), then each trace's AuditEvent.
func (s *Service) commitTx(ctx context.Context, tx store.Tx, c caller, traces ...*trace) error {
	if err := s.provenance(ctx, tx, c, traces...); err != nil {
		return err
	}
	recs := make([]audit.Record, len(traces))
	for i, tr := range traces {
		recs[i] = s.record(c, tr, tr.hidden)
	}
	if err := s.audit.AppendTx(ctx, tx, recs...); err != nil {
		return err
	}
	for _, tr := range traces {
		tr.audited = true
	}
	return nil
}

// decide asks auth.Decide and turns a denial into its error, noting the
// reason in the trace.
func (s *Service) decide(c caller, tr *trace, req auth.Request) (auth.Decision, error) {
	if !c.ok {
		tr.reason = "no authenticated principal"
		return auth.Decision{}, errUnauthenticated
	}
	d := auth.Decide(c.p, req)
	if !d.Allowed {
		tr.reason = d.Reason
		return d, d.Err(req)
	}
	if d.BrokeGlass {
		tr.breakGlass = req.BreakGlass
	}
	return d, nil
}

// patients returns the ids of the patients whose compartment res is in
// (https://hl7.org/fhir/R4/compartmentdefinition-patient.html): the
// targets of its compartment parameters that are local Patient
// references, and a Patient itself.
func (s *Service) patients(res *fhir.Value) ([]string, error) {
	typ := res.ResourceType()
	params, ok := auth.InPatientCompartment(typ)
	var out []string
	if typ == "Patient" {
		if id := res.Str("id"); id != "" {
			out = append(out, id)
		}
	}
	if !ok || len(params) == 0 {
		return out, nil
	}
	e, err := s.idx.ExtractParams(res, params)
	if err != nil {
		return nil, err
	}
	for _, r := range e.References {
		// Absolute URLs name other servers' patients: not ours.
		if r.Type == "Patient" && r.ID != "" && r.URL == "" && slices.Contains(params, r.Param) && !slices.Contains(out, r.ID) {
			out = append(out, r.ID)
		}
	}
	slices.Sort(out)
	return out, nil
}

// versionPatients is patients for a stored version; a tombstone has none
// of its own (the caller looks at the version before it).
func (s *Service) versionPatients(v *store.Version) ([]string, error) {
	if v == nil || v.Body == nil {
		return nil, nil
	}
	res, err := fhir.Parse(v.Body)
	if err != nil {
		return nil, outcome.Wrap(err, "stored resource is not JSON")
	}
	return s.patients(&res)
}

// lastVersions returns the latest version of typ/id (a tombstone for a
// deleted resource) and the latest version with a body, or NotFound.
func lastVersions(ctx context.Context, tx store.ReadTx, typ, id string) (last, body *store.Version, err error) {
	h, err := tx.History(ctx, store.HistoryQuery{Type: typ, ID: id, Count: 2})
	if err != nil {
		return nil, nil, err
	}
	if len(h.Versions) == 0 {
		return nil, nil, outcome.Errorf(outcome.NotFound, "%s/%s is not known", typ, id)
	}
	last = h.Versions[0]
	for _, v := range h.Versions {
		if v.Body != nil {
			return last, v, nil
		}
	}
	return last, nil, nil
}

// decideOn decides req against a stored version: its owner and its
// compartment membership. facts is the version whose body gives the
// membership (for a tombstone, the version before it).
func (s *Service) decideOn(c caller, tr *trace, req auth.Request, owner, facts *store.Version) (auth.Decision, []string, error) {
	pats, err := s.versionPatients(facts)
	if err != nil {
		return auth.Decision{}, nil, err
	}
	req.Organization = owner.Org
	req.Patients, req.PatientsKnown = pats, facts != nil
	d, err := s.decide(c, tr, req)
	return d, pats, err
}

// checkScope answers Private when a decision bounded by v2 scope
// constraints (patient/Observation.rs?category=laboratory) does not cover
// the resource: it must match at least one alternative.
func (s *Service) checkScope(tr *trace, d auth.Decision, req auth.Request, body []byte) error {
	if len(d.Scope) == 0 || body == nil {
		return nil
	}
	res, err := fhir.Parse(body)
	if err != nil {
		return outcome.Wrap(err, "stored resource is not JSON")
	}
	ok, err := s.matchesScope(d.Scope, &res)
	if err != nil {
		return err
	}
	if !ok {
		tr.reason = "outside the scope constraints " + constraintNames(d.Scope)
		return auth.Decision{Private: true}.Err(req)
	}
	return nil
}

// checkNewScope is checkScope for new content: a create or update the
// scope does not cover is Forbidden (it reveals nothing that exists).
func (s *Service) checkNewScope(tr *trace, d auth.Decision, req auth.Request, res *fhir.Value) error {
	if len(d.Scope) == 0 {
		return nil
	}
	ok, err := s.matchesScope(d.Scope, res)
	if err != nil {
		return err
	}
	if !ok {
		tr.reason = "the new content is outside the scope constraints " + constraintNames(d.Scope)
		return outcome.New(outcome.Forbidden, "forbidden",
			fmt.Sprintf("the %s is outside the granted scopes %s", req.ResourceType, constraintNames(d.Scope)))
	}
	return nil
}

func constraintNames(cs []auth.Constraint) string {
	var names []string
	for _, c := range cs {
		names = append(names, c.Scope)
	}
	return strings.Join(names, " ")
}

// matchesScope reports whether res matches at least one alternative; each
// alternative's parameters must all match. Token parameters ([system]|code,
// system|, code; comma = OR) and reference parameters (Type/id or id) are
// evaluated on the resource's index rows; any other kind of constraint
// cannot be evaluated and matches nothing — never widening access.
func (s *Service) matchesScope(alts []auth.Constraint, res *fhir.Value) (bool, error) {
	var names []string
	for _, alt := range alts {
		for _, p := range alt.Params {
			names = append(names, p.Name)
		}
	}
	e, err := s.idx.ExtractParams(res, names)
	if err != nil {
		return false, err
	}
	typ := res.ResourceType()
	for _, alt := range alts {
		all := true
		for _, p := range alt.Params {
			if !matchParam(s, typ, p, &e) {
				all = false
				break
			}
		}
		if all {
			return true, nil
		}
	}
	return false, nil
}

func matchParam(s *Service, typ string, p auth.Param, e *searchindex.Entries) bool {
	sp := s.reg.Lookup(typ, p.Name)
	if sp == nil {
		sp = s.reg.Lookup("", p.Name)
	}
	if sp == nil {
		return false
	}
	for _, v := range strings.Split(p.Value, ",") {
		switch sp.Type {
		case "token":
			system, code, hasBar := strings.Cut(v, "|")
			if !hasBar {
				code, system = system, ""
			}
			for _, t := range e.Tokens {
				if t.Param != p.Name {
					continue
				}
				switch {
				case !hasBar && t.Code == code,
					hasBar && code == "" && t.System == system,
					hasBar && code != "" && t.System == system && t.Code == code:
					return true
				}
			}
		case "reference":
			rt, id, hasType := strings.Cut(v, "/")
			if !hasType {
				id, rt = rt, ""
			}
			for _, r := range e.References {
				if r.Param == p.Name && r.URL == "" && r.ID == id && (rt == "" || r.Type == rt) {
					return true
				}
			}
		}
	}
	return false
}

// writeOrg is the organization a new resource of type typ will belong to
// (docs/security.md, "Who owns a write"):
//
//   - the directory types: none;
//   - an explicit choice (the request's Org), when the caller made one —
//     Decide then checks the caller may write there;
//   - a practitioner (or an app acting for one): the first of the user's
//     memberships, in the order the user's account lists them (the first is
//     the primary one), whose role may write the type;
//   - a backend client: the first organization it is enabled for;
//   - a patient (or an app acting for one): the organization that owns the
//     patient's own Patient resource;
//   - the system: it must choose (jobs and imports always know for whom).
func (s *Service) writeOrg(ctx context.Context, tx store.ReadTx, c caller, typ, chosen string, perm auth.Permission) (string, error) {
	if store.DirectoryType(typ) {
		return "", nil
	}
	if chosen != "" {
		return chosen, nil
	}
	p := c.p
	user := p.Kind
	if user == auth.App {
		user = p.User.Kind
	}
	switch {
	case user == auth.Practitioner:
		for _, m := range p.User.Memberships {
			if auth.RolePermission(m.Role, typ).Has(perm) {
				return m.Organization, nil
			}
		}
	case user == auth.PatientUser || (p.Kind == auth.App && p.Patient != "" && user != auth.Practitioner):
		id := p.User.Patient
		if id == "" {
			id = p.Patient
		}
		if id != "" {
			v, err := tx.Read(ctx, "Patient", id)
			if err == nil {
				return v.Org, nil
			}
			if k := kindOf(err); k != outcome.NotFound && k != outcome.Gone {
				return "", err
			}
		}
	case p.Kind == auth.Backend:
		if len(p.Organizations) > 0 {
			return p.Organizations[0], nil
		}
	case p.Kind == auth.System:
		return "", outcome.New(outcome.Invalid, "required", "the system principal must name the organization a new "+typ+" belongs to")
	}
	// No organization to write for: Decide refuses with Forbidden.
	return "", nil
}

// matchAs runs a conditional match (If-None-Exist, a conditional update,
// delete or patch URL, a conditional reference) for the caller doing in:
// narrowed inside the query to the caller's organizations, the patient
// compartment of a patient-context caller and the v2 scope constraints,
// so resources outside the boundary are as if they did not exist and
// cannot make a match ambiguous either.
func (s *Service) matchAs(ctx context.Context, tx store.ReadTx, c caller, in auth.Interaction, typ string, cond Condition) ([]store.Ref, error) {
	var scratch trace
	d, err := s.decide(c, &scratch, auth.Request{Interaction: in, ResourceType: typ})
	if err != nil {
		return nil, err
	}
	opts, values, err := narrowing(d, typ, cond.Values)
	if err != nil {
		return nil, err
	}
	return match(ctx, tx, typ, Condition{Values: values}, opts)
}

// narrowing turns a decision into the narrowing of a search of typ: its
// organizations and compartment as store.SearchOptions, and its scope
// constraints ANDed into the search's parameters. Constraint alternatives
// the search grammar cannot express (auth.AsQuery) are Forbidden, never
// dropped.
func narrowing(d auth.Decision, typ string, params url.Values) (store.SearchOptions, url.Values, error) {
	opts := store.SearchOptions{Compartment: d.Compartment()}
	if d.Organizations != nil {
		opts.Orgs = append([]string{}, d.Organizations...)
	}
	out := url.Values{}
	for k, vs := range params {
		out[k] = append([]string(nil), vs...)
	}
	if len(d.Scope) > 0 {
		q, ok := auth.AsQuery(d.Scope)
		if !ok {
			return opts, nil, outcome.New(outcome.Forbidden, "forbidden",
				fmt.Sprintf("the granted scopes %s constrain %s in a way a search cannot express", constraintNames(d.Scope), typ))
		}
		for k, vs := range q {
			out[k] = append(out[k], vs...)
		}
	}
	return opts, out, nil
}

// decideNew decides a write on its new content: the organization it will
// belong to and the compartments it will be in. Content outside the
// caller's compartment or organizations is Forbidden, not Private: it is
// the caller's own request, and refusing it reveals nothing.
func (s *Service) decideNew(c caller, tr *trace, in auth.Interaction, typ, id, org string, res *fhir.Value) (auth.Decision, []string, error) {
	pats, err := s.patients(res)
	if err != nil {
		return auth.Decision{}, nil, err
	}
	req := auth.Request{Interaction: in, ResourceType: typ, ID: id, Organization: org, Patients: pats, PatientsKnown: true}
	d, err := s.decide(c, tr, req)
	if kindOf(err) == outcome.Private {
		err = outcome.New(outcome.Forbidden, "forbidden", fmt.Sprintf("not permitted: this %s is outside the caller's boundary", typ))
	}
	if err != nil {
		return d, pats, err
	}
	return d, pats, s.checkNewScope(tr, d, req, res)
}

// preDecide refuses early what the caller may not do to any resource of
// the type (no scope, no role): Forbidden, before anything is read or
// parsed. Denials that depend on the target come later.
func (s *Service) preDecide(c caller, tr *trace, in auth.Interaction, typ, id string) error {
	if t := s.spec.Resource(typ); t == nil || t.Abstract {
		return nil // checkType answers
	}
	if typ == "AuditEvent" && in != auth.InteractionRead && in != auth.InteractionVRead && in != auth.InteractionSearch && in != auth.InteractionHistory {
		tr.reason = "AuditEvents are written by the server alone"
		return outcome.New(outcome.Forbidden, "forbidden", "AuditEvents are written by the server alone, into the audit trail")
	}
	_, err := s.decide(c, tr, auth.Request{Interaction: in, ResourceType: typ, ID: id})
	if kindOf(err) == outcome.Private {
		return nil
	}
	return err
}

// authorizeFound decides a read-like request on the version v it found.
func (s *Service) authorizeFound(c caller, tr *trace, areq auth.Request, v *store.Version) error {
	d, pats, err := s.decideOn(c, tr, areq, v, v)
	tr.touchVersion(v, pats)
	if err != nil {
		return err
	}
	return s.checkScope(tr, d, areq, v.Body)
}

// authorizeMissing turns the Gone or NotFound answer err of a read-like
// request into Private when the resource exists (deleted, or without the
// version asked for) outside the caller's boundary: whether it was deleted
// is as private as whether it exists.
func (s *Service) authorizeMissing(ctx context.Context, tx store.ReadTx, c caller, tr *trace, areq auth.Request, err error) error {
	if k := kindOf(err); k != outcome.Gone && k != outcome.NotFound {
		return err
	}
	last, facts, lerr := lastVersions(ctx, tx, areq.ResourceType, areq.ID)
	if kindOf(lerr) == outcome.NotFound {
		return err
	}
	if lerr != nil {
		return lerr
	}
	if _, _, derr := s.decideOn(c, tr, areq, last, facts); derr != nil {
		return derr
	}
	return err
}

// readIn is read or vread (vid not "") inside a transaction, for Bundle
// entries.
func (s *Service) readIn(ctx context.Context, tx store.ReadTx, c caller, tr *trace, typ, id, vid, breakGlass string) (*store.Version, error) {
	in := auth.InteractionRead
	if vid != "" {
		in = auth.InteractionVRead
	}
	areq := auth.Request{Interaction: in, ResourceType: typ, ID: id, BreakGlass: breakGlass}
	var (
		v   *store.Version
		err error
	)
	if vid != "" {
		v, err = tx.VRead(ctx, typ, id, vid)
	} else {
		v, err = tx.Read(ctx, typ, id)
	}
	if err != nil {
		return nil, s.authorizeMissing(ctx, tx, c, tr, areq, err)
	}
	if err := s.authorizeFound(c, tr, areq, v); err != nil {
		return nil, err
	}
	return v, nil
}
