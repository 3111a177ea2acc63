package index

import (
	"strings"

	"github.com/continuum-ehr/continuum/internal/fhir"
)

// Most SearchParameters of a type select elements a given resource does
// not have (an Observation has ~45 parameters and a typical one fills a
// dozen). Evaluating an expression only to learn that Observation.focus is
// absent costs an evaluation; heads let Extract skip it with a glance at
// the resource's member names.
//
// pathHeads returns, for an expression that is a union of plain paths, what
// each branch needs to be non-empty: its first element ("focus"), possibly
// a second step ("meta.security"), or, for a choice narrowed by type
// ("(Observation.value as Quantity)"), the JSON forms that type can take
// (valueQuantity, valueAge …). It returns nil — always evaluate — unless
// every branch is a path whose result is empty when what it needs is
// absent: steps, indexers, and the functions and operators below, which
// all map empty to empty. A branch such as "Patient.deceased.exists() and
// …" gives a value (false) on an absent element, so its expression is
// never skipped. The tests compare rows with and without the shortcut over
// all official examples and Synthea bundles.
//
// typeName is the resource type the branches start with; "" for the
// component expressions of a composite, which start at the element.
func pathHeads(expr, typeName string) []head {
	var heads []head
	for _, b := range splitUnion(expr) {
		h, ok := branchHead(b, typeName)
		if !ok {
			return nil
		}
		heads = append(heads, h)
	}
	return heads
}

// head is what one branch needs: member first (any JSON form of it), and
// inside it member second if set. With forms set, first must appear as
// exactly first or first+one of forms (a choice element narrowed by type).
type head struct {
	first, second string
	forms         []string
}

// emptyPreserving are the functions that give empty on empty input
// whatever their arguments.
var emptyPreserving = map[string]bool{
	"where": true, "as": true, "ofType": true, "resolve": true, "first": true, "last": true,
	"extension": true,
}

// choiceForms lists, for a type, the suffixes of the choice-element forms
// that as()/ofType() with that type keep. Types with FHIR subtypes list
// them (as() follows inheritance: Age is a Quantity, code is a string);
// a type not listed is not narrowed.
var choiceForms = map[string][]string{
	"Quantity":        {"Quantity", "Age", "Count", "Distance", "Duration", "SimpleQuantity", "MoneyQuantity"},
	"Age":             {"Age"},
	"Duration":        {"Duration"},
	"Range":           {"Range"},
	"Ratio":           {"Ratio"},
	"Period":          {"Period"},
	"SampledData":     {"SampledData"},
	"CodeableConcept": {"CodeableConcept"},
	"Coding":          {"Coding"},
	"Reference":       {"Reference"},
	"Identifier":      {"Identifier"},
	"Timing":          {"Timing"},
	"Attachment":      {"Attachment"},
	"Money":           {"Money"},
	"boolean":         {"Boolean"},
	"dateTime":        {"DateTime"},
	"date":            {"Date"},
	"instant":         {"Instant"},
	"time":            {"Time"},
	"string":          {"String", "Code", "Id", "Markdown"},
	"uri":             {"Uri", "Url", "Canonical", "Oid", "Uuid"},
	"integer":         {"Integer", "PositiveInt", "UnsignedInt"},
	"decimal":         {"Decimal"},
}

func branchHead(b, typeName string) (head, bool) {
	var h head
	s := strings.TrimSpace(b)
	open := 0
	for strings.HasPrefix(s, "(") {
		open++
		s = strings.TrimSpace(s[1:])
	}
	ident := func() string {
		i := 0
		for i < len(s) && (isLetter(s[i]) || i > 0 && s[i] >= '0' && s[i] <= '9') {
			i++
		}
		id := s[:i]
		s = s[i:]
		return id
	}
	if typeName != "" {
		first := ident()
		if first != typeName && first != "Resource" && first != "DomainResource" {
			return h, false
		}
		if !strings.HasPrefix(s, ".") {
			return h, false
		}
		s = s[1:]
	}
	h.first = ident()
	switch {
	case h.first == "extension" && strings.HasPrefix(s, "("):
		// Type.extension('url') selects among the extension elements.
		end := closing(s)
		if end < 0 {
			return h, false
		}
		s = s[end+1:]
	case h.first == "" || strings.HasPrefix(s, "("):
		return h, false // a function, not an element
	case len(s) > 1 && s[0] == '.' && isLetter(s[1]):
		// A second plain step narrows the head: Resource.meta.security
		// is skipped when meta has no security.
		rest := s
		s = s[1:]
		if second := ident(); second != "" && !strings.HasPrefix(s, "(") {
			h.second = second
		} else {
			s = rest
		}
	}
	// A type narrowing right after the element: "x as T", "x.as(T)",
	// "x.ofType(T)".
	if h.second == "" && h.first != "extension" {
		rest := s
		var t string
		switch {
		case strings.HasPrefix(s, " as "):
			s = s[4:]
			t = ident()
		case strings.HasPrefix(s, ".as(") || strings.HasPrefix(s, ".ofType("):
			s = s[strings.IndexByte(s, '(')+1:]
			t = ident()
			if !strings.HasPrefix(s, ")") {
				t = ""
			} else {
				s = s[1:]
			}
		}
		if forms, ok := choiceForms[t]; ok {
			h.forms = forms
		} else {
			s = rest
		}
	}
	for s != "" {
		switch {
		case s[0] == ' ':
			s = s[1:]
			if op := ident(); op != "as" && op != "is" {
				return h, false
			}
			s = strings.TrimLeft(s, " ")
			if ident() == "" {
				return h, false
			}
		case s[0] == '.':
			s = s[1:]
			name := ident()
			if name == "" {
				return h, false
			}
			if strings.HasPrefix(s, "(") {
				if !emptyPreserving[name] {
					return h, false
				}
				end := closing(s)
				if end < 0 {
					return h, false
				}
				s = s[end+1:]
			}
		case s[0] == '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return h, false
			}
			s = s[end+1:]
		case s[0] == ')' && open > 0:
			open--
			s = s[1:]
		default:
			return h, false
		}
	}
	return h, open == 0
}

// closing returns the index of the parenthesis closing s[0], skipping
// string literals, or -1.
func closing(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		case '\'', '`':
			for i++; i < len(s) && s[i] != c; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		}
	}
	return -1
}

// hasAny reports whether object v has what one of the heads needs.
func hasAny(v *fhir.Value, heads []head) bool {
	for i := range heads {
		h := &heads[i]
		for j := range v.Members {
			if !h.matches(v.Members[j].Name) {
				continue
			}
			if h.second == "" {
				return true
			}
			m := &v.Members[j].Value
			switch m.Kind {
			case fhir.Object:
				if hasMember(m, h.second) {
					return true
				}
			case fhir.Array:
				for k := range m.Items {
					if m.Items[k].Kind == fhir.Object && hasMember(&m.Items[k], h.second) {
						return true
					}
				}
			default:
				return true // unexpected shape: let the engine decide
			}
		}
	}
	return false
}

func hasMember(v *fhir.Value, name string) bool {
	for i := range v.Members {
		if memberIs(v.Members[i].Name, name) {
			return true
		}
	}
	return false
}

// matches reports whether JSON member name can hold the head's element.
func (h *head) matches(name string) bool {
	if h.forms == nil {
		return memberIs(name, h.first)
	}
	name = strings.TrimPrefix(name, "_")
	rest, ok := strings.CutPrefix(name, h.first)
	if !ok {
		return false
	}
	if rest == "" {
		return true // not a choice element: the engine narrows
	}
	for _, f := range h.forms {
		if rest == f {
			return true
		}
	}
	return false
}

// memberIs reports whether JSON member name is element h: h itself, "_h",
// or a choice form hType.
func memberIs(name, h string) bool {
	name = strings.TrimPrefix(name, "_")
	return strings.HasPrefix(name, h) && (len(name) == len(h) || name[len(h)] >= 'A' && name[len(h)] <= 'Z')
}
