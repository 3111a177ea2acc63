package index

import (
	"bytes"
	"compress/bzip2"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/r4examples"
)

// TestOfficialExamples extracts every resource of the official R4 examples
// (and every entry of the example Bundles): each SearchParameter of each
// resource's type must evaluate without error, and the corpus as a whole
// must give rows of every parameter type.
func TestOfficialExamples(t *testing.T) {
	files, err := r4examples.ReadAll()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the official R4 examples (%s) are required in CI: %v", r4examples.Package, err)
		}
		t.Skipf("the official R4 examples (%s) are not available: %v", r4examples.Package, err)
	}
	x := New(spec.R4())
	all := New(spec.R4())
	all.evaluateAll = true
	var total Entries
	n := 0
	for _, f := range files {
		v, err := fhir.Parse(f.Data)
		if err != nil || v.Kind != fhir.Object || spec.R4().Resource(v.ResourceType()) == nil {
			continue
		}
		for _, r := range withEntries(&v) {
			e, err := x.Extract(r)
			if err != nil {
				t.Errorf("%s: %v", f.Name, err)
				continue
			}
			n++
			// Skipping expressions whose elements are absent must not
			// change the rows.
			if n%7 == 0 {
				if full, err := all.Extract(r); err != nil || render(&full) != render(&e) {
					t.Errorf("%s: the heads shortcut changed the rows (err %v)\n--- with\n%s--- without\n%s", f.Name, err, render(&e), render(&full))
				}
			}
			total.Tokens = append(total.Tokens, e.Tokens...)
			total.Strings = append(total.Strings, e.Strings...)
			total.Dates = append(total.Dates, e.Dates...)
			total.Numbers = append(total.Numbers, e.Numbers...)
			total.Quantities = append(total.Quantities, e.Quantities...)
			total.References = append(total.References, e.References...)
			total.URIs = append(total.URIs, e.URIs...)
			total.Composites = append(total.Composites, e.Composites...)
		}
	}
	if n < 2000 {
		t.Errorf("extracted only %d resources", n)
	}
	for name, c := range map[string]int{
		"token": len(total.Tokens), "string": len(total.Strings), "date": len(total.Dates),
		"number": len(total.Numbers), "quantity": len(total.Quantities), "reference": len(total.References),
		"uri": len(total.URIs), "composite": len(total.Composites),
	} {
		if c == 0 {
			t.Errorf("no %s rows in the whole corpus", name)
		}
	}
	t.Logf("%d resources: %d rows", n, total.Len())
}

// withEntries returns v and, for a Bundle, the resources of its entries
// (recursively), as a store would index them.
func withEntries(v *fhir.Value) []*fhir.Value {
	out := []*fhir.Value{v}
	if v.ResourceType() != "Bundle" {
		return out
	}
	entries, _ := v.Get("entry")
	if entries == nil || entries.Kind != fhir.Array {
		return out
	}
	for i := range entries.Items {
		if r, ok := entries.Items[i].Get("resource"); ok && r.Kind == fhir.Object {
			out = append(out, withEntries(r)...)
		}
	}
	return out
}

// syntheaDir is /work/shared/data/synthea seen from this package: the
// bundles are read in place, never copied into the repository.
const syntheaDir = "../../../shared/data/synthea"

// syntheaBundles returns up to n Synthea patient bundles with their
// urn:uuid references rewritten to Type/id, as the transaction that
// stores them would.
func syntheaBundles(tb testing.TB, n int) []*fhir.Value {
	tb.Helper()
	files, _ := filepath.Glob(filepath.Join(syntheaDir, "[0-9a-f]*-*-*.json.bz2"))
	if len(files) == 0 {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("the Synthea bundles are required in CI (%s)", syntheaDir)
		}
		tb.Skipf("the Synthea bundles are not in %s", syntheaDir)
	}
	var out []*fhir.Value
	for _, f := range files[:min(n, len(files))] {
		fh, err := os.Open(f)
		if err != nil {
			tb.Fatal(err)
		}
		b, err := io.ReadAll(bzip2.NewReader(fh))
		fh.Close()
		if err != nil {
			tb.Fatal(err)
		}
		v, err := fhir.Parse(b)
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		// Rewrite urn:uuid:X to Type/X.
		var pairs []string
		for _, r := range withEntries(&v)[1:] {
			pairs = append(pairs, "urn:uuid:"+r.Str("id"), r.ResourceType()+"/"+r.Str("id"))
		}
		b = []byte(strings.NewReplacer(pairs...).Replace(string(b)))
		if v, err = fhir.Parse(bytes.Clone(b)); err != nil {
			tb.Fatal(err)
		}
		out = append(out, &v)
	}
	return out
}

// TestSynthea extracts every resource of several Synthea patients and
// checks the rows a clinical search relies on.
func TestSynthea(t *testing.T) {
	x := New(spec.R4())
	all := New(spec.R4())
	all.evaluateAll = true
	for _, bundle := range syntheaBundles(t, 4) {
		var patientID string
		for _, r := range withEntries(bundle)[1:] {
			e, err := x.Extract(r)
			if err != nil {
				t.Fatalf("%s/%s: %v", r.ResourceType(), r.Str("id"), err)
			}
			if full, err := all.Extract(r); err != nil || render(&full) != render(&e) {
				t.Errorf("%s/%s: the heads shortcut changed the rows (err %v)", r.ResourceType(), r.Str("id"), err)
			}
			switch r.ResourceType() {
			case "Patient":
				patientID = r.Str("id")
				if !hasToken(e.Tokens, "gender") || !hasString(e.Strings, "family") || !hasDate(e.Dates, "birthdate") {
					t.Errorf("Patient/%s: missing gender, family or birthdate rows:\n%s", patientID, render(&e))
				}
			case "Observation":
				if !hasToken(e.Tokens, "code") || !hasDate(e.Dates, "date") {
					t.Errorf("Observation/%s: missing code or date rows:\n%s", r.Str("id"), render(&e))
				}
				if !hasRef(e.References, "patient", "Patient", patientID) {
					t.Errorf("Observation/%s: no patient row for Patient/%s:\n%s", r.Str("id"), patientID, render(&e))
				}
				if _, ok := r.Get("valueQuantity"); ok && !hasQuantity(e.Quantities, "value-quantity") {
					t.Errorf("Observation/%s: no value-quantity row:\n%s", r.Str("id"), render(&e))
				}
			}
		}
	}
}

func hasToken(rows []Token, param string) bool {
	for _, r := range rows {
		if r.Param == param && r.Code != "" {
			return true
		}
	}
	return false
}

func hasString(rows []String, param string) bool {
	for _, r := range rows {
		if r.Param == param {
			return true
		}
	}
	return false
}

func hasDate(rows []Date, param string) bool {
	for _, r := range rows {
		if r.Param == param {
			return true
		}
	}
	return false
}

func hasQuantity(rows []Quantity, param string) bool {
	for _, r := range rows {
		if r.Param == param {
			return true
		}
	}
	return false
}

func hasRef(rows []Reference, param, typ, id string) bool {
	for _, r := range rows {
		if r.Param == param && r.Type == typ && r.ID == id && r.TargetHash == ReferenceTargetHash(param, typ, id) {
			return true
		}
	}
	return false
}
