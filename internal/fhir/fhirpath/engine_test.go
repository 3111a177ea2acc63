package fhirpath

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
)

const testObservation = `{"resourceType":"Observation","id":"o1","status":"final",
 "code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},
 "subject":{"reference":"#p1"},
 "contained":[{"resourceType":"Patient","id":"p1","birthDate":"1974-12-25"}],
 "effectiveDateTime":"2013-04-02T09:30:10+01:00",
 "valueQuantity":{"value":185.00,"unit":"lbs","system":"http://unitsofmeasure.org","code":"[lb_av]"},
 "component":[
  {"code":{"text":"a"},"valueQuantity":{"value":120,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
  {"code":{"text":"b"},"valueString":"x","_valueString":{"id":"v1"}}],
 "note":[{"text":"one"},{"_text":{"extension":[{"url":"http://example.org/e","valueBoolean":true}]}}]}`

func observationNode(t testing.TB) *Node {
	t.Helper()
	v, err := fhir.Parse([]byte(testObservation))
	if err != nil {
		t.Fatal(err)
	}
	return ResourceNode(spec.R4(), &v)
}

// eval evaluates expr on the test Observation and renders the result.
func eval(t *testing.T, expr string) (string, error) {
	t.Helper()
	e, err := Compile(expr)
	if err != nil {
		return "", err
	}
	env := &Env{Spec: spec.R4(), Now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	res, err := e.Evaluate(env, Collection{observationNode(t)})
	if err != nil {
		return "", err
	}
	var parts []string
	for _, it := range res {
		_, v := describeItem(it)
		parts = append(parts, v)
	}
	return strings.Join(parts, " | "), nil
}

func TestEngine(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		// decimals keep their digits; arithmetic is exact
		{"185.00.toString()", "185.00"},
		{"Observation.value.value", "185.00"},
		{"0.1 + 0.2 = 0.3", "true"},
		{"1.50 * 2", "3.00"},
		{"1 / 3", "0.3333333333333333333333333333333333"},
		{"10 / 4", "2.5"},
		{"1.0 / 8", "0.125"},
		{"-7 div 2", "-3"},
		{"-7 mod 2", "-1"},
		{"7.5 mod 2", "1.5"},
		{"1.10 = 1.1", "true"},
		{"1.10 ~ 1.1", "true"},
		{"0.333 ~ 0.33", "true"},
		{"0.336 ~ 0.33", "false"},
		{"(2.345).round(2)", "2.35"},
		{"(-2.345).round(2)", "-2.35"},
		{"1.587.precision()", "3"},
		{"2147483647 + 1", "error"},
		{"12345678901234567890.1 + 1", "12345678901234567891.1"},
		// dates: precision and time zones
		{"@2018-03 < @2018-03-01", ""},
		{"@2018-02 < @2018-03-01", "true"},
		{"@2012-04-15T15:00:00+02:00 = @2012-04-15T13:00:00Z", "true"},
		{"@2012-04-15T15:00:00 = @2012-04-15T15:00:00Z", ""},
		{"@2012-04-15 ~ @2012-04-15T10:00:00", "false"},
		{"@T10:30:00 = @T10:30:00.000", "true"},
		{"@2024-01-31 + 1 month", "2024-02-29"},
		{"@2023-01-31 + 1 month", "2023-02-28"},
		{"@2024-02-29 + 1 year", "2025-02-28"},
		{"@2024-03-31 - 1 month", "2024-02-29"},
		{"@2024 + 18 months", "2025"},
		{"@2024-01-01 + 25 hours", "2024-01-02"},
		{"@2024-01-01T23:30:00Z + 45 minutes", "2024-01-02T00:15:00Z"},
		{"@T23:30 + 1 hour", "T00:30"},
		{"@2024-01-01 + 1 'a'", "error"},
		{"Observation.effective > @2013-04-02T08:00:00Z", "true"},
		{"Observation.effective.toString()", "2013-04-02T09:30:10+01:00"},
		{"today() = @2026-11-25", "true"},
		{"now() > @2026-11-25T09:59:59Z", "true"},
		{"@2013-04-02.toDateTime() < @2013-04-03T00:00", "true"},
		// quantities
		{"Observation.value > 80 'kg'", "true"},
		{"Observation.value < 90 'kg'", "true"},
		{"Observation.value = 185 'kg'", "false"},
		{"Observation.value = 1 'm'", ""},
		{"Observation.component.value.where($this is Quantity) > 15.9 'kPa'", "true"},
		{"1 'kg' + 500 'g'", "1.5 'kg'"},
		{"2 days = 48 hours", "true"},
		{"1 year = 12 months", "true"},
		{"1 year = 1 'a'", ""},
		{"100 'mg/dL' = 1 'g/L'", "true"},
		{"3 'mm[Hg]' > 0.3 'kPa'", "true"},
		// navigation, typing, choice elements, primitive extensions
		{"Observation.value.ofType(Quantity).code", "[lb_av]"},
		{"Observation.value.as(Quantity).unit", "lbs"},
		{"Observation.component.value.ofType(string)", "x"},
		{"Observation.component.value.ofType(string).id", "v1"},
		{"Observation.valueQuantity", "error"},
		{"Observation.note.text.count()", "2"},
		{"Observation.note.text.hasValue()", "false"},
		{"Observation.note[1].text.hasValue()", "false"},
		{"Observation.note[1].text.extension('http://example.org/e').value", "true"},
		{"Observation.note.text.select(hasValue())", "true | false"},
		{"Observation.subject.resolve().birthDate", "1974-12-25"},
		{"Observation.subject.resolve() is Patient", "true"},
		{"Observation.contained.ofType(Patient).id", "p1"},
		{"Observation.contained.id.type().name", "id"},
		{"Observation.contained.is(Resource)", "true"},
		{"Observation.status.is(code) and Observation.status.is(string)", "true"},
		{"Observation.status.as(string)", "final"},
		{"Observation.status.as(id)", ""},
		{"Observation.code.coding.system.is(uri)", "true"},
		{"Observation.status.memberOf('http://hl7.org/fhir/ValueSet/observation-status')", "true"},
		{"'bogus'.memberOf('http://hl7.org/fhir/ValueSet/observation-status')", "false"},
		{"Observation.status.memberOf('http://example.org/unknown')", ""},
		{"Observation.conformsTo('http://hl7.org/fhir/StructureDefinition/DomainResource')", "true"},
		{"%resource.id", "o1"},
		{"%ucum", "http://unitsofmeasure.org"},
		{"%nope", "error"},
		// multi-base unions: branches for other resource types are skipped,
		// but only where they are certainly empty
		{"Patient.id | Observation.component.code.text | Practitioner.name", "a | b"},
		{"Patient.id | (Observation.component.code.text | Observation.component.code.text)", "a | b"},
		{"Practitioner.name.exists() | Observation.id", "false | o1"},
		{"Practitioner.name.count() | Patient.id.empty()", "0 | true"},
		{"Resource.id | DomainResource.id | Patient.id", "o1"},
		// three-valued logic
		{"{} and false", "false"},
		{"{} or true", "true"},
		{"{} implies false", ""},
		{"false implies (1/0 = 1)", "true"},
		{"(1 | 2).not()", "error"},
		// strings
		{"'abc'.substring(1, 100)", "bc"},
		{"'héllo'.length()", "5"},
		{"'héllo'.indexOf('l')", "2"},
		{"'a.b'.matches('a.b') and 'axb'.matches('^a\\\\.b$').not()", "true"},
		{"'2024-01-05'.replaceMatches('(\\\\d+)-(\\\\d+)-(\\\\d+)', '$3/$2/$1')", "05/01/2024"},
		{"('b' | 'a').sort().join(',')", "a,b"},
	} {
		got, err := eval(t, tc.expr)
		if err != nil {
			got = "error"
		}
		if got != tc.want {
			t.Errorf("%s = %q, want %q (err %v)", tc.expr, got, tc.want, err)
		}
	}
}

func TestSyntaxErrorPositions(t *testing.T) {
	for _, tc := range []struct {
		expr      string
		line, col int
		msg       string
	}{
		{"name.given +", 1, 13, "end of expression"},
		{"name.given\n  .where(", 2, 10, "end of expression"},
		{"'unterminated", 1, 1, "unterminated"},
		{"name.frob()", 1, 6, "unknown function frob()"},
		{"name.where()", 1, 6, "takes 1 argument"},
		{"1 + # 2", 1, 5, "unexpected character"},
		{"@2015-13-01", 1, 1, "malformed date"},
		{"/* open", 1, 1, "unterminated comment"},
	} {
		_, err := Compile(tc.expr)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: got %v, want a syntax error", tc.expr, err)
			continue
		}
		if se.Line != tc.line || se.Col != tc.col || !strings.Contains(se.Msg, tc.msg) {
			t.Errorf("%q: got %d:%d %q, want %d:%d containing %q", tc.expr, se.Line, se.Col, se.Msg, tc.line, tc.col, tc.msg)
		}
	}
}

func TestLocations(t *testing.T) {
	n := observationNode(t)
	res, err := MustCompile("Observation.code.coding.code | Observation.component.value | Observation.note.text").Evaluate(&Env{Spec: spec.R4()}, Collection{n})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range res {
		got = append(got, it.(*Node).Location()+":"+it.TypeName())
	}
	want := "Observation.code.coding[0].code:code Observation.component[0].valueQuantity:Quantity Observation.component[1].valueString:string Observation.note[0].text:markdown Observation.note[1].text:markdown"
	if strings.Join(got, " ") != want {
		t.Errorf("locations:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestBudget(t *testing.T) {
	n := observationNode(t)
	e := MustCompile("(1|2|3|4|5|6|7|8|9|10).select((1|2|3|4|5|6|7|8|9|10).select((1|2|3|4|5|6|7|8|9|10).select(%resource.descendants())))")
	_, err := e.Evaluate(&Env{Spec: spec.R4(), MaxSteps: 10000}, Collection{n})
	if !errors.Is(err, ErrBudget) {
		t.Fatalf("got %v, want ErrBudget", err)
	}
	_, err = e.Evaluate(&Env{Spec: spec.R4(), Timeout: time.Nanosecond}, Collection{n})
	if !errors.Is(err, ErrBudget) {
		t.Fatalf("timeout: got %v, want ErrBudget", err)
	}
}

func TestAsBoolean(t *testing.T) {
	for _, tc := range []struct {
		c         Collection
		value, ok bool
		wantErr   bool
	}{
		{nil, false, false, false},
		{Collection{Boolean(true)}, true, true, false},
		{Collection{Boolean(false)}, false, true, false},
		{Collection{String("x")}, true, true, false},
		{Collection{Boolean(true), Boolean(true)}, false, false, true},
	} {
		v, ok, err := AsBoolean(tc.c)
		if v != tc.value || ok != tc.ok || (err != nil) != tc.wantErr {
			t.Errorf("AsBoolean(%v) = %v, %v, %v", tc.c, v, ok, err)
		}
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := NewCache(2)
	n := observationNode(t)
	env := &Env{Spec: spec.R4()}
	exprs := []string{"Observation.status", "Observation.code.coding.code", "Observation.value.value", "id"}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				e, err := c.Compile(exprs[(g+i)%len(exprs)])
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := e.Evaluate(env, Collection{n}); err != nil {
					t.Error(err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	if _, err := c.Compile("1 +"); err == nil {
		t.Error("want a syntax error")
	}
}

func TestUntyped(t *testing.T) {
	v, _ := fhir.Parse([]byte(`{"resourceType":"Foo","a":{"b":[1,2.5,"x",true]}}`))
	res, err := MustCompile("a.b").Evaluate(nil, Collection{ResourceNode(nil, &v)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range res {
		typ, val := describeItem(it)
		got = append(got, typ+"="+val)
	}
	if strings.Join(got, " ") != "integer=1 decimal=2.5 string=x boolean=true" {
		t.Errorf("untyped: %v", got)
	}
}
