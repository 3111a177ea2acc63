package deptest

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/continuum-ehr/continuum"

// layers classifies every package by path prefix (the longest prefix wins),
// following architecture.md §2. A new package must be added here: the test
// fails for a package it cannot place.
var layers = map[string]int{
	// L0 vocabulary
	"internal/outcome":    0,
	"internal/fhir":       0, // fhir, fhir/spec, fhir/fhirpath
	"internal/hl7v2":      0,
	"internal/config":     0,
	"internal/reqid":      0,
	"internal/r4examples": 0, // finds the official examples for specgen and tests
	// L1 domain
	"internal/validate": 1,
	"internal/search":   1,
	"internal/index":    1,
	"internal/auth":     1,
	"internal/synth":    1, // pure generation of synthetic populations
	// L2 storage
	"internal/store": 2,
	// L3 services
	"internal/interaction": 3,
	"internal/audit":       3,
	"internal/jobs":        3,
	// L4 features
	"internal/operation":     4,
	"internal/bulkimport":    4, // continuum import and the demo data
	"internal/bulkexport":    4,
	"internal/subscriptions": 4,
	"internal/hl7feed":       4,
	"internal/oauth":         4,
	// L5 transports
	"internal/rest":    5,
	"internal/ui":      5,
	"internal/mllp":    5,
	"internal/authweb": 5, // the authorization server's HTTP: discovery, sign-in and consent pages, token endpoint
	// L6 assembly
	"internal/server": 6,
	"internal/app":    6,
	// commands
	"cmd": 7,
	// tests only
	"internal/deptest": 7,
}

const transports = 5

// htmlPackages render HTML pages (and so may import html/template); the
// rest of the module, transports included, speaks JSON.
var htmlPackages = []string{"internal/ui", "internal/authweb", "internal/app", "cmd"}

// l0External is what L0 may import besides the standard library: the JSON
// and decimal libraries of dependencies.md.
var l0External = []string{"github.com/go-json-experiment/json", "github.com/cockroachdb/apd/v3"}

// sqlImports may be imported only under internal/store/sqlstore.
var sqlImports = []string{"database/sql", "modernc.org/sqlite", "github.com/jackc/pgx", "github.com/mattn/go-sqlite3", "github.com/ncruces/go-sqlite3"}

type pkg struct {
	ImportPath string
	Standard   bool
	Imports    []string
	Deps       []string
}

func (p pkg) rel() string { return strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/") }

func layerOf(rel string) (int, bool) {
	best, layer := "", 0
	for prefix, l := range layers {
		if (rel == prefix || strings.HasPrefix(rel, prefix+"/")) && len(prefix) > len(best) {
			best, layer = prefix, l
		}
	}
	return layer, best != ""
}

// listPackages runs `go list -deps -json ./...` at the module root and
// returns the module's own packages.
func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json", "./...")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if p.ImportPath == module || strings.HasPrefix(p.ImportPath, module+"/") {
			pkgs = append(pkgs, p)
		}
	}
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages of the module", len(pkgs))
	}
	return pkgs
}

func hasPrefixIn(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

func TestLayers(t *testing.T) {
	for _, p := range listPackages(t) {
		rel := p.rel()
		layer, ok := layerOf(rel)
		if !ok {
			t.Errorf("%s: not in the layer table of deps_test.go; add it (architecture.md §2)", rel)
			continue
		}
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module+"/") {
				irel := strings.TrimPrefix(imp, module+"/")
				il, ok := layerOf(irel)
				switch {
				case irel == "internal/app" && !strings.HasPrefix(rel, "cmd/"):
					t.Errorf("%s imports internal/app: only cmd/* may (rule 1)", rel)
				case ok && il > layer:
					t.Errorf("%s (L%d) imports %s (L%d): lower layers never import higher ones", rel, layer, irel, il)
				}
			}
			if layer < transports && imp == "net/http" && rel != "internal/outcome" {
				t.Errorf("%s (L%d) imports net/http: only transports and assembly may (rule 2)", rel, layer)
			}
			if hasPrefixIn(imp, sqlImports) && !strings.HasPrefix(rel, "internal/store/sqlstore") {
				t.Errorf("%s imports %s: only internal/store/sqlstore may (rule 3)", rel, imp)
			}
			if (strings.HasPrefix(rel, "internal/ui") || strings.HasPrefix(rel, "internal/hl7feed")) &&
				hasPrefixIn(imp, []string{module + "/internal/store"}) {
				t.Errorf("%s imports %s: it must go through interaction (rule 4)", rel, imp)
			}
			if layer == 0 && !strings.HasPrefix(imp, module+"/") && strings.Contains(strings.Split(imp, "/")[0], ".") &&
				!hasPrefixIn(imp, l0External) {
				t.Errorf("%s (L0) imports %s: L0 uses the standard library and %v only", rel, imp, l0External)
			}
		}
		// Pages are rendered by the transports that serve people: the UI,
		// and authweb, whose sign-in, consent and patient-picker pages
		// must exist before any UI session can (they are how one starts).
		if slices.Contains(p.Deps, "html/template") && !hasPrefixIn(rel, htmlPackages) {
			t.Errorf("%s (L%d) depends on html/template: only %v may (rule 2)", rel, layer, htmlPackages)
		}
	}
}

// narrowImports lists, for packages whose allowed imports are narrower
// than their layer's, the module packages they may import (by prefix).
// auth is L1 but decides policy from definitions and search grammar only;
// audit is L3 and, besides the storage it will use, builds events from the
// FHIR tree and reports with outcome.
var narrowImports = map[string][]string{
	"internal/auth":  {"internal/fhir", "internal/search", "internal/outcome"},
	"internal/audit": {"internal/fhir", "internal/outcome", "internal/store"},
}

// pureForbidden are standard-library packages that do I/O or keep process
// state; pure packages (auth: every rule decided from its inputs alone) must
// not import them.
var pureForbidden = []string{"os", "os/exec", "net", "net/http", "io/fs", "io/ioutil", "log", "log/slog",
	"database/sql", "syscall", "crypto/rand", "math/rand", "math/rand/v2", "time"}

var purePackages = []string{"internal/auth"}

func TestNarrowImports(t *testing.T) {
	for _, p := range listPackages(t) {
		rel := p.rel()
		allowed, narrow := narrowImports[rel]
		pure := slices.Contains(purePackages, rel)
		for _, imp := range p.Imports {
			if irel, ok := strings.CutPrefix(imp, module+"/"); ok {
				if narrow && !hasPrefixIn(irel, allowed) {
					t.Errorf("%s imports %s: it may import only %v of the module", rel, irel, allowed)
				}
				continue
			}
			if pure && slices.Contains(pureForbidden, imp) {
				t.Errorf("%s imports %s: it is pure (no I/O, no clock, no randomness)", rel, imp)
			}
		}
	}
}

// TestOutcomeUsesHTTPForStatusOnly keeps internal/outcome's net/http import
// to status constants, the one exception below the transports.
func TestOutcomeUsesHTTPForStatusOnly(t *testing.T) {
	fset := token.NewFileSet()
	for name, src := range readPackageSources(t, filepath.Join("..", "outcome")) {
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "http" && !strings.HasPrefix(sel.Sel.Name, "Status") {
					t.Errorf("%s: uses http.%s; outcome may use net/http status constants only", fset.Position(sel.Pos()), sel.Sel.Name)
				}
			}
			return true
		})
	}
}
