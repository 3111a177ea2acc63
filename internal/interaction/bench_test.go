package interaction

import (
	"context"
	"testing"

	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
)

// benchObservation is shaped like a Synthea vital-sign Observation.
const benchObservation = `{"resourceType":"Observation","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs","display":"vital-signs"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"85354-9","display":"Blood pressure panel with all children optional"}],"text":"Blood pressure panel with all children optional"},"subject":{"reference":"Patient/example"},"effectiveDateTime":"2014-09-23T08:41:47-04:00","issued":"2014-09-23T08:41:47.166-04:00","component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8462-4","display":"Diastolic Blood Pressure"}],"text":"Diastolic Blood Pressure"},"valueQuantity":{"value":82,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic Blood Pressure"}],"text":"Systolic Blood Pressure"},"valueQuantity":{"value":127,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}`

// BenchmarkCreate is the create interaction as REST runs it minus HTTP:
// validation (with FHIRPath invariants) and one Update per resource, from 8
// goroutines per core (group commit), on SQLite and, when
// CONTINUUM_TEST_DATABASE_URL is set, PostgreSQL.
//
//	go test ./internal/interaction -run '^$' -bench Create -benchtime 2s
func BenchmarkCreate(b *testing.B) {
	for _, be := range sqltest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			if be.Name == "postgres" && sqltest.EnvURLValue() == "" {
				b.Skip(sqltest.EnvURL + " is not set")
			}
			s := newService(b, be)
			ctx := context.Background()
			body := []byte(benchObservation)
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.Create(ctx, CreateRequest{Type: "Observation", Org: "o", Body: body}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "resources/s")
		})
	}
}
