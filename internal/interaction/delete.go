package interaction

import (
	"context"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// DeleteRequest is a delete: DELETE [base]/[type]/[id].
// https://hl7.org/fhir/R4/http.html#delete
type DeleteRequest struct {
	Type    string
	ID      string
	IfMatch string // when not "", the versionId the current version must have
}

// Delete deletes type/id logically: a tombstone version is stored, reads
// answer Gone, history keeps every version. It returns the tombstone, or nil
// when there was nothing to delete: R4 answers a delete of an unknown or
// already deleted resource with success, so it does too — and so it answers
// for a resource outside the caller's boundary, which it does not delete
// (the denial is in the audit trail): any other answer would reveal that
// the resource exists.
func (s *Service) Delete(ctx context.Context, req DeleteRequest) (*store.Version, error) {
	c := callerFrom(ctx)
	tr := &trace{action: audit.Delete}
	tr.touch(req.Type, req.ID, "", nil)
	out, err := s.delete(ctx, c, tr, req)
	return out, s.finish(ctx, c, tr, err)
}

func (s *Service) delete(ctx context.Context, c caller, tr *trace, req DeleteRequest) (*store.Version, error) {
	if err := s.preDecide(c, tr, auth.InteractionDelete, req.Type, req.ID); err != nil {
		return nil, err
	}
	if err := s.checkType(req.Type); err != nil {
		return nil, err
	}
	if err := checkID(req.ID); err != nil {
		return nil, err
	}
	var out *store.Version
	err := s.st.Update(ctx, func(tx store.Tx) (err error) {
		out, err = s.deleteTx(ctx, tx, c, tr, req.Type, req.ID, req.IfMatch)
		if err != nil || out == nil {
			return err
		}
		return s.commitTx(ctx, tx, c, tr)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// deleteTx is delete inside a transaction: nil, nil when there was nothing
// to delete, or nothing the caller may know of (tr.hidden then holds the
// denial for the audit record).
func (s *Service) deleteTx(ctx context.Context, tx store.Tx, c caller, tr *trace, typ, id, ifMatch string) (*store.Version, error) {
	areq := auth.Request{Interaction: auth.InteractionDelete, ResourceType: typ, ID: id}
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
	d, pats, err := s.decideOn(c, tr, areq, cur, cur)
	tr.touchVersion(cur, pats)
	if err == nil {
		err = s.checkScope(tr, d, areq, cur.Body)
	}
	if kindOf(err) == outcome.Private {
		tr.hidden = err
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := checkDeleteSigned(cur); err != nil {
		return nil, err
	}
	v, err := tx.Delete(ctx, typ, id, ifMatch)
	if err != nil {
		return nil, err
	}
	tr.wrote(v, pats)
	return v, nil
}
