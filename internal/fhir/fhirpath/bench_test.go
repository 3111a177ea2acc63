package fhirpath

import (
	"compress/bzip2"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
)

const syntheaDir = "../../../../shared/data/synthea"

// syntheaResources returns the first Patient and Observation of one
// Synthea bundle from the shared data.
func syntheaResources(b *testing.B) map[string]*fhir.Value {
	b.Helper()
	files, _ := filepath.Glob(filepath.Join(syntheaDir, "[0-9a-f]*-*-*.json.bz2"))
	if len(files) == 0 {
		b.Skip("Synthea bundles not found in ../shared/data/synthea")
	}
	f, err := os.Open(files[0])
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	data, err := io.ReadAll(bzip2.NewReader(f))
	if err != nil {
		b.Fatal(err)
	}
	bundle, err := fhir.Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]*fhir.Value{}
	entries, _ := bundle.Get("entry")
	for i := range entries.Items {
		r, ok := entries.Items[i].Get("resource")
		if !ok {
			continue
		}
		rt := r.ResourceType()
		if (rt == "Patient" || rt == "Observation") && out[rt] == nil {
			out[rt] = r
		}
	}
	return out
}

// BenchmarkSearchParams extracts every search-parameter value of a
// Synthea Patient and Observation: one op is all parameters of one resource
// (expressions compiled once, as the indexer will).
func BenchmarkSearchParams(b *testing.B) {
	s := spec.R4()
	res := syntheaResources(b)
	for _, rt := range []string{"Observation", "Patient"} {
		v := res[rt]
		if v == nil {
			b.Fatalf("no %s in the bundle", rt)
		}
		var exprs []*Expression
		for _, sp := range s.SearchParams {
			if sp.Expression == "" {
				continue
			}
			for _, base := range sp.Base {
				if base == rt || base == "Resource" || base == "DomainResource" {
					exprs = append(exprs, MustCompile(sp.Expression))
					break
				}
			}
		}
		b.Run(rt, func(b *testing.B) {
			env := &Env{Spec: s, AsFilters: true}
			b.ReportAllocs()
			values := 0
			for b.Loop() {
				focus := Collection{ResourceNode(s, v)}
				values = 0
				for _, e := range exprs {
					out, err := e.Evaluate(env, focus)
					if err != nil {
						b.Fatal(err)
					}
					values += len(out)
				}
			}
			b.ReportMetric(float64(len(exprs)), "params/op")
			b.ReportMetric(float64(values), "values/op")
		})
	}
}

// BenchmarkEvaluate runs a few typical search-parameter expressions on one
// Observation, compiled once through a Cache.
func BenchmarkEvaluate(b *testing.B) {
	s := spec.R4()
	v, err := fhir.Parse([]byte(testObservation))
	if err != nil {
		b.Fatal(err)
	}
	cache := NewCache(0)
	for _, expr := range []string{
		"Observation.code",
		"Observation.subject.where(resolve() is Patient)",
		"(Observation.value as Quantity) | (Observation.value as SampledData)",
		"Observation.effective",
		"Observation.component.value.ofType(Quantity)",
	} {
		b.Run(expr, func(b *testing.B) {
			env := &Env{Spec: s, AsFilters: true}
			focus := Collection{ResourceNode(s, &v)}
			b.ReportAllocs()
			for b.Loop() {
				e, err := cache.Compile(expr)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := e.Evaluate(env, focus); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
