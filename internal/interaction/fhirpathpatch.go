package interaction

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/fhirpath"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/outcome"
)

// FHIRPath Patch: a Parameters resource whose "operation" parameters change
// a resource at places named by FHIRPath expressions.
// https://hl7.org/fhir/R4/fhirpatch.html
//
// The operations work on the lossless JSON tree (fhir.Value) the FHIRPath
// engine navigates: a path selects nodes, and each node knows its parent
// object and the member (and array index) it sits in, so an operation
// changes exactly that member. A primitive's "_name" companion (its id and
// extensions) moves with it: deleting, inserting or moving an item of a
// primitive list keeps the "_name" array aligned.

// PatchOp is one operation of a FHIRPath Patch
// (https://hl7.org/fhir/R4/fhirpatch.html#operations).
type PatchOp struct {
	Param int    // its index in Parameters.parameter, for error locations
	Type  string // add | insert | delete | replace | move
	Path  string // the FHIRPath expression as written
	Name  string // add: the element to add
	// Index is insert's position; Source and Destination are move's. -1
	// when absent.
	Index, Source, Destination int

	expr  *fhirpath.Expression
	value *patchValue
}

// patchValue is an operation's value: a typed value[x] (with its "_value[x]"
// companion for primitives), a resource, or an anonymous complex value given
// as named parts.
type patchValue struct {
	loc   string // FHIRPath location of the part holding it, for errors
	typ   string // FHIR type of value[x] or the resource type; "" for parts
	json  fhir.Value
	ext   *fhir.Value
	parts []patchPart
}

type patchPart struct {
	name string
	val  *patchValue
}

// maxPatchOps bounds the operations of one patch: each one evaluates a
// FHIRPath expression over the whole resource.
const maxPatchOps = 1000

// ParseFHIRPathPatch reads a FHIRPath Patch document: a Parameters resource
// (as JSON) with one "operation" parameter per operation. Every error names
// the parameter (Parameters.parameter[i]) it is about.
func ParseFHIRPathPatch(params *fhir.Value) ([]PatchOp, error) {
	if params.Kind != fhir.Object || params.ResourceType() != "Parameters" {
		return nil, outcome.New(outcome.Invalid, "structure", "a FHIRPath Patch is a Parameters resource", "Parameters")
	}
	list, ok := params.Get("parameter")
	if !ok {
		return nil, nil // an empty patch changes nothing
	}
	if list.Kind != fhir.Array {
		return nil, outcome.New(outcome.Invalid, "structure", "parameter is an array", "Parameters.parameter")
	}
	if len(list.Items) > maxPatchOps {
		return nil, outcome.New(outcome.TooCostly, "too-costly",
			fmt.Sprintf("a FHIRPath Patch may have at most %d operations, not %d", maxPatchOps, len(list.Items)), "Parameters.parameter")
	}
	ops := make([]PatchOp, 0, len(list.Items))
	for i := range list.Items {
		op, err := parsePatchOp(i, &list.Items[i])
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return ops, nil
}

func parsePatchOp(i int, p *fhir.Value) (PatchOp, error) {
	loc := fmt.Sprintf("Parameters.parameter[%d]", i)
	op := PatchOp{Param: i, Index: -1, Source: -1, Destination: -1}
	fail := func(where, format string, args ...any) (PatchOp, error) {
		return PatchOp{}, outcome.New(outcome.Invalid, "invalid", "FHIRPath Patch "+loc+": "+fmt.Sprintf(format, args...), loc+where)
	}
	if p.Kind != fhir.Object {
		return fail("", "a parameter is an object")
	}
	if n := p.Str("name"); n != "operation" {
		return fail(".name", "the parameter is called %q; a FHIRPath Patch has only \"operation\" parameters", n)
	}
	parts, ok := p.Get("part")
	if !ok || parts.Kind != fhir.Array {
		return fail("", "an operation needs parts (type, path, …)")
	}
	seen := map[string]bool{}
	for j := range parts.Items {
		part := &parts.Items[j]
		ploc := fmt.Sprintf(".part[%d]", j)
		if part.Kind != fhir.Object {
			return fail(ploc, "a part is an object")
		}
		name := part.Str("name")
		if seen[name] {
			return fail(ploc, "the part %q appears twice", name)
		}
		seen[name] = true
		switch name {
		case "type", "path", "name":
			v, typ, ok := primitiveOf(part)
			if !ok || v.Kind != fhir.String {
				return fail(ploc, "the part %q needs a string value", name)
			}
			switch name {
			case "type":
				if typ != "code" {
					return fail(ploc, "type is a valueCode")
				}
				op.Type = v.Text
			case "path":
				op.Path = v.Text
			case "name":
				op.Name = v.Text
			}
		case "index", "source", "destination":
			v, typ, ok := primitiveOf(part)
			if !ok || v.Kind != fhir.Number || typ != "integer" {
				return fail(ploc, "the part %q needs a valueInteger", name)
			}
			n, err := strconv.Atoi(v.Text)
			if err != nil || n < 0 {
				return fail(ploc, "%s %s is not a list index (0 or more)", name, v.Text)
			}
			switch name {
			case "index":
				op.Index = n
			case "source":
				op.Source = n
			case "destination":
				op.Destination = n
			}
		case "value":
			v, err := parsePatchValue(part, loc+ploc, 0)
			if err != nil {
				return PatchOp{}, err
			}
			op.value = v
		default:
			return fail(ploc, "unknown part %q (a FHIRPath Patch operation has type, path, name, value, index, source, destination)", name)
		}
	}
	need := func(parts ...string) (PatchOp, error) {
		for _, n := range parts {
			if !seen[n] {
				return fail("", "%s needs the part %q", op.Type, n)
			}
		}
		return op, nil
	}
	var err error
	switch op.Type {
	case "add":
		op, err = need("path", "name", "value")
	case "insert":
		op, err = need("path", "value", "index")
	case "delete":
		op, err = need("path")
	case "replace":
		op, err = need("path", "value")
	case "move":
		op, err = need("path", "source", "destination")
	case "":
		return fail("", "an operation needs a type")
	default:
		return fail("", "unknown operation type %q (add, insert, delete, replace or move)", op.Type)
	}
	if err != nil {
		return PatchOp{}, err
	}
	if op.expr, err = fhirpath.Compile(op.Path); err != nil {
		return fail("", "the path %q is not FHIRPath: %v", op.Path, err)
	}
	return op, nil
}

// primitiveOf returns the value[x] of a part when it is a JSON primitive,
// with its type (valueInteger → "integer").
func primitiveOf(part *fhir.Value) (*fhir.Value, string, bool) {
	for i := range part.Members {
		m := &part.Members[i]
		if strings.HasPrefix(m.Name, "value") && len(m.Name) > len("value") {
			switch m.Value.Kind {
			case fhir.String, fhir.Number, fhir.Bool:
				return &m.Value, lowerFirst(m.Name[len("value"):]), true
			}
			return nil, "", false
		}
	}
	return nil, "", false
}

// maxPartDepth bounds nested parts (the JSON parser bounds the document's
// depth too; this keeps the recursion here obviously finite).
const maxPartDepth = 50

// parsePatchValue reads the value of part p: value[x] (and _value[x]), a
// resource, or nested parts naming the elements of an anonymous type.
func parsePatchValue(p *fhir.Value, loc string, depth int) (*patchValue, error) {
	if depth > maxPartDepth {
		return nil, outcome.New(outcome.TooCostly, "too-costly", "FHIRPath Patch: parts nested too deeply", loc)
	}
	pv := &patchValue{loc: loc}
	found := 0
	for i := range p.Members {
		m := &p.Members[i]
		switch {
		case m.Name == "name" || m.Name == "id" || m.Name == "extension" || m.Name == "modifierExtension":
		case m.Name == "resource":
			pv.json, pv.typ = m.Value, m.Value.ResourceType()
			found++
		case m.Name == "part":
			if m.Value.Kind != fhir.Array {
				return nil, outcome.New(outcome.Invalid, "structure", "FHIRPath Patch: part is an array", loc)
			}
			for j := range m.Value.Items {
				sub := &m.Value.Items[j]
				sloc := fmt.Sprintf("%s.part[%d]", loc, j)
				if sub.Kind != fhir.Object || sub.Str("name") == "" {
					return nil, outcome.New(outcome.Invalid, "invalid", "FHIRPath Patch: a part of a value needs the name of an element", sloc)
				}
				v, err := parsePatchValue(sub, sloc, depth+1)
				if err != nil {
					return nil, err
				}
				pv.parts = append(pv.parts, patchPart{name: sub.Str("name"), val: v})
			}
			found++
		case strings.HasPrefix(m.Name, "value") && len(m.Name) > len("value"):
			pv.json, pv.typ = m.Value, typeOfValueX(m.Name[len("value"):])
			found++
		case strings.HasPrefix(m.Name, "_value") && len(m.Name) > len("_value"):
			pv.ext = &m.Value
			if _, ok := p.Get(m.Name[1:]); !ok {
				// Only extensions: a primitive without a value.
				pv.typ, pv.json = typeOfValueX(m.Name[len("_value"):]), fhir.Value{Kind: fhir.Null}
				found++
			}
		default:
			return nil, outcome.New(outcome.Invalid, "structure", fmt.Sprintf("FHIRPath Patch: unexpected %q in a value part", m.Name), loc)
		}
	}
	if found != 1 {
		return nil, outcome.New(outcome.Invalid, "invalid", "FHIRPath Patch: a value is exactly one of value[x], resource or part", loc)
	}
	return pv, nil
}

// typeOfValueX turns the suffix of value[x] into a type name: primitive
// types are lower case in R4 (valueDate → date), complex types are not
// (valueHumanName → HumanName).
func typeOfValueX(suffix string) string {
	if primitiveSuffix[suffix] {
		return lowerFirst(suffix)
	}
	return suffix
}

// primitiveSuffix are the value[x] suffixes of R4's primitive types
// (https://hl7.org/fhir/R4/datatypes.html#primitive).
var primitiveSuffix = map[string]bool{
	"Base64Binary": true, "Boolean": true, "Canonical": true, "Code": true, "Date": true, "DateTime": true,
	"Decimal": true, "Id": true, "Instant": true, "Integer": true, "Markdown": true, "Oid": true,
	"PositiveInt": true, "String": true, "Time": true, "UnsignedInt": true, "Uri": true, "Url": true, "Uuid": true,
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ApplyFHIRPathPatch applies ops to doc (a resource) and returns the result;
// doc is not modified. Paths are evaluated with the R4 definitions s, one
// operation after the other on the result of the previous one. A path that
// selects nothing (except for delete), several elements, or something that
// is not an element of the resource, and an index out of range, are errors
// of kind Invalid located at the operation's parameter.
func ApplyFHIRPathPatch(s *spec.Spec, doc fhir.Value, ops []PatchOp) (fhir.Value, error) {
	root := clone(doc)
	deadline := time.Now().Add(patchTimeLimit)
	for i := range ops {
		if err := applyOp(s, &root, &ops[i], deadline); err != nil {
			return fhir.Value{}, err
		}
	}
	return root, nil
}

// patchTimeLimit bounds the FHIRPath evaluation of one whole patch, and
// patchMaxSteps one path's, so that a hostile patch (a thousand
// operations, each a repeat() over a large resource) cannot hold a request.
const (
	patchTimeLimit = 5 * time.Second
	patchMaxSteps  = 1_000_000
)

func applyOp(s *spec.Spec, root *fhir.Value, op *PatchOp, deadline time.Time) error {
	loc := fmt.Sprintf("Parameters.parameter[%d]", op.Param)
	fail := func(format string, args ...any) error {
		return outcome.New(outcome.Invalid, "processing",
			fmt.Sprintf("FHIRPath Patch %s (%s %s): %s", loc, op.Type, op.Path, fmt.Sprintf(format, args...)), loc)
	}
	left := time.Until(deadline)
	if left <= 0 {
		return outcome.New(outcome.TooCostly, "too-costly",
			fmt.Sprintf("FHIRPath Patch: evaluating the paths took longer than %v; stopped at %s", patchTimeLimit, loc), loc)
	}
	env := &fhirpath.Env{Spec: s, MaxSteps: patchMaxSteps, Timeout: left}
	res, err := op.expr.Evaluate(env, fhirpath.Collection{fhirpath.ResourceNode(s, root)})
	if errors.Is(err, fhirpath.ErrBudget) {
		return outcome.New(outcome.TooCostly, "too-costly", fmt.Sprintf("FHIRPath Patch %s: the path is too costly to evaluate: %v", loc, err), loc)
	}
	if err != nil {
		return fail("%v", err)
	}
	nodes := make([]*fhirpath.Node, 0, len(res))
	for _, it := range res {
		n, ok := it.(*fhirpath.Node)
		if !ok || n.Parent() == nil && n.Value() != root {
			return fail("the path selects a computed value, not an element of the resource")
		}
		nodes = append(nodes, n)
	}
	one := func() (*fhirpath.Node, error) {
		switch len(nodes) {
		case 0:
			return nil, fail("the path selects nothing")
		case 1:
			return nodes[0], nil
		}
		return nil, fail("the path selects %d elements, not one", len(nodes))
	}
	switch op.Type {
	case "add":
		n, err := one()
		if err != nil {
			return err
		}
		return patchAdd(s, n, op, fail)
	case "insert":
		l, err := listOf(s, root, op, nodes, env)
		if err != nil {
			return fail("%v", err)
		}
		if op.Index > l.len() {
			return fail("index %d is out of range: the list has %d elements", op.Index, l.len())
		}
		val, ext, _, err := materialize(s, op.value, l.def, l.name)
		if err != nil {
			return err
		}
		if l.def != nil && !l.def.Repeating() {
			return fail("%s is not a list", l.name)
		}
		insertAt(l.obj, l.name, op.Index, val, ext)
		return nil
	case "delete":
		switch len(nodes) {
		case 0:
			return nil // "delete … (if found)"
		case 1:
			return removeNode(nodes[0], fail)
		}
		return fail("the path selects %d elements; only one can be deleted", len(nodes))
	case "replace":
		n, err := one()
		if err != nil {
			return err
		}
		return patchReplace(s, n, op, fail)
	case "move":
		l, err := listOf(s, root, op, nodes, env)
		if err != nil {
			return fail("%v", err)
		}
		if op.Source >= l.len() || op.Destination >= l.len() {
			return fail("source %d and destination %d must be below the list's length %d", op.Source, op.Destination, l.len())
		}
		val, ext := removeAt(l.obj, l.name, op.Source)
		insertAt(l.obj, l.name, op.Destination, val, ext)
		return nil
	}
	return fail("unknown operation type")
}

// childrenDef returns the element whose children a node's value has.
func childDef(s *spec.Spec, n *fhirpath.Node, name string) (*spec.Element, string) {
	e := n.Element()
	if e == nil {
		return nil, ""
	}
	if c := s.ChildOf(e, n.TypeName(), name); c != nil {
		return c, ""
	}
	// A typed choice form (deceasedBoolean) names the element too.
	return s.ChildByJSONName(e, n.TypeName(), name)
}

// patchAdd adds op.Name with op.value to the element n: appended to a list,
// or set when the element does not exist yet.
// https://hl7.org/fhir/R4/fhirpatch.html#operations: "Add can [be] used for
// non-repeating elements as long as they do not already exist".
func patchAdd(s *spec.Spec, n *fhirpath.Node, op *PatchOp, fail func(string, ...any) error) error {
	obj := n.Value()
	if obj == nil || obj.Kind != fhir.Object {
		return fail("the path selects a %s, which has no elements to add to", kindName(n))
	}
	def, choiceType := childDef(s, n, op.Name)
	if def == nil {
		return fail("%s has no element %q", n.TypeName(), op.Name)
	}
	if choiceType != "" && op.value.typ != "" && choiceType != op.value.typ {
		return fail("%s is a %s, the value a %s", op.Name, choiceType, op.value.typ)
	}
	val, ext, member, err := materialize(s, op.value, def, def.Name)
	if err != nil {
		return err
	}
	if def.Repeating() {
		l := list{obj: obj, name: member}
		insertAt(obj, member, l.len(), val, ext)
		return nil
	}
	for _, m := range obj.Members {
		jn := strings.TrimPrefix(m.Name, "_")
		if jn == member || def.Choice && def.ChoiceType(jn) != "" {
			return fail("%s already has %s; replace it instead", n.Location(), def.Name)
		}
	}
	setMember(obj, member, val)
	if ext != nil {
		setMember(obj, "_"+member, *ext)
	}
	return nil
}

// patchReplace replaces the element n by op.value, in place.
func patchReplace(s *spec.Spec, n *fhirpath.Node, op *PatchOp, fail func(string, ...any) error) error {
	parent := n.Parent()
	if parent == nil {
		return fail("the whole resource cannot be replaced by a patch")
	}
	pobj := parent.Value()
	mi, ii := slotOf(pobj, n)
	if mi < 0 {
		return fail("cannot locate %s in its parent", n.Location())
	}
	name := strings.TrimPrefix(pobj.Members[mi].Name, "_")
	def := n.Element()
	stem := name
	if def != nil && def.Choice {
		stem = def.Name
	}
	val, ext, member, err := materialize(s, op.value, def, stem)
	if err != nil {
		return err
	}
	if ii < 0 {
		if member != name { // a choice element changing type: valueString → valueQuantity
			deleteMember(pobj, name)
			deleteMember(pobj, "_"+name)
		}
		setMember(pobj, member, val)
		if ext != nil {
			setMember(pobj, "_"+member, *ext)
		} else {
			deleteMember(pobj, "_"+member)
		}
		return nil
	}
	replaceAt(pobj, name, ii, val, ext)
	return nil
}

// list is a repeating element of an object: its member name and definition.
type list struct {
	obj  *fhir.Value
	name string
	def  *spec.Element
}

func (l list) len() int {
	n := 0
	if v, ok := l.obj.Get(l.name); ok && v.Kind == fhir.Array {
		n = len(v.Items)
	}
	if v, ok := l.obj.Get("_" + l.name); ok && v.Kind == fhir.Array && len(v.Items) > n {
		n = len(v.Items)
	}
	return n
}

// listOf finds the list the path of insert or move names: the elements it
// selects must all be items of one list. An empty selection names an empty
// list when the path ends in an element name (Patient.identifier): its
// parent is then found by the path without that name.
func listOf(s *spec.Spec, root *fhir.Value, op *PatchOp, nodes []*fhirpath.Node, env *fhirpath.Env) (list, error) {
	if len(nodes) == 0 {
		dot := strings.LastIndexByte(op.Path, '.')
		name := op.Path[dot+1:]
		if dot < 0 || !isName(name) {
			return list{}, fmt.Errorf("the path selects nothing")
		}
		pe, err := fhirpath.Compile(op.Path[:dot])
		if err != nil {
			return list{}, fmt.Errorf("the path selects nothing")
		}
		res, err := pe.Evaluate(env, fhirpath.Collection{fhirpath.ResourceNode(s, root)})
		if err != nil || len(res) != 1 {
			return list{}, fmt.Errorf("the path selects nothing")
		}
		p, ok := res[0].(*fhirpath.Node)
		if !ok || p.Value() == nil || p.Value().Kind != fhir.Object {
			return list{}, fmt.Errorf("the path selects nothing")
		}
		def, _ := childDef(s, p, name)
		if def == nil || def.Choice {
			return list{}, fmt.Errorf("%s has no element %q", p.TypeName(), name)
		}
		return list{obj: p.Value(), name: name, def: def}, nil
	}
	first := nodes[0]
	if first.Parent() == nil || first.Index() < 0 {
		return list{}, fmt.Errorf("the path does not select the items of a list")
	}
	pobj := first.Parent().Value()
	mi, _ := slotOf(pobj, first)
	if mi < 0 {
		return list{}, fmt.Errorf("cannot locate the list")
	}
	l := list{obj: pobj, name: strings.TrimPrefix(pobj.Members[mi].Name, "_"), def: first.Element()}
	for _, n := range nodes[1:] {
		if n.Parent() == nil || n.Parent().Value() != pobj || strings.TrimPrefix(n.Name(), "_") != l.name {
			return list{}, fmt.Errorf("the path selects elements of more than one list")
		}
	}
	if len(nodes) != l.len() {
		return list{}, fmt.Errorf("the path selects %d of the %d items of %s; it must name the whole list", len(nodes), l.len(), l.name)
	}
	return l, nil
}

func isName(s string) bool {
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

// removeNode deletes the element n (with its "_name" companion), then
// removes the objects that this leaves empty: R4 JSON has no empty objects
// (https://hl7.org/fhir/R4/json.html), so deleting Patient.contact.name.text
// also deletes a name that had nothing else.
func removeNode(n *fhirpath.Node, fail func(string, ...any) error) error {
	parent := n.Parent()
	if parent == nil {
		return fail("the whole resource cannot be deleted by a patch")
	}
	pobj := parent.Value()
	if pobj == nil {
		pobj = parent.Companion()
	}
	mi, ii := slotOf(pobj, n)
	if mi < 0 {
		return fail("cannot locate %s in its parent", n.Location())
	}
	name := pobj.Members[mi].Name
	if ii < 0 {
		deleteMember(pobj, strings.TrimPrefix(name, "_"))
		deleteMember(pobj, "_"+strings.TrimPrefix(name, "_"))
	} else {
		removeAt(pobj, strings.TrimPrefix(name, "_"), ii)
	}
	prune(parent, pobj)
	return nil
}

// prune removes obj, the value of node n, from its parents while it is
// empty. A companion object ("_name") that becomes empty goes alone; its
// primitive stays.
func prune(n *fhirpath.Node, obj *fhir.Value) {
	for obj != nil && obj.Kind == fhir.Object && len(obj.Members) == 0 {
		parent := n.Parent()
		if parent == nil {
			return
		}
		pobj := parent.Value()
		if pobj == nil {
			pobj = parent.Companion()
		}
		mi, ii := slotOfValue(pobj, obj)
		if mi < 0 {
			return
		}
		name := pobj.Members[mi].Name
		switch {
		case ii < 0:
			deleteMember(pobj, name)
		case strings.HasPrefix(name, "_"):
			arr := &pobj.Members[mi].Value
			arr.Items[ii] = fhir.Value{Kind: fhir.Null}
			tidyCompanion(pobj, strings.TrimPrefix(name, "_"))
		default:
			removeAt(pobj, name, ii)
		}
		n, obj = parent, pobj
	}
}

// slotOf finds the member (and array index, or -1) that holds node n's
// value in pobj, by identity; a node without a value (a primitive with only
// extensions) is found by its companion.
func slotOf(pobj *fhir.Value, n *fhirpath.Node) (member, item int) {
	v := n.Value()
	if v == nil {
		v = n.Companion()
	}
	return slotOfValue(pobj, v)
}

func slotOfValue(pobj, v *fhir.Value) (member, item int) {
	if pobj == nil || v == nil || pobj.Kind != fhir.Object {
		return -1, -1
	}
	for i := range pobj.Members {
		m := &pobj.Members[i].Value
		if m == v {
			return i, -1
		}
		if m.Kind == fhir.Array {
			for j := range m.Items {
				if &m.Items[j] == v {
					return i, j
				}
			}
		}
	}
	return -1, -1
}

// materialize turns a patch value into the JSON of element def: the value
// itself and its companion, and the member name it takes (a choice element's
// typed form: deceased + boolean → deceasedBoolean). stem is the element's
// name (the choice stem).
func materialize(s *spec.Spec, v *patchValue, def *spec.Element, stem string) (val fhir.Value, ext *fhir.Value, member string, err error) {
	bad := func(format string, args ...any) (fhir.Value, *fhir.Value, string, error) {
		return fhir.Value{}, nil, "", outcome.New(outcome.Invalid, "invalid", "FHIRPath Patch: "+fmt.Sprintf(format, args...), v.loc)
	}
	member = stem
	if def != nil && def.Choice {
		if v.typ == "" {
			return bad("%s is a choice element: its value needs a type (value[x])", def.Path)
		}
		ok := false
		for _, t := range def.Types {
			ok = ok || t.Code == v.typ
		}
		if !ok {
			return bad("%s cannot be a %s", def.Path, v.typ)
		}
		member = stem + upperFirst(v.typ)
	}
	if v.parts == nil {
		if v.ext != nil {
			e := clone(*v.ext)
			ext = &e
		}
		return clone(v.json), ext, member, nil
	}
	if def == nil {
		return bad("the element of an anonymous value is not known")
	}
	typ := ""
	if len(def.Types) > 0 {
		typ = def.Types[0].Code
	}
	obj := fhir.Value{Kind: fhir.Object}
	for _, p := range v.parts {
		var c *spec.Element
		choice := ""
		if len(def.Children) > 0 || s.Type(typ) != nil {
			c = s.ChildOf(def, typ, p.name)
			if c == nil {
				c, choice = s.ChildByJSONName(def, typ, p.name)
			}
		}
		if c == nil {
			return bad("%s has no element %q", def.Path, p.name)
		}
		if choice != "" && p.val.typ != choice {
			return bad("%s is a %s, the value a %s", p.name, choice, p.val.typ)
		}
		cv, cext, cname, err := materialize(s, p.val, c, c.Name)
		if err != nil {
			return fhir.Value{}, nil, "", err
		}
		if c.Repeating() {
			l := list{obj: &obj, name: cname}
			insertAt(&obj, cname, l.len(), cv, cext)
			continue
		}
		if _, dup := obj.Get(cname); dup {
			return bad("%s appears twice, but %s is not a list", p.name, c.Path)
		}
		setMember(&obj, cname, cv)
		if cext != nil {
			setMember(&obj, "_"+cname, *cext)
		}
	}
	return obj, nil, member, nil
}

func kindName(n *fhirpath.Node) string {
	if t := n.TypeName(); t != "" {
		return t
	}
	return "primitive"
}

// setMember sets obj's member name to v, in place if it exists.
func setMember(obj *fhir.Value, name string, v fhir.Value) {
	if m, ok := obj.Get(name); ok {
		*m = v
		return
	}
	obj.Members = append(obj.Members, fhir.Member{Name: name, Value: v})
}

func deleteMember(obj *fhir.Value, name string) {
	for i := range obj.Members {
		if obj.Members[i].Name == name {
			obj.Members = append(obj.Members[:i], obj.Members[i+1:]...)
			return
		}
	}
}

// insertAt inserts val (with companion ext, or none) at index i of the list
// name of obj, keeping the "_name" array aligned.
func insertAt(obj *fhir.Value, name string, i int, val fhir.Value, ext *fhir.Value) {
	n := list{obj: obj, name: name}.len()
	arr, ok := obj.Get(name)
	if !ok || arr.Kind != fhir.Array {
		setMember(obj, name, fhir.Value{Kind: fhir.Array})
		arr, _ = obj.Get(name)
	}
	for len(arr.Items) < n {
		arr.Items = append(arr.Items, fhir.Value{Kind: fhir.Null})
	}
	arr.Items = append(arr.Items, fhir.Value{})
	copy(arr.Items[i+1:], arr.Items[i:])
	arr.Items[i] = val
	comp, hasComp := obj.Get("_" + name)
	if !hasComp && ext == nil {
		return
	}
	if !hasComp || comp.Kind != fhir.Array {
		setMember(obj, "_"+name, fhir.Value{Kind: fhir.Array})
		comp, _ = obj.Get("_" + name)
	}
	for len(comp.Items) < n {
		comp.Items = append(comp.Items, fhir.Value{Kind: fhir.Null})
	}
	comp.Items = append(comp.Items, fhir.Value{})
	copy(comp.Items[i+1:], comp.Items[i:])
	if ext != nil {
		comp.Items[i] = *ext
	} else {
		comp.Items[i] = fhir.Value{Kind: fhir.Null}
	}
	tidyCompanion(obj, name)
}

// replaceAt sets item i of the list name of obj to val and its companion to
// ext (none: null).
func replaceAt(obj *fhir.Value, name string, i int, val fhir.Value, ext *fhir.Value) {
	n := list{obj: obj, name: name}.len()
	arr, ok := obj.Get(name)
	if !ok || arr.Kind != fhir.Array {
		setMember(obj, name, fhir.Value{Kind: fhir.Array})
		arr, _ = obj.Get(name)
	}
	for len(arr.Items) < n {
		arr.Items = append(arr.Items, fhir.Value{Kind: fhir.Null})
	}
	arr.Items[i] = val
	comp, hasComp := obj.Get("_" + name)
	if !hasComp && ext == nil {
		return
	}
	if !hasComp || comp.Kind != fhir.Array {
		setMember(obj, "_"+name, fhir.Value{Kind: fhir.Array})
		comp, _ = obj.Get("_" + name)
	}
	for len(comp.Items) < n {
		comp.Items = append(comp.Items, fhir.Value{Kind: fhir.Null})
	}
	if ext != nil {
		comp.Items[i] = *ext
	} else {
		comp.Items[i] = fhir.Value{Kind: fhir.Null}
	}
	tidyCompanion(obj, name)
}

// removeAt removes item i of the list name of obj and its companion, and
// returns them; an emptied list disappears.
func removeAt(obj *fhir.Value, name string, i int) (val fhir.Value, ext *fhir.Value) {
	val = fhir.Value{Kind: fhir.Null}
	if arr, ok := obj.Get(name); ok && arr.Kind == fhir.Array && i < len(arr.Items) {
		val = arr.Items[i]
		arr.Items = append(arr.Items[:i], arr.Items[i+1:]...)
		if len(arr.Items) == 0 {
			deleteMember(obj, name)
		}
	}
	if comp, ok := obj.Get("_" + name); ok && comp.Kind == fhir.Array && i < len(comp.Items) {
		if x := comp.Items[i]; x.Kind != fhir.Null {
			ext = &x
		}
		comp.Items = append(comp.Items[:i], comp.Items[i+1:]...)
	}
	tidyCompanion(obj, name)
	return val, ext
}

// tidyCompanion drops a "_name" array that holds only nulls, and a list
// whose values are all null when there is no companion left.
func tidyCompanion(obj *fhir.Value, name string) {
	comp, ok := obj.Get("_" + name)
	if !ok {
		return
	}
	if comp.Kind == fhir.Array {
		for _, it := range comp.Items {
			if it.Kind != fhir.Null {
				return
			}
		}
		deleteMember(obj, "_"+name)
		if arr, ok := obj.Get(name); ok && arr.Kind == fhir.Array {
			for _, it := range arr.Items {
				if it.Kind != fhir.Null {
					return
				}
			}
			deleteMember(obj, name)
		}
	}
}
