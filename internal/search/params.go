package search

import (
	"slices"
	"strings"
	"sync"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
)

// Parameter types (SearchParameter.type, https://hl7.org/fhir/R4/valueset-search-param-type.html).
const (
	TypeNumber    = "number"
	TypeDate      = "date"
	TypeString    = "string"
	TypeToken     = "token"
	TypeReference = "reference"
	TypeComposite = "composite"
	TypeQuantity  = "quantity"
	TypeURI       = "uri"
	TypeSpecial   = "special"
)

// Modifiers (https://hl7.org/fhir/R4/search.html#modifiers). A reference
// parameter's type modifier (:Patient) is not listed: any resource type the
// parameter targets is one.
const (
	ModMissing    = "missing"
	ModExact      = "exact"
	ModContains   = "contains"
	ModText       = "text"
	ModNot        = "not"
	ModAbove      = "above"
	ModBelow      = "below"
	ModIn         = "in"
	ModNotIn      = "not-in"
	ModOfType     = "of-type"
	ModIdentifier = "identifier"
)

// allowedModifiers lists, per parameter type, the modifiers R4 defines for it
// (the table in https://hl7.org/fhir/R4/search.html#modifiers). :missing is
// allowed on every type and handled before this table is consulted.
var allowedModifiers = map[string][]string{
	TypeString:    {ModExact, ModContains},
	TypeToken:     {ModText, ModNot, ModAbove, ModBelow, ModIn, ModNotIn, ModOfType},
	TypeURI:       {ModAbove, ModBelow},
	TypeReference: {ModIdentifier, ModAbove, ModBelow},
}

// Names of the parameters that apply to every resource and that the R4
// definitions do not (or cannot) describe as SearchParameters
// (https://hl7.org/fhir/R4/search.html#all).
const (
	ParamID          = "_id"
	ParamLastUpdated = "_lastUpdated"
	ParamTag         = "_tag"
	ParamProfile     = "_profile"
	ParamSecurity    = "_security"
	ParamSource      = "_source"
	ParamText        = "_text"
	ParamContent     = "_content"
	ParamList        = "_list"
	ParamType        = "_type"
	ParamHas         = "_has"
)

// listParam describes _list, which R4 defines in prose only
// (https://hl7.org/fhir/R4/search.html#list): its value is the id of a List
// (or a functional list name such as $current-problems) whose entries the
// results must be.
var listParam = spec.SearchParam{
	URL:  "http://hl7.org/fhir/SearchParameter/Resource-list",
	Code: ParamList, Base: []string{"Resource"}, Type: TypeSpecial,
}

// unsupported names parameters a server may refuse: R4 defines them but
// Continuum does not implement them. Under handling=lenient they are ignored
// and reported; under handling=strict they are an error.
var unsupported = map[string]string{
	"_query":  "named queries are not supported",
	"_filter": "the _filter parameter is not supported",
}

// httpParams are parameters of the HTTP interaction, not of the search
// (https://hl7.org/fhir/R4/http.html#parameters): the transport handles them
// and Parse skips them silently.
var httpParams = map[string]bool{"_format": true, "_pretty": true}

// Registry holds the search parameters by resource type and code. It is
// immutable once built and safe for concurrent use.
//
// A Registry is built from the spec's definitions; custom SearchParameters
// installed through the API are passed to NewRegistry as extra definitions,
// and a new Registry replaces the old one when they change.
type Registry struct {
	spec   *spec.Spec
	byType map[string]map[string]*spec.SearchParam // concrete type → code → definition
	common map[string]*spec.SearchParam            // code → definitions with base Resource
	byURL  map[string]*spec.SearchParam
	// noExpression holds definitions without a FHIRPath expression: they
	// cannot be indexed, so searching by them is not supported.
	noExpression map[*spec.SearchParam]bool
}

// NewRegistry indexes the search parameters of s and any extra definitions
// (custom SearchParameters). Later definitions of the same base and code
// replace earlier ones.
func NewRegistry(s *spec.Spec, extra ...spec.SearchParam) *Registry {
	r := &Registry{
		spec:         s,
		byType:       map[string]map[string]*spec.SearchParam{},
		common:       map[string]*spec.SearchParam{},
		byURL:        map[string]*spec.SearchParam{},
		noExpression: map[*spec.SearchParam]bool{},
	}
	types := s.ResourceTypes()
	defs := make([]*spec.SearchParam, 0, len(s.SearchParams)+len(extra)+1)
	for i := range s.SearchParams {
		p := &s.SearchParams[i]
		// The R4 package carries a few example SearchParameters
		// (SearchParameter/example, example-reference, …) that redefine
		// core codes such as _id and Condition.subject; they are
		// illustrations, not part of the core.
		if strings.HasPrefix(p.URL, "http://hl7.org/fhir/SearchParameter/example") {
			continue
		}
		defs = append(defs, p)
	}
	defs = append(defs, &listParam)
	for i := range extra {
		p := extra[i]
		defs = append(defs, &p)
	}
	for _, p := range defs {
		if p.URL != "" {
			r.byURL[p.URL] = p
		}
		if p.Expression == "" && p.Code != ParamText && p.Code != ParamContent && p.Code != ParamList {
			r.noExpression[p] = true
		}
		for _, base := range p.Base {
			switch base {
			case "Resource", "DomainResource":
				// _text is defined on DomainResource; for system search
				// it is as common as the Resource parameters.
				r.common[p.Code] = p
				for _, t := range types {
					if base == "DomainResource" && !s.IsA(t, "DomainResource") {
						continue
					}
					r.add(t, p)
				}
			default:
				r.add(base, p)
			}
		}
	}
	return r
}

func (r *Registry) add(typ string, p *spec.SearchParam) {
	m := r.byType[typ]
	if m == nil {
		m = map[string]*spec.SearchParam{}
		r.byType[typ] = m
	}
	m[p.Code] = p
}

// Spec returns the definitions the registry was built from.
func (r *Registry) Spec() *spec.Spec { return r.spec }

// Lookup returns the definition of parameter code on resource type typ, or
// nil. With typ "" it looks among the parameters common to all resources.
func (r *Registry) Lookup(typ, code string) *spec.SearchParam {
	if typ == "" {
		return r.common[code]
	}
	return r.byType[typ][code]
}

// ByURL returns the definition with the given canonical URL, or nil.
func (r *Registry) ByURL(url string) *spec.SearchParam { return r.byURL[url] }

// Supported reports whether p can be searched: it must have an expression
// to index (the full-text and _list parameters excepted).
func (r *Registry) Supported(p *spec.SearchParam) bool { return !r.noExpression[p] }

// Params lists the codes of the parameters defined on type typ, sorted.
func (r *Registry) Params(typ string) []string {
	var out []string
	for code := range r.byType[typ] {
		out = append(out, code)
	}
	slices.Sort(out)
	return out
}

// r4Registry is the registry of the embedded R4 definitions, built once on
// first use and read-only afterwards (the same pattern as spec.R4).
var r4Registry = sync.OnceValue(func() *Registry { return NewRegistry(spec.R4()) })

// NewRegistryR4 returns the registry of the embedded R4 definitions, shared
// and immutable.
func NewRegistryR4() *Registry { return r4Registry() }

// registryFor returns the shared R4 registry for the embedded spec and a new
// registry for any other.
func registryFor(s *spec.Spec) *Registry {
	if s == spec.R4() {
		return r4Registry()
	}
	return NewRegistry(s)
}

// modifierAllowed reports whether modifier mod applies to a parameter of
// type typ.
func modifierAllowed(typ, mod string) bool {
	return slices.Contains(allowedModifiers[typ], mod)
}
