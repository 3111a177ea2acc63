package rest

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/operation"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
	"github.com/continuum-ehr/continuum/internal/validate"
)

// exchange is one request of a resource scenario and what its answer must be.
type exchange struct {
	method, path string
	header       map[string]string
	body         string
	status       int
	contains     []string          // substrings of the response body
	headers      map[string]string // exact response headers
}

func TestResourceInteractions(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, b sqltest.Backend) {
		v := validate.New(spec.R4(), validate.Options{})
		st := b.Open(t)
		api := New(Options{
			BaseURL:       base,
			Spec:          spec.R4(),
			Validate:      operation.NewValidate(v, validate.DefaultMaxDepth),
			Interactions:  interaction.New(interaction.Options{Store: st, Validator: v, Spec: spec.R4(), Audit: newTrail(t, st)}),
			Authenticator: testTokens(),
			Software:      Software{Name: "Continuum"},
			Started:       time.Now(),
			Logger:        slog.New(slog.DiscardHandler),
		})
		srv := httptest.NewServer(api.Handler())
		defer srv.Close()

		do := func(t *testing.T, ex exchange) (*http.Response, string) {
			t.Helper()
			req, err := http.NewRequest(ex.method, srv.URL+ex.path, strings.NewReader(ex.body))
			if err != nil {
				t.Fatal(err)
			}
			if ex.body != "" {
				req.Header.Set("Content-Type", "application/fhir+json")
			}
			for k, v := range systemHeaders(ex.header) {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != ex.status {
				t.Errorf("%s %s: status %d, want %d\n%s", ex.method, ex.path, resp.StatusCode, ex.status, body)
			}
			for _, c := range ex.contains {
				if !strings.Contains(string(body), c) {
					t.Errorf("%s %s: body lacks %q:\n%.600s", ex.method, ex.path, c, body)
				}
			}
			for k, want := range ex.headers {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s %s: %s = %q, want %q", ex.method, ex.path, k, got, want)
				}
			}
			return resp, string(body)
		}

		resp, created := do(t, exchange{method: "POST", path: "/fhir/Patient", body: `{"resourceType":"Patient","id":"ignored","active":true}`,
			status: 201, headers: map[string]string{"ETag": `W/"1"`, "Content-Type": ContentType}})
		var pat struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal([]byte(created), &pat); err != nil || pat.ID == "" || pat.ID == "ignored" {
			t.Fatalf("created %s (%v)", created, err)
		}
		p := "/fhir/Patient/" + pat.ID
		if loc := resp.Header.Get("Location"); loc != base+p+"/_history/1" {
			t.Errorf("Location = %q", loc)
		}
		_, read := do(t, exchange{method: "GET", path: p, status: 200, headers: map[string]string{"ETag": `W/"1"`}})
		if read != created {
			t.Errorf("read differs from the create response:\n%s\n%s", read, created)
		}
		lastModified := resp.Header.Get("Last-Modified")
		for _, ex := range []exchange{
			{method: "GET", path: p + "?_summary=true", status: 200, contains: []string{"SUBSETTED", `"active":true`}},
			{method: "GET", path: p + "?_elements=birthDate", status: 200, contains: []string{"SUBSETTED"}},
			{method: "GET", path: p + "?_pretty=true", status: 200, contains: []string{"{\n  \"resourceType\": \"Patient\""}},
			{method: "GET", path: p + "?_summary=count", status: 501},
			{method: "GET", path: p, header: map[string]string{"If-None-Match": `W/"1"`}, status: 304},
			{method: "GET", path: p, header: map[string]string{"If-None-Match": `W/"7"`}, status: 200},
			{method: "GET", path: p, header: map[string]string{"If-Modified-Since": lastModified}, status: 304},
			{method: "GET", path: p, header: map[string]string{"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}, status: 200},
			{method: "PUT", path: p, header: map[string]string{"If-Match": `W/"1"`},
				body: `{"resourceType":"Patient","id":"` + pat.ID + `","active":false}`, status: 200,
				headers: map[string]string{"ETag": `W/"2"`}, contains: []string{`"versionId":"2"`}},
			{method: "PUT", path: p, header: map[string]string{"If-Match": `W/"1"`},
				body: `{"resourceType":"Patient","id":"` + pat.ID + `"}`, status: 412, contains: []string{"OperationOutcome"}},
			{method: "PUT", path: p, header: map[string]string{"If-Match": `bogus"`},
				body: `{"resourceType":"Patient","id":"` + pat.ID + `"}`, status: 400},
			{method: "PUT", path: "/fhir/Patient/other", body: `{"resourceType":"Patient","id":"` + pat.ID + `"}`, status: 400},
			{method: "PUT", path: "/fhir/Patient/client-id", body: `{"resourceType":"Patient","id":"client-id"}`, status: 201,
				headers: map[string]string{"Location": base + "/fhir/Patient/client-id/_history/1"}},
			{method: "PATCH", path: p, header: map[string]string{"Content-Type": "application/json-patch+json", "If-Match": `W/"2"`},
				body: `[{"op":"replace","path":"/active","value":true}]`, status: 200, headers: map[string]string{"ETag": `W/"3"`}},
			{method: "PATCH", path: p, header: map[string]string{"Content-Type": "application/fhir+json"},
				body: `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"type","valueCode":"replace"},` +
					`{"name":"path","valueString":"Patient.birthDate"},{"name":"value","valueDate":"2000-01-01"}]}]}`,
				status: 400, contains: []string{`"Parameters.parameter[0]"`, "selects nothing"}},
			{method: "PATCH", path: p, header: map[string]string{"Content-Type": "application/fhir+json", "If-Match": `W/"3"`},
				body: `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"type","valueCode":"add"},` +
					`{"name":"path","valueString":"Patient"},{"name":"name","valueString":"birthDate"},{"name":"value","valueDate":"2000-01-01"}]}]}`,
				status: 200, headers: map[string]string{"ETag": `W/"4"`}, contains: []string{`"birthDate":"2000-01-01"`}},
			{method: "PATCH", path: p, header: map[string]string{"Content-Type": "text/plain"}, body: `x`, status: 415},
			{method: "GET", path: p + "/_history/1", status: 200, contains: []string{`"active":true`}},
			{method: "GET", path: p + "/_history/9", status: 404},
			{method: "DELETE", path: p, status: 204, headers: map[string]string{"ETag": `W/"5"`}},
			{method: "GET", path: p, status: 410, contains: []string{"deleted"}},
			{method: "DELETE", path: p, status: 204},
			{method: "DELETE", path: "/fhir/Patient/never-was", status: 204},
			{method: "GET", path: p + "/_history", status: 200, contains: []string{`"type":"history"`, `"method":"DELETE"`,
				`"method":"PUT"`, `"method":"POST"`, `"etag":"W/\"5\""`}},
			{method: "GET", path: "/fhir/Patient/_history", status: 200, contains: []string{`"fullUrl":"` + base + `/fhir/Patient/client-id"`}},
			{method: "GET", path: "/fhir/_history?_since=2000-01-01T00:00:00Z", status: 200, contains: []string{"Patient/client-id"}},
			{method: "GET", path: "/fhir/_history?_since=yesterday", status: 400},
			{method: "GET", path: "/fhir/_history?_at=2020", status: 200},
			{method: "GET", path: "/fhir/Patient/_history?_at=" + time.Now().UTC().Format("2006"), status: 200,
				contains: []string{"Patient/client-id"}},
			{method: "GET", path: "/fhir/_history?_at=2020-13", status: 400},
			{method: "GET", path: "/fhir/_history?_elements=x", status: 501},
			{method: "GET", path: "/fhir/Foo/1", status: 404},
			{method: "POST", path: "/fhir/Foo", body: `{"resourceType":"Foo"}`, status: 404},
			{method: "POST", path: "/fhir/Patient", body: `{"resourceType":"Patient",`, status: 400},
			{method: "POST", path: "/fhir/Patient", body: `{"resourceType":"Observation"}`, status: 400},
			{method: "POST", path: "/fhir/Patient", header: map[string]string{"Prefer": "return=minimal"},
				body: `{"resourceType":"Patient"}`, status: 201, headers: map[string]string{"ETag": `W/"1"`}},
			{method: "POST", path: "/fhir/Patient", header: map[string]string{"If-None-Exist": "identifier=urn:mrn|7"},
				body: `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"7"}]}`, status: 201},
			{method: "POST", path: "/fhir/Patient", header: map[string]string{"If-None-Exist": "identifier=urn:mrn|7"},
				body: `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"7"}]}`, status: 200},
			{method: "POST", path: "/fhir/Patient", header: map[string]string{"If-None-Exist": "nonesuch=x"},
				body: `{"resourceType":"Patient"}`, status: 400},
			{method: "POST", path: "/fhir/$validate", body: `{"resourceType":"Patient"}`, status: 200},
			{method: "PUT", path: "/fhir/Patient?identifier=urn:mrn|8", body: `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"8"}]}`,
				status: 201},
			{method: "PUT", path: "/fhir/Patient?identifier=urn:mrn|8", body: `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"8"}],"active":true}`,
				status: 200, headers: map[string]string{"ETag": `W/"2"`}},
			{method: "PUT", path: "/fhir/Patient", body: `{"resourceType":"Patient"}`, status: 400},
			{method: "DELETE", path: "/fhir/Patient?identifier=urn:mrn|8", status: 204, headers: map[string]string{"ETag": `W/"3"`}},
			{method: "DELETE", path: "/fhir/Patient?identifier=urn:mrn|8", status: 204},
			{method: "GET", path: "/fhir/metadata", status: 200, contains: []string{`"history-system"`, `"versioned-update"`, `"type": "Patient"`, `"transaction"`,
				`"patchFormat": [`, `"application/fhir+json"`}},
			{method: "POST", path: "/fhir/", body: `{"resourceType":"Bundle","type":"transaction","entry":[
				{"fullUrl":"urn:uuid:11111111-1111-4111-8111-111111111111","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},
				{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:11111111-1111-4111-8111-111111111111"}},"request":{"method":"POST","url":"Observation"}}]}`,
				status: 200, contains: []string{`"type":"transaction-response"`, `"status":"201 Created"`}},
			{method: "POST", path: "/fhir", body: `{"resourceType":"Bundle","type":"transaction","entry":[
				{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:99999999-9999-4999-8999-999999999999"}},"request":{"method":"POST","url":"Observation"}}]}`,
				status: 400, contains: []string{"Bundle.entry[0]"}},
		} {
			do(t, ex)
		}

		// Paging the system history with _count follows next links to the end.
		next, seen, provs := "/fhir/_history?_count=2", 0, 0
		for i := 0; next != "" && i < 20; i++ {
			_, body := do(t, exchange{method: "GET", path: next, status: 200})
			var bundle struct {
				Link []struct {
					Relation string `json:"relation"`
					URL      string `json:"url"`
				} `json:"link"`
				Entry []jsontext.Value `json:"entry"`
			}
			if err := json.Unmarshal([]byte(body), &bundle); err != nil {
				t.Fatal(err)
			}
			for _, e := range bundle.Entry {
				if strings.Contains(string(e), `"resourceType":"Provenance"`) {
					provs++
				} else {
					seen++
				}
			}
			next = ""
			for _, l := range bundle.Link {
				if l.Relation == "next" {
					next = strings.TrimPrefix(l.URL, base)
				}
			}
		}
		// Every version written above, and the Provenance of each write
		// (counted apart).
		if seen != 13 || provs == 0 {
			t.Errorf("paging the system history saw %d versions and %d Provenances, want 13 and some", seen, provs)
		}
	})
}

func TestParsePeriod(t *testing.T) {
	d := func(y, m, day int) time.Time { return time.Date(y, time.Month(m), day, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		in       string
		from, to time.Time
		bad      bool
	}{
		{in: "2020", from: d(2020, 1, 1), to: d(2021, 1, 1)},
		{in: "2020-12", from: d(2020, 12, 1), to: d(2021, 1, 1)},
		{in: "2020-02-28", from: d(2020, 2, 28), to: d(2020, 2, 29)},
		{in: "2020-02-28T10:00:00+01:00", from: time.Date(2020, 2, 28, 9, 0, 0, 0, time.UTC)},
		{in: "2020-2", bad: true},
		{in: "20", bad: true},
		{in: "2020-02-28T10:00", bad: true},
	} {
		from, to, err := parsePeriod(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("parsePeriod(%q) = %v, %v; want an error", tc.in, from, to)
			}
			continue
		}
		if err != nil || !from.Equal(tc.from) || !to.Equal(tc.to) {
			t.Errorf("parsePeriod(%q) = %v, %v, %v; want %v, %v", tc.in, from, to, err, tc.from, tc.to)
		}
	}
}
