package search

import (
	"fmt"
	"strings"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
)

// chain parses a chained parameter, sp[:mod].rest=v, where sp is defined on
// the resource being searched (https://hl7.org/fhir/R4/search.html#chaining).
//
// Each link must be a reference parameter. With a type modifier
// (subject:Patient.name) the chain continues on that type, which must be a
// target of the parameter. Without one the chain is expanded over every
// target type that defines the next parameter, and the resource matches
// when any of them does. When the next parameter has different types on
// different targets the chain is rejected, as R4 advises, with a hint to
// name the type.
func (p *parser) chain(sp *spec.SearchParam, mod, rest, v string, depth int) (*Filter, *problem) {
	if depth+1 > p.opts.MaxDepth {
		return nil, &problem{code: "too-costly", msg: fmt.Sprintf("chains and _has may nest at most %d deep", p.opts.MaxDepth)}
	}
	if sp.Type != TypeReference {
		return nil, invalid("%s is a %s parameter; only reference parameters can be chained", sp.Code, sp.Type)
	}
	if rest == "" {
		return nil, invalid("nothing follows the . of the chain")
	}
	var targets []string
	switch {
	case mod != "":
		if !p.isType(mod) {
			return nil, invalid("a chain link takes a resource type modifier (%s:Type.…), not :%s", sp.Code, mod)
		}
		if !targetAllowed(sp.Target, mod) {
			return nil, invalid("%s does not refer to %s (targets: %s)", sp.Code, mod, strings.Join(sp.Target, ", "))
		}
		targets = []string{mod}
	case len(sp.Target) == 0 || containsResource(sp.Target):
		return nil, invalid("%s may refer to any resource type: name one, as in %s:Patient.%s", sp.Code, sp.Code, rest)
	default:
		targets = sp.Target
	}
	f := &Filter{Param: sp, TargetType: mod}
	var skipped *problem
	for _, t := range targets {
		// Expansions multiply along a chain (some parameters have 145
		// targets), so they share one budget per query.
		if p.expansions++; p.expansions > p.opts.MaxValues {
			return nil, &problem{code: "too-costly", msg: fmt.Sprintf("the chain expands to more than %d links; name the types", p.opts.MaxValues)}
		}
		inner, pr := p.filter([]string{t}, rest, v, depth+1)
		if pr != nil {
			if mod == "" && pr.ignorable {
				skipped = pr
				continue
			}
			return nil, pr
		}
		f.Chain = append(f.Chain, Chained{Type: t, Filter: inner})
	}
	if len(f.Chain) == 0 {
		if len(targets) == 1 && skipped != nil {
			return nil, skipped
		}
		return nil, unknown("no target type of %s (%s) has a parameter %q", sp.Code, strings.Join(targets, ", "), rest)
	}
	first := leafType(f.Chain[0].Filter)
	for _, c := range f.Chain[1:] {
		if lt := leafType(c.Filter); lt != first {
			return nil, invalid("the chain %s.%s is ambiguous: a %s on %s but a %s on %s; name the type, as in %s:%s.%s",
				sp.Code, rest, first, f.Chain[0].Type, lt, c.Type, sp.Code, f.Chain[0].Type, rest)
		}
	}
	return f, nil
}

func containsResource(targets []string) bool {
	for _, t := range targets {
		if t == "Resource" {
			return true
		}
	}
	return false
}

// leafType is the parameter type at the end of a filter's chains.
func leafType(f *Filter) string {
	for {
		switch {
		case f.Has != nil:
			f = f.Has.Filter
		case len(f.Chain) > 0:
			f = f.Chain[0].Filter
		default:
			return f.Param.Type
		}
	}
}

// has parses a reverse chain, _has:Type:param:rest=v
// (https://hl7.org/fhir/R4/search.html#has). param must be a reference
// parameter of Type that may refer to the resources being searched; rest is
// any parameter of Type, including another _has.
func (p *parser) has(types []string, name, v string, depth int) (*Filter, *problem) {
	if depth+1 > p.opts.MaxDepth {
		return nil, &problem{code: "too-costly", msg: fmt.Sprintf("chains and _has may nest at most %d deep", p.opts.MaxDepth)}
	}
	parts := strings.SplitN(strings.TrimPrefix(name, ParamHas), ":", 4)
	if len(parts) != 4 || parts[0] != "" || parts[1] == "" || parts[2] == "" || parts[3] == "" {
		return nil, invalid("_has takes the form _has:Type:reference-parameter:parameter")
	}
	typ, code, rest := parts[1], parts[2], parts[3]
	if !p.isType(typ) {
		return nil, invalid("_has: %q is not a resource type", typ)
	}
	ref, pr := p.lookup([]string{typ}, code)
	if pr != nil {
		return nil, pr
	}
	if ref.Type != TypeReference {
		return nil, invalid("_has: %s.%s is a %s parameter, not a reference", typ, code, ref.Type)
	}
	for _, t := range types {
		if !targetAllowed(ref.Target, t) {
			return nil, invalid("_has: %s.%s does not refer to %s (targets: %s)", typ, code, t, strings.Join(ref.Target, ", "))
		}
	}
	inner, pr := p.filter([]string{typ}, rest, v, depth+1)
	if pr != nil {
		return nil, pr
	}
	return &Filter{Has: &Has{Type: typ, Param: ref, Filter: inner}}, nil
}
