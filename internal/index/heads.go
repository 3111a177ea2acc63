package index

import (
	"strings"

	"github.com/continuum-ehr/continuum/internal/fhir"
)

// Most SearchParameters of a type select elements a given resource does
// not have (an Observation has ~45 parameters and a typical one fills a
// dozen). Evaluating an expression only to learn that Observation.focus is
// absent costs an evaluation; heads lets Extract skip it with a glance at
// the resource's top-level member names.
//
// pathHeads returns, for an expression that is a union of plain paths, the
// first element each branch selects ("Observation.value as Quantity" →
// "value"). It returns nil — always evaluate — unless every branch is a
// path whose result is empty when its first element is absent: steps,
// indexers, and the functions and operators below, which all map empty to
// empty. A branch such as "Patient.deceased.exists() and …" gives a value
// (false) on an absent element, so its expression is never skipped.
//
// typeName is the resource type the branches start with; "" for the
// component expressions of a composite, which start at the element.
func pathHeads(expr, typeName string) []string {
	var heads []string
	for _, b := range splitUnion(expr) {
		h, ok := branchHead(b, typeName)
		if !ok {
			return nil
		}
		heads = append(heads, h)
	}
	return heads
}

// emptyPreserving are the functions that give empty on empty input
// whatever their arguments.
var emptyPreserving = map[string]bool{
	"where": true, "as": true, "ofType": true, "resolve": true, "first": true, "last": true,
	"extension": true,
}

func branchHead(b, typeName string) (string, bool) {
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
			return "", false
		}
		if !strings.HasPrefix(s, ".") {
			return "", false
		}
		s = s[1:]
	}
	head := ident()
	if head == "extension" && strings.HasPrefix(s, "(") {
		// Type.extension('url') selects among the extension elements.
		end := closing(s)
		if end < 0 {
			return "", false
		}
		s = s[end+1:]
	} else if head == "" || strings.HasPrefix(s, "(") {
		return "", false // a function, not an element
	} else if len(s) > 1 && s[0] == '.' && isLetter(s[1]) {
		// A second plain step narrows the head: Resource.meta.security
		// is skipped when meta has no security.
		rest := s
		s = s[1:]
		if second := ident(); second != "" && !strings.HasPrefix(s, "(") {
			head += "." + second
		} else {
			s = rest
		}
	}
	for s != "" {
		switch {
		case s[0] == ' ':
			s = s[1:]
			if op := ident(); op != "as" && op != "is" {
				return "", false
			}
			s = strings.TrimLeft(s, " ")
			if ident() == "" {
				return "", false
			}
		case s[0] == '.':
			s = s[1:]
			name := ident()
			if name == "" {
				return "", false
			}
			if strings.HasPrefix(s, "(") {
				if !emptyPreserving[name] {
					return "", false
				}
				end := closing(s)
				if end < 0 {
					return "", false
				}
				s = s[end+1:]
			}
		case s[0] == '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return "", false
			}
			s = s[end+1:]
		case s[0] == ')' && open > 0:
			open--
			s = s[1:]
		default:
			return "", false
		}
	}
	return head, open == 0
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

// hasAny reports whether object v has a member for one of the heads: the
// element itself, a typed form of a choice element (value → valueQuantity)
// or a primitive's "_name" companion. A two-step head ("meta.security")
// also needs the second step in the first one's object (or in one of its
// array's objects).
func hasAny(v *fhir.Value, heads []string) bool {
	for _, h := range heads {
		first, second, two := strings.Cut(h, ".")
		for i := range v.Members {
			if !memberIs(v.Members[i].Name, first) {
				continue
			}
			if !two {
				return true
			}
			m := &v.Members[i].Value
			if m.Kind == fhir.Object && hasMember(m, second) {
				return true
			}
			if m.Kind == fhir.Array {
				for j := range m.Items {
					if m.Items[j].Kind == fhir.Object && hasMember(&m.Items[j], second) {
						return true
					}
				}
			}
			if m.Kind != fhir.Object && m.Kind != fhir.Array {
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

// memberIs reports whether JSON member name is element h: h itself, "_h",
// or a choice form hType.
func memberIs(name, h string) bool {
	name = strings.TrimPrefix(name, "_")
	return strings.HasPrefix(name, h) && (len(name) == len(h) || name[len(h)] >= 'A' && name[len(h)] <= 'Z')
}
