package rest

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/operation"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
	"github.com/continuum-ehr/continuum/internal/validate"
)

// searchBundle is what the tests read of a searchset Bundle.
type searchBundleJSON struct {
	Type  string `json:"type"`
	Total *int   `json:"total"`
	Link  []struct {
		Relation string `json:"relation"`
		URL      string `json:"url"`
	} `json:"link"`
	Entry []struct {
		FullURL  string `json:"fullUrl"`
		Resource struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
		} `json:"resource"`
		Search struct {
			Mode string `json:"mode"`
		} `json:"search"`
	} `json:"entry"`
}

func (b *searchBundleJSON) link(rel string) string {
	for _, l := range b.Link {
		if l.Relation == rel {
			return l.URL
		}
	}
	return ""
}

func (b *searchBundleJSON) ids(mode string) string {
	var out []string
	for _, e := range b.Entry {
		if e.Search.Mode == mode {
			out = append(out, e.Resource.ResourceType+"/"+e.Resource.ID)
		}
	}
	return strings.Join(out, ",")
}

func TestSearchREST(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, b sqltest.Backend) {
		v := validate.New(spec.R4(), validate.Options{})
		db := b.Open(t)
		api := New(Options{
			BaseURL:       base,
			Spec:          spec.R4(),
			Validate:      operation.NewValidate(v, validate.DefaultMaxDepth),
			Interactions:  interaction.New(interaction.Options{Store: db, Validator: v, Spec: spec.R4(), Audit: newTrail(t, db)}),
			Authenticator: testTokens(),
			Software:      Software{Name: "Continuum"},
			Started:       time.Now(),
			Logger:        slog.New(slog.DiscardHandler),
		})
		srv := httptest.NewServer(api.Handler())
		defer srv.Close()
		do := func(method, path, ctype, body string, header ...string) (int, string) {
			t.Helper()
			req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
			if ctype != "" {
				req.Header.Set("Content-Type", ctype)
			}
			for k, v := range systemHeaders(nil) {
				req.Header.Set(k, v)
			}
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			out, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(out)
		}
		for _, r := range []string{
			`{"resourceType":"Patient","id":"p1","gender":"male","birthDate":"1970","name":[{"family":"Smith"}]}`,
			`{"resourceType":"Patient","id":"p2","gender":"female","birthDate":"1980","name":[{"family":"Smythe"}]}`,
			`{"resourceType":"Patient","id":"p3","gender":"female","birthDate":"1990","name":[{"family":"Jones"}]}`,
			`{"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"subject":{"reference":"Patient/p1"}}`,
		} {
			var typ, id struct {
				ResourceType string `json:"resourceType"`
				ID           string `json:"id"`
			}
			_ = json.Unmarshal([]byte(r), &typ)
			id = typ
			if st, body := do("PUT", "/fhir/"+typ.ResourceType+"/"+id.ID, "application/fhir+json", r); st != 201 {
				t.Fatalf("PUT: %d %s", st, body)
			}
		}
		get := func(path string, status int, header ...string) *searchBundleJSON {
			t.Helper()
			st, body := do("GET", path, "", "", header...)
			if st != status {
				t.Fatalf("GET %s: %d, want %d\n%s", path, st, status, body)
			}
			var bundle searchBundleJSON
			if status == 200 {
				if err := json.Unmarshal([]byte(body), &bundle); err != nil || bundle.Type != "searchset" {
					t.Fatalf("GET %s: not a searchset (%v)\n%s", path, err, body)
				}
			}
			return &bundle
		}

		bd := get("/fhir/Patient?family=sm", 200)
		if bd.ids("match") != "Patient/p1,Patient/p2" || bd.Total == nil || *bd.Total != 2 {
			t.Errorf("family=sm: %s total %v", bd.ids("match"), bd.Total)
		}
		if self := bd.link("self"); self != base+"/fhir/Patient?family=sm&_count=20" {
			t.Errorf("self = %s", self)
		}

		st, body := do("POST", "/fhir/Patient/_search", "application/x-www-form-urlencoded", "family=jones")
		if st != 200 || !strings.Contains(body, `"id":"p3"`) || !strings.Contains(body, `"total":1`) {
			t.Errorf("POST _search: %d %s", st, body)
		}
		if st, _ := do("POST", "/fhir/Patient/_search", "application/fhir+json", "{}"); st != 415 {
			t.Errorf("POST _search with JSON: %d, want 415", st)
		}

		if bd := get("/fhir?_type=Patient,Observation&_id=p1,o1", 200); bd.ids("match") != "Patient/p1,Observation/o1" {
			t.Errorf("system search: %s", bd.ids("match"))
		}
		if bd := get("/fhir/Patient/p1/Observation", 200); bd.ids("match") != "Observation/o1" {
			t.Errorf("compartment search: %s", bd.ids("match"))
		}
		get("/fhir/Foo/p1/Observation", 404)
		get("/fhir/Patient/p1/Foo", 404)

		// Unknown parameters: a warning entry under lenient, 400 under strict.
		bd = get("/fhir/Patient?nonesuch=1&gender=female", 200)
		if bd.ids("match") != "Patient/p2,Patient/p3" || bd.ids("outcome") != "OperationOutcome/" ||
			strings.Contains(bd.link("self"), "nonesuch") {
			t.Errorf("lenient: %s / %s / %s", bd.ids("match"), bd.ids("outcome"), bd.link("self"))
		}
		get("/fhir/Patient?nonesuch=1", 400, "Prefer", "handling=strict")
		get("/fhir/Patient?birthdate=notadate", 400)
		get("/fhir/Patient?_page=garbage", 400)

		if bd := get("/fhir/Patient?_summary=count", 200); len(bd.Entry) != 0 || bd.Total == nil || *bd.Total != 3 {
			t.Errorf("_summary=count: %d entries, total %v", len(bd.Entry), bd.Total)
		}
		if _, body := do("GET", "/fhir/Patient?_id=p1&_elements=gender", "", ""); !strings.Contains(body, "SUBSETTED") || strings.Contains(body, "Smith") {
			t.Errorf("_elements: %s", body)
		}
		if bd := get("/fhir/Observation?_include=Observation:subject", 200); bd.ids("include") != "Patient/p1" {
			t.Errorf("_include: %s", bd.ids("include"))
		}

		// Paging through next links, and back through previous.
		var seen []string
		next := "/fhir/Patient?_sort=-birthdate&_count=1"
		var last *searchBundleJSON
		for next != "" {
			last = get(next, 200)
			seen = append(seen, last.ids("match"))
			next = strings.TrimPrefix(last.link("next"), base)
		}
		if strings.Join(seen, ",") != "Patient/p3,Patient/p2,Patient/p1" {
			t.Errorf("pages: %v", seen)
		}
		prev := get(strings.TrimPrefix(last.link("previous"), base), 200)
		if prev.ids("match") != "Patient/p2" {
			t.Errorf("previous page: %s", prev.ids("match"))
		}

		// Injection attempts through every parameter type are inert.
		for _, q := range []string{
			"family=" + url.QueryEscape("'; DROP TABLE resources; --"),
			"gender=" + url.QueryEscape("x' OR '1'='1"),
			"general-practitioner=" + url.QueryEscape("Practitioner/1' OR 1=1--"),
			"_id=" + url.QueryEscape("1) OR (1=1"),
			"identifier=" + url.QueryEscape("a|b') UNION SELECT body FROM versions --"),
			"_sort=family&family:contains=" + url.QueryEscape("%' --"),
		} {
			st, body := do("GET", "/fhir/Patient?"+q, "", "")
			if st != 200 && st != 400 {
				t.Errorf("%s: %d %s", q, st, body)
			}
			if strings.Contains(body, `"mode":"match"`) {
				t.Errorf("%s matched: %s", q, body)
			}
		}
		// The CapabilityStatement lists the parameters and the interactions.
		if _, body := do("GET", "/fhir/metadata", "", ""); !strings.Contains(body, `"search-type"`) ||
			!strings.Contains(body, `"name": "birthdate"`) || !strings.Contains(body, `"search-system"`) ||
			strings.Contains(body, `"name": "near"`) || strings.Contains(body, `"name": "_text"`) {
			t.Errorf("CapabilityStatement lacks search or lists unsupported parameters")
		}
		if bd := get("/fhir/Patient", 200); *bd.Total != 3 {
			t.Errorf("after injection attempts: %d patients", *bd.Total)
		}
	})
}
