package rest

import (
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/continuum-ehr/continuum/internal/outcome"
)

// FuzzNegotiate feeds arbitrary Accept, _format and Content-Type values to
// content negotiation: it must not panic, and must fail only with 406 or 415.
func FuzzNegotiate(f *testing.F) {
	f.Add("application/fhir+json", "", "application/fhir+json")
	f.Add("text/html,application/xml;q=0.9,*/*;q=0.8", "xml", "application/json; charset=utf-8")
	f.Add("application/fhir+json; fhirVersion=4.0;q=0.5", "application/fhir+json", "text/plain")
	f.Add(";;;=,q=x", "json", `application/json; charset="utf-8`)
	f.Fuzz(func(t *testing.T, accept, format, contentType string) {
		r := httptest.NewRequest("POST", "/fhir/$validate?_format="+url.QueryEscape(format), nil)
		r.Header.Set("Accept", accept)
		r.Header.Set("Content-Type", contentType)
		if err := negotiate(r); err != nil && outcome.As(err).Kind != outcome.NotAcceptable {
			t.Errorf("negotiate: %v", err)
		}
		if err := checkBody(r); err != nil && outcome.As(err).Kind != outcome.UnsupportedMediaType {
			t.Errorf("checkBody: %v", err)
		}
	})
}
