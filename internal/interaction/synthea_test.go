package interaction

import (
	"compress/bzip2"
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
)

// syntheaEnv names a directory of Synthea bundles (*.json or *.json.bz2):
// the hospital and practitioner batches and one transaction per patient.
const syntheaEnv = "CONTINUUM_SYNTHEA_DIR"

// TestSynthea loads a Synthea population as REST clients do (issue 4, "done
// when"): the hospital and practitioner batch Bundles first (conditional
// creates), then one transaction per patient, whose references are urn:uuid
// and conditional (Organization?identifier=…). Every entry must succeed. It
// is W1 of benchmarks.md without HTTP; the rate is logged.
//
//	go test ./internal/interaction -run TestSynthea -v   (CONTINUUM_SYNTHEA_DIR overrides ../shared/data/synthea)
func TestSynthea(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dir := os.Getenv(syntheaEnv)
	if dir == "" {
		// ../shared/data (see its README) exists for every developer and
		// in CI.
		dir = filepath.Join("..", "..", "..", "shared", "data", "synthea")
		if _, err := os.Stat(dir); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("the Synthea bundles are required in CI: %v", err)
			}
			t.Skipf("no Synthea bundles (%v); set %s", err, syntheaEnv)
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no bundles in %s: %v", dir, err)
	}
	// Synthea names the shared bundles so that they sort first.
	sort.Slice(files, func(i, j int) bool {
		si, sj := strings.Contains(files[i], "Information"), strings.Contains(files[j], "Information")
		if si != sj {
			return si
		}
		return files[i] < files[j]
	})
	ctx := context.Background()
	sqltest.Each(t, func(t *testing.T, b sqltest.Backend) {
		s := newService(t, b)
		var resources, bytes, loaded int
		var readTime time.Duration
		start := time.Now()
		for i, f := range files {
			// PostgreSQL loads the shared bundles and every fourth patient:
			// the semantics are the same, and CI time is not free.
			if b.Name == "postgres" && i >= 2 && i%4 != 0 {
				continue
			}
			r0 := time.Now()
			data := readBundle(t, f)
			readTime += time.Since(r0)
			res, err := s.Bundle(ctx, BundleRequest{Org: "synthea", Body: data})
			if err != nil {
				oe := outcome.As(err)
				t.Fatalf("%s: %v, %d issues; the first: %v", filepath.Base(f), oe.Kind, len(oe.Issues), oe.Issues[:min(3, len(oe.Issues))])
			}
			for i, e := range res.Entries {
				if e.Err != nil {
					t.Fatalf("%s entry %d: %v", filepath.Base(f), i, e.Err)
				}
				if strings.HasPrefix(e.Status, "201") {
					resources++
				}
			}
			bytes += len(data)
			loaded++
		}
		elapsed := time.Since(start) - readTime
		var n int
		err := s.st.View(ctx, func(tx store.ReadTx) error {
			for cursor := ""; ; {
				p, err := tx.History(ctx, store.HistoryQuery{Count: store.MaxHistoryCount, Cursor: cursor})
				if err != nil {
					return err
				}
				n += len(p.Versions)
				if cursor = p.Next; cursor == "" {
					return nil
				}
			}
		})
		if err != nil || n != resources {
			t.Errorf("history holds %d versions, %d resources were created (%v)", n, resources, err)
		}
		t.Logf("%s: %d bundles, %d resources (%d MB of JSON) in %v: %.0f resources/s", b.Name, loaded, resources,
			bytes>>20, elapsed.Round(time.Millisecond), float64(resources)/elapsed.Seconds())
		if sized, ok := s.st.(interface {
			Size(context.Context) (int64, error)
		}); ok {
			if n, err := sized.Size(ctx); err == nil {
				t.Logf("%s: %d bytes on disk, %.0f bytes/resource (no search index yet; W11)", b.Name, n, float64(n)/float64(resources))
			}
		}
	})
}

func readBundle(t *testing.T, name string) []byte {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(name, ".bz2") {
		r = bzip2.NewReader(f)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
