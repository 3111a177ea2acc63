package index

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/extract")

// TestGolden extracts every testdata/extract/*.json and compares the rows,
// rendered one per line, with the .golden file beside it. The hashes are
// rendered too: they are stored by the database, so a change in them is
// a change of ExtractorVersion. Regenerate with go test -run Golden -update
// and review the diff.
func TestGolden(t *testing.T) {
	x := New(spec.R4())
	files, err := filepath.Glob(filepath.Join("testdata", "extract", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test resources: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			v, err := fhir.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			e, err := x.Extract(&v)
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			got := render(&e)
			golden := strings.TrimSuffix(f, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("rows of %s differ from %s (run with -update and review the diff)\n--- got\n%s", f, golden, got)
			}
		})
	}
}

// render prints rows deterministically, one per line.
func render(e *Entries) string {
	var b bytes.Buffer
	for i := range e.Tokens {
		fmt.Fprintf(&b, "token %s\n", renderToken(&e.Tokens[i]))
	}
	for i := range e.Strings {
		fmt.Fprintf(&b, "string %s\n", renderString(&e.Strings[i]))
	}
	for i := range e.Dates {
		fmt.Fprintf(&b, "date %s\n", renderDate(&e.Dates[i]))
	}
	for i := range e.Numbers {
		fmt.Fprintf(&b, "number %s\n", renderNumber(&e.Numbers[i]))
	}
	for i := range e.Quantities {
		fmt.Fprintf(&b, "quantity %s\n", renderQuantity(&e.Quantities[i]))
	}
	for i := range e.References {
		fmt.Fprintf(&b, "reference %s\n", renderReference(&e.References[i]))
	}
	for i := range e.URIs {
		u := &e.URIs[i]
		fmt.Fprintf(&b, "uri %s %q #%s\n", u.Param, u.Value, h(u.Hash))
	}
	for i := range e.Composites {
		c := &e.Composites[i]
		fmt.Fprintf(&b, "composite %s\n", c.Param)
		for _, p := range c.Parts {
			switch {
			case p.Token != nil:
				fmt.Fprintf(&b, "  token %s\n", renderToken(p.Token))
			case p.String != nil:
				fmt.Fprintf(&b, "  string %s\n", renderString(p.String))
			case p.Date != nil:
				fmt.Fprintf(&b, "  date %s\n", renderDate(p.Date))
			case p.Number != nil:
				fmt.Fprintf(&b, "  number %s\n", renderNumber(p.Number))
			case p.Quantity != nil:
				fmt.Fprintf(&b, "  quantity %s\n", renderQuantity(p.Quantity))
			case p.Reference != nil:
				fmt.Fprintf(&b, "  reference %s\n", renderReference(p.Reference))
			case p.URI != nil:
				fmt.Fprintf(&b, "  uri %s %q\n", p.URI.Param, p.URI.Value)
			}
		}
	}
	return b.String()
}

func h(v int64) string { return fmt.Sprintf("%016x", uint64(v)) }

func renderToken(t *Token) string {
	s := fmt.Sprintf("%s %q|%q", t.Param, t.System, t.Code)
	if t.Text != "" {
		s += fmt.Sprintf(" text=%q", t.Text)
	}
	if t.TypeSystem != "" || t.TypeCode != "" {
		s += fmt.Sprintf(" type=%q|%q", t.TypeSystem, t.TypeCode)
	}
	s += fmt.Sprintf(" #%s #%s #%s", h(t.CodeHash), h(t.SystemCodeHash), h(t.SystemHash))
	if t.OfTypeHash != 0 {
		s += " of-type#" + h(t.OfTypeHash)
	}
	return s
}

func renderString(s *String) string {
	return fmt.Sprintf("%s %q exact=%q #%s", s.Param, s.Normalized, s.Exact, h(s.ExactHash))
}

func renderDate(d *Date) string {
	return fmt.Sprintf("%s [%s, %s) %s", d.Param, d.Low.Format(time.RFC3339Nano), d.High.Format(time.RFC3339Nano), d.Precision)
}

func renderNumber(n *Number) string {
	return fmt.Sprintf("%s %s [%g, %g)", n.Param, n.Value, n.Low, n.High)
}

func renderQuantity(q *Quantity) string {
	s := fmt.Sprintf("%s %s [%s, %s) %q|%q unit=%q #%s #%s", q.Param, q.Value, g(q.Low), g(q.High), q.System, q.Code, q.Unit, h(q.CodeHash), h(q.SystemCodeHash))
	if q.Canonical != "" {
		s += fmt.Sprintf(" canonical=%s [%s, %s) #%s", q.Canonical, g(q.CanonicalLow), g(q.CanonicalHigh), h(q.CanonicalHash))
	}
	return s
}

func g(f float64) string {
	if math.IsInf(f, 0) {
		return fmt.Sprint(f)
	}
	return fmt.Sprintf("%.6g", f)
}

func renderReference(r *Reference) string {
	s := r.Param
	if r.Type != "" || r.ID != "" {
		s += fmt.Sprintf(" %s/%s", r.Type, r.ID)
	}
	if r.Version != "" {
		s += " version=" + r.Version
	}
	if r.URL != "" {
		s += fmt.Sprintf(" url=%q", r.URL)
	}
	if r.Canonical {
		s += " canonical"
	}
	if r.IdentifierValue != "" {
		s += fmt.Sprintf(" identifier=%q|%q", r.IdentifierSystem, r.IdentifierValue)
	}
	if r.TargetHash != 0 {
		s += " target#" + h(r.TargetHash)
	}
	if r.URLHash != 0 {
		s += " url#" + h(r.URLHash)
	}
	if r.IdentifierHash != 0 {
		s += " identifier#" + h(r.IdentifierHash)
	}
	return s
}

// TestExtractParams: limiting extraction to some parameters gives exactly
// their rows of a full extraction.
func TestExtractParams(t *testing.T) {
	x := New(spec.R4())
	res, err := fhir.Parse([]byte(`{"resourceType":"Observation","status":"final","code":{"text":"x"},
		"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],
		"subject":{"reference":"Patient/p1"},"performer":[{"reference":"Practitioner/d1"},{"reference":"Patient/p2"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	all, err := x.Extract(&res)
	if err != nil {
		t.Fatal(err)
	}
	some, err := x.ExtractParams(&res, []string{"subject", "performer", "category"})
	if err != nil {
		t.Fatal(err)
	}
	var want []Reference
	for _, r := range all.References {
		if r.Param == "subject" || r.Param == "performer" {
			want = append(want, r)
		}
	}
	if !reflect.DeepEqual(some.References, want) || len(want) != 3 {
		t.Errorf("references = %+v, want %+v", some.References, want)
	}
	if len(some.Tokens) != 1 || some.Tokens[0].Param != "category" || some.Tokens[0].Code != "laboratory" || len(some.Dates) != 0 {
		t.Errorf("tokens = %+v, dates = %+v", some.Tokens, some.Dates)
	}
	if none, err := x.ExtractParams(&res, nil); err != nil || none.Len() != 0 {
		t.Errorf("no parameters: %d rows, %v", none.Len(), err)
	}
}
