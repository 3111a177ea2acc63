package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/continuum-ehr/continuum/internal/config"
	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/fhirpath"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/go-json-experiment/json/jsontext"
)

func fhirpathCommand() command {
	return command{
		name:    "fhirpath",
		summary: "evaluate a FHIRPath expression on a resource",
		usage:   "fhirpath -e EXPR [--max-bytes SIZE] [FILE]",
		help: `Evaluates the FHIRPath expression EXPR (FHIRPath N1 with the FHIR R4 additions) on the
JSON resource in FILE, or on standard input when FILE is absent or -. Prints the result
collection as a JSON array of {"type": …, "value": …}: "type" is the FHIR type of a value
from the resource (string, code, HumanName, Patient …) or System.X for a value the
expression computed (System.Boolean, System.Integer, System.Decimal, System.String,
System.Date, System.DateTime, System.Time, System.Quantity); "value" is the JSON value,
decimals with their written digits and partial dates as written. Output of trace()
goes to standard error. A syntax or evaluation error prints the position and exits 1.`,
		run: runFHIRPathCommand,
	}
}

// fhirpathTimeout bounds one evaluation from the command line.
const fhirpathTimeout = 10 * time.Second

func runFHIRPathCommand(ctx context.Context, c command, e *env, args []string) int {
	cfg := config.Default()
	flags := c.flags()
	expr := flags.String("e", "", "the FHIRPath `EXPR`ession to evaluate (required)")
	cfg.LimitFlags(flags)
	if code, ok := c.parseFlags(e, flags, &cfg, args); !ok {
		return code
	}
	if *expr == "" {
		return c.usageError(e, "no expression given (-e EXPR)")
	}
	files := flags.Args()
	if len(files) > 1 {
		return c.usageError(e, "at most one FILE")
	}
	name := "-"
	if len(files) == 1 {
		name = files[0]
	}

	compiled, err := fhirpath.Compile(*expr)
	if err != nil {
		printExprError(e.stderr, *expr, err)
		return exitFail
	}
	b, err := readLimited(e.stdin, name, cfg.MaxBytes)
	if err != nil {
		fmt.Fprintf(e.stderr, "continuum fhirpath: %s: %v\n", display(name), err)
		return exitFail
	}
	v, err := fhir.Parse(b)
	if err != nil {
		fmt.Fprintf(e.stderr, "continuum fhirpath: %s: invalid JSON: %v\n", display(name), err)
		return exitFail
	}
	if v.Kind != fhir.Object || v.ResourceType() == "" {
		fmt.Fprintf(e.stderr, "continuum fhirpath: %s: not a FHIR resource (no resourceType)\n", display(name))
		return exitFail
	}
	s := spec.R4()
	root := fhirpath.ResourceNode(s, &v)
	env := &fhirpath.Env{
		Spec:    s,
		Timeout: fhirpathTimeout,
		Trace: func(label string, c fhirpath.Collection) {
			var buf bytes.Buffer
			writeCollection(&buf, c)
			fmt.Fprintf(e.stderr, "trace %s: %s\n", label, bytes.TrimSpace(buf.Bytes()))
		},
	}
	res, err := compiled.Evaluate(env, fhirpath.Collection{root})
	if err != nil {
		printExprError(e.stderr, *expr, err)
		return exitFail
	}
	writeCollection(e.stdout, res)
	return exitOK
}

// printExprError prints the error and, when it has a position, the
// expression line with a caret under it.
func printExprError(w io.Writer, expr string, err error) {
	fmt.Fprintf(w, "continuum fhirpath: %v\n", strings.TrimPrefix(err.Error(), "fhirpath: "))
	line, col := 0, 0
	var se *fhirpath.SyntaxError
	var ee *fhirpath.EvalError
	switch {
	case errors.As(err, &se):
		line, col = se.Line, se.Col
	case errors.As(err, &ee):
		line, col = ee.Line, ee.Col
	}
	if line <= 0 {
		return
	}
	lines := strings.Split(expr, "\n")
	if line > len(lines) {
		return
	}
	text := strings.ReplaceAll(lines[line-1], "\t", " ")
	fmt.Fprintf(w, "  %s\n  %s^\n", text, strings.Repeat(" ", max(col-1, 0)))
}

// writeCollection prints a result collection as a JSON array of
// {"type", "value"} objects, one per line.
func writeCollection(w io.Writer, c fhirpath.Collection) {
	var buf bytes.Buffer
	buf.WriteString("[")
	for i, it := range c {
		if i > 0 {
			buf.WriteString(",")
		}
		buf.WriteString("\n  ")
		buf.Write(itemJSON(it))
	}
	if len(c) > 0 {
		buf.WriteString("\n")
	}
	buf.WriteString("]\n")
	_, _ = w.Write(buf.Bytes())
}

func itemJSON(it fhirpath.Item) []byte {
	var buf bytes.Buffer
	enc := jsontext.NewEncoder(&buf)
	w := func(t jsontext.Token) { _ = enc.WriteToken(t) }
	w(jsontext.BeginObject)
	w(jsontext.String("type"))
	w(jsontext.String(it.TypeName()))
	w(jsontext.String("value"))
	switch v := it.(type) {
	case *fhirpath.Node:
		if v.Value() == nil {
			w(jsontext.Null)
		} else {
			_ = enc.WriteValue(jsontext.Value(v.Value().Marshal()))
		}
	case fhirpath.Boolean:
		w(jsontext.Bool(bool(v)))
	case fhirpath.Integer:
		w(jsontext.Int(int64(v)))
	case fhirpath.Decimal:
		_ = enc.WriteValue(jsontext.Value(v.String()))
	case fhirpath.String:
		w(jsontext.String(string(v)))
	case fhirpath.DateTime:
		w(jsontext.String(v.String()))
	case fhirpath.Quantity:
		w(jsontext.BeginObject)
		w(jsontext.String("value"))
		_ = enc.WriteValue(jsontext.Value(v.Value.Text('f')))
		w(jsontext.String("unit"))
		w(jsontext.String(v.Unit))
		if v.IsUCUM() {
			w(jsontext.String("system"))
			w(jsontext.String("http://unitsofmeasure.org"))
			w(jsontext.String("code"))
			w(jsontext.String(v.Unit))
		}
		w(jsontext.EndObject)
	case fhirpath.TypeInfo:
		w(jsontext.BeginObject)
		w(jsontext.String("namespace"))
		w(jsontext.String(v.Namespace))
		w(jsontext.String("name"))
		w(jsontext.String(v.Name))
		w(jsontext.EndObject)
	default:
		w(jsontext.Null)
	}
	w(jsontext.EndObject)
	return bytes.TrimSpace(buf.Bytes())
}
