package sqlstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/search"
	"github.com/continuum-ehr/continuum/internal/store"
)

// BenchmarkSearch measures searches over 5,000 Observations (20 LOINC
// codes, 200 patients) beside read by id in the same run, the baseline
// (issue 5; benchmarks.md W6/W7 on this small set):
//
//	go test ./internal/store/sqlstore -run '^$' -bench BenchmarkSearch -benchtime 2s
//
// Each search is one View: token (a page of 20 of ~250 matches), token
// count (_summary=count), a chain (patient.gender), a date range with a
// sort, and _has.
func BenchmarkSearch(b *testing.B) {
	benchStores(b, func(b *testing.B, db *DB) {
		ctx := context.Background()
		const observations, patients, codes = 5000, 200, 20
		var obsIDs []string
		err := db.Update(ctx, func(tx store.Tx) error {
			for i := range patients {
				g := "male"
				if i%2 == 1 {
					g = "female"
				}
				v, _ := fhir.Parse([]byte(fmt.Sprintf(`{"resourceType":"Patient","id":"p%d","gender":%q,"name":[{"family":"Fam%d"}]}`, i, g, i)))
				if _, err := tx.Put(ctx, store.Write{Resource: &v, Org: "o"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		for len(obsIDs) < observations {
			err := db.Update(ctx, func(tx store.Tx) error {
				for j := 0; j < 500; j++ {
					i := len(obsIDs)
					body := strings.Replace(benchObservation, `"85354-9"`, fmt.Sprintf(`"%d-%d"`, 1000+i%codes, i%codes), 1)
					body = strings.Replace(body, "urn:uuid:1d604da9-9a81-4ba9-80c2-de3375d59b40", fmt.Sprintf("Patient/p%d", i%patients), 1)
					body = strings.Replace(body, "2014-09-23T08:41:47-04:00", fmt.Sprintf("20%02d-09-23T08:41:47-04:00", 10+i%10), 1)
					v, _ := fhir.Parse([]byte(body))
					w, err := tx.Create(ctx, store.Write{Resource: &v, Org: "o"})
					if err != nil {
						return err
					}
					obsIDs = append(obsIDs, w.ID)
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		// Fresh statistics, as autovacuum would have them after a load.
		if err := db.Analyze(ctx); err != nil {
			b.Fatal(err)
		}
		b.Run("read-by-id", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := db.Read(ctx, "Observation", obsIDs[rand.IntN(len(obsIDs))]); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b, b.N)
		})
		for _, c := range []struct{ name, typ, query string }{
			{"token", "Observation", "code=http://loinc.org|%d-%d&_total=none"},
			{"token-total", "Observation", "code=http://loinc.org|%d-%d"},
			{"token-count", "Observation", "code=http://loinc.org|%d-%d&_summary=count"},
			{"count-all", "Observation", "_summary=count"},
			{"chain", "Observation", "patient.gender=female&_total=none"},
			{"date-sorted", "Observation", "date=ge2015&date=lt2016&_sort=-date&_total=none"},
			{"has", "Patient", "_has:Observation:patient:code=%d-%d&_total=none"},
		} {
			b.Run(c.name, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					k := rand.IntN(codes)
					qs := c.query
					if strings.Contains(qs, "%d") {
						qs = fmt.Sprintf(qs, 1000+k, k)
					}
					vals, _ := url.ParseQuery(qs)
					q, err := search.Parse(spec.R4(), c.typ, vals, search.Options{})
					if err != nil {
						b.Fatal(err)
					}
					err = db.View(ctx, func(tx store.ReadTx) error {
						page, err := tx.Search(ctx, q, store.SearchOptions{})
						if err == nil && q.Summary != "count" && len(page.Matches) == 0 {
							err = fmt.Errorf("%s: no matches", qs)
						}
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
				}
				reportRate(b, b.N)
			})
		}
	})
}
