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

// UpdateRequest is an update: PUT [base]/[type]/[id].
// https://hl7.org/fhir/R4/http.html#update
// Version-aware updates (If-Match): https://hl7.org/fhir/R4/http.html#concurrency
type UpdateRequest struct {
	Type string
	ID   string
	Body []byte
	// Org is the caller's choice of owner when the update creates the
	// resource (CreateRequest.Org); an existing resource keeps its owner.
	Org string
	// IfMatch, when not "", is the versionId the current version must have
	// (the transport strips W/"…").
	IfMatch string
}

// UpdateResult is what an update did.
type UpdateResult struct {
	Version *store.Version
	Created bool // create-on-update: 201 rather than 200
}

// Update validates the body and stores it as the next version of type/id,
// creating the resource when there is none (update as create, with the
// client's id). The body's id must equal the id in the URL. A stale IfMatch
// is an error of kind Precondition (412). A resource outside the caller's
// boundary answers Private (404), never 412, so the write reveals nothing
// about it.
func (s *Service) Update(ctx context.Context, req UpdateRequest) (*UpdateResult, error) {
	c := callerFrom(ctx)
	tr := &trace{action: audit.Update}
	tr.touch(req.Type, req.ID, "", nil)
	out, err := s.update(ctx, c, tr, req)
	return out, s.finish(ctx, c, tr, err)
}

func (s *Service) update(ctx context.Context, c caller, tr *trace, req UpdateRequest) (*UpdateResult, error) {
	if err := s.preDecide(c, tr, auth.InteractionUpdate, req.Type, req.ID); err != nil {
		return nil, err
	}
	if err := s.checkType(req.Type); err != nil {
		return nil, err
	}
	if err := checkID(req.ID); err != nil {
		return nil, err
	}
	res, err := s.parse(req.Type, req.Body)
	if err != nil {
		return nil, err
	}
	switch id := res.Str("id"); {
	case id == "":
		return nil, outcome.New(outcome.Invalid, "required", "the resource must have an id equal to the id in the URL", req.Type+".id")
	case id != req.ID:
		return nil, outcome.New(outcome.Invalid, "invalid",
			fmt.Sprintf("the resource's id %q differs from the id in the URL %q", id, req.ID), req.Type+".id")
	}
	out := &UpdateResult{}
	err = s.st.Update(ctx, func(tx store.Tx) (err error) {
		out.Version, out.Created, err = s.updateTx(ctx, tx, c, tr, auth.InteractionUpdate, req.Type, req.ID, res, req.Org, req.IfMatch)
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

// updateTx is update (or patch, by in) inside a transaction; res's id is
// id. The current version decides first — its owner and compartments —
// so a resource outside the boundary is Private whatever else is wrong
// with the request; then the new content, which keeps the current owner.
func (s *Service) updateTx(ctx context.Context, tx store.Tx, c caller, tr *trace, in auth.Interaction, typ, id string, res *fhir.Value, chosen, ifMatch string) (*store.Version, bool, error) {
	areq := auth.Request{Interaction: in, ResourceType: typ, ID: id}
	created := false
	var org string
	cur, err := tx.Read(ctx, typ, id)
	switch kindOf(err) {
	case outcome.Internal:
		if err != nil {
			return nil, false, err
		}
		d, pats, err := s.decideOn(c, tr, areq, cur, cur)
		tr.touchVersion(cur, pats)
		if err != nil {
			return nil, false, err
		}
		if err := s.checkScope(tr, d, areq, cur.Body); err != nil {
			return nil, false, err
		}
		if err := checkUpdateSigned(cur, res); err != nil {
			return nil, false, err
		}
		org = cur.Org
	case outcome.Gone:
		// A deleted resource is revived under its owner, recorded on the
		// tombstone, which the store keeps in history.
		last, facts, err := lastVersions(ctx, tx, typ, id)
		if err != nil {
			return nil, false, err
		}
		if _, _, err := s.decideOn(c, tr, areq, last, facts); err != nil {
			return nil, false, err
		}
		org = last.Org
	case outcome.NotFound:
		created = true
		if org, err = s.writeOrg(ctx, tx, c, typ, chosen, auth.Update); err != nil {
			return nil, false, err
		}
	default:
		return nil, false, err
	}
	_, pats, err := s.decideNew(c, tr, in, typ, id, org, res)
	if err != nil {
		return nil, false, err
	}
	v, err := tx.Put(ctx, store.Write{Resource: res, Org: owner(typ, org), IfMatch: ifMatch})
	if err != nil {
		return nil, false, err
	}
	tr.wrote(v, pats)
	return v, created, nil
}
