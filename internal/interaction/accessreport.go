package interaction

import (
	"context"
	"strings"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// AccessReportRequest asks who accessed a patient's record: the
// $access-report of Patient/[id] (a Continuum operation; HIPAA's accounting
// of disclosures, 45 CFR 164.528, and the "who looked at my record" of
// issue 7).
type AccessReportRequest struct {
	Patient string // the Patient id
	Count   int
	Before  int64 // the cursor of the next page
}

// AccessReport returns the AuditEvents about the patient, newest first,
// each redacted to what the patient may see: when, what was done
// (subtype, action, outcome, break-the-glass with its reason), who did it
// (the user's FHIR reference and the client), and the patient's own entity
// — never the network addresses, the other patients or resources of an
// event, or the query. The patient themselves may ask (a patient user, or
// an app in the patient's context allowed to read their Patient resource),
// and so may administrators (whoever may search AuditEvent), for patients
// of their organizations.
func (s *Service) AccessReport(ctx context.Context, req AccessReportRequest) (*AuditPage, error) {
	c := callerFrom(ctx)
	tr := &trace{action: audit.Operation, query: "Patient/" + req.Patient + "/$access-report"}
	tr.touch("", "", "", []string{req.Patient})
	p, err := s.accessReport(ctx, c, tr, req)
	return p, s.finish(ctx, c, tr, err)
}

func (s *Service) accessReport(ctx context.Context, c caller, tr *trace, req AccessReportRequest) (*AuditPage, error) {
	if !c.ok {
		tr.reason = "no authenticated principal"
		return nil, errUnauthenticated
	}
	if err := checkID(req.Patient); err != nil {
		return nil, err
	}
	q := store.AuditQuery{Refs: []store.AuditRef{{Name: store.AuditRefPatient, Value: "Patient/" + req.Patient}},
		Count: req.Count, Before: req.Before}
	preq := auth.Request{Interaction: auth.InteractionRead, ResourceType: "Patient", ID: req.Patient}
	own := auth.Decide(c.p, auth.Request{Interaction: auth.InteractionRead, ResourceType: "Patient", ID: req.Patient,
		Patients: []string{req.Patient}, PatientsKnown: true})
	switch {
	case own.Allowed && own.Patient == req.Patient:
		// The patient's own report.
	default:
		d, err := s.decide(c, tr, auth.Request{Interaction: auth.InteractionSearch, ResourceType: "AuditEvent"})
		if err != nil {
			if own.Private || kindOf(err) == outcome.Forbidden && c.p.Patient != "" {
				// A patient-context caller asking about someone else.
				return nil, auth.Decision{Private: true}.Err(preq)
			}
			return nil, err
		}
		if d.Organizations != nil {
			// Only patients of the administrator's organizations.
			v, err := s.st.Read(ctx, "Patient", req.Patient)
			if err != nil && kindOf(err) != outcome.Gone {
				return nil, err
			}
			if v == nil || !containsOrg(d.Organizations, v.Org) {
				tr.reason = "the patient belongs to no organization of the caller"
				return nil, auth.Decision{Private: true}.Err(preq)
			}
			q.AnyOf = []store.AuditRef{}
			for _, o := range d.Organizations {
				q.AnyOf = append(q.AnyOf, store.AuditRef{Name: store.AuditRefOrg, Value: o})
			}
		}
	}
	var page *store.AuditPage
	err := s.st.View(ctx, func(tx store.ReadTx) (err error) {
		page, err = tx.SearchAudit(ctx, q)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &AuditPage{Next: page.Next}
	for _, e := range page.Entries {
		if e.Record == nil {
			continue // purged by the retention policy
		}
		r, err := redact(e.Record, req.Patient)
		if err != nil {
			return nil, err
		}
		out.Events = append(out.Events, r)
	}
	return out, nil
}

func containsOrg(orgs []string, o string) bool {
	for _, x := range orgs {
		if x == o {
			return true
		}
	}
	return false
}

// redact keeps of an AuditEvent what its patient may see.
func redact(record []byte, patient string) ([]byte, error) {
	ev, err := fhir.Parse(record)
	if err != nil {
		return nil, outcome.Wrap(err, "an audit record is not JSON")
	}
	out := fhir.Value{Kind: fhir.Object}
	for _, m := range ev.Members {
		switch m.Name {
		case "resourceType", "id", "type", "subtype", "action", "recorded", "outcome", "purposeOfEvent", "source":
			out.Members = append(out.Members, m)
		case "agent":
			var agents []fhir.Value
			for _, a := range m.Value.Items {
				kept := fhir.Value{Kind: fhir.Object}
				for _, am := range a.Members {
					switch am.Name {
					case "type", "who", "requestor": // not network
						kept.Members = append(kept.Members, am)
					}
				}
				agents = append(agents, kept)
			}
			out.Members = append(out.Members, fhir.Member{Name: "agent", Value: fhir.Value{Kind: fhir.Array, Items: agents}})
		case "entity":
			var kept []fhir.Value
			for _, en := range m.Value.Items {
				if what, ok := en.Get("what"); ok && what.Str("reference") == "Patient/"+patient {
					kept = append(kept, en)
				}
			}
			if len(kept) > 0 {
				out.Members = append(out.Members, fhir.Member{Name: "entity", Value: fhir.Value{Kind: fhir.Array, Items: kept}})
			}
		}
	}
	if !strings.Contains(string(record), `"resourceType":"AuditEvent"`) {
		return nil, outcome.Errorf(outcome.Internal, "an audit record is not an AuditEvent")
	}
	return out.Marshal(), nil
}
