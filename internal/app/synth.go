package app

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/continuum-ehr/continuum/internal/synth"
)

func synthCommand() command {
	return command{
		name:    "synth",
		summary: "generate a synthetic patient population",
		usage:   "synth --patients N [--seed S] --out DIR [--orgs K] [--format ndjson|bundles] [--reference-date YYYY-MM-DD]",
		help: `Generates realistic synthetic FHIR R4 records into DIR (created; it must be empty):
K organizations (a hospital, primary care clinics, a rehabilitation practice, a home
health agency, with practitioners, roles and locations) and N patients with years of
encounters, conditions, vital signs and labs, medications, immunizations, procedures,
care plans, notes, referrals and claims — about 1,000 resources a patient. The output
is byte-for-byte the same for the same seed, counts and reference date (default
2026-01-01). NDJSON gives one file per type (Patient.ndjson, …); bundles gives one
transaction Bundle per patient. Load it with 'continuum import DIR'. See docs/synth.md.`,
		run: runSynth,
	}
}

func runSynth(ctx context.Context, c command, e *env, args []string) int {
	fs := c.flags()
	patients := fs.Int("patients", 0, "number of `N` patients (required)")
	seed := fs.Uint64("seed", 1, "`S`eed of the generator")
	out := fs.String("out", "", "output `DIR`ectory (required; created, must be empty)")
	orgs := fs.Int("orgs", synth.DefaultOrgs, "number of organizations `K` (at least 4: one of each kind)")
	format := fs.String("format", synth.FormatNDJSON, "output format: ndjson or bundles")
	refDate := fs.String("reference-date", synth.DefaultReferenceDate.Format(time.DateOnly), "the population's today, `YYYY-MM-DD`: histories end before it")
	quiet := fs.Bool("quiet", false, "no progress on standard error")
	if code, ok := c.parseFlags(e, fs, nil, args); !ok {
		return code
	}
	switch {
	case fs.NArg() > 0:
		return c.usageError(e, fmt.Sprintf("unexpected arguments %q", fs.Args()))
	case *patients <= 0:
		return c.usageError(e, "--patients must be a positive number")
	case *out == "":
		return c.usageError(e, "--out is required")
	case *orgs < 4:
		return c.usageError(e, "--orgs must be at least 4")
	case *format != synth.FormatNDJSON && *format != synth.FormatBundles:
		return c.usageError(e, fmt.Sprintf("--format %q: ndjson or bundles", *format))
	}
	ref, err := time.Parse(time.DateOnly, *refDate)
	if err != nil {
		return c.usageError(e, fmt.Sprintf("--reference-date %q: want YYYY-MM-DD", *refDate))
	}
	sink, err := synth.NewDirSink(*out, *format)
	if err != nil {
		fmt.Fprintf(e.stderr, "continuum synth: %v\n", err)
		return exitFail
	}
	start := time.Now()
	var done, resources atomic.Int64
	ps := &progressSink{DirSink: sink, done: &done, resources: &resources}
	tty := isTerminal(e.stderr)
	stop := func() {}
	if !*quiet {
		stop = tick(tty, func(final bool) {
			d, n := done.Load(), resources.Load()
			line := fmt.Sprintf("synth: %s %s/%s patients, %s resources, %s/s", bar(float64(d)/float64(*patients), 20),
				count(int(d)), count(*patients), count(int(n)), count(int(rate(int(n), time.Since(start)))))
			if tty {
				fmt.Fprint(e.stderr, "\r\033[K"+line)
				if final {
					fmt.Fprintln(e.stderr)
				}
			} else if !final {
				fmt.Fprintln(e.stderr, line)
			}
		})
	}
	err = synth.Generate(ctx, synth.Options{Patients: *patients, Seed: *seed, Orgs: *orgs, ReferenceDate: ref}, ps)
	stop()
	if cerr := sink.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "continuum synth: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(e.stderr, "wrote %s resources for %s patients to %s in %v: %s\n", count(int(resources.Load())), count(*patients), *out,
		time.Since(start).Round(time.Millisecond), countsText(sink.Counts()))
	return exitOK
}

// progressSink counts what passes through for the progress line.
type progressSink struct {
	*synth.DirSink
	done, resources *atomic.Int64
}

func (p *progressSink) Directory(rs []synth.Resource) error {
	p.resources.Add(int64(len(rs)))
	return p.DirSink.Directory(rs)
}

func (p *progressSink) Patient(n int, rs []synth.Resource) error {
	p.resources.Add(int64(len(rs)))
	p.done.Add(1)
	return p.DirSink.Patient(n, rs)
}

func (p *progressSink) Groups(rs []synth.Resource) error {
	p.resources.Add(int64(len(rs)))
	return p.DirSink.Groups(rs)
}

// countsText lists counts per type, largest first.
func countsText(m map[string]int) string {
	types := make([]string, 0, len(m))
	for t := range m {
		types = append(types, t)
	}
	sort.Slice(types, func(i, j int) bool {
		if m[types[i]] != m[types[j]] {
			return m[types[i]] > m[types[j]]
		}
		return types[i] < types[j]
	})
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = fmt.Sprintf("%s %s", count(m[t]), t)
	}
	return strings.Join(parts, ", ")
}

// tick calls f every 250 ms on a terminal (every 10 s otherwise) until
// the returned stop, which calls f a last time with final set.
func tick(tty bool, f func(final bool)) (stop func()) {
	every := 10 * time.Second
	if tty {
		every = 250 * time.Millisecond
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				f(true)
				return
			case <-t.C:
				f(false)
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
