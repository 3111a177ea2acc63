package interaction

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"strings"
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/fhirxml"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
)

// patchCase is one case of HL7's fhir-patch-tests.xml.
type patchCase struct {
	name                string
	input, diff, output []byte // XML of each resource
	err                 string
}

// readPatchCases splits the official suite into cases, keeping each
// resource's XML as written.
func readPatchCases(t *testing.T, data []byte) []patchCase {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	var out []patchCase
	var cur *patchCase
	var section string
	for {
		start := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "case":
			out = append(out, patchCase{})
			cur = &out[len(out)-1]
			for _, a := range se.Attr {
				if a.Name.Local == "name" {
					cur.name = a.Value
				}
			}
			continue
		case "input", "diff", "output":
			section = se.Name.Local
			continue
		case "error":
			for _, a := range se.Attr {
				if a.Name.Local == "msg" {
					cur.err = a.Value
				}
			}
			continue
		}
		if cur == nil || section == "" {
			continue
		}
		if err := d.Skip(); err != nil {
			t.Fatal(err)
		}
		raw := data[start:d.InputOffset()]
		switch section {
		case "input":
			cur.input = raw
		case "diff":
			cur.diff = raw
		case "output":
			cur.output = raw
		}
		section = ""
	}
	return out
}

// TestFHIRPathPatchCases runs HL7's FHIRPath Patch cases
// (../shared/data/patch/fhir-patch-tests.xml, converted from XML here).
func TestFHIRPathPatchCases(t *testing.T) {
	cases := readPatchCases(t, sharedData(t, "patch/fhir-patch-tests.xml"))
	if len(cases) < 30 {
		t.Fatalf("only %d FHIRPath Patch cases", len(cases))
	}
	s := spec.R4()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, err := fhirxml.ToJSON(s, c.input)
			if err != nil {
				t.Fatalf("input: %v", err)
			}
			diff, err := fhirxml.ToJSON(s, c.diff)
			if err != nil {
				t.Fatalf("diff: %v", err)
			}
			ops, err := ParseFHIRPathPatch(diff)
			if err != nil {
				t.Fatalf("parse %s: %v", diff.Marshal(), err)
			}
			before := string(in.Marshal())
			got, err := ApplyFHIRPathPatch(s, *in, ops)
			if after := string(in.Marshal()); after != before {
				t.Errorf("the input changed: %s → %s", before, after)
			}
			if c.err != "" {
				if err == nil {
					t.Fatalf("no error, want %q; got %s", c.err, got.Marshal())
				}
				if oe := outcome.As(err); oe.Kind != outcome.Invalid || !strings.HasPrefix(oe.Issues[0].Expression[0], "Parameters.parameter[") {
					t.Errorf("error %v: want kind invalid located at the parameter", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\npatch: %s", err, diff.Marshal())
			}
			want, err := fhirxml.ToJSON(s, c.output)
			if err != nil {
				t.Fatalf("output: %v", err)
			}
			normalizeDiv(&got)
			normalizeDiv(want)
			if !equal(got, *want) {
				t.Errorf("\n got %s\nwant %s", got.Marshal(), want.Marshal())
			}
		})
	}
}

// normalizeDiv collapses white space in text.div: the expected XHTML is the
// XML as written, the patched one the string the patch carried.
func normalizeDiv(v *fhir.Value) {
	if text, ok := v.Get("text"); ok {
		if div, ok := text.Get("div"); ok {
			div.Text = strings.Join(strings.Fields(html.UnescapeString(div.Text)), " ")
		}
	}
}

func mustParse(t *testing.T, s string) fhir.Value {
	t.Helper()
	v, err := fhir.Parse([]byte(s))
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

// op builds an "operation" parameter from part name/value[x] pairs.
func op(parts ...string) string {
	var b strings.Builder
	b.WriteString(`{"name":"operation","part":[`)
	for i := 0; i+1 < len(parts); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":%q,%s}`, parts[i], parts[i+1])
	}
	b.WriteString(`]}`)
	return b.String()
}

func params(ops ...string) string {
	return `{"resourceType":"Parameters","parameter":[` + strings.Join(ops, ",") + `]}`
}

// TestFHIRPathPatch covers what the official cases do not: choice
// elements, primitive extensions in lists, empty lists, and every error.
func TestFHIRPathPatch(t *testing.T) {
	s := spec.R4()
	const base = `{"resourceType":"Patient","id":"p","active":true,"deceasedBoolean":false,` +
		`"name":[{"family":"Doe","given":["A","B","C"],"_given":[null,{"id":"b"},null]}],` +
		`"identifier":[{"value":"1"},{"value":"2"}]}`
	tests := []struct {
		name  string
		patch string
		want  string // the result, or
		err   string // a part of the error, located at Parameters.parameter[N]
		at    int
	}{
		{"replace choice with another type",
			params(op("type", `"valueCode":"replace"`, "path", `"valueString":"Patient.deceased"`, "value", `"valueDateTime":"2020-01-01"`)),
			`{"resourceType":"Patient","id":"p","active":true,"deceasedDateTime":"2020-01-01","name":[{"family":"Doe","given":["A","B","C"],"_given":[null,{"id":"b"},null]}],"identifier":[{"value":"1"},{"value":"2"}]}`, "", 0},
		{"delete keeps companions aligned",
			params(op("type", `"valueCode":"delete"`, "path", `"valueString":"Patient.name.given[0]"`)),
			`{"resourceType":"Patient","id":"p","active":true,"deceasedBoolean":false,"name":[{"family":"Doe","given":["B","C"],"_given":[{"id":"b"},null]}],"identifier":[{"value":"1"},{"value":"2"}]}`, "", 0},
		{"move a primitive with its extension",
			params(op("type", `"valueCode":"move"`, "path", `"valueString":"Patient.name.given"`, "source", `"valueInteger":1`, "destination", `"valueInteger":2`)),
			`{"resourceType":"Patient","id":"p","active":true,"deceasedBoolean":false,"name":[{"family":"Doe","given":["A","C","B"],"_given":[null,null,{"id":"b"}]}],"identifier":[{"value":"1"},{"value":"2"}]}`, "", 0},
		{"delete the only extension drops the companion",
			params(op("type", `"valueCode":"delete"`, "path", `"valueString":"Patient.name.given[1].id"`)),
			`{"resourceType":"Patient","id":"p","active":true,"deceasedBoolean":false,"name":[{"family":"Doe","given":["A","B","C"]}],"identifier":[{"value":"1"},{"value":"2"}]}`, "", 0},
		{"insert into an empty list",
			params(op("type", `"valueCode":"insert"`, "path", `"valueString":"Patient.telecom"`, "index", `"valueInteger":0`, "value", `"valueContactPoint":{"system":"phone","value":"1"}`)),
			`{"resourceType":"Patient","id":"p","active":true,"deceasedBoolean":false,"name":[{"family":"Doe","given":["A","B","C"],"_given":[null,{"id":"b"},null]}],"identifier":[{"value":"1"},{"value":"2"}],"telecom":[{"system":"phone","value":"1"}]}`, "", 0},
		{"add with parts to a list",
			params(op("type", `"valueCode":"add"`, "path", `"valueString":"Patient"`, "name", `"valueString":"contact"`, "value", `"part":[{"name":"telecom","valueContactPoint":{"value":"x"}},{"name":"gender","valueCode":"other"}]`)),
			`{"resourceType":"Patient","id":"p","active":true,"deceasedBoolean":false,"name":[{"family":"Doe","given":["A","B","C"],"_given":[null,{"id":"b"},null]}],"identifier":[{"value":"1"},{"value":"2"}],"contact":[{"telecom":[{"value":"x"}],"gender":"other"}]}`, "", 0},
		{"delete of nothing is no change",
			params(op("type", `"valueCode":"delete"`, "path", `"valueString":"Patient.birthDate"`)),
			base, "", 0},
		{"nothing to replace",
			params(op("type", `"valueCode":"delete"`, "path", `"valueString":"Patient.active"`), op("type", `"valueCode":"replace"`, "path", `"valueString":"Patient.birthDate"`, "value", `"valueDate":"2000-01-01"`)),
			"", "selects nothing", 1},
		{"several to delete",
			params(op("type", `"valueCode":"delete"`, "path", `"valueString":"Patient.identifier"`)),
			"", "selects 2 elements", 0},
		{"insert out of range",
			params(op("type", `"valueCode":"insert"`, "path", `"valueString":"Patient.identifier"`, "index", `"valueInteger":3`, "value", `"valueIdentifier":{"value":"3"}`)),
			"", "out of range", 0},
		{"move out of range",
			params(op("type", `"valueCode":"move"`, "path", `"valueString":"Patient.identifier"`, "source", `"valueInteger":0`, "destination", `"valueInteger":2`)),
			"", "below the list's length", 0},
		{"add to an existing single element",
			params(op("type", `"valueCode":"add"`, "path", `"valueString":"Patient"`, "name", `"valueString":"active"`, "value", `"valueBoolean":false`)),
			"", "already has", 0},
		{"add an existing choice in another type",
			params(op("type", `"valueCode":"add"`, "path", `"valueString":"Patient"`, "name", `"valueString":"deceased"`, "value", `"valueDateTime":"2020"`)),
			"", "already has", 0},
		{"add an unknown element",
			params(op("type", `"valueCode":"add"`, "path", `"valueString":"Patient"`, "name", `"valueString":"colour"`, "value", `"valueString":"x"`)),
			"", "no element", 0},
		{"choice of a wrong type",
			params(op("type", `"valueCode":"replace"`, "path", `"valueString":"Patient.deceased"`, "value", `"valueString":"x"`)),
			"", "cannot be a string", 0},
		{"computed path",
			params(op("type", `"valueCode":"replace"`, "path", `"valueString":"1 + 1"`, "value", `"valueString":"x"`)),
			"", "computed value", 0},
		{"not the whole list",
			params(op("type", `"valueCode":"move"`, "path", `"valueString":"Patient.identifier[0]"`, "source", `"valueInteger":0`, "destination", `"valueInteger":0`)),
			"", "whole list", 0},
		{"delete the resource",
			params(op("type", `"valueCode":"delete"`, "path", `"valueString":"Patient"`)),
			"", "whole resource", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := mustParse(t, base)
			p := mustParse(t, tc.patch)
			ops, err := ParseFHIRPathPatch(&p)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ApplyFHIRPathPatch(s, doc, ops)
			if tc.err != "" {
				oe := outcome.As(err)
				if err == nil || oe.Kind != outcome.Invalid || !strings.Contains(err.Error(), tc.err) ||
					!strings.HasPrefix(oe.Issues[0].Expression[0], fmt.Sprintf("Parameters.parameter[%d]", tc.at)) {
					t.Fatalf("err = %v (%+v), want %q at parameter %d", err, oe.Issues, tc.err, tc.at)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := mustParse(t, tc.want); !equal(got, want) {
				t.Errorf("\n got %s\nwant %s", got.Marshal(), want.Marshal())
			}
		})
	}
}

// TestParseFHIRPathPatch checks that malformed patch documents are refused
// with the parameter (and part) they are about.
func TestParseFHIRPathPatch(t *testing.T) {
	tests := []struct{ doc, loc, msg string }{
		{`{"resourceType":"Patient"}`, "Parameters", "is a Parameters"},
		{params(`{"name":"op"}`), "Parameters.parameter[0].name", "only \"operation\""},
		{params(op("type", `"valueCode":"replace"`)), "Parameters.parameter[0]", "needs the part \"path\""},
		{params(op("type", `"valueCode":"replace"`, "path", `"valueString":"Patient.active"`)), "Parameters.parameter[0]", "needs the part \"value\""},
		{params(op("type", `"valueCode":"frobnicate"`, "path", `"valueString":"Patient"`)), "Parameters.parameter[0]", "unknown operation type"},
		{params(op("type", `"valueCode":"delete"`, "path", `"valueString":"Patient.("`)), "Parameters.parameter[0]", "not FHIRPath"},
		{params(op("type", `"valueCode":"delete"`, "path", `"valueString":"Patient"`, "path", `"valueString":"Patient"`)), "Parameters.parameter[0].part[2]", "twice"},
		{params(op("type", `"valueCode":"insert"`, "path", `"valueString":"Patient.name"`, "index", `"valueInteger":-1`, "value", `"valueString":"x"`)), "Parameters.parameter[0].part[2]", "list index"},
		{params(op("type", `"valueCode":"insert"`, "path", `"valueString":"Patient.name"`, "index", `"valueString":"1"`, "value", `"valueString":"x"`)), "Parameters.parameter[0].part[2]", "valueInteger"},
		{params(op("type", `"valueCode":"replace"`, "path", `"valueString":"Patient.active"`, "value", `"valueBoolean":true,"valueString":"x"`)), "Parameters.parameter[0].part[2]", "exactly one"},
		{params(op("type", `"valueCode":"replace"`, "path", `"valueString":"Patient.active"`, "color", `"valueString":"x"`)), "Parameters.parameter[0].part[2]", "unknown part"},
	}
	for _, tc := range tests {
		p := mustParse(t, tc.doc)
		_, err := ParseFHIRPathPatch(&p)
		oe := outcome.As(err)
		if err == nil || oe.Kind != outcome.Invalid || oe.Issues[0].Expression[0] != tc.loc || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: err = %v at %v, want %q at %s", tc.doc, err, oe.Issues, tc.msg, tc.loc)
		}
	}
}

// TestFHIRPathPatchService patches through the Service on both backends:
// the result is validated and stored as the next version; an invalid result
// or a failing operation writes nothing.
func TestFHIRPathPatchService(t *testing.T) {
	ctx := systemContext()
	sqltest.Each(t, func(t *testing.T, b sqltest.Backend) {
		s := newService(t, b)
		if _, err := s.Update(ctx, UpdateRequest{Type: "Patient", ID: "p", Org: "a",
			Body: []byte(`{"resourceType":"Patient","id":"p","active":true,"name":[{"family":"Doe"}]}`)}); err != nil {
			t.Fatal(err)
		}
		v, err := s.Patch(ctx, PatchRequest{Type: "Patient", ID: "p", IfMatch: "1", Format: FHIRPathPatch,
			Body: []byte(params(
				op("type", `"valueCode":"replace"`, "path", `"valueString":"Patient.name[0].family"`, "value", `"valueString":"Roe"`),
				op("type", `"valueCode":"add"`, "path", `"valueString":"Patient"`, "name", `"valueString":"birthDate"`, "value", `"valueDate":"1970-02-03"`)))})
		if err != nil {
			t.Fatal(err)
		}
		got := mustParse(t, string(v.Body))
		if v.VersionID != "2" || got.Str("birthDate") != "1970-02-03" || !strings.Contains(string(v.Body), `"family":"Roe"`) {
			t.Errorf("patched = %s (version %s)", v.Body, v.VersionID)
		}
		for _, bad := range []struct {
			name string
			body string
			kind outcome.Kind
		}{
			{"invalid result", params(op("type", `"valueCode":"replace"`, "path", `"valueString":"Patient.birthDate"`, "value", `"valueString":"yesterday"`)), outcome.Invalid},
			{"second operation fails", params(
				op("type", `"valueCode":"delete"`, "path", `"valueString":"Patient.active"`),
				op("type", `"valueCode":"replace"`, "path", `"valueString":"Patient.gender"`, "value", `"valueCode":"male"`)), outcome.Invalid},
			{"not a Parameters", `{"resourceType":"Patient"}`, outcome.Invalid},
			{"id changes", params(op("type", `"valueCode":"replace"`, "path", `"valueString":"Patient.id"`, "value", `"valueId":"q"`)), outcome.Invalid},
		} {
			_, err := s.Patch(ctx, PatchRequest{Type: "Patient", ID: "p", Format: FHIRPathPatch, Body: []byte(bad.body)})
			wantKind(t, bad.name, err, bad.kind)
		}
		cur, err := s.Read(ctx, ReadRequest{Type: "Patient", ID: "p"})
		if err != nil || cur.VersionID != "2" {
			t.Errorf("after failed patches: %v, %v; want version 2 unchanged", cur, err)
		}
	})
}

// FuzzFHIRPathPatch feeds arbitrary documents to the FHIRPath Patch parser
// and applies what parses to a resource: neither may panic, the input
// resource never changes, and a result is always JSON that parses again.
func FuzzFHIRPathPatch(f *testing.F) {
	f.Add(params(op("type", `"valueCode":"replace"`, "path", `"valueString":"Patient.name[0].family"`, "value", `"valueString":"Roe"`)))
	f.Add(params(op("type", `"valueCode":"add"`, "path", `"valueString":"Patient"`, "name", `"valueString":"contact"`, "value", `"part":[{"name":"name","valueHumanName":{"text":"x"}}]`)))
	f.Add(params(op("type", `"valueCode":"move"`, "path", `"valueString":"Patient.name.given"`, "source", `"valueInteger":0`, "destination", `"valueInteger":2`)))
	f.Add(params(op("type", `"valueCode":"insert"`, "path", `"valueString":"Patient.telecom"`, "index", `"valueInteger":0`, "value", `"valueContactPoint":{"value":"1"}`)))
	f.Add(params(op("type", `"valueCode":"delete"`, "path", `"valueString":"Patient.name.given[1].id"`)))
	f.Add(params(op("type", `"valueCode":"replace"`, "path", `"valueString":"Patient.deceased"`, "value", `"_valueBoolean":{"id":"x"}`)))
	f.Add(`{"resourceType":"Parameters","parameter":{}}`)
	s := spec.R4()
	const base = `{"resourceType":"Patient","id":"p","active":true,"deceasedBoolean":false,` +
		`"name":[{"family":"Doe","given":["A","B","C"],"_given":[null,{"id":"b"},null]}],"identifier":[{"value":"1"}]}`
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := fhir.Parse([]byte(doc))
		if err != nil {
			return
		}
		ops, err := ParseFHIRPathPatch(&p)
		if err != nil {
			if outcome.As(err).Kind == outcome.Internal {
				t.Fatalf("internal error: %v", err)
			}
			return
		}
		in, _ := fhir.Parse([]byte(base))
		got, err := ApplyFHIRPathPatch(s, in, ops)
		if string(in.Marshal()) != mustCompact(t, base) {
			t.Fatalf("the input changed: %s", in.Marshal())
		}
		if err != nil {
			if outcome.As(err).Kind == outcome.Internal {
				t.Fatalf("internal error: %v", err)
			}
			return
		}
		if _, err := fhir.Parse(got.Marshal()); err != nil {
			t.Fatalf("result %s does not parse: %v", got.Marshal(), err)
		}
	})
}

func mustCompact(t *testing.T, s string) string {
	v := mustParse(t, s)
	return string(v.Marshal())
}

// TestFHIRPathPatchBudget: a path too costly to evaluate stops with
// TooCostly (422) instead of holding the request.
func TestFHIRPathPatchBudget(t *testing.T) {
	given := strings.Repeat(`"x",`, 300) + `"y"`
	doc := mustParse(t, `{"resourceType":"Patient","name":[{"given":[`+given+`]}]}`)
	p := mustParse(t, params(op("type", `"valueCode":"delete"`, "path",
		`"valueString":"Patient.descendants().select(%resource.descendants()).select(%resource.descendants()).first()"`)))
	ops, err := ParseFHIRPathPatch(&p)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ApplyFHIRPathPatch(spec.R4(), doc, ops)
	if oe := outcome.As(err); err == nil || oe.Kind != outcome.TooCostly {
		t.Errorf("err = %v, want too-costly", err)
	}
}
