package bulkimport

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	crand "crypto/rand"
	"github.com/continuum-ehr/continuum/internal/audit"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/store"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
	"github.com/continuum-ehr/continuum/internal/synth"
	"github.com/continuum-ehr/continuum/internal/validate"
)

// harness is a store with an importer factory that collects failures.
type harness struct {
	st   store.Store
	svc  *interaction.Service
	mu   sync.Mutex
	errs []string
}

func newHarness(t *testing.T, b sqltest.Backend) *harness {
	st := b.Open(t)
	return &harness{st: st, svc: interaction.New(interaction.Options{Store: st, Validator: validate.New(spec.R4(), validate.Options{}), Spec: spec.R4(), Audit: testTrail(t, st)})}
}

func (h *harness) run(t *testing.T, paths ...string) Summary {
	t.Helper()
	h.mu.Lock()
	h.errs = nil
	h.mu.Unlock()
	im := New(Options{Service: h.svc, Org: "org-1", ChunkSize: 100, Report: func(f Failure) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.errs = append(h.errs, f.Error())
	}})
	sum, err := im.ImportPaths(auth.NewContext(context.Background(), auth.NewSystem()), paths)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// versions counts every stored version by type.
func (h *harness) versions(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	ctx := context.Background()
	err := h.st.View(ctx, func(tx store.ReadTx) error {
		for cursor := ""; ; {
			p, err := tx.History(ctx, store.HistoryQuery{Count: store.MaxHistoryCount, Cursor: cursor})
			if err != nil {
				return err
			}
			for _, v := range p.Versions {
				if v.Type == "Provenance" && !strings.HasPrefix(v.ID, "import-") {
					// interaction's author Provenance of each write
					// transaction, not the import's ledger.
					out["Provenance (author)"]++
					continue
				}
				out[v.Type]++
			}
			if cursor = p.Next; cursor == "" {
				return nil
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func total(m map[string]int) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}

// writeSynth writes a small synthetic population in format into a new
// directory.
func writeSynth(t *testing.T, patients int, format string) (string, map[string]int) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), format)
	sink, err := synth.NewDirSink(dir, format)
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.Generate(context.Background(), synth.Options{Patients: patients, Seed: 11}, sink); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, sink.Counts()
}

// TestSynthNDJSON imports synthetic NDJSON (one file gzipped), then again:
// the second run writes nothing.
func TestSynthNDJSON(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, b sqltest.Backend) {
		dir, counts := writeSynth(t, 2, synth.FormatNDJSON)
		gzipFile(t, filepath.Join(dir, "Observation.ndjson"))
		h := newHarness(t, b)
		sum := h.run(t, dir)
		if len(h.errs) > 0 || sum.Failed > 0 {
			t.Fatalf("failures: %v", h.errs[:min(5, len(h.errs))])
		}
		if sum.Created != total(counts) || sum.Files != len(counts) {
			t.Errorf("created %d resources from %d files, want %d from %d", sum.Created, sum.Files, total(counts), len(counts))
		}
		got := h.versions(t)
		authors := got["Provenance (author)"]
		if authors == 0 {
			t.Error("the import's writes recorded no author Provenance")
		}
		delete(got, "Provenance (author)")
		if !mapsEqual(got, counts) {
			t.Errorf("stored %v, generated %v", got, counts)
		}
		again := h.run(t, dir)
		if again.Unchanged != total(counts) || again.Created+again.Updated+again.Failed > 0 {
			t.Errorf("second run: %+v", again)
		}
		v := h.versions(t)
		if v["Provenance (author)"] != authors {
			t.Errorf("the second run recorded %d more author Provenance", v["Provenance (author)"]-authors)
		}
		delete(v, "Provenance (author)")
		if !mapsEqual(v, counts) {
			t.Errorf("after the second run: %d versions, want %d", total(v), total(counts))
		}
	})
}

// TestSynthBundles imports synthetic transaction Bundles of PUT entries;
// the second run skips every file.
func TestSynthBundles(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, b sqltest.Backend) {
		dir, counts := writeSynth(t, 2, synth.FormatBundles)
		h := newHarness(t, b)
		sum := h.run(t, dir)
		if len(h.errs) > 0 {
			t.Fatalf("failures: %v", h.errs)
		}
		got := h.versions(t)
		authors := got["Provenance (author)"]
		delete(got, "Provenance (author)")
		files := 2 + 2 // patients, directory, groups
		if got["Provenance"] != files {
			t.Errorf("%d Provenance records, want one per file (%d)", got["Provenance"], files)
		}
		delete(got, "Provenance")
		if !mapsEqual(got, counts) || sum.Created != total(counts) {
			t.Errorf("stored %v (%d created), generated %v", got, sum.Created, counts)
		}
		again := h.run(t, dir)
		if again.SkippedFiles != files || again.Resources() != 0 {
			t.Errorf("second run: %+v", again)
		}
		if n := total(h.versions(t)); n != total(counts)+files+authors {
			t.Errorf("after the second run: %d versions, want %d", n, total(counts)+files)
		}
	})
}

// TestBadLines reports each bad line with its file and line and imports
// the good ones, from plain, gzip and bzip2 files.
func TestBadLines(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, b sqltest.Backend) {
		dir := t.TempDir()
		plain := filepath.Join(dir, "plain.ndjson")
		lines := []string{
			`{"resourceType":"Patient","id":"p-1","name":[{"family":"Good"}]}`,
			`{"resourceType":"Patient","id":"p-2",`, // truncated
			``,
			`{"resourceType":"Observation","id":"o-1","status":"final"}`, // code and more are required
			`{"resourceType":"Patient","name":[{"family":"NoId"}]}`,      // gets an id from its content
			`{"resourceType":"Nonsense","id":"x"}`,
			`{"resourceType":"Patient","id":"p-3","name":[{"family":"Good"}]}`,
		}
		if err := os.WriteFile(plain, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		gz := filepath.Join(dir, "g.ndjson")
		if err := os.WriteFile(gz, []byte(lines[0][:len(lines[0])-1]+`,"gender":"x"}`+"\n"+strings.ReplaceAll(lines[6], "p-3", "g-1")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		gzipFile(t, gz)
		h := newHarness(t, b)
		sum := h.run(t, plain, gz+".gz", filepath.Join("testdata", "mixed-bz2.ndjson.bz2"))
		slices.Sort(h.errs)
		want := []string{plain + ":2:", plain + ":4:", plain + ":6:", gz + ".gz:1:", filepath.Join("testdata", "mixed-bz2.ndjson.bz2") + ":2:"}
		slices.Sort(want)
		if len(h.errs) != len(want) {
			t.Fatalf("failures:\n%s\nwant at %v", strings.Join(h.errs, "\n"), want)
		}
		for i, w := range want {
			if !strings.HasPrefix(h.errs[i], w) {
				t.Errorf("failure %q, want it at %s", h.errs[i], w)
			}
		}
		if !strings.Contains(strings.Join(h.errs, "\n"), "Observation.code") {
			t.Errorf("the missing code is not located: %v", h.errs)
		}
		if sum.Created != 6 || sum.Failed != 5 {
			t.Errorf("summary %+v, want 6 created and 5 failed", sum)
		}
		for _, id := range []string{"p-1", "p-3", "g-1", "bz-1", "bz-3"} {
			if _, err := h.st.Read(context.Background(), "Patient", id); err != nil {
				t.Errorf("Patient/%s: %v", id, err)
			}
		}
	})
}

// TestSynthea imports part of the Synthea set: the shared batch Bundles
// (conditional creates) and a few patients' transaction Bundles (POST with
// urn:uuid and conditional references), bzip2'd; a second run skips them.
func TestSynthea(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "data", "synthea")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json.bz2"))
	if len(files) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the Synthea bundles (../shared/data/synthea) are required in CI")
		}
		t.Skipf("no Synthea bundles in ../shared/data/synthea")
	}
	// The two shared batches (named to sort first) and the two smallest
	// patients: the semantics of the whole set at a fraction of the time.
	slices.Sort(files)
	patients := slices.Clone(files[2:])
	size := func(f string) int64 {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	slices.SortFunc(patients, func(a, b string) int { return int(size(a) - size(b)) })
	subset := append(files[:2:2], patients[:2]...)
	sqltest.Each(t, func(t *testing.T, b sqltest.Backend) {
		h := newHarness(t, b)
		sum := h.run(t, subset...)
		if len(h.errs) > 0 {
			t.Fatalf("failures: %v", h.errs)
		}
		if sum.Created < 200 || sum.Files != len(subset) {
			t.Errorf("summary %+v", sum)
		}
		v := h.versions(t)
		if v["Provenance"] < len(subset) || v["Patient"] != 2 {
			t.Errorf("stored %v", v)
		}
		again := h.run(t, subset...)
		if again.SkippedFiles != len(subset) || again.Resources() != 0 || len(h.errs) > 0 {
			t.Errorf("second run: %+v, %v", again, h.errs)
		}
		if n := total(h.versions(t)); n != total(v) {
			t.Errorf("the second run wrote %d versions", n-total(v))
		}
	})
}

func gzipFile(t *testing.T, name string) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name+".gz", buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// BenchmarkImportNDJSON measures NDJSON import of a synthetic population on
// SQLite, in resources/s.
func BenchmarkImportNDJSON(b *testing.B) {
	dir := b.TempDir()
	sink, err := synth.NewDirSink(filepath.Join(dir, "in"), synth.FormatNDJSON)
	if err != nil {
		b.Fatal(err)
	}
	if err := synth.Generate(context.Background(), synth.Options{Patients: 10, Seed: 1}, sink); err != nil {
		b.Fatal(err)
	}
	sink.Close()
	n := 0
	for b.Loop() {
		b.StopTimer()
		st := sqltest.Backends()[0].Open(b)
		svc := interaction.New(interaction.Options{Store: st, Validator: validate.New(spec.R4(), validate.Options{}), Spec: spec.R4(), Audit: testTrail(b, st)})
		im := New(Options{Service: svc, Org: "o"})
		b.StartTimer()
		sum, err := im.ImportPaths(auth.NewContext(context.Background(), auth.NewSystem()), []string{filepath.Join(dir, "in")})
		if err != nil || sum.Failed > 0 {
			b.Fatal(err, sum)
		}
		n += sum.Resources()
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "resources/s")
}

// testTrail is an audit trail over st with a throwaway key.
func testTrail(t testing.TB, st store.Store) *audit.Trail {
	t.Helper()
	_, key, err := ed25519.GenerateKey(crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := audit.NewTrail(audit.TrailOptions{Store: st, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}
