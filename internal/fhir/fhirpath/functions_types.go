package fhirpath

// Types and reflection (https://hl7.org/fhirpath/N1/#types-and-reflection,
// https://hl7.org/fhir/R4/fhirpath.html#types). Model values carry FHIR types
// (FHIR.string, FHIR.Patient); computed values carry System types. An
// unqualified name is looked up in FHIR first, then System, so "string" is
// FHIR.string and "Boolean" is System.Boolean.

var systemTypes = map[string]bool{"Boolean": true, "String": true, "Integer": true, "Decimal": true,
	"Date": true, "DateTime": true, "Time": true, "Quantity": true, "Any": true}

// resolveType returns the namespace and name of a type specifier, or an
// error for a type that exists in neither namespace.
func (ev *evaluator) resolveType(ts *typeSpec) (ns, name string, err error) {
	switch ts.ns {
	case "System":
		// An unknown System type matches nothing (Patient.is(System.Patient)
		// is false, not an error).
		return "System", ts.name, nil
	case "FHIR":
		if ev.spec != nil && ev.spec.Type(ts.name) == nil {
			return "", "", errorf("unknown type FHIR.%s", ts.name)
		}
		return "FHIR", ts.name, nil
	case "":
		if ev.spec != nil && ev.spec.Type(ts.name) != nil {
			return "FHIR", ts.name, nil
		}
		if systemTypes[ts.name] {
			return "System", ts.name, nil
		}
		if ev.spec == nil {
			return "FHIR", ts.name, nil
		}
		return "", "", errorf("unknown type %s", ts.name)
	}
	return "", "", errorf("unknown type namespace %s", ts.ns)
}

// typeMatches reports whether it is of type ns.name or a subtype: code is a
// string, Age a Quantity, Patient a Resource. is(), as() and ofType() all
// use it, as FHIRPath N1 defines them ("of the given type or a subclass
// thereof").
func (ev *evaluator) typeMatches(it Item, ns, name string) bool {
	n, isNode := it.(*Node)
	if !isNode {
		return ns == "System" && (name == "Any" || it.TypeName() == "System."+name)
	}
	if ns == "System" {
		return n.typ == "System."+name
	}
	if n.typ == name {
		return true
	}
	if ev.spec == nil {
		return false
	}
	return ev.spec.IsA(n.typ, name)
}

func (ev *evaluator) isOp(in Collection, ts *typeSpec) (Collection, error) {
	if len(in) == 0 {
		return nil, nil
	}
	if len(in) > 1 {
		return nil, errorf("'is' needs a single item, got %d", len(in))
	}
	ns, name, err := ev.resolveType(ts)
	if err != nil {
		return nil, err
	}
	return boolResult(ev.typeMatches(in[0], ns, name))
}

// asOp is the as operator and as() function. FHIRPath N1 makes it an error
// on more than one item; with Env.AsFilters it filters like ofType(), which
// R4 content depends on: about forty SearchParameter expressions such as
// "(Observation.component.value as Quantity)" and the base invariant dom-3
// ("%resource.descendants().as(canonical)") apply it to collections (R5
// rewrote those expressions with ofType()).
func (ev *evaluator) asOp(in Collection, ts *typeSpec) (Collection, error) {
	if len(in) == 0 {
		return nil, nil
	}
	ns, name, err := ev.resolveType(ts)
	if err != nil {
		return nil, err
	}
	if len(in) > 1 && !ev.env.AsFilters {
		return nil, errorf("as %s needs a single item, got %d (use ofType() to filter a collection)", name, len(in))
	}
	var out Collection
	for _, it := range in {
		if ev.typeMatches(it, ns, name) {
			out = append(out, it)
		}
	}
	return out, nil
}

func fnIs(ev *evaluator, n *node, _ *frame, in Collection) (Collection, error) {
	return ev.isOp(in, n.typ)
}

func fnAs(ev *evaluator, n *node, _ *frame, in Collection) (Collection, error) {
	return ev.asOp(in, n.typ)
}

func fnOfType(ev *evaluator, n *node, _ *frame, in Collection) (Collection, error) {
	ns, name, err := ev.resolveType(n.typ)
	if err != nil {
		return nil, err
	}
	var out Collection
	for _, it := range in {
		if ev.typeMatches(it, ns, name) {
			out = append(out, it)
		}
	}
	return out, nil
}

func fnType(_ *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
	out := make(Collection, 0, len(in))
	for _, it := range in {
		if n, ok := it.(*Node); ok {
			if len(n.typ) > 7 && n.typ[:7] == "System." {
				out = append(out, TypeInfo{"System", n.typ[7:]})
			} else {
				out = append(out, TypeInfo{"FHIR", n.typ})
			}
			continue
		}
		tn := it.TypeName()
		out = append(out, TypeInfo{"System", tn[len("System."):]})
	}
	return out, nil
}
