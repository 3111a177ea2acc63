package fhir_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/r4examples"
)

// TestRoundTripOfficialExamples checks that parse → serialize loses nothing
// for every file of the official R4 package: the output is the input in
// compact form, byte for byte, so member order, primitive extensions with
// null padding, contained resources and decimals as written (1.50) survive.
func TestRoundTripOfficialExamples(t *testing.T) {
	files, err := r4examples.ReadAll()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the official R4 examples are required in CI: %v", err)
		}
		t.Skipf("needs the official R4 examples (%s via npm or $%s): %v", r4examples.Package, r4examples.EnvVar, err)
	}
	decimals := 0
	for _, f := range files {
		v, err := fhir.Parse(f.Data)
		if err != nil {
			t.Errorf("%s: %v", f.Name, err)
			continue
		}
		got := v.Marshal()
		want := canonical(t, f.Data)
		if !bytes.Equal(got, want) {
			i := firstDiff(got, want)
			t.Errorf("%s: round trip differs at byte %d: got …%s…, want …%s…", f.Name, i, excerpt(got, i), excerpt(want, i))
		}
		if bytes.Contains(f.Data, []byte("0,")) && bytes.Contains(f.Data, []byte(".")) {
			decimals++
		}
	}
	if decimals == 0 {
		t.Fatal("no file with decimals was checked")
	}
}

// canonical is the input in compact form with the same string escaping the
// encoder uses, so that a byte comparison is a semantic comparison that also
// keeps number literals exact.
func canonical(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	dec := jsontext.NewDecoder(bytes.NewReader(b))
	enc := jsontext.NewEncoder(&out)
	for {
		tok, err := dec.ReadToken()
		if err != nil {
			break
		}
		if err := enc.WriteToken(tok); err != nil {
			t.Fatal(err)
		}
	}
	return bytes.TrimSpace(out.Bytes())
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func excerpt(b []byte, i int) string {
	lo, hi := max(0, i-40), min(len(b), i+40)
	return string(b[lo:hi])
}

func TestParseKeepsWhatMatters(t *testing.T) {
	in := `{"resourceType":"Observation","valueQuantity":{"value":1.50,"unit":"mmol/L"},` +
		`"component":[{"valueDecimal":1e2}],"_status":{"extension":[{"url":"u","valueString":"x"}]},` +
		`"name":[{"given":["A",null,"C"],"_given":[null,{"id":"g2"},null]}],"text":"\u00e9\ud83d\ude00"}`
	v, err := fhir.Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	got := string(v.Marshal())
	for _, want := range []string{`"value":1.50`, `"valueDecimal":1e2`, `"given":["A",null,"C"]`, `"_given":[null,{"id":"g2"},null]`, `"text":"é😀"`} {
		if !strings.Contains(got, want) {
			t.Errorf("round trip lost %s: %s", want, got)
		}
	}
	if v.ResourceType() != "Observation" {
		t.Errorf("ResourceType = %q", v.ResourceType())
	}
}

func TestParseRejects(t *testing.T) {
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	cases := []struct {
		name, in string
		tooDeep  bool
	}{
		{"empty", "", false},
		{"not json", "hello", false},
		{"duplicate key", `{"a":1,"a":2}`, false},
		{"invalid utf-8", "{\"a\":\"\xff\"}", false},
		{"trailing data", `{"a":1} {"b":2}`, false},
		{"trailing comma", `{"a":1,}`, false},
		{"unterminated", `{"a":`, false},
		{"nested 10000 deep", deep, true},
		{"bad escape", `{"a":"\x"}`, false},
		{"lone surrogate", `{"a":"\ud800"}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fhir.Parse([]byte(tc.in))
			if err == nil {
				t.Fatalf("Parse(%.40q) succeeded", tc.in)
			}
			if tc.tooDeep != errors.Is(err, fhir.ErrTooDeep) {
				t.Errorf("Parse(%.40q) = %v; want too-deep %v", tc.in, err, tc.tooDeep)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"resourceType":"Patient","name":[{"given":["A",null],"_given":[null,{"id":"x"}]}]}`,
		`[1.50,-0,1e400,"\u0000"]`, `{"a":{"b":[[]]}}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := fhir.Parse(b)
		if err != nil {
			return
		}
		// Whatever parses must serialize and parse back to the same bytes.
		out := v.Marshal()
		v2, err := fhir.Parse(out)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", out, err)
		}
		if !bytes.Equal(v2.Marshal(), out) {
			t.Fatalf("not stable: %q", out)
		}
	})
}
