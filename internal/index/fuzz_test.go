package index

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
)

// FuzzExtract feeds arbitrary JSON to Extract: it may refuse it, but must
// not panic, and a resource it accepts must extract the same rows twice.
// Seeds are the golden test resources and a few odd shapes.
func FuzzExtract(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "extract", "*.json"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		`{"resourceType":"Patient","birthDate":"2020-02-30","name":[{"given":[1,null]}]}`,
		`{"resourceType":"Observation","valueQuantity":{"value":1e400,"code":"mg/","system":"http://unitsofmeasure.org"}}`,
		`{"resourceType":"Observation","subject":{"reference":"Patient/../_history/x/y"},"effectivePeriod":{"start":"x"}}`,
		`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Composition","id":"c"}}]}`,
		`{"resourceType":"Condition","onsetRange":{"low":{"value":-1},"high":{"value":"x"}}}`,
	} {
		f.Add([]byte(s))
	}
	x := New(spec.R4())
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := fhir.Parse(b)
		if err != nil {
			return
		}
		e1, err1 := x.Extract(&v)
		e2, err2 := x.Extract(&v)
		if (err1 == nil) != (err2 == nil) || render(&e1) != render(&e2) {
			t.Fatalf("Extract is not deterministic on %s", b)
		}
	})
}
