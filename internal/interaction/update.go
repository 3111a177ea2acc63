package interaction

import (
	"context"
	"fmt"

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
	Org  string // the organization making the write, and owning a new resource
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
// is an error of kind Precondition (412). Another organization's resource
// answers Private (404), never 412, so the write reveals nothing.
func (s *Service) Update(ctx context.Context, req UpdateRequest) (*UpdateResult, error) {
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
		out.Version, out.Created, err = updateTx(ctx, tx, req.Type, req.ID, res, req.Org, req.IfMatch)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// updateTx is update inside a transaction; res's id is id.
func updateTx(ctx context.Context, tx store.Tx, typ, id string, res *fhir.Value, org, ifMatch string) (*store.Version, bool, error) {
	created := false
	cur, err := tx.Read(ctx, typ, id)
	switch kindOf(err) {
	case outcome.Internal:
		if err != nil {
			return nil, false, err
		}
		if private(cur, typ, org) {
			return nil, false, privateErr(typ, id)
		}
		if err := checkUpdateSigned(cur, res); err != nil {
			return nil, false, err
		}
	case outcome.Gone:
		// A deleted resource is revived; its owner was recorded on the
		// tombstone, which the store keeps in history.
		h, err := tx.History(ctx, store.HistoryQuery{Type: typ, ID: id, Count: 1})
		if err != nil {
			return nil, false, err
		}
		if len(h.Versions) == 1 && private(h.Versions[0], typ, org) {
			return nil, false, privateErr(typ, id)
		}
	case outcome.NotFound:
		created = true
	default:
		return nil, false, err
	}
	v, err := tx.Put(ctx, store.Write{Resource: res, Org: owner(typ, org), IfMatch: ifMatch})
	return v, created, err
}
