package synth

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// Formats of the output.
const (
	FormatNDJSON  = "ndjson"  // one file per type, Bulk Data style
	FormatBundles = "bundles" // one transaction Bundle per patient
)

// DirSink writes a population into a directory, as NDJSON files per type
// (Patient.ndjson, Observation.ndjson, … as Bulk Data export names them,
// https://hl7.org/fhir/uv/bulkdata/STU2/export.html#file-format) or as
// transaction Bundles of PUT entries: directory.json, one file per patient
// (patient-00000-<id>.json, numbered in generation order) and groups.json.
// PUT with the generated ids makes loading idempotent.
type DirSink struct {
	dir     string
	format  string
	files   map[string]*os.File
	writers map[string]*bufio.Writer
	counts  map[string]int
	buf     []byte
}

// NewDirSink creates dir (which must not hold a previous population's
// files, so that nothing stale is mixed in) and returns a sink writing
// format into it.
func NewDirSink(dir, format string) (*DirSink, error) {
	if format != FormatNDJSON && format != FormatBundles {
		return nil, fmt.Errorf("synth: unknown format %q (ndjson or bundles)", format)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	if len(entries) > 0 {
		return nil, fmt.Errorf("synth: %s is not empty", dir)
	}
	return &DirSink{dir: dir, format: format, files: map[string]*os.File{}, writers: map[string]*bufio.Writer{}, counts: map[string]int{}}, nil
}

// Counts returns the number of resources written per type.
func (s *DirSink) Counts() map[string]int { return s.counts }

func (s *DirSink) Directory(rs []Resource) error { return s.write("directory.json", rs) }
func (s *DirSink) Groups(rs []Resource) error    { return s.write("groups.json", rs) }
func (s *DirSink) Patient(n int, rs []Resource) error {
	return s.write(fmt.Sprintf("patient-%05d-%s.json", n, rs[0].ID), rs)
}

func (s *DirSink) write(bundleName string, rs []Resource) error {
	for _, r := range rs {
		s.counts[r.Type]++
	}
	if s.format == FormatNDJSON {
		for _, r := range rs {
			w, err := s.writer(r.Type + ".ndjson")
			if err != nil {
				return err
			}
			w.Write(r.JSON)
			if err := w.WriteByte('\n'); err != nil {
				return err
			}
		}
		return nil
	}
	s.buf = AppendTransaction(s.buf[:0], rs)
	return os.WriteFile(filepath.Join(s.dir, bundleName), s.buf, 0o644)
}

// AppendTransaction appends a transaction Bundle of PUT entries for rs
// (https://hl7.org/fhir/R4/http.html#transaction).
func AppendTransaction(b []byte, rs []Resource) []byte {
	b = append(b, `{"resourceType":"Bundle","type":"transaction","entry":[`...)
	for i, r := range rs {
		if i > 0 {
			b = append(b, ",\n"...)
		}
		b = append(b, `{"fullUrl":`...)
		b = appendString(b, "urn:uuid:"+r.ID)
		b = append(b, `,"resource":`...)
		b = append(b, r.JSON...)
		b = append(b, `,"request":{"method":"PUT","url":`...)
		b = appendString(b, r.Type+"/"+r.ID)
		b = append(b, "}}"...)
	}
	return append(b, "]}\n"...)
}

func (s *DirSink) writer(name string) (*bufio.Writer, error) {
	if w, ok := s.writers[name]; ok {
		return w, nil
	}
	f, err := os.Create(filepath.Join(s.dir, name))
	if err != nil {
		return nil, err
	}
	s.files[name] = f
	w := bufio.NewWriterSize(f, 256<<10)
	s.writers[name] = w
	return w, nil
}

// Close flushes and closes the files.
func (s *DirSink) Close() error {
	var first error
	names := make([]string, 0, len(s.files))
	for n := range s.files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if err := s.writers[n].Flush(); err != nil && first == nil {
			first = err
		}
		if err := s.files[n].Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
