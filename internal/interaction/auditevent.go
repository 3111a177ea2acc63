package interaction

import (
	"context"
	"strings"
	"time"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// AuditEvents live in the audit trail, not among clinical resources
// (internal/audit): they are read and searched here, by those whose role
// allows reading AuditEvent (administrators; auth's role table), narrowed
// to the events about their organizations' resources. Reading the trail is
// itself audited.

// AuditSearchRequest is a search of the audit trail: GET [base]/AuditEvent
// with the R4 AuditEvent search parameters patient, entity, agent, subtype
// and date (https://hl7.org/fhir/R4/auditevent.html#search). Every given
// parameter must match.
type AuditSearchRequest struct {
	Patient string // a Patient id or "Patient/id"
	Entity  string // "Type/id"
	Agent   string // a user id, "Practitioner/id", "Patient/id" or a client id
	Subtype string // the interaction: read, create, …
	Purpose string // "BTG": the break-the-glass events
	// From and To bound AuditEvent.recorded: [From, To).
	From, To time.Time
	Count    int
	Before   int64 // the cursor of the next page
	// Query is the search as received, for the audit record.
	Query string
}

// AuditPage is one page of AuditEvents, newest first.
type AuditPage struct {
	Events [][]byte // AuditEvent JSON, as recorded
	Next   int64    // AuditSearchRequest.Before of the next page; 0 on the last
}

// AuditRead returns the AuditEvent with id, as recorded.
func (s *Service) AuditRead(ctx context.Context, id string) ([]byte, error) {
	c := callerFrom(ctx)
	tr := &trace{action: audit.Read}
	tr.touch("AuditEvent", id, "", nil)
	b, err := s.auditRead(ctx, c, tr, id)
	return b, s.finish(ctx, c, tr, err)
}

func (s *Service) auditRead(ctx context.Context, c caller, tr *trace, id string) ([]byte, error) {
	req := auth.Request{Interaction: auth.InteractionRead, ResourceType: "AuditEvent", ID: id}
	d, err := s.decide(c, tr, req)
	if err != nil {
		return nil, err
	}
	if err := checkID(id); err != nil {
		return nil, err
	}
	var e *store.AuditEntry
	err = s.st.View(ctx, func(tx store.ReadTx) (err error) {
		e, err = tx.ReadAudit(ctx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if d.Organizations != nil && !anyOrg(e.Refs, d.Organizations) {
		tr.reason = "the event is about no organization of the caller"
		return nil, auth.Decision{Private: true}.Err(req)
	}
	if e.Record == nil {
		return nil, outcome.Errorf(outcome.Gone, "AuditEvent/%s was purged by the retention policy", id)
	}
	return e.Record, nil
}

func anyOrg(refs []store.AuditRef, orgs []string) bool {
	for _, r := range refs {
		if r.Name == store.AuditRefOrg {
			for _, o := range orgs {
				if r.Value == o {
					return true
				}
			}
		}
	}
	return false
}

// AuditSearch searches the audit trail, narrowed before it runs to the
// events about the caller's organizations.
func (s *Service) AuditSearch(ctx context.Context, req AuditSearchRequest) (*AuditPage, error) {
	c := callerFrom(ctx)
	tr := &trace{action: audit.SearchType, query: req.Query}
	p, err := s.auditSearch(ctx, c, tr, req)
	return p, s.finish(ctx, c, tr, err)
}

func (s *Service) auditSearch(ctx context.Context, c caller, tr *trace, req AuditSearchRequest) (*AuditPage, error) {
	d, err := s.decide(c, tr, auth.Request{Interaction: auth.InteractionSearch, ResourceType: "AuditEvent"})
	if err != nil {
		return nil, err
	}
	q := store.AuditQuery{From: req.From, To: req.To, Count: req.Count, Before: req.Before}
	if req.Patient != "" {
		q.Refs = append(q.Refs, store.AuditRef{Name: store.AuditRefPatient, Value: "Patient/" + strings.TrimPrefix(req.Patient, "Patient/")})
	}
	if req.Entity != "" {
		q.Refs = append(q.Refs, store.AuditRef{Name: store.AuditRefEntity, Value: req.Entity})
	}
	if req.Agent != "" {
		q.Refs = append(q.Refs, store.AuditRef{Name: store.AuditRefAgent, Value: req.Agent})
	}
	if req.Purpose != "" {
		q.Refs = append(q.Refs, store.AuditRef{Name: store.AuditRefPurpose, Value: req.Purpose})
	}
	if req.Subtype != "" {
		q.Refs = append(q.Refs, store.AuditRef{Name: store.AuditRefAction, Value: req.Subtype})
	}
	if d.Organizations != nil {
		q.AnyOf = []store.AuditRef{}
		for _, o := range d.Organizations {
			q.AnyOf = append(q.AnyOf, store.AuditRef{Name: store.AuditRefOrg, Value: o})
		}
	}
	var page *store.AuditPage
	err = s.st.View(ctx, func(tx store.ReadTx) (err error) {
		page, err = tx.SearchAudit(ctx, q)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &AuditPage{Next: page.Next}
	for _, e := range page.Entries {
		if e.Record != nil {
			out.Events = append(out.Events, e.Record)
		}
		tr.touch("AuditEvent", e.ID, "", nil)
	}
	return out, nil
}
