package interaction

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
)

func TestImport(t *testing.T) {
	ctx := systemContext()
	sqltest.Each(t, func(t *testing.T, b sqltest.Backend) {
		s := newService(t, b)
		body := func(id, family string) []byte { return []byte(fmt.Sprintf(patientBody, id, id, family)) }
		req := ImportRequest{Org: "a", Resources: [][]byte{
			body("p1", "Doe"),
			[]byte(`{"resourceType":"Patient","id":"p2","colour":"blue"}`),
			[]byte(`{"resourceType":"Patient","name":[{"family":"NoID"}]}`),
			body("p3", "Roe"),
			[]byte(`{"resourceType":"Organization","id":"o1","name":"Clinic"}`),
		}}
		res, err := s.Import(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		want := []ImportStatus{ImportCreated, ImportFailed, ImportFailed, ImportCreated, ImportCreated}
		for i, r := range res {
			if r.Status != want[i] {
				t.Errorf("resource %d: %v (%v), want %v", i, r.Status, r.Err, want[i])
			}
		}
		if res[1].Err == nil || res[1].Err.Kind != outcome.Invalid {
			t.Errorf("invalid resource: %v", res[1].Err)
		}
		// Again: nothing changes, no new versions.
		res, err = s.Import(ctx, ImportRequest{Org: "a", Resources: [][]byte{body("p1", "Doe"), body("p3", "Moe")}})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Status != ImportUnchanged || res[0].Version.VersionID != "1" {
			t.Errorf("same content again: %v version %s", res[0].Status, res[0].Version.VersionID)
		}
		if res[1].Status != ImportUpdated || res[1].Version.VersionID != "2" {
			t.Errorf("changed content: %v version %s", res[1].Status, res[1].Version.VersionID)
		}
		// Another organization's resource is private; the rest proceeds.
		res, err = s.Import(ctx, ImportRequest{Org: "b", Resources: [][]byte{body("p1", "Doe"), body("p4", "Poe")}})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Status != ImportFailed || res[0].Err.Kind != outcome.Private || res[1].Status != ImportCreated {
			t.Errorf("tenancy: %v %v, %v", res[0].Status, res[0].Err, res[1].Status)
		}
		v, err := s.st.Read(ctx, "Patient", "p4")
		if err != nil || v.Org != "b" || v.Method != store.MethodPut {
			t.Errorf("p4 = %+v, %v", v, err)
		}
	})
}

// TestImportRace: a resource read as absent that exists when the write
// transaction runs (another writer created it in between) rolls the
// transaction back, and the second run finds it, here as another
// organization's: Private, not overwritten.
func TestImportRace(t *testing.T) {
	ctx := systemContext()
	b := sqltest.Backends()[0]
	s := newService(t, b)
	if _, err := s.Update(ctx, UpdateRequest{Type: "Patient", ID: "r1", Org: "other", Body: []byte(fmt.Sprintf(patientBody, "r1", "1", "Theirs"))}); err != nil {
		t.Fatal(err)
	}
	res, issues := s.v.Parse([]byte(fmt.Sprintf(patientBody, "r1", "1", "Mine")))
	if outcome.HasErrors(issues) {
		t.Fatal(issues)
	}
	out := []ImportResult{{Type: "Patient", ID: "r1"}}
	err := s.st.Update(ctx, func(tx store.Tx) error {
		return s.importTx(ctx, tx, callerFrom(systemContext()), &trace{}, "a", []*fhir.Value{&res}, []bool{true}, out)
	})
	if !errors.Is(err, errRaced) {
		t.Fatalf("importTx over an existing resource read as absent: %v, want errRaced", err)
	}
	err = s.st.Update(ctx, func(tx store.Tx) error {
		return s.importTx(ctx, tx, callerFrom(systemContext()), &trace{}, "a", []*fhir.Value{&res}, []bool{false}, out)
	})
	if err != nil || out[0].Err == nil || out[0].Err.Kind != outcome.Private {
		t.Fatalf("second run: %v, %+v", err, out[0])
	}
	v, err := s.st.Read(ctx, "Patient", "r1")
	if err != nil || v.VersionID != "1" || v.Org != "other" {
		t.Errorf("the other organization's resource changed: %+v, %v", v, err)
	}
}

// TestImportOnlySystem: the bulk path is for the server's own loaders; a
// signed-in user or an anonymous caller writes nothing through it.
func TestImportOnlySystem(t *testing.T) {
	b := sqltest.Backends()[0]
	s := newService(t, b)
	req := ImportRequest{Org: "a", Resources: [][]byte{[]byte(fmt.Sprintf(patientBody, "q1", "q1", "Doe"))}}
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want outcome.Kind
	}{
		{"anonymous", context.Background(), outcome.Unauthorized},
		{"practitioner", auth.NewContext(context.Background(), auth.NewPractitionerSession("u1", "pr1", auth.Membership{Organization: "a", Role: auth.Physician})), outcome.Forbidden},
	} {
		if _, err := s.Import(tc.ctx, req); outcome.As(err).Kind != tc.want {
			t.Errorf("%s: Import = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := s.st.Read(context.Background(), "Patient", "q1"); outcome.As(err).Kind != outcome.NotFound {
		t.Errorf("a refused import wrote Patient/q1: %v", err)
	}
}
