package validate_test

import (
	"compress/bzip2"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/validate"
)

// syntheaDir holds 120 Synthea patients as transaction Bundles (urn:uuid and
// conditional references, contained resources), written by nobody here.
const syntheaDir = "../../../shared/data/synthea"

// TestSyntheaBundles validates the hospital and practitioner Bundles and a
// quarter of the patients (every fourth, to keep the suite fast; the CLI
// validates all 122 files in about 12 s) with invariants on.
func TestSyntheaBundles(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(syntheaDir, "*.json.bz2"))
	if len(files) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the Synthea bundles are required in CI: none in %s", syntheaDir)
		}
		t.Skipf("needs the Synthea bundles of ../shared/data/synthea (none in %s)", syntheaDir)
	}
	v := validate.New(spec.R4(), validate.Options{})
	checked := 0
	for i, name := range files {
		base := filepath.Base(name)
		if !strings.HasPrefix(base, "0-") && i%4 != 0 {
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(bzip2.NewReader(f))
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		for _, is := range v.Validate(b) {
			if is.IsError() {
				t.Errorf("%s: %s at %v: %s", base, is.Code, is.Expression, is.Diagnostics)
			}
		}
		checked++
	}
	if checked < 30 {
		t.Errorf("only %d bundles checked", checked)
	}
}
