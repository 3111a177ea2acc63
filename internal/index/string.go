package index

import (
	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/fhirpath"
	"github.com/continuum-ehr/continuum/internal/search"
)

// String is one row of a string parameter
// (https://hl7.org/fhir/R4/search.html#string). The default search is a
// prefix match on Normalized (a B-tree range scan on (param, normalized)),
// :contains a substring match on it, :exact an equality on ExactHash.
type String struct {
	Param      string
	Normalized string // search.NormalizeString(Exact): the query side folds alike
	Exact      string
	ExactHash  int64 // StringExactHash(Param, Exact)
}

func newString(param, s string) String {
	return String{Param: param, Normalized: search.NormalizeString(s), Exact: s, ExactHash: StringExactHash(param, s)}
}

// humanNameParts and addressParts are the parts of a HumanName and an
// Address that a string search matches ("any of the parts",
// https://hl7.org/fhir/R4/search.html#string).
var (
	humanNameParts = []string{"text", "family", "given", "prefix", "suffix"}
	addressParts   = []string{"text", "line", "city", "district", "state", "postalCode", "country"}
)

// appendStrings indexes one value of a string parameter: a string-like
// primitive (string, markdown, code …), each part of a HumanName or an
// Address. Other types give no row.
func appendStrings(out []String, param string, it fhirpath.Item) []String {
	if s, ok := it.(fhirpath.String); ok {
		if s != "" {
			out = append(out, newString(param, string(s)))
		}
		return out
	}
	n, ok := it.(*fhirpath.Node)
	if !ok || n.Value() == nil {
		return out
	}
	v := n.Value()
	switch n.TypeName() {
	case "HumanName":
		return appendParts(out, param, v, humanNameParts)
	case "Address":
		return appendParts(out, param, v, addressParts)
	}
	if v.Kind == fhir.String && v.Text != "" {
		out = append(out, newString(param, v.Text))
	}
	return out
}

func appendParts(out []String, param string, v *fhir.Value, names []string) []String {
	for _, name := range names {
		m, ok := v.Get(name)
		if !ok {
			continue
		}
		switch m.Kind {
		case fhir.String:
			if m.Text != "" {
				out = append(out, newString(param, m.Text))
			}
		case fhir.Array:
			for _, item := range m.Items {
				if item.Kind == fhir.String && item.Text != "" {
					out = append(out, newString(param, item.Text))
				}
			}
		}
	}
	return out
}
