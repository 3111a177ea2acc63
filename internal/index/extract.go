package index

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/fhirpath"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/outcome"
)

// ExtractorVersion identifies what extraction produces. The store records
// it with its index; when it changes (new rows, different normalisation,
// a hash change) the store reindexes every resource. Bump it with any
// change that alters the rows of any resource: the golden files show
// such changes as diffs.
const ExtractorVersion = 1

// maxCompositeTuples bounds the component combinations of one composite
// value, so a pathological resource cannot multiply rows without limit.
const maxCompositeTuples = 64

// Entries are the index rows of one resource, one slice per parameter type
// (https://hl7.org/fhir/R4/search.html#ptypes). Rows of one slice are
// ordered by parameter code, then by the order of the values in the
// resource.
type Entries struct {
	Tokens     []Token
	Strings    []String
	Dates      []Date
	Numbers    []Number
	Quantities []Quantity
	References []Reference
	URIs       []URI
	Composites []Composite
}

// Len is the number of rows of all types.
func (e *Entries) Len() int {
	return len(e.Tokens) + len(e.Strings) + len(e.Dates) + len(e.Numbers) + len(e.Quantities) +
		len(e.References) + len(e.URIs) + len(e.Composites)
}

// Options tune an Extractor.
type Options struct {
	// Zone reads dates and times that carry no zone (a date, or a
	// dateTime at day precision or coarser) when they become instants
	// (the server's --timezone). Nil: UTC.
	Zone *time.Location
}

// Extractor computes the index rows of resources. It compiles every
// SearchParameter expression once; Extract may then be called from many
// goroutines. AddParam changes the Extractor and must not run
// concurrently with Extract: a server that installs a custom
// SearchParameter builds a new Extractor and swaps it in.
type Extractor struct {
	spec   *spec.Spec
	zone   *time.Location
	cache  *fhirpath.Cache
	byType map[string][]*param
	byURL  map[string]*spec.SearchParam
	env    fhirpath.Env
	// evaluateAll turns off the heads shortcut; tests compare both ways.
	evaluateAll bool
}

// param is one SearchParameter as it applies to one resource type.
type param struct {
	code  string
	typ   string
	expr  *fhirpath.Expression
	heads []head // see pathHeads; nil: always evaluate
	// targets are the resource types a reference parameter may point to
	// (SearchParameter.target); nil: any.
	targets    []string
	components []component
}

type component struct {
	code  string
	typ   string
	expr  *fhirpath.Expression
	heads []head
}

// New compiles the SearchParameters of s (R4's ~1,400) for every resource
// type. Parameters without an expression (_text, _content, _has, _list,
// special ones) are answered by other means and have no rows here.
func New(s *spec.Spec) *Extractor {
	x, err := NewWithOptions(s, Options{})
	if err != nil {
		// R4's own definitions compile; a failure is a bug of the engine
		// or of the generated definitions, caught by the tests.
		panic(err)
	}
	return x
}

// NewWithOptions is New with options. It fails if an expression of s does
// not compile.
func NewWithOptions(s *spec.Spec, opts Options) (*Extractor, error) {
	x := &Extractor{
		spec:   s,
		zone:   opts.Zone,
		cache:  fhirpath.NewCache(0),
		byType: make(map[string][]*param),
		byURL:  make(map[string]*spec.SearchParam),
	}
	if x.zone == nil {
		x.zone = time.UTC
	}
	x.env = fhirpath.Env{Spec: s, AsFilters: true, Resolver: x.resolveType}
	for i := range s.SearchParams {
		sp := &s.SearchParams[i]
		if _, dup := x.byURL[sp.URL]; !dup {
			x.byURL[sp.URL] = sp
		}
	}
	for i := range s.SearchParams {
		if err := x.add(s.SearchParams[i]); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// AddParam adds a custom SearchParameter
// (https://hl7.org/fhir/R4/searchparameter.html). It fails, leaving the
// Extractor unchanged, when the expression does not compile, the type is
// unknown, or a base is not a resource type.
func (x *Extractor) AddParam(sp spec.SearchParam) error {
	switch sp.Type {
	case "number", "date", "string", "token", "reference", "composite", "quantity", "uri", "special":
	default:
		return outcome.Errorf(outcome.Invalid, "SearchParameter %s: unknown type %q", sp.Code, sp.Type)
	}
	if sp.Code == "" || len(sp.Base) == 0 {
		return outcome.Errorf(outcome.Invalid, "SearchParameter needs a code and a base")
	}
	for _, b := range sp.Base {
		if t := x.spec.Resource(b); t == nil {
			return outcome.Errorf(outcome.Invalid, "SearchParameter %s: base %q is not a resource type", sp.Code, b)
		}
	}
	if _, err := fhirpath.Compile(sp.Expression); sp.Expression != "" && err != nil {
		return outcome.Errorf(outcome.Invalid, "SearchParameter %s: expression: %v", sp.Code, err)
	}
	for _, c := range sp.Component {
		if _, err := fhirpath.Compile(c.Expression); err != nil {
			return outcome.Errorf(outcome.Invalid, "SearchParameter %s: component expression: %v", sp.Code, err)
		}
	}
	if sp.URL != "" {
		x.byURL[sp.URL] = &sp
	}
	return x.add(sp)
}

// add installs sp for each concrete resource type it applies to. A code
// already defined for a type keeps its first definition (R4 defines _id
// twice).
func (x *Extractor) add(sp spec.SearchParam) error {
	if sp.Expression == "" || sp.Type == "special" || len(sp.Base) == 0 {
		return nil
	}
	for _, rt := range x.spec.ResourceTypes() {
		applies := false
		for _, b := range sp.Base {
			if x.spec.IsA(rt, b) {
				applies = true
				break
			}
		}
		if !applies || slices.ContainsFunc(x.byType[rt], func(p *param) bool { return p.code == sp.Code }) {
			continue
		}
		src := specialize(sp.Expression, rt, x.isResourceName)
		if src == "" {
			continue // every branch is for other types
		}
		expr, err := x.cache.Compile(src)
		if err != nil {
			return outcome.Errorf(outcome.Invalid, "SearchParameter %s (%s): %v", sp.Code, rt, err)
		}
		p := &param{code: sp.Code, typ: sp.Type, expr: expr, heads: pathHeads(src, rt)}
		if sp.Type == "reference" && len(sp.Target) > 0 && !slices.Contains(sp.Target, "Resource") {
			p.targets = sp.Target
		}
		if sp.Type == "composite" {
			for _, c := range sp.Component {
				def := x.byURL[c.Definition]
				if def == nil {
					return outcome.Errorf(outcome.Invalid, "SearchParameter %s: component %s is not a known SearchParameter", sp.Code, c.Definition)
				}
				ce, err := x.cache.Compile(c.Expression)
				if err != nil {
					return outcome.Errorf(outcome.Invalid, "SearchParameter %s: component %s: %v", sp.Code, def.Code, err)
				}
				p.components = append(p.components, component{code: def.Code, typ: def.Type, expr: ce, heads: pathHeads(c.Expression, "")})
			}
		}
		ps := append(x.byType[rt], p)
		slices.SortStableFunc(ps, func(a, b *param) int { return cmp.Compare(a.code, b.code) })
		x.byType[rt] = ps
	}
	return nil
}

func (x *Extractor) isResourceName(name string) bool {
	t := x.spec.Resource(name)
	return t != nil
}

// Spec returns the definitions the Extractor was built from.
func (x *Extractor) Spec() *spec.Spec { return x.spec }

// Params lists the codes of the parameters with rows for a resource type,
// sorted.
func (x *Extractor) Params(resourceType string) []string {
	var out []string
	for _, p := range x.byType[resourceType] {
		out = append(out, p.code)
	}
	return out
}

// Extract returns the index rows of resource for every SearchParameter of
// its type, the common ones (_id, _lastUpdated, _tag, _profile, _security,
// _source) included. The store calls it on the version it is about to
// write, after it has set meta.lastUpdated and rewritten references
// (urn:uuid → Type/id) — rows reflect exactly the stored bytes.
//
// Values of a type a parameter cannot index (a Range for a date
// parameter, SampledData for a quantity) give no row, as other servers do.
// An error means the resource is not a resource, or an expression failed
// on it (the error names the parameter).
func (x *Extractor) Extract(resource *fhir.Value) (Entries, error) {
	return x.extract(resource, nil)
}

// ExtractParams is Extract limited to the parameters named in codes: what
// authorization needs on every read (the references of the Patient
// compartment's parameters, the parameters of a scope's constraint), at a
// fraction of the cost of every row.
func (x *Extractor) ExtractParams(resource *fhir.Value, codes []string) (Entries, error) {
	if codes == nil {
		codes = []string{}
	}
	return x.extract(resource, codes)
}

// extract evaluates the parameters named in only, or all when only is nil.
func (x *Extractor) extract(resource *fhir.Value, only []string) (Entries, error) {
	var e Entries
	if resource == nil || resource.Kind != fhir.Object {
		return e, outcome.New(outcome.Invalid, "", "index: a resource must be a JSON object")
	}
	rt := resource.ResourceType()
	params, ok := x.byType[rt]
	if !ok {
		if x.spec.Resource(rt) == nil {
			return e, outcome.Errorf(outcome.Invalid, "index: unknown resource type %q", rt)
		}
		return e, nil
	}
	root := fhirpath.Collection{fhirpath.ResourceNode(x.spec, resource)}
	for _, p := range params {
		if only != nil && !slices.Contains(only, p.code) {
			continue
		}
		if p.heads != nil && !x.evaluateAll && !hasAny(resource, p.heads) {
			continue
		}
		items, err := p.expr.Evaluate(&x.env, root)
		if err != nil {
			return e, outcome.Errorf(outcome.Invalid, "index: %s.%s: %v", rt, p.code, err)
		}
		if p.typ == "composite" {
			if err := x.composite(&e, p, items); err != nil {
				return e, outcome.Errorf(outcome.Invalid, "index: %s.%s: %v", rt, p.code, err)
			}
			continue
		}
		n := len(e.References)
		for _, it := range items {
			x.addItem(&e, p.typ, p.code, it)
		}
		if p.targets != nil {
			e.References = filterTargets(e.References, n, p.targets)
		}
	}
	return e, nil
}

// addItem converts one value of a parameter to rows of the parameter's type.
func (x *Extractor) addItem(e *Entries, typ, code string, it fhirpath.Item) {
	switch typ {
	case "token":
		e.Tokens = appendTokens(e.Tokens, x.spec, code, it)
	case "string":
		e.Strings = appendStrings(e.Strings, code, it)
	case "date":
		e.Dates = appendDates(e.Dates, code, it, x.zone)
	case "number":
		e.Numbers = appendNumbers(e.Numbers, code, it)
	case "quantity":
		e.Quantities = appendQuantities(e.Quantities, code, it)
	case "reference":
		e.References = appendReferences(e.References, x.spec, code, it)
	case "uri":
		e.URIs = appendURIs(e.URIs, code, it)
	}
}

// filterTargets drops the rows from index n on whose type the parameter
// does not allow: R4 gives Bundle.composition and Bundle.message the same
// expression (Bundle.entry[0].resource), and only the target list tells
// a Composition from a MessageHeader. Rows without a type (URLs,
// identifiers) stay.
func filterTargets(rows []Reference, n int, targets []string) []Reference {
	out := rows[:n]
	for _, r := range rows[n:] {
		if r.Type == "" || slices.Contains(targets, r.Type) {
			out = append(out, r)
		}
	}
	return out
}

// resolveType answers resolve() for references outside the resource
// without a database: "Patient/123" (relative or absolute) resolves to a
// stub {"resourceType":"Patient","id":"123"}, which is all that
// expressions such as subject.where(resolve() is Patient) need
// (https://hl7.org/fhir/R4/search.html#reference). A reference whose type
// cannot be read from it (urn:uuid:…, a logical identifier) resolves to
// nothing, so such a parameter gets no row — as on a server that cannot
// resolve it.
func (x *Extractor) resolveType(ref string) (*fhir.Value, error) {
	r := parseReference(ref, x.isResourceName)
	if r.typ == "" || r.id == "" {
		return nil, nil
	}
	return &fhir.Value{Kind: fhir.Object, Members: []fhir.Member{
		{Name: "resourceType", Value: fhir.Value{Kind: fhir.String, Text: r.typ}},
		{Name: "id", Value: fhir.Value{Kind: fhir.String, Text: r.id}},
	}}, nil
}

// specialize keeps the branches of a top-level union that can apply to
// resource type rt. R4 shares one expression among many types
// ("AllergyIntolerance.code | Condition.code | …", 15 types for "code"),
// and evaluating the other types' branches on every resource is wasted
// work. A branch is dropped when it starts (after opening parentheses)
// with the name of another resource type; anything it cannot read is
// kept, so the result selects exactly what the whole expression selects.
func specialize(expr, rt string, isResource func(string) bool) string {
	branches := splitUnion(expr)
	if len(branches) < 2 {
		return expr
	}
	var keep []string
	for _, b := range branches {
		head := strings.TrimLeft(b, "( ")
		end := 0
		for end < len(head) && (isLetter(head[end]) || (end > 0 && head[end] >= '0' && head[end] <= '9')) {
			end++
		}
		name := head[:end]
		if name != "" && name != rt && end < len(head) && head[end] == '.' && isResource(name) &&
			name != "Resource" && name != "DomainResource" {
			continue
		}
		keep = append(keep, b)
	}
	return strings.Join(keep, " | ")
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' }

// splitUnion splits expr at the "|" operators outside parentheses,
// brackets, braces and string or backtick literals.
func splitUnion(expr string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(expr); i++ {
		switch c := expr[i]; c {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		case '\'', '`':
			for i++; i < len(expr) && expr[i] != c; i++ {
				if expr[i] == '\\' {
					i++
				}
			}
		case '|':
			if depth == 0 {
				out = append(out, strings.TrimSpace(expr[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(expr[start:]))
}

// composite builds the component tuples of each value of a composite
// parameter (https://hl7.org/fhir/R4/search.html#composite): every
// component expression is evaluated on the value, and each combination of
// the components' rows is one Composite row.
func (x *Extractor) composite(e *Entries, p *param, items fhirpath.Collection) error {
	vals := make([]fhirpath.Collection, len(p.components))
	for _, it := range items {
		// Evaluate every component before building any row: most
		// composites of a resource have an empty component (an Observation
		// has one value type), and then there is no tuple at all.
		// Last component first: it is usually the value, the selective one.
		complete := true
		for i := len(p.components) - 1; i >= 0; i-- {
			c := &p.components[i]
			if n, ok := it.(*fhirpath.Node); ok && c.heads != nil && !x.evaluateAll {
				if v := n.Value(); v != nil && v.Kind == fhir.Object && !hasAny(v, c.heads) {
					complete = false
					break
				}
			}
			var err error
			vals[i], err = c.expr.Evaluate(&x.env, fhirpath.Collection{it})
			if err != nil {
				return fmt.Errorf("component %s: %w", c.code, err)
			}
			if len(vals[i]) == 0 {
				complete = false
				break
			}
		}
		if !complete {
			continue
		}
		parts := make([][]Part, len(p.components))
		for i, c := range p.components {
			var scratch Entries
			for _, v := range vals[i] {
				x.addItem(&scratch, c.typ, c.code, v)
			}
			if parts[i] = scratch.parts(); len(parts[i]) == 0 {
				complete = false
				break
			}
		}
		if !complete {
			continue
		}
		n := 0
		product(parts, nil, func(tuple []Part) bool {
			e.Composites = append(e.Composites, Composite{Param: p.code, Parts: slices.Clone(tuple)})
			n++
			return n < maxCompositeTuples
		})
	}
	return nil
}

// product calls f with each combination of one element from each list,
// until f returns false.
func product(lists [][]Part, prefix []Part, f func([]Part) bool) bool {
	if len(lists) == 0 {
		return f(prefix)
	}
	for _, p := range lists[0] {
		if !product(lists[1:], append(prefix, p), f) {
			return false
		}
	}
	return true
}
