package interaction

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
	"github.com/continuum-ehr/continuum/internal/validate"
)

func newService(t testing.TB, b sqltest.Backend) *Service {
	s, _ := newAudited(t, b)
	return s
}

// newAudited returns a Service over a new store of b, with its audit trail.
func newAudited(t testing.TB, b sqltest.Backend) (*Service, *audit.Trail) {
	t.Helper()
	return newOn(t, b.Open(t))
}

// newOn returns a Service over db with an audit trail.
func newOn(t testing.TB, db store.Store) (*Service, *audit.Trail) {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := audit.NewTrail(audit.TrailOptions{Store: db, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return New(Options{Store: db, Validator: validate.New(spec.R4(), validate.Options{}), Spec: spec.R4(), Audit: tr,
		Server: "https://ehr.example.org/fhir"}), tr
}

// systemContext carries the system principal: the tests of FHIR semantics
// act as the server itself; authorization has its own tests.
func systemContext() context.Context {
	return auth.NewContext(context.Background(), auth.NewSystem())
}

func wantKind(t *testing.T, what string, err error, k outcome.Kind) {
	t.Helper()
	var oe *outcome.Error
	switch {
	case err == nil:
		t.Errorf("%s: no error, want %v", what, k)
	case !errors.As(err, &oe):
		t.Errorf("%s: %v is not an *outcome.Error", what, err)
	case oe.Kind != k:
		t.Errorf("%s: %v, want kind %v", what, err, k)
	}
}

const patientBody = `{"resourceType":"Patient","id":%q,"identifier":[{"system":"urn:mrn","value":%q}],"name":[{"family":%q}]}`

func TestInteractions(t *testing.T) {
	ctx := systemContext()
	sqltest.Each(t, func(t *testing.T, b sqltest.Backend) {
		t.Run("CreateReadVRead", func(t *testing.T) {
			s := newService(t, b)
			res, err := s.Create(ctx, CreateRequest{Type: "Patient", Org: "a", Body: []byte(fmt.Sprintf(patientBody, "ignored", "1", "Doe"))})
			if err != nil {
				t.Fatal(err)
			}
			v := res.Version
			if res.Existing || v.ID == "ignored" || v.VersionID != "1" || v.Method != store.MethodPost {
				t.Errorf("create = %+v", res)
			}
			got, err := s.Read(ctx, ReadRequest{Type: "Patient", ID: v.ID})
			if err != nil || string(got.Body) != string(v.Body) {
				t.Errorf("read = %v, %v", got, err)
			}
			if _, err := s.VRead(ctx, VReadRequest{Type: "Patient", ID: v.ID, VersionID: "1"}); err != nil {
				t.Errorf("vread: %v", err)
			}
			_, err = s.VRead(ctx, VReadRequest{Type: "Patient", ID: v.ID, VersionID: "2"})
			wantKind(t, "vread of a missing version", err, outcome.NotFound)
		})
		t.Run("BadInput", func(t *testing.T) {
			s := newService(t, b)
			for _, tc := range []struct {
				name string
				err  func() error
				kind outcome.Kind
			}{
				{"malformed JSON", func() error {
					_, err := s.Create(ctx, CreateRequest{Type: "Patient", Org: "a", Body: []byte(`{"resourceType":"Patient",`)})
					return err
				}, outcome.Invalid},
				{"unknown element", func() error {
					_, err := s.Create(ctx, CreateRequest{Type: "Patient", Org: "a", Body: []byte(`{"resourceType":"Patient","colour":"blue"}`)})
					return err
				}, outcome.Invalid},
				{"body of another type", func() error {
					_, err := s.Create(ctx, CreateRequest{Type: "Patient", Org: "a", Body: []byte(`{"resourceType":"Basic","code":{"text":"x"}}`)})
					return err
				}, outcome.Invalid},
				{"unknown type", func() error {
					_, err := s.Create(ctx, CreateRequest{Type: "Foo", Org: "a", Body: []byte(`{"resourceType":"Foo"}`)})
					return err
				}, outcome.NotFound},
				{"abstract type", func() error { _, err := s.Read(ctx, ReadRequest{Type: "DomainResource", ID: "x"}); return err }, outcome.NotFound},
				{"bad id", func() error { _, err := s.Read(ctx, ReadRequest{Type: "Patient", ID: "a b"}); return err }, outcome.Invalid},
				{"id in URL differs from body", func() error {
					_, err := s.Update(ctx, UpdateRequest{Type: "Patient", ID: "p1", Org: "a", Body: []byte(fmt.Sprintf(patientBody, "p2", "1", "X"))})
					return err
				}, outcome.Invalid},
				{"update without id", func() error {
					_, err := s.Update(ctx, UpdateRequest{Type: "Patient", ID: "p1", Org: "a", Body: []byte(`{"resourceType":"Patient"}`)})
					return err
				}, outcome.Invalid},
				{"unknown parameter in a condition", func() error {
					_, err := s.Create(ctx, CreateRequest{Type: "Patient", Org: "a", IfNoneExist: "nonesuch=Doe", Body: []byte(`{"resourceType":"Patient"}`)})
					return err
				}, outcome.Invalid},
				{"stale If-Match on a missing resource", func() error {
					_, err := s.Update(ctx, UpdateRequest{Type: "Patient", ID: "p1", Org: "a", IfMatch: "3", Body: []byte(fmt.Sprintf(patientBody, "p1", "1", "X"))})
					return err
				}, outcome.Precondition},
			} {
				wantKind(t, tc.name, tc.err(), tc.kind)
			}
			h, err := s.History(ctx, HistoryRequest{})
			if err != nil || len(h.Versions) != 0 {
				t.Errorf("bad input wrote something: %v %v", h, err)
			}
		})
		t.Run("UpdateDeleteHistory", func(t *testing.T) {
			s := newService(t, b)
			put := func(family, ifMatch string) (*UpdateResult, error) {
				return s.Update(ctx, UpdateRequest{Type: "Patient", ID: "p1", Org: "a", IfMatch: ifMatch, Body: []byte(fmt.Sprintf(patientBody, "p1", "1", family))})
			}
			r1, err := put("One", "")
			if err != nil || !r1.Created || r1.Version.VersionID != "1" {
				t.Fatalf("create-on-update = %+v, %v", r1, err)
			}
			r2, err := put("Two", "1")
			if err != nil || r2.Created || r2.Version.VersionID != "2" {
				t.Fatalf("update = %+v, %v", r2, err)
			}
			_, err = put("Three", "1")
			wantKind(t, "stale If-Match", err, outcome.Precondition)
			d, err := s.Delete(ctx, DeleteRequest{Type: "Patient", ID: "p1"})
			if err != nil || d == nil || d.VersionID != "3" || !d.Deleted() {
				t.Fatalf("delete = %+v, %v", d, err)
			}
			_, err = s.Read(ctx, ReadRequest{Type: "Patient", ID: "p1"})
			wantKind(t, "read after delete", err, outcome.Gone)
			if d, err := s.Delete(ctx, DeleteRequest{Type: "Patient", ID: "p1"}); err != nil || d != nil {
				t.Errorf("second delete = %v, %v; want nothing, no error", d, err)
			}
			if d, err := s.Delete(ctx, DeleteRequest{Type: "Patient", ID: "never"}); err != nil || d != nil {
				t.Errorf("delete of an unknown resource = %v, %v; want nothing, no error", d, err)
			}
			h, err := s.History(ctx, HistoryRequest{Type: "Patient", ID: "p1"})
			if err != nil || len(h.Versions) != 3 || !h.Versions[0].Deleted() {
				t.Errorf("history = %+v, %v", h, err)
			}
			r4, err := put("Back", "")
			if err != nil || r4.Created || r4.Version.VersionID != "4" {
				t.Errorf("update after delete = %+v, %v", r4, err)
			}
		})
		t.Run("OtherOrganizationIsPrivate", func(t *testing.T) {
			s := newService(t, b)
			// Physicians of a and b, and an administrator of b.
			docA := auth.NewContext(ctx, auth.NewPractitionerSession("u-a", "pr-a", auth.Membership{Organization: "a", Role: auth.Physician}))
			docB := auth.NewContext(ctx, auth.NewPractitionerSession("u-b", "pr-b", auth.Membership{Organization: "b", Role: auth.Physician}))
			adminB := auth.NewContext(ctx, auth.NewPractitionerSession("u-ab", "pr-ab", auth.Membership{Organization: "b", Role: auth.Admin}))
			basic := func(id string) []byte {
				return []byte(fmt.Sprintf(`{"resourceType":"Basic","id":%q,"code":{"text":"x"}}`, id))
			}
			r, err := s.Update(docA, UpdateRequest{Type: "Basic", ID: "p1", Body: basic("p1")})
			if err != nil || r.Version.Org != "a" {
				t.Fatalf("update-as-create by a physician of a = %+v, %v", r, err)
			}
			_, err = s.Update(docB, UpdateRequest{Type: "Basic", ID: "p1", IfMatch: "7", Body: basic("p1")})
			wantKind(t, "update of another organization's resource (even with a stale If-Match)", err, outcome.Private)
			_, err = s.Read(docB, ReadRequest{Type: "Basic", ID: "p1"})
			wantKind(t, "read of another organization's resource", err, outcome.Private)
			_, err = s.VRead(docB, VReadRequest{Type: "Basic", ID: "p1", VersionID: "1"})
			wantKind(t, "vread of another organization's resource", err, outcome.Private)
			_, err = s.VRead(docB, VReadRequest{Type: "Basic", ID: "p1", VersionID: "9"})
			wantKind(t, "vread of a missing version of another organization's resource", err, outcome.Private)
			_, err = s.History(docB, HistoryRequest{Type: "Basic", ID: "p1"})
			wantKind(t, "history of another organization's resource", err, outcome.Private)
			if d, err := s.Delete(docB, DeleteRequest{Type: "Basic", ID: "p1"}); err != nil || d != nil {
				t.Errorf("delete of another organization's resource = %v, %v; want nothing deleted, like a missing one", d, err)
			}
			if _, err := s.Read(docA, ReadRequest{Type: "Basic", ID: "p1"}); err != nil {
				t.Fatalf("the denied delete deleted: %v", err)
			}
			if _, err := s.Delete(docA, DeleteRequest{Type: "Basic", ID: "p1"}); err != nil {
				t.Fatal(err)
			}
			_, err = s.Read(docB, ReadRequest{Type: "Basic", ID: "p1"})
			wantKind(t, "read of another organization's deleted resource", err, outcome.Private)
			_, err = s.Read(docA, ReadRequest{Type: "Basic", ID: "p1"})
			wantKind(t, "read of the own deleted resource", err, outcome.Gone)
			_, err = s.Update(docB, UpdateRequest{Type: "Basic", ID: "p1", Body: basic("p1")})
			wantKind(t, "reviving another organization's deleted resource", err, outcome.Private)
			// Directory resources belong to the deployment: an
			// administrator of b may update one an administrator of a wrote.
			org := []byte(`{"resourceType":"Organization","id":"o1","name":"Clinic"}`)
			if _, err := s.Update(ctx, UpdateRequest{Type: "Organization", ID: "o1", Body: org}); err != nil {
				t.Fatal(err)
			}
			r, err = s.Update(adminB, UpdateRequest{Type: "Organization", ID: "o1", Body: org})
			if err != nil || r.Version.Org != "" {
				t.Errorf("directory update by another organization = %+v, %v", r, err)
			}
		})
		t.Run("ConditionalCreate", func(t *testing.T) {
			s := newService(t, b)
			const n = 8
			results := make([]*CreateResult, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i], errs[i] = s.Create(ctx, CreateRequest{Type: "Patient", Org: "a", IfNoneExist: "identifier=urn:mrn|42",
						Body: []byte(`{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"42"}]}`)})
				}()
			}
			wg.Wait()
			created := 0
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("conditional create: %v", errs[i])
				}
				if !results[i].Existing {
					created++
				}
				if results[i].Version.ID != results[0].Version.ID {
					t.Errorf("different resources: %s, %s", results[i].Version.ID, results[0].Version.ID)
				}
			}
			if created != 1 {
				t.Errorf("%d conditional creates created, want 1", created)
			}
			// A second resource with that identifier makes the condition ambiguous.
			if _, err := s.Create(ctx, CreateRequest{Type: "Patient", Org: "a", Body: []byte(`{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"42"}]}`)}); err != nil {
				t.Fatal(err)
			}
			_, err := s.Create(ctx, CreateRequest{Type: "Patient", Org: "a", IfNoneExist: "identifier=urn:mrn%7C42", Body: []byte(`{"resourceType":"Patient"}`)})
			wantKind(t, "If-None-Exist with two matches", err, outcome.Precondition)
			r, err := s.Create(ctx, CreateRequest{Type: "Patient", Org: "a", IfNoneExist: "_id=" + results[0].Version.ID, Body: []byte(`{"resourceType":"Patient"}`)})
			if err != nil || !r.Existing {
				t.Errorf("If-None-Exist by _id = %+v, %v", r, err)
			}
		})
	})
}

func TestParseCondition(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // the parsed criteria, re-encoded
		kind outcome.Kind
	}{
		{"identifier=urn:a|1", "identifier=urn%3Aa%7C1", 0},
		{"Patient?identifier=urn%3Aa%7C1", "identifier=urn%3Aa%7C1", 0},
		{"identifier=|1", "identifier=%7C1", 0},
		{"_id=abc", "_id=abc", 0},
		{"identifier=a&name=b", "identifier=a&name=b", 0},
		{"identifier:exact=a", "identifier%3Aexact=a", 0},
		{"identifier=%zz", "", outcome.Invalid},
		{"", "", outcome.Invalid},
		{"name=", "", outcome.Invalid},
		{"_count=1", "", outcome.Invalid},
		{"name=x&_sort=name", "", outcome.Invalid},
	} {
		got, err := ParseCondition(tc.in)
		if tc.kind != 0 {
			wantKind(t, tc.in, err, tc.kind)
			continue
		}
		if err != nil || got.Values.Encode() != tc.want {
			t.Errorf("ParseCondition(%q) = %v, %v; want %s", tc.in, got.Values, err, tc.want)
		}
	}
}

// FuzzParseCondition: If-None-Exist is outside input. Parsing never panics,
// and an accepted condition always constrains something.
func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{"identifier=urn:a|1", "_id=x", "identifier=%7C", "name=x", "identifier=a|b|c", "=", "_id="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCondition(s)
		if err != nil {
			if kindOf(err) != outcome.Invalid {
				t.Errorf("ParseCondition(%q): %v has kind %v", s, err, kindOf(err))
			}
			return
		}
		n := 0
		for _, vs := range c.Values {
			for _, v := range vs {
				if v != "" {
					n++
				}
			}
		}
		if n == 0 {
			t.Errorf("ParseCondition(%q) = %+v matches everything", s, c)
		}
	})
}
