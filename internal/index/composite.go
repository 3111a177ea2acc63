package index

// Composite is one tuple of a composite parameter
// (https://hl7.org/fhir/R4/search.html#composite), e.g. code-value-quantity
// of an Observation: (LOINC 8480-6, 120 mm[Hg]). Parts follow the order of
// the SearchParameter's components; each holds exactly one row of the
// component's type, keyed by the component's own parameter code. Search
// matches a tuple when every part matches its part of the query value
// (code$value), all within the same tuple — which is why these are not
// simply the rows of the component parameters.
type Composite struct {
	Param string
	Parts []Part
}

// Part is one component value of a Composite: exactly one field is set.
type Part struct {
	Token     *Token
	String    *String
	Date      *Date
	Number    *Number
	Quantity  *Quantity
	Reference *Reference
	URI       *URI
}

// parts turns the rows a component produced into parts.
func (e *Entries) parts() []Part {
	var out []Part
	for i := range e.Tokens {
		out = append(out, Part{Token: &e.Tokens[i]})
	}
	for i := range e.Strings {
		out = append(out, Part{String: &e.Strings[i]})
	}
	for i := range e.Dates {
		out = append(out, Part{Date: &e.Dates[i]})
	}
	for i := range e.Numbers {
		out = append(out, Part{Number: &e.Numbers[i]})
	}
	for i := range e.Quantities {
		out = append(out, Part{Quantity: &e.Quantities[i]})
	}
	for i := range e.References {
		out = append(out, Part{Reference: &e.References[i]})
	}
	for i := range e.URIs {
		out = append(out, Part{URI: &e.URIs[i]})
	}
	return out
}
