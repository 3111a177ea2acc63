package interaction

import (
	"context"

	"github.com/continuum-ehr/continuum/internal/store"
)

// ReadRequest is a read: GET [base]/[type]/[id].
// https://hl7.org/fhir/R4/http.html#read
type ReadRequest struct {
	Type string
	ID   string
}

// Read returns the current version. A deleted resource is an error of kind
// Gone (410), an unknown one NotFound (404).
func (s *Service) Read(ctx context.Context, req ReadRequest) (*store.Version, error) {
	if err := s.checkType(req.Type); err != nil {
		return nil, err
	}
	if err := checkID(req.ID); err != nil {
		return nil, err
	}
	return s.st.Read(ctx, req.Type, req.ID)
}
