package interaction

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

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
			ctx := systemContext()
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

// BenchmarkSmallTransaction is W5 of benchmarks.md without HTTP: a
// transaction Bundle of a Patient and an Observation referring to it by
// urn:uuid, from 1, 16 and 128 concurrent clients. It reports transactions/s,
// the p99 latency of one transaction and transactions per commit (per
// fsync): the group commit factor.
//
//	go test ./internal/interaction -run '^$' -bench SmallTransaction -benchtime 2s
func BenchmarkSmallTransaction(b *testing.B) {
	const bundle = `{"resourceType":"Bundle","type":"transaction","entry":[
		{"fullUrl":"urn:uuid:11111111-1111-4111-8111-111111111111","resource":{"resourceType":"Patient","active":true,"name":[{"family":"Doe"}]},"request":{"method":"POST","url":"Patient"}},
		{"resource":{"resourceType":"Observation","status":"final","code":{"text":"weight"},"valueQuantity":{"value":72.5,"unit":"kg"},
			"subject":{"reference":"urn:uuid:11111111-1111-4111-8111-111111111111"}},"request":{"method":"POST","url":"Observation"}}]}`
	for _, be := range sqltest.Backends() {
		for _, clients := range []int{1, 16, 128} {
			b.Run(fmt.Sprintf("%s/clients=%d", be.Name, clients), func(b *testing.B) {
				if be.Name == "postgres" && sqltest.EnvURLValue() == "" {
					b.Skip(sqltest.EnvURL + " is not set")
				}
				db := be.Open(b)
				s, _ := newOn(b, db)
				ctx := systemContext()
				before := db.Stats()
				var mu sync.Mutex
				var lat []time.Duration
				b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					var mine []time.Duration
					defer func() {
						mu.Lock()
						lat = append(lat, mine...)
						mu.Unlock()
					}()
					for pb.Next() {
						start := time.Now()
						if _, err := s.Bundle(ctx, BundleRequest{Org: "o", Body: []byte(bundle)}); err != nil {
							b.Error(err)
							return
						}
						mine = append(mine, time.Since(start))
					}
				})
				after := db.Stats()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
				if len(lat) > 0 {
					slices.Sort(lat)
					b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
				}
				if c := after.Commits - before.Commits; c > 0 {
					b.ReportMetric(float64(after.Updates-before.Updates)/float64(c), "tx/commit")
				}
			})
		}
	}
}
