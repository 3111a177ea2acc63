package rest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/operation"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/reqid"
	"github.com/continuum-ehr/continuum/internal/validate"
)

const base = "https://ehr.example.org/clinic"

func newAPI(t *testing.T, ready func(context.Context) error) *API {
	t.Helper()
	v := validate.New(spec.R4(), validate.Options{})
	return New(Options{
		BaseURL:       base,
		Spec:          spec.R4(),
		Validate:      operation.NewValidate(v, validate.DefaultMaxDepth),
		Software:      Software{Name: "Continuum", Version: "v1.2.3"},
		Started:       time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC),
		Logger:        slog.New(slog.DiscardHandler),
		Ready:         ready,
		Authenticator: testTokens(),
	})
}

// validatorWorks skips tests that need the validator to find errors until it
// does (it is developed alongside).
func validatorWorks(t *testing.T) {
	t.Helper()
	v := validate.New(spec.R4(), validate.Options{})
	if !outcome.HasErrors(v.Validate([]byte(`{"resourceType":"Patient","bogus":1}`))) {
		t.Skip("the validator does not report errors yet")
	}
}

// scenario is one HTTP exchange and what the response must show.
type scenario struct {
	name        string
	method      string
	path        string
	header      map[string]string
	body        string
	needsValid  bool // needs the validator to report errors
	anonymous   bool // sent without credentials
	wantStatus  int
	wantCode    string // first OperationOutcome issue code, when the response is one
	wantContain []string
}

func (sc scenario) run(t *testing.T, srvURL string) *http.Response {
	t.Helper()
	if sc.needsValid {
		validatorWorks(t)
	}
	method := sc.method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, srvURL+sc.path, strings.NewReader(sc.body))
	if err != nil {
		t.Fatal(err)
	}
	h := systemHeaders(sc.header)
	if sc.anonymous {
		h = sc.header
	}
	for k, v := range h {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != sc.wantStatus {
		t.Errorf("%s %s: status %d, want %d\n%s", method, sc.path, resp.StatusCode, sc.wantStatus, b)
	}
	if strings.HasPrefix(sc.path, "/fhir") {
		if ct := resp.Header.Get("Content-Type"); ct != ContentType {
			t.Errorf("Content-Type = %q, want %q", ct, ContentType)
		}
	}
	if sc.wantCode != "" {
		var oo struct {
			ResourceType string
			Issue        []struct{ Severity, Code, Diagnostics string }
		}
		if err := json.Unmarshal(b, &oo, json.MatchCaseInsensitiveNames(true)); err != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) == 0 {
			t.Fatalf("body is not an OperationOutcome with issues (%v):\n%s", err, b)
		}
		if oo.Issue[0].Code != sc.wantCode {
			t.Errorf("issue code %q, want %q\n%s", oo.Issue[0].Code, sc.wantCode, b)
		}
	}
	for _, s := range sc.wantContain {
		if !strings.Contains(string(b), s) {
			t.Errorf("body does not contain %q:\n%s", s, b)
		}
	}
	return resp
}

const patient = `{"resourceType":"Patient","id":"p1","active":true,"birthDate":"1970-01-01"}`

func TestAPI(t *testing.T) {
	srv := httptest.NewServer(newAPI(t, nil).Handler())
	defer srv.Close()
	jsonCT := map[string]string{"Content-Type": "application/fhir+json"}
	for _, sc := range []scenario{
		{name: "healthz", path: "/healthz", wantStatus: 200, wantContain: []string{"ok"}},
		{name: "metadata", path: "/fhir/metadata", wantStatus: 200, wantContain: []string{`"CapabilityStatement"`}},
		{name: "metadata HEAD", method: "HEAD", path: "/fhir/metadata", wantStatus: 200},
		{name: "metadata json accept", path: "/fhir/metadata", header: map[string]string{"Accept": "application/json"}, wantStatus: 200},
		{name: "metadata browser accept", path: "/fhir/metadata", header: map[string]string{"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, wantStatus: 200},
		{name: "metadata _format json", path: "/fhir/metadata?_format=json", header: map[string]string{"Accept": "application/fhir+xml"}, wantStatus: 200},
		{name: "metadata _format fhir+json", path: "/fhir/metadata?_format=application/fhir%2Bjson", wantStatus: 200},
		{name: "xml accept", path: "/fhir/metadata", header: map[string]string{"Accept": "application/fhir+xml"}, wantStatus: 406, wantCode: "not-supported"},
		{name: "xml _format", path: "/fhir/metadata?_format=xml", wantStatus: 406, wantCode: "not-supported"},
		{name: "json refused by q=0", path: "/fhir/metadata", header: map[string]string{"Accept": "application/xml, application/fhir+json;q=0"}, wantStatus: 406},
		{name: "other fhirVersion", path: "/fhir/metadata", header: map[string]string{"Accept": "application/fhir+json; fhirVersion=3.0"}, wantStatus: 406},
		{name: "R4 fhirVersion", path: "/fhir/metadata", header: map[string]string{"Accept": "application/fhir+json; fhirVersion=4.0"}, wantStatus: 200},
		{name: "xml accept on unknown path", path: "/fhir/nope", header: map[string]string{"Accept": "application/xml"}, wantStatus: 406},
		{name: "unknown type path", path: "/fhir/Patient", wantStatus: 404, wantCode: "not-found"},
		{name: "unknown deep path", path: "/fhir/a/b/c/d", wantStatus: 404, wantCode: "not-found"},
		{name: "fhir root", path: "/fhir", wantStatus: 404, wantCode: "not-found"},
		{name: "metadata wrong method", method: "POST", path: "/fhir/metadata", body: "{}", wantStatus: 404, wantCode: "not-found"},
		{name: "validate GET", path: "/fhir/$validate", wantStatus: 404, wantCode: "not-found"},
		{name: "unknown operation", method: "POST", path: "/fhir/$everything", body: "{}", wantStatus: 404, wantCode: "not-supported"},
		{name: "validate valid", method: "POST", path: "/fhir/$validate", header: jsonCT, body: patient, wantStatus: 200, wantContain: []string{`"OperationOutcome"`}},
		{name: "validate escaped dollar", method: "POST", path: "/fhir/%24validate", header: jsonCT, body: patient, wantStatus: 200},
		{name: "validate no content type", method: "POST", path: "/fhir/$validate", body: patient, wantStatus: 200},
		{name: "validate typed", method: "POST", path: "/fhir/Patient/$validate", header: jsonCT, body: patient, wantStatus: 200},
		{name: "validate parameters", method: "POST", path: "/fhir/Patient/$validate", header: jsonCT,
			body: `{"resourceType":"Parameters","parameter":[{"name":"resource","resource":` + patient + `}]}`, wantStatus: 200},
		{name: "validate invalid", method: "POST", path: "/fhir/$validate", header: jsonCT, body: `{"resourceType":"Patient","bogus":1}`,
			needsValid: true, wantStatus: 400, wantContain: []string{`"error"`}},
		{name: "validate wrong type", method: "POST", path: "/fhir/Patient/$validate", header: jsonCT, body: `{"resourceType":"Observation"}`,
			wantStatus: 400, wantCode: "invalid"},
		{name: "validate unknown type", method: "POST", path: "/fhir/Nope/$validate", header: jsonCT, body: patient, wantStatus: 404, wantCode: "not-found"},
		{name: "validate abstract type", method: "POST", path: "/fhir/DomainResource/$validate", header: jsonCT, body: patient, wantStatus: 404},
		{name: "validate not json", method: "POST", path: "/fhir/$validate", header: jsonCT, body: `<Patient/>`, wantStatus: 400, wantCode: "structure"},
		{name: "validate invalid utf-8", method: "POST", path: "/fhir/$validate", header: jsonCT, body: "{\"resourceType\":\"Patient\",\"id\":\"\xff\"}", wantStatus: 400, wantCode: "structure"},
		{name: "validate too deep", method: "POST", path: "/fhir/$validate", header: jsonCT,
			body: `{"resourceType":"Basic","x":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + "}", wantStatus: 400, wantCode: "too-costly"},
		{name: "validate empty", method: "POST", path: "/fhir/$validate", header: jsonCT, wantStatus: 400, wantCode: "structure"},
		{name: "validate xml body", method: "POST", path: "/fhir/$validate", header: map[string]string{"Content-Type": "application/fhir+xml"},
			body: `<Patient xmlns="http://hl7.org/fhir"/>`, wantStatus: 415, wantCode: "not-supported"},
		{name: "validate latin-1 body", method: "POST", path: "/fhir/$validate", header: map[string]string{"Content-Type": "application/fhir+json; charset=iso-8859-1"},
			body: patient, wantStatus: 415},
		{name: "validate gzip body", method: "POST", path: "/fhir/$validate", header: map[string]string{"Content-Type": "application/fhir+json", "Content-Encoding": "gzip"},
			body: patient, wantStatus: 415},
		{name: "outside fhir", path: "/nothing", wantStatus: 404},
	} {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, srv.URL) })
	}
}

func TestHealthzNotReady(t *testing.T) {
	srv := httptest.NewServer(newAPI(t, func(context.Context) error { return errors.New("store down") }).Handler())
	defer srv.Close()
	resp := scenario{path: "/healthz", wantStatus: 503}.run(t, srv.URL)
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q", resp.Header.Get("Cache-Control"))
	}
}

// TestCapabilityStatement checks the statement's content: R4, this instance,
// the configured base (whatever Host the client sends), and only $validate.
func TestCapabilityStatement(t *testing.T) {
	srv := httptest.NewServer(newAPI(t, nil).Handler())
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/fhir/metadata", nil)
	req.Host = "attacker.example"
	req.Header.Set("X-Forwarded-Host", "attacker.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var cs struct {
		ResourceType   string `json:"resourceType"`
		Status         string `json:"status"`
		Kind           string `json:"kind"`
		Date           string `json:"date"`
		FHIRVersion    string `json:"fhirVersion"`
		Format         []string
		Software       struct{ Name, Version string }
		Implementation struct{ URL string }
		Rest           []struct {
			Mode      string
			Resource  []any
			Operation []struct{ Name, Definition string }
		}
	}
	if err := json.Unmarshal(b, &cs, json.MatchCaseInsensitiveNames(true)); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if strings.Contains(string(b), "attacker") {
		t.Errorf("the Host header leaked into the statement:\n%s", b)
	}
	for _, c := range []struct{ what, got, want string }{
		{"resourceType", cs.ResourceType, "CapabilityStatement"},
		{"status", cs.Status, "active"},
		{"kind", cs.Kind, "instance"},
		{"date", cs.Date, "2026-11-25T08:00:00Z"},
		{"fhirVersion", cs.FHIRVersion, "4.0.1"},
		{"format", strings.Join(cs.Format, ","), "application/fhir+json,json"},
		{"software", cs.Software.Name + " " + cs.Software.Version, "Continuum v1.2.3"},
		{"implementation.url", cs.Implementation.URL, base + "/fhir"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if len(cs.Rest) != 1 || cs.Rest[0].Mode != "server" || len(cs.Rest[0].Resource) != 0 ||
		len(cs.Rest[0].Operation) != 1 || cs.Rest[0].Operation[0].Name != "validate" ||
		cs.Rest[0].Operation[0].Definition != "http://hl7.org/fhir/OperationDefinition/Resource-validate" {
		t.Errorf("rest = %+v, want one server rest with only the validate operation", cs.Rest)
	}

	// The statement is itself valid R4.
	v := validate.New(spec.R4(), validate.Options{})
	if issues := v.Validate(b); outcome.HasErrors(issues) {
		t.Errorf("the CapabilityStatement is not valid R4:\n%s", outcome.OperationOutcome(issues))
	}
}

func TestWriteErrorInternal(t *testing.T) {
	a := newAPI(t, nil)
	r := httptest.NewRequest("GET", "/fhir/x", nil)
	r = r.WithContext(reqid.With(r.Context(), "REQ-42"))
	w := httptest.NewRecorder()
	a.WriteError(w, r, errors.New("disk /secret/path failed"))
	body := w.Body.String()
	if w.Code != 500 || !strings.Contains(body, "request id REQ-42") || strings.Contains(body, "secret") {
		t.Errorf("status %d body %s: want 500 with the request id and without the cause", w.Code, body)
	}
	if ct := w.Header().Get("Content-Type"); ct != ContentType {
		t.Errorf("Content-Type = %q", ct)
	}

	w = httptest.NewRecorder()
	a.WriteError(w, r, outcome.New(outcome.Private, "not-found", "Patient/x not found"))
	if w.Code != 404 {
		t.Errorf("Private: status %d, want 404", w.Code)
	}
}
