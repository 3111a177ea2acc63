package interaction

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/r4examples"
	"github.com/continuum-ehr/continuum/internal/store"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
)

// historyLen counts the versions of clinical resources written, leaving out
// the Provenance each write adds (provenanceOf checks those).
func historyLen(t *testing.T, s *Service) int {
	t.Helper()
	h, err := s.History(systemContext(), HistoryRequest{Count: store.MaxHistoryCount})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range h.Versions {
		if v.Type != "Provenance" {
			n++
		}
	}
	return n
}

// provenances returns the bodies of the Provenance resources, newest first.
func provenances(t *testing.T, s *Service) []string {
	t.Helper()
	h, err := s.History(systemContext(), HistoryRequest{Type: "Provenance", Count: store.MaxHistoryCount})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range h.Versions {
		out = append(out, string(v.Body))
	}
	return out
}

func TestTransaction(t *testing.T) {
	ctx := systemContext()
	sqltest.Each(t, func(t *testing.T, b sqltest.Backend) {
		t.Run("ResolvesReferences", func(t *testing.T) {
			s := newService(t, b)
			// An existing patient, matched by a conditional create and a
			// conditional reference.
			if _, err := s.Update(ctx, UpdateRequest{Type: "Patient", ID: "known", Org: "a",
				Body: []byte(`{"resourceType":"Patient","id":"known","identifier":[{"system":"urn:mrn","value":"9"}]}`)}); err != nil {
				t.Fatal(err)
			}
			res, err := s.Bundle(ctx, BundleRequest{Org: "a", Body: []byte(`{"resourceType":"Bundle","type":"transaction","entry":[
				{"fullUrl":"urn:uuid:11111111-1111-4111-8111-111111111111","resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
					"subject":{"reference":"urn:uuid:22222222-2222-4222-8222-222222222222"},
					"performer":[{"reference":"Patient?identifier=urn:mrn|9"}],
					"derivedFrom":[{"reference":"urn:uuid:33333333-3333-4333-8333-333333333333"}]},
					"request":{"method":"POST","url":"Observation"}},
				{"fullUrl":"urn:uuid:22222222-2222-4222-8222-222222222222","resource":{"resourceType":"Patient","active":true},
					"request":{"method":"POST","url":"Patient"}},
				{"fullUrl":"urn:uuid:33333333-3333-4333-8333-333333333333","resource":{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"9"}]},
					"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:mrn|9"}},
				{"request":{"method":"GET","url":"Patient/known"}}
			]}`)})
			if err != nil {
				t.Fatal(err)
			}
			if res.Type != "transaction-response" || len(res.Entries) != 4 {
				t.Fatalf("result = %+v", res)
			}
			statuses := []string{res.Entries[0].Status, res.Entries[1].Status, res.Entries[2].Status, res.Entries[3].Status}
			if strings.Join(statuses, ",") != "201 Created,201 Created,200 OK,200 OK" {
				t.Errorf("statuses = %v", statuses)
			}
			obs, err := fhir.Parse(res.Entries[0].Version.Body)
			if err != nil {
				t.Fatal(err)
			}
			subject, _ := obs.Get("subject")
			if want := "Patient/" + res.Entries[1].Version.ID; subject.Str("reference") != want {
				t.Errorf("subject = %s, want %s", subject.Str("reference"), want)
			}
			body := string(res.Entries[0].Version.Body)
			if strings.Count(body, `"Patient/known"`) != 2 || strings.Contains(body, "urn:uuid") || strings.Contains(body, "?identifier") {
				t.Errorf("references not rewritten: %s", body)
			}
			if historyLen(t, s) != 3 {
				t.Errorf("history has %d versions, want 3", historyLen(t, s))
			}
			// One Provenance for the update, one for the whole transaction,
			// naming both versions it wrote.
			if ps := provenances(t, s); len(ps) != 2 || strings.Count(ps[0], `"reference":"`) != 2 ||
				!strings.Contains(ps[0], `"reference":"Observation/`+res.Entries[0].Version.ID+`/_history/1"`) ||
				!strings.Contains(ps[0], `"code":"CREATE"`) || !strings.Contains(ps[0], "Continuum (system)") {
				t.Errorf("provenances = %v", ps)
			}
			out := string(res.Marshal())
			for _, want := range []string{`"type":"transaction-response"`, `"location":"Observation/`, `"etag":"W/\"1\""`, `"status":"200 OK"`} {
				if !strings.Contains(out, want) {
					t.Errorf("response Bundle lacks %s:\n%s", want, out)
				}
			}
			if _, err := fhir.Parse([]byte(out)); err != nil {
				t.Errorf("response Bundle is not JSON: %v", err)
			}
		})
		t.Run("AllOrNothing", func(t *testing.T) {
			s := newService(t, b)
			for _, tc := range []struct {
				name, body string
				kind       outcome.Kind
			}{
				{"dangling urn:uuid", `{"resourceType":"Bundle","type":"transaction","entry":[
					{"fullUrl":"urn:uuid:11111111-1111-4111-8111-111111111111","resource":{"resourceType":"Patient","active":true},"request":{"method":"POST","url":"Patient"}},
					{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:99999999-9999-4999-8999-999999999999"}},"request":{"method":"POST","url":"Observation"}}]}`,
					outcome.Invalid},
				{"conditional reference without a match", `{"resourceType":"Bundle","type":"transaction","entry":[
					{"resource":{"resourceType":"Patient","active":true},"request":{"method":"POST","url":"Patient"}},
					{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient?identifier=urn:none|0"}},"request":{"method":"POST","url":"Observation"}}]}`,
					outcome.Precondition},
				{"invalid entry", `{"resourceType":"Bundle","type":"transaction","entry":[
					{"resource":{"resourceType":"Patient","active":true},"request":{"method":"POST","url":"Patient"}},
					{"resource":{"resourceType":"Patient","active":"yes"},"request":{"method":"POST","url":"Patient"}}]}`,
					outcome.Invalid},
				{"stale ifMatch", `{"resourceType":"Bundle","type":"transaction","entry":[
					{"resource":{"resourceType":"Patient","active":true},"request":{"method":"POST","url":"Patient"}},
					{"resource":{"resourceType":"Patient","id":"p9"},"request":{"method":"PUT","url":"Patient/p9","ifMatch":"W/\"4\""}}]}`,
					outcome.Precondition},
				{"url type differs", `{"resourceType":"Bundle","type":"transaction","entry":[
					{"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Observation"}}]}`,
					outcome.Invalid},
				{"search entry with a bad value", `{"resourceType":"Bundle","type":"transaction","entry":[
					{"resource":{"resourceType":"Patient","active":true},"request":{"method":"POST","url":"Patient"}},
					{"request":{"method":"GET","url":"Patient?birthdate=notadate"}}]}`,
					outcome.Invalid},
				{"not a transaction", `{"resourceType":"Bundle","type":"collection"}`, outcome.Invalid},
			} {
				_, err := s.Bundle(ctx, BundleRequest{Org: "a", Body: []byte(tc.body)})
				wantKind(t, tc.name, err, tc.kind)
				if n := historyLen(t, s); n != 0 {
					t.Fatalf("%s: %d versions written", tc.name, n)
				}
			}
		})
		t.Run("OrderAndConditionalWrites", func(t *testing.T) {
			s := newService(t, b)
			for _, id := range []string{"a1", "b1"} {
				if _, err := s.Update(ctx, UpdateRequest{Type: "Patient", ID: id, Org: "a",
					Body: []byte(`{"resourceType":"Patient","id":"` + id + `","identifier":[{"system":"urn:mrn","value":"` + id + `"}]}`)}); err != nil {
					t.Fatal(err)
				}
			}
			// Listed GET, PUT, DELETE: processed DELETE, PUT, GET.
			res, err := s.Bundle(ctx, BundleRequest{Org: "a", Body: []byte(`{"resourceType":"Bundle","type":"transaction","entry":[
				{"request":{"method":"GET","url":"Patient/a1"}},
				{"resource":{"resourceType":"Patient","active":false},"request":{"method":"PUT","url":"Patient?identifier=urn:mrn|a1"}},
				{"request":{"method":"DELETE","url":"Patient?identifier=urn:mrn|b1"}},
				{"request":{"method":"DELETE","url":"Patient?identifier=urn:mrn|nobody"}}
			]}`)})
			if err != nil {
				t.Fatal(err)
			}
			if v := res.Entries[0].Version; v == nil || v.VersionID != "2" || !strings.Contains(string(v.Body), `"active":false`) {
				t.Errorf("GET did not run after the PUT: %+v", res.Entries[0])
			}
			if res.Entries[1].Status != "200 OK" || res.Entries[2].Status != "204 No Content" || res.Entries[3].Status != "204 No Content" {
				t.Errorf("statuses: %+v", res.Entries)
			}
			_, err = s.Read(ctx, ReadRequest{Type: "Patient", ID: "b1"})
			wantKind(t, "conditionally deleted", err, outcome.Gone)
		})
		t.Run("Batch", func(t *testing.T) {
			s := newService(t, b)
			res, err := s.Bundle(ctx, BundleRequest{Org: "a", Body: []byte(`{"resourceType":"Bundle","type":"batch","entry":[
				{"resource":{"resourceType":"Patient","id":"x1"},"request":{"method":"PUT","url":"Patient/x1","ifMatch":"W/\"3\""}},
				{"resource":{"resourceType":"Patient","active":true},"request":{"method":"POST","url":"Patient"}},
				{"request":{"method":"GET","url":"Patient/nobody"}}
			]}`)})
			if err != nil {
				t.Fatal(err)
			}
			got := []string{res.Entries[0].Status, res.Entries[1].Status, res.Entries[2].Status}
			if strings.Join(got, ",") != "412 Precondition Failed,201 Created,404 Not Found" {
				t.Errorf("batch statuses = %v", got)
			}
			if res.Entries[0].Err == nil || !strings.Contains(string(res.Marshal()), `"outcome":{`) {
				t.Errorf("failed batch entry has no outcome: %s", res.Marshal())
			}
			if historyLen(t, s) != 1 {
				t.Errorf("batch wrote %d versions, want 1", historyLen(t, s))
			}
		})
		t.Run("SearchEntries", func(t *testing.T) {
			// A search entry runs after the writes and sees them; its
			// response carries a searchset Bundle.
			s := newService(t, b)
			res, err := s.Bundle(ctx, BundleRequest{Org: "a", Base: "https://ehr.example/fhir", Body: []byte(`{"resourceType":"Bundle","type":"transaction","entry":[
				{"request":{"method":"GET","url":"Patient?family=zed"}},
				{"fullUrl":"urn:uuid:11111111-1111-4111-8111-111111111111","resource":{"resourceType":"Patient","name":[{"family":"Zed"}]},"request":{"method":"POST","url":"Patient"}}
			]}`)})
			if err != nil {
				t.Fatal(err)
			}
			e := res.Entries[0]
			if e.Search == nil || e.Search.Page.Total != 1 || len(e.Search.Matches) != 1 {
				t.Fatalf("search entry = %+v", e)
			}
			out := string(res.Marshal())
			if !strings.Contains(out, `"type":"searchset"`) || !strings.Contains(out, `"total":1`) ||
				!strings.Contains(out, `"url":"https://ehr.example/fhir/Patient?family=zed&_count=20"`) {
				t.Errorf("response lacks the searchset: %s", out)
			}
		})
		t.Run("OfficialExamples", func(t *testing.T) {
			files, err := r4examples.ReadAll()
			if err != nil {
				t.Skipf("needs the official R4 examples: %v", err)
			}
			s := newService(t, b)
			for _, f := range files {
				if f.Name != "Bundle-hla-1.json" && f.Name != "Bundle-xds.json" {
					continue
				}
				res, err := s.Bundle(ctx, BundleRequest{Org: "a", Body: f.Data})
				if err != nil {
					t.Errorf("%s: %v", f.Name, err)
					continue
				}
				for i, e := range res.Entries {
					if e.Status != "201 Created" || e.Version == nil {
						t.Errorf("%s entry %d: %+v", f.Name, i, e)
						continue
					}
					if strings.Contains(string(e.Version.Body), `"reference":"urn:uuid:`) {
						t.Errorf("%s entry %d keeps a urn:uuid reference", f.Name, i)
					}
				}
			}
		})
	})
}

// TestBundlePatch runs PATCH entries: a JSON Patch in a Binary and a
// FHIRPath Patch in a Parameters, in a transaction (with a urn:uuid
// reference in the patch value, rewritten like any reference) and in a
// batch, where a failing patch fails only its entry.
func TestBundlePatch(t *testing.T) {
	ctx := systemContext()
	jsonPatch := base64.StdEncoding.EncodeToString([]byte(`[{"op":"replace","path":"/active","value":false}]`))
	sqltest.Each(t, func(t *testing.T, b sqltest.Backend) {
		s := newService(t, b)
		if _, err := s.Update(ctx, UpdateRequest{Type: "Patient", ID: "p", Org: "a",
			Body: []byte(`{"resourceType":"Patient","id":"p","active":true,"identifier":[{"system":"urn:mrn","value":"5"}]}`)}); err != nil {
			t.Fatal(err)
		}
		res, err := s.Bundle(ctx, BundleRequest{Org: "a", Body: []byte(`{"resourceType":"Bundle","type":"transaction","entry":[
			{"resource":{"resourceType":"Binary","contentType":"application/json-patch+json","data":"` + jsonPatch + `"},
				"request":{"method":"PATCH","url":"Patient/p","ifMatch":"W/\"1\""}},
			{"resource":` + params(op("type", `"valueCode":"add"`, "path", `"valueString":"Patient"`, "name", `"valueString":"generalPractitioner"`,
			"value", `"valueReference":{"reference":"urn:uuid:44444444-4444-4444-8444-444444444444"}`)) + `,
				"request":{"method":"PATCH","url":"Patient?identifier=urn:mrn|5"}},
			{"fullUrl":"urn:uuid:44444444-4444-4444-8444-444444444444","resource":{"resourceType":"Practitioner","active":true},
				"request":{"method":"POST","url":"Practitioner"}}
		]}`)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Entries[0].Status != "200 OK" || res.Entries[1].Status != "200 OK" || res.Entries[1].Version.VersionID != "3" {
			t.Fatalf("entries = %+v", res.Entries)
		}
		body := string(res.Entries[1].Version.Body)
		if !strings.Contains(body, `"active":false`) || !strings.Contains(body, `"reference":"Practitioner/`+res.Entries[2].Version.ID+`"`) {
			t.Errorf("patched = %s", body)
		}

		// A failing patch fails the whole transaction.
		before := historyLen(t, s)
		_, err = s.Bundle(ctx, BundleRequest{Org: "a", Body: []byte(`{"resourceType":"Bundle","type":"transaction","entry":[
			{"resource":{"resourceType":"Patient","active":true},"request":{"method":"POST","url":"Patient"}},
			{"resource":` + params(op("type", `"valueCode":"delete"`, "path", `"valueString":"Patient.identifier"`),
			op("type", `"valueCode":"replace"`, "path", `"valueString":"Patient.birthDate"`, "value", `"valueDate":"2000-01-01"`)) + `,
				"request":{"method":"PATCH","url":"Patient/p"}}
		]}`)})
		wantKind(t, "failing patch in a transaction", err, outcome.Invalid)
		if err != nil && !strings.Contains(err.Error(), "Bundle.entry[1]") {
			t.Errorf("error %v does not name the entry", err)
		}
		if n := historyLen(t, s); n != before {
			t.Errorf("history grew from %d to %d: a failed transaction wrote", before, n)
		}

		// In a batch the failing entry answers alone.
		res, err = s.Bundle(ctx, BundleRequest{Org: "a", Body: []byte(`{"resourceType":"Bundle","type":"batch","entry":[
			{"resource":{"resourceType":"Binary","contentType":"application/json-patch+json","data":"` + jsonPatch + `"},
				"request":{"method":"PATCH","url":"Patient/missing"}},
			{"resource":` + params(op("type", `"valueCode":"replace"`, "path", `"valueString":"Patient.active"`, "value", `"valueBoolean":true`)) + `,
				"request":{"method":"PATCH","url":"Patient/p"}}
		]}`)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Entries[0].Err == nil || !strings.HasPrefix(res.Entries[0].Status, "404") || res.Entries[1].Status != "200 OK" {
			t.Errorf("batch entries = %+v", res.Entries)
		}

		// Malformed PATCH entries.
		for _, bad := range []string{
			`{"resource":{"resourceType":"Binary","contentType":"text/plain","data":"eA=="},"request":{"method":"PATCH","url":"Patient/p"}}`,
			`{"resource":{"resourceType":"Patient"},"request":{"method":"PATCH","url":"Patient/p"}}`,
			`{"request":{"method":"PATCH","url":"Patient/p"}}`,
		} {
			_, err := s.Bundle(ctx, BundleRequest{Org: "a", Body: []byte(`{"resourceType":"Bundle","type":"transaction","entry":[` + bad + `]}`)})
			if err == nil || kindOf(err) == outcome.Internal {
				t.Errorf("%s: err = %v", bad, err)
			}
		}
	})
}
