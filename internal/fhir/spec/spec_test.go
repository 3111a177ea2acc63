package spec_test

import (
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
)

func TestDefinitions(t *testing.T) {
	s := spec.R4()
	if s.FHIRVersion != "4.0.1" {
		t.Errorf("FHIRVersion %q", s.FHIRVersion)
	}
	if n := len(s.ResourceTypes()); n != 146 {
		t.Errorf("%d concrete resource types; R4 has 146 (the resource-types code system minus Resource and DomainResource)", n)
	}
	if n := len(s.SearchParams); n < 1300 {
		t.Errorf("only %d SearchParameters", n)
	}
	if len(s.Compartments) != 5 {
		t.Errorf("%d compartments; R4 defines 5", len(s.Compartments))
	}
	obs := s.Resource("Observation")
	if obs == nil || obs.Base != "DomainResource" || !s.IsA("Observation", "Resource") {
		t.Fatalf("Observation: %+v", obs)
	}
	status := obs.Element("Observation.status")
	if status == nil || status.Min != 1 || status.Max != 1 || status.Binding == nil || status.Binding.Strength != "required" {
		t.Errorf("Observation.status: %+v", status)
	}
	value, typ := obs.Root.ChildByJSONName("valueQuantity")
	if value == nil || !value.Choice || value.Name != "value" || typ != "Quantity" {
		t.Errorf("valueQuantity → %+v %q", value, typ)
	}
	if e, _ := obs.Root.ChildByJSONName("valueFoo"); e != nil {
		t.Errorf("valueFoo resolved to %s", e.Path)
	}
	// A contentReference shares the children of the element it names.
	q := s.Resource("Questionnaire")
	nested := q.Element("Questionnaire.item.item")
	if nested == nil || nested.Child("linkId") == nil || !nested.Repeating() {
		t.Errorf("Questionnaire.item.item does not resolve its contentReference: %+v", nested)
	}
	// Children of a complex datatype come from the type.
	name := s.Resource("Patient").Element("Patient.name")
	if given, _ := s.ChildByJSONName(name, "HumanName", "given"); given == nil || !given.Repeating() {
		t.Errorf("HumanName.given: %+v", given)
	}
	// Primitive regexes and JSON kinds.
	if s.Type("date").Regex == "" || s.Type("decimal").JSONKind() != "number" || s.Type("boolean").JSONKind() != "boolean" {
		t.Error("primitive metadata missing")
	}
	// Resource.id is typed id, as the spec's prose says.
	if id := s.Resource("Patient").Element("Patient.id"); id == nil || id.Types[0].Code != "id" {
		t.Errorf("Patient.id: %+v", id)
	}
}

func TestValueSets(t *testing.T) {
	s := spec.R4()
	g := s.ValueSet("http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1")
	if g == nil || !g.Expandable {
		t.Fatalf("administrative-gender: %+v", g)
	}
	for _, c := range []string{"male", "female", "other", "unknown"} {
		if !g.Contains("", c) || !g.Contains("http://hl7.org/fhir/administrative-gender", c) {
			t.Errorf("administrative-gender lacks %s", c)
		}
	}
	if g.Contains("", "m") || g.Contains("http://other", "male") {
		t.Error("administrative-gender contains what it should not")
	}
	if mt := s.ValueSet("http://hl7.org/fhir/ValueSet/mimetypes"); mt == nil || mt.Expandable || mt.Reason == "" {
		t.Errorf("mimetypes should be recorded as not expandable with a reason: %+v", mt)
	}
}
