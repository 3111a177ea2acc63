package interaction

import (
	"context"
	"slices"
	"time"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// HistoryRequest is a history interaction at one of three levels:
// GET [base]/[type]/[id]/_history (Type and ID), GET [base]/[type]/_history
// (Type), GET [base]/_history (neither).
// https://hl7.org/fhir/R4/http.html#history
type HistoryRequest struct {
	Type  string
	ID    string
	Since time.Time // _since; zero for none
	// AtFrom and AtTo are _at's period (https://hl7.org/fhir/R4/http.html#history):
	// versions current at some moment of [AtFrom, AtTo); AtTo zero for the
	// instant AtFrom.
	AtFrom, AtTo time.Time
	Count        int // _count; 0 for the default
	// Cursor continues from a previous page's Next (the transport carries it
	// in the next link).
	Cursor     string
	BreakGlass string // instance history only; see ReadRequest.BreakGlass
}

// History returns one page of versions, newest first, deletes included (as
// versions without a body). Pages are stable: writes made while a client
// pages do not shift the following pages.
//
// Authorization narrows the query before it runs:
//
//   - instance history is decided like a read of the resource (its latest
//     version's owner and compartments); for a patient-context caller every
//     version of the page must be in the patient's compartment too, or the
//     whole request is Private — an old version that named another patient
//     is never shown;
//   - type and system history run with the caller's organizations
//     (HistoryQuery.Orgs) and, at system level, only the types the caller
//     may search (HistoryQuery.Types); resources of other organizations
//     never reach a page, so page sizes and next links are those of the
//     permitted subset;
//   - type and system history are Forbidden to patient-context callers
//     and under v2 scope constraints: narrowing them needs the search
//     index (compartment and constraint searches); search is the way to
//     list a patient's resources.
func (s *Service) History(ctx context.Context, req HistoryRequest) (*store.HistoryPage, error) {
	c := callerFrom(ctx)
	tr := &trace{action: audit.HistorySystem}
	switch {
	case req.ID != "":
		tr.action = audit.HistoryInstance
		tr.touch(req.Type, req.ID, "", nil)
	case req.Type != "":
		tr.action = audit.HistoryType
		tr.query = req.Type + "/_history"
	default:
		tr.query = "_history"
	}
	page, err := s.history(ctx, c, tr, req)
	return page, s.finish(ctx, c, tr, err)
}

func (s *Service) history(ctx context.Context, c caller, tr *trace, req HistoryRequest) (*store.HistoryPage, error) {
	if req.Type != "" {
		if err := s.preDecide(c, tr, auth.InteractionHistory, req.Type, req.ID); err != nil {
			return nil, err
		}
		if err := s.checkType(req.Type); err != nil {
			return nil, err
		}
	} else if !c.ok {
		tr.reason = "no authenticated principal"
		return nil, errUnauthenticated
	}
	if req.ID != "" {
		if err := checkID(req.ID); err != nil {
			return nil, err
		}
	}
	q := store.HistoryQuery{Type: req.Type, ID: req.ID, Since: req.Since,
		AtFrom: req.AtFrom, AtTo: req.AtTo, Count: req.Count, Cursor: req.Cursor}
	var page *store.HistoryPage
	err := s.st.View(ctx, func(tx store.ReadTx) (err error) {
		switch {
		case req.ID != "":
			areq := auth.Request{Interaction: auth.InteractionHistory, ResourceType: req.Type, ID: req.ID, BreakGlass: req.BreakGlass}
			last, facts, err := lastVersions(ctx, tx, req.Type, req.ID)
			if err != nil {
				return err
			}
			d, pats, err := s.decideOn(c, tr, areq, last, facts)
			tr.touch("", "", "", pats)
			if err != nil {
				return err
			}
			if page, err = tx.History(ctx, q); err != nil {
				return err
			}
			// Every version shown must be one the caller may see.
			for _, v := range page.Versions {
				vp, err := s.versionPatients(v)
				if err != nil {
					return err
				}
				if v.Body != nil && d.Patient != "" && !slices.Contains(vp, d.Patient) {
					tr.reason = "a version of the history is outside the compartment of the patient in context"
					return auth.Decision{Private: true}.Err(areq)
				}
				if err := s.checkScope(tr, d, areq, v.Body); err != nil {
					return err
				}
				tr.touch("", "", "", vp)
			}
			return nil
		case req.Type != "":
			d, err := s.decide(c, tr, auth.Request{Interaction: auth.InteractionHistory, ResourceType: req.Type})
			if err != nil {
				return err
			}
			if err := narrowable(tr, d, req.Type); err != nil {
				return err
			}
			q.Orgs = orgFilter(d)
		default:
			if err := s.narrowSystem(c, tr, &q); err != nil {
				return err
			}
		}
		page, err = tx.History(ctx, q)
		return err
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// orgFilter is the HistoryQuery.Orgs of a decision: nil (no narrowing)
// when the decision has none, else its organizations (never nil, so an
// empty list still narrows to the directory types).
func orgFilter(d auth.Decision) []string {
	if d.Organizations == nil {
		return nil
	}
	return append([]string{}, d.Organizations...)
}

// narrowable refuses type-level history the store cannot narrow.
func narrowable(tr *trace, d auth.Decision, typ string) error {
	switch {
	case d.Patient != "":
		tr.reason = "type and system history cannot be narrowed to a patient compartment"
		return outcome.New(outcome.Forbidden, "forbidden",
			"history of "+typ+" is not available with patient-context access: search for the patient's resources instead")
	case len(d.Scope) > 0:
		tr.reason = "type and system history cannot be narrowed to scope constraints"
		return outcome.New(outcome.Forbidden, "forbidden",
			"history of "+typ+" is not available under scope constraints: search instead")
	}
	return nil
}

// narrowSystem narrows system history to the types the caller may see
// with it, under one organization boundary. Types bound by a compartment or
// scope constraint are left out when other types are allowed (they need
// search to narrow); when the allowed types would need different
// organization boundaries (a user holding different roles at different
// organizations) the request is Forbidden: ask for type history instead.
func (s *Service) narrowSystem(c caller, tr *trace, q *store.HistoryQuery) error {
	var (
		types   []string
		orgs    []string
		orgsSet bool
		refused int
	)
	for _, typ := range s.spec.ResourceTypes() {
		if t := s.spec.Resource(typ); t == nil || t.Abstract {
			continue
		}
		d := auth.Decide(c.p, auth.Request{Interaction: auth.InteractionHistory, ResourceType: typ})
		if !d.Allowed {
			continue
		}
		if d.Patient != "" || len(d.Scope) > 0 {
			refused++
			continue
		}
		types = append(types, typ)
		if auth.Shared(typ) || d.Organizations == nil && c.p.Kind == auth.System {
			continue
		}
		o := orgFilter(d)
		switch {
		case !orgsSet:
			orgs, orgsSet = o, true
		case !slices.Equal(orgs, o):
			tr.reason = "system history across different organization boundaries per type"
			return outcome.New(outcome.Forbidden, "forbidden",
				"system history is not available to a user whose roles differ between organizations: use type history")
		}
	}
	if len(types) == 0 || (refused > 0 && !orgsSet) {
		tr.reason = "no type may be listed by system history"
		return outcome.New(outcome.Forbidden, "forbidden", "system history is not available with this access: search instead")
	}
	q.Types, q.Orgs = types, orgs
	if c.p.Kind == auth.System {
		q.Types = nil // everything
	}
	return nil
}
