package fhirpath

import (
	"strings"

	"github.com/continuum-ehr/continuum/internal/fhir"
)

// The FHIR additions to FHIRPath (https://hl7.org/fhir/R4/fhirpath.html#functions).

// fnExtension is extension(url): the extensions with that url.
func fnExtension(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	url, ok, err := stringArg(ev, n, f, 0)
	if err != nil || !ok {
		return nil, err
	}
	var out Collection
	for _, it := range in {
		nd, isNode := it.(*Node)
		if !isNode {
			continue
		}
		exts, err := nd.children("extension", nil)
		if err != nil {
			return nil, err
		}
		for _, e := range exts {
			if en := e.(*Node); en.v != nil && en.v.Str("url") == url {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

func fnHasExtension(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	exts, err := fnExtension(ev, n, f, in)
	if err != nil {
		return nil, err
	}
	return boolResult(len(exts) > 0)
}

// fnHasValue: a single primitive with a value (not only extensions).
func fnHasValue(ev *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
	if len(in) != 1 {
		return boolResult(false)
	}
	nd, ok := in[0].(*Node)
	if !ok {
		return boolResult(true)
	}
	return boolResult(nd.v != nil && nd.v.Kind != fhir.Object && nd.v.Kind != fhir.Array)
}

// fnGetValue: the System value of a single primitive.
func fnGetValue(_ *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
	if len(in) != 1 {
		return nil, nil
	}
	nd, ok := in[0].(*Node)
	if !ok {
		return in, nil
	}
	if nd.v == nil || nd.v.Kind == fhir.Object {
		return nil, nil
	}
	v, ok := sysValue(nd)
	if !ok {
		return nil, nil
	}
	return Collection{v}, nil
}

// fnResolve follows references: contained resources (#id), entries of the
// enclosing Bundle (by fullUrl or Type/id), then the environment's
// Resolver (https://hl7.org/fhir/R4/fhirpath.html#functions, resolve()).
func fnResolve(ev *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
	var out Collection
	for _, it := range in {
		ref := ""
		switch v := it.(type) {
		case *Node:
			if v.v == nil {
				continue
			}
			switch v.v.Kind {
			case fhir.Object:
				ref = v.v.Str("reference")
			case fhir.String:
				ref = v.v.Text
			}
		case String:
			ref = string(v)
		}
		if ref == "" {
			continue
		}
		if r := ev.resolveRef(it, ref); r != nil {
			out = append(out, r)
			continue
		}
		if ev.env.Resolver != nil && !strings.HasPrefix(ref, "#") {
			v, err := ev.env.Resolver(ref)
			if err != nil {
				return nil, errorf("resolve(%s): %v", ref, err)
			}
			if v != nil {
				out = append(out, ResourceNode(ev.spec, v))
			}
		}
	}
	return out, nil
}

func (ev *evaluator) resolveRef(from Item, ref string) *Node {
	// The resource that holds the reference, and the Bundle around it.
	var container, bundle *Node
	if nd, ok := from.(*Node); ok {
		for p := nd.parent; p != nil; p = p.parent {
			if p.isResource() {
				if container == nil && p.typ != "Bundle" {
					container = p
				}
				if p.typ == "Bundle" {
					bundle = p
					break
				}
			}
		}
	}
	if id, ok := strings.CutPrefix(ref, "#"); ok {
		for _, c := range []Item{container, ev.env.Resource} {
			cn, _ := c.(*Node)
			if cn == nil {
				continue
			}
			contained, _ := cn.children("contained", nil)
			for _, r := range contained {
				if rn := r.(*Node); rn.v != nil && rn.v.Str("id") == id {
					return rn
				}
			}
		}
		return nil
	}
	if bundle == nil {
		if rr, ok := ev.env.RootResource.(*Node); ok && rr.typ == "Bundle" {
			bundle = rr
		}
	}
	if bundle == nil {
		return nil
	}
	entries, _ := bundle.children("entry", nil)
	for _, e := range entries {
		en := e.(*Node)
		full := en.v.Str("fullUrl")
		res, _ := en.children("resource", nil)
		if len(res) == 0 {
			continue
		}
		rn := res[0].(*Node)
		typeID := rn.typ + "/" + rn.v.Str("id")
		if full == ref || typeID == ref || strings.HasSuffix(full, "/"+ref) {
			return rn
		}
	}
	return nil
}

// fnHTMLChecks checks narrative XHTML against the rules of
// https://hl7.org/fhir/R4/narrative.html#xhtml: no active content, no
// event handlers, a div root. It is a pattern check, not an XHTML parser.
func fnHTMLChecks(_ *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
	if len(in) == 0 {
		return nil, nil
	}
	s, ok, err := inputString(in)
	if err != nil || !ok {
		return nil, err
	}
	t := strings.TrimSpace(s)
	good := strings.HasPrefix(t, "<div") && !htmlActive(t)
	return boolResult(good)
}

// fnMemberOf checks codes against the embedded expansions of the value sets
// behind required bindings. A value set the spec does not carry gives
// empty (unknown), not false.
func fnMemberOf(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	url, ok, err := stringArg(ev, n, f, 0)
	if err != nil || !ok || len(in) == 0 {
		return nil, err
	}
	if len(in) > 1 {
		return nil, errorf("memberOf() needs a single item, got %d", len(in))
	}
	if ev.spec == nil {
		return nil, nil
	}
	vs := ev.spec.ValueSet(url)
	if vs == nil || !vs.Expandable {
		return nil, nil
	}
	var codings [][2]string
	switch v := in[0].(type) {
	case String:
		codings = append(codings, [2]string{"", string(v)})
	case *Node:
		if v.v == nil {
			return nil, nil
		}
		switch {
		case v.v.Kind == fhir.String:
			codings = append(codings, [2]string{"", v.v.Text})
		case v.typ == "Coding":
			codings = append(codings, [2]string{v.v.Str("system"), v.v.Str("code")})
		case v.typ == "CodeableConcept":
			if cs, ok := v.v.Get("coding"); ok && cs.Kind == fhir.Array {
				for i := range cs.Items {
					codings = append(codings, [2]string{cs.Items[i].Str("system"), cs.Items[i].Str("code")})
				}
			}
		}
	}
	for _, c := range codings {
		if c[1] != "" && vs.Contains(c[0], c[1]) {
			return boolResult(true)
		}
	}
	return boolResult(false)
}

const baseProfile = "http://hl7.org/fhir/StructureDefinition/"

// fnConformsTo decides base-type profiles itself (a Patient conforms to
// .../StructureDefinition/Patient and to DomainResource) and asks the
// environment's hook for anything else; without a hook an unknown profile
// is an error, since answering false would be a guess.
func fnConformsTo(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	url, ok, err := stringArg(ev, n, f, 0)
	if err != nil || !ok || len(in) == 0 {
		return nil, err
	}
	if len(in) > 1 {
		return nil, errorf("conformsTo() needs a single item, got %d", len(in))
	}
	if name, ok := strings.CutPrefix(url, baseProfile); ok && ev.spec != nil && ev.spec.Type(name) != nil {
		return boolResult(ev.typeMatches(in[0], "FHIR", name))
	}
	if ev.env.ConformsTo != nil {
		b, err := ev.env.ConformsTo(in[0], url)
		if err != nil {
			return nil, errorf("conformsTo(%s): %v", url, err)
		}
		return boolResult(b)
	}
	return nil, errorf("conformsTo(): unknown profile %s", url)
}
