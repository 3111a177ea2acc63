package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/bulkimport"
	"github.com/continuum-ehr/continuum/internal/config"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/store"
	"github.com/continuum-ehr/continuum/internal/validate"
)

func importCommand() command {
	return command{
		name:    "import",
		summary: "load NDJSON files and Bundles into the store",
		usage:   "import [--data DIR | --database-url URL] [--org ID] [--quiet] PATH…",
		help: `Loads FHIR R4 data into the store, initializing an empty store first: Bulk Data NDJSON
files (*.ndjson, one resource a line) and Bundles (*.json) of type transaction, batch or
collection, plain or compressed (.gz, .bz2). A directory is searched for such files,
which are loaded in name order. Every resource is validated and written through the
same path as the FHIR API, as the system.

Loading is idempotent: resources with ids are updates (unchanged content adds no
version); a transaction or batch Bundle is recorded as a Provenance named after its
content's SHA-256 and skipped when loaded again (docs/decisions/0008-import-idempotency.md).

A resource that fails is reported as FILE:LINE (NDJSON) or FILE: entry N (Bundles)
and the rest goes on. Progress goes to standard error, then a summary. Exit status:
0 when everything was imported, 1 when anything failed, 2 on usage errors.`,
		run: runImport,
	}
}

func runImport(ctx context.Context, c command, e *env, args []string) int {
	cfg := config.Default()
	fs := c.flags()
	cfg.StorageFlags(fs)
	cfg.LimitFlags(fs)
	org := fs.String("org", defaultOrg, "`ID` of the organization that owns the imported clinical data (directory resources such as Organization and Practitioner belong to the deployment)")
	quiet := fs.Bool("quiet", false, "no progress line, only failures and the summary")
	if code, ok := c.parseFlags(e, fs, &cfg, args); !ok {
		return code
	}
	paths := fs.Args()
	if len(paths) == 0 {
		return c.usageError(e, "no files or directories given")
	}
	if *org == "" {
		return c.usageError(e, "--org must not be empty")
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return c.usageError(e, err.Error())
		}
	}
	if cfg.DatabaseURL == "" {
		if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
			fmt.Fprintf(e.stderr, "continuum import: creating the data directory: %v\n", err)
			return exitFail
		}
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		fmt.Fprintf(e.stderr, "continuum import: %v\n", err)
		return exitFail
	}
	defer st.Close()
	trail, err := openTrail(cfg, st, slog.New(slog.NewTextHandler(e.stderr, nil)))
	if err != nil {
		fmt.Fprintf(e.stderr, "continuum import: %v\n", err)
		return exitFail
	}
	defer trail.Close() // before the store closes: flushes the last group

	var out sync.Mutex // failure lines and the progress line share stderr
	prog := newProgressLine(e.stderr, !*quiet, &out)
	im := bulkimport.New(bulkimport.Options{
		Service:  newInteractions(cfg, st, trail),
		Org:      *org,
		MaxBytes: int(cfg.MaxBytes),
		Report: func(f bulkimport.Failure) {
			out.Lock()
			defer out.Unlock()
			prog.clear()
			fmt.Fprintln(e.stderr, f.Error())
		},
	})
	stop := prog.run(im.Progress)
	// Imports act as the system: the data comes from the operator, not
	// from a user (architecture.md §4).
	sum, err := im.ImportPaths(auth.NewContext(ctx, auth.NewSystem()), paths)
	stop()
	fmt.Fprintln(e.stderr, summaryLine(sum))
	if err != nil {
		fmt.Fprintf(e.stderr, "continuum import: %v\n", err)
		return exitFail
	}
	if sum.Failed > 0 {
		return exitFail
	}
	return exitOK
}

// newInteractions builds the interaction service over st as serve does,
// auditing into trail.
func newInteractions(cfg config.Config, st store.Store, trail interaction.Auditor) *interaction.Service {
	r4 := spec.R4()
	v := validate.New(r4, validate.Options{MaxBytes: int(cfg.MaxBytes), MaxDepth: validate.DefaultMaxDepth})
	return interaction.New(interaction.Options{Store: st, Validator: v, Spec: r4, Audit: trail,
		Search: interaction.SearchDefaults{Location: cfg.Location}, Server: cfg.BaseURL + "/fhir", Site: cfg.BaseURL})
}

// summaryLine is the last line of an import.
func summaryLine(s bulkimport.Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "imported %s resources from %s", count(s.Resources()), nplural(s.Files, "file", "files"))
	if s.SkippedFiles > 0 {
		fmt.Fprintf(&b, " (%s skipped: imported before)", nplural(s.SkippedFiles, "Bundle", "Bundles"))
	}
	fmt.Fprintf(&b, ": %s created, %s updated, %s unchanged, %s failed, in %v (%s resources/s)",
		count(s.Created), count(s.Updated), count(s.Unchanged), count(s.Failed), s.Elapsed.Round(time.Millisecond),
		count(int(rate(s.Resources()+s.Failed, s.Elapsed))))
	return b.String()
}

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// nplural is "1 file" or "1,234 files".
func nplural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return count(n) + " " + many
}

// count formats n with thousands separators.
func count(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	return string(b)
}

// progressLine prints import progress on w: rewritten in place on a
// terminal, a line every 10 seconds otherwise (logs, CI).
type progressLine struct {
	w       io.Writer
	on      bool
	tty     bool
	mu      *sync.Mutex
	printed bool // a line is on the terminal, without a newline
}

func newProgressLine(w io.Writer, on bool, mu *sync.Mutex) *progressLine {
	return &progressLine{w: w, on: on, tty: isTerminal(w), mu: mu}
}

// isTerminal reports whether w is a character device.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// clear erases the line in place, before other output; mu is held.
func (p *progressLine) clear() {
	if p.printed {
		fmt.Fprint(p.w, "\r\033[K")
		p.printed = false
	}
}

// run prints progress until the returned stop is called.
func (p *progressLine) run(snap func() bulkimport.Progress) (stop func()) {
	if !p.on {
		return func() {}
	}
	every := 10 * time.Second
	if p.tty {
		every = 250 * time.Millisecond
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				p.mu.Lock()
				p.clear()
				line := progressText(snap())
				if p.tty {
					fmt.Fprint(p.w, line)
					p.printed = true
				} else {
					fmt.Fprintln(p.w, line)
				}
				p.mu.Unlock()
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		p.mu.Lock()
		p.clear()
		p.mu.Unlock()
	}
}

// progressText is one progress report: resources, rate, share of the input
// read and the time left at that pace.
func progressText(pr bulkimport.Progress) string {
	s := fmt.Sprintf("import: %s resources, %s/s", count(int(pr.Resources)), count(int(rate(int(pr.Resources), pr.Elapsed))))
	if pr.TotalBytes > 0 && pr.Bytes > 0 {
		frac := min(1, float64(pr.Bytes)/float64(pr.TotalBytes))
		s += fmt.Sprintf(", %s %3.0f%% of %s", bar(frac, 20), 100*frac, mib(pr.TotalBytes))
		if frac > 0.001 && frac < 1 {
			left := time.Duration(float64(pr.Elapsed) * (1 - frac) / frac)
			s += fmt.Sprintf(", ETA %v", left.Round(time.Second))
		}
	}
	return s
}

func bar(frac float64, width int) string {
	n := int(frac * float64(width))
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

func mib(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
