package deptest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readPackageSources returns the non-test Go files of dir by name.
func readPackageSources(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

// TestPackageDocs checks that every package under internal/ and cmd/ has a
// package comment in the Go form: "Package name …", or "Command name …" for
// a main package (style.md §13, like Tailscale's pkgdoc_test.go).
func TestPackageDocs(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, top := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(dir string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				return nil
			}
			if name := d.Name(); name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			srcs := readPackageSources(t, dir)
			if len(srcs) == 0 {
				return nil
			}
			rel, _ := filepath.Rel(root, dir)
			var pkgName string
			var docs []string
			fset := token.NewFileSet()
			for name, src := range srcs {
				f, err := parser.ParseFile(fset, name, src, parser.PackageClauseOnly|parser.ParseComments)
				if err != nil {
					t.Errorf("%s/%s: %v", rel, name, err)
					continue
				}
				pkgName = f.Name.Name
				if f.Doc != nil {
					docs = append(docs, f.Doc.Text())
				}
			}
			want := "Package " + pkgName + " "
			if pkgName == "main" {
				want = "Command " + filepath.Base(dir) + " "
			}
			switch {
			case len(docs) == 0:
				t.Errorf("%s: no package comment; add one starting %q (in doc.go or the main file)", rel, want)
			case len(docs) > 1:
				t.Errorf("%s: %d package comments; keep one", rel, len(docs))
			case !strings.HasPrefix(docs[0], want):
				t.Errorf("%s: package comment starts %q, want %q", rel, firstLine(docs[0]), want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
