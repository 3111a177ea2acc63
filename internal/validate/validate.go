// Package validate checks FHIR R4 JSON against the base specification.
package validate

import (
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/outcome"
)

// Options tune a Validator.
type Options struct {
	MaxBytes int // largest accepted input; 0 means DefaultMaxBytes
	MaxDepth int // deepest accepted JSON nesting; 0 means DefaultMaxDepth
}

// Defaults for Options.
const (
	DefaultMaxBytes = 64 << 20
	DefaultMaxDepth = 100
)

// Validator validates resources. It is safe for concurrent use.
type Validator struct {
	spec *spec.Spec
	opts Options
}

// New returns a Validator over the given definitions.
func New(s *spec.Spec, opts Options) *Validator {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = DefaultMaxDepth
	}
	return &Validator{spec: s, opts: opts}
}

// Validate checks one JSON resource (a Bundle's entries included) and returns
// every problem found; the input is acceptable when none is an error
// (outcome.HasErrors).
func (v *Validator) Validate(b []byte) []outcome.Issue {
	return nil // TODO(me): implemented next
}
