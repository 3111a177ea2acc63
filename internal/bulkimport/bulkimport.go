package bulkimport

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/outcome"
)

// Options configure an Importer.
type Options struct {
	Service *interaction.Service // required
	Org     string               // the organization that owns the imported clinical data; required
	// Workers validate and write chunks in parallel; 0 means twice
	// GOMAXPROCS, so that validation goes on while chunks wait for the
	// store's single writer.
	Workers int
	// ChunkSize is the number of NDJSON resources per store transaction;
	// 0 means DefaultChunkSize.
	ChunkSize int
	// MaxBytes bounds one NDJSON line or one Bundle file; 0 means 64 MiB.
	MaxBytes int
	// Report, when not nil, is called for every failure, one call at a
	// time.
	Report func(Failure)
	// Now is the clock for Provenance.recorded; nil means time.Now.
	Now func() time.Time
}

// DefaultChunkSize is the number of NDJSON resources written per store
// transaction: large enough to amortize the commit, small enough to keep a
// transaction short.
const DefaultChunkSize = 500

// Failure is a resource, Bundle or file that could not be imported.
type Failure struct {
	File  string
	Line  int // NDJSON line, from 1; 0 when not a line
	Entry int // Bundle entry index, -1 when not an entry
	Err   error
}

func (f Failure) Error() string {
	switch {
	case f.Line > 0:
		return fmt.Sprintf("%s:%d: %v", f.File, f.Line, f.Err)
	case f.Entry >= 0:
		return fmt.Sprintf("%s: entry %d: %v", f.File, f.Entry, f.Err)
	}
	return fmt.Sprintf("%s: %v", f.File, f.Err)
}

// Summary counts what an import did.
type Summary struct {
	Files        int // files read
	SkippedFiles int // Bundles imported before (their Provenance exists)
	Created      int
	Updated      int
	Unchanged    int
	Failed       int // resources, entries or files that failed
	Bytes        int64
	Elapsed      time.Duration
}

// Resources is the number of resources imported (created, updated or found
// unchanged).
func (s Summary) Resources() int { return s.Created + s.Updated + s.Unchanged }

// Importer imports files. Its methods may be called from one goroutine at a
// time; Progress may be called concurrently.
type Importer struct {
	opts Options
	mu   sync.Mutex // guards sum and serializes Report
	sum  Summary

	done      atomic.Int64 // resources processed (any status)
	readBytes atomic.Int64 // input bytes consumed (compressed)
	total     atomic.Int64 // input bytes to consume, when known
	start     time.Time
}

// New returns an Importer.
func New(opts Options) *Importer {
	if opts.Workers <= 0 {
		opts.Workers = 2 * runtime.GOMAXPROCS(0)
	}
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = DefaultChunkSize
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 64 << 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Importer{opts: opts, start: time.Now()}
}

// Progress is a snapshot of a running import.
type Progress struct {
	Resources  int64 // processed so far
	Bytes      int64 // input bytes consumed
	TotalBytes int64 // input bytes in all, 0 when unknown
	Elapsed    time.Duration
}

// Progress returns a snapshot; safe to call from any goroutine.
func (im *Importer) Progress() Progress {
	return Progress{Resources: im.done.Load(), Bytes: im.readBytes.Load(), TotalBytes: im.total.Load(), Elapsed: time.Since(im.start)}
}

// Summary returns the counts so far.
func (im *Importer) Summary() Summary {
	im.mu.Lock()
	defer im.mu.Unlock()
	s := im.sum
	s.Bytes = im.readBytes.Load()
	s.Elapsed = time.Since(im.start)
	return s
}

func (im *Importer) fail(f Failure) {
	im.mu.Lock()
	defer im.mu.Unlock()
	im.sum.Failed++
	im.done.Add(1)
	if im.opts.Report != nil {
		im.opts.Report(f)
	}
}

func (im *Importer) count(st interaction.ImportStatus) {
	im.mu.Lock()
	defer im.mu.Unlock()
	im.countLocked(st)
}

func (im *Importer) countLocked(st interaction.ImportStatus) {
	switch st {
	case interaction.ImportCreated:
		im.sum.Created++
	case interaction.ImportUpdated:
		im.sum.Updated++
	case interaction.ImportUnchanged:
		im.sum.Unchanged++
	}
	im.done.Add(1)
}

// contentID derives the id of a resource without one from its content (the
// JSON, resourceType included): the same content gets the same id on every
// load. 160 bits of SHA-256 make accidental collisions impossible in
// practice.
func contentID(body []byte) string {
	sum := sha256.Sum256(body)
	return "c" + hex.EncodeToString(sum[:20])
}

// pool runs tasks on the importer's workers; wait is a barrier.
type pool struct {
	tasks chan func()
	wg    sync.WaitGroup // tasks in flight
	done  sync.WaitGroup // workers
}

func newPool(n int) *pool {
	p := &pool{tasks: make(chan func())}
	for range n {
		p.done.Go(func() {
			for t := range p.tasks {
				t()
				p.wg.Done()
			}
		})
	}
	return p
}

func (p *pool) run(t func()) {
	p.wg.Add(1)
	p.tasks <- t
}

func (p *pool) wait() { p.wg.Wait() }

func (p *pool) close() {
	close(p.tasks)
	p.done.Wait()
}

// errText is the message of an import error: an OperationOutcome's first
// issues, with their locations.
func errText(err error) error {
	oe := outcome.As(err)
	if oe == nil || len(oe.Issues) == 0 {
		return err
	}
	msg := ""
	for i, is := range oe.Issues {
		if is.Severity != outcome.SevError && is.Severity != outcome.SevFatal {
			continue
		}
		if msg != "" {
			msg += "; "
		}
		if i >= 3 {
			msg += fmt.Sprintf("and %d more", len(oe.Issues)-i)
			break
		}
		if len(is.Expression) > 0 {
			msg += is.Expression[0] + ": "
		}
		msg += is.Diagnostics
	}
	if msg == "" {
		return err
	}
	return fmt.Errorf("%s", msg)
}
