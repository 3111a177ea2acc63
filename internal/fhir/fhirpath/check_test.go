package fhirpath

import (
	"strings"
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
)

func TestCheck(t *testing.T) {
	s := spec.R4()
	for _, tc := range []struct {
		context, expr string
		ordered       bool
		wantErr       string // "" = no error
	}{
		{"Patient", "name.given", false, ""},
		{"Patient", "Patient.name.where(use = 'official').given.first()", false, ""},
		{"Patient", "name.given1", false, "'given1' is not an element of HumanName"},
		{"Patient", "Encounter.name", false, "not the type of the context"},
		{"Patient", "Resource.id | DomainResource.text", false, ""},
		{"Observation", "Observation.value.unit", false, ""},
		{"Observation", "(Observation.value as Period).unit", false, "'unit' is not an element of Period"},
		{"Observation", "Observation.valueQuantity", false, "use 'value'"},
		{"Observation", "Observation.value.ofType(Quantity).code", false, ""},
		{"Observation", "component.where(code.text = 'x').value", false, ""},
		{"Observation", "component.where(cod.text = 'x')", false, "'cod' is not an element of BackboneElement"},
		{"Observation", "contained.descendants().foo", false, ""},
		{"Patient", "Patient.children().skip(1)", true, "skip() needs an ordered collection"},
		{"Patient", "Patient.children().skip(1)", false, ""},
		{"Patient.contact", "name.family | telecom.value", false, ""},
		{"Patient.contact", "name.famly", false, "'famly' is not an element of HumanName"},
		{"Questionnaire.item", "item.item.linkId", false, ""},
		{"Patient", "extension('x').value.ofType(string)", false, ""},
	} {
		err := MustCompile(tc.expr).Check(s, tc.context, CheckOptions{OrderedFunctions: tc.ordered})
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s on %s: %v", tc.expr, tc.context, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s on %s: got %v, want an error containing %q", tc.expr, tc.context, err, tc.wantErr)
		}
	}
}

// r4DefinitionErrors are expressions of the R4 definitions the checker
// rightly refuses.
var r4DefinitionErrors = map[string]string{
	"ChargeItemDefinition cid-0": "R4 copied the invariant of canonical resources, but ChargeItemDefinition has no name element",
	"SearchParameter part-agree": "an example SearchParameter whose base (Patient) does not match its expression (DocumentReference…)",
}

// TestCheckR4 checks every invariant of the R4 definitions on the element it
// is declared on, and every single-base SearchParameter on its base: the
// definitions are correct, so the checker must accept them all.
func TestCheckR4(t *testing.T) {
	s := spec.R4()
	n := 0
	for _, name := range allTypeNames(s) {
		tp := s.Type(name)
		for _, k := range tp.ConstraintOrder {
			c := tp.Constraints[k]
			e, err := Compile(c.Expression)
			if err != nil {
				continue // TestInvariantsOnExamples reports it
			}
			n++
			if _, known := r4DefinitionErrors[name+" "+k]; known {
				continue
			}
			if err := e.Check(s, c.Path, CheckOptions{}); err != nil {
				t.Errorf("%s %s on %s (%s): %v", name, k, c.Path, c.Expression, err)
			}
		}
	}
	for _, sp := range s.SearchParams {
		if sp.Expression == "" || len(sp.Base) != 1 || s.Type(sp.Base[0]) == nil {
			continue
		}
		e, err := Compile(sp.Expression)
		if err != nil {
			continue
		}
		n++
		if _, known := r4DefinitionErrors["SearchParameter "+sp.Code]; known {
			continue
		}
		if err := e.Check(s, sp.Base[0], CheckOptions{}); err != nil {
			t.Errorf("SearchParameter %s on %s (%s): %v", sp.Code, sp.Base[0], sp.Expression, err)
		}
	}
	t.Logf("%d expressions checked", n)
}
