package rest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/operation"
	"github.com/continuum-ehr/continuum/internal/store"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
	"github.com/continuum-ehr/continuum/internal/validate"
)

// enforceTokens are the callers of TestEnforcement, as the OAuth server
// would describe them.
func enforceTokens() tokens {
	docA := auth.NewPractitionerSession("u-doc-a", "pr-a", auth.Membership{Organization: "org-a", Role: auth.Physician})
	docB := auth.NewPractitionerSession("u-doc-b", "pr-b", auth.Membership{Organization: "org-b", Role: auth.Physician})
	scopes := func(s string) auth.Scopes {
		ss, err := auth.ParseScopes(s)
		if err != nil {
			panic(err)
		}
		return ss
	}
	app := func(user auth.Principal, client, scope, patient string) auth.Principal {
		return auth.Principal{Kind: auth.App, User: user.User, ClientID: client, Scopes: scopes(scope), Patient: patient}
	}
	return tokens{
		"system":       auth.NewSystem(),
		"doc-a":        docA,
		"doc-b":        docB,
		"desk-a":       auth.NewPractitionerSession("u-desk-a", "pr-d", auth.Membership{Organization: "org-a", Role: auth.FrontDesk}),
		"admin-a":      auth.NewPractitionerSession("u-admin-a", "pr-adm", auth.Membership{Organization: "org-a", Role: auth.Admin}),
		"reader-a":     app(docA, "chart-viewer", "user/*.rs", ""),
		"pat-1":        auth.NewPatientSession("u-p1", "p1"),
		"app-p1":       app(docA, "smart-app", "patient/*.rs", "p1"),
		"app-p1-lab":   app(docA, "lab-app", "patient/Observation.rs?category=laboratory", "p1"),
		"app-p1-write": app(docA, "writer-app", "patient/*.cruds", "p1"),
		"backend-a": {Kind: auth.Backend, ClientID: "etl", Scopes: scopes("system/*.rs"),
			Organizations: []string{"org-a"}},
	}
}

func observation(id, patient, category string) string {
	return fmt.Sprintf(`{"resourceType":"Observation","id":%q,"status":"final",`+
		`"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":%q}]}],`+
		`"code":{"text":"x"},"subject":{"reference":"Patient/%s"}}`, id, category, patient)
}

// TestEnforcement drives the API through REST on real stores with one
// token per kind of caller: who may do what, what answers 404 rather than
// 403, and the one AuditEvent each request leaves.
func TestEnforcement(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, b sqltest.Backend) {
		st := b.Open(t)
		trail := newTrail(t, st)
		v := validate.New(spec.R4(), validate.Options{})
		svc := interaction.New(interaction.Options{Store: st, Validator: v, Spec: spec.R4(), Audit: trail, Server: base + "/fhir"})
		api := New(Options{BaseURL: base, Spec: spec.R4(), Validate: operation.NewValidate(v, validate.DefaultMaxDepth),
			Interactions: svc, Authenticator: enforceTokens(), Software: Software{Name: "Continuum"}, Started: time.Now(),
			Logger: slog.New(slog.DiscardHandler)})
		srv := httptest.NewServer(api.Handler())
		defer srv.Close()

		// The data: two organizations, three patients.
		sys := auth.NewContext(context.Background(), auth.NewSystem())
		for _, r := range []struct{ typ, id, org, body string }{
			{"Patient", "p1", "org-a", `{"resourceType":"Patient","id":"p1","name":[{"family":"One"}]}`},
			{"Patient", "p2", "org-a", `{"resourceType":"Patient","id":"p2","name":[{"family":"Two"}]}`},
			{"Patient", "p3", "org-b", `{"resourceType":"Patient","id":"p3","name":[{"family":"Three"}]}`},
			{"Observation", "o1", "org-a", observation("o1", "p1", "laboratory")},
			{"Observation", "o2", "org-a", observation("o2", "p2", "laboratory")},
			{"Observation", "o3", "org-b", observation("o3", "p3", "laboratory")},
			{"Observation", "o4", "org-a", observation("o4", "p1", "vital-signs")},
		} {
			if _, err := svc.Update(sys, interaction.UpdateRequest{Type: r.typ, ID: r.id, Org: r.org, Body: []byte(r.body)}); err != nil {
				t.Fatal(err)
			}
		}
		ctx := context.Background()
		if err := trail.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		head := func() int64 {
			var n int64
			_ = st.View(ctx, func(tx store.ReadTx) error {
				es, err := tx.AuditEntries(ctx, 0, 0)
				if len(es) > 0 {
					n = es[len(es)-1].Seq
				}
				return err
			})
			return n
		}

		type ex struct {
			name, token, method, path string
			header                    map[string]string
			body                      string
			status                    int
			contains, lacks           []string // in the response body
			// audits are substrings of each AuditEvent the request must
			// leave, one list per event, in order; nil: none.
			audits [][]string
		}
		read := func(outcomeCode, ref string, more ...string) []string {
			return append([]string{`"code":"read"`, `"outcome":"` + outcomeCode + `"`, ref}, more...)
		}
		batch := func(typ string, urls ...string) string {
			var es []string
			for _, u := range urls {
				es = append(es, `{"request":{"method":"GET","url":"`+u+`"}}`)
			}
			return `{"resourceType":"Bundle","type":"` + typ + `","entry":[` + strings.Join(es, ",") + `]}`
		}
		newObs := strings.Replace(observation("x", "p1", "laboratory"), `"id":"x",`, "", 1)
		for _, tc := range []ex{
			// Authentication (RFC 6750 §3). 401s are not audited: they
			// never reach the record layer (docs/security.md).
			{name: "no token", method: "GET", path: "/fhir/Observation/o1", status: 401, contains: []string{`"login"`}},
			{name: "bad token", token: "forged", method: "GET", path: "/fhir/Observation/o1", status: 401},
			{name: "metadata is public", method: "GET", path: "/fhir/metadata", status: 200},
			{name: "discovery is public", method: "GET", path: "/fhir/.well-known/unknown", status: 404},
			{name: "unknown paths need a token", method: "GET", path: "/fhir/nothing/here/at/all", status: 401},

			// Search is narrowed before it runs: totals and pages are those
			// of the permitted subset (before any write below changes them).
			{name: "patient searches observations", token: "pat-1", method: "GET", path: "/fhir/Observation", status: 200,
				contains: []string{`"total":2`, `"id":"o1"`, `"id":"o4"`}, lacks: []string{`"id":"o2"`, `"id":"o3"`},
				audits: [][]string{{`"code":"search-type"`, `"outcome":"0"`, `"Observation/o1/_history/1"`, `"Patient/p1"`}}},
			{name: "patient _include", token: "pat-1", method: "GET", path: "/fhir/Observation?_include=Observation:subject:Patient", status: 200,
				contains: []string{`"id":"p1"`}, lacks: []string{`"id":"p2"`, "Two", `"id":"p3"`}},
			{name: "patient _include of a reference that may reach groups", token: "pat-1", method: "GET", path: "/fhir/Observation?_include=Observation:subject", status: 403},
			{name: "patient _revinclude", token: "pat-1", method: "GET", path: "/fhir/Patient?_revinclude=Observation:subject", status: 200,
				contains: []string{`"total":1`, `"id":"o1"`}, lacks: []string{`"id":"o2"`, `"id":"p2"`}},
			{name: "patient chain to another patient", token: "pat-1", method: "GET", path: "/fhir/Observation?subject:Patient.family=Two", status: 200,
				contains: []string{`"total":0`}, lacks: []string{`"id":"o2"`}},
			{name: "patient _has", token: "pat-1", method: "GET", path: "/fhir/Patient?_has:Observation:subject:category=laboratory", status: 200,
				contains: []string{`"total":1`, `"id":"p1"`}, lacks: []string{`"id":"p2"`}},
			{name: "patient system search", token: "pat-1", method: "GET", path: "/fhir?_type=Patient,Observation", status: 200,
				lacks: []string{`"id":"p2"`, `"id":"o2"`, `"id":"p3"`}},
			{name: "patient compartment search of another patient", token: "pat-1", method: "GET", path: "/fhir/Patient/p2/Observation", status: 200,
				contains: []string{`"total":0`}},
			{name: "constrained scope search", token: "app-p1-lab", method: "GET", path: "/fhir/Observation", status: 200,
				contains: []string{`"total":1`, `"id":"o1"`}, lacks: []string{`"id":"o4"`}},
			{name: "constrained scope, included type", token: "app-p1-lab", method: "GET", path: "/fhir/Patient?_revinclude=Observation:subject", status: 403},
			{name: "physician searches", token: "doc-a", method: "GET", path: "/fhir/Observation?category=laboratory", status: 200,
				contains: []string{`"total":2`}, lacks: []string{`"id":"o3"`}},
			{name: "physician system search", token: "doc-a", method: "GET", path: "/fhir?_type=Observation", status: 200, lacks: []string{`"id":"o3"`}},
			{name: "front desk revinclude of the chart", token: "desk-a", method: "GET", path: "/fhir/Patient?_revinclude=Observation:subject", status: 403,
				audits: [][]string{{`"code":"search-type"`, `"outcome":"4"`}}},
			{name: "front desk chain into the chart", token: "desk-a", method: "GET", path: "/fhir/Patient?_has:Observation:subject:category=laboratory", status: 403},
			{name: "patient search entry in a batch", token: "pat-1", method: "POST", path: "/fhir", body: batch("batch", "Observation?category=laboratory"), status: 200,
				contains: []string{`"id":"o1"`}, lacks: []string{`"id":"o2"`}},

			// Scopes: a read-only app may read and not write.
			{name: "read-only app reads", token: "reader-a", method: "GET", path: "/fhir/Observation/o1", status: 200,
				audits: [][]string{read("0", `"Observation/o1/_history/1"`, `"chart-viewer"`, `"Practitioner/pr-a"`, `"Patient/p1"`)}},
			{name: "read-only app creates", token: "reader-a", method: "POST", path: "/fhir/Observation", body: newObs, status: 403,
				audits: [][]string{{`"code":"create"`, `"outcome":"4"`}}},
			{name: "read-only app updates", token: "reader-a", method: "PUT", path: "/fhir/Observation/o1", body: observation("o1", "p1", "laboratory"), status: 403,
				audits: [][]string{{`"code":"update"`, `"outcome":"4"`}}},
			{name: "read-only app deletes", token: "reader-a", method: "DELETE", path: "/fhir/Observation/o1", status: 403,
				audits: [][]string{{`"code":"delete"`, `"outcome":"4"`}}},
			{name: "read-only app in a transaction", token: "reader-a", method: "POST", path: "/fhir",
				body:   `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":` + newObs + `,"request":{"method":"POST","url":"Observation"}}]}`,
				status: 403, audits: [][]string{{`"code":"transaction"`, `"outcome":"4"`}}},

			// Roles: the front desk does not read the chart.
			{name: "front desk reads an observation", token: "desk-a", method: "GET", path: "/fhir/Observation/o1", status: 403,
				audits: [][]string{read("4", `"Observation/o1"`)}},
			{name: "front desk reads a patient", token: "desk-a", method: "GET", path: "/fhir/Patient/p1", status: 200,
				audits: [][]string{read("0", `"Patient/p1/_history/1"`)}},

			// Organizations: another organization's resource does not
			// exist for the caller, whatever the interaction.
			{name: "other org read", token: "doc-a", method: "GET", path: "/fhir/Observation/o3", status: 404, contains: []string{`"not-found"`, "Observation/o3 is not known"},
				audits: [][]string{read("4", `"Observation/o3/_history/1"`)}},
			{name: "other org read is worded like a missing one", token: "doc-a", method: "GET", path: "/fhir/Observation/none", status: 404,
				contains: []string{`"not-found"`, "Observation/none is not known"}, audits: [][]string{read("4", `"Observation/none"`)}},
			{name: "other org vread", token: "doc-a", method: "GET", path: "/fhir/Observation/o3/_history/1", status: 404, audits: [][]string{{`"code":"vread"`, `"outcome":"4"`}}},
			{name: "other org history", token: "doc-a", method: "GET", path: "/fhir/Observation/o3/_history", status: 404, audits: [][]string{{`"code":"history-instance"`, `"outcome":"4"`}}},
			{name: "other org update", token: "doc-a", method: "PUT", path: "/fhir/Observation/o3", body: observation("o3", "p3", "laboratory"), status: 404,
				audits: [][]string{{`"code":"update"`, `"outcome":"4"`}}},
			{name: "other org patch", token: "doc-a", method: "PATCH", path: "/fhir/Observation/o3", header: map[string]string{"Content-Type": "application/json-patch+json"},
				body: `[{"op":"replace","path":"/status","value":"amended"}]`, status: 404, audits: [][]string{{`"code":"patch"`, `"outcome":"4"`}}},
			{name: "other org FHIRPath patch", token: "doc-a", method: "PATCH", path: "/fhir/Observation/o3",
				body:   `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"type","valueCode":"replace"},{"name":"path","valueString":"Observation.status"},{"name":"value","valueCode":"amended"}]}]}`,
				status: 404, audits: [][]string{{`"code":"patch"`, `"outcome":"4"`}}},
			{name: "other org patch in a batch", token: "doc-a", method: "POST", path: "/fhir",
				body:   `{"resourceType":"Bundle","type":"batch","entry":[{"resource":{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"type","valueCode":"replace"},{"name":"path","valueString":"Observation.status"},{"name":"value","valueCode":"amended"}]}]},"request":{"method":"PATCH","url":"Observation/o3"}}]}`,
				status: 200, contains: []string{`"status":"404 Not Found"`}, audits: [][]string{{`"code":"patch"`, `"outcome":"4"`}}},
			{name: "other org delete answers like a missing one", token: "doc-a", method: "DELETE", path: "/fhir/Observation/o3", status: 204,
				audits: [][]string{{`"code":"delete"`, `"outcome":"4"`}}},
			{name: "other org resource survived", token: "doc-b", method: "GET", path: "/fhir/Observation/o3", status: 200, audits: [][]string{read("0", `"Observation/o3/_history/1"`)}},
			{name: "other org in type history", token: "doc-a", method: "GET", path: "/fhir/Observation/_history", status: 200,
				contains: []string{"Observation/o1"}, lacks: []string{"Observation/o3"}, audits: [][]string{{`"code":"history-type"`, `"outcome":"0"`}}},
			{name: "other org in system history", token: "doc-a", method: "GET", path: "/fhir/_history", status: 200,
				contains: []string{"Patient/p1"}, lacks: []string{"Observation/o3", "Patient/p3"}, audits: [][]string{{`"code":"history-system"`}}},
			{name: "other org in a batch", token: "doc-a", method: "POST", path: "/fhir", body: batch("batch", "Observation/o1", "Observation/o3"), status: 200,
				contains: []string{`"status":"200 OK"`, `"status":"404 Not Found"`}, lacks: []string{`"id":"o3"`},
				audits: [][]string{read("0", `"Observation/o1`), read("4", `"Observation/o3`)}},
			{name: "other org in a transaction", token: "doc-a", method: "POST", path: "/fhir", body: batch("transaction", "Observation/o1", "Observation/o3"), status: 404,
				audits: [][]string{{`"code":"transaction"`, `"outcome":"4"`}}},
			{name: "transaction, one AuditEvent naming every entry", token: "doc-a", method: "POST", path: "/fhir",
				body: `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"GET","url":"Observation/o1"}},` +
					`{"fullUrl":"urn:uuid:5d1b4a0e-8f6c-4d8e-9a53-2c1f7e9b0a11","resource":` + newObs + `,"request":{"method":"POST","url":"Observation"}}]}`,
				status: 200, contains: []string{`"status":"201 Created"`},
				audits: [][]string{{`"code":"transaction"`, `"outcome":"0"`, `"Patient/p1"`, `"u-doc-a"`, `"Observation/o1/_history/1"`}}},
			{name: "backend client of org-a", token: "backend-a", method: "GET", path: "/fhir/Observation/o1", status: 200, audits: [][]string{read("0", `"etl"`)}},
			{name: "backend client and org-b", token: "backend-a", method: "GET", path: "/fhir/Observation/o3", status: 404, audits: [][]string{read("4", `"etl"`)}},
			{name: "writing for another organization", token: "doc-a", method: "POST", path: "/fhir/Observation", header: map[string]string{HeaderOrganization: "org-b"},
				body: newObs, status: 403, audits: [][]string{{`"code":"create"`, `"outcome":"4"`}}},

			// Break-the-glass: a practitioner in the EHR, with a reason,
			// reads across organizations, flagged; an app may not.
			{name: "break the glass", token: "doc-b", method: "GET", path: "/fhir/Observation/o1", header: map[string]string{HeaderBreakGlass: "unconscious in the ED"}, status: 200,
				audits: [][]string{read("0", `"BTG"`, "unconscious in the ED")}},
			{name: "break the glass is not for apps", token: "reader-a", method: "GET", path: "/fhir/Observation/o3", header: map[string]string{HeaderBreakGlass: "curious"}, status: 404,
				audits: [][]string{read("4", `"Observation/o3`)}},

			// Patient A never sees patient B.
			{name: "patient reads own record", token: "pat-1", method: "GET", path: "/fhir/Patient/p1", status: 200, audits: [][]string{read("0", `"PAT"`)}},
			{name: "patient reads own observation", token: "pat-1", method: "GET", path: "/fhir/Observation/o1", status: 200},
			{name: "patient reads another patient", token: "pat-1", method: "GET", path: "/fhir/Patient/p2", status: 404, audits: [][]string{read("4", `"Patient/p2`)}},
			{name: "patient reads another's observation", token: "pat-1", method: "GET", path: "/fhir/Observation/o2", status: 404},
			{name: "patient vreads another's observation", token: "pat-1", method: "GET", path: "/fhir/Observation/o2/_history/1", status: 404},
			{name: "patient history of another's observation", token: "pat-1", method: "GET", path: "/fhir/Observation/o2/_history", status: 404},
			{name: "patient type history", token: "pat-1", method: "GET", path: "/fhir/Observation/_history", status: 403, lacks: []string{"o2"}},
			{name: "patient system history", token: "pat-1", method: "GET", path: "/fhir/_history", status: 403, lacks: []string{"p2"}},
			{name: "patient batch", token: "pat-1", method: "POST", path: "/fhir", body: batch("batch", "Observation/o1", "Observation/o2", "Patient/p2"), status: 200,
				contains: []string{`"id":"o1"`}, lacks: []string{`"id":"o2"`, `"id":"p2"`, "Two"}},
			{name: "patient transaction", token: "pat-1", method: "POST", path: "/fhir", body: batch("transaction", "Observation/o2"), status: 404, lacks: []string{"Two"}},
			{name: "patient-context app", token: "app-p1", method: "GET", path: "/fhir/Observation/o2", status: 404},
			{name: "patient-context app, own patient", token: "app-p1", method: "GET", path: "/fhir/Observation/o4", status: 200},
			{name: "patient-context write for the patient", token: "app-p1-write", method: "POST", path: "/fhir/Observation", body: newObs, status: 201,
				audits: [][]string{{`"code":"create"`, `"outcome":"0"`, `"writer-app"`, `"Patient/p1"`}}},
			{name: "its Provenance: the user as author, the app as enterer", token: "system", method: "GET", path: "/fhir/Provenance/_history?_count=1", status: 200,
				contains: []string{`"code":"CREATE"`, `"reference":"Practitioner/pr-a"`, `"value":"u-doc-a"`, `"code":"enterer"`, `"value":"writer-app"`}},
			{name: "patient-context write for another patient", token: "app-p1-write", method: "POST", path: "/fhir/Observation",
				body: strings.Replace(newObs, "Patient/p1", "Patient/p2", 1), status: 403},
			{name: "patient-context write moving a resource away", token: "app-p1-write", method: "PUT", path: "/fhir/Observation/o4",
				body: observation("o4", "p2", "vital-signs"), status: 403},

			// v2 scope constraints on instance reads.
			{name: "constrained scope, matching", token: "app-p1-lab", method: "GET", path: "/fhir/Observation/o1", status: 200},
			{name: "constrained scope, not matching", token: "app-p1-lab", method: "GET", path: "/fhir/Observation/o4", status: 404,
				audits: [][]string{read("4", `"Observation/o4`, "scope constraints")}},

			// The audit trail, for administrators.
			{name: "admin searches the trail", token: "admin-a", method: "GET", path: "/fhir/AuditEvent?patient=p1&subtype=read", status: 200,
				contains: []string{`"type":"searchset"`, `"Patient/p1"`}, lacks: []string{`"Patient/p3"`},
				audits: [][]string{{`"code":"search-type"`, `"outcome":"0"`}}},
			{name: "admin lists break-the-glass events", token: "admin-a", method: "GET", path: "/fhir/AuditEvent?purpose=BTG", status: 200,
				contains: []string{"unconscious in the ED"}, lacks: []string{`"outcome":"4"`}},
			{name: "admin reads an event by id, date range", token: "admin-a", method: "GET", path: "/fhir/AuditEvent?date=ge2020-01-01&date=lt2999-01-01&_count=1", status: 200,
				contains: []string{`"relation":"next"`, `"resourceType":"AuditEvent"`}},
			{name: "admin reads a missing event", token: "admin-a", method: "GET", path: "/fhir/AuditEvent/none", status: 404},
			{name: "physician reads an event", token: "doc-a", method: "GET", path: "/fhir/AuditEvent/none", status: 403},
			{name: "patient's access report", token: "pat-1", method: "GET", path: "/fhir/Patient/p1/$access-report", status: 200,
				contains: []string{`"Practitioner/pr-a"`, `"chart-viewer"`, `"BTG"`, "unconscious in the ED", `"Patient/p1"`},
				lacks:    []string{`"network"`, `"Patient/p2"`, `"Observation/`},
				audits:   [][]string{{`"code":"operation"`, `"Patient/p1"`, `"outcome":"0"`}}},
			{name: "another patient's access report", token: "pat-1", method: "GET", path: "/fhir/Patient/p2/$access-report", status: 404},
			{name: "patient-context app, another patient's report", token: "app-p1", method: "GET", path: "/fhir/Patient/p2/$access-report", status: 404},
			{name: "admin's access report", token: "admin-a", method: "GET", path: "/fhir/Patient/p1/$access-report?_count=2", status: 200,
				contains: []string{`"relation":"next"`}},
			{name: "admin, other organization's patient", token: "admin-a", method: "GET", path: "/fhir/Patient/p3/$access-report", status: 404},
			{name: "physician's access report", token: "doc-a", method: "GET", path: "/fhir/Patient/p1/$access-report", status: 403},
			{name: "physician searches the trail", token: "doc-a", method: "GET", path: "/fhir/AuditEvent?patient=p1", status: 403},
			{name: "patient searches the trail", token: "pat-1", method: "GET", path: "/fhir/AuditEvent", status: 403},
			{name: "nobody writes the trail", token: "system", method: "POST", path: "/fhir/AuditEvent",
				body: `{"resourceType":"AuditEvent","type":{"code":"rest"},"recorded":"2026-01-01T00:00:00Z","agent":[{"requestor":true}],"source":{"observer":{"display":"x"}}}`, status: 403},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := head()
				req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
				if err != nil {
					t.Fatal(err)
				}
				if tc.body != "" {
					req.Header.Set("Content-Type", "application/fhir+json")
				}
				if tc.token != "" {
					req.Header.Set("Authorization", "Bearer "+tc.token)
				}
				for k, v := range tc.header {
					req.Header.Set(k, v)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tc.status {
					t.Errorf("status %d, want %d\n%.800s", resp.StatusCode, tc.status, body)
				}
				if resp.StatusCode == 401 {
					want := `Bearer realm="` + base + `/fhir"`
					if tc.token != "" {
						want += `, error="invalid_token"`
					}
					if got := resp.Header.Get("WWW-Authenticate"); got != want {
						t.Errorf("WWW-Authenticate = %q, want %q", got, want)
					}
				}
				for _, c := range tc.contains {
					if !strings.Contains(string(body), c) {
						t.Errorf("body lacks %q:\n%.800s", c, body)
					}
				}
				for _, c := range tc.lacks {
					if strings.Contains(string(body), c) {
						t.Errorf("body reveals %q:\n%.800s", c, body)
					}
				}
				if err := trail.Flush(ctx); err != nil {
					t.Fatal(err)
				}
				var events []store.AuditEntry
				_ = st.View(ctx, func(tx store.ReadTx) (err error) {
					events, err = tx.AuditEntries(ctx, before, 0)
					return err
				})
				if tc.audits == nil && (tc.status == 401 || tc.token == "") {
					if len(events) != 0 {
						t.Errorf("%d AuditEvents for an unauthenticated request, want none", len(events))
					}
					return
				}
				if tc.audits == nil {
					if len(events) == 0 {
						t.Error("no AuditEvent")
					}
					return
				}
				if len(events) != len(tc.audits) {
					t.Fatalf("%d AuditEvents, want %d", len(events), len(tc.audits))
				}
				for i, want := range tc.audits {
					for _, w := range want {
						if !strings.Contains(string(events[i].Record), w) {
							t.Errorf("AuditEvent %d lacks %s:\n%s", i, w, events[i].Record)
						}
					}
				}
			})
		}
	})
}
