package search

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/outcome"
)

// Result parameters (https://hl7.org/fhir/R4/search.html#return).
const (
	ParamSort          = "_sort"
	ParamCount         = "_count"
	ParamTotal         = "_total"
	ParamSummary       = "_summary"
	ParamElements      = "_elements"
	ParamInclude       = "_include"
	ParamRevInclude    = "_revinclude"
	ParamContained     = "_contained"
	ParamContainedType = "_containedType"
)

// The values of _total, _summary, _contained and _containedType.
var (
	totalValues         = []string{"none", "estimate", "accurate"}
	summaryValues       = []string{"true", "text", "data", "count", "false"}
	containedValues     = []string{"true", "false", "both"}
	containedTypeValues = []string{"container", "contained"}
)

// SortKey is one key of _sort (https://hl7.org/fhir/R4/search.html#sort).
type SortKey struct {
	Param      *spec.SearchParam
	Descending bool
}

func (k SortKey) String() string {
	if k.Descending {
		return "-" + k.Param.Code
	}
	return k.Param.Code
}

// Include is one _include or _revinclude
// (https://hl7.org/fhir/R4/search.html#include): resources referred to by
// Source resources through Param (for _revinclude: Source resources that
// refer to the matches through Param), restricted to Target when set. Param
// nil is the wildcard *: every reference parameter of Source (of the
// searched types when Source is "").
type Include struct {
	Source  string
	Param   *spec.SearchParam
	Target  string
	Iterate bool
}

func (in Include) String() string {
	if in.Param == nil {
		if in.Source == "" {
			return "*"
		}
		return in.Source + ":*"
	}
	s := in.Source + ":" + in.Param.Code
	if in.Target != "" {
		s += ":" + in.Target
	}
	return s
}

func isResultParam(name string) bool {
	base, _, _ := strings.Cut(name, ":")
	switch base {
	case ParamSort, ParamCount, ParamTotal, ParamSummary, ParamElements, ParamInclude, ParamRevInclude,
		ParamContained, ParamContainedType:
		return true
	}
	return false
}

// resultParam handles one result parameter with all its values.
func (p *parser) resultParam(name string, values []string) {
	base, mod, _ := strings.Cut(name, ":")
	if base == ParamInclude || base == ParamRevInclude {
		iterate := false
		switch mod {
		case "":
		case "iterate", "recurse": // :recurse is the R3 spelling, still common
			iterate = true
		default:
			p.report(name, "", invalid("unknown modifier :%s (only :iterate applies)", mod))
			return
		}
		for _, v := range values {
			if v == "" {
				continue
			}
			in, pr := p.include(base == ParamRevInclude, v, iterate)
			if pr != nil {
				p.report(name, v, pr)
				continue
			}
			in.Iterate = iterate
			if base == ParamInclude {
				p.q.Include = append(p.q.Include, in)
			} else {
				p.q.RevInclude = append(p.q.RevInclude, in)
			}
		}
		return
	}
	if mod != "" {
		p.report(name, "", invalid("%s takes no modifier", base))
		return
	}
	var v string
	for _, x := range values {
		if x == "" {
			continue
		}
		if v != "" {
			p.report(name, "", invalid("%s may appear only once", base))
			return
		}
		v = x
	}
	if v == "" {
		return
	}
	bad := func(msg string, args ...any) {
		p.report(name, v, &problem{code: "value", msg: fmt.Sprintf(msg, args...)})
	}
	switch base {
	case ParamSort:
		p.sort(name, v)
	case ParamCount:
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			bad("_count takes a whole number ≥ 0")
			return
		}
		if n > p.opts.MaxCount {
			p.q.Warnings = append(p.q.Warnings, outcome.Issue{Severity: outcome.SevInfo, Code: "informational",
				Diagnostics: fmt.Sprintf("_count=%d reduced to the server's maximum page size, %d", n, p.opts.MaxCount)})
			n = p.opts.MaxCount
		}
		p.q.Count = n
	case ParamTotal:
		if !slices.Contains(totalValues, v) {
			bad("_total takes none, estimate or accurate")
			return
		}
		p.q.Total = v
	case ParamSummary:
		if !slices.Contains(summaryValues, v) {
			bad("_summary takes true, text, data, count or false")
			return
		}
		p.q.Summary = v
	case ParamElements:
		p.elements(name, v)
	case ParamContained:
		if !slices.Contains(containedValues, v) {
			bad("_contained takes true, false or both")
			return
		}
		p.q.Contained = v
	case ParamContainedType:
		if !slices.Contains(containedTypeValues, v) {
			bad("_containedType takes container or contained")
			return
		}
		p.q.ContainedIn = v
	}
}

// sort parses _sort: comma-separated parameter codes, each optionally
// prefixed by - for descending order.
func (p *parser) sort(name, v string) {
	seen := map[string]bool{}
	for _, key := range strings.Split(v, ",") {
		desc := strings.HasPrefix(key, "-")
		code := strings.TrimPrefix(key, "-")
		if code == "" {
			p.report(name, v, &problem{code: "value", msg: "empty sort key"})
			continue
		}
		sp, pr := p.lookup(p.types, code)
		if pr != nil {
			// An unknown sort key is an error under either handling:
			// ignoring it would return results in an order the client
			// did not ask for while looking right.
			pr.ignorable = false
			p.report(name, v, pr)
			continue
		}
		if sp.Type == TypeComposite || sp.Type == TypeSpecial {
			p.report(name, v, &problem{code: "not-supported", msg: fmt.Sprintf("cannot sort by %s parameter %s", sp.Type, code)})
			continue
		}
		if seen[code] {
			p.report(name, v, &problem{code: "value", msg: fmt.Sprintf("sort key %s repeated", code)})
			continue
		}
		seen[code] = true
		p.q.Sort = append(p.q.Sort, SortKey{Param: sp, Descending: desc})
	}
}

// elements parses _elements: top-level element names of the searched types
// (https://hl7.org/fhir/R4/search.html#elements). Choice elements are named
// by their stem (value, not valueQuantity).
func (p *parser) elements(name, v string) {
	for _, e := range strings.Split(v, ",") {
		e = strings.TrimSuffix(e, "[x]")
		if e == "" {
			continue
		}
		ok := len(p.types) == 0 && validElementName(e)
		for _, t := range p.types {
			if rt := p.reg.spec.Resource(t); rt != nil && rt.Root.Child(e) != nil {
				ok = true
			}
		}
		if !ok {
			p.report(name, v, &problem{code: "value", msg: fmt.Sprintf("%q is not an element of %s", e, strings.Join(p.types, " or "))})
			continue
		}
		if !slices.Contains(p.q.Elements, e) {
			p.q.Elements = append(p.q.Elements, e)
		}
	}
}

func validElementName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return s != ""
}

// include parses one _include or _revinclude value, Source:param[:Target],
// Source:* or *.
func (p *parser) include(rev bool, v string, iterate bool) (Include, *problem) {
	what := ParamInclude
	if rev {
		what = ParamRevInclude
	}
	if v == "*" {
		if rev {
			return Include{}, invalid("_revinclude=* is not supported: name the source type, as in Provenance:*")
		}
		return Include{}, nil
	}
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return Include{}, invalid("%s takes Type:parameter[:targetType] or *", what)
	}
	in := Include{Source: parts[0]}
	if !p.isType(in.Source) {
		return Include{}, invalid("%q is not a resource type", in.Source)
	}
	// Without :iterate an _include starts from the matches, so its source
	// must be a type being searched.
	if !rev && !iterate && len(p.types) > 0 && !slices.Contains(p.types, in.Source) {
		return Include{}, invalid("_include source %s is not the type searched (%s); use _include:iterate to include from included resources",
			in.Source, strings.Join(p.types, ", "))
	}
	if parts[1] == "*" {
		if len(parts) == 3 {
			return Include{}, invalid("a wildcard include takes no target type")
		}
		return in, nil
	}
	sp := p.reg.Lookup(in.Source, parts[1])
	if sp == nil {
		return Include{}, invalid("%s has no search parameter %q", in.Source, parts[1])
	}
	if sp.Type != TypeReference {
		return Include{}, invalid("%s:%s is a %s parameter; includes follow reference parameters", in.Source, parts[1], sp.Type)
	}
	in.Param = sp
	if len(parts) == 3 {
		if !p.isType(parts[2]) || !targetAllowed(sp.Target, parts[2]) {
			return Include{}, invalid("%s:%s does not refer to %s (targets: %s)", in.Source, parts[1], parts[2], strings.Join(sp.Target, ", "))
		}
		in.Target = parts[2]
	}
	if rev && !iterate && len(p.types) > 0 {
		ok := false
		for _, t := range p.types {
			if (in.Target == "" || in.Target == t) && targetAllowed(sp.Target, t) {
				ok = true
			}
		}
		if !ok {
			return Include{}, invalid("%s:%s does not refer to %s", in.Source, parts[1], strings.Join(p.types, " or "))
		}
	}
	return in, nil
}
