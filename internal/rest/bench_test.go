package rest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/operation"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
	"github.com/continuum-ehr/continuum/internal/validate"
)

// BenchmarkReadByID is W4 of benchmarks.md: GET /fhir/Patient/{random id}
// over real HTTP at 1, 16 and 64 concurrent clients, beside a trivial Go
// handler measured in the same run (the ratio is the figure that counts).
// The API handler runs without the server's middleware (request ids, access
// log).
//
//	go test ./internal/rest -run '^$' -bench ReadByID -benchtime 2s
func BenchmarkReadByID(b *testing.B) {
	for _, be := range sqltest.Backends() {
		if be.Name == "postgres" && sqltest.EnvURLValue() == "" {
			continue
		}
		v := validate.New(spec.R4(), validate.Options{})
		st := be.Open(b)
		svc := interaction.New(interaction.Options{Store: st, Validator: v, Spec: spec.R4(), Audit: newTrail(b, st)})
		api := New(Options{BaseURL: base, Spec: spec.R4(), Validate: operation.NewValidate(v, validate.DefaultMaxDepth),
			Interactions: svc, Authenticator: testTokens(), Software: Software{Name: "Continuum"}, Started: time.Now(), Logger: slog.New(slog.DiscardHandler)})
		ids := make([]string, 1000)
		for i := range ids {
			res, err := svc.Create(auth.NewContext(context.Background(), auth.NewSystem()), interaction.CreateRequest{Type: "Patient", Org: "o",
				Body: []byte(`{"resourceType":"Patient","active":true,"name":[{"family":"Doe","given":["Jane"]}],"birthDate":"1970-01-01"}`)})
			if err != nil {
				b.Fatal(err)
			}
			ids[i] = res.Version.ID
		}
		srv := httptest.NewServer(api.Handler())
		trivial := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/fhir+json")
			_, _ = io.WriteString(w, `{"resourceType":"Patient","id":"x","active":true}`)
		}))
		for _, clients := range []int{1, 16, 64} {
			for _, target := range []struct {
				name string
				url  func() string
			}{
				{"trivial", func() string { return trivial.URL + "/x" }},
				{be.Name, func() string { return srv.URL + "/fhir/Patient/" + ids[rand.IntN(len(ids))] }},
			} {
				b.Run(fmt.Sprintf("%s/clients=%d", target.name, clients), func(b *testing.B) {
					tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
					defer tr.CloseIdleConnections()
					client := &http.Client{Transport: tr}
					get := func() error {
						req, err := http.NewRequest(http.MethodGet, target.url(), nil)
						if err != nil {
							return err
						}
						req.Header.Set("Authorization", "Bearer system")
						resp, err := client.Do(req)
						if err != nil {
							return err
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusOK {
							return fmt.Errorf("status %d", resp.StatusCode)
						}
						return nil
					}
					b.ResetTimer()
					if clients == 1 {
						for i := 0; i < b.N; i++ {
							if err := get(); err != nil {
								b.Fatal(err)
							}
						}
						b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
						return
					}
					// RunParallel runs parallelism × GOMAXPROCS goroutines.
					b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if err := get(); err != nil {
								b.Error(err)
								return
							}
						}
					})
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
				})
			}
		}
		srv.Close()
		trivial.Close()
	}
}
