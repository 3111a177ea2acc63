package interaction

import (
	"context"
	"fmt"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/auth"
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
	// Org is the organization the caller chooses to own the new resource;
	// "" lets writeOrg choose (the user's primary membership, …). The
	// caller must be allowed to write there.
	Org string
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
// kind Precondition (412). Only resources the caller may read are matched.
func (s *Service) Create(ctx context.Context, req CreateRequest) (*CreateResult, error) {
	c := callerFrom(ctx)
	tr := &trace{action: audit.Create}
	out, err := s.create(ctx, c, tr, req)
	return out, s.finish(ctx, c, tr, err)
}

func (s *Service) create(ctx context.Context, c caller, tr *trace, req CreateRequest) (*CreateResult, error) {
	if err := s.preDecide(c, tr, auth.InteractionCreate, req.Type, ""); err != nil {
		return nil, err
	}
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
		out.Version, out.Existing, err = s.createTx(ctx, tx, c, tr, req.Type, "", res, req.Org, req.IfNoneExist, cond)
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

// createTx is create inside a transaction. ifNoneExist, when not "", is the
// raw criteria (for messages) and cond their parsed form. id, when not "", is
// a new id the caller chose with store.NewID (a transaction assigns ids before
// it rewrites references); otherwise the store assigns one. chosen is the
// caller's choice of owner, if any.
func (s *Service) createTx(ctx context.Context, tx store.Tx, c caller, tr *trace, typ, id string, res *fhir.Value, chosen, ifNoneExist string, cond Condition) (*store.Version, bool, error) {
	org, err := s.writeOrg(ctx, tx, c, typ, chosen, auth.Create)
	if err != nil {
		return nil, false, err
	}
	if id == "" {
		// The id a client sends with a create is ignored (R4); it must not
		// count either when deciding whose compartment a new Patient is in.
		dropID(res)
	}
	_, pats, err := s.decideNew(c, tr, auth.InteractionCreate, typ, "", org, res)
	if err != nil {
		return nil, false, err
	}
	if ifNoneExist != "" {
		refs, err := s.matchAs(ctx, tx, c, auth.InteractionRead, typ, cond)
		if err != nil {
			return nil, false, err
		}
		switch len(refs) {
		case 0:
		case 1:
			v, err := tx.Read(ctx, typ, refs[0].ID)
			if err != nil {
				return nil, false, err
			}
			vp, err := s.versionPatients(v)
			tr.touchVersion(v, vp)
			return v, true, err
		default:
			return nil, false, outcome.New(outcome.Precondition, "duplicate",
				fmt.Sprintf("If-None-Exist %q matches %d resources", ifNoneExist, len(refs)))
		}
	}
	var v *store.Version
	if id != "" {
		setID(res, id)
		v, err = tx.Put(ctx, store.Write{Resource: res, Org: owner(typ, org)})
	} else {
		v, err = tx.Create(ctx, store.Write{Resource: res, Org: owner(typ, org)})
	}
	if err != nil {
		return nil, false, err
	}
	if typ == "Patient" {
		// A new Patient is in its own compartment, under its new id.
		if pats, err = s.versionPatients(v); err != nil {
			return nil, false, err
		}
	}
	tr.wrote(v, pats)
	return v, false, nil
}

// dropID removes the id member of res.
func dropID(res *fhir.Value) {
	for i, m := range res.Members {
		if m.Name == "id" {
			res.Members = append(res.Members[:i:i], res.Members[i+1:]...)
			return
		}
	}
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
