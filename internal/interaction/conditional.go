package interaction

import (
	"context"
	"fmt"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// ConditionalUpdateRequest is a conditional update: PUT [base]/[type]?criteria.
// https://hl7.org/fhir/R4/http.html#cond-update
type ConditionalUpdateRequest struct {
	Type     string
	Criteria string // the query: identifier=[system|]value or _id=id, until search lands
	Body     []byte
	Org      string // the owner of a resource the update creates (CreateRequest.Org)
	IfMatch  string
}

// ConditionalUpdate updates the one resource the criteria match, or creates
// one when none matches (with the body's id, else a new one); several matches
// are an error of kind Precondition (412). The match and the write happen in
// one transaction. Only resources the caller may update are matched: others
// are as if they did not exist.
func (s *Service) ConditionalUpdate(ctx context.Context, req ConditionalUpdateRequest) (*UpdateResult, error) {
	c := callerFrom(ctx)
	tr := &trace{action: audit.Update, query: req.Type + "?" + req.Criteria}
	out, err := s.conditionalUpdate(ctx, c, tr, req)
	return out, s.finish(ctx, c, tr, err)
}

func (s *Service) conditionalUpdate(ctx context.Context, c caller, tr *trace, req ConditionalUpdateRequest) (*UpdateResult, error) {
	if err := s.preDecide(c, tr, auth.InteractionUpdate, req.Type, ""); err != nil {
		return nil, err
	}
	if err := s.checkType(req.Type); err != nil {
		return nil, err
	}
	cond, err := ParseCondition(req.Criteria)
	if err != nil {
		return nil, err
	}
	res, err := s.parse(req.Type, req.Body)
	if err != nil {
		return nil, err
	}
	out := &UpdateResult{}
	err = s.st.Update(ctx, func(tx store.Tx) error {
		refs, err := s.matchAs(ctx, tx, c, auth.InteractionUpdate, req.Type, cond)
		if err != nil {
			return err
		}
		id := res.Str("id")
		switch len(refs) {
		case 0:
			if id == "" {
				id = store.NewID()
			}
		case 1:
			if id != "" && id != refs[0].ID {
				return outcome.New(outcome.Invalid, "invalid",
					fmt.Sprintf("the resource's id %q differs from the id of the resource the criteria match", id), req.Type+".id")
			}
			id = refs[0].ID
		default:
			return outcome.New(outcome.Precondition, "multiple-matches",
				fmt.Sprintf("%s?%s matches %d resources", req.Type, req.Criteria, len(refs)))
		}
		if err := checkID(id); err != nil {
			return err
		}
		setID(res, id)
		out.Version, out.Created, err = s.updateTx(ctx, tx, c, tr, auth.InteractionUpdate, req.Type, id, res, req.Org, req.IfMatch)
		if err != nil {
			return err
		}
		return s.commitTx(ctx, tx, c, tr)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ConditionalDeleteRequest is a conditional delete: DELETE [base]/[type]?criteria.
// https://hl7.org/fhir/R4/http.html#delete (conditional delete)
type ConditionalDeleteRequest struct {
	Type     string
	Criteria string
}

// ConditionalDelete deletes the one resource the criteria match. No match
// deletes nothing (nil, no error); several are an error of kind Precondition
// (412): deleting several at once is an option of R4 this server does not
// take. Only resources the caller may delete are matched.
func (s *Service) ConditionalDelete(ctx context.Context, req ConditionalDeleteRequest) (*store.Version, error) {
	c := callerFrom(ctx)
	tr := &trace{action: audit.Delete, query: req.Type + "?" + req.Criteria}
	out, err := s.conditionalDelete(ctx, c, tr, req)
	return out, s.finish(ctx, c, tr, err)
}

func (s *Service) conditionalDelete(ctx context.Context, c caller, tr *trace, req ConditionalDeleteRequest) (*store.Version, error) {
	if err := s.preDecide(c, tr, auth.InteractionDelete, req.Type, ""); err != nil {
		return nil, err
	}
	if err := s.checkType(req.Type); err != nil {
		return nil, err
	}
	cond, err := ParseCondition(req.Criteria)
	if err != nil {
		return nil, err
	}
	var out *store.Version
	err = s.st.Update(ctx, func(tx store.Tx) error {
		refs, err := s.matchAs(ctx, tx, c, auth.InteractionDelete, req.Type, cond)
		if err != nil {
			return err
		}
		switch len(refs) {
		case 0:
			return nil
		case 1:
			out, err = s.deleteTx(ctx, tx, c, tr, req.Type, refs[0].ID, "")
			if err != nil || out == nil {
				return err
			}
			return s.commitTx(ctx, tx, c, tr)
		}
		return outcome.New(outcome.Precondition, "multiple-matches",
			fmt.Sprintf("%s?%s matches %d resources", req.Type, req.Criteria, len(refs)))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
