package fhirxml

import (
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
)

// TestToJSON converts a small resource that exercises the rules: arrays by
// cardinality, typed primitives, a primitive's id and extension in
// "_name", a choice element and narrative XHTML.
func TestToJSON(t *testing.T) {
	in := `<Observation xmlns="http://hl7.org/fhir">
  <text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>BP</p></div></text>
  <status value="final"/>
  <code><coding><system value="http://loinc.org"/><code value="8867-4"/></coding></code>
  <valueQuantity><value value="72.0"/><unit value="/min"/></valueQuantity>
  <note><text id="n1" value="resting"><extension url="http://example.org/x"><valueBoolean value="true"/></extension></text></note>
</Observation>`
	v, err := ToJSON(spec.R4(), []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"resourceType":"Observation","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>BP</p></div>"},"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueQuantity":{"value":72.0,"unit":"/min"},"note":[{"text":"resting","_text":{"id":"n1","extension":[{"url":"http://example.org/x","valueBoolean":true}]}}]}`
	if got := string(v.Marshal()); got != want {
		t.Errorf("ToJSON:\n got %s\nwant %s", got, want)
	}
	if _, err := ToJSON(spec.R4(), []byte(`<Unknown xmlns="http://hl7.org/fhir"/>`)); err == nil {
		t.Error("an unknown resource type converted without error")
	}
}
