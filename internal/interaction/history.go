package interaction

import (
	"context"
	"time"

	"github.com/continuum-ehr/continuum/internal/store"
)

// HistoryRequest is a history interaction at one of three levels:
// GET [base]/[type]/[id]/_history (Type and ID), GET [base]/[type]/_history
// (Type), GET [base]/_history (neither).
// https://hl7.org/fhir/R4/http.html#history
type HistoryRequest struct {
	Type  string
	ID    string
	Since time.Time // _since; zero for none
	// AtFrom and AtTo are _at's period (https://hl7.org/fhir/R4/http.html#history):
	// versions current at some moment of [AtFrom, AtTo); AtTo zero for the
	// instant AtFrom.
	AtFrom, AtTo time.Time
	Count        int // _count; 0 for the default
	// Cursor continues from a previous page's Next (the transport carries it
	// in the next link).
	Cursor string
}

// History returns one page of versions, newest first, deletes included (as
// versions without a body). Pages are stable: writes made while a client
// pages do not shift the following pages.
func (s *Service) History(ctx context.Context, req HistoryRequest) (*store.HistoryPage, error) {
	if req.Type != "" {
		if err := s.checkType(req.Type); err != nil {
			return nil, err
		}
	}
	if req.ID != "" {
		if err := checkID(req.ID); err != nil {
			return nil, err
		}
	}
	var page *store.HistoryPage
	err := s.st.View(ctx, func(tx store.ReadTx) (err error) {
		page, err = tx.History(ctx, store.HistoryQuery{Type: req.Type, ID: req.ID, Since: req.Since,
			AtFrom: req.AtFrom, AtTo: req.AtTo, Count: req.Count, Cursor: req.Cursor})
		return err
	})
	return page, err
}
