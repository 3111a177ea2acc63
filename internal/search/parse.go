package search

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/outcome"
)

// Defaults for Options fields left zero.
const (
	DefaultCount    = 20
	DefaultMaxCount = 1000
	// DefaultMaxDepth bounds chains and nested _has. R4 allows any depth;
	// every link is a join, so a server needs a limit
	// (https://hl7.org/fhir/R4/search.html#chaining).
	DefaultMaxDepth = 4
	// DefaultMaxValues bounds the alternatives of one parameter (a list of
	// codes) and the number of filters of a query.
	DefaultMaxValues = 1000
)

// Options configure Parse. The zero value is usable.
type Options struct {
	// Strict is Prefer: handling=strict: unknown and unsupported parameters
	// are an error. Otherwise (handling=lenient, the default) they are
	// ignored and reported in Query.Warnings
	// (https://hl7.org/fhir/R4/search.html#errors).
	Strict bool
	// Location is the zone of dates and times written without an offset:
	// the server's --timezone. Nil means UTC.
	Location *time.Location
	// DefaultCount is the page size without _count; MaxCount caps _count.
	DefaultCount, MaxCount int
	// MaxDepth bounds chain and _has nesting; MaxValues bounds the
	// alternatives of one parameter and the filters of a query.
	MaxDepth, MaxValues int
	// Compartment restricts a compartment search
	// (https://hl7.org/fhir/R4/search.html#compartments).
	Compartment *CompartmentRef
	// Reserved names parameters the caller handles itself (a paging
	// cursor, say). Parse skips them.
	Reserved []string
}

func (o *Options) defaults() {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.MaxCount <= 0 {
		o.MaxCount = DefaultMaxCount
	}
	if o.DefaultCount <= 0 {
		o.DefaultCount = min(DefaultCount, o.MaxCount)
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxValues <= 0 {
		o.MaxValues = DefaultMaxValues
	}
}

// CompartmentRef names a compartment: /Patient/123/Observation?… is
// {Type: "Patient", ID: "123"}.
type CompartmentRef struct{ Type, ID string }

// Compartment is a resolved compartment restriction: a resource is in it
// when one of Params refers to Type/ID, or, with Self, when it is Type/ID
// itself (the {def} of the R4 CompartmentDefinitions).
type Compartment struct {
	Type, ID string
	Params   []*spec.SearchParam
	Self     bool
}

// Query is a parsed, validated search: the conjunction of Filters over
// resources of Type (or of Types for a system search), plus the result
// parameters. It is immutable by convention once returned.
type Query struct {
	Type        string   // "" for a system search
	Types       []string // _type: the types of a system search ("" = all)
	Compartment *Compartment
	Filters     []*Filter // ANDed
	Sort        []SortKey
	Count       int // page size; 0 asks for the total only
	Total       string
	Summary     string
	Elements    []string
	Include     []Include
	RevInclude  []Include
	Contained   string
	ContainedIn string // _containedType
	// Warnings are the parameters ignored under handling=lenient and other
	// notes for the OperationOutcome entry of the result Bundle.
	Warnings []outcome.Issue
}

// Filter is one search parameter occurrence: one of
//
//   - a test of Values (ORed) on Param, with Modifier;
//   - Missing: :missing=true|false on Param;
//   - a chain: Param is a reference parameter and Chain holds, per target
//     type, the filter the referenced resource must match (ORed);
//   - a reverse chain (_has): Has holds the filter.
//
// In a system search over several types (_type) Param is the definition on
// the first type; the registry gives the others (Registry.Lookup), and Parse
// has checked that they share the code and the parameter type.
//
// Values, and the decimals inside them, are shared and read-only.
type Filter struct {
	Param    *spec.SearchParam
	Modifier string // one of the Mod* constants, or ""
	// TargetType is the :Type modifier of a reference parameter, on a
	// plain reference test or a chain link.
	TargetType string
	Missing    *bool
	Values     []Value
	Chain      []Chained
	Has        *Has
	// Components are the definitions of a composite parameter's parts, in
	// value order.
	Components []*spec.SearchParam
}

// Chained is one target type of a chain link: resources referred to must be
// of Type and match Filter.
type Chained struct {
	Type   string
	Filter *Filter
}

// Has is a reverse chain, _has:Type:param:filter
// (https://hl7.org/fhir/R4/search.html#has): a resource matches when some
// resource of Type refers to it through Param and matches Filter.
type Has struct {
	Type   string
	Param  *spec.SearchParam
	Filter *Filter
}

// Parse parses a search on resourceType ("" for a system search) with the
// registry of s. See Registry.Parse.
func Parse(s *spec.Spec, resourceType string, query url.Values, opts Options) (*Query, error) {
	return registryFor(s).Parse(resourceType, query, opts)
}

// problem is an issue found while parsing. Ignorable problems (unknown or
// unsupported parameters) are dropped with a warning under lenient handling.
type problem struct {
	code      string // issue type: invalid, not-supported, value
	msg       string
	ignorable bool
}

func (p *problem) Error() string { return p.msg }

func invalid(format string, args ...any) *problem {
	return &problem{code: "invalid", msg: fmt.Sprintf(format, args...)}
}

func unknown(format string, args ...any) *problem {
	return &problem{code: "not-supported", msg: fmt.Sprintf(format, args...), ignorable: true}
}

// parser holds the state of one Parse call.
type parser struct {
	reg    *Registry
	opts   Options
	types  []string // the types searched: {Type}, the _type list, or nil (all)
	issues []outcome.Issue
	q      *Query
	// expansions counts chain links tried, against Options.MaxValues.
	expansions int
}

// report records a problem with parameter name (as written) and its value
// ("" when the problem is with the name itself).
func (p *parser) report(name, value string, pr *problem) {
	where := fmt.Sprintf("parameter %q", name)
	if value != "" {
		where += fmt.Sprintf(" value %q", value)
	}
	if pr.ignorable && !p.opts.Strict {
		p.q.Warnings = append(p.q.Warnings, outcome.Issue{Severity: outcome.SevWarning, Code: pr.code,
			Diagnostics: where + " ignored: " + pr.msg})
		return
	}
	p.issues = append(p.issues, outcome.Issue{Severity: outcome.SevError, Code: pr.code,
		Diagnostics: where + ": " + pr.msg})
}

// Parse parses the search parameters of a request on resourceType ("" for
// a system search, where _type narrows the types) into a Query.
//
// Every problem is reported, not only the first: the error is an
// *outcome.Error of kind Invalid with one issue per problem, each naming the
// parameter and its value. Unknown and unsupported parameters are errors
// under Options.Strict and warnings otherwise
// (https://hl7.org/fhir/R4/search.html#errors).
func (r *Registry) Parse(resourceType string, query url.Values, opts Options) (*Query, error) {
	opts.defaults()
	p := &parser{reg: r, opts: opts, q: &Query{Type: resourceType, Count: opts.DefaultCount}}
	if resourceType != "" {
		if r.spec.Resource(resourceType) == nil || r.spec.Resource(resourceType).Abstract {
			return nil, outcome.New(outcome.Invalid, "not-supported", fmt.Sprintf("%q is not a resource type", resourceType))
		}
		p.types = []string{resourceType}
	}
	if opts.Compartment != nil {
		if pr := p.compartment(*opts.Compartment); pr != nil {
			return nil, outcome.New(outcome.Invalid, pr.code, pr.msg)
		}
	}
	names := make([]string, 0, len(query))
	for name := range query {
		names = append(names, name)
	}
	// Sorted so that issues and filters come out in a stable order; _type
	// first because it decides which parameters a system search knows.
	slices.SortFunc(names, func(a, b string) int {
		if (a == ParamType) != (b == ParamType) {
			if a == ParamType {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	nfilters := 0
	for _, name := range names {
		values := query[name]
		switch {
		case httpParams[name] || slices.Contains(opts.Reserved, name):
			continue
		case name == ParamType:
			p.typeParam(values)
			continue
		case isResultParam(name):
			p.resultParam(name, values)
			continue
		}
		for _, v := range values {
			if v == "" {
				// An empty value is read as the parameter's absence, as
				// most servers do: HTML forms submit empty fields, and an
				// empty value selects nothing a client could mean.
				continue
			}
			if nfilters++; nfilters > opts.MaxValues {
				p.report(name, "", &problem{code: "too-costly", msg: fmt.Sprintf("more than %d parameters", opts.MaxValues)})
				break
			}
			f, pr := p.filter(p.types, name, v, 0)
			if pr != nil {
				p.report(name, v, pr)
				continue
			}
			p.q.Filters = append(p.q.Filters, f)
		}
	}
	if len(p.issues) > 0 {
		return nil, &outcome.Error{Kind: outcome.Invalid, Issues: p.issues}
	}
	return p.q, nil
}

// compartment resolves a compartment restriction from the R4
// CompartmentDefinitions.
func (p *parser) compartment(ref CompartmentRef) *problem {
	if !validID(ref.ID) {
		return invalid("compartment id %q is not a valid id", ref.ID)
	}
	if p.q.Type == "" {
		return &problem{code: "not-supported", msg: "a compartment search needs a resource type"}
	}
	for _, c := range p.reg.spec.Compartments {
		if c.Code != ref.Type {
			continue
		}
		codes, ok := c.Resources[p.q.Type]
		if !ok || len(codes) == 0 {
			return invalid("%s resources are not in the %s compartment", p.q.Type, ref.Type)
		}
		// The owner is in its own compartment. R4 marks this with {def}
		// for some compartments but not for Patient (whose entry lists
		// only link); R5 adds {def} there too.
		comp := &Compartment{Type: ref.Type, ID: ref.ID, Self: p.q.Type == ref.Type}
		for _, code := range codes {
			if code == "{def}" {
				comp.Self = true
				continue
			}
			sp := p.reg.Lookup(p.q.Type, code)
			if sp == nil {
				return &problem{code: "not-supported", msg: fmt.Sprintf("compartment parameter %s.%s is not defined", p.q.Type, code)}
			}
			comp.Params = append(comp.Params, sp)
		}
		p.q.Compartment = comp
		return nil
	}
	return invalid("%q is not a compartment (R4 defines Patient, Encounter, RelatedPerson, Practitioner and Device)", ref.Type)
}

// typeParam handles _type (https://hl7.org/fhir/R4/search.html#type).
func (p *parser) typeParam(values []string) {
	if p.q.Type != "" {
		p.report(ParamType, "", invalid("_type applies to system search only; this search is on %s", p.q.Type))
		return
	}
	seen := map[string]bool{}
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			if t == "" {
				continue
			}
			if rt := p.reg.spec.Resource(t); rt == nil || rt.Abstract {
				p.report(ParamType, v, &problem{code: "value", msg: fmt.Sprintf("%q is not a resource type", t)})
				continue
			}
			if !seen[t] {
				seen[t] = true
				p.q.Types = append(p.q.Types, t)
			}
		}
	}
	slices.Sort(p.q.Types)
	p.types = p.q.Types
}

// lookup resolves code on every type of types (the common parameters when
// types is empty). The parameter must mean the same on all of them.
func (p *parser) lookup(types []string, code string) (*spec.SearchParam, *problem) {
	if reason, ok := unsupported[code]; ok {
		return nil, unknown("%s", reason)
	}
	if len(types) == 0 {
		sp := p.reg.Lookup("", code)
		if sp == nil {
			return nil, unknown("unknown parameter %q for a search across all types (use _type to name the types)", code)
		}
		return p.supported(sp)
	}
	var first *spec.SearchParam
	for _, t := range types {
		sp := p.reg.Lookup(t, code)
		if sp == nil {
			return nil, unknown("unknown parameter %q for %s", code, t)
		}
		if first == nil {
			first = sp
		} else if sp.Type != first.Type {
			return nil, invalid("parameter %q is a %s on %s but a %s on %s", code, first.Type, types[0], sp.Type, t)
		}
	}
	return p.supported(first)
}

func (p *parser) supported(sp *spec.SearchParam) (*spec.SearchParam, *problem) {
	if !p.reg.Supported(sp) {
		return nil, unknown("parameter %q has no FHIRPath expression to index, so it cannot be searched", sp.Code)
	}
	if sp.Type == TypeSpecial && sp.Code != "near" && sp.Code != ParamList {
		return nil, unknown("special parameter %q is not supported", sp.Code)
	}
	return sp, nil
}

// filter parses one parameter (name as written, with modifiers and chain)
// with value v on resources of types.
func (p *parser) filter(types []string, name, v string, depth int) (*Filter, *problem) {
	if strings.HasPrefix(name, ParamHas+":") || name == ParamHas {
		return p.has(types, name, v, depth)
	}
	head, rest, chained := strings.Cut(name, ".")
	code, mod, _ := strings.Cut(head, ":")
	if code == "" {
		return nil, invalid("no parameter name")
	}
	sp, pr := p.lookup(types, code)
	if pr != nil {
		return nil, pr
	}
	if chained {
		return p.chain(sp, mod, rest, v, depth)
	}
	f := &Filter{Param: sp}
	if mod == ModMissing {
		switch v {
		case "true", "false":
			b := v == "true"
			f.Missing = &b
			return f, nil
		}
		return nil, &problem{code: "value", msg: fmt.Sprintf(":missing takes true or false, not %q", v)}
	}
	if mod != "" {
		if sp.Type == TypeReference && mod != ModIdentifier && mod != ModAbove && mod != ModBelow {
			if rt := p.reg.spec.Resource(mod); rt == nil || rt.Abstract {
				return nil, invalid("unknown modifier :%s: a reference parameter takes :identifier, :above, :below, :missing or a resource type", mod)
			}
			if !targetAllowed(sp.Target, mod) {
				return nil, invalid("%s does not refer to %s (targets: %s)", code, mod, strings.Join(sp.Target, ", "))
			}
			f.TargetType = mod
		} else if !modifierAllowed(sp.Type, mod) {
			return nil, invalid("modifier :%s does not apply to %s parameter %s", mod, sp.Type, code)
		} else {
			f.Modifier = mod
		}
	}
	if code == ParamList && mod != "" {
		return nil, invalid("_list takes no modifier")
	}
	if sp.Type == TypeComposite {
		for _, c := range sp.Component {
			cp := p.reg.ByURL(c.Definition)
			if cp == nil {
				return nil, unknown("component %s of %s is not defined", c.Definition, code)
			}
			f.Components = append(f.Components, cp)
		}
	}
	alts := splitEscaped(v, ',')
	if len(alts) > p.opts.MaxValues {
		return nil, &problem{code: "too-costly", msg: fmt.Sprintf("more than %d alternatives", p.opts.MaxValues)}
	}
	for _, alt := range alts {
		val, err := p.value(f, alt)
		if err != nil {
			msg := err.Error()
			if len(alts) > 1 {
				msg = fmt.Sprintf("alternative %q: %s", unescape(alt), msg)
			}
			return nil, &problem{code: "value", msg: msg}
		}
		f.Values = append(f.Values, val)
	}
	return f, nil
}

// value parses one alternative for filter f according to its parameter's
// type and modifier.
func (p *parser) value(f *Filter, s string) (Value, error) {
	if s == "" {
		return nil, errorf("empty alternative")
	}
	sp := f.Param
	switch sp.Type {
	case TypeNumber:
		return checkComparator(sp)(parseNumber(s))
	case TypeDate:
		return checkComparator(sp)(parseDate(s, p.opts.Location))
	case TypeString:
		return parseString(s)
	case TypeToken:
		return parseToken(s, f.Modifier)
	case TypeReference:
		switch f.Modifier {
		case ModIdentifier:
			return parseToken(s, "")
		}
		return parseReference(s, sp.Target, f.TargetType, p.isType)
	case TypeQuantity:
		return checkComparator(sp)(parseQuantity(s))
	case TypeURI:
		return parseURI(s)
	case TypeComposite:
		parts := splitEscaped(s, '$')
		if len(parts) != len(f.Components) {
			return nil, errorf("%s has %d components joined by $, not %d", sp.Code, len(f.Components), len(parts))
		}
		var cv CompositeValue
		for i, part := range parts {
			cf := &Filter{Param: f.Components[i]}
			if cf.Param.Type == TypeComposite {
				return nil, errorf("nested composite")
			}
			c, err := p.value(cf, part)
			if err != nil {
				return nil, errorf("component %s: %s", cf.Param.Code, err)
			}
			cv.Components = append(cv.Components, c)
		}
		return cv, nil
	case TypeSpecial:
		if sp.Code == ParamList {
			u := unescape(s)
			if !validID(u) && !(strings.HasPrefix(u, "$") && validID(u[1:])) {
				return nil, errorf("not a List id")
			}
			return ListValue{ID: u}, nil
		}
		return parseNear(s)
	}
	return nil, errorf("parameter type %q is not supported", sp.Type)
}

// checkComparator rejects a prefix the definition does not list in its
// comparators (SearchParameter.comparator). R4's own definitions list all
// nine; a custom one may allow fewer. No list means no restriction.
func checkComparator(sp *spec.SearchParam) func(Value, error) (Value, error) {
	return func(v Value, err error) (Value, error) {
		if err != nil || len(sp.Comparator) == 0 {
			return v, err
		}
		var prefix Prefix
		switch v := v.(type) {
		case NumberValue:
			prefix = v.Prefix
		case DateValue:
			prefix = v.Prefix
		case QuantityValue:
			prefix = v.Prefix
		}
		if !slices.Contains(sp.Comparator, string(prefix)) {
			return nil, errorf("%s does not take the prefix %s (it takes %s)", sp.Code, prefix, strings.Join(sp.Comparator, ", "))
		}
		return v, nil
	}
}

func (p *parser) isType(s string) bool {
	t := p.reg.spec.Resource(s)
	return t != nil && !t.Abstract
}
