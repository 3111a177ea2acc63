package interaction

import (
	"context"

	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// DeleteRequest is a delete: DELETE [base]/[type]/[id].
// https://hl7.org/fhir/R4/http.html#delete
type DeleteRequest struct {
	Type    string
	ID      string
	Org     string // the organization making the write
	IfMatch string // when not "", the versionId the current version must have
}

// Delete deletes type/id logically: a tombstone version is stored, reads
// answer Gone, history keeps every version. It returns the tombstone, or nil
// when there was nothing to delete: R4 answers a delete of an unknown or
// already deleted resource with success, so it does too.
func (s *Service) Delete(ctx context.Context, req DeleteRequest) (*store.Version, error) {
	if err := s.checkType(req.Type); err != nil {
		return nil, err
	}
	if err := checkID(req.ID); err != nil {
		return nil, err
	}
	var out *store.Version
	err := s.st.Update(ctx, func(tx store.Tx) (err error) {
		out, err = deleteTx(ctx, tx, req.Type, req.ID, req.Org, req.IfMatch)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// deleteTx is delete inside a transaction: nil, nil when there was nothing
// to delete.
func deleteTx(ctx context.Context, tx store.Tx, typ, id, org, ifMatch string) (*store.Version, error) {
	cur, err := tx.Read(ctx, typ, id)
	switch kindOf(err) {
	case outcome.Internal:
		if err != nil {
			return nil, err
		}
	case outcome.NotFound, outcome.Gone:
		return nil, nil
	default:
		return nil, err
	}
	if private(cur, typ, org) {
		return nil, privateErr(typ, id)
	}
	if err := checkDeleteSigned(cur); err != nil {
		return nil, err
	}
	return tx.Delete(ctx, typ, id, ifMatch)
}
