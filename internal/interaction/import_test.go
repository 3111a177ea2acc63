package interaction

import (
	"context"
	"fmt"
	"testing"

	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
)

func TestImport(t *testing.T) {
	ctx := context.Background()
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
