package storetest

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/search"
	"github.com/continuum-ehr/continuum/internal/store"
)

// The search fixture: a few resources of every parameter type, owned by
// org-a except p3 (org-b) and the directory types (no owner).
var searchFixture = []struct{ org, json string }{
	{"", `{"resourceType":"Organization","id":"org1","name":"Acme Clinic"}`},
	{org, `{"resourceType":"Patient","id":"p1","active":true,"gender":"male","birthDate":"1974-12-25",
		"identifier":[{"system":"urn:mrn","value":"123"}],"name":[{"family":"Chalmers","given":["Peter"]}],
		"managingOrganization":{"reference":"Organization/org1"}}`},
	{org, `{"resourceType":"Patient","id":"p2","gender":"female","birthDate":"1980-05",
		"identifier":[{"system":"urn:mrn","value":"456"}],"name":[{"family":"Müller","given":["Anna"]}]}`},
	{"org-b", `{"resourceType":"Patient","id":"p3","gender":"female","name":[{"family":"Smith"}]}`},
	{org, `{"resourceType":"Encounter","id":"e1","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
		"subject":{"reference":"Patient/p1"}}`},
	{org, `{"resourceType":"Observation","id":"o1","status":"final",
		"code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic blood pressure"}]},
		"subject":{"reference":"Patient/p1"},"encounter":{"reference":"Encounter/e1"},
		"effectiveDateTime":"2020-06-01T10:00:00Z",
		"valueQuantity":{"value":120,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}`},
	{org, `{"resourceType":"Observation","id":"o2","status":"preliminary",
		"code":{"coding":[{"system":"http://loinc.org","code":"2339-0","display":"Glucose"}]},
		"subject":{"reference":"Patient/p2"},"effectiveDateTime":"2021-01-15",
		"valueQuantity":{"value":5.4,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}}`},
	{org, `{"resourceType":"Observation","id":"o3","status":"final",
		"code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]},
		"subject":{"reference":"Patient/p1"},"effectivePeriod":{"start":"2019-01-01","end":"2019-12-31"},
		"valueQuantity":{"value":5400,"unit":"umol/L","system":"http://unitsofmeasure.org","code":"umol/L"}}`},
	{org, `{"resourceType":"Observation","id":"o4","status":"final",
		"code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"subject":{"reference":"Patient/p2"},
		"component":[
		 {"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":130,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
		 {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":85,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}`},
	{org, `{"resourceType":"RiskAssessment","id":"ra1","status":"final","subject":{"reference":"Patient/p1"},
		"prediction":[{"probabilityDecimal":0.25}]}`},
	{"", `{"resourceType":"ValueSet","id":"vs1","status":"active","url":"http://example.org/fhir/ValueSet/a"}`},
	{org, `{"resourceType":"List","id":"l1","status":"current","mode":"working",
		"entry":[{"item":{"reference":"Observation/o1"}},{"item":{"reference":"Observation/o2"}}]}`},
}

func loadSearchFixture(t *testing.T, st store.Store) {
	t.Helper()
	update(t, st, func(tx store.Tx) error {
		for _, r := range searchFixture {
			if _, err := tx.Put(context.Background(), store.Write{Resource: resource(t, "%s", r.json), Org: r.org}); err != nil {
				return err
			}
		}
		return nil
	})
}

// parse parses a search for the tests; compartment is "Type/id" or "".
func parse(t *testing.T, typ, query, compartment string) *search.Query {
	t.Helper()
	vals, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	opts := search.Options{Strict: true}
	if compartment != "" {
		ct, cid, _ := strings.Cut(compartment, "/")
		opts.Compartment = &search.CompartmentRef{Type: ct, ID: cid}
	}
	q, err := search.Parse(spec.R4(), typ, vals, opts)
	if err != nil {
		t.Fatalf("parse %s?%s: %v", typ, query, err)
	}
	return q
}

// run returns one page of a search.
func run(t *testing.T, st store.Store, q *search.Query, opts store.SearchOptions) *store.SearchPage {
	t.Helper()
	var page *store.SearchPage
	view(t, st, func(tx store.ReadTx) (err error) {
		page, err = tx.Search(context.Background(), q, opts)
		return err
	})
	return page
}

func ids(vs []*store.Version) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.ID)
	}
	return out
}

func testSearchTypes(t *testing.T, st store.Store) {
	loadSearchFixture(t, st)
	cases := []struct {
		typ, query string
		want       string // ids, comma-separated, sorted
	}{
		// token
		{"Patient", "gender=female", "p2,p3"},
		{"Patient", "gender:not=female", "p1"},
		{"Patient", "identifier=urn:mrn|123", "p1"},
		{"Patient", "identifier=456", "p2"},
		{"Patient", "identifier=urn:mrn|", "p1,p2"},
		{"Patient", "identifier=|123", ""},
		{"Patient", "active=true", "p1"},
		{"Observation", "code=http://loinc.org|8480-6", "o1"},
		{"Observation", "code=8480-6,2339-0", "o1,o2,o3"},
		{"Observation", "code:text=systolic", "o1"},
		{"Observation", "status=final&code=2339-0", "o3"},
		{"Observation", "code=2339-0&code=8480-6", ""},
		// string
		{"Patient", "family=chal", "p1"},
		{"Patient", "name=MULLER", "p2"},
		{"Patient", "family:exact=Müller", "p2"},
		{"Patient", "family:exact=müller", ""},
		{"Patient", "family:contains=ll", "p2"},
		{"Patient", "family=' OR 1=1 --", ""},
		// date
		{"Patient", "birthdate=1974", "p1"},
		{"Patient", "birthdate=ge1980", "p2"},
		{"Patient", "birthdate=lt1980", "p1"},
		{"Patient", "birthdate=1980-05-03", ""},
		{"Patient", "birthdate=ne1974-12-25", "p2,p3"},
		{"Observation", "date=2020", "o1"},
		{"Observation", "date=2019-06", ""},
		{"Observation", "date=sa2019-12-31", "o1,o2"},
		{"Observation", "date=eb2020", "o3"},
		{"Observation", "date=gt2020-06-01T10:00:00Z", "o2"},
		{"Observation", "date=le2019-12-31", "o3"},
		// :missing
		{"Patient", "birthdate:missing=true", "p3"},
		{"Patient", "birthdate:missing=false", "p1,p2"},
		{"Observation", "value-quantity:missing=true", "o4"},
		// quantity, with UCUM normalisation
		{"Observation", "value-quantity=120", "o1"},
		{"Observation", "value-quantity=gt100|http://unitsofmeasure.org|mm[Hg]", "o1"},
		{"Observation", "value-quantity=5.4|http://unitsofmeasure.org|mmol/L", "o2,o3"},
		{"Observation", "value-quantity=5400|http://unitsofmeasure.org|umol/L", "o2,o3"},
		{"Observation", "value-quantity=lt10", "o2"},
		{"Observation", "value-quantity=ap118", "o1"},
		// number
		{"RiskAssessment", "probability=0.25", "ra1"},
		{"RiskAssessment", "probability=gt0.5", ""},
		{"RiskAssessment", "probability=le0.25", "ra1"},
		// reference
		{"Observation", "subject=Patient/p1", "o1,o3"},
		{"Observation", "subject=p1", "o1,o3"},
		{"Observation", "subject:Patient=p2", "o2,o4"},
		{"Observation", "patient=p2", "o2,o4"},
		{"Observation", "encounter=Encounter/e1", "o1"},
		{"Patient", "organization=Organization/org1", "p1"},
		// chains and _has
		{"Observation", "subject:Patient.family=chal", "o1,o3"},
		{"Observation", "patient.gender=female", "o2,o4"},
		{"Observation", "encounter.subject:Patient.gender=male", "o1"},
		{"Observation", "patient.organization.name=acme", "o1,o3"},
		{"Patient", "_has:Observation:patient:code=2339-0", "p1,p2"},
		{"Patient", "_has:Observation:patient:code=85354-9", "p2"},
		{"Patient", "_has:Observation:patient:_has:List:item:_id=l1", "p1,p2"},
		{"Patient", "_has:Observation:patient:code=2339-0&_has:Observation:patient:status=preliminary", "p2"},
		// composite
		{"Observation", "component-code-value-quantity=http://loinc.org|8480-6$gt125", "o4"},
		{"Observation", "component-code-value-quantity=http://loinc.org|8462-4$gt125", ""},
		{"Observation", "code-value-quantity=http://loinc.org|8480-6$120", "o1"},
		// uri
		{"ValueSet", "url=http://example.org/fhir/ValueSet/a", "vs1"},
		{"ValueSet", "url:below=http://example.org/fhir", "vs1"},
		{"ValueSet", "url:above=http://example.org/fhir/ValueSet/a/b", "vs1"},
		{"ValueSet", "url=http://example.org/fhir", ""},
		// common parameters
		{"Patient", "_id=p1,p2", "p1,p2"},
		{"Patient", "_lastUpdated=gt2000-01-01", "p1,p2,p3"},
		{"Observation", "_list=l1", "o1,o2"},
		{"Patient", "", "p1,p2,p3"},
	}
	for _, c := range cases {
		q := parse(t, c.typ, c.query, "")
		page := run(t, st, q, store.SearchOptions{})
		got := ids(page.Matches)
		slices.Sort(got)
		if strings.Join(got, ",") != c.want {
			t.Errorf("%s?%s = %v, want %s", c.typ, c.query, got, c.want)
		}
		if page.Total != len(got) {
			t.Errorf("%s?%s: total %d, matches %d", c.typ, c.query, page.Total, len(got))
		}
	}
}

func testSearchNotSupported(t *testing.T, st store.Store) {
	loadSearchFixture(t, st)
	for _, c := range []struct{ typ, query string }{
		{"Patient", "_text=chalmers"},
		{"Patient", "_content=chalmers"},
		{"Observation", "code:in=http://example.org/vs"},
		{"Observation", "code:below=http://loinc.org|8480-6"},
		{"Location", "near=42.256500|-83.694710|11.20|km"},
		{"Observation", "_list=$current-problems"},
		{"Patient", "_contained=true"},
	} {
		q := parse(t, c.typ, c.query, "")
		err := st.View(context.Background(), func(tx store.ReadTx) error {
			_, err := tx.Search(context.Background(), q, store.SearchOptions{})
			return err
		})
		if oe := outcome.As(err); oe == nil || oe.Kind != outcome.NotSupported {
			t.Errorf("%s?%s: %v, want not-supported", c.typ, c.query, err)
		}
	}
}

func testSearchNarrowing(t *testing.T, st store.Store) {
	loadSearchFixture(t, st)
	cases := []struct {
		typ, query, compartment string
		opts                    store.SearchOptions
		want                    string
		total                   int
	}{
		{"Patient", "gender=female", "", store.SearchOptions{Orgs: []string{org}}, "p2", 1},
		{"Patient", "", "", store.SearchOptions{Orgs: []string{"org-b"}}, "p3", 1},
		{"Patient", "", "", store.SearchOptions{Orgs: []string{}}, "", 0},
		{"Organization", "", "", store.SearchOptions{Orgs: []string{"org-b"}}, "org1", 1},
		{"Observation", "patient.gender=female", "", store.SearchOptions{Orgs: []string{"org-b"}}, "", 0},
		{"Patient", "_has:Observation:patient:code=2339-0", "", store.SearchOptions{Orgs: []string{"org-b"}}, "", 0},
		{"Observation", "", "Patient/p1", store.SearchOptions{}, "o1,o3", 2},
		{"Encounter", "", "Patient/p1", store.SearchOptions{}, "e1", 1},
		{"Patient", "", "Patient/p1", store.SearchOptions{}, "p1", 1},
		{"Observation", "code=2339-0", "Patient/p1", store.SearchOptions{}, "o3", 1},
		{"Observation", "", "", store.SearchOptions{Compartment: &search.CompartmentRef{Type: "Patient", ID: "p2"}}, "o2,o4", 2},
		{"Patient", "", "", store.SearchOptions{Compartment: &search.CompartmentRef{Type: "Patient", ID: "p2"}}, "p2", 1},
		{"Organization", "", "", store.SearchOptions{Compartment: &search.CompartmentRef{Type: "Patient", ID: "p2"}}, "", 0},
		{"", "_type=Patient,Observation&_id=p1,o1", "", store.SearchOptions{}, "o1,p1", 2},
		{"", "_type=Patient,Observation&_id=p1,o1", "", store.SearchOptions{Orgs: []string{"org-b"}}, "", 0},
	}
	for _, c := range cases {
		q := parse(t, c.typ, c.query, c.compartment)
		page := run(t, st, q, c.opts)
		got := ids(page.Matches)
		slices.Sort(got)
		if strings.Join(got, ",") != c.want || page.Total != c.total {
			t.Errorf("%s?%s in %q with %+v = %v (total %d), want %s (total %d)", c.typ, c.query, c.compartment, c.opts, got, page.Total, c.want, c.total)
		}
	}
	// Includes are narrowed too: p3's organization is not visible to org-b
	// … but directory types are; p1 is not.
	q := parse(t, "Observation", "_id=o1&_include=Observation:subject", "")
	if page := run(t, st, q, store.SearchOptions{Orgs: []string{"org-b"}}); len(page.Matches)+len(page.Included) != 0 {
		t.Errorf("narrowed include returned %v %v", ids(page.Matches), ids(page.Included))
	}
}

func testSearchSortPaging(t *testing.T, st store.Store) {
	loadSearchFixture(t, st)
	order := func(query string) string {
		var out []string
		q := parse(t, "Patient", query, "")
		opts := store.SearchOptions{}
		for range 10 {
			page := run(t, st, q, opts)
			out = append(out, ids(page.Matches)...)
			if page.Next == "" {
				break
			}
			opts.Cursor = page.Next
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct{ query, want string }{
		{"_sort=birthdate", "p1,p2,p3"},
		{"_sort=-birthdate", "p2,p1,p3"},
		{"_sort=birthdate&_count=1", "p1,p2,p3"},
		{"_sort=-birthdate&_count=1", "p2,p1,p3"},
		{"_sort=family&_count=2", "p1,p2,p3"},
		{"_sort=-family&_count=2", "p3,p2,p1"},
		{"_sort=gender,-family&_count=1", "p3,p2,p1"},
		{"_sort=_id&_count=1", "p1,p2,p3"},
		{"_sort=-_id&_count=2", "p3,p2,p1"},
	} {
		if got := order(c.query); got != c.want {
			t.Errorf("Patient?%s pages = %s, want %s", c.query, got, c.want)
		}
	}

	// Previous links walk back to the first page.
	q := parse(t, "Patient", "_sort=-birthdate&_count=1", "")
	p1 := run(t, st, q, store.SearchOptions{})
	p2 := run(t, st, q, store.SearchOptions{Cursor: p1.Next})
	p3 := run(t, st, q, store.SearchOptions{Cursor: p2.Next})
	if p1.Prev != "" || p3.Next != "" || p3.Prev == "" {
		t.Errorf("links: first prev %q, last next %q, last prev %q", p1.Prev, p3.Next, p3.Prev)
	}
	back := run(t, st, q, store.SearchOptions{Cursor: p3.Prev})
	first := run(t, st, q, store.SearchOptions{Cursor: back.Prev})
	if g := strings.Join(append(ids(back.Matches), ids(first.Matches)...), ","); g != "p1,p2" || first.Prev != "" {
		t.Errorf("back pages = %s (prev %q), want p1,p2", g, first.Prev)
	}
	if p2.Total != 3 {
		t.Errorf("total on page 2 = %d, want 3 (carried from the first page)", p2.Total)
	}

	// Stable while others write: a patient created after the first page
	// never appears; one deleted does not appear on later pages.
	q = parse(t, "Patient", "_count=1", "")
	page := run(t, st, q, store.SearchOptions{})
	seen := ids(page.Matches)
	mustPut(t, st, patient(t, "p0", "Aaron"), org, "")
	update(t, st, func(tx store.Tx) error { _, err := tx.Delete(context.Background(), "Patient", "p3", ""); return err })
	for page.Next != "" {
		page = run(t, st, q, store.SearchOptions{Cursor: page.Next})
		seen = append(seen, ids(page.Matches)...)
	}
	if strings.Join(seen, ",") != "p1,p2" {
		t.Errorf("pages while writing = %v, want p1,p2", seen)
	}

	// A cursor belongs to its query.
	other := parse(t, "Patient", "gender=male", "")
	err := st.View(context.Background(), func(tx store.ReadTx) error {
		_, err := tx.Search(context.Background(), other, store.SearchOptions{Cursor: p1.Next})
		return err
	})
	if err == nil {
		t.Error("a cursor of another search was accepted")
	}
	for _, bad := range []string{"!!", "eyJxIjoxfQ", strings.Repeat("A", 100)} {
		err := st.View(context.Background(), func(tx store.ReadTx) error {
			_, err := tx.Search(context.Background(), q, store.SearchOptions{Cursor: bad})
			return err
		})
		if err == nil {
			t.Errorf("cursor %q accepted", bad)
		}
	}
}

func testSearchIncludes(t *testing.T, st store.Store) {
	loadSearchFixture(t, st)
	for _, c := range []struct {
		typ, query, matches, included string
	}{
		{"Observation", "_id=o1&_include=Observation:subject", "o1", "p1"},
		{"Observation", "_id=o1&_include=Observation:subject:Patient&_include=Observation:encounter", "o1", "e1,p1"},
		{"Observation", "_id=o1&_include=*", "o1", "e1,p1"},
		{"Patient", "_id=p2&_revinclude=Observation:subject", "p2", "o2,o4"},
		{"Patient", "_id=p1&_revinclude=Observation:patient&_revinclude=Encounter:subject", "p1", "e1,o1,o3"},
		{"Observation", "_id=o1&_include=Observation:subject&_include:iterate=Patient:organization", "o1", "org1,p1"},
		{"List", "_id=l1&_include=List:item&_include:iterate=Observation:subject", "l1", "o1,o2,p1,p2"},
		{"Patient", "_id=p1&_revinclude=RiskAssessment:*", "p1", "ra1"},
	} {
		page := run(t, st, parse(t, c.typ, c.query, ""), store.SearchOptions{})
		m, in := ids(page.Matches), ids(page.Included)
		slices.Sort(m)
		slices.Sort(in)
		if strings.Join(m, ",") != c.matches || strings.Join(in, ",") != c.included {
			t.Errorf("%s?%s = %v + %v, want %s + %s", c.typ, c.query, m, in, c.matches, c.included)
		}
	}
}

func testSearchFollowsWrites(t *testing.T, st store.Store) {
	loadSearchFixture(t, st)
	count := func(typ, query string) int {
		q := parse(t, typ, query+"&_summary=count", "")
		return run(t, st, q, store.SearchOptions{}).Total
	}
	if n := count("Patient", "family=chalmers"); n != 1 {
		t.Fatalf("count = %d", n)
	}
	// An update replaces the rows; a delete removes them; a revived
	// resource has them again.
	mustPut(t, st, patient(t, "p1", "Jones"), org, "")
	if a, b := count("Patient", "family=chalmers"), count("Patient", "family=jones"); a != 0 || b != 1 {
		t.Errorf("after update: chalmers %d, jones %d", a, b)
	}
	update(t, st, func(tx store.Tx) error { _, err := tx.Delete(context.Background(), "Patient", "p1", ""); return err })
	if n := count("Patient", "family=jones"); n != 0 {
		t.Errorf("after delete: %d", n)
	}
	if n := count("Observation", "patient.family=jones"); n != 0 {
		t.Errorf("chain to a deleted patient: %d", n)
	}
	mustPut(t, st, patient(t, "p1", "Jones"), org, "")
	if n := count("Patient", "family=jones"); n != 1 {
		t.Errorf("after revival: %d", n)
	}
	// A failed Update leaves no rows behind.
	_ = st.Update(context.Background(), func(tx store.Tx) error {
		if _, err := tx.Put(context.Background(), store.Write{Resource: patient(t, "p9", "Ghost"), Org: org}); err != nil {
			return err
		}
		return context.Canceled
	})
	if n := count("Patient", "family=ghost"); n != 0 {
		t.Errorf("rolled back write left %d index rows", n)
	}
}
