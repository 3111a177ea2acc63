package validate

import (
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
)

// specRegexes returns the anchored regular expressions of the primitives
// that matchPrimitive replaces, straight from the definitions.
func specRegexes(t testing.TB) map[string]*regexp.Regexp {
	out := map[string]*regexp.Regexp{}
	for _, name := range primitiveNames {
		typ := spec.R4().Type(name)
		if typ == nil || typ.Regex == "" {
			continue
		}
		if _, handled := matchPrimitive(name, "x"); !handled {
			continue
		}
		out[name] = regexp.MustCompile(`\A(?:` + typ.Regex + `)\z`)
	}
	if len(out) < 14 {
		t.Fatalf("only %d primitive matchers found", len(out))
	}
	return out
}

var primitiveSamples = []string{
	"", " ", "a", "a b", "a  b", " a", "a ", "a\tb", "a\fb", "\f", "é", "a\u00a0b",
	"0", "-0", "00", "01", "1", "-1", "+1", "123456", "1.5", "-", "1e3",
	"2020", "0000", "0001", "2020-1", "2020-01", "2020-00", "2020-13", "2020-12-31", "2020-12-32", "2020-02-30",
	"2020-01-01T", "2020-01-01T10:00", "2020-01-01T10:00:00", "2020-01-01T10:00:00Z", "2020-01-01T24:00:00Z",
	"2020-01-01T23:59:60Z", "2020-01-01T23:59:61Z", "2020-01-01T10:00:00.5Z", "2020-01-01T10:00:00.Z",
	"2020-01-01T10:00:00+14:00", "2020-01-01T10:00:00+14:01", "2020-01-01T10:00:00-13:59", "2020-01-01T10:00:00+1:00",
	"2020-01-01T10:00:00+05:30", "2020-01-01t10:00:00Z", "10:00:00", "10:00", "24:00:00", "23:59:60", "10:00:00.123", "10:00:00.",
	"urn:oid:1.2.3", "urn:oid:3.1", "urn:oid:1", "urn:oid:1.02", "urn:oid:1.0", "urn:oid:1..2", "urn:oid:1.2.",
	"urn:uuid:6f8c3e0c-1f6a-4a5e-9a7b-1c2d3e4f5a6b", "urn:uuid:6F8C3E0C-1f6a-4a5e-9a7b-1c2d3e4f5a6b", "urn:uuid:6f8c3e0c1f6a4a5e9a7b1c2d3e4f5a6b",
	"http://x.org/a b", "http://x.org/a", "abc-DEF.12", strings.Repeat("a", 64), strings.Repeat("a", 65), "a_b",
}

func TestPrimitiveMatchersAgreeWithSpecRegexes(t *testing.T) {
	for name, re := range specRegexes(t) {
		for _, s := range primitiveSamples {
			got, _ := matchPrimitive(name, s)
			if want := re.MatchString(s); got != want {
				t.Errorf("%s %q: matcher says %v, spec regex says %v", name, s, got, want)
			}
		}
	}
}

func FuzzPrimitives(f *testing.F) {
	for _, s := range primitiveSamples {
		f.Add(s)
	}
	res := specRegexes(f)
	f.Fuzz(func(t *testing.T, s string) {
		for name, re := range res {
			if got, _ := matchPrimitive(name, s); got != re.MatchString(s) {
				t.Fatalf("%s %q: matcher says %v, spec regex disagrees", name, s, got)
			}
		}
	})
}

// xmlReference checks narrative with encoding/xml: the slow, trusted way.
func xmlReference(s string) bool {
	dec := xml.NewDecoder(strings.NewReader(s))
	dec.Strict = true
	dec.Entity = xml.HTMLEntity
	depth, roots := 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if t.Name.Local != "div" || t.Name.Space != xhtmlNS {
					return false
				}
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && strings.TrimSpace(string(t)) != "" {
				return false
			}
		case xml.Directive:
			return false
		}
	}
	return roots == 1 && depth == 0
}

var xhtmlSamples = []string{
	`<div xmlns="http://www.w3.org/1999/xhtml">x</div>`,
	`<div xmlns="http://www.w3.org/1999/xhtml"><p class="a" id='b'>x &amp; y &#160; &#xA0; &nbsp;</p><br/><img src="a.png" /></div>`,
	` <div xmlns="http://www.w3.org/1999/xhtml"><!-- c --><![CDATA[<x>]]></div> `,
	`<div xmlns="http://www.w3.org/1999/xhtml"><p>x</div>`,
	`<div xmlns="http://www.w3.org/1999/xhtml">a < b</div>`,
	`<div xmlns="http://www.w3.org/1999/xhtml">a & b</div>`,
	`<div xmlns="http://www.w3.org/1999/xhtml">&bogus;</div>`,
	`<div xmlns="http://www.w3.org/1999/xhtml"><p a=1>x</p></div>`,
	`<div>x</div>`,
	`<p xmlns="http://www.w3.org/1999/xhtml">x</p>`,
	`<div xmlns="http://www.w3.org/1999/xhtml">x</div><div xmlns="http://www.w3.org/1999/xhtml">y</div>`,
	`text<div xmlns="http://www.w3.org/1999/xhtml">x</div>`,
	`<h:div xmlns:h="http://www.w3.org/1999/xhtml">x</h:div>`,
	`<div xmlns="http://www.w3.org/1999/xhtml"><p>x</P></div>`,
	`<div xmlns="http://www.w3.org/1999/xhtml"`,
	`<!DOCTYPE html><div xmlns="http://www.w3.org/1999/xhtml">x</div>`,
}

// xhtmlNotWellFormed are rejected by XML 1.0 but accepted by encoding/xml.
var xhtmlNotWellFormed = []string{
	`<div xmlns="http://www.w3.org/1999/xhtml"><p a="1" a="2">x</p></div>`,
	`<div xmlns="http://www.w3.org/1999/xhtml">a ]]> b</div>`,
	`<div xmlns="http://www.w3.org/1999/xhtml"><!-- a -- b --></div>`,
}

func TestXHTMLAgreesWithEncodingXML(t *testing.T) {
	for _, s := range xhtmlNotWellFormed {
		if checkXHTML(s) == "" {
			t.Errorf("%q is not well-formed XML but was accepted", s)
		}
	}
	for _, s := range xhtmlSamples {
		got := checkXHTML(s) == ""
		if want := xmlReference(s); got != want {
			t.Errorf("%q: scanner accepts=%v (%s), encoding/xml accepts=%v", s, got, checkXHTML(s), want)
		}
	}
}

// FuzzXHTML checks that the scanner never accepts what encoding/xml rejects.
// (encoding/xml is laxer in places — it accepts "]]>" in text and "--" in
// comments, which XML forbids — so the other direction is not asserted.)
func FuzzXHTML(f *testing.F) {
	for _, s := range xhtmlSamples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if checkXHTML(s) == "" && !xmlReference(s) {
			t.Fatalf("scanner accepts %q, encoding/xml rejects it", s)
		}
	})
}
