package rest

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/operation"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
	"github.com/continuum-ehr/continuum/internal/validate"
)

// A signed note (DocumentReference docStatus=final) is immutable through
// every REST path: PUT, PATCH, DELETE, conditional update and transaction
// entries; a draft is not, and a signed note may only be marked
// entered-in-error (docs/decisions/0010-notes.md).
func TestSignedNoteImmutable(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, b sqltest.Backend) {
		v := validate.New(spec.R4(), validate.Options{})
		st := b.Open(t)
		api := New(Options{
			BaseURL: base, Spec: spec.R4(), Validate: operation.NewValidate(v, validate.DefaultMaxDepth),
			Interactions:  interaction.New(interaction.Options{Store: st, Validator: v, Spec: spec.R4(), Audit: newTrail(t, st)}),
			Authenticator: testTokens(), Software: Software{Name: "Continuum"}, Started: time.Now(), Logger: slog.New(slog.DiscardHandler),
		})
		srv := httptest.NewServer(api.Handler())
		defer srv.Close()
		do := func(method, path, ctype, body string, want int) string {
			t.Helper()
			req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
			if body != "" {
				req.Header.Set("Content-Type", ctype)
			}
			for k, v := range systemHeaders(nil) {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != want {
				t.Errorf("%s %s: status %d, want %d\n%.500s", method, path, resp.StatusCode, want, b)
			}
			return string(b)
		}
		const fj = "application/fhir+json"
		note := func(id, docStatus, text string) string {
			return `{"resourceType":"DocumentReference","id":"` + id + `","status":"current","docStatus":"` + docStatus +
				`","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"text/plain","data":"` + text + `"}}]}`
		}
		// A draft may change and be signed.
		do("PUT", "/fhir/DocumentReference/n1", fj, note("n1", "preliminary", "ZHJhZnQ="), 201)
		do("PUT", "/fhir/DocumentReference/n1", fj, note("n1", "preliminary", "ZHJhZnQgMg=="), 200)
		do("PUT", "/fhir/DocumentReference/n1", fj, note("n1", "final", "c2lnbmVk"), 200)

		refused := []struct{ method, path, ctype, body string }{
			{"PUT", "/fhir/DocumentReference/n1", fj, note("n1", "final", "Y2hhbmdlZA==")},
			{"PUT", "/fhir/DocumentReference/n1", fj, note("n1", "preliminary", "c2lnbmVk")},
			{"PATCH", "/fhir/DocumentReference/n1", "application/json-patch+json", `[{"op":"replace","path":"/docStatus","value":"preliminary"}]`},
			{"DELETE", "/fhir/DocumentReference/n1", "", ""},
			{"PUT", "/fhir/DocumentReference?_id=n1", fj, note("n1", "final", "Y2hhbmdlZA==")},
			{"DELETE", "/fhir/DocumentReference?_id=n1", "", ""},
			{"POST", "/fhir", fj, `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":` + note("n1", "final", "Y2hhbmdlZA==") +
				`,"request":{"method":"PUT","url":"DocumentReference/n1"}}]}`},
			{"POST", "/fhir", fj, `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"DELETE","url":"DocumentReference/n1"}}]}`},
		}
		for _, r := range refused {
			body := do(r.method, r.path, r.ctype, r.body, http.StatusConflict)
			if !strings.Contains(body, "signed note") {
				t.Errorf("%s %s: the outcome does not say why:\n%.400s", r.method, r.path, body)
			}
		}
		if got := do("GET", "/fhir/DocumentReference/n1", "", "", 200); !strings.Contains(got, `"c2lnbmVk"`) || !strings.Contains(got, `"versionId":"3"`) {
			t.Errorf("the signed note changed:\n%s", got)
		}
		// The one allowed change: entered-in-error, nothing else.
		withdrawn := strings.Replace(note("n1", "final", "c2lnbmVk"), `"status":"current"`, `"status":"entered-in-error"`, 1)
		do("PUT", "/fhir/DocumentReference/n1", fj, withdrawn, 200)
	})
}
