package interaction

import (
	"context"
	"slices"
	"time"

	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/store"
)

// Every write records its author as a Provenance
// (https://hl7.org/fhir/R4/provenance.html), in the write's transaction:
// target the versions written (Type/id/_history/n), recorded the commit's
// time, activity the v3-DataOperation (CREATE, UPDATE, DELETE; absent when a
// transaction mixes them), and agents: the user as author (their FHIR user,
// Practitioner/… or Patient/…, with the account id as identifier), and the
// OAuth client as enterer, or the server itself for jobs. One Provenance
// per write — one per transaction, naming every version it wrote — owned by
// the organization of the first non-directory target (for directory writes,
// the writer's own organization; system writes of directory resources, which
// no organization owns, record none: the AuditEvent says who).
//
// Provenance is written by the server alone: nobody has create, update or
// delete on it through the API (auth's role table).

// Code systems of Provenance.
const (
	sysDataOperation   = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
	sysParticipantType = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
	sysAccount         = "urn:continuum:user"   // identifier system of user accounts
	sysClient          = "urn:continuum:client" // identifier system of OAuth clients
)

// provenance writes the Provenance of the versions written in traces.
func (s *Service) provenance(ctx context.Context, tx store.Tx, c caller, traces ...*trace) error {
	var (
		targets []*store.Version
		ops     []string
	)
	for _, tr := range traces {
		for _, v := range tr.written {
			targets = append(targets, v)
			op := "UPDATE"
			switch {
			case v.Deleted():
				op = "DELETE"
			case v.VersionID == "1":
				op = "CREATE"
			}
			if !slices.Contains(ops, op) {
				ops = append(ops, op)
			}
		}
	}
	if len(targets) == 0 {
		return nil
	}
	org := ""
	for _, v := range targets {
		if v.Org != "" {
			org = v.Org
			break
		}
	}
	if org == "" {
		org = callerOrg(c.p)
	}
	if org == "" {
		return nil
	}
	obj := func(ms ...fhir.Member) fhir.Value { return fhir.Value{Kind: fhir.Object, Members: ms} }
	str := func(s string) fhir.Value { return fhir.Value{Kind: fhir.String, Text: s} }
	m := func(name string, v fhir.Value) fhir.Member { return fhir.Member{Name: name, Value: v} }
	coding := func(system, code string) fhir.Value {
		return obj(m("coding", fhir.Value{Kind: fhir.Array, Items: []fhir.Value{obj(m("system", str(system)), m("code", str(code)))}}))
	}
	var tgts []fhir.Value
	for _, v := range targets {
		tgts = append(tgts, obj(m("reference", str(v.Type+"/"+v.ID+"/_history/"+v.VersionID))))
	}
	p := c.p
	var agents []fhir.Value
	switch {
	case p.Kind == auth.System:
		agents = append(agents, obj(m("type", coding(sysParticipantType, "author")), m("who", obj(m("display", str("Continuum (system)"))))))
	case p.User.ID != "":
		who := []fhir.Member{m("identifier", obj(m("system", str(sysAccount)), m("value", str(p.User.ID))))}
		if p.User.FHIRUser != "" {
			who = append([]fhir.Member{m("reference", str(p.User.FHIRUser))}, who...)
		}
		agents = append(agents, obj(m("type", coding(sysParticipantType, "author")), m("who", obj(who...))))
	}
	if p.ClientID != "" {
		role := "enterer"
		if len(agents) == 0 {
			role = "author" // a backend client writes on its own account
		}
		agents = append(agents, obj(m("type", coding(sysParticipantType, role)),
			m("who", obj(m("identifier", obj(m("system", str(sysClient)), m("value", str(p.ClientID))))))))
	}
	if len(agents) == 0 {
		return nil
	}
	members := []fhir.Member{
		m("resourceType", str("Provenance")),
		m("target", fhir.Value{Kind: fhir.Array, Items: tgts}),
		m("recorded", str(targets[0].LastUpdated.UTC().Format(time.RFC3339Nano))),
	}
	if len(ops) == 1 {
		members = append(members, m("activity", coding(sysDataOperation, ops[0])))
	}
	members = append(members, m("agent", fhir.Value{Kind: fhir.Array, Items: agents}))
	res := obj(members...)
	_, err := tx.Create(ctx, store.Write{Resource: &res, Org: org})
	return err
}

// callerOrg is the organization a caller writes for when nothing else
// says: a practitioner's primary membership, a backend client's first
// enabled organization.
func callerOrg(p auth.Principal) string {
	switch {
	case len(p.User.Memberships) > 0:
		return p.User.Memberships[0].Organization
	case len(p.Organizations) > 0:
		return p.Organizations[0]
	}
	return ""
}
