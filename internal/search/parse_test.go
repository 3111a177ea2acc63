package search_test

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/search"
)

var update = flag.Bool("update", false, "rewrite testdata/parse/*.txt with the actual output")

// TestParseScripts runs the scripts in testdata/parse. Each case is a
// directive line
//
//	parse TYPE [strict] [tz=ZONE] [compartment=Type/id] [count=DEFAULT/MAX] ?QUERY
//
// (TYPE "-" for a system search), a line "----", and the expected output up
// to a blank line: the canonical Query.String, then the typed filters and
// result parameters, or the error's issues. Lines starting with # are
// comments. Run with -update to rewrite the expected output, then review the
// diff.
func TestParseScripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "parse", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) { runScript(t, file) })
	}
}

func runScript(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if !strings.HasPrefix(line, "parse ") {
			out.WriteString(line + "\n")
			continue
		}
		directive := line
		out.WriteString(directive + "\n----\n")
		i++
		if i >= len(lines) || lines[i] != "----" {
			t.Fatalf("%s:%d: want ---- after the directive", file, i+1)
		}
		var want []string
		for i+1 < len(lines) && lines[i+1] != "" {
			i++
			want = append(want, lines[i])
		}
		got := runDirective(t, directive)
		out.WriteString(got)
		if i+1 < len(lines) {
			out.WriteString("\n")
			i++ // the blank line
		}
		if wantS := strings.Join(want, "\n") + "\n"; got != wantS && !*update {
			t.Errorf("%s: %s\ngot:\n%swant:\n%s", file, directive, got, wantS)
		}
	}
	if *update {
		if err := os.WriteFile(file, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func runDirective(t *testing.T, directive string) string {
	fields := strings.Fields(strings.TrimPrefix(directive, "parse "))
	if len(fields) < 2 || !strings.HasPrefix(fields[len(fields)-1], "?") {
		t.Fatalf("bad directive %q", directive)
	}
	typ := fields[0]
	if typ == "-" {
		typ = ""
	}
	var opts search.Options
	for _, f := range fields[1 : len(fields)-1] {
		switch k, v, _ := strings.Cut(f, "="); k {
		case "strict":
			opts.Strict = true
		case "tz":
			loc, err := time.LoadLocation(v)
			if err != nil {
				t.Fatalf("%s: %v", directive, err)
			}
			opts.Location = loc
		case "compartment":
			ct, id, _ := strings.Cut(v, "/")
			opts.Compartment = &search.CompartmentRef{Type: ct, ID: id}
		case "count":
			d, m, _ := strings.Cut(v, "/")
			fmt.Sscan(d, &opts.DefaultCount)
			fmt.Sscan(m, &opts.MaxCount)
		default:
			t.Fatalf("%s: unknown option %q", directive, f)
		}
	}
	query, err := url.ParseQuery(strings.TrimPrefix(fields[len(fields)-1], "?"))
	if err != nil {
		t.Fatalf("%s: %v", directive, err)
	}
	q, err := search.Parse(spec.R4(), typ, query, opts)
	if err != nil {
		var b strings.Builder
		oe := outcome.As(err)
		fmt.Fprintf(&b, "error %s\n", oe.Kind)
		for _, is := range oe.Issues {
			fmt.Fprintf(&b, "  %s %s: %s\n", is.Severity, is.Code, is.Diagnostics)
		}
		return b.String()
	}
	// The canonical form must parse back to itself.
	again, err := url.ParseQuery(q.QueryString())
	if err != nil {
		t.Errorf("%s: canonical form %q does not parse as a query: %v", directive, q.String(), err)
	} else if q2, err := search.Parse(spec.R4(), typ, again, opts); err != nil {
		t.Errorf("%s: canonical form %q does not parse: %v", directive, q.String(), err)
	} else if q2.String() != q.String() {
		t.Errorf("%s: canonical form is not stable:\n%s\n%s", directive, q.String(), q2.String())
	}
	return dump(q)
}

// dump renders a Query with its typed values for the scripts.
func dump(q *search.Query) string {
	var b strings.Builder
	b.WriteString(q.String() + "\n")
	if len(q.Types) > 0 {
		fmt.Fprintf(&b, "types %s\n", strings.Join(q.Types, " "))
	}
	if c := q.Compartment; c != nil {
		fmt.Fprintf(&b, "compartment %s/%s via", c.Type, c.ID)
		for _, p := range c.Params {
			fmt.Fprintf(&b, " %s", p.Code)
		}
		if c.Self {
			b.WriteString(" {def}")
		}
		b.WriteString("\n")
	}
	for _, f := range q.Filters {
		dumpFilter(&b, f, "")
	}
	for _, k := range q.Sort {
		fmt.Fprintf(&b, "sort %s (%s) descending=%v\n", k.Param.Code, k.Param.Type, k.Descending)
	}
	if q.Total != "" || q.Summary != "" || q.Contained != "" || q.ContainedIn != "" {
		fmt.Fprintf(&b, "total=%q summary=%q contained=%q containedType=%q\n", q.Total, q.Summary, q.Contained, q.ContainedIn)
	}
	if len(q.Elements) > 0 {
		fmt.Fprintf(&b, "elements %s\n", strings.Join(q.Elements, " "))
	}
	for _, in := range q.Include {
		fmt.Fprintf(&b, "include %s iterate=%v\n", in, in.Iterate)
	}
	for _, in := range q.RevInclude {
		fmt.Fprintf(&b, "revinclude %s iterate=%v\n", in, in.Iterate)
	}
	for _, w := range q.Warnings {
		fmt.Fprintf(&b, "%s %s: %s\n", w.Severity, w.Code, w.Diagnostics)
	}
	return b.String()
}

func paramID(p *spec.SearchParam) string {
	return p.URL[strings.LastIndexByte(p.URL, '/')+1:]
}

func dumpFilter(b *strings.Builder, f *search.Filter, indent string) {
	if f.Has != nil {
		fmt.Fprintf(b, "%shas %s via %s (%s)\n", indent, f.Has.Type, f.Has.Param.Code, paramID(f.Has.Param))
		dumpFilter(b, f.Has.Filter, indent+"  ")
		return
	}
	fmt.Fprintf(b, "%s%s %s %s", indent, f.Param.Code, f.Param.Type, paramID(f.Param))
	if f.Modifier != "" {
		fmt.Fprintf(b, " :%s", f.Modifier)
	}
	if f.TargetType != "" {
		fmt.Fprintf(b, " :%s", f.TargetType)
	}
	if f.Missing != nil {
		fmt.Fprintf(b, " missing=%v", *f.Missing)
	}
	b.WriteString("\n")
	for _, c := range f.Chain {
		fmt.Fprintf(b, "%s  → %s\n", indent, c.Type)
		dumpFilter(b, c.Filter, indent+"    ")
	}
	for _, v := range f.Values {
		fmt.Fprintf(b, "%s  %s\n", indent, dumpValue(v))
	}
}

func dumpValue(v search.Value) string {
	const ts = "2006-01-02T15:04:05.999999999Z"
	switch v := v.(type) {
	case search.TokenValue:
		return fmt.Sprintf("token system=%q code=%q hasSystem=%v value=%q valueSet=%q", v.System, v.Code, v.HasSystem, v.Value, v.ValueSet)
	case search.DateValue:
		return fmt.Sprintf("date %s [%s, %s) %s", v.Prefix, v.Low.Format(ts), v.High.Format(ts), v.Precision)
	case search.NumberValue:
		return fmt.Sprintf("number %s %s [%s, %s)", v.Prefix, v.Number, v.Low, v.High)
	case search.QuantityValue:
		return fmt.Sprintf("quantity %s %s [%s, %s) system=%q code=%q hasUnit=%v", v.Prefix, v.Number, v.Low, v.High, v.System, v.Code, v.HasUnit)
	case search.StringValue:
		return fmt.Sprintf("string %q normalized=%q", v.Text, v.Normalized)
	case search.ReferenceValue:
		return fmt.Sprintf("reference type=%q id=%q url=%q version=%q", v.Type, v.ID, v.URL, v.Version)
	case search.URIValue:
		return fmt.Sprintf("uri %q", v.URI)
	case search.CompositeValue:
		parts := make([]string, len(v.Components))
		for i, c := range v.Components {
			parts[i] = dumpValue(c)
		}
		return "composite [" + strings.Join(parts, " $ ") + "]"
	case search.NearValue:
		return fmt.Sprintf("near %s %s distance=%v units=%q", v.Latitude, v.Longitude, v.Distance, v.Units)
	case search.ListValue:
		return fmt.Sprintf("list %q", v.ID)
	}
	return fmt.Sprintf("%T %v", v, v)
}
