package fhirpath

import (
	"fmt"
	"strings"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
)

// Static checking (https://hl7.org/fhirpath/N1/#type-safety-and-strict-evaluation):
// Check follows the types a path can reach from a context type and reports
// names that no reachable type defines, a leading type name that is not the
// context's, and, on request, ordered functions (first(), skip(), [0] …)
// applied to the unordered output of children() and descendants().
//
// Evaluation never needs it: at run time a misspelt name is simply empty.
// It is for authors of expressions (invariants of profiles, custom
// SearchParameters) who want mistakes caught before any data is read. A
// multi-type union such as "Patient.name | Practitioner.name" is an error for
// either context type, so check such expressions branch by branch.

// CheckOptions tunes Check.
type CheckOptions struct {
	// OrderedFunctions reports first(), last(), tail(), skip(), take() and
	// indexers applied to children() or descendants(), whose order the
	// specification leaves undefined.
	OrderedFunctions bool
}

// stype is one type a sub-expression may have.
type stype struct {
	name string        // FHIR type name
	elem *spec.Element // element whose children apply
}

// sset is what the checker knows of a collection: any (unknown: no
// checking below it) or a set of types, and whether its order is defined.
type sset struct {
	any       bool
	types     []stype
	unordered bool
}

var anySet = sset{any: true}

type checker struct {
	s    *spec.Spec
	opts CheckOptions
	src  string
	ctx  string // the context type
}

// Check checks e statically against a context: a type name ("Patient") or an
// element path ("Patient.contact", "Observation.value[x]").
func (e *Expression) Check(s *spec.Spec, context string, opts CheckOptions) error {
	typeName, _, _ := strings.Cut(context, ".")
	t := s.Type(typeName)
	if t == nil {
		return fmt.Errorf("fhirpath: unknown context type %s", typeName)
	}
	focus := sset{types: []stype{{name: typeName, elem: t.Root}}}
	if context != typeName {
		el := t.Element(context)
		if el == nil {
			return fmt.Errorf("fhirpath: unknown context element %s", context)
		}
		focus = elementSet(s, el, "")
	}
	c := &checker{s: s, opts: opts, src: e.src, ctx: typeName}
	_, err := c.check(e.root, focus, focus)
	if err != nil {
		var ee *EvalError
		if ok := asEvalError(err, &ee); ok && ee.Pos >= 0 {
			se := syntaxErr(e.src, ee.Pos, "")
			ee.Line, ee.Col = se.Line, se.Col
		}
	}
	return err
}

func asEvalError(err error, target **EvalError) bool {
	ee, ok := err.(*EvalError)
	if ok {
		*target = ee
	}
	return ok
}

func (c *checker) errAt(n *node, format string, args ...any) error {
	return &EvalError{Pos: n.pos, Msg: fmt.Sprintf(format, args...)}
}

// elementSet is the set of types an element's values may have (all the
// types of a choice element, or the type tc when given).
func elementSet(s *spec.Spec, el *spec.Element, tc string) sset {
	var out sset
	add := func(code string) {
		switch {
		case len(el.Children) > 0:
			out.types = append(out.types, stype{name: code, elem: el})
		case code == "Resource" || code == "DomainResource":
			out.any = true // a contained resource: any resource type
		default:
			if t := s.Type(code); t != nil {
				out.types = append(out.types, stype{name: code, elem: t.Root})
			} else {
				out.any = true // System types and the like
			}
		}
	}
	if tc != "" {
		add(tc)
		return out
	}
	for _, tr := range el.Types {
		add(tr.Code)
	}
	if len(el.Types) == 0 {
		add("Element")
	}
	return out
}

func (c *checker) child(n *node, in sset, name string) (sset, error) {
	if in.any {
		return anySet, nil
	}
	var out sset
	found := false
	for _, st := range in.types {
		def := c.s.ChildOf(st.elem, st.name, name)
		if def == nil {
			if cd, tc := c.s.ChildByJSONName(st.elem, st.name, name); cd != nil && tc != "" {
				return anySet, c.errAt(n, "'%s' is not a valid name: use '%s' (choice elements are reached by their name without the type)", name, cd.Name)
			}
			continue
		}
		found = true
		es := elementSet(c.s, def, "")
		out.any = out.any || es.any
		out.types = append(out.types, es.types...)
	}
	if !found {
		names := make([]string, len(in.types))
		for i, st := range in.types {
			names[i] = st.name
		}
		return anySet, c.errAt(n, "'%s' is not an element of %s", name, strings.Join(names, " or "))
	}
	out.unordered = in.unordered
	return out, nil
}

// check returns what the checker knows of n's value; this is $this.
func (c *checker) check(n *node, this, focus sset) (sset, error) {
	switch n.kind {
	case nThis:
		return this, nil
	case nIdent:
		name := n.name
		if name != "" && name[0] >= 'A' && name[0] <= 'Z' && !focus.any {
			if t := c.s.Type(name); t != nil && t.IsResource() {
				for _, st := range focus.types {
					if st.name == name || c.s.IsA(st.name, name) {
						return focus, nil
					}
				}
				return anySet, c.errAt(n, "'%s' is not the type of the context (%s)", name, c.ctx)
			}
		}
		return c.child(n, focus, name)
	case nChild:
		in, err := c.check(n.left, this, focus)
		if err != nil {
			return anySet, err
		}
		return c.child(n, in, n.name)
	case nIndexer:
		in, err := c.check(n.left, this, focus)
		if err != nil {
			return anySet, err
		}
		if _, err := c.check(n.right, this, this); err != nil {
			return anySet, err
		}
		if c.opts.OrderedFunctions && in.unordered {
			return anySet, c.errAt(n, "an indexer needs an ordered collection; children() and descendants() are unordered")
		}
		return in, nil
	case nTypeOp:
		in, err := c.check(n.left, this, focus)
		if err != nil {
			return anySet, err
		}
		if n.name == "as" {
			return c.typeSet(n.typ, in), nil
		}
		return anySet, nil
	case nUnary:
		_, err := c.check(n.left, this, focus)
		return anySet, err
	case nBinary:
		l, err := c.check(n.left, this, focus)
		if err != nil {
			return anySet, err
		}
		r, err := c.check(n.right, this, focus)
		if err != nil {
			return anySet, err
		}
		if n.name == "|" && !l.any && !r.any {
			return sset{types: append(append([]stype{}, l.types...), r.types...), unordered: true}, nil
		}
		return anySet, nil
	case nCall:
		in := this
		if n.left != nil {
			var err error
			if in, err = c.check(n.left, this, focus); err != nil {
				return anySet, err
			}
		}
		return c.call(n, in, this)
	}
	return anySet, nil
}

func (c *checker) typeSet(ts *typeSpec, in sset) sset {
	if ts.ns == "System" {
		return anySet
	}
	t := c.s.Type(ts.name)
	if t == nil {
		return anySet
	}
	return sset{types: []stype{{name: ts.name, elem: t.Root}}, unordered: in.unordered}
}

var orderedFunctions = map[string]bool{"first": true, "last": true, "tail": true, "skip": true, "take": true}

func (c *checker) call(n *node, in, this sset) (sset, error) {
	lambda := false
	switch n.name {
	case "where", "select", "all", "exists", "repeat", "aggregate", "sort":
		lambda = true
	}
	for i, a := range n.args {
		if n.fn != nil && n.fn.typeArg {
			break
		}
		var err error
		switch {
		case lambda:
			_, err = c.check(a, in, in)
		case n.name == "iif" && n.left != nil:
			_, err = c.check(a, in, in)
		case n.name == "trace" && i == 1:
			_, err = c.check(a, in, in)
		default:
			_, err = c.check(a, this, this)
		}
		if err != nil {
			return anySet, err
		}
	}
	if c.opts.OrderedFunctions && orderedFunctions[n.name] && in.unordered {
		return anySet, c.errAt(n, "%s() needs an ordered collection; children() and descendants() are unordered", n.name)
	}
	switch n.name {
	case "where", "first", "last", "tail", "skip", "take", "single", "distinct", "trace", "intersect", "exclude":
		return in, nil
	case "ofType", "as":
		return c.typeSet(n.typ, in), nil
	case "select":
		if len(n.args) == 1 {
			out, err := c.check(n.args[0], in, in)
			out.unordered = out.unordered || in.unordered
			return out, err
		}
	case "children", "descendants":
		return sset{any: true, unordered: true}, nil
	}
	return anySet, nil
}
