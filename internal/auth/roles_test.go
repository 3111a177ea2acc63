package auth

import (
	"reflect"
	"slices"
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/store"
)

func specTypes() []string { return spec.R4().ResourceTypes() }

// TestSharedTypesMatchStore keeps auth's shared types and the store's
// directory types (which decide the owning organization of a write) one
// list: a type shared for reads but owned for writes, or the reverse,
// would open or close the boundary by accident.
func TestSharedTypesMatchStore(t *testing.T) {
	if got, want := SharedTypes(), store.DirectoryTypes(); !reflect.DeepEqual(got, want) {
		t.Errorf("auth.SharedTypes() = %v\nstore.DirectoryTypes() = %v", got, want)
	}
}

func TestCategoriesNameRealTypes(t *testing.T) {
	types := specTypes()
	for typ := range categories {
		if !slices.Contains(types, typ) {
			t.Errorf("categories lists %q, not an R4 resource type", typ)
		}
	}
	if CategoryOf("SomethingNew") != Clinical {
		t.Error("an unknown type is not Clinical, the most guarded category")
	}
	for c := Clinical; c < numCategories; c++ {
		if c.String() == "" || c.String()[0] == 'c' && c.String() == "category(0)" {
			t.Errorf("category %d has no name", c)
		}
	}
}

func TestParseRole(t *testing.T) {
	for _, r := range Roles() {
		if got, err := ParseRole(string(r)); err != nil || got != r {
			t.Errorf("ParseRole(%q) = %q, %v", r, got, err)
		}
		if _, ok := RoleTable()[r]; !ok {
			t.Errorf("role %s has no row in the table", r)
		}
	}
	for _, s := range []string{"", "Physician", "doctor", "frontdesk"} {
		if _, err := ParseRole(s); err == nil {
			t.Errorf("ParseRole(%q) succeeded", s)
		}
	}
}

func TestRoleTableIsACopy(t *testing.T) {
	RoleTable()[Admin][Clinical] = AllPermissions
	if RolePermission(Admin, "Observation") != 0 {
		t.Fatal("RoleTable exposes the table itself")
	}
}

func TestPermissionString(t *testing.T) {
	tests := map[Permission]string{0: "", Read: "r", Read | Search: "rs", AllPermissions: "cruds", Create | Delete: "cd"}
	for p, want := range tests {
		if got := p.String(); got != want {
			t.Errorf("%b.String() = %q, want %q", p, got, want)
		}
	}
	if Permission(0).Has(0) || !AllPermissions.Has(Read|Search) || Read.Has(Read|Search) {
		t.Error("Has is wrong")
	}
}

func TestKindStrings(t *testing.T) {
	for k, want := range map[Kind]string{Anonymous: "anonymous", Practitioner: "practitioner", PatientUser: "patient",
		App: "app", Backend: "backend", System: "system"} {
		if k.String() != want {
			t.Errorf("%d.String() = %q, want %q", k, k.String(), want)
		}
	}
	for c, want := range map[Context]string{NoContext: "", PatientContext: "patient", UserContext: "user", SystemContext: "system"} {
		if c.String() != want {
			t.Errorf("context %d = %q, want %q", c, c.String(), want)
		}
	}
}
