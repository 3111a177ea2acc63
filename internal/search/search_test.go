package search_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/search"
)

// TestParseErrors covers every error path: each case must fail with an
// Invalid error whose issue has the given code and whose diagnostics name
// the parameter and contain want.
func TestParseErrors(t *testing.T) {
	long := strings.Repeat("a,", 20) + "a"
	tests := []struct {
		typ, query string
		opts       search.Options
		code, want string
	}{
		// Resource type and compartment.
		{typ: "Nonesuch", query: "", code: "not-supported", want: `"Nonesuch" is not a resource type`},
		{typ: "DomainResource", query: "", code: "not-supported", want: "not a resource type"},
		{typ: "Observation", opts: search.Options{Compartment: &search.CompartmentRef{Type: "Patient", ID: "a b"}}, code: "invalid", want: "not a valid id"},
		{typ: "", opts: search.Options{Compartment: &search.CompartmentRef{Type: "Patient", ID: "1"}}, code: "not-supported", want: "needs a resource type"},
		{typ: "Organization", opts: search.Options{Compartment: &search.CompartmentRef{Type: "Patient", ID: "1"}}, code: "invalid", want: "not in the Patient compartment"},
		{typ: "Observation", opts: search.Options{Compartment: &search.CompartmentRef{Type: "Organization", ID: "1"}}, code: "invalid", want: "not a compartment"},
		// Limits.
		{typ: "Observation", query: "code=" + long, opts: search.Options{MaxValues: 5}, code: "too-costly", want: `parameter "code"`},
		{typ: "Observation", query: "code=1&status=final&category=x", opts: search.Options{MaxValues: 2}, code: "too-costly", want: "more than 2 parameters"},
		{typ: "Observation", query: "focus.type=x", opts: search.Options{MaxValues: 10}, code: "too-costly", want: "expands to more than 10"},
		{typ: "Observation", query: "subject:Patient.organization.partof.name=x", opts: search.Options{MaxDepth: 2}, code: "too-costly", want: "at most 2 deep"},
		{typ: "Patient", query: "_has:Observation:patient:_has:Provenance:target:agent=1", opts: search.Options{MaxDepth: 1}, code: "too-costly", want: "at most 1 deep"},
		// _type.
		{typ: "Patient", query: "_type=Patient", code: "invalid", want: "system search only"},
		{typ: "", query: "_type=Patient,Bundlex", code: "value", want: `"Bundlex" is not a resource type`},
		{typ: "", query: "_type=Account,StructureDefinition&type=x", code: "invalid", want: "is a token on Account but a uri on StructureDefinition"},
		// Unknown and unsupported parameters under strict handling.
		{typ: "Patient", query: "nonesuch=1", opts: search.Options{Strict: true}, code: "not-supported", want: `unknown parameter "nonesuch" for Patient`},
		{typ: "", query: "name=x", opts: search.Options{Strict: true}, code: "not-supported", want: "across all types"},
		{typ: "Patient", query: "_query=x", opts: search.Options{Strict: true}, code: "not-supported", want: "named queries"},
		{typ: "Patient", query: "age=5", opts: search.Options{Strict: true}, code: "not-supported", want: "no FHIRPath expression"},
		{typ: "Observation", query: "subject.nonesuch=x", opts: search.Options{Strict: true}, code: "not-supported", want: "no target type of subject"},
		// Names and modifiers.
		{typ: "Patient", query: ":exact=x", code: "invalid", want: "no parameter name"},
		{typ: "Patient", query: "name:missing=maybe", code: "value", want: ":missing takes true or false"},
		{typ: "Observation", query: "subject:Foo=1", code: "invalid", want: "unknown modifier :Foo"},
		{typ: "Observation", query: "subject:Medication=1", code: "invalid", want: "does not refer to Medication"},
		{typ: "Observation", query: "code:exact=1", code: "invalid", want: "modifier :exact does not apply to token"},
		{typ: "Patient", query: "name:text=1", code: "invalid", want: "modifier :text does not apply to string"},
		{typ: "Observation", query: "date:below=2020", code: "invalid", want: "does not apply to date"},
		{typ: "Observation", query: "value-quantity:not=1", code: "invalid", want: "does not apply to quantity"},
		{typ: "ValueSet", query: "url:contains=x", code: "invalid", want: "does not apply to uri"},
		{typ: "Observation", query: "code-value-quantity:exact=1$2", code: "invalid", want: "does not apply to composite"},
		{typ: "Patient", query: "_list:exact=1", code: "invalid", want: "does not apply to special"},
		// Values, per type.
		{typ: "Observation", query: "code=a,,b", code: "value", want: "empty alternative"},
		{typ: "Observation", query: "code=a|b|c", code: "value", want: "more than one unescaped |"},
		{typ: "Observation", query: "code=|", code: "value", want: "neither a system nor a code"},
		{typ: "Patient", query: "identifier:of-type=a|b", code: "value", want: ":of-type takes system|code|value"},
		{typ: "Condition", query: "code:in=a%20b", code: "value", want: "not a value set URL"},
		{typ: "Observation", query: "date=2020-1", code: "value", want: "not a date"},
		{typ: "Observation", query: "date=20", code: "value", want: "not a date"},
		{typ: "Observation", query: "date=0000", code: "value", want: "not a date"},
		{typ: "Observation", query: "date=2020-00", code: "value", want: "not a date"},
		{typ: "Observation", query: "date=2020-02-30", code: "value", want: "not a date"},
		{typ: "Observation", query: "date=2020-02-01X", code: "value", want: "not a date"},
		{typ: "Observation", query: "date=2020-02-01T10", code: "value", want: "not a date"},
		{typ: "Observation", query: "date=2020-02-01T10:60", code: "value", want: "not a date"},
		{typ: "Observation", query: "date=2020-02-01T10:00:61", code: "value", want: "not a date"},
		{typ: "Observation", query: "date=2020-02-01T10:00:00.", code: "value", want: "not a date"},
		{typ: "Observation", query: "date=2020-02-01T10:00:00.1234567890", code: "value", want: "not a date"},
		{typ: "Observation", query: "date=2020-02-01T10:00:00%2B1:00", code: "value", want: "not a date"},
		{typ: "Observation", query: "date=2020-02-01T10:00:00%2B01:60", code: "value", want: "not a date"},
		{typ: "Observation", query: "date=2020-02-01T10:00:00Q", code: "value", want: "not a date"},
		{typ: "Observation", query: "date=ge", code: "value", want: "not a date"},
		{typ: "RiskAssessment", query: "probability=", code: "", want: ""}, // empty: ignored, no error
		{typ: "RiskAssessment", query: "probability=gt", code: "value", want: "a number is required"},
		{typ: "RiskAssessment", query: "probability=Infinity", code: "value", want: "not a number"},
		{typ: "RiskAssessment", query: "probability=1e999", code: "value", want: "not a number"},
		{typ: "RiskAssessment", query: "probability=" + strings.Repeat("1", 70), code: "value", want: "too long"},
		{typ: "RiskAssessment", query: "probability=1,x", code: "value", want: `alternative "x"`},
		{typ: "Observation", query: "value-quantity=1|a", code: "value", want: "want [prefix]number"},
		{typ: "Observation", query: "value-quantity=1|a|", code: "value", want: "unit system without a unit"},
		{typ: "Observation", query: "subject=", code: "", want: ""},
		{typ: "Observation", query: "subject=a%20b", code: "value", want: "not a reference"},
		{typ: "Observation", query: "subject=Patient/1/_history/2|3", code: "value", want: "two versions"},
		{typ: "Observation", query: "subject=http://x/Patient/1/_history/2|3", code: "value", want: "two versions"},
		{typ: "Observation", query: "subject=x/Patient/1", code: "value", want: "not a reference"},
		{typ: "Observation", query: "subject=Patient/a_b", code: "value", want: "not a reference"},
		{typ: "Observation", query: "subject:Patient=Device/1", code: "value", want: "not a Patient reference"},
		{typ: "Observation", query: "subject=Practitioner/1", code: "value", want: "does not refer to Practitioner"},
		{typ: "ValueSet", query: "url=a%20b", code: "value", want: "not a URI"},
		{typ: "Patient", query: "name=%FF", code: "value", want: "not valid UTF-8"},
		{typ: "Location", query: "near=1", code: "value", want: "latitude|longitude"},
		{typ: "Location", query: "near=x|1", code: "value", want: "not a number"},
		{typ: "Location", query: "near=1|x", code: "value", want: "not a number"},
		{typ: "Location", query: "near=1|200", code: "value", want: "out of range"},
		{typ: "Location", query: "near=1|2|x", code: "value", want: "not a number"},
		{typ: "Location", query: "near=1|2|-3", code: "value", want: "negative distance"},
		{typ: "Patient", query: "_list=a/b", code: "value", want: "not a List id"},
		{typ: "Observation", query: "code-value-quantity=1", code: "value", want: "2 components"},
		{typ: "Observation", query: "code-value-quantity=1$x", code: "value", want: "component value-quantity"},
		// Chains.
		{typ: "Observation", query: "code.name=x", code: "invalid", want: "only reference parameters can be chained"},
		{typ: "Observation", query: "subject.=x", code: "invalid", want: "nothing follows"},
		{typ: "Observation", query: "subject:missing.name=x", code: "invalid", want: "takes a resource type modifier"},
		{typ: "Observation", query: "subject:Practitioner.name=x", code: "invalid", want: "does not refer to Practitioner"},
		{typ: "RequestGroup", query: "instantiates-canonical.name=x", code: "invalid", want: "may refer to any resource type"},
		{typ: "Observation", query: "focus.type=x", code: "invalid", want: "ambiguous"},
		{typ: "Observation", query: "subject:Patient.gender=a|b|c", code: "value", want: "more than one unescaped |"},
		// _has.
		{typ: "Patient", query: "_has:Observation:patient=1", code: "invalid", want: "_has takes the form"},
		{typ: "Patient", query: "_has=1", code: "invalid", want: "_has takes the form"},
		{typ: "Patient", query: "_has:Foo:patient:code=1", code: "invalid", want: `"Foo" is not a resource type`},
		{typ: "Patient", query: "_has:Observation:nonesuch:code=1", opts: search.Options{Strict: true}, code: "not-supported", want: "unknown parameter"},
		{typ: "Patient", query: "_has:Observation:code:code=1", code: "invalid", want: "not a reference"},
		{typ: "Organization", query: "_has:Observation:patient:code=1", code: "invalid", want: "does not refer to Organization"},
		{typ: "Patient", query: "_has:Observation:patient:code:exact=1", code: "invalid", want: "does not apply to token"},
		// Result parameters.
		{typ: "Observation", query: "_sort=", code: "", want: ""},
		{typ: "Observation", query: "_sort=date,", code: "value", want: "empty sort key"},
		{typ: "Observation", query: "_sort=nonesuch", code: "not-supported", want: "unknown parameter"},
		{typ: "Observation", query: "_sort=code-value-quantity", code: "not-supported", want: "cannot sort by composite"},
		{typ: "Observation", query: "_sort=date,-date", code: "value", want: "repeated"},
		{typ: "Observation", query: "_sort:asc=date", code: "invalid", want: "takes no modifier"},
		{typ: "Observation", query: "_count=1&_count=2", code: "invalid", want: "only once"},
		{typ: "Observation", query: "_count=-1", code: "value", want: "whole number"},
		{typ: "Observation", query: "_count=1.5", code: "value", want: "whole number"},
		{typ: "Observation", query: "_total=all", code: "value", want: "none, estimate or accurate"},
		{typ: "Observation", query: "_summary=yes", code: "value", want: "true, text, data, count or false"},
		{typ: "Observation", query: "_contained=maybe", code: "value", want: "true, false or both"},
		{typ: "Observation", query: "_containedType=x", code: "value", want: "container or contained"},
		{typ: "Patient", query: "_elements=nonesuch", code: "value", want: "not an element of Patient"},
		{typ: "", query: "_elements=a.b", code: "value", want: "not an element"},
		{typ: "Observation", query: "_include:deep=Observation:subject", code: "invalid", want: "unknown modifier :deep"},
		{typ: "Observation", query: "_include=Observation", code: "invalid", want: "Type:parameter[:targetType]"},
		{typ: "Observation", query: "_include=Foo:subject", code: "invalid", want: `"Foo" is not a resource type`},
		{typ: "Observation", query: "_include=Patient:organization", code: "invalid", want: "not the type searched"},
		{typ: "Observation", query: "_include=Observation:*:Patient", code: "invalid", want: "wildcard include takes no target"},
		{typ: "Observation", query: "_include=Observation:nonesuch", code: "invalid", want: "no search parameter"},
		{typ: "Observation", query: "_include=Observation:code", code: "invalid", want: "includes follow reference parameters"},
		{typ: "Observation", query: "_include=Observation:subject:Practitioner", code: "invalid", want: "does not refer to Practitioner"},
		{typ: "Observation", query: "_revinclude=*", code: "invalid", want: "_revinclude=* is not supported"},
		{typ: "Patient", query: "_revinclude=Observation:encounter", code: "invalid", want: "does not refer to Patient"},
	}
	for _, tc := range tests {
		t.Run(tc.typ+"?"+tc.query, func(t *testing.T) {
			query, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			q, err := search.Parse(spec.R4(), tc.typ, query, tc.opts)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; parsed as %s", q)
			}
			oe := outcome.As(err)
			if oe.Kind != outcome.Invalid || len(oe.Issues) != 1 {
				t.Fatalf("got %v, want one Invalid issue", err)
			}
			is := oe.Issues[0]
			if is.Code != tc.code || is.Severity != outcome.SevError || !strings.Contains(is.Diagnostics, tc.want) {
				t.Errorf("got %s %s %q, want code %s with %q", is.Severity, is.Code, is.Diagnostics, tc.code, tc.want)
			}
			if tc.query != "" && !strings.HasPrefix(is.Diagnostics, `parameter "`) {
				t.Errorf("diagnostics %q do not name the parameter", is.Diagnostics)
			}
		})
	}
}

func TestNormalizeString(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "",
		"smith":            "smith",
		"SMITH":            "smith",
		"Zoë":              "zoe",
		"Zoe\u0308":        "zoe", // decomposed diaeresis
		"Ångström Straße":  "angstrom strasse",
		"Œuvre Æsir Łódź":  "oeuvre aesir lodz",
		"ČEŠKÝ ŘEČNÍK":     "cesky recnik",
		"Ελληνικά":         "ελληνικά",
		"ПЁТР":             "пётр",
		"O'Brien-Smith 42": "o'brien-smith 42",
		"\xff":             "\ufffd",
	} {
		if got := search.NormalizeString(in); got != want {
			t.Errorf("NormalizeString(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRegistry(t *testing.T) {
	s := spec.R4()
	r := search.NewRegistry(s)
	for _, typ := range s.ResourceTypes() {
		for _, code := range []string{"_id", "_lastUpdated", "_tag", "_profile", "_security", "_source", "_content", "_list"} {
			if r.Lookup(typ, code) == nil {
				t.Errorf("%s has no %s", typ, code)
			}
		}
	}
	if r.Lookup("Patient", "_text") == nil || r.Lookup("Binary", "_text") != nil {
		t.Error("_text applies to DomainResources only")
	}
	// The R4 package's example SearchParameters must not replace core ones.
	if p := r.Lookup("Resource", "_id"); p != nil {
		t.Errorf("abstract Resource has its own entry: %v", p.URL)
	}
	if p := r.Lookup("Patient", "_id"); p.URL != "http://hl7.org/fhir/SearchParameter/Resource-id" {
		t.Errorf("Patient _id is %s", p.URL)
	}
	if p := r.Lookup("Condition", "subject"); p.URL != "http://hl7.org/fhir/SearchParameter/Condition-subject" {
		t.Errorf("Condition subject is %s", p.URL)
	}
	if p := r.ByURL("http://hl7.org/fhir/SearchParameter/clinical-code"); p == nil || p.Type != "token" {
		t.Errorf("ByURL clinical-code: %v", p)
	}
	if p := r.Lookup("Patient", "age"); p == nil || r.Supported(p) {
		t.Errorf("Patient age has no expression and must be unsupported")
	}
	if codes := r.Params("Observation"); len(codes) < 30 || codes[0] != "_content" {
		t.Errorf("Observation params: %v", codes)
	}
	// A custom SearchParameter becomes searchable.
	custom := spec.SearchParam{URL: "http://example.org/SearchParameter/patient-eyecolor", Code: "eyecolor",
		Base: []string{"Patient"}, Type: "token", Expression: "Patient.extension('http://example.org/eyecolor').value"}
	r2 := search.NewRegistry(s, custom)
	q, err := r2.Parse("Patient", url.Values{"eyecolor": {"blue"}}, search.Options{Strict: true})
	if err != nil || q.Filters[0].Param.URL != custom.URL {
		t.Fatalf("custom parameter: %v %v", q, err)
	}
	if _, err := r.Parse("Patient", url.Values{"eyecolor": {"blue"}}, search.Options{Strict: true}); err == nil {
		t.Error("the custom parameter leaked into another registry")
	}
}

// TestLenientWarnings checks that ignored parameters are reported and left
// out of the canonical form (the self link states what was used).
func TestLenientWarnings(t *testing.T) {
	q, err := search.Parse(spec.R4(), "Patient", url.Values{"nonesuch": {"1"}, "name": {"x"}}, search.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Warnings) != 1 || q.Warnings[0].Severity != outcome.SevWarning || !strings.Contains(q.Warnings[0].Diagnostics, "nonesuch") {
		t.Errorf("warnings %+v", q.Warnings)
	}
	if got := q.String(); got != "Patient?name=x&_count=20" {
		t.Errorf("String() = %q", got)
	}
}

// TestInjectionInert checks that SQL-looking input stays data: it either
// fails validation or arrives as a typed value holding exactly the text.
func TestInjectionInert(t *testing.T) {
	evil := "x'; DROP TABLE resources; --"
	for _, tc := range []struct{ typ, name string }{
		{"Patient", "name"}, {"Patient", "identifier"}, {"Observation", "subject"}, {"Observation", "date"},
		{"Observation", "value-quantity"}, {"ValueSet", "url"}, {"RiskAssessment", "probability"},
		{"Observation", "code-value-quantity"}, {"Patient", "_id"}, {"Observation", "subject:Patient.name"},
		{"Patient", "_has:Observation:patient:code"},
	} {
		q, err := search.Parse(spec.R4(), tc.typ, url.Values{tc.name: {evil}}, search.Options{})
		if err != nil {
			if oe := outcome.As(err); oe.Kind != outcome.Invalid {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if got := q.Filters[0].Value(); got != evil {
			t.Errorf("%s: value rendered as %q", tc.name, got)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	s := spec.R4()
	query, _ := url.ParseQuery("code=http://loinc.org|8480-6,http://loinc.org|8462-4&date=ge2020-01-01&date=lt2021&" +
		"subject:Patient.name=smith&status=final&_sort=-date&_count=50&_include=Observation:subject")
	if _, err := search.Parse(s, "Observation", query, search.Options{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := search.Parse(s, "Observation", query, search.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCustomDefinitionErrors covers the error paths only custom
// SearchParameters can reach.
func TestCustomDefinitionErrors(t *testing.T) {
	s := spec.R4()
	r := search.NewRegistry(s,
		spec.SearchParam{URL: "http://example.org/sp/a", Code: "a", Base: []string{"Patient"}, Type: "composite", Expression: "Patient",
			Component: []spec.ParamComponent{{Definition: "http://example.org/sp/nonesuch", Expression: "x"}}},
		spec.SearchParam{URL: "http://example.org/sp/b", Code: "b", Base: []string{"Patient"}, Type: "composite", Expression: "Patient",
			Component: []spec.ParamComponent{{Definition: "http://example.org/sp/c", Expression: "x"}}},
		spec.SearchParam{URL: "http://example.org/sp/c", Code: "c", Base: []string{"Patient"}, Type: "composite", Expression: "Patient",
			Component: []spec.ParamComponent{{Definition: "http://hl7.org/fhir/SearchParameter/clinical-code", Expression: "x"}}},
		spec.SearchParam{URL: "http://example.org/sp/d", Code: "d", Base: []string{"Patient"}, Type: "fancy", Expression: "Patient.x"},
		spec.SearchParam{URL: "http://example.org/sp/e", Code: "e", Base: []string{"Patient"}, Type: "special", Expression: "Patient.x"},
		spec.SearchParam{URL: "http://example.org/sp/f", Code: "f", Base: []string{"Patient"}, Type: "date", Expression: "Patient.x",
			Comparator: []string{"eq", "ge"}},
	)
	for _, tc := range []struct{ query, code, want string }{
		{"a=1", "not-supported", "component http://example.org/sp/nonesuch of a is not defined"},
		{"b=1", "value", "nested composite"},
		{"d=1", "value", `parameter type "fancy" is not supported`},
		{"e=1", "not-supported", `special parameter "e" is not supported`},
		{"f=lt2020", "value", "f does not take the prefix lt (it takes eq, ge)"},
	} {
		query, _ := url.ParseQuery(tc.query)
		_, err := r.Parse("Patient", query, search.Options{Strict: true})
		oe := outcome.As(err)
		if oe == nil || len(oe.Issues) != 1 || oe.Issues[0].Code != tc.code || !strings.Contains(oe.Issues[0].Diagnostics, tc.want) {
			t.Errorf("%s: got %v, want %s %q", tc.query, err, tc.code, tc.want)
		}
	}
}

// TestEveryR4Parameter parses a typical value, :missing and a chain or _has
// where they apply, for every parameter of every resource type, strictly:
// nothing the R4 definitions declare may be rejected except the parameters
// that cannot be indexed.
func TestEveryR4Parameter(t *testing.T) {
	s := spec.R4()
	r := search.NewRegistry(s)
	samples := map[string]string{
		"number": "ge1.5", "date": "le2020-01-02", "string": "abc", "token": "http://x|y", "reference": "1",
		"quantity": "gt5.4|http://unitsofmeasure.org|mg", "uri": "http://x/y", "special": "1|2",
	}
	n := 0
	for _, typ := range s.ResourceTypes() {
		for _, code := range r.Params(typ) {
			sp := r.Lookup(typ, code)
			if !r.Supported(sp) || code == "_query" || code == "_filter" {
				continue
			}
			value := samples[sp.Type]
			if code == "_list" {
				value = "42"
			}
			if sp.Type == "composite" {
				var parts []string
				for _, c := range sp.Component {
					parts = append(parts, samples[r.ByURL(c.Definition).Type])
				}
				value = strings.Join(parts, "$")
			}
			query := url.Values{code: {value}, code + ":missing": {"true"}}
			if sp.Type == "reference" && len(sp.Target) > 0 && sp.Target[0] != "Resource" {
				query[code+":"+sp.Target[0]+"._id"] = []string{"1"}
				has := url.Values{"_has:" + typ + ":" + code + ":_id": {"1"}}
				if _, err := r.Parse(sp.Target[0], has, search.Options{Strict: true}); err != nil {
					t.Errorf("%s?%s: %v", sp.Target[0], has.Encode(), err)
				}
			}
			if _, err := r.Parse(typ, query, search.Options{Strict: true}); err != nil {
				t.Errorf("%s?%s: %v", typ, query.Encode(), err)
			}
			n++
		}
	}
	if n < 2500 {
		t.Errorf("only %d parameters tried", n)
	}
}
