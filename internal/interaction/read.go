package interaction

import (
	"context"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/store"
)

// ReadRequest is a read: GET [base]/[type]/[id].
// https://hl7.org/fhir/R4/http.html#read
type ReadRequest struct {
	Type string
	ID   string
	// BreakGlass is the reason a practitioner gave to open a record
	// outside their organizations (auth.Request.BreakGlass); the access is
	// flagged in the audit trail.
	BreakGlass string
}

// Read returns the current version. A deleted resource is an error of kind
// Gone (410), an unknown one NotFound (404), one outside the caller's
// boundary Private (404, the same answer).
func (s *Service) Read(ctx context.Context, req ReadRequest) (*store.Version, error) {
	c := callerFrom(ctx)
	tr := &trace{action: audit.Read}
	tr.touch(req.Type, req.ID, "", nil)
	v, err := s.read(ctx, c, tr, req)
	return v, s.finish(ctx, c, tr, err)
}

func (s *Service) read(ctx context.Context, c caller, tr *trace, req ReadRequest) (*store.Version, error) {
	areq := auth.Request{Interaction: auth.InteractionRead, ResourceType: req.Type, ID: req.ID, BreakGlass: req.BreakGlass}
	if err := s.preDecide(c, tr, areq.Interaction, req.Type, req.ID); err != nil {
		return nil, err
	}
	if err := s.checkType(req.Type); err != nil {
		return nil, err
	}
	if err := checkID(req.ID); err != nil {
		return nil, err
	}
	v, err := s.st.Read(ctx, req.Type, req.ID)
	if err != nil {
		return nil, s.st.View(ctx, func(tx store.ReadTx) error {
			return s.authorizeMissing(ctx, tx, c, tr, areq, err)
		})
	}
	if err := s.authorizeFound(c, tr, areq, v); err != nil {
		return nil, err
	}
	return v, nil
}
