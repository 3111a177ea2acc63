package fhirpath_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/fhirpath"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/r4examples"
)

// The HL7 reference implementation of FHIRPath (npm "fhirpath", R4 model),
// pinned, used as an oracle.
const oraclePackage = "fhirpath@5.2.2"

// requireOrFail skips outside CI and fails in CI (CI=true), where every
// oracle this test needs must be present.
func requireOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// oracleDir installs the npm package into the user cache once and returns
// the directory holding its node_modules.
func oracleDir(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		requireOrFail(t, "needs node to run the reference FHIRPath implementation: %v", err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "continuum", "oracle-"+strings.ReplaceAll(oraclePackage, "@", "-"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "fhirpath", "package.json")); err == nil {
		return dir
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("npm", "install", "--prefix", dir, "--no-audit", "--no-fund", "--silent", oraclePackage)
	if out, err := cmd.CombinedOutput(); err != nil {
		requireOrFail(t, "npm install %s: %v\n%s", oraclePackage, err, out)
	}
	return dir
}

type oracleCase struct {
	R int    `json:"r"`
	E string `json:"e"`
}

type oracleResult struct {
	V   []any  `json:"v"`
	Err string `json:"err"`
}

func runOracle(t *testing.T, resources []json.RawMessage, cases []oracleCase) []oracleResult {
	t.Helper()
	dir := oracleDir(t)
	in, err := json.Marshal(map[string]any{"resources": resources, "cases": cases})
	if err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "oracle", "oracle.js"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", script)
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle: %v\n%s", err, stderr.String())
	}
	var res []oracleResult
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("oracle output: %v", err)
	}
	if len(res) != len(cases) {
		t.Fatalf("oracle answered %d of %d cases", len(res), len(cases))
	}
	return res
}

// normalize makes a JSON-ish value comparable: numbers become float64.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case float64:
		return x
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = normalize(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	}
	return v
}

// ourJSON renders one of our result items the way the reference
// implementation returns it to JavaScript: model values as their JSON,
// System values as JSON primitives. ok is false for items the oracle has no
// comparable form for.
func ourJSON(it fhirpath.Item) (any, bool) {
	switch x := it.(type) {
	case *fhirpath.Node:
		v := x.Value()
		if v == nil {
			return nil, false
		}
		dec := json.NewDecoder(bytes.NewReader(v.Marshal()))
		dec.UseNumber()
		var out any
		if err := dec.Decode(&out); err != nil {
			return nil, false
		}
		return normalize(out), true
	case fhirpath.Boolean:
		return bool(x), true
	case fhirpath.Integer:
		return float64(x), true
	case fhirpath.Decimal:
		f, err := strconv.ParseFloat(x.String(), 64)
		return f, err == nil
	case fhirpath.String:
		return string(x), true
	}
	return nil, false
}

// oracleExclusions are expressions where the reference implementation is
// known to differ from the specification; each says why.
var oracleExclusions = map[string]string{}

// TestAgainstReferenceImplementation evaluates every R4 SearchParameter
// expression on every official example of its base types, plus general
// expressions, with our engine and with the reference implementation, and
// requires the same results. Cases the oracle cannot evaluate (resolve() of
// a reference outside the resource needs a server there) are counted, not
// compared.
func TestAgainstReferenceImplementation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the node oracle over thousands of cases")
	}
	files, err := r4examples.ReadAll()
	if err != nil {
		requireOrFail(t, "needs the official R4 examples (%s): %v", r4examples.Package, err)
	}
	s := spec.R4()
	byType := map[string][]int{}
	var resources []json.RawMessage
	var trees []fhir.Value
	for _, f := range files {
		v, err := fhir.Parse(f.Data)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		rt := v.ResourceType()
		switch rt {
		case "StructureDefinition", "ValueSet", "CodeSystem", "SearchParameter", "ConceptMap", "OperationDefinition",
			"CompartmentDefinition", "ImplementationGuide", "CapabilityStatement", "NamingSystem":
			// Conformance resources: thousands of them, and no search
			// parameter is more interesting on them than on clinical data.
			if len(byType[rt]) >= 3 {
				continue
			}
		}
		byType[rt] = append(byType[rt], len(resources))
		resources = append(resources, json.RawMessage(f.Data))
		trees = append(trees, v)
	}

	var cases []oracleCase
	for _, sp := range s.SearchParams {
		if sp.Expression == "" || sp.Type == "composite" {
			continue
		}
		if _, ok := oracleExclusions[sp.Expression]; ok {
			continue
		}
		for _, base := range sp.Base {
			for _, r := range byType[base] {
				cases = append(cases, oracleCase{R: r, E: sp.Expression})
			}
		}
	}
	general := []string{
		"Patient.name.given", "Patient.name.where(use = 'official').family", "Patient.name.given.first()",
		"Patient.telecom.where(system = 'phone').value", "Patient.birthDate", "Patient.active.not()",
		"Patient.name.given.count()", "Patient.identifier.where(system.exists()).value.distinct()",
		"Patient.name.select(given.first() + ' ' + family)", "Patient.contact.relationship.coding.code",
		"Patient.address.line.join(', ')", "Patient.name.family.upper()", "Patient.gender = 'male'",
		"Observation.value.ofType(Quantity).value", "Observation.value.ofType(Quantity).value * 2",
		"Observation.code.coding.where(system = 'http://loinc.org').code", "Observation.component.code.coding.code",
		"Observation.referenceRange.low.value", "Observation.status in ('final' | 'amended')",
		"Observation.category.coding.code.distinct().count()", "Observation.effective.ofType(dateTime)",
		"Observation.subject.reference.startsWith('Patient/')", "Observation.issued.exists()",
		"Observation.code.text.length()", "Observation.interpretation.coding.code.exists()",
		"descendants().ofType(Coding).code.distinct().count()", "children().count()",
		"Condition.code.coding.display", "Condition.onset.ofType(dateTime)", "Condition.clinicalStatus.coding.code",
		"MedicationRequest.dosageInstruction.timing.repeat.frequency", "MedicationRequest.medication.ofType(CodeableConcept).text",
		"Encounter.period.start", "Encounter.class.code", "Encounter.participant.individual.reference",
		"AllergyIntolerance.reaction.manifestation.coding.display", "Immunization.vaccineCode.coding.code",
		"id.length() > 2", "meta.lastUpdated", "text.status", "extension.url", "contained.id",
	}
	for _, e := range general {
		rt := e[:strings.IndexAny(e+".", ".(")]
		targets := byType[rt]
		if len(targets) == 0 {
			// Expressions without a type prefix run on everything of a few types.
			for _, typ := range []string{"Patient", "Observation", "Condition"} {
				targets = append(targets, byType[typ]...)
			}
		}
		for _, r := range targets {
			cases = append(cases, oracleCase{R: r, E: e})
		}
	}

	oracle := runOracle(t, resources, cases)
	cache := fhirpath.NewCache(0)
	compared, oracleErrs, mismatches := 0, 0, 0
	oracleErrKinds := map[string]int{}
	for i, c := range cases {
		o := oracle[i]
		if o.Err != "" {
			oracleErrs++
			oracleErrKinds[firstWords(o.Err)]++
			continue
		}
		e, err := cache.Compile(c.E)
		if err != nil {
			t.Errorf("%s: does not compile: %v", c.E, err)
			continue
		}
		root := fhirpath.ResourceNode(s, &trees[c.R])
		got, err := e.Evaluate(&fhirpath.Env{Spec: s}, fhirpath.Collection{root})
		if err != nil {
			mismatches++
			if mismatches <= 40 {
				t.Errorf("%s on %s/%s: we fail (%v), the reference implementation answers %v", c.E,
					trees[c.R].ResourceType(), trees[c.R].Str("id"), err, o.V)
			}
			continue
		}
		ours := make([]any, 0, len(got))
		comparable := true
		for _, it := range got {
			j, ok := ourJSON(it)
			if !ok {
				comparable = false
				break
			}
			ours = append(ours, j)
		}
		if !comparable {
			continue
		}
		theirs := normalize(o.V)
		if theirs == nil {
			theirs = []any{}
		}
		compared++
		if !reflect.DeepEqual(any(ours), theirs) {
			mismatches++
			if mismatches <= 40 {
				t.Errorf("%s on %s/%s:\n  ours:      %s\n  reference: %s", c.E, trees[c.R].ResourceType(), trees[c.R].Str("id"),
					short(ours), short(theirs))
			}
		}
	}
	kinds := make([]string, 0, len(oracleErrKinds))
	for k, n := range oracleErrKinds {
		kinds = append(kinds, fmt.Sprintf("%q×%d", k, n))
	}
	sort.Strings(kinds)
	t.Logf("%d cases: %d compared, %d mismatches, %d the reference implementation cannot evaluate (%s)",
		len(cases), compared, mismatches, oracleErrs, strings.Join(kinds, ", "))
	if compared < len(cases)/2 {
		t.Errorf("only %d of %d cases were comparable", compared, len(cases))
	}
}

func firstWords(s string) string {
	f := strings.Fields(s)
	if len(f) > 6 {
		f = f[:6]
	}
	return strings.Join(f, " ")
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
