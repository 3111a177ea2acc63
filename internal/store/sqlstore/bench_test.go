package sqlstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/store"
)

// benchObservation is shaped like a Synthea vital-sign Observation (about
// 1.2 KB minified; Synthea's resources average about 1.5 KB).
const benchObservation = `{"resourceType":"Observation","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs","display":"vital-signs"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"85354-9","display":"Blood pressure panel with all children optional"}],"text":"Blood pressure panel with all children optional"},"subject":{"reference":"urn:uuid:1d604da9-9a81-4ba9-80c2-de3375d59b40"},"encounter":{"reference":"urn:uuid:f5b1c3c1-6f3a-4c6b-9a43-6c1f3ad0e6b4"},"effectiveDateTime":"2014-09-23T08:41:47-04:00","issued":"2014-09-23T08:41:47.166-04:00","identifier":[{"system":"urn:ietf:rfc:3986","value":"urn:uuid:0a9c5f8e-3e54-4bb0-b1b4-0c52b8c7f2a7"}],"component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8462-4","display":"Diastolic Blood Pressure"}],"text":"Diastolic Blood Pressure"},"valueQuantity":{"value":82,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic Blood Pressure"}],"text":"Systolic Blood Pressure"},"valueQuantity":{"value":127,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}`

// benchStores runs fn on SQLite (compressed, the default, and uncompressed)
// and, when CONTINUUM_TEST_DATABASE_URL is set, PostgreSQL. Benchmarks never fail for a missing PostgreSQL, even in CI.
func benchStores(b *testing.B, fn func(b *testing.B, db *DB)) {
	b.Run("sqlite", func(b *testing.B) {
		db := openSQLite(b, "")
		defer db.Close()
		fn(b, db)
	})
	// Without compression at rest, for docs/decisions/0009-compression.md.
	b.Run("sqlite-uncompressed", func(b *testing.B) {
		db, err := OpenSQLite(context.Background(), b.TempDir(), Options{Uncompressed: true})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		fn(b, db)
	})
	b.Run("postgres", func(b *testing.B) {
		if u := postgresURLOrSkip(b); u == "" {
			return
		}
		db, _ := openPostgres(b)
		defer db.Close()
		fn(b, db)
	})
}

func postgresURLOrSkip(b *testing.B) string {
	b.Helper()
	if testingEnvURL() == "" {
		b.Skip("CONTINUUM_TEST_DATABASE_URL is not set")
	}
	return testingEnvURL()
}

func benchResource(b testing.TB) *fhir.Value {
	b.Helper()
	v, err := fhir.Parse([]byte(benchObservation))
	if err != nil {
		b.Fatal(err)
	}
	return &v
}

func reportRate(b *testing.B, resources int) {
	b.ReportMetric(float64(resources)/b.Elapsed().Seconds(), "resources/s")
}

// reportCommits reports the Updates per database commit since before: the
// group commit factor, transactions per fsync (benchmarks.md W5).
func reportCommits(b *testing.B, db *DB, before Stats) {
	after := db.Stats()
	if c := after.Commits - before.Commits; c > 0 {
		b.ReportMetric(float64(after.Updates-before.Updates)/float64(c), "tx/commit")
	}
}

// BenchmarkCreate measures single-resource creates, one transaction (and so
// one fsync) each: the REST create path without validation or indexing.
//
//	go test ./internal/store/sqlstore -run '^$' -bench BenchmarkCreate -benchtime 2s
func BenchmarkCreate(b *testing.B) {
	benchStores(b, func(b *testing.B, db *DB) {
		ctx := context.Background()
		res := benchResource(b)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			err := db.Update(ctx, func(tx store.Tx) error {
				_, err := tx.Create(ctx, store.Write{Resource: res, Org: "o"})
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b, b.N)
	})
}

// BenchmarkCreateParallel is BenchmarkCreate from 8 goroutines: Updates
// queue for the one writer, so this shows the cost of that queue.
func BenchmarkCreateParallel(b *testing.B) {
	benchStores(b, func(b *testing.B, db *DB) {
		ctx := context.Background()
		res := benchResource(b)
		b.SetParallelism(4) // 4 × GOMAXPROCS goroutines
		before := db.Stats()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				err := db.Update(ctx, func(tx store.Tx) error {
					_, err := tx.Create(ctx, store.Write{Resource: res, Org: "o"})
					return err
				})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
		reportRate(b, b.N)
		reportCommits(b, db, before)
	})
}

// BenchmarkCreateBatch100 creates 100 resources per transaction, the shape of
// a transaction Bundle or an import batch, with the search index; the
// "noindex" run (SQLite, no Extractor) in the same run is the cost without
// it.
func BenchmarkCreateBatch100(b *testing.B) {
	b.Run("noindex", func(b *testing.B) {
		db, err := OpenSQLite(context.Background(), b.TempDir(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		createBatches(b, db)
	})
	benchStores(b, createBatches)
}

func createBatches(b *testing.B, db *DB) {
	{
		ctx := context.Background()
		res := benchResource(b)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			err := db.Update(ctx, func(tx store.Tx) error {
				for j := 0; j < 100; j++ {
					if _, err := tx.Create(ctx, store.Write{Resource: res, Org: "o"}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b, 100*b.N)
	}
}

// BenchmarkRead measures read by id of random resources among 10,000:
// direct (Store.Read, one statement) and in a View each (serial), each
// sequentially and from 8 goroutines per core.
func BenchmarkRead(b *testing.B) {
	benchStores(b, func(b *testing.B, db *DB) {
		ctx := context.Background()
		res := benchResource(b)
		const n = 10000
		ids := make([]string, 0, n)
		for len(ids) < n {
			err := db.Update(ctx, func(tx store.Tx) error {
				for j := 0; j < 1000; j++ {
					v, err := tx.Create(ctx, store.Write{Resource: res, Org: "o"})
					if err != nil {
						return err
					}
					ids = append(ids, v.ID)
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		read := func(id string) error {
			return db.View(ctx, func(tx store.ReadTx) error {
				v, err := tx.Read(ctx, "Observation", id)
				if err == nil && len(v.Body) == 0 {
					err = fmt.Errorf("empty body")
				}
				return err
			})
		}
		direct := func(id string) error {
			v, err := db.Read(ctx, "Observation", id)
			if err == nil && len(v.Body) == 0 {
				err = fmt.Errorf("empty body")
			}
			return err
		}
		b.Run("direct", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := direct(ids[rand.IntN(n)]); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b, b.N)
		})
		b.Run("direct-parallel", func(b *testing.B) {
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := direct(ids[rand.IntN(n)]); err != nil {
						b.Error(err)
						return
					}
				}
			})
			reportRate(b, b.N)
		})
		b.Run("serial", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := read(ids[rand.IntN(n)]); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b, b.N)
		})
		b.Run("parallel", func(b *testing.B) {
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := read(ids[rand.IntN(n)]); err != nil {
						b.Error(err)
						return
					}
				}
			})
			reportRate(b, b.N)
		})
	})
}
