package fhirpath

import (
	"slices"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
)

// Item is one element of a collection: either a *Node (a value from the
// resource, typed by the FHIR model) or a System value the engine computed
// (Boolean, Integer, Decimal, String, Date/DateTime/Time, Quantity, TypeInfo).
// See https://hl7.org/fhirpath/N1/#literals and #types-and-reflection.
type Item interface {
	// TypeName is the FHIR type name ("string", "HumanName", "Patient") for
	// model values and "System.X" for System values.
	TypeName() string
}

// Collection is an ordered collection of items; FHIRPath has no other
// container (https://hl7.org/fhirpath/N1/#collections).
type Collection []Item

// System values.
type (
	// Boolean is System.Boolean.
	Boolean bool
	// Integer is System.Integer. FHIRPath integers are 32-bit; we keep
	// 64 bits and report overflow of arithmetic as an error.
	Integer int64
	// String is System.String.
	String string
	// Decimal is System.Decimal: exact, keeping the digits it was written
	// with (0.0 prints as 0.0).
	Decimal struct{ D *apd.Decimal }
	// Quantity is System.Quantity: a decimal value and a UCUM unit or a
	// calendar duration keyword.
	Quantity struct {
		Value *apd.Decimal
		Unit  string // UCUM code, or the calendar keyword as written
		// calendar is the singular calendar keyword (year … millisecond)
		// when the unit was written unquoted, e.g. 4 days.
		calendar string
	}
	// TypeInfo is the result of type() (https://hl7.org/fhirpath/N1/#reflection).
	TypeInfo struct{ Namespace, Name string }
)

// TypeName implementations.
func (Boolean) TypeName() string  { return "System.Boolean" }
func (Integer) TypeName() string  { return "System.Integer" }
func (String) TypeName() string   { return "System.String" }
func (Decimal) TypeName() string  { return "System.Decimal" }
func (Quantity) TypeName() string { return "System.Quantity" }
func (TypeInfo) TypeName() string { return "System.Object" }

func (d Decimal) String() string  { return d.D.Text('f') }
func (q Quantity) String() string { return quantityString(q) }

func quantityString(q Quantity) string {
	if q.calendar != "" {
		return q.Value.Text('f') + " " + q.Unit
	}
	return q.Value.Text('f') + " '" + q.Unit + "'"
}

func parseInt(s string) (int64, bool) {
	i, err := strconv.ParseInt(s, 10, 64)
	return i, err == nil
}

func toDec(it Item) *apd.Decimal {
	switch v := it.(type) {
	case Integer:
		return apd.New(int64(v), 0)
	case Decimal:
		return v.D
	}
	return apd.New(0, 0)
}

// Node is a value from a resource: a JSON value with its FHIR type, its
// element definition and where it sits in the resource.
type Node struct {
	v      *fhir.Value // nil for a primitive that has only an id/extension
	ext    *fhir.Value // the "_name" companion of a primitive, if any
	typ    string
	elem   *spec.Element // whose children apply: the element itself if inline, else its type's root
	def    *spec.Element // the element definition in the parent (nil for a resource root)
	t      *spec.Type    // the type, when the spec knows it
	parent *Node
	name   string
	index  int // -1: not an element of a repeating element
	spec   *spec.Spec
}

// ResourceNode returns the node of a whole resource (v must be an object with
// a resourceType). s may be nil; typing is then inferred from JSON.
func ResourceNode(s *spec.Spec, v *fhir.Value) *Node {
	rt := v.ResourceType()
	n := &Node{v: v, typ: rt, name: rt, index: -1, spec: s}
	if s != nil {
		if n.t = s.Type(rt); n.t != nil {
			n.elem = n.t.Root
		}
	}
	return n
}

// TypeName is the FHIR type of the node ("" when unknown).
func (n *Node) TypeName() string { return n.typ }

// Value is the node's JSON value; nil for a primitive that carries only an
// id or extensions.
func (n *Node) Value() *fhir.Value { return n.v }

// Element is the node's element definition as its parent declares it
// (Patient.contact, Narrative.div), or the type's root for a resource, if
// known. Constraints declared on an element are on this definition.
func (n *Node) Element() *spec.Element {
	if n.def != nil {
		return n.def
	}
	return n.elem
}

// Parent is the node the node was navigated from; nil for a resource
// reached as the focus. Together with Name and Index it locates the node in
// its parent's JSON object, which FHIRPath Patch needs to change the tree.
func (n *Node) Parent() *Node { return n.parent }

// Name is the JSON member the node is in its parent: the element name, or a
// choice element's typed form (valueQuantity).
func (n *Node) Name() string { return n.name }

// Index is the node's position in its member's array, or -1 for a member
// that is not an array.
func (n *Node) Index() int { return n.index }

// Companion is the "_name" object (id and extensions) of a primitive, or
// nil.
func (n *Node) Companion() *fhir.Value { return n.ext }

// Location is the node's path in FHIRPath form, e.g. Patient.name[0].given[1],
// as OperationOutcome.issue.expression wants it.
func (n *Node) Location() string {
	var parts []*Node
	for p := n; p != nil; p = p.parent {
		parts = append(parts, p)
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		p := parts[i]
		if i != len(parts)-1 {
			b.WriteByte('.')
		}
		b.WriteString(p.name)
		if p.index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(p.index))
			b.WriteByte(']')
		}
	}
	return b.String()
}

func (n *Node) isResource() bool {
	if n.t != nil {
		return n.t.IsResource()
	}
	return n.v != nil && n.v.Kind == fhir.Object && n.v.ResourceType() != ""
}

// children returns the child nodes called name (https://hl7.org/fhirpath/N1/#path-selection),
// reaching choice elements by their stem (value → valueQuantity, typed
// Quantity). Primitive values keep their "_name" companions (id, extension).
func (n *Node) children(name string, out Collection) (Collection, error) {
	if n.v == nil || n.v.Kind != fhir.Object {
		// A primitive's children are those of its companion object.
		if n.ext != nil && n.ext.Kind == fhir.Object && (name == "id" || name == "extension") {
			tmp := &Node{v: n.ext, typ: "Element", parent: n.parent, name: n.name, index: n.index, spec: n.spec}
			if n.spec != nil {
				if tmp.t = n.spec.Type("Element"); tmp.t != nil {
					tmp.elem = tmp.t.Root
				}
			}
			return tmp.children(name, out)
		}
		return out, nil
	}
	var def *spec.Element
	if n.elem != nil && n.spec != nil {
		def = n.spec.ChildOf(n.elem, n.typ, name)
		if def == nil {
			// A choice element's typed form is not a valid name in FHIRPath
			// (https://hl7.org/fhir/R4/fhirpath.html#polymorphism):
			// Observation.valueQuantity must be written Observation.value.
			if c, tc := n.spec.ChildByJSONName(n.elem, n.typ, name); c != nil && tc != "" {
				return nil, errorf("'%s' is not a valid name: use '%s' (choice elements are reached by their name without the type)", name, c.Name)
			}
		}
	}
	if def != nil && def.Choice {
		// One pass over the members finds every typed form (valueQuantity,
		// _valueString …) without building candidate names.
		for i := range n.v.Members {
			mn := n.v.Members[i].Name
			under := strings.HasPrefix(mn, "_")
			if under {
				mn = mn[1:]
			}
			if len(mn) <= len(name) || mn[:len(name)] != name {
				continue
			}
			c, tc := n.spec.ChildByJSONName(n.elem, n.typ, mn)
			if c != def || tc == "" {
				continue
			}
			if under {
				if _, ok := n.v.Get(mn); ok {
					continue // handled with its value
				}
				out = n.appendMember(out, mn, nil, def, tc)
				continue
			}
			out = n.appendMember(out, mn, &n.v.Members[i].Value, def, tc)
		}
		return out, nil
	}
	m, ext := members(n.v, name)
	if m == nil && ext == nil {
		return out, nil
	}
	tc := ""
	if def != nil && len(def.Types) > 0 {
		tc = def.Types[0].Code
	}
	return n.appendMemberExt(out, name, m, ext, def, tc), nil
}

// members finds the member called name and its "_name" companion in one
// pass, without building "_"+name.
func members(v *fhir.Value, name string) (m, ext *fhir.Value) {
	for i := range v.Members {
		mn := v.Members[i].Name
		switch {
		case mn == name:
			m = &v.Members[i].Value
		case len(mn) == len(name)+1 && mn[0] == '_' && mn[1:] == name:
			ext = &v.Members[i].Value
		}
	}
	return m, ext
}

// appendMember appends the nodes of member jsonName (value m, maybe nil when
// only "_jsonName" exists), named by the element's FHIRPath name.
func (n *Node) appendMember(out Collection, jsonName string, m *fhir.Value, def *spec.Element, typeCode string) Collection {
	_, ext := members(n.v, jsonName)
	return n.appendMemberExt(out, jsonName, m, ext, def, typeCode)
}

func (n *Node) appendMemberExt(out Collection, jsonName string, m, ext *fhir.Value, def *spec.Element, typeCode string) Collection {
	// The nodes of one array come from one allocation.
	var slab []Node
	mk := func(v, x *fhir.Value, idx int) *Node {
		var c *Node
		if len(slab) > 0 {
			c, slab = &slab[0], slab[1:]
			*c = Node{v: v, ext: x, elem: def, def: def, parent: n, name: jsonName, index: idx, spec: n.spec}
		} else {
			c = &Node{v: v, ext: x, elem: def, def: def, parent: n, name: jsonName, index: idx, spec: n.spec}
		}
		c.typ = n.childType(v, def, typeCode)
		if n.spec != nil {
			c.t = n.spec.Type(c.typ)
			if c.t != nil && (def == nil || len(def.Children) == 0) {
				// Elements of a named type: navigate with the type's root.
				c.elem = c.t.Root
			}
		}
		return c
	}
	switch {
	case m != nil && m.Kind == fhir.Array:
		if len(m.Items) > 1 {
			slab = make([]Node, len(m.Items))
			out = slices.Grow(out, len(m.Items))
		}
		for i := range m.Items {
			var x *fhir.Value
			if ext != nil && ext.Kind == fhir.Array && i < len(ext.Items) && ext.Items[i].Kind != fhir.Null {
				x = &ext.Items[i]
			}
			v := &m.Items[i]
			if v.Kind == fhir.Null {
				if x == nil {
					continue
				}
				v = nil
			}
			out = append(out, mk(v, x, i))
		}
	case m == nil && ext != nil && ext.Kind == fhir.Array:
		for i := range ext.Items {
			if ext.Items[i].Kind != fhir.Null {
				out = append(out, mk(nil, &ext.Items[i], i))
			}
		}
	default:
		idx := -1
		if def != nil && def.Repeating() {
			idx = 0
		}
		if m != nil && m.Kind == fhir.Null {
			m = nil
		}
		if m == nil && ext == nil {
			return out
		}
		out = append(out, mk(m, ext, idx))
	}
	return out
}

// childType decides the FHIR type of a child value.
func (n *Node) childType(v *fhir.Value, def *spec.Element, typeCode string) string {
	if v != nil && v.Kind == fhir.Object {
		if rt := v.ResourceType(); rt != "" && (typeCode == "" || typeCode == "Resource" || typeCode == "DomainResource") {
			return rt
		}
	}
	switch {
	case strings.HasPrefix(typeCode, "System."):
		return typeCode
	case strings.HasPrefix(typeCode, "http://hl7.org/fhirpath/System."):
		return strings.TrimPrefix(typeCode, "http://hl7.org/fhirpath/")
	case typeCode != "":
		return typeCode
	}
	if def != nil {
		return ""
	}
	// Untyped: infer from JSON.
	if v == nil {
		return ""
	}
	switch v.Kind {
	case fhir.Bool:
		return "boolean"
	case fhir.Number:
		if strings.ContainsAny(v.Text, ".eE") {
			return "decimal"
		}
		return "integer"
	case fhir.String:
		return "string"
	}
	return ""
}

// allChildren returns every child node (https://hl7.org/fhirpath/N1/#children-collection).
func (n *Node) allChildren(out Collection) Collection {
	if n.v == nil || n.v.Kind != fhir.Object {
		if n.ext != nil {
			out, _ = n.children("id", out)
			out, _ = n.children("extension", out)
		}
		return out
	}
	for i := range n.v.Members {
		m := &n.v.Members[i]
		name := m.Name
		if name == "resourceType" {
			continue
		}
		if strings.HasPrefix(name, "_") {
			if _, ok := n.v.Get(name[1:]); ok {
				continue // handled with its value
			}
			name = name[1:]
			m = nil
		}
		var def *spec.Element
		tc := ""
		if n.elem != nil && n.spec != nil {
			def, tc = n.spec.ChildByJSONName(n.elem, n.typ, name)
			if def != nil && tc == "" && len(def.Types) > 0 {
				tc = def.Types[0].Code
			}
		}
		var mv *fhir.Value
		if m != nil {
			mv = &m.Value
		}
		out = n.appendMember(out, name, mv, def, tc)
	}
	return out
}

// primitiveSystemType maps FHIR primitive types to their System type
// (https://hl7.org/fhir/R4/fhirpath.html#types).
func primitiveSystemType(t string) string {
	switch t {
	case "boolean":
		return "Boolean"
	case "integer", "positiveInt", "unsignedInt":
		return "Integer"
	case "decimal":
		return "Decimal"
	case "date":
		return "Date"
	case "dateTime", "instant":
		return "DateTime"
	case "time":
		return "Time"
	case "string", "code", "id", "uri", "url", "canonical", "oid", "uuid", "markdown", "base64Binary", "xhtml":
		return "String"
	}
	if strings.HasPrefix(t, "System.") {
		return t[len("System."):]
	}
	return ""
}

// sysValue returns the System value of a primitive node (or of a Quantity),
// and items that are already System values unchanged. ok is false for
// complex nodes and primitives without a value.
func sysValue(it Item) (Item, bool) {
	n, isNode := it.(*Node)
	if !isNode {
		return it, true
	}
	if n.v == nil {
		return nil, false
	}
	st := primitiveSystemType(n.typ)
	if st == "" {
		if n.v.Kind == fhir.Object {
			if n.typ == "Quantity" || n.typ == "Age" || n.typ == "Duration" || n.typ == "Distance" || n.typ == "Count" || n.typ == "SimpleQuantity" || n.typ == "MoneyQuantity" {
				return quantityFromNode(n.v)
			}
			return nil, false
		}
		// Unknown types: infer from JSON.
		switch n.v.Kind {
		case fhir.Bool:
			st = "Boolean"
		case fhir.Number:
			st = "Decimal"
			if !strings.ContainsAny(n.v.Text, ".eE") {
				st = "Integer"
			}
		case fhir.String:
			st = "String"
		default:
			return nil, false
		}
	}
	switch st {
	case "Boolean":
		if n.v.Kind == fhir.Bool {
			return Boolean(n.v.Bool), true
		}
	case "Integer":
		if i, ok := parseInt(n.v.Text); ok {
			return Integer(i), true
		}
	case "Decimal":
		if d, _, err := apd.NewFromString(n.v.Text); err == nil {
			return Decimal{d}, true
		}
	case "Date", "DateTime", "Time":
		if dt, err := parseDateTimeValue(n.v.Text, st); err == nil {
			return dt, true
		}
		return String(n.v.Text), true
	default:
		if n.v.Kind == fhir.String {
			return String(n.v.Text), true
		}
		if n.v.Kind == fhir.Number || n.v.Kind == fhir.Bool {
			return String(string(n.v.Marshal())), true
		}
	}
	return nil, false
}

func quantityFromNode(v *fhir.Value) (Item, bool) {
	val, ok := v.Get("value")
	if !ok || val.Kind != fhir.Number {
		return nil, false
	}
	d, _, err := apd.NewFromString(val.Text)
	if err != nil {
		return nil, false
	}
	unit := v.Str("code")
	if unit == "" || (v.Str("system") != "" && v.Str("system") != "http://unitsofmeasure.org") {
		unit = v.Str("unit")
	}
	if unit == "" {
		unit = "1"
	}
	return Quantity{Value: d, Unit: unit}, true
}

// IsUCUM reports whether the unit is a UCUM code rather than a calendar
// duration keyword (4 days).
func (q Quantity) IsUCUM() bool { return q.calendar == "" }
