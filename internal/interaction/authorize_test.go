package interaction

import (
	"slices"
	"testing"

	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	searchindex "github.com/continuum-ehr/continuum/internal/index"
	"github.com/continuum-ehr/continuum/internal/search"
)

func bareService() *Service {
	return &Service{spec: spec.R4(), idx: searchindex.New(spec.R4()), reg: search.NewRegistry(spec.R4())}
}

const labObservation = `{"resourceType":"Observation","id":"o1","status":"final",
	"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],
	"code":{"coding":[{"system":"http://loinc.org","code":"2345-7"}]},
	"subject":{"reference":"Patient/p1"},"performer":[{"reference":"Patient/p2"},{"reference":"https://other.example/fhir/Patient/p3"}],
	"encounter":{"reference":"Encounter/e1"}}`

// TestPatients: compartment membership comes from the compartment's
// reference parameters, local references only.
func TestPatients(t *testing.T) {
	s := bareService()
	for _, tc := range []struct {
		body string
		want []string
	}{
		{labObservation, []string{"p1", "p2"}},
		{`{"resourceType":"Patient","id":"p9","link":[{"other":{"reference":"Patient/p8"},"type":"seealso"}]}`, []string{"p8", "p9"}},
		{`{"resourceType":"Organization","id":"x","name":"n"}`, nil},
		{`{"resourceType":"Basic","code":{"text":"x"},"subject":{"reference":"Patient/p4"}}`, []string{"p4"}},
		{`{"resourceType":"Encounter","status":"planned","class":{"code":"AMB"},"subject":{"reference":"#contained"}}`, nil},
	} {
		res, err := fhir.Parse([]byte(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.patients(&res)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("patients(%.60s) = %v, %v; want %v", tc.body, got, err, tc.want)
		}
	}
}

// TestMatchesScope: v2 scope constraints on an instance.
func TestMatchesScope(t *testing.T) {
	s := bareService()
	res, err := fhir.Parse([]byte(labObservation))
	if err != nil {
		t.Fatal(err)
	}
	c := func(params ...string) auth.Constraint {
		var ps []auth.Param
		for i := 0; i+1 < len(params); i += 2 {
			ps = append(ps, auth.Param{Name: params[i], Value: params[i+1]})
		}
		return auth.Constraint{Scope: "test", Params: ps}
	}
	for _, tc := range []struct {
		name string
		alts []auth.Constraint
		want bool
	}{
		{"code", []auth.Constraint{c("category", "laboratory")}, true},
		{"system|code", []auth.Constraint{c("category", "http://terminology.hl7.org/CodeSystem/observation-category|laboratory")}, true},
		{"wrong system", []auth.Constraint{c("category", "http://example.org|laboratory")}, false},
		{"system|", []auth.Constraint{c("code", "http://loinc.org|")}, true},
		{"or", []auth.Constraint{c("category", "vital-signs,laboratory")}, true},
		{"other value", []auth.Constraint{c("category", "vital-signs")}, false},
		{"all params of an alternative", []auth.Constraint{c("category", "laboratory", "code", "9999-9")}, false},
		{"second alternative", []auth.Constraint{c("category", "vital-signs"), c("code", "2345-7")}, true},
		{"reference", []auth.Constraint{c("encounter", "Encounter/e1")}, true},
		{"reference by id", []auth.Constraint{c("encounter", "e1")}, true},
		{"other reference", []auth.Constraint{c("encounter", "Encounter/e2")}, false},
		{"absolute reference is not local", []auth.Constraint{c("performer", "Patient/p3")}, false},
		{"a date constraint cannot be evaluated", []auth.Constraint{c("date", "ge2020")}, false},
		{"unknown parameter", []auth.Constraint{c("colour", "blue")}, false},
	} {
		got, err := s.matchesScope(tc.alts, &res)
		if err != nil || got != tc.want {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

// FuzzMatchesScope: scope constraints come from tokens; any value is
// answered without a panic.
func FuzzMatchesScope(f *testing.F) {
	s := bareService()
	res, err := fhir.Parse([]byte(labObservation))
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][2]string{{"category", "laboratory"}, {"code", "http://loinc.org|"}, {"encounter", "Encounter/"}, {"subject", "|"}, {"date", ",,"}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		_, _ = s.matchesScope([]auth.Constraint{{Params: []auth.Param{{Name: name, Value: value}}}}, &res)
	})
}
