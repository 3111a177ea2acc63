package search_test

import (
	"net/url"
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/search"
)

// FuzzParse checks that no input panics, that every failure is an Invalid
// outcome with diagnostics, and that a successful parse renders a canonical
// form that parses back to itself. The seed corpus is in
// testdata/fuzz/FuzzParse (one case per golden script directive).
func FuzzParse(f *testing.F) {
	f.Add("Observation", "code=http://loinc.org|1234-5&date=ge2020")
	f.Add("", "_type=Patient,Practitioner&name=smith")
	s := spec.R4()
	r := search.NewRegistry(s)
	f.Fuzz(func(t *testing.T, typ, rawQuery string) {
		query, err := url.ParseQuery(rawQuery)
		if err != nil {
			return
		}
		for _, strict := range []bool{false, true} {
			opts := search.Options{Strict: strict, MaxValues: 200}
			q, err := r.Parse(typ, query, opts)
			if err != nil {
				oe, ok := err.(*outcome.Error)
				if !ok || oe.Kind != outcome.Invalid || len(oe.Issues) == 0 {
					t.Fatalf("error %v is not an Invalid outcome", err)
				}
				for _, is := range oe.Issues {
					if is.Diagnostics == "" || is.Code == "" {
						t.Fatalf("issue without code or diagnostics: %+v", is)
					}
				}
				continue
			}
			canon := q.QueryString()
			again, err := url.ParseQuery(canon)
			if err != nil {
				t.Fatalf("canonical form %q is not a query string: %v", canon, err)
			}
			q2, err := r.Parse(typ, again, opts)
			if err != nil {
				t.Fatalf("canonical form %q of %q does not parse: %v", canon, rawQuery, err)
			}
			if q2.QueryString() != canon {
				t.Fatalf("canonical form unstable:\n%q\n%q\nfrom %q", canon, q2.QueryString(), rawQuery)
			}
		}
	})
}
