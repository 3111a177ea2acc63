package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fhirpathPatient = `{"resourceType":"Patient","id":"p1","active":true,
 "name":[{"use":"official","family":"Chalmers","given":["Peter","James"]}],
 "birthDate":"1974-12",
 "extension":[{"url":"http://example.org/w","valueQuantity":{"value":72.50,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}}]}`

func TestFHIRPathCLI(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "patient.json")
	if err := os.WriteFile(file, []byte(fhirpathPatient), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{name: "strings from the model", args: []string{"-e", "name.given", file}, wantCode: 0,
			wantStdout: []string{`{"type":"string","value":"Peter"}`, `{"type":"string","value":"James"}`}},
		{name: "code", args: []string{"-e", "name.use", file}, wantStdout: []string{`{"type":"code","value":"official"}`}},
		{name: "complex type", args: []string{"-e", "name", file},
			wantStdout: []string{`{"type":"HumanName","value":{"use":"official","family":"Chalmers","given":["Peter","James"]}}`}},
		{name: "partial date as written", args: []string{"-e", "birthDate", file}, wantStdout: []string{`{"type":"date","value":"1974-12"}`}},
		{name: "decimal keeps its digits", args: []string{"-e", "extension.value.value", file}, wantStdout: []string{`{"type":"decimal","value":72.50}`}},
		{name: "quantity", args: []string{"-e", "extension.value", file}, wantStdout: []string{`"type":"Quantity"`, `"value":72.50`}},
		{name: "system boolean", args: []string{"-e", "active and name.exists()", file}, wantStdout: []string{`{"type":"System.Boolean","value":true}`}},
		{name: "system integer", args: []string{"-e", "name.given.count()", file}, wantStdout: []string{`{"type":"System.Integer","value":2}`}},
		{name: "system decimal", args: []string{"-e", "1.50 * 2", file}, wantStdout: []string{`{"type":"System.Decimal","value":3.00}`}},
		{name: "system string", args: []string{"-e", "name.given.join(' ')", file}, wantStdout: []string{`{"type":"System.String","value":"Peter James"}`}},
		{name: "system date", args: []string{"-e", "@2014-01 + 1 month", file}, wantStdout: []string{`{"type":"System.Date","value":"2014-02"}`}},
		{name: "system quantity", args: []string{"-e", "4 'mg'", file}, wantStdout: []string{`{"type":"System.Quantity","value":{"value":4,"unit":"mg","system":"http://unitsofmeasure.org","code":"mg"}}`}},
		{name: "empty result", args: []string{"-e", "telecom", file}, wantStdout: []string{"[]\n"}},
		{name: "stdin", args: []string{"-e", "id"}, stdin: fhirpathPatient, wantStdout: []string{`{"type":"id","value":"p1"}`}},
		{name: "trace to stderr", args: []string{"-e", "id.trace('x')", file}, wantStdout: []string{`"p1"`}, wantStderr: []string{"trace x:"}},
		{name: "syntax error", args: []string{"-e", "name.given +", file}, wantCode: 1, wantStderr: []string{"syntax error at line 1, column 13", "^"}},
		{name: "unknown function", args: []string{"-e", "name.frob()", file}, wantCode: 1, wantStderr: []string{"unknown function frob()", "column 6"}},
		{name: "evaluation error", args: []string{"-e", "name.given.single()", file}, wantCode: 1, wantStderr: []string{"evaluation error", "single()"}},
		{name: "not json", args: []string{"-e", "id"}, stdin: "<Patient/>", wantCode: 1, wantStderr: []string{"invalid JSON"}},
		{name: "not a resource", args: []string{"-e", "id"}, stdin: `{"a":1}`, wantCode: 1, wantStderr: []string{"not a FHIR resource"}},
		{name: "missing file", args: []string{"-e", "id", filepath.Join(dir, "nope.json")}, wantCode: 1, wantStderr: []string{"cannot read"}},
		{name: "no expression", args: []string{file}, wantCode: 2, wantStderr: []string{"no expression"}},
		{name: "two files", args: []string{"-e", "id", file, file}, wantCode: 2, wantStderr: []string{"at most one FILE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tc.stdin, append([]string{"fhirpath"}, tc.args...)...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, stdout, stderr)
			}
			for _, s := range tc.wantStdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tc.wantStderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
		})
	}
}
