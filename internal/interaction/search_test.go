package interaction

import (
	"net/url"
	"testing"

	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
)

func TestSearch(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, b sqltest.Backend) {
		ctx := systemContext()
		s := newService(t, b)
		for _, w := range []struct{ org, typ, id, body string }{
			{"a", "Patient", "pa", `{"resourceType":"Patient","id":"pa","gender":"female","name":[{"family":"Alpha"}]}`},
			{"b", "Patient", "pb", `{"resourceType":"Patient","id":"pb","gender":"female","name":[{"family":"Beta"}]}`},
			{"a", "Observation", "oa", `{"resourceType":"Observation","id":"oa","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/pa"}}`},
		} {
			if _, err := s.Update(ctx, UpdateRequest{Type: w.typ, ID: w.id, Org: w.org, Body: []byte(w.body)}); err != nil {
				t.Fatal(err)
			}
		}
		run := func(req SearchRequest) *SearchResult {
			t.Helper()
			r, err := s.Search(ctx, req)
			if err != nil {
				t.Fatalf("%+v: %v", req, err)
			}
			return r
		}
		params := func(q string) url.Values { v, _ := url.ParseQuery(q); return v }
		if r := run(SearchRequest{Type: "Patient", Params: params("gender=female")}); r.Page.Total != 2 || len(r.Matches) != 2 {
			t.Errorf("unnarrowed: total %d", r.Page.Total)
		}
		// Authorization narrows the query: a physician of b sees b's
		// patients; patient pb's own session sees pb's compartment.
		docB := auth.NewContext(ctx, auth.NewPractitionerSession("u-b", "pr-b", auth.Membership{Organization: "b", Role: auth.Physician}))
		if r, err := s.Search(docB, SearchRequest{Type: "Patient", Params: params("gender=female")}); err != nil || r.Page.Total != 1 || r.Page.Matches[0].ID != "pb" {
			t.Errorf("narrowed to b: %+v, %v", r, err)
		}
		patB := auth.NewContext(ctx, auth.NewPatientSession("u-pb", "pb"))
		if r, err := s.Search(patB, SearchRequest{Type: "Observation", Params: params("")}); err != nil || r.Page.Total != 0 {
			t.Errorf("pb's compartment: %+v, %v", r, err)
		}
		if r, err := s.Search(patB, SearchRequest{Type: "Patient", Params: params("gender=female")}); err != nil || r.Page.Total != 1 || r.Page.Matches[0].ID != "pb" {
			t.Errorf("pb's own Patient: %+v, %v", r, err)
		}
		if r := run(SearchRequest{Type: "Observation", Params: params("_summary=count")}); r.Page.Total != 1 || len(r.Matches) != 0 {
			t.Errorf("_summary=count: total %d, %d matches", r.Page.Total, len(r.Matches))
		}
		r := run(SearchRequest{Type: "Patient", Params: params("nonesuch=1&_elements=gender")})
		if len(r.Query.Warnings) != 1 || len(r.Matches) != 2 || string(r.Matches[0]) == string(r.Page.Matches[0].Body) {
			t.Errorf("lenient with _elements: %d warnings, %d matches", len(r.Query.Warnings), len(r.Matches))
		}
		_, err := s.Search(ctx, SearchRequest{Type: "Patient", Params: params("nonesuch=1"), Strict: true})
		wantKind(t, "strict", err, outcome.Invalid)
		_, err = s.Search(ctx, SearchRequest{Type: "Nope", Params: params("")})
		wantKind(t, "unknown type", err, outcome.NotFound)
		_, err = s.Search(ctx, SearchRequest{Type: "Observation", Params: params("code:in=http://x/vs")})
		wantKind(t, ":in", err, outcome.NotSupported)
	})
}
