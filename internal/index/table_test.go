package index

import (
	"fmt"
	"hash/fnv"
	"math"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/fhirpath"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
)

func TestDateRange(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		berlin = time.FixedZone("CET", 3600)
	}
	tests := []struct {
		in        string
		zone      *time.Location
		low, high string
		p         Precision
	}{
		{"2020", nil, "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z", PrecisionYear},
		{"2020-02", nil, "2020-02-01T00:00:00Z", "2020-03-01T00:00:00Z", PrecisionMonth},
		{"2020-12", nil, "2020-12-01T00:00:00Z", "2021-01-01T00:00:00Z", PrecisionMonth},
		{"2020-02-29", nil, "2020-02-29T00:00:00Z", "2020-03-01T00:00:00Z", PrecisionDay},
		{"2020-02-29T23:59:59Z", nil, "2020-02-29T23:59:59Z", "2020-03-01T00:00:00Z", PrecisionSecond},
		{"2020-06-01T10:00:00+02:00", nil, "2020-06-01T08:00:00Z", "2020-06-01T08:00:01Z", PrecisionSecond},
		{"2020-06-01T10:00:00-05:30", nil, "2020-06-01T15:30:00Z", "2020-06-01T15:30:01Z", PrecisionSecond},
		{"2020-06-01T10:00:00.5Z", nil, "2020-06-01T10:00:00.5Z", "2020-06-01T10:00:00.6Z", PrecisionFraction},
		{"2020-06-01T10:00:00.123Z", nil, "2020-06-01T10:00:00.123Z", "2020-06-01T10:00:00.124Z", PrecisionFraction},
		{"2020-06-01T10:00Z", nil, "2020-06-01T10:00:00Z", "2020-06-01T10:01:00Z", PrecisionMinute},
		// Without a zone, the server's zone (here Berlin, summer time).
		{"2020-06-01", berlin, "2020-05-31T22:00:00Z", "2020-06-01T22:00:00Z", PrecisionDay},
		{"2020", berlin, "2019-12-31T23:00:00Z", "2020-12-31T23:00:00Z", PrecisionYear},
		{"2020-06-01T10:00:00", berlin, "2020-06-01T08:00:00Z", "2020-06-01T08:00:01Z", PrecisionSecond},
		// A zone on the value wins over the server's.
		{"2020-06-01T10:00:00Z", berlin, "2020-06-01T10:00:00Z", "2020-06-01T10:00:01Z", PrecisionSecond},
	}
	for _, tt := range tests {
		low, high, p, ok := DateRange(tt.in, tt.zone)
		if !ok {
			t.Errorf("DateRange(%q): not a date", tt.in)
			continue
		}
		if got := low.Format(time.RFC3339Nano); got != tt.low {
			t.Errorf("DateRange(%q) low = %s, want %s", tt.in, got, tt.low)
		}
		if got := high.Format(time.RFC3339Nano); got != tt.high {
			t.Errorf("DateRange(%q) high = %s, want %s", tt.in, got, tt.high)
		}
		if p != tt.p {
			t.Errorf("DateRange(%q) precision = %s, want %s", tt.in, p, tt.p)
		}
	}
	for _, bad := range []string{"", "20", "2020-13", "2020-02-30", "2020-01-01T25:00:00Z", "2020-01-01T10:00:00+2", "2020Z", "2020-01-01T10:00:00.Z", "tomorrow"} {
		if _, _, _, ok := DateRange(bad, nil); ok {
			t.Errorf("DateRange(%q) accepted", bad)
		}
	}
}

func TestPeriodOpenEnds(t *testing.T) {
	tests := []struct {
		period    string
		low, high time.Time
	}{
		{`{"start":"2020-01-01"}`, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), MaxTime},
		{`{"end":"2020-01-01"}`, MinTime, time.Date(2020, 1, 2, 0, 0, 0, 0, time.UTC)},
		{`{"start":"2019","end":"2020-03"}`, time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2020, 4, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		v, err := fhir.Parse([]byte(tt.period))
		if err != nil {
			t.Fatal(err)
		}
		rows := appendPeriod(nil, "date", &v, time.UTC)
		if len(rows) != 1 || !rows[0].Low.Equal(tt.low) || !rows[0].High.Equal(tt.high) {
			t.Errorf("Period %s: rows %+v, want [%s, %s)", tt.period, rows, tt.low, tt.high)
		}
	}
	v, _ := fhir.Parse([]byte(`{}`))
	if rows := appendPeriod(nil, "date", &v, time.UTC); len(rows) != 0 {
		t.Errorf("empty Period gave rows %+v", rows)
	}
}

// TestStringFolding checks string rows through the query side's folding
// (search.NormalizeString): what a search folds must meet what is stored.
func TestStringFolding(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Müller", "muller"},
		{"MULLER", "muller"},
		{"Mu\u0308ller", "muller"}, // decomposed ü
		{"Straße", "strasse"},
		{"Ærøskøbing", "aeroskobing"},
		{"Łódź", "lodz"},
		{"François", "francois"},
		{"Þór", "thor"},
		{"Δημήτρης", "δημήτρης"},
		{"plain ascii", "plain ascii"},
	}
	for _, tt := range tests {
		rows := appendStrings(nil, "name", fhirpath.String(tt.in))
		if len(rows) != 1 || rows[0].Normalized != tt.want || rows[0].Exact != tt.in {
			t.Errorf("string row of %q = %+v, want normalized %q", tt.in, rows, tt.want)
		}
	}
	if a, b := newString("family", "Müller"), newString("family", "muller"); a.Normalized != b.Normalized || a.ExactHash == b.ExactHash {
		t.Errorf("Müller and muller must fold alike and differ for :exact: %+v %+v", a, b)
	}
}

func TestCanonicalUnit(t *testing.T) {
	tests := []struct {
		code      string
		value     float64
		canonical string
		want      float64
	}{
		{"g", 1, "g", 1},
		{"mg", 1500, "g", 1.5},
		{"kg", 2, "g", 2000},
		{"ug", 3, "g", 3e-6},
		{"mL", 250, "L", 0.25},
		{"dL", 1, "L", 0.1},
		{"mg/dL", 100, "g.L-1", 1},
		{"g/L", 1, "g.L-1", 1},
		{"mmol/L", 5.5, "L-1.mol", 0.0055},
		{"kg/m2", 24, "g.m-2", 24000},
		{"mm[Hg]", 1, "Pa", 133.322387415},
		{"/min", 60, "s-1", 1},
		{"{beats}/min", 120, "s-1", 2},
		{"h", 1, "s", 3600},
		{"a", 1, "s", 31557600},
		{"cm", 180, "m", 1.8},
		{"[in_i]", 1, "m", 0.0254},
		{"[lb_av]", 1, "g", 453.59237},
		{"10*3/uL", 5, "L-1", 5e9},
		{"%", 50, "%", 50},
		{"Cel", 37, "Cel", 37},
		{"[degF]", 98.6, "Cel", 37},
		{"K", 310.15, "Cel", 37},
	}
	for _, tt := range tests {
		canon, conv, ok := CanonicalUnit(tt.code)
		if !ok {
			t.Errorf("CanonicalUnit(%q): not normalised", tt.code)
			continue
		}
		if canon != tt.canonical {
			t.Errorf("CanonicalUnit(%q) = %q, want %q", tt.code, canon, tt.canonical)
		}
		if got := conv(tt.value); math.Abs(got-tt.want) > 1e-9*math.Max(1, math.Abs(tt.want)) {
			t.Errorf("%v %s = %v %s, want %v", tt.value, tt.code, got, canon, tt.want)
		}
	}
	for _, bad := range []string{"", "xyz", "mg/", "[arb'U]", "10*x", "kmin", "{"} {
		if c, _, ok := CanonicalUnit(bad); ok {
			t.Errorf("CanonicalUnit(%q) = %q, want not normalised", bad, c)
		}
	}
	// The same amount in different units meets on the same canonical key.
	x := New(spec.R4())
	a := quantityRows(t, x, `{"value":5.4,"system":"http://unitsofmeasure.org","code":"mg"}`)
	b := quantityRows(t, x, `{"value":0.0054,"system":"http://unitsofmeasure.org","code":"g"}`)
	if a.CanonicalHash != b.CanonicalHash || math.Abs(a.CanonicalLow+a.CanonicalHigh-b.CanonicalLow-b.CanonicalHigh) > 1e-12 {
		t.Errorf("5.4 mg and 0.0054 g differ: %+v vs %+v", a, b)
	}
}

func quantityRows(t *testing.T, x *Extractor, q string) Quantity {
	t.Helper()
	v, err := fhir.Parse([]byte(`{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":` + q + `}`))
	if err != nil {
		t.Fatal(err)
	}
	e, err := x.Extract(&v)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range e.Quantities {
		if r.Param == "value-quantity" {
			return r
		}
	}
	t.Fatalf("no value-quantity row for %s", q)
	return Quantity{}
}

func TestNumberRange(t *testing.T) {
	tests := []struct {
		in        string
		low, high float64
	}{
		{"100", 99.5, 100.5},
		{"100.00", 99.995, 100.005},
		{"0.5", 0.45, 0.55},
		{"1e2", 50, 150},
		{"-3", -3.5, -2.5},
	}
	for _, tt := range tests {
		low, high, ok := NumberRange(tt.in)
		if !ok || math.Abs(low-tt.low) > 1e-9 || math.Abs(high-tt.high) > 1e-9 {
			t.Errorf("NumberRange(%q) = [%v, %v) %v, want [%v, %v)", tt.in, low, high, ok, tt.low, tt.high)
		}
	}
}

func TestParseReference(t *testing.T) {
	x := New(spec.R4())
	tests := []struct {
		in                    string
		typ, id, version, url string
	}{
		{"Patient/123", "Patient", "123", "", ""},
		{"Patient/123/_history/4", "Patient", "123", "4", ""},
		{"http://example.org/fhir/Patient/123", "Patient", "123", "", "http://example.org/fhir/Patient/123"},
		{"http://example.org/fhir/Patient/123/_history/4", "Patient", "123", "4", "http://example.org/fhir/Patient/123/_history/4"},
		{"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0", "", "", "", "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0"},
		{"#contained", "", "", "", "#contained"},
		{"Unknown/123", "", "", "", ""},
		{"Patient/bad id", "", "", "", ""},
	}
	for _, tt := range tests {
		r := parseReference(tt.in, x.isResourceName)
		if r.typ != tt.typ || r.id != tt.id || r.version != tt.version || r.url != tt.url {
			t.Errorf("parseReference(%q) = %+v, want {%s %s %s %s}", tt.in, r, tt.typ, tt.id, tt.version, tt.url)
		}
	}
}

// TestResolveByType checks that "where(resolve() is Patient)" is decided
// by the reference's type, without a database.
func TestResolveByType(t *testing.T) {
	x := New(spec.R4())
	for _, tt := range []struct {
		subject string
		patient bool
	}{
		{`{"reference":"Patient/1"}`, true},
		{`{"reference":"https://example.org/fhir/Patient/1"}`, true},
		{`{"reference":"Group/1"}`, false},
		{`{"reference":"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0"}`, false},
		{`{"identifier":{"value":"x"}}`, false},
	} {
		v, err := fhir.Parse([]byte(`{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":` + tt.subject + `}`))
		if err != nil {
			t.Fatal(err)
		}
		e, err := x.Extract(&v)
		if err != nil {
			t.Fatal(err)
		}
		got := false
		for _, r := range e.References {
			got = got || r.Param == "patient"
		}
		if got != tt.patient {
			t.Errorf("subject %s: patient row %v, want %v", tt.subject, got, tt.patient)
		}
	}
}

func TestSpecialize(t *testing.T) {
	isRes := func(s string) bool { return spec.R4().Resource(s) != nil }
	tests := []struct{ expr, rt, want string }{
		{"AllergyIntolerance.code | Condition.code | (DeviceRequest.code as CodeableConcept)", "Condition", "Condition.code"},
		{"AllergyIntolerance.code | Condition.code | (DeviceRequest.code as CodeableConcept)", "DeviceRequest", "(DeviceRequest.code as CodeableConcept)"},
		{"Patient.name | Patient.telecom.where(system='a|b')", "Patient", "Patient.name | Patient.telecom.where(system='a|b')"},
		{"Resource.id", "Patient", "Resource.id"},
		{"Condition.code | Observation.code", "Patient", ""},
		{"name | Patient.x", "Observation", "name"},
	}
	for _, tt := range tests {
		if got := specialize(tt.expr, tt.rt, isRes); got != tt.want {
			t.Errorf("specialize(%q, %s) = %q, want %q", tt.expr, tt.rt, got, tt.want)
		}
	}
}

func TestAddParam(t *testing.T) {
	x := New(spec.R4())
	good := spec.SearchParam{URL: "http://example.org/sp/eye-color", Code: "eye-color", Base: []string{"Patient"}, Type: "token",
		Expression: "Patient.extension.where(url = 'http://example.org/eye-color').value"}
	if err := x.AddParam(good); err != nil {
		t.Fatalf("AddParam: %v", err)
	}
	v, _ := fhir.Parse([]byte(`{"resourceType":"Patient","extension":[{"url":"http://example.org/eye-color","valueCode":"blue"}]}`))
	e, err := x.Extract(&v)
	if err != nil {
		t.Fatal(err)
	}
	if !hasToken(e.Tokens, "eye-color") {
		t.Errorf("custom parameter gave no row:\n%s", render(&e))
	}
	for _, bad := range []spec.SearchParam{
		{Code: "x", Base: []string{"Patient"}, Type: "token", Expression: "Patient.name.where("},
		{Code: "x", Base: []string{"Nope"}, Type: "token", Expression: "name"},
		{Code: "x", Base: []string{"Patient"}, Type: "colour", Expression: "name"},
		{Code: "", Base: []string{"Patient"}, Type: "token", Expression: "name"},
	} {
		if err := x.AddParam(bad); err == nil {
			t.Errorf("AddParam(%+v) accepted", bad)
		}
	}
}

func TestExtractRejects(t *testing.T) {
	x := New(spec.R4())
	for _, in := range []string{`[]`, `"x"`, `{"resourceType":"Nope"}`, `{}`} {
		v, err := fhir.Parse([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := x.Extract(&v); err == nil {
			t.Errorf("Extract(%s) accepted", in)
		}
	}
	if _, err := x.Extract(nil); err == nil {
		t.Error("Extract(nil) accepted")
	}
}

// TestHashesStable pins the hashes: they are stored, so they must not
// change without a new ExtractorVersion. hash is FNV-1a 64 (checked
// against hash/fnv) over the parts, each preceded by 0xFF.
func TestHashesStable(t *testing.T) {
	for _, parts := range [][]string{{}, {"a"}, {"tsc", "code", "http://loinc.org", "8480-6"}, {"", ""}} {
		f := fnv.New64a()
		for _, p := range parts {
			f.Write([]byte{0xff})
			f.Write([]byte(p))
		}
		if got, want := uint64(hash(parts...)), f.Sum64(); got != want {
			t.Errorf("hash(%q) = %#x, want FNV-1a %#x", parts, got, want)
		}
	}
	if got := uint64(TokenSystemCodeHash("code", "http://loinc.org", "8480-6")); got != 0x299574ffc864a220 {
		t.Errorf("TokenSystemCodeHash(code, loinc, 8480-6) = %#x: stored hashes changed", got)
	}
	if hash("ab", "c") == hash("a", "bc") {
		t.Error("part boundaries must change the hash")
	}
}

// TestConcurrentExtract shares one Extractor between goroutines, as the
// store does; run with -race.
func TestConcurrentExtract(t *testing.T) {
	x := New(spec.R4())
	v, err := fhir.Parse([]byte(`{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"subject":{"reference":"Patient/1"},"valueQuantity":{"value":120,"system":"http://unitsofmeasure.org","code":"mm[Hg]"},"effectiveDateTime":"2020-01-01"}`))
	if err != nil {
		t.Fatal(err)
	}
	want, err := x.Extract(&v)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan string, 4)
	for range 4 {
		go func() {
			for range 50 {
				got, err := x.Extract(&v)
				if err != nil || render(&got) != render(&want) {
					errs <- fmt.Sprintf("concurrent Extract differs: %v", err)
					return
				}
			}
			errs <- ""
		}()
	}
	for range 4 {
		if msg := <-errs; msg != "" {
			t.Error(msg)
		}
	}
}
