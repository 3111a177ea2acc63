package store

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
)

func TestDirectoryTypes(t *testing.T) {
	list := DirectoryTypes()
	if !slices.IsSorted(list) {
		t.Errorf("DirectoryTypes is not sorted: %v", list)
	}
	n := 0
	for _, typ := range spec.R4().ResourceTypes() {
		if DirectoryType(typ) {
			n++
			if !slices.Contains(list, typ) {
				t.Errorf("DirectoryType(%s) but it is not in DirectoryTypes", typ)
			}
		}
	}
	if n != len(list) {
		t.Errorf("%d R4 types are directory types, DirectoryTypes lists %d (a name that is not an R4 type?)", n, len(list))
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if len(id) != 26 || !ValidID(id) || strings.ToLower(id) != id || seen[id] {
			t.Fatalf("NewID() = %q", id)
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "a b", "a/b", strings.Repeat("a", 65), "é"} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q)", bad)
		}
	}
	if !ValidID(strings.Repeat("A-.9", 16)) {
		t.Error("a 64-character id is valid")
	}
}

func TestStamp(t *testing.T) {
	at := time.Date(2026, 11, 25, 9, 30, 1, 500000000, time.UTC)
	for _, tc := range []struct{ in, want string }{
		{`{"resourceType":"Patient"}`, `{"resourceType":"Patient","id":"x","meta":{"versionId":"2","lastUpdated":"2026-11-25T09:30:01.500000Z"}}`},
		{`{"resourceType":"Patient","id":"old","meta":{"profile":["p"],"versionId":"9"},"active":true}`,
			`{"resourceType":"Patient","id":"x","meta":{"profile":["p"],"versionId":"2","lastUpdated":"2026-11-25T09:30:01.500000Z"},"active":true}`},
		{`{"active":true,"resourceType":"Patient"}`, `{"active":true,"resourceType":"Patient","id":"x","meta":{"versionId":"2","lastUpdated":"2026-11-25T09:30:01.500000Z"}}`},
	} {
		v, err := fhir.Parse([]byte(tc.in))
		if err != nil {
			t.Fatal(err)
		}
		if got := string(Stamp(&v, "x", "2", at)); got != tc.want {
			t.Errorf("Stamp(%s)\n got %s\nwant %s", tc.in, got, tc.want)
		}
		if got := string(v.Marshal()); got != tc.in {
			t.Errorf("Stamp changed its input to %s", got)
		}
	}
}
