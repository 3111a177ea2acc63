package fhirpath

import (
	"errors"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
)

// Seed corpora live in testdata/fuzz/FuzzParse and testdata/fuzz/FuzzEvaluate
// (expressions from the official suite and the R4 SearchParameters); the
// seeds below add the shapes most likely to break a parser.
var fuzzSeeds = []string{
	"", "Patient.name.given", "1 + 2 * 3", "-1.convertsToInteger()", "@2015-02-04T14:34:28.123+10:00",
	"'\\u0041\\'x'", "`given`", "%`vs-x`", "{}", "(((((1)))))", "a[0][1]", "4 days", "1 'mg'",
	"x.where($this = 1).select($index)", "aggregate($total + $this, 0)", "/* c */ 1 // d",
	"Observation.value as Quantity", "iif(true, 1, 2)", "@T14", "1.", "'", "@", "%", "$", "x.(", "x[",
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		e, err := Compile(expr)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Compile(%q): error %T is not a *SyntaxError", expr, err)
			}
			if se.Pos < 0 || se.Pos > len(expr) || se.Line < 1 || se.Col < 1 {
				t.Fatalf("Compile(%q): bad position %+v", expr, se)
			}
			return
		}
		if e.String() != expr {
			t.Fatalf("String() = %q", e.String())
		}
	})
}

// FuzzEvaluate evaluates arbitrary expressions on a small Observation under
// a tight budget: no panic, no hang, and errors only of the documented kinds.
func FuzzEvaluate(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	s := spec.R4()
	v, err := fhir.Parse([]byte(testObservation))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		e, err := Compile(expr)
		if err != nil {
			return
		}
		env := &Env{Spec: s, MaxSteps: 20000}
		done := make(chan error, 1)
		go func() {
			_, err := e.Evaluate(env, Collection{ResourceNode(s, &v)})
			done <- err
		}()
		select {
		case err = <-done:
		case <-time.After(2 * time.Second):
			t.Fatalf("Evaluate(%q) hangs", expr)
		}
		if err == nil {
			return
		}
		var ee *EvalError
		if !errors.As(err, &ee) && !errors.Is(err, ErrBudget) {
			t.Fatalf("Evaluate(%q): unexpected error type %T: %v", expr, err, err)
		}
	})
}
