package validate_test

import (
	"strings"
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/validate"
)

// invalidCases are resources that break one rule each. Every case names the
// issue code and the FHIRPath location the validator must report.
var invalidCases = []struct {
	name string
	in   string
	code string
	expr string // "" when the issue has no location (input not a resource)
}{
	// JSON itself
	{"not JSON", `hello`, "structure", ""},
	{"empty input", ``, "structure", ""},
	{"truncated JSON", `{"resourceType":"Patient"`, "structure", ""},
	{"duplicate key", `{"resourceType":"Patient","active":true,"active":false}`, "structure", ""},
	{"invalid UTF-8", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"\xff\"}]}", "structure", ""},
	{"trailing data", `{"resourceType":"Patient"} {}`, "structure", ""},
	{"nested too deep", `{"resourceType":"Patient","extension":` + strings.Repeat(`[{"extension":`, 200) + `1` + strings.Repeat(`}]`, 200) + `}`, "too-costly", ""},
	{"array at top", `[{"resourceType":"Patient"}]`, "structure", ""},
	// resourceType
	{"no resourceType", `{"id":"a"}`, "required", ""},
	{"unknown resourceType", `{"resourceType":"Patientx"}`, "not-supported", "resourceType"},
	{"abstract resourceType", `{"resourceType":"DomainResource"}`, "not-supported", "resourceType"},
	{"resourceType not a string", `{"resourceType":1}`, "structure", "resourceType"},
	{"contained with unknown type", `{"resourceType":"Patient","contained":[{"resourceType":"Nope","id":"x"}]}`, "structure", "Patient.contained[0].resourceType"},
	{"contained without resourceType", `{"resourceType":"Patient","contained":[{"id":"x"}]}`, "required", "Patient.contained[0]"},
	// unknown elements
	{"unknown root element", `{"resourceType":"Patient","foo":1}`, "structure", "Patient.foo"},
	{"unknown nested element", `{"resourceType":"Patient","name":[{"family":"X","middle":"Y"}]}`, "structure", "Patient.name[0].middle"},
	{"unknown element in backbone", `{"resourceType":"Patient","contact":[{"nickname":"x"}]}`, "structure", "Patient.contact[0].nickname"},
	{"element of another resource", `{"resourceType":"Patient","status":"final"}`, "structure", "Patient.status"},
	{"value on primitive extension", `{"resourceType":"Patient","_gender":{"value":"male"}}`, "structure", "Patient._gender.value"},
	{"_ on complex element", `{"resourceType":"Patient","_name":[{"id":"x"}]}`, "structure", "Patient._name"},
	// JSON kinds
	{"string expected, number given", `{"resourceType":"Patient","name":[{"family":42}]}`, "structure", "Patient.name[0].family"},
	{"boolean as string", `{"resourceType":"Patient","active":"true"}`, "structure", "Patient.active"},
	{"integer as string", `{"resourceType":"RiskAssessment","status":"final","subject":{"reference":"Patient/1"},"prediction":[{"probabilityDecimal":"0.5"}]}`, "structure", "RiskAssessment.prediction[0].probabilityDecimal"},
	{"object expected, string given", `{"resourceType":"Patient","maritalStatus":"M"}`, "structure", "Patient.maritalStatus"},
	{"array for single element", `{"resourceType":"Patient","gender":["male"]}`, "structure", "Patient.gender"},
	{"single value for repeating element", `{"resourceType":"Patient","name":{"family":"X"}}`, "structure", "Patient.name"},
	{"repeating primitive not array", `{"resourceType":"Patient","name":[{"given":"Ann"}]}`, "structure", "Patient.name[0].given"},
	// null and empty
	{"null value", `{"resourceType":"Patient","gender":null}`, "structure", "Patient.gender"},
	{"null in complex array", `{"resourceType":"Patient","name":[null]}`, "structure", "Patient.name[0]"},
	{"null in primitive array without extension", `{"resourceType":"Patient","name":[{"given":["A",null]}]}`, "structure", "Patient.name[0].given[1]"},
	{"null at same index in both arrays", `{"resourceType":"Patient","name":[{"given":["A",null],"_given":[{"id":"a"},null]}]}`, "structure", "Patient.name[0].given[1]"},
	{"empty string", `{"resourceType":"Patient","name":[{"family":""}]}`, "value", "Patient.name[0].family"},
	{"empty array", `{"resourceType":"Patient","name":[]}`, "structure", "Patient.name"},
	{"empty object", `{"resourceType":"Patient","maritalStatus":{}}`, "structure", "Patient.maritalStatus"},
	{"empty object in array", `{"resourceType":"Patient","name":[{}]}`, "structure", "Patient.name[0]"},
	{"whitespace-only code", `{"resourceType":"Patient","gender":" "}`, "value", "Patient.gender"},
	// cardinality
	{"missing required element", `{"resourceType":"Observation","code":{"text":"x"}}`, "required", "Observation.status"},
	{"missing required in backbone", `{"resourceType":"Patient","link":[{"type":"seealso"}]}`, "required", "Patient.link[0].other"},
	{"missing required choice", `{"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/1"}}`, "required", "MedicationRequest.medication[x]"},
	{"missing required choice in Extension", `{"resourceType":"Patient","extension":[{"valueString":"x"}]}`, "required", "Patient.extension[0].url"},
	{"missing required in datatype", `{"resourceType":"Patient","identifier":[{"system":"http://x"}],"communication":[{"preferred":true}]}`, "required", "Patient.communication[0].language"},
	{"missing 1..* element", `{"resourceType":"Group","type":"person","actual":true,"characteristic":[{"code":{"text":"x"},"valueBoolean":true}]}`, "required", "Group.characteristic[0].exclude"},
	// choice types
	{"unknown choice suffix", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueFoo":1}`, "structure", "Observation.valueFoo"},
	{"choice type not allowed here", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueUri":"http://x"}`, "structure", "Observation.valueUri"},
	{"two forms of a choice", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"a","valueBoolean":true}`, "structure", "Observation.valueBoolean"},
	{"choice stem alone", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"value":"a"}`, "structure", "Observation.value"},
	{"choice wrong kind", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":5}`, "structure", "Observation.valueQuantity"},
	// primitive formats
	{"bad id", `{"resourceType":"Patient","id":"a b"}`, "value", "Patient.id"},
	{"id too long", `{"resourceType":"Patient","id":"` + strings.Repeat("a", 65) + `"}`, "value", "Patient.id"},
	{"bad date", `{"resourceType":"Patient","birthDate":"1970-13-01"}`, "value", "Patient.birthDate"},
	{"date that does not exist", `{"resourceType":"Patient","birthDate":"2023-02-29"}`, "value", "Patient.birthDate"},
	{"date with time", `{"resourceType":"Patient","birthDate":"1970-01-01T10:00:00Z"}`, "value", "Patient.birthDate"},
	{"dateTime without timezone", `{"resourceType":"Patient","deceasedDateTime":"2020-01-01T10:00:00"}`, "value", "Patient.deceasedDateTime"},
	{"bad instant", `{"resourceType":"Patient","meta":{"lastUpdated":"2020-01-01"}}`, "value", "Patient.meta.lastUpdated"},
	{"bad time", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueTime":"25:00:00"}`, "value", "Observation.valueTime"},
	{"bad decimal", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":01.5}}`, "structure", ""},
	{"decimal as string", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":"1.5"}}`, "structure", "Observation.valueQuantity.value"},
	{"integer with fraction", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueInteger":1.5}`, "value", "Observation.valueInteger"},
	{"integer out of range", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueInteger":2147483648}`, "value", "Observation.valueInteger"},
	{"positiveInt zero", `{"resourceType":"Patient","multipleBirthInteger":1,"photo":[{"size":-1}]}`, "value", "Patient.photo[0].size"},
	{"unsignedInt negative", `{"resourceType":"Patient","photo":[{"size":-5}]}`, "value", "Patient.photo[0].size"},
	{"positiveInt 0", `{"resourceType":"ImmunizationRecommendation","patient":{"reference":"Patient/1"},"date":"2020-01-01","recommendation":[{"forecastStatus":{"text":"x"},"doseNumberPositiveInt":0}]}`, "value", "ImmunizationRecommendation.recommendation[0].doseNumberPositiveInt"},
	{"bad uri with space", `{"resourceType":"Patient","identifier":[{"system":"http://a b"}]}`, "value", "Patient.identifier[0].system"},
	{"bad oid", `{"resourceType":"Patient","identifier":[{"system":"urn:ietf:rfc:3986","value":"x"}],"extension":[{"url":"http://x","valueOid":"1.2.x"}]}`, "value", "Patient.extension[0].valueOid"},
	{"bad uuid", `{"resourceType":"Patient","extension":[{"url":"http://x","valueUuid":"urn:uuid:xyz"}]}`, "value", "Patient.extension[0].valueUuid"},
	{"bad base64", `{"resourceType":"Patient","photo":[{"data":"!!!"}]}`, "value", "Patient.photo[0].data"},
	{"code with leading space", `{"resourceType":"Patient","gender":" male"}`, "value", "Patient.gender"},
	{"bad xhtml root", `{"resourceType":"Patient","text":{"status":"generated","div":"<p>hi</p>"}}`, "value", "Patient.text.div"},
	{"xhtml not well-formed", `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>hi</div>"}}`, "value", "Patient.text.div"},
	{"xhtml without namespace", `{"resourceType":"Patient","text":{"status":"generated","div":"<div>hi</div>"}}`, "value", "Patient.text.div"},
	// required bindings
	{"code not in required value set", `{"resourceType":"Patient","gender":"m"}`, "code-invalid", "Patient.gender"},
	{"status not in value set", `{"resourceType":"Observation","status":"done","code":{"text":"x"}}`, "code-invalid", "Observation.status"},
	{"nested code not in value set", `{"resourceType":"Patient","telecom":[{"system":"pager2","value":"1"}]}`, "code-invalid", "Patient.telecom[0].system"},
	{"Coding not in required value set", `{"resourceType":"Patient","meta":{"security":[{"system":"x","code":"y"}]},"communication":[{"language":{"text":"en"}}],"contact":[{"relationship":[{"text":"x"}]}],"link":[{"other":{"reference":"Patient/2"},"type":"nope"}]}`, "code-invalid", "Patient.link[0].type"},
	// references
	{"malformed reference", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/a/b"}}`, "value", "Observation.subject.reference"},
	{"reference to unknown type", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patientx/1"}}`, "value", "Observation.subject.reference"},
	{"reference with bad id", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/a_b"}}`, "value", "Observation.subject.reference"},
	{"reference to disallowed target", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Organization/1"}}`, "value", "Observation.subject.reference"},
	{"conditional reference outside transaction", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient?identifier=1"}}`, "value", "Observation.subject.reference"},
	{"bad urn:uuid", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:1234"}}`, "value", "Observation.subject.reference"},
	// primitive extension arrays
	{"mismatched primitive arrays", `{"resourceType":"Patient","name":[{"given":["A","B"],"_given":[{"id":"x"}]}]}`, "structure", "Patient.name[0]._given"},
	{"primitive extension array for single element", `{"resourceType":"Patient","_gender":[{"id":"x"}]}`, "structure", "Patient._gender"},
	{"primitive extension object for array", `{"resourceType":"Patient","name":[{"given":["A"],"_given":{"id":"x"}}]}`, "structure", "Patient.name[0]._given"},
	{"primitive extension of wrong kind", `{"resourceType":"Patient","_gender":"x"}`, "structure", "Patient._gender"},
	{"unknown member in primitive extension", `{"resourceType":"Patient","_gender":{"foo":1}}`, "structure", "Patient._gender.foo"},
	// ele-1
	{"element with only an id", `{"resourceType":"Patient","name":[{"id":"n1"}]}`, "invariant", "Patient.name[0]"},
	{"primitive companion with only an id", `{"resourceType":"Patient","_birthDate":{"id":"b"}}`, "invariant", "Patient._birthDate"},
	{"local reference without a contained target (ref-1)", `{"resourceType":"Patient","managingOrganization":{"reference":"#o1"}}`, "invariant", "Patient.managingOrganization"},
	{"ref-1 in a Bundle entry", `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","managingOrganization":{"reference":"#o1"}}}]}`, "invariant", "Bundle.entry[0].resource.managingOrganization"},
	// nested resources
	{"invalid contained resource", `{"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o","foo":1}]}`, "structure", "Patient.contained[0].foo"},
	{"invalid Bundle entry", `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","gender":"x"}}]}`, "code-invalid", "Bundle.entry[0].resource.gender"},
	{"Bundle entry without resourceType", `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"id":"1"}}]}`, "required", "Bundle.entry[0].resource"},
	{"Bundle missing type", `{"resourceType":"Bundle"}`, "required", "Bundle.type"},
	{"invalid Parameters resource", `{"resourceType":"Parameters","parameter":[{"name":"r","resource":{"resourceType":"Patient","active":1}}]}`, "structure", "Parameters.parameter[0].resource.active"},
	{"extension without url", `{"resourceType":"Patient","name":[{"family":"X","extension":[{"valueString":"y"}]}]}`, "required", "Patient.name[0].extension[0].url"},
	{"modifierExtension with unknown element", `{"resourceType":"Patient","modifierExtension":[{"url":"http://x","valueFoo":1}]}`, "structure", "Patient.modifierExtension[0].valueFoo"},
	{"deep location", `{"resourceType":"Questionnaire","status":"draft","item":[{"linkId":"1","type":"group","item":[{"linkId":"1.1","type":"nope"}]}]}`, "code-invalid", "Questionnaire.item[0].item[0].type"},
}

func TestInvalidResources(t *testing.T) {
	v := validate.New(spec.R4(), validate.Options{})
	n := 0
	for _, tc := range invalidCases {
		n++
		t.Run(tc.name, func(t *testing.T) {
			issues := v.Validate([]byte(tc.in))
			if !outcome.HasErrors(issues) {
				t.Fatalf("no error for %s", tc.in)
			}
			for _, is := range issues {
				if !is.IsError() || is.Code != tc.code {
					continue
				}
				if tc.expr == "" || (len(is.Expression) == 1 && is.Expression[0] == tc.expr) {
					if is.Diagnostics == "" {
						t.Errorf("issue without diagnostics: %+v", is)
					}
					return
				}
			}
			t.Errorf("want an error %s at %q; got:", tc.code, tc.expr)
			for _, is := range issues {
				t.Errorf("  %s %s %v %s", is.Severity, is.Code, is.Expression, is.Diagnostics)
			}
		})
	}
	if n < 60 {
		t.Fatalf("only %d invalid cases; the suite promises at least 60", n)
	}
}

func TestValidResources(t *testing.T) {
	v := validate.New(spec.R4(), validate.Options{})
	for _, in := range []string{
		`{"resourceType":"Patient"}`,
		`{"resourceType":"Patient","name":[{"given":["A",null,"C"],"_given":[null,{"extension":[{"url":"http://x","valueString":"B"}]},null]}]}`,
		`{"resourceType":"Patient","_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}}`,
		`{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.50,"unit":"mmol/L"}}`,
		`{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"http://example.org/fhir/Patient/1/_history/2"}}`,
		`{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:6f8c3e0c-1f6a-4a5e-9a7b-1c2d3e4f5a6b","resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient?identifier=123"}},"request":{"method":"POST","url":"Observation"}}]}`,
		`{"resourceType":"Patient","birthDate":"2024-02-29","deceasedDateTime":"2025","meta":{"lastUpdated":"2020-01-01T10:00:00.123+01:00"}}`,
		`{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Ann &amp; B&nbsp;C</p></div>"}}`,
		`{"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o1","name":"X"}],"managingOrganization":{"reference":"#o1"}}`,
		// ref-1 inside a Bundle entry: %rootResource is the entry's resource, not the Bundle (Synthea's EOBs).
		`{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o1","name":"X"}],"managingOrganization":{"reference":"#o1"}}}]}`,
	} {
		if issues := v.Validate([]byte(in)); outcome.HasErrors(issues) {
			t.Errorf("%s: unexpected issues %v", in, issues)
		}
	}
}

func TestLimits(t *testing.T) {
	v := validate.New(spec.R4(), validate.Options{MaxBytes: 1000})
	big := `{"resourceType":"Patient","id":"` + strings.Repeat("a", 2000) + `"}`
	issues := v.Validate([]byte(big))
	if len(issues) != 1 || issues[0].Code != "too-long" {
		t.Fatalf("oversized input: %v", issues)
	}
}

func FuzzValidate(f *testing.F) {
	for _, tc := range invalidCases {
		f.Add([]byte(tc.in))
	}
	f.Add([]byte(`{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","name":[{"given":["A",null],"_given":[null,{"id":"x"}]}]}}]}`))
	v := validate.New(spec.R4(), validate.Options{MaxBytes: 1 << 20})
	f.Fuzz(func(t *testing.T, b []byte) {
		issues := v.Validate(b)
		for _, is := range issues {
			if is.Severity == "" || is.Code == "" || is.Diagnostics == "" {
				t.Fatalf("incomplete issue %+v for %q", is, b)
			}
		}
	})
}
