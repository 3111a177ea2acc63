package fhir_test

import (
	"encoding/json"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/r4examples"
)

// BenchmarkRepresentation measures the options of
// docs/decisions/0002-resource-representation.md over the official examples,
// in one run: checking the raw bytes only (what a read path needs), building
// the lossless tree, and the encoding/json map decode as the baseline.
func BenchmarkRepresentation(b *testing.B) {
	files, err := r4examples.ReadAll()
	if err != nil {
		b.Skipf("needs the official R4 examples: %v", err)
	}
	var total int64
	for _, f := range files {
		total += int64(len(f.Data))
	}
	run := func(name string, fn func([]byte) error) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(total)
			b.ReportAllocs()
			for b.Loop() {
				for _, f := range files {
					if err := fn(f.Data); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
	run("baseline=encoding-json-any", func(d []byte) error { var v any; return json.Unmarshal(d, &v) })
	run("raw-bytes-checked", func(d []byte) error {
		if !jsontext.Value(d).IsValid() {
			b.Fatal("invalid")
		}
		return nil
	})
	run("tree", func(d []byte) error { _, err := fhir.Parse(d); return err })
	run("tree+marshal", func(d []byte) error {
		v, err := fhir.Parse(d)
		_ = v.Marshal()
		return err
	})
}
