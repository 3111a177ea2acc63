package interaction

import (
	"context"
	"fmt"

	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// CreateRequest is a create: POST [base]/[type].
// https://hl7.org/fhir/R4/http.html#create
// Conditional create: https://hl7.org/fhir/R4/http.html#ccreate
type CreateRequest struct {
	Type string
	Body []byte
	Org  string // the organization the resource belongs to
	// IfNoneExist, when not "", is the If-None-Exist query
	// ("identifier=system|value" or "_id=id").
	IfNoneExist string
}

// CreateResult is what a create did.
type CreateResult struct {
	Version *store.Version
	// Existing is true when IfNoneExist matched one resource, which Version
	// is, and nothing was created (200 OK rather than 201 Created).
	Existing bool
}

// Create validates the body and stores it as a new resource with a new id;
// an id in the body is ignored, as R4 requires. With IfNoneExist, the match
// and the create happen in one transaction, so concurrent identical
// conditional creates yield one resource; several matches are an error of
// kind Precondition (412).
func (s *Service) Create(ctx context.Context, req CreateRequest) (*CreateResult, error) {
	if err := s.checkType(req.Type); err != nil {
		return nil, err
	}
	var cond Condition
	if req.IfNoneExist != "" {
		var err error
		if cond, err = ParseCondition(req.IfNoneExist); err != nil {
			return nil, err
		}
	}
	res, err := s.parse(req.Type, req.Body)
	if err != nil {
		return nil, err
	}
	out := &CreateResult{}
	err = s.st.Update(ctx, func(tx store.Tx) error {
		if req.IfNoneExist != "" {
			refs, err := match(ctx, tx, req.Type, cond)
			if err != nil {
				return err
			}
			switch len(refs) {
			case 0:
			case 1:
				v, err := tx.Read(ctx, req.Type, refs[0].ID)
				if err != nil {
					return err
				}
				out.Version, out.Existing = v, true
				return nil
			default:
				return outcome.New(outcome.Precondition, "duplicate",
					fmt.Sprintf("If-None-Exist %q matches %d resources", req.IfNoneExist, len(refs)))
			}
		}
		v, err := tx.Create(ctx, store.Write{Resource: res, Org: owner(req.Type, req.Org)})
		out.Version = v
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
