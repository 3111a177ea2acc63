package index

import (
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
)

// BenchmarkExtract measures full extraction (every SearchParameter of the
// type, rows and hashes) of a typical Synthea Observation and Patient,
// parsed beforehand: the cost the store pays per resource at write time.
// Parse/<type> decodes the same resource with fhir.Parse, a baseline from
// the same run: this machine is shared and noisy, so compare the ratio
// (benchmarks.md).
func BenchmarkExtract(b *testing.B) {
	bundles := syntheaBundles(b, 1)
	first := map[string]*fhir.Value{}
	for _, r := range withEntries(bundles[0])[1:] {
		rt := r.ResourceType()
		if rt == "Observation" {
			// A vital sign with a valueQuantity is the common case.
			if _, ok := r.Get("valueQuantity"); !ok {
				continue
			}
		}
		if first[rt] == nil {
			first[rt] = r
		}
	}
	x := New(spec.R4())
	for _, rt := range []string{"Observation", "Patient", "Encounter", "Condition", "Claim"} {
		r := first[rt]
		if r == nil {
			continue
		}
		b.Run(rt, func(b *testing.B) {
			e, err := x.Extract(r)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := x.Extract(r); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(e.Len()), "rows/op")
		})
		raw := r.Marshal()
		b.Run("Parse/"+rt, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := fhir.Parse(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
