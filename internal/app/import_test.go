package app

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestSynthCLI: the same seed gives the same bytes; another seed differs;
// bad usage exits 2.
func TestSynthCLI(t *testing.T) {
	dir := t.TempDir()
	gen := func(name string, args ...string) string {
		out := filepath.Join(dir, name)
		code, _, stderr := run(t, "", append([]string{"synth", "--patients", "3", "--out", out, "--quiet"}, args...)...)
		if code != 0 || !strings.Contains(stderr, "wrote ") {
			t.Fatalf("synth %v: exit %d\n%s", args, code, stderr)
		}
		return out
	}
	a, b, c := gen("a", "--seed", "9"), gen("b", "--seed", "9"), gen("c", "--seed", "10")
	for _, f := range []string{"Patient.ndjson", "Observation.ndjson", "Organization.ndjson", "Group.ndjson"} {
		ba, _ := os.ReadFile(filepath.Join(a, f))
		bb, _ := os.ReadFile(filepath.Join(b, f))
		bc, _ := os.ReadFile(filepath.Join(c, f))
		if len(ba) == 0 || !bytes.Equal(ba, bb) {
			t.Errorf("%s differs between two runs with seed 9", f)
		}
		if bytes.Equal(ba, bc) {
			t.Errorf("%s is the same for seeds 9 and 10", f)
		}
	}
	bundles := gen("d", "--seed", "9", "--format", "bundles", "--orgs", "5")
	if m, _ := filepath.Glob(filepath.Join(bundles, "patient-*.json")); len(m) != 3 {
		t.Errorf("bundles: %d patient files, want 3", len(m))
	}
	for _, args := range [][]string{
		{"synth", "--out", filepath.Join(dir, "x")},                                     // no --patients
		{"synth", "--patients", "2"},                                                    // no --out
		{"synth", "--patients", "2", "--out", filepath.Join(dir, "y"), "--orgs", "2"},   // too few orgs
		{"synth", "--patients", "2", "--out", filepath.Join(dir, "z"), "--format", "x"}, // format
		{"synth", "--patients", "2", "--out", filepath.Join(dir, "w"), "--reference-date", "yesterday"},
	} {
		if code, _, stderr := run(t, "", args...); code != exitUsage {
			t.Errorf("%v: exit %d, want 2\n%s", args, code, stderr)
		}
	}
	if code, _, stderr := run(t, "", "synth", "--patients", "1", "--out", a, "--quiet"); code != exitFail || !strings.Contains(stderr, "not empty") {
		t.Errorf("into a used directory: exit %d\n%s", code, stderr)
	}
}

// TestImportCLI imports synthetic data and a file with a bad line: the
// failure names file and line, the summary counts, the exit status is 1;
// a second run changes nothing.
func TestImportCLI(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if code, _, stderr := run(t, "", "synth", "--patients", "2", "--seed", "4", "--out", src, "--quiet"); code != 0 {
		t.Fatalf("synth: %d\n%s", code, stderr)
	}
	bad := filepath.Join(dir, "bad.ndjson")
	os.WriteFile(bad, []byte(`{"resourceType":"Patient","id":"ok-1"}`+"\n"+`{"resourceType":"Patient","id":"bad","birthDate":"yesterday"}`+"\n"), 0o600)
	data := filepath.Join(dir, "data")
	code, _, stderr := run(t, "", "import", "--data", data, "--quiet", src, bad)
	if code != exitFail {
		t.Errorf("exit %d, want 1 (one bad line)\n%s", code, stderr)
	}
	if !strings.Contains(stderr, bad+":2: ") || !strings.Contains(stderr, "Patient.birthDate") {
		t.Errorf("the bad line is not reported as %s:2 with its location:\n%s", bad, stderr)
	}
	m := regexp.MustCompile(`imported ([\d,]+) resources from (\d+) files: ([\d,]+) created, 0 updated, 0 unchanged, 1 failed`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no summary:\n%s", stderr)
	}
	created, _ := strconv.Atoi(strings.ReplaceAll(m[3], ",", ""))
	fromSynth := count(created - 1) // all but ok-1
	code, _, stderr = run(t, "", "import", "--data", data, "--quiet", src)
	if code != 0 || !strings.Contains(stderr, "0 created, 0 updated, "+fromSynth+" unchanged, 0 failed") {
		t.Errorf("second run: exit %d, want 0 with %s unchanged\n%s", code, fromSynth, stderr)
	}
	if code, _, _ := run(t, "", "import", "--data", data); code != exitUsage {
		t.Errorf("no paths: exit %d, want 2", code)
	}
	if code, _, _ := run(t, "", "import", "--data", data, filepath.Join(dir, "missing")); code != exitUsage {
		t.Errorf("missing path: exit %d, want 2", code)
	}
}
