package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/continuum-ehr/continuum/internal/r4examples"
)

// TestGeneratedFileIsCurrent regenerates the definitions and requires the
// committed file to be byte-identical: `go generate` must leave no diff.
func TestGeneratedFileIsCurrent(t *testing.T) {
	if _, err := r4examples.Locate(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the official R4 package is required in CI: %v", err)
		}
		t.Skipf("needs %s (npm or $%s): %v", r4examples.Package, r4examples.EnvVar, err)
	}
	out := filepath.Join(t.TempDir(), "r4.json")
	if err := run(out, ""); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "internal", "fhir", "spec", "r4.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("internal/fhir/spec/r4.json is stale or generation is not deterministic: run go generate ./internal/fhir/spec")
	}
}
