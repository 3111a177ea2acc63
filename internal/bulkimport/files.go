package bulkimport

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
)

// ImportPaths imports files and the files found in directories (recursively,
// those named *.ndjson, *.jsonl or *.json, optionally with .gz or .bz2), in
// the order given, each directory's files sorted by name (Synthea names its
// shared Bundles so that they sort first). It returns an error only when it
// cannot go on (ctx done, a path that does not exist); failures of
// resources, entries and files are reported and counted.
func (im *Importer) ImportPaths(ctx context.Context, paths []string) (Summary, error) {
	var files []string
	var total int64
	for _, p := range paths {
		found, size, err := expand(p)
		if err != nil {
			return im.Summary(), err
		}
		files = append(files, found...)
		total += size
	}
	im.total.Add(total)
	pl := newPool(im.opts.Workers)
	defer pl.close()
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			pl.wait()
			return im.Summary(), err
		}
		im.importFile(ctx, pl, f)
	}
	pl.wait()
	return im.Summary(), ctx.Err()
}

// ImportReader imports one NDJSON stream or JSON file (not compressed)
// named name in reports.
func (im *Importer) ImportReader(ctx context.Context, name string, r io.Reader) (Summary, error) {
	pl := newPool(im.opts.Workers)
	defer pl.close()
	im.importStream(ctx, pl, name, &countingReader{r: r, n: &im.readBytes})
	pl.wait()
	return im.Summary(), ctx.Err()
}

// expand lists the importable files of a path and their total size.
func expand(path string) ([]string, int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	if !st.IsDir() {
		return []string{path}, st.Size(), nil
	}
	var files []string
	var total int64
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !importable(d.Name()) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files = append(files, p)
		total += info.Size()
		return nil
	})
	slices.Sort(files)
	return files, total, err
}

func importable(name string) bool {
	name = strings.TrimSuffix(strings.TrimSuffix(name, ".gz"), ".bz2")
	return strings.HasSuffix(name, ".ndjson") || strings.HasSuffix(name, ".jsonl") || strings.HasSuffix(name, ".json")
}

// countingReader counts the bytes read from the underlying file, for
// progress.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// importFile opens, decompresses and imports one file.
func (im *Importer) importFile(ctx context.Context, pl *pool, name string) {
	f, err := os.Open(name)
	if err != nil {
		im.fail(Failure{File: name, Entry: -1, Err: err})
		return
	}
	defer f.Close()
	raw := bufio.NewReaderSize(&countingReader{r: f, n: &im.readBytes}, 1<<20)
	var r io.Reader = raw
	magic, _ := raw.Peek(3)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		gz, err := gzip.NewReader(raw)
		if err != nil {
			im.fail(Failure{File: name, Entry: -1, Err: fmt.Errorf("gzip: %w", err)})
			return
		}
		defer gz.Close()
		r = gz
	case bytes.HasPrefix(magic, []byte("BZh")):
		r = bzip2.NewReader(raw)
	}
	im.mu.Lock()
	im.sum.Files++
	im.mu.Unlock()
	im.importStream(ctx, pl, name, r)
}

// importStream decides between NDJSON and a single JSON document by the
// name, then by the content: a stream whose first line is a whole resource
// is NDJSON.
func (im *Importer) importStream(ctx context.Context, pl *pool, name string, r io.Reader) {
	base := strings.TrimSuffix(strings.TrimSuffix(name, ".gz"), ".bz2")
	br := bufio.NewReaderSize(r, 1<<20)
	if strings.HasSuffix(base, ".ndjson") || strings.HasSuffix(base, ".jsonl") {
		im.ndjson(ctx, pl, name, br)
		return
	}
	data, err := io.ReadAll(io.LimitReader(br, int64(im.opts.MaxBytes)+1))
	if err != nil {
		im.fail(Failure{File: name, Entry: -1, Err: decompressErr(err)})
		return
	}
	if len(data) > im.opts.MaxBytes {
		im.fail(Failure{File: name, Entry: -1, Err: fmt.Errorf("larger than %d bytes; split it or use NDJSON", im.opts.MaxBytes)})
		return
	}
	if isNDJSON(data) {
		im.ndjson(ctx, pl, name, bufio.NewReader(bytes.NewReader(data)))
		return
	}
	im.document(ctx, pl, name, data)
}

// isNDJSON reports whether data holds more than one line that starts a JSON
// object, as NDJSON does and a pretty-printed document does not.
func isNDJSON(data []byte) bool {
	first, rest, ok := bytes.Cut(bytes.TrimSpace(data), []byte("\n"))
	if !ok {
		return false
	}
	first = bytes.TrimSpace(first)
	rest = bytes.TrimSpace(rest)
	return len(first) > 1 && first[0] == '{' && first[len(first)-1] == '}' && len(rest) > 0 && rest[0] == '{'
}

func decompressErr(err error) error {
	var se bzip2.StructuralError
	if errors.As(err, &se) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) {
		return fmt.Errorf("corrupt compressed data: %w", err)
	}
	return err
}
