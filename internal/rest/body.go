package rest

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/continuum-ehr/continuum/internal/outcome"
)

// readBody reads a request body. The server bounds it with
// http.MaxBytesReader; going over answers 413.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, outcome.New(outcome.TooLarge, "too-long",
				fmt.Sprintf("request body is larger than the limit of %d bytes", tooLarge.Limit))
		}
		return nil, &outcome.Error{Kind: outcome.Invalid, Err: err, Issues: []outcome.Issue{{
			Severity: outcome.SevError, Code: "incomplete", Diagnostics: "could not read the request body"}}}
	}
	return b, nil
}
