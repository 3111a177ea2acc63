package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/continuum-ehr/continuum/internal/config"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/operation"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/validate"
)

func validateCommand() command {
	return command{
		name:    "validate",
		summary: "validate FHIR R4 JSON resources and Bundles",
		usage:   "validate [--quiet] [--max-bytes SIZE] FILE…",
		help: `Validates each FILE (- reads standard input) as a FHIR R4 JSON resource; a Bundle's
entries are validated too. For each file it prints an OperationOutcome; when several
files are given, each is preceded by a line "==> FILE <==". With --quiet it prints one
line per file instead: "FILE: valid|invalid (E errors, W warnings)", followed by the
first error. Exit status: 0 when no file has an error, 1 otherwise, 2 on usage errors.`,
		run: runValidate,
	}
}

func runValidate(ctx context.Context, c command, e *env, args []string) int {
	cfg := config.Default()
	flags := c.flags()
	quiet := flags.Bool("quiet", false, "print a one-line summary per file instead of the OperationOutcome")
	cfg.LimitFlags(flags)
	if code, ok := c.parseFlags(e, flags, &cfg, args); !ok {
		return code
	}
	files := flags.Args()
	if len(files) == 0 {
		return c.usageError(e, "no files given (use - for standard input)")
	}
	stdin := 0
	for _, f := range files {
		if f == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return c.usageError(e, "standard input (-) can be read only once")
	}

	v := validate.New(spec.R4(), validate.Options{MaxBytes: int(cfg.MaxBytes), MaxDepth: validate.DefaultMaxDepth})
	op := operation.NewValidate(v, validate.DefaultMaxDepth)
	code := exitOK
	for i, name := range files {
		issues := validateFile(ctx, op, e.stdin, name, cfg.MaxBytes)
		if outcome.HasErrors(issues) {
			code = exitFail
		}
		if *quiet {
			fmt.Fprintf(e.stdout, "%s: %s\n", display(name), summarize(issues))
			continue
		}
		if len(files) > 1 {
			if i > 0 {
				fmt.Fprintln(e.stdout)
			}
			fmt.Fprintf(e.stdout, "==> %s <==\n", display(name))
		}
		oo := outcome.OperationOutcome(issues)
		if !bytes.HasSuffix(oo, []byte("\n")) {
			oo = append(oo, '\n')
		}
		_, _ = e.stdout.Write(oo)
	}
	return code
}

func display(name string) string {
	if name == "-" {
		return "<stdin>"
	}
	return name
}

// validateFile reads and validates one file. Problems reading it are issues
// of that file, not failures of the command: the other files still run.
func validateFile(ctx context.Context, op *operation.Validate, stdin io.Reader, name string, maxBytes int64) []outcome.Issue {
	b, err := readLimited(stdin, name, maxBytes)
	if err != nil {
		return outcome.As(err).Issues
	}
	return op.Run(ctx, operation.ValidateInput{Body: b})
}

func readLimited(stdin io.Reader, name string, maxBytes int64) ([]byte, error) {
	tooLarge := outcome.New(outcome.TooLarge, "too-long", fmt.Sprintf("larger than the limit of %d bytes (--max-bytes)", maxBytes))
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			code := "exception"
			if errors.Is(err, fs.ErrNotExist) {
				code = "not-found"
			}
			return nil, outcome.New(outcome.Invalid, code, fmt.Sprintf("cannot read: %v", err))
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return nil, outcome.New(outcome.Invalid, "exception", fmt.Sprintf("cannot read: %v", err))
		}
		if st.IsDir() {
			return nil, outcome.New(outcome.Invalid, "exception", name+" is a directory, not a file")
		}
		if st.Mode().IsRegular() && st.Size() > maxBytes {
			return nil, tooLarge // refuse before reading
		}
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, outcome.New(outcome.Invalid, "exception", fmt.Sprintf("cannot read: %v", err))
	}
	if int64(len(b)) > maxBytes {
		return nil, tooLarge
	}
	return b, nil
}

// summarize is the --quiet line of one file.
func summarize(issues []outcome.Issue) string {
	var errs, warns int
	var first *outcome.Issue
	for i, is := range issues {
		switch {
		case is.IsError():
			errs++
			if first == nil {
				first = &issues[i]
			}
		case is.Severity == outcome.SevWarning:
			warns++
		}
	}
	verdict := "valid"
	if errs > 0 {
		verdict = "invalid"
	}
	s := fmt.Sprintf("%s (%s, %s)", verdict, plural(errs, "error"), plural(warns, "warning"))
	if first != nil {
		s += ": "
		if len(first.Expression) > 0 {
			s += first.Expression[0] + ": "
		}
		s += first.Diagnostics
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
