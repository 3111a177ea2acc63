// Package r4examples finds the official FHIR R4 definitions and examples, the
// npm package hl7.fhir.r4.examples@4.0.1 (CC0), for the spec generator and for
// tests that check Continuum against material nobody on the team wrote.
//
// The package is not committed. Open looks, in order, at the path in
// CONTINUUM_R4_EXAMPLES (a .tgz or an unpacked directory), at the user cache
// (…/continuum/hl7.fhir.r4.examples-4.0.1.tgz), and otherwise runs
// `npm pack` into that cache.
package r4examples

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Package names the npm package and version.
const Package = "hl7.fhir.r4.examples@4.0.1"

const tgzName = "hl7.fhir.r4.examples-4.0.1.tgz"

// EnvVar overrides where the package is read from.
const EnvVar = "CONTINUUM_R4_EXAMPLES"

// File is one JSON file of the package.
type File struct {
	Name string // base name, e.g. Patient-example.json
	Data []byte
}

// Locate returns the path of the package (a .tgz or a directory), fetching it
// with npm into the user cache when it is not there yet.
func Locate() (string, error) {
	if p := os.Getenv(EnvVar); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvVar, p, err)
		}
		return p, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "continuum")
	tgz := filepath.Join(dir, tgzName)
	if _, err := os.Stat(tgz); err == nil {
		return tgz, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	cmd := exec.Command("npm", "pack", Package, "--silent", "--pack-destination", dir)
	cmd.Stderr = os.Stderr
	if out, err := cmd.Output(); err != nil {
		return "", fmt.Errorf("npm pack %s: %w (output %q); set %s to a local copy", Package, err, out, EnvVar)
	}
	if _, err := os.Stat(tgz); err != nil {
		return "", fmt.Errorf("npm pack %s did not produce %s: %w", Package, tgz, err)
	}
	return tgz, nil
}

// ReadAll returns every .json file of the package, sorted by name.
func ReadAll() ([]File, error) {
	p, err := Locate()
	if err != nil {
		return nil, err
	}
	return Read(p)
}

// Read returns every .json file of the package at p (a .tgz or a directory),
// sorted by name. package.json and .index.json are npm metadata, not FHIR,
// and are left out.
func Read(p string) ([]File, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	var files []File
	keep := func(name string) bool {
		base := path.Base(name)
		return strings.HasSuffix(base, ".json") && base != "package.json" && !strings.HasPrefix(base, ".")
	}
	if st.IsDir() {
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.IsDir() || !keep(e.Name()) {
				continue
			}
			b, err := os.ReadFile(filepath.Join(p, e.Name()))
			if err != nil {
				return nil, err
			}
			files = append(files, File{Name: e.Name(), Data: b})
		}
	} else {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		tr := tar.NewReader(gz)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			if h.Typeflag != tar.TypeReg || !keep(h.Name) {
				continue
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				return nil, err
			}
			files = append(files, File{Name: path.Base(h.Name), Data: b})
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no JSON files", p)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return files, nil
}
