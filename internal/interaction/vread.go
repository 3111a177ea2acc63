package interaction

import (
	"context"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/store"
)

// VReadRequest is a version read: GET [base]/[type]/[id]/_history/[vid].
// https://hl7.org/fhir/R4/http.html#vread
type VReadRequest struct {
	Type       string
	ID         string
	VersionID  string
	BreakGlass string // see ReadRequest.BreakGlass
}

// VRead returns one version. The version a delete wrote is an error of kind
// Gone (410); an unknown resource or version NotFound (404); a version
// outside the caller's boundary Private (404). The version is decided on
// its own facts: its owner and the compartments its content is in, so an
// old version that named another patient stays private to this one's.
func (s *Service) VRead(ctx context.Context, req VReadRequest) (*store.Version, error) {
	c := callerFrom(ctx)
	tr := &trace{action: audit.VRead}
	tr.touch(req.Type, req.ID, req.VersionID, nil)
	v, err := s.vread(ctx, c, tr, req)
	return v, s.finish(ctx, c, tr, err)
}

func (s *Service) vread(ctx context.Context, c caller, tr *trace, req VReadRequest) (*store.Version, error) {
	areq := auth.Request{Interaction: auth.InteractionVRead, ResourceType: req.Type, ID: req.ID, BreakGlass: req.BreakGlass}
	if err := s.preDecide(c, tr, areq.Interaction, req.Type, req.ID); err != nil {
		return nil, err
	}
	if err := s.checkType(req.Type); err != nil {
		return nil, err
	}
	if err := checkID(req.ID); err != nil {
		return nil, err
	}
	var v *store.Version
	err := s.st.View(ctx, func(tx store.ReadTx) (err error) {
		v, err = s.readIn(ctx, tx, c, tr, req.Type, req.ID, req.VersionID, req.BreakGlass)
		return err
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}
