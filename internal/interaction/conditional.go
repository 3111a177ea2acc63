package interaction

import (
	"context"
	"fmt"

	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// ConditionalUpdateRequest is a conditional update: PUT [base]/[type]?criteria.
// https://hl7.org/fhir/R4/http.html#cond-update
type ConditionalUpdateRequest struct {
	Type     string
	Criteria string // the query: identifier=[system|]value or _id=id, until search lands
	Body     []byte
	Org      string
	IfMatch  string
}

// ConditionalUpdate updates the one resource the criteria match, or creates
// one when none matches (with the body's id, else a new one); several matches
// are an error of kind Precondition (412). The match and the write happen in
// one transaction.
func (s *Service) ConditionalUpdate(ctx context.Context, req ConditionalUpdateRequest) (*UpdateResult, error) {
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
		refs, err := match(ctx, tx, req.Type, cond)
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
		out.Version, out.Created, err = updateTx(ctx, tx, req.Type, id, res, req.Org, req.IfMatch)
		return err
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
	Org      string
}

// ConditionalDelete deletes the one resource the criteria match. No match
// deletes nothing (nil, no error); several are an error of kind Precondition
// (412): deleting several at once is an option of R4 this server does not
// take.
func (s *Service) ConditionalDelete(ctx context.Context, req ConditionalDeleteRequest) (*store.Version, error) {
	if err := s.checkType(req.Type); err != nil {
		return nil, err
	}
	cond, err := ParseCondition(req.Criteria)
	if err != nil {
		return nil, err
	}
	var out *store.Version
	err = s.st.Update(ctx, func(tx store.Tx) error {
		refs, err := match(ctx, tx, req.Type, cond)
		if err != nil {
			return err
		}
		switch len(refs) {
		case 0:
			return nil
		case 1:
			out, err = deleteTx(ctx, tx, req.Type, refs[0].ID, req.Org, "")
			return err
		}
		return outcome.New(outcome.Precondition, "multiple-matches",
			fmt.Sprintf("%s?%s matches %d resources", req.Type, req.Criteria, len(refs)))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
