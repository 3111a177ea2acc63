package index

import (
	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/fhirpath"
)

// URI is one row of a uri parameter
// (https://hl7.org/fhir/R4/search.html#uri). Equality uses Hash; :above
// and :below compare Value with the query's prefixes in the store.
type URI struct {
	Param string
	Value string
	Hash  int64 // URIHash(Param, Value)
}

// appendURIs indexes uri, url, canonical, oid, uuid (and any other
// string-valued) values as written.
func appendURIs(out []URI, param string, it fhirpath.Item) []URI {
	var s string
	switch v := it.(type) {
	case fhirpath.String:
		s = string(v)
	case *fhirpath.Node:
		if val := v.Value(); val != nil && val.Kind == fhir.String {
			s = val.Text
		}
	}
	if s == "" {
		return out
	}
	return append(out, URI{Param: param, Value: s, Hash: URIHash(param, s)})
}
