package synth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/validate"
)

// memSink keeps everything in memory.
type memSink struct {
	all      []Resource
	patients int
}

func (m *memSink) Directory(rs []Resource) error { m.all = append(m.all, rs...); return nil }
func (m *memSink) Groups(rs []Resource) error    { m.all = append(m.all, rs...); return nil }
func (m *memSink) Patient(n int, rs []Resource) error {
	if n != m.patients {
		panic("patients out of order")
	}
	m.patients++
	m.all = append(m.all, rs...)
	return nil
}

func generate(t testing.TB, opts Options) *memSink {
	t.Helper()
	m := &memSink{}
	if err := Generate(context.Background(), opts, m); err != nil {
		t.Fatal(err)
	}
	return m
}

func digest(rs []Resource) [32]byte {
	h := sha256.New()
	for _, r := range rs {
		h.Write(r.JSON)
		h.Write([]byte{'\n'})
	}
	return [32]byte(h.Sum(nil))
}

func TestDeterministic(t *testing.T) {
	a := generate(t, Options{Patients: 20, Seed: 7, Workers: 1})
	b := generate(t, Options{Patients: 20, Seed: 7, Workers: 3})
	if digest(a.all) != digest(b.all) {
		t.Fatal("the same options gave different output (1 worker against 3)")
	}
	c := generate(t, Options{Patients: 20, Seed: 8})
	if digest(a.all) == digest(c.all) {
		t.Fatal("seeds 7 and 8 gave the same output")
	}
	d := generate(t, Options{Patients: 20, Seed: 7, ReferenceDate: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)})
	if digest(a.all) == digest(d.all) {
		t.Fatal("a different reference date gave the same output")
	}
	// Patient n does not depend on how many are generated.
	e := generate(t, Options{Patients: 5, Seed: 7})
	var first5 []Resource
	n := 0
	for _, r := range a.all {
		if r.Type == "Patient" {
			n++
		}
		if n > 5 {
			break
		}
		first5 = append(first5, r)
	}
	if digest(first5) != digest(e.all[:len(e.all)-len(e.all[len(e.all)-DefaultOrgs:])]) {
		t.Error("the first 5 patients differ between a 5- and a 20-patient population")
	}
}

var idForm = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
var refRE = regexp.MustCompile(`"reference":"([A-Za-z]+)/([^"]+)"`)

// TestValid validates every resource of a population, invariants included,
// and resolves every reference within it.
func TestValid(t *testing.T) {
	// 60 patients are ~60,000 resources with every kind of visit: seconds
	// of validation. CONTINUUM_SYNTH_VALIDATE=N validates N patients (a few
	// hundred pass: 300 were checked when this was written).
	n := 60
	if testing.Short() {
		n = 20
	}
	if s := os.Getenv("CONTINUUM_SYNTH_VALIDATE"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatalf("CONTINUUM_SYNTH_VALIDATE=%q: %v", s, err)
		}
	}
	m := generate(t, Options{Patients: n, Seed: 1, Orgs: 6})
	v := validate.New(spec.R4(), validate.Options{})
	ids := map[string]bool{}
	for _, r := range m.all {
		if !idForm.MatchString(r.ID) {
			t.Fatalf("%s id %q is not a random-looking UUID", r.Type, r.ID)
		}
		key := r.Type + "/" + r.ID
		if ids[key] {
			t.Fatalf("%s appears twice", key)
		}
		ids[key] = true
	}
	issues := make([][]outcome.Issue, len(m.all))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(m.all); i += workers {
				issues[i] = v.Validate(m.all[i].JSON)
			}
		})
	}
	wg.Wait()
	warnings := map[string]int{}
	errs := 0
	for i, r := range m.all {
		for _, is := range issues[i] {
			if is.Severity == outcome.SevError || is.Severity == outcome.SevFatal {
				errs++
				if errs <= 10 {
					t.Errorf("%s/%s: %s at %v: %s", r.Type, r.ID, is.Code, is.Expression, is.Diagnostics)
				}
				continue
			}
			warnings[is.Diagnostics]++
		}
		for _, sm := range refRE.FindAllSubmatch(r.JSON, -1) {
			if !ids[string(sm[1])+"/"+string(sm[2])] {
				t.Fatalf("%s/%s refers to %s/%s, which is not in the output", r.Type, r.ID, sm[1], sm[2])
			}
		}
	}
	if errs > 0 {
		t.Fatalf("%d errors", errs)
	}
	// Narrative (dom-6) is the one warning: generating it for every
	// resource would double the output for no reader.
	for w, n := range warnings {
		if !strings.HasPrefix(w, "dom-6:") {
			t.Errorf("warning ×%d: %s", n, w)
		}
	}
}

// TestMix checks the proportions of a population against Synthea's: about
// 1,000 resources a patient on average, Observations 55–60 %.
func TestMix(t *testing.T) {
	m := generate(t, Options{Patients: 150, Seed: 3})
	counts := map[string]int{}
	for _, r := range m.all {
		counts[r.Type]++
	}
	total := len(m.all)
	var types []string
	for typ := range counts {
		types = append(types, typ)
	}
	sort.Slice(types, func(i, j int) bool { return counts[types[i]] > counts[types[j]] })
	for _, typ := range types {
		t.Logf("%-20s %7d %5.1f%%", typ, counts[typ], 100*float64(counts[typ])/float64(total))
	}
	per := float64(total) / 150
	t.Logf("%d resources, %.0f per patient", total, per)
	if obs := float64(counts["Observation"]) / float64(total); obs < 0.55 || obs > 0.60 {
		t.Errorf("Observations are %.1f%% of the resources, want 55–60%%", 100*obs)
	}
	if per < 700 || per > 1300 {
		t.Errorf("%.0f resources per patient, want about 1,000", per)
	}
	for _, typ := range []string{"Patient", "Organization", "Practitioner", "PractitionerRole", "Location", "Encounter",
		"Condition", "Observation", "DiagnosticReport", "MedicationRequest", "MedicationStatement", "AllergyIntolerance",
		"Immunization", "Procedure", "CarePlan", "Goal", "DocumentReference", "ServiceRequest", "Group"} {
		if counts[typ] == 0 {
			t.Errorf("no %s", typ)
		}
	}
}

func TestNoteText(t *testing.T) {
	m := generate(t, Options{Patients: 3, Seed: 5})
	for _, r := range m.all {
		if r.Type == "DocumentReference" && bytes.Contains(r.JSON, []byte(`"data":"`)) {
			return
		}
	}
	t.Fatal("no DocumentReference with an attachment")
}

func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	total := 0
	for b.Loop() {
		m := &countSink{}
		if err := Generate(context.Background(), Options{Patients: 20, Seed: 1}, m); err != nil {
			b.Fatal(err)
		}
		total += m.n
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "resources/s")
}

type countSink struct{ n int }

func (c *countSink) Directory(rs []Resource) error      { c.n += len(rs); return nil }
func (c *countSink) Groups(rs []Resource) error         { c.n += len(rs); return nil }
func (c *countSink) Patient(_ int, rs []Resource) error { c.n += len(rs); return nil }
