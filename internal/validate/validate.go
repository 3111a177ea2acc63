// Package validate checks FHIR R4 JSON against the base specification and
// reports every problem as an OperationOutcome issue with the FHIRPath
// location of the offending element.
//
// The checks follow the JSON representation rules
// (https://hl7.org/fhir/R4/json.html) and the StructureDefinitions of the
// embedded R4 definitions (package spec):
//
//   - the input is one strict JSON value (no duplicate names, valid UTF-8),
//     within the size and nesting limits;
//   - resourceType names a concrete resource type;
//   - every property is an element of its type (choice elements by one of
//     their typed names, primitive extensions as _name), of the right JSON
//     kind, and neither null (except as padding in primitive arrays), nor
//     an empty string, array or object;
//   - min/max cardinality, at most one form of a choice element, matching
//     lengths of a primitive array and its _name twin;
//   - primitive values match the regular expressions of the spec, integers
//     fit their range, xhtml is well-formed XHTML with a div root;
//   - codes, Codings and CodeableConcepts with a required binding take their
//     codes from the bound value set when it can be expanded locally (those
//     that cannot are listed in docs/validation.md);
//   - references have a valid form and, when relative, name an allowed
//     target type;
//   - contained resources, Bundle entries and Parameters resources are
//     validated as resources in their own right;
//   - invariants (ele-1, dom-*, each type's own constraints) are evaluated
//     with FHIRPath when an evaluator is configured (Options.Invariants).
//
// Profile validation (meta.profile) is a seam for later: see Options.
package validate

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/outcome"
)

// Options tune a Validator.
type Options struct {
	MaxBytes int // largest accepted input; 0 means DefaultMaxBytes
	MaxDepth int // deepest accepted JSON nesting; 0 means DefaultMaxDepth
	// Invariants evaluates the FHIRPath constraints of the definitions on a
	// structurally valid resource; nil means NewFHIRPathInvariants().
	Invariants InvariantChecker
	// SkipInvariants turns invariant evaluation off (benchmarks of the
	// structural checks alone; bulk paths that validated already).
	SkipInvariants bool
}

// InvariantChecker evaluates invariants on a parsed resource and reports the
// violated ones. It is implemented with the FHIRPath engine.
type InvariantChecker interface {
	CheckInvariants(s *spec.Spec, resource *fhir.Value) []outcome.Issue
}

// Defaults for Options.
const (
	DefaultMaxBytes = 64 << 20
	DefaultMaxDepth = fhir.DefaultMaxDepth
)

// Validator validates resources. It is safe for concurrent use.
type Validator struct {
	spec    *spec.Spec
	opts    Options
	regexes map[string]*regexp.Regexp // primitive type → anchored regex; read-only
}

// New returns a Validator over the given definitions.
func New(s *spec.Spec, opts Options) *Validator {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = DefaultMaxDepth
	}
	if opts.Invariants == nil && !opts.SkipInvariants {
		opts.Invariants = NewFHIRPathInvariants()
	}
	if opts.SkipInvariants {
		opts.Invariants = nil
	}
	v := &Validator{spec: s, opts: opts, regexes: map[string]*regexp.Regexp{}}
	for _, name := range primitiveNames {
		if t := s.Type(name); t != nil && t.Regex != "" {
			// The spec's expressions are RE2-compatible; anchor them, since
			// they describe the whole value.
			v.regexes[name] = regexp.MustCompile(`\A(?:` + t.Regex + `)\z`)
		}
	}
	return v
}

var primitiveNames = []string{"base64Binary", "boolean", "canonical", "code", "date", "dateTime", "decimal", "id",
	"instant", "integer", "markdown", "oid", "positiveInt", "string", "time", "unsignedInt", "uri", "url", "uuid", "xhtml"}

// Validate checks one JSON resource (a Bundle's entries included) and returns
// every problem found; the input is acceptable when none is an error
// (outcome.HasErrors).
func (v *Validator) Validate(b []byte) []outcome.Issue {
	_, issues := v.Parse(b)
	return issues
}

// Parse validates b and returns its tree, so that callers that go on to use
// the resource parse it only once. The tree is the zero Value when b is not
// JSON.
func (v *Validator) Parse(b []byte) (fhir.Value, []outcome.Issue) {
	if len(b) > v.opts.MaxBytes {
		return fhir.Value{}, []outcome.Issue{{Severity: outcome.SevFatal, Code: "too-long",
			Diagnostics: fmt.Sprintf("the input is %d bytes; the limit is %d", len(b), v.opts.MaxBytes)}}
	}
	root, err := fhir.ParseLimits(b, fhir.Limits{MaxDepth: v.opts.MaxDepth})
	if err != nil {
		return fhir.Value{}, []outcome.Issue{jsonIssue(err, v.opts.MaxDepth)}
	}
	issues := v.ValueIssues(&root)
	return root, issues
}

// ValueIssues validates an already parsed resource.
func (v *Validator) ValueIssues(root *fhir.Value) []outcome.Issue {
	c := &checker{v: v, s: v.spec}
	c.resource(root, "")
	if v.opts.Invariants != nil && !outcome.HasErrors(c.issues) {
		c.issues = append(c.issues, v.opts.Invariants.CheckInvariants(v.spec, root)...)
	}
	return c.issues
}

// jsonIssue describes why the input is not acceptable JSON.
func jsonIssue(err error, maxDepth int) outcome.Issue {
	is := outcome.Issue{Severity: outcome.SevFatal, Code: "structure"}
	var se *jsontext.SyntacticError
	switch {
	case errors.Is(err, fhir.ErrTooDeep):
		is.Code = "too-costly"
		is.Diagnostics = fmt.Sprintf("JSON is nested deeper than %d levels", maxDepth)
	case errors.As(err, &se):
		msg := se.Err.Error()
		if errors.Is(se.Err, jsontext.ErrDuplicateName) {
			msg = "duplicate property name"
		}
		is.Diagnostics = fmt.Sprintf("invalid JSON at byte %d: %s", se.ByteOffset, msg)
		if p := string(se.JSONPointer); p != "" {
			is.Diagnostics += " (at JSON pointer " + p + ")"
		}
	default:
		is.Diagnostics = "invalid JSON: " + err.Error()
	}
	return is
}

// checker holds the state of one validation.
type checker struct {
	v      *Validator
	s      *spec.Spec
	issues []outcome.Issue
	path   []seg
	seen   []presence
	// bundleType is the type of the innermost enclosing Bundle, which
	// decides whether conditional references are allowed.
	bundleType string
}

// seg is one step of the location: a name and, for array items, an index.
type seg struct {
	name string
	idx  int // -1: not an array item
}

func (c *checker) push(name string, idx int) { c.path = append(c.path, seg{name, idx}) }
func (c *checker) pop()                      { c.path = c.path[:len(c.path)-1] }

// location renders the path as FHIRPath, e.g. Patient.name[0].given[1].
func (c *checker) location() string {
	var b strings.Builder
	for i, s := range c.path {
		if i > 0 && s.idx != -2 {
			b.WriteByte('.')
		}
		b.WriteString(s.name)
		if s.idx >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.idx))
			b.WriteByte(']')
		}
	}
	return b.String()
}

func (c *checker) report(code, format string, args ...any) {
	c.issues = append(c.issues, outcome.Issue{Severity: outcome.SevError, Code: code,
		Diagnostics: fmt.Sprintf(format, args...), Expression: []string{c.location()}})
}

// resource validates v as a resource. name is the JSON name the resource
// sits under ("" at the top, "resource" in a Bundle entry, "contained"…).
func (c *checker) resource(v *fhir.Value, name string) {
	if v.Kind != fhir.Object {
		if name == "" {
			c.issues = append(c.issues, outcome.Issue{Severity: outcome.SevFatal, Code: "structure",
				Diagnostics: fmt.Sprintf("a resource must be a JSON object, not %s", kindName(v))})
			return
		}
		c.report("structure", "a resource must be a JSON object, not %s", kindName(v))
		return
	}
	rtv, ok := v.Get("resourceType")
	if !ok {
		if name == "" {
			c.issues = append(c.issues, outcome.Issue{Severity: outcome.SevFatal, Code: "required",
				Diagnostics: "resourceType is missing: the input is not a FHIR resource"})
			return
		}
		c.report("required", "resourceType is missing")
		return
	}
	if rtv.Kind != fhir.String {
		c.push("resourceType", -1)
		c.report("structure", "resourceType must be a string, not %s", kindName(rtv))
		c.pop()
		return
	}
	rt := rtv.Text
	t := c.s.Resource(rt)
	if t == nil || t.Abstract {
		if len(c.path) == 0 {
			c.issues = append(c.issues, outcome.Issue{Severity: outcome.SevFatal, Code: "not-supported",
				Diagnostics: fmt.Sprintf("unknown resourceType %q: not an R4 resource", truncate(rt)),
				Expression:  []string{"resourceType"}})
			return
		}
		c.push("resourceType", -1)
		c.report("structure", "unknown resourceType %q: not an R4 resource", truncate(rt))
		c.pop()
		return
	}
	if len(c.path) == 0 {
		c.push(rt, -1)
		defer c.pop()
	}
	outerBundle := c.bundleType
	if rt == "Bundle" {
		c.bundleType = v.Str("type")
		defer func() { c.bundleType = outerBundle }()
	}
	c.object(v, t.Root, rt, resourceObject)
}

// objectMode tells object what kind of JSON object it is looking at.
type objectMode uint8

const (
	elementObject   objectMode = iota // an element of a complex type
	resourceObject                    // a resource: resourceType is allowed
	companionObject                   // the _name companion of a primitive
)

// onlyID reports whether an object has no member but id.
func onlyID(v *fhir.Value) bool {
	for i := range v.Members {
		if v.Members[i].Name != "id" {
			return false
		}
	}
	return true
}

// object validates the members of a JSON object holding an element of type
// typeCode described by elem.
func (c *checker) object(v *fhir.Value, elem *spec.Element, typeCode string, mode objectMode) {
	if len(v.Members) == 0 {
		c.report("structure", "empty objects are not allowed")
		return
	}
	isResource := mode == resourceObject
	if mode == elementObject && onlyID(v) {
		// ele-1 (https://hl7.org/fhir/R4/element.html#invariants), checked
		// here rather than with FHIRPath on every node: it is the one
		// invariant of every element and the cheapest to state directly.
		c.report("invariant", "ele-1: All FHIR elements must have a @value or children (this one has only an id)")
	}
	// Presence of each child (with primitive _name twins) and the form a
	// choice child took, on a stack shared by all objects of this
	// validation: objects have few members, and maps cost more than a scan.
	base := len(c.seen)
	defer func() { c.seen = c.seen[:base] }()
	hasExt := false
	for i := range v.Members {
		if n := v.Members[i].Name; len(n) > 1 && n[0] == '_' {
			hasExt = true
			break
		}
	}
	for i := range v.Members {
		m := &v.Members[i]
		if isResource && m.Name == "resourceType" {
			continue
		}
		name := m.Name
		ext := false
		if len(name) > 1 && name[0] == '_' {
			ext = true
			name = name[1:]
		}
		child, choiceType := c.s.ChildByJSONName(elem, typeCode, name)
		if child == nil {
			c.push(m.Name, -1)
			if ch := c.choiceStem(elem, typeCode, name); ch != nil {
				c.report("structure", "%q is not a valid type for the choice element %s[x] (allowed: %s)",
					strings.TrimPrefix(name, ch.Name), ch.Name, typeList(ch))
			} else {
				c.report("structure", "unknown element %q", m.Name)
			}
			c.pop()
			continue
		}
		typ := choiceType
		if typ == "" {
			if len(child.Types) == 1 {
				typ = child.Types[0].Code
			} else if len(child.Types) == 0 && len(child.Children) > 0 {
				typ = "BackboneElement"
			}
		}
		p := c.presence(base, child, name)
		if child.Choice && p.form != name {
			c.push(m.Name, -1)
			c.report("structure", "only one form of %s[x] is allowed: found both %q and %q", child.Name, p.form, name)
			c.pop()
			continue
		}
		if ext {
			if !c.isPrimitive(typ) {
				c.push(m.Name, -1)
				c.report("structure", "%q is not a primitive element, so %q is not allowed", name, m.Name)
				c.pop()
				continue
			}
			// Count before recursing: nested objects may grow c.seen and
			// move it.
			p.count = max(p.count, arrayLen(&m.Value))
			twin, _ := v.Get(name)
			c.primitiveExtension(m, child, typ, twin)
			continue
		}
		var twin *fhir.Value
		if hasExt {
			twin, _ = v.Get("_" + name)
		}
		p.count = max(p.count, arrayLen(&m.Value))
		c.member(m, child, typ, twin)
	}
	// Cardinality. Children of a named type live on the type's root.
	children := elem.Children
	if len(children) == 0 {
		if t := c.s.Type(typeCode); t != nil {
			children = t.Root.Children
		}
	}
	for _, ch := range children {
		n := c.count(base, ch)
		if n < ch.Min {
			name := ch.Name
			if ch.Choice {
				name += "[x]"
			}
			c.push(name, -1)
			if n == 0 {
				c.report("required", "missing required element %q (minimum cardinality %d)", name, ch.Min)
			} else {
				c.report("structure", "element %q has %d values; at least %d are required", name, n, ch.Min)
			}
			c.pop()
		}
		if ch.Max >= 0 && n > ch.Max && ch.Max != 1 {
			c.push(ch.Name, -1)
			c.report("structure", "element %q has %d values; at most %d are allowed", ch.Name, n, ch.Max)
			c.pop()
		}
	}
	if typeCode == "Reference" {
		c.reference(v, elem)
	}
}

// presence records what one object holds of one child element.
type presence struct {
	elem  *spec.Element
	form  string // the JSON name used (tells choice forms apart)
	count int
}

// presence returns the record of child in the object whose records start at
// base, adding one that remembers form if there is none.
func (c *checker) presence(base int, child *spec.Element, form string) *presence {
	for i := base; i < len(c.seen); i++ {
		if c.seen[i].elem == child {
			return &c.seen[i]
		}
	}
	c.seen = append(c.seen, presence{elem: child, form: form})
	return &c.seen[len(c.seen)-1]
}

func (c *checker) count(base int, child *spec.Element) int {
	for i := base; i < len(c.seen); i++ {
		if c.seen[i].elem == child {
			return c.seen[i].count
		}
	}
	return 0
}

func arrayLen(v *fhir.Value) int {
	if v.Kind == fhir.Array {
		return len(v.Items)
	}
	return 1
}

// choiceStem finds a choice child whose stem prefixes name, for a helpful
// message about a wrong type suffix.
func (c *checker) choiceStem(elem *spec.Element, typeCode, name string) *spec.Element {
	for _, ch := range c.s.ChildrenOf(elem, typeCode) {
		if ch.Choice && strings.HasPrefix(name, ch.Name) && len(name) > len(ch.Name) {
			return ch
		}
	}
	return nil
}

func typeList(e *spec.Element) string {
	var names []string
	for _, t := range e.Types {
		names = append(names, t.Code)
	}
	return strings.Join(names, ", ")
}

func (c *checker) isPrimitive(typ string) bool {
	t := c.s.Type(typ)
	return t != nil && t.IsPrimitive()
}

// member validates the value of one property (not a _name twin).
func (c *checker) member(m *fhir.Member, child *spec.Element, typ string, twin *fhir.Value) {
	if child.Repeating() {
		if m.Value.Kind != fhir.Array {
			c.push(m.Name, -1)
			c.report("structure", "%q must be a JSON array (it repeats), not %s", m.Name, kindName(&m.Value))
			c.pop()
			return
		}
		if len(m.Value.Items) == 0 {
			c.push(m.Name, -1)
			c.report("structure", "empty arrays are not allowed")
			c.pop()
			return
		}
		for i := range m.Value.Items {
			it := &m.Value.Items[i]
			c.push(m.Name, i)
			if it.Kind == fhir.Null {
				// null pads a primitive array whose _name twin carries the
				// extension at this index (https://hl7.org/fhir/R4/json.html#primitive).
				if !c.isPrimitive(typ) || twin == nil || twin.Kind != fhir.Array || i >= len(twin.Items) || twin.Items[i].Kind == fhir.Null {
					c.report("structure", "null is only allowed in a primitive array where the _%s array has an extension at the same index", m.Name)
				}
			} else {
				c.value(it, child, typ)
			}
			c.pop()
		}
		return
	}
	c.push(m.Name, -1)
	defer c.pop()
	if m.Value.Kind == fhir.Array {
		c.report("structure", "%q must be a single value, not an array (maximum cardinality 1)", m.Name)
		return
	}
	if m.Value.Kind == fhir.Null {
		c.report("structure", "null is not allowed here")
		return
	}
	c.value(&m.Value, child, typ)
}

// primitiveExtension validates a _name property: the id and extensions of a
// primitive, or an array of them parallel to the primitive array.
func (c *checker) primitiveExtension(m *fhir.Member, child *spec.Element, typ string, twin *fhir.Value) {
	pt := c.s.Type(typ)
	check := func(v *fhir.Value, hasValue bool) {
		if v.Kind != fhir.Object {
			c.report("structure", "%q must hold objects with id and extension, not %s", m.Name, kindName(v))
			return
		}
		if !hasValue && onlyID(v) {
			c.report("invariant", "ele-1: All FHIR elements must have a @value or children (this one has only an id)")
		}
		// The primitive's own definition minus its value: id and extension.
		for i := range v.Members {
			if v.Members[i].Name == "value" {
				c.push("value", -1)
				c.report("structure", "unknown element \"value\"")
				c.pop()
				v2 := *v
				v2.Members = append(append([]fhir.Member{}, v.Members[:i]...), v.Members[i+1:]...)
				if len(v2.Members) > 0 {
					c.object(&v2, pt.Root, typ, companionObject)
				}
				return
			}
		}
		c.object(v, pt.Root, typ, companionObject)
	}
	if child.Repeating() {
		if m.Value.Kind != fhir.Array {
			c.push(m.Name, -1)
			c.report("structure", "%q must be a JSON array parallel to %q", m.Name, m.Name[1:])
			c.pop()
			return
		}
		if twin != nil && twin.Kind == fhir.Array && len(twin.Items) != len(m.Value.Items) {
			c.push(m.Name, -1)
			c.report("structure", "%q has %d items but %q has %d: the arrays must have the same length",
				m.Name, len(m.Value.Items), m.Name[1:], len(twin.Items))
			c.pop()
		}
		allNull := true
		for i := range m.Value.Items {
			it := &m.Value.Items[i]
			c.push(m.Name, i)
			if it.Kind == fhir.Null {
				if twin == nil || twin.Kind != fhir.Array || i >= len(twin.Items) {
					c.report("structure", "null in %q has no value at the same index of %q", m.Name, m.Name[1:])
				}
			} else {
				allNull = false
				check(it, twin != nil && twin.Kind == fhir.Array && i < len(twin.Items) && twin.Items[i].Kind != fhir.Null)
			}
			c.pop()
		}
		if allNull && len(m.Value.Items) > 0 {
			c.push(m.Name, -1)
			c.report("structure", "%q holds only nulls; leave it out", m.Name)
			c.pop()
		}
		if len(m.Value.Items) == 0 {
			c.push(m.Name, -1)
			c.report("structure", "empty arrays are not allowed")
			c.pop()
		}
		return
	}
	c.push(m.Name, -1)
	defer c.pop()
	if m.Value.Kind == fhir.Null || m.Value.Kind == fhir.Array {
		c.report("structure", "%q must be an object, not %s", m.Name, kindName(&m.Value))
		return
	}
	check(&m.Value, twin != nil && twin.Kind != fhir.Null)
}

// value validates one non-null value of an element of type typ.
func (c *checker) value(v *fhir.Value, elem *spec.Element, typ string) {
	if typ == "" {
		c.report("structure", "cannot determine the type of this element")
		return
	}
	if typ == "Resource" {
		c.resource(v, elem.Name)
		return
	}
	t := c.s.Type(typ)
	if t == nil {
		c.report("structure", "element has unknown type %q", typ)
		return
	}
	if t.IsPrimitive() {
		c.primitive(v, t, elem)
		return
	}
	if v.Kind != fhir.Object {
		c.report("structure", "expected a JSON object (%s), not %s", typ, kindName(v))
		return
	}
	c.object(v, elem, typ, elementObject)
	if elem.Binding != nil && elem.Binding.Strength == "required" {
		switch typ {
		case "Coding":
			c.codingBinding(v, elem)
		case "CodeableConcept":
			c.conceptBinding(v, elem)
		}
	}
}

// primitive validates a primitive value: JSON kind, lexical form, range and
// required binding.
func (c *checker) primitive(v *fhir.Value, t *spec.Type, elem *spec.Element) {
	want := t.JSONKind()
	if v.Kind.String() != want {
		c.report("structure", "a %s must be a JSON %s, not %s", t.Name, want, kindName(v))
		return
	}
	if v.Kind == fhir.Bool {
		return
	}
	text := v.Text
	if v.Kind == fhir.String {
		if text == "" {
			c.report("value", "empty strings are not allowed; leave the element out")
			return
		}
		// The spec's regexes treat only ASCII as whitespace, but a code or
		// uri made of nothing but (Unicode) spaces carries no value.
		if r, _ := utf8.DecodeRuneInString(text); unicode.IsSpace(r) && strings.TrimSpace(text) == "" &&
			t.Name != "string" && t.Name != "markdown" {
			c.report("value", "a %s cannot be only whitespace", t.Name)
			return
		}
	}
	switch t.Name {
	case "xhtml":
		if msg := checkXHTML(text); msg != "" {
			c.report("value", "invalid narrative XHTML: %s", msg)
		}
		return
	case "base64Binary":
		if !validBase64(text) {
			c.report("value", "not valid base64")
		}
		return
	case "decimal":
		// The JSON number grammar is the decimal regex.
		return
	}
	ok, handled := matchPrimitive(t.Name, text)
	if !handled {
		ok = c.v.regex(t) == nil || c.v.regex(t).MatchString(text)
	}
	if !ok {
		c.report("value", "%q is not a valid %s", truncate(text), t.Name)
		return
	}
	switch t.Name {
	case "integer", "positiveInt", "unsignedInt":
		n, err := strconv.ParseInt(text, 10, 64)
		switch {
		case err != nil || n < -2147483648 || n > 2147483647:
			c.report("value", "%s is out of range for a 32-bit %s", truncate(text), t.Name)
		case t.Name == "positiveInt" && n < 1:
			c.report("value", "a positiveInt must be 1 or more, not %s", text)
		}
		return
	}
	if t.Name == "date" || t.Name == "dateTime" || t.Name == "instant" {
		if msg := checkCalendar(text); msg != "" {
			c.report("value", "%q is not a valid %s: %s", truncate(text), t.Name, msg)
			return
		}
	}
	if elem.Binding != nil && elem.Binding.Strength == "required" && t.Name == "code" {
		vs := c.s.ValueSet(elem.Binding.ValueSet)
		if vs != nil && vs.Expandable && !vs.Contains("", text) {
			c.report("code-invalid", "%q is not in the required value set %s", truncate(text), vs.URL)
		}
	}
}

// regex returns the anchored regular expression of a primitive type, or nil
// when the spec gives none.
func (v *Validator) regex(t *spec.Type) *regexp.Regexp { return v.regexes[t.Name] }

func kindName(v *fhir.Value) string {
	switch v.Kind {
	case fhir.Object:
		return "an object"
	case fhir.Array:
		return "an array"
	case fhir.String:
		return "a string"
	case fhir.Number:
		return "a number"
	case fhir.Bool:
		return "a boolean"
	}
	return "null"
}

// truncate keeps diagnostics short when the offending value is long.
func truncate(s string) string {
	const n = 64
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
