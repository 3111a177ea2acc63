package interaction

import (
	"context"

	"github.com/continuum-ehr/continuum/internal/store"
)

// VReadRequest is a version read: GET [base]/[type]/[id]/_history/[vid].
// https://hl7.org/fhir/R4/http.html#vread
type VReadRequest struct {
	Type      string
	ID        string
	VersionID string
}

// VRead returns one version. The version a delete wrote is an error of kind
// Gone (410); an unknown resource or version NotFound (404).
func (s *Service) VRead(ctx context.Context, req VReadRequest) (*store.Version, error) {
	if err := s.checkType(req.Type); err != nil {
		return nil, err
	}
	if err := checkID(req.ID); err != nil {
		return nil, err
	}
	var v *store.Version
	err := s.st.View(ctx, func(tx store.ReadTx) (err error) {
		v, err = tx.VRead(ctx, req.Type, req.ID, req.VersionID)
		return err
	})
	return v, err
}
