package operation

import (
	"context"
	"strings"
	"testing"

	"github.com/continuum-ehr/continuum/internal/outcome"
)

// recorder is a Validator that records what it was given and reports one
// information issue, so tests see whether it ran and on which bytes.
type recorder struct{ got []byte }

func (r *recorder) Validate(b []byte) []outcome.Issue {
	r.got = b
	return []outcome.Issue{{Severity: outcome.SevInfo, Code: "informational", Diagnostics: "validator ran"}}
}

func TestValidate(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 101) + "1" + strings.Repeat("}", 101)
	deepOK := `{"resourceType":"Basic","x":` + strings.Repeat("[", 99) + strings.Repeat("]", 99) + "}"
	for _, tc := range []struct {
		name       string
		in         ValidateInput
		wantCode   string // code of the first issue; "informational" means the validator ran
		wantDiag   string // substring of its diagnostics
		wantPassed string // bytes the validator got, when it ran and they differ from the body
	}{
		{name: "resource", in: ValidateInput{Body: []byte(`{"resourceType":"Patient","id":"a"}`)}, wantCode: "informational"},
		{name: "typed match", in: ValidateInput{Body: []byte(`{"resourceType":"Patient"}`), Type: "Patient"}, wantCode: "informational"},
		{name: "typed mismatch", in: ValidateInput{Body: []byte(`{"resourceType":"Observation"}`), Type: "Patient"}, wantCode: "invalid", wantDiag: `"Observation" does not match`},
		{name: "empty", in: ValidateInput{Body: []byte(" \n")}, wantCode: "structure", wantDiag: "empty body"},
		{name: "not json", in: ValidateInput{Body: []byte(`hello`)}, wantCode: "structure", wantDiag: "invalid JSON at byte 0"},
		{name: "truncated", in: ValidateInput{Body: []byte(`{"resourceType":"Patient"`)}, wantCode: "structure", wantDiag: "invalid JSON"},
		{name: "array", in: ValidateInput{Body: []byte(`[{"resourceType":"Patient"}]`)}, wantCode: "structure", wantDiag: "must be a JSON object"},
		{name: "string", in: ValidateInput{Body: []byte(`"Patient"`)}, wantCode: "structure", wantDiag: "must be a JSON object"},
		{name: "invalid utf-8", in: ValidateInput{Body: []byte("{\"resourceType\":\"Patient\",\"id\":\"\xff\"}")}, wantCode: "structure", wantDiag: "UTF-8"},
		{name: "duplicate name", in: ValidateInput{Body: []byte(`{"resourceType":"Patient","id":"a","id":"b"}`)}, wantCode: "structure", wantDiag: "duplicate"},
		{name: "trailing data", in: ValidateInput{Body: []byte(`{"resourceType":"Patient"} {}`)}, wantCode: "structure", wantDiag: "invalid JSON"},
		{name: "too deep", in: ValidateInput{Body: []byte(deep)}, wantCode: "too-costly", wantDiag: "deeper than 100"},
		{name: "deep but within limit", in: ValidateInput{Body: []byte(deepOK)}, wantCode: "informational"},
		{name: "no resourceType", in: ValidateInput{Body: []byte(`{"id":"a"}`)}, wantCode: "structure", wantDiag: "missing resourceType"},
		{name: "nested resourceType does not count", in: ValidateInput{Body: []byte(`{"contained":[{"resourceType":"Patient"}]}`)}, wantCode: "structure", wantDiag: "missing resourceType"},
		{name: "resourceType not a string", in: ValidateInput{Body: []byte(`{"resourceType":1}`)}, wantCode: "structure", wantDiag: "missing resourceType"},
		{
			name:       "parameters unwrapped",
			in:         ValidateInput{Body: []byte(`{"resourceType":"Parameters","parameter":[{"name":"resource","resource":{"resourceType":"Patient", "active":true}}]}`), Parameters: true, Type: "Patient"},
			wantCode:   "informational",
			wantPassed: `{"resourceType":"Patient", "active":true}`,
		},
		{
			name:     "parameters unwrapped, type checked on the inner resource",
			in:       ValidateInput{Body: []byte(`{"resourceType":"Parameters","parameter":[{"name":"resource","resource":{"resourceType":"Patient"}}]}`), Parameters: true, Type: "Parameters"},
			wantCode: "invalid",
		},
		{
			name:     "parameters with unsupported mode",
			in:       ValidateInput{Body: []byte(`{"resourceType":"Parameters","parameter":[{"name":"mode","valueCode":"create"},{"name":"resource","resource":{"resourceType":"Patient"}}]}`), Parameters: true},
			wantCode: "not-supported", wantDiag: `"mode"`,
		},
		{
			name:     "parameters without resource validated as itself",
			in:       ValidateInput{Body: []byte(`{"resourceType":"Parameters","parameter":[{"name":"x","valueString":"y"}]}`), Parameters: true},
			wantCode: "informational",
		},
		{
			name:     "parameters not unwrapped for the CLI",
			in:       ValidateInput{Body: []byte(`{"resourceType":"Parameters","parameter":[{"name":"resource","resource":{"resourceType":"Patient"}}]}`)},
			wantCode: "informational",
		},
		{
			name:     "parameters with a malformed parameter list",
			in:       ValidateInput{Body: []byte(`{"resourceType":"Parameters","parameter":{"name":"resource"}}`), Parameters: true},
			wantCode: "structure", wantDiag: "invalid Parameters",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r recorder
			issues := NewValidate(&r, 100).Run(context.Background(), tc.in)
			if len(issues) == 0 {
				t.Fatal("no issues")
			}
			if issues[0].Code != tc.wantCode || !strings.Contains(issues[0].Diagnostics, tc.wantDiag) {
				t.Fatalf("first issue = %+v, want code %q with %q", issues[0], tc.wantCode, tc.wantDiag)
			}
			ran := r.got != nil
			wantRan := tc.wantCode == "informational" || tc.wantCode == "not-supported"
			if ran != wantRan {
				t.Errorf("validator ran = %v, want %v", ran, wantRan)
			}
			if tc.wantPassed != "" && string(r.got) != tc.wantPassed {
				t.Errorf("validator got %s, want %s", r.got, tc.wantPassed)
			}
			if tc.wantPassed == "" && ran && !tc.in.Parameters && string(r.got) != string(tc.in.Body) {
				t.Errorf("validator got %s, want the body unchanged", r.got)
			}
			if !wantRan && !outcome.HasErrors(issues) {
				t.Errorf("rejected input has no error issue: %+v", issues)
			}
		})
	}
}

// FuzzValidate checks that no input makes the operation panic or accept
// something the strict scanner rejects.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{
		`{"resourceType":"Patient"}`,
		`{"resourceType":"Parameters","parameter":[{"name":"resource","resource":{"resourceType":"Patient"}}]}`,
		`[]`, `{`, "\xff", `{"a":{"b":[1,2,{"c":null}]}}`,
	} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, b []byte, params bool) {
		var r recorder
		issues := NewValidate(&r, 20).Run(context.Background(), ValidateInput{Body: b, Parameters: params, Type: "Patient"})
		if len(issues) == 0 {
			t.Fatal("no issues")
		}
	})
}
