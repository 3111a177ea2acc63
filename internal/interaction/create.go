package interaction

import (
	"context"
	"fmt"

	"github.com/continuum-ehr/continuum/internal/fhir"
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
	err = s.st.Update(ctx, func(tx store.Tx) (err error) {
		out.Version, out.Existing, err = createTx(ctx, tx, req.Type, "", res, req.Org, req.IfNoneExist, cond)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// createTx is create inside a transaction. ifNoneExist, when not "", is the
// raw criteria (for messages) and cond their parsed form. id, when not "", is
// a new id the caller chose with store.NewID (a transaction assigns ids before
// it rewrites references); otherwise the store assigns one.
func createTx(ctx context.Context, tx store.Tx, typ, id string, res *fhir.Value, org, ifNoneExist string, cond Condition) (*store.Version, bool, error) {
	if ifNoneExist != "" {
		refs, err := match(ctx, tx, typ, cond)
		if err != nil {
			return nil, false, err
		}
		switch len(refs) {
		case 0:
		case 1:
			v, err := tx.Read(ctx, typ, refs[0].ID)
			return v, err == nil, err
		default:
			return nil, false, outcome.New(outcome.Precondition, "duplicate",
				fmt.Sprintf("If-None-Exist %q matches %d resources", ifNoneExist, len(refs)))
		}
	}
	if id != "" {
		setID(res, id)
		v, err := tx.Put(ctx, store.Write{Resource: res, Org: owner(typ, org)})
		return v, false, err
	}
	v, err := tx.Create(ctx, store.Write{Resource: res, Org: owner(typ, org)})
	return v, false, err
}

// setID sets the id member of res, after resourceType when it is new.
func setID(res *fhir.Value, id string) {
	if v, ok := res.Get("id"); ok {
		*v = fhir.Value{Kind: fhir.String, Text: id}
		return
	}
	at := 0
	if len(res.Members) > 0 && res.Members[0].Name == "resourceType" {
		at = 1
	}
	res.Members = append(res.Members[:at], append([]fhir.Member{{Name: "id", Value: fhir.Value{Kind: fhir.String, Text: id}}}, res.Members[at:]...)...)
}
