package validate_test

import (
	"encoding/json"
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/validate"
)

// BenchmarkValidate compares validation throughput over the official
// examples with the baseline the issue names: encoding/json decoding the same
// bytes into `any`, measured in the same run. Compare MB/s of the two
// sub-benchmarks (validate/baseline ≥ 1.0 is the aim).
func BenchmarkValidate(b *testing.B) {
	files := loadExamples(b)
	var total int64
	for _, f := range files {
		total += int64(len(f.Data))
	}
	b.Run("baseline=encoding-json-any", func(b *testing.B) {
		b.SetBytes(total)
		for b.Loop() {
			for _, f := range files {
				var v any
				if err := json.Unmarshal(f.Data, &v); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	v := validate.New(spec.R4(), validate.Options{SkipInvariants: true})
	b.Run("validate-structure", func(b *testing.B) {
		b.SetBytes(total)
		for b.Loop() {
			for _, f := range files {
				if issues := v.Validate(f.Data); outcome.HasErrors(issues) {
					if _, ok := knownInvalid[f.Name]; !ok {
						b.Fatalf("%s: %v", f.Name, issues)
					}
				}
			}
		}
	})
	full := validate.New(spec.R4(), validate.Options{})
	b.Run("validate-with-invariants", func(b *testing.B) {
		b.SetBytes(total)
		for b.Loop() {
			for _, f := range files {
				_ = full.Validate(f.Data)
			}
		}
	})
}
