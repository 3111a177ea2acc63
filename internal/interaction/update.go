package interaction

import (
	"context"
	"fmt"

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
	err = s.st.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.Read(ctx, req.Type, req.ID)
		switch kindOf(err) {
		case outcome.Internal:
			if err != nil {
				return err
			}
			if private(cur, req.Type, req.Org) {
				return privateErr(req.Type, req.ID)
			}
		case outcome.Gone:
			// A deleted resource is revived; its owner was recorded on
			// the tombstone, which the store keeps in history.
			h, err := tx.History(ctx, store.HistoryQuery{Type: req.Type, ID: req.ID, Count: 1})
			if err != nil {
				return err
			}
			if len(h.Versions) == 1 && private(h.Versions[0], req.Type, req.Org) {
				return privateErr(req.Type, req.ID)
			}
		case outcome.NotFound:
			out.Created = true
		default:
			return err
		}
		v, err := tx.Put(ctx, store.Write{Resource: res, Org: owner(req.Type, req.Org), IfMatch: req.IfMatch})
		out.Version = v
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
