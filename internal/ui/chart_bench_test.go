package ui

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
)

// BenchmarkChart is benchmark W10: the chart page of a patient with 1,000
// encounters (and 200 conditions, 300 vital-sign observations, 50 notes),
// rendered for a signed-in clinician on SQLite, server time as the HTTP
// round trip on loopback. It reports the p95.
func BenchmarkChart(b *testing.B) {
	h := newHarness(b, sqltest.Backends()[0])
	br := h.signIn("doc")
	id := br.register("Ada", "Lovelace", "1915-12-10")
	ctx := auth.NewContext(context.Background(), auth.NewSystem())
	var entries []string
	add := func(body string) {
		entries = append(entries, `{"resource":`+body+`,"request":{"method":"POST","url":"`+typeOf(body)+`"}}`)
	}
	start := time.Date(2020, 1, 1, 9, 0, 0, 0, time.UTC)
	for i := range 1000 {
		add(fmt.Sprintf(`{"resourceType":"Encounter","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"type":[{"text":"Office visit"}],"subject":{"reference":"Patient/%s"},"period":{"start":%q}}`,
			id, start.Add(time.Duration(i)*24*time.Hour).Format(time.RFC3339)))
	}
	for i := range 200 {
		add(fmt.Sprintf(`{"resourceType":"Condition","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"code":{"text":"Problem %d"},"subject":{"reference":"Patient/%s"},"onsetDateTime":"2021-01-01"}`, i, id))
	}
	for i := range 300 {
		add(fmt.Sprintf(`{"resourceType":"Observation","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/%s"},"effectiveDateTime":%q,"valueQuantity":{"value":%d,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}}`,
			id, start.Add(time.Duration(i)*time.Hour).Format(time.RFC3339), 60+i%30))
	}
	for i := range 50 {
		add(fmt.Sprintf(`{"resourceType":"DocumentReference","status":"current","docStatus":"final","description":"Note %d","subject":{"reference":"Patient/%s"},"author":[{"reference":"Practitioner/dr"}],"date":"2022-01-01T00:00:00Z","content":[{"attachment":{"contentType":"text/markdown","data":"aGk="}}]}`, i, id))
	}
	for chunk := range slices.Chunk(entries, 250) {
		body := `{"resourceType":"Bundle","type":"transaction","entry":[` + strings.Join(chunk, ",") + `]}`
		if _, err := h.ui.rec.svc.Bundle(ctx, interaction.BundleRequest{Body: []byte(body), Org: "org-a"}); err != nil {
			b.Fatal(err)
		}
	}
	if resp, body := br.get("/patients/" + id); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Problem 199") {
		b.Fatalf("chart: %d\n%.500s", resp.StatusCode, body)
	}
	var lat []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if resp, _ := br.get("/patients/" + id); resp.StatusCode != http.StatusOK {
			b.Fatal(resp.Status)
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
}

func typeOf(body string) string {
	_, rest, _ := strings.Cut(body, `"resourceType":"`)
	t, _, _ := strings.Cut(rest, `"`)
	return t
}
