package validate

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
)

// reference checks the form of Reference.reference and, for relative and
// absolute RESTful references, the target type
// (https://hl7.org/fhir/R4/references.html#literal).
func (c *checker) reference(v *fhir.Value, elem *spec.Element) {
	ref, ok := v.Get("reference")
	if !ok || ref.Kind != fhir.String || ref.Text == "" {
		return
	}
	s := ref.Text
	c.push("reference", -1)
	defer c.pop()
	switch {
	case strings.HasPrefix(s, "#"):
		return
	case strings.HasPrefix(s, "urn:uuid:"):
		if !uuidRE(s[len("urn:uuid:"):]) {
			c.report("value", "%q is not a valid urn:uuid reference", truncate(s))
		}
		return
	case strings.HasPrefix(s, "urn:oid:"):
		if !oidRE(s[len("urn:oid:"):]) {
			c.report("value", "%q is not a valid urn:oid reference", truncate(s))
		}
		return
	}
	var typ string
	if i := strings.Index(s, "://"); i > 0 {
		// Absolute: the type is the second-to-last segment of a RESTful
		// URL, if it has that shape; other absolute URLs are allowed as
		// they are (logical endpoints, non-FHIR servers).
		p := strings.TrimRight(s[i+3:], "/")
		if h := strings.Index(p, "/_history/"); h >= 0 {
			p = p[:h]
		}
		parts := strings.Split(p, "/")
		if len(parts) >= 3 && c.s.Resource(parts[len(parts)-2]) != nil {
			typ = parts[len(parts)-2]
		}
	} else if q := strings.IndexByte(s, '?'); q >= 0 {
		// Conditional references are resolved by the server when it
		// processes a transaction (https://hl7.org/fhir/R4/http.html#trules).
		typ = s[:q]
		if c.s.Resource(typ) == nil {
			c.report("value", "conditional reference %q does not start with a resource type", truncate(s))
			return
		}
		if c.bundleType != "transaction" && c.bundleType != "batch" {
			c.report("value", "conditional reference %q is only allowed in a transaction or batch Bundle", truncate(s))
			return
		}
	} else {
		parts := strings.Split(s, "/")
		if len(parts) != 2 && !(len(parts) == 4 && parts[2] == "_history") {
			c.report("value", "%q is not a valid reference: expected Type/id, an absolute URL, #id or urn:uuid:", truncate(s))
			return
		}
		if c.s.Resource(parts[0]) == nil {
			c.report("value", "%q does not start with a known resource type", truncate(s))
			return
		}
		if !idRE(parts[1]) || (len(parts) == 4 && !idRE(parts[3])) {
			c.report("value", "%q does not contain a valid id", truncate(s))
			return
		}
		typ = parts[0]
	}
	if typ == "" {
		return
	}
	targets := referenceTargets(elem)
	if len(targets) == 0 {
		return
	}
	for _, t := range targets {
		if t == "Resource" || t == typ {
			return
		}
	}
	c.report("value", "a reference to %s is not allowed here (allowed: %s)", typ, strings.Join(targets, ", "))
}

func referenceTargets(elem *spec.Element) []string {
	for _, t := range elem.Types {
		if t.Code == "Reference" {
			return t.Targets
		}
	}
	return nil
}

// codingBinding checks a Coding against a required binding.
func (c *checker) codingBinding(v *fhir.Value, elem *spec.Element) {
	vs := c.s.ValueSet(elem.Binding.ValueSet)
	if vs == nil || !vs.Expandable {
		return
	}
	system, code := v.Str("system"), v.Str("code")
	if code == "" {
		c.report("code-invalid", "a code from the required value set %s is needed", vs.URL)
		return
	}
	if !vs.Contains(system, code) {
		c.report("code-invalid", "%s|%s is not in the required value set %s", truncate(system), truncate(code), vs.URL)
	}
}

// conceptBinding checks a CodeableConcept against a required binding: at
// least one coding must come from the value set
// (https://hl7.org/fhir/R4/terminologies.html#required).
func (c *checker) conceptBinding(v *fhir.Value, elem *spec.Element) {
	vs := c.s.ValueSet(elem.Binding.ValueSet)
	if vs == nil || !vs.Expandable {
		return
	}
	if codings, ok := v.Get("coding"); ok && codings.Kind == fhir.Array {
		for i := range codings.Items {
			cd := &codings.Items[i]
			if cd.Kind == fhir.Object && vs.Contains(cd.Str("system"), cd.Str("code")) {
				return
			}
		}
	}
	c.report("code-invalid", "no coding is from the required value set %s", vs.URL)
}

// validBase64 accepts standard base64, with the whitespace the spec's regex
// tolerates.
func validBase64(s string) bool {
	if strings.ContainsAny(s, " \t\r\n") {
		s = strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, s)
	}
	_, err := base64.StdEncoding.DecodeString(s)
	return err == nil
}

// checkCalendar checks that the day of a date, dateTime or instant exists
// ("Dates SHALL be valid dates", https://hl7.org/fhir/R4/datatypes.html#dateTime);
// the regex has already checked the shape.
func checkCalendar(s string) string {
	if len(s) < 10 {
		return ""
	}
	y, _ := strconv.Atoi(s[0:4])
	m, _ := strconv.Atoi(s[5:7])
	d, _ := strconv.Atoi(s[8:10])
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
	if m == 2 && (y%4 == 0 && (y%100 != 0 || y%400 == 0)) {
		days = 29
	}
	if d > days {
		return "day " + s[8:10] + " does not exist in that month"
	}
	return ""
}

func idRE(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '.') {
			return false
		}
	}
	return true
}

func uuidRE(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		ch := s[i]
		switch i {
		case 8, 13, 18, 23:
			if ch != '-' {
				return false
			}
		default:
			if !(ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'f' || ch >= 'A' && ch <= 'F') {
				return false
			}
		}
	}
	return true
}

func oidRE(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) < 2 || (parts[0] != "0" && parts[0] != "1" && parts[0] != "2") {
		return false
	}
	for _, p := range parts {
		if p == "" || (len(p) > 1 && p[0] == '0') {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
	}
	return true
}
