package auth

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/store"
)

var update = flag.Bool("update", false, "rewrite testdata/categories.txt")

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

// TestCategories compares every R4 type's category with
// testdata/categories.txt; run with -update to rewrite it after a change to
// CategoryOf, and review the diff: a misspelt type in the switch shows up
// as a type that stayed clinical.
func TestCategories(t *testing.T) {
	var b strings.Builder
	for _, typ := range specTypes() {
		fmt.Fprintf(&b, "%s %s\n", typ, CategoryOf(typ))
	}
	path := filepath.Join("testdata", "categories.txt")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("categories differ from %s (run with -update and review the diff)", path)
	}
	if CategoryOf("SomethingNew") != Clinical {
		t.Error("an unknown type is not Clinical, the most guarded category")
	}
	for c := Clinical; c < numCategories; c++ {
		if strings.HasPrefix(c.String(), "category(") {
			t.Errorf("category %d has no name", c)
		}
	}
	if numCategories.String() != fmt.Sprintf("category(%d)", numCategories) {
		t.Error("an out-of-range category renders a name")
	}
}

func TestParseRole(t *testing.T) {
	for _, r := range Roles() {
		if got, err := ParseRole(string(r)); err != nil || got != r {
			t.Errorf("ParseRole(%q) = %q, %v", r, got, err)
		}
		if RolePermissions(r) == [numCategories]Permission{} {
			t.Errorf("role %s has no row in the table", r)
		}
	}
	for _, s := range []string{"", "Physician", "doctor", "frontdesk"} {
		if _, err := ParseRole(s); err == nil {
			t.Errorf("ParseRole(%q) succeeded", s)
		}
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

// roleTableMarkdown renders the role table as docs/security.md shows it.
func roleTableMarkdown() string {
	var b strings.Builder
	b.WriteString("| category | example types |")
	for _, r := range Roles() {
		b.WriteString(" " + string(r) + " |")
	}
	b.WriteString(" patient user |\n|---|---|")
	for range Roles() {
		b.WriteString("---|")
	}
	b.WriteString("---|\n")
	for c := Clinical; c < numCategories; c++ {
		var examples []string
		for _, typ := range specTypes() {
			if CategoryOf(typ) == c {
				examples = append(examples, typ)
			}
		}
		if len(examples) > 3 {
			examples = append(examples[:3], "…")
		}
		if c == Clinical {
			examples = []string{"Observation, Condition, every type not listed elsewhere"}
		}
		fmt.Fprintf(&b, "| %s | %s |", c, strings.Join(examples, ", "))
		cell := func(p Permission) string {
			if p == 0 {
				return " – |"
			}
			return " " + p.String() + " |"
		}
		for _, r := range Roles() {
			b.WriteString(cell(RolePermissions(r)[c]))
		}
		b.WriteString(cell(PatientPermissions()[c]))
		b.WriteByte('\n')
	}
	return b.String()
}

// TestSecurityDocRoleTable keeps the table in docs/security.md equal to the
// code's.
func TestSecurityDocRoleTable(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "security.md"))
	if err != nil {
		t.Fatal(err)
	}
	if want := roleTableMarkdown(); !strings.Contains(string(doc), want) {
		t.Errorf("docs/security.md does not contain the role table; paste:\n%s", want)
	}
}
