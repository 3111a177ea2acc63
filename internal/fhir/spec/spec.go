// Package spec holds the FHIR R4 (4.0.1) definitions Continuum needs at run
// time: every resource, complex and primitive type with its elements
// (cardinality, types, choice elements, bindings, constraints), the value
// sets behind required bindings (expanded), the SearchParameters and the
// CompartmentDefinitions.
//
// They are generated from the official package hl7.fhir.r4.examples@4.0.1 by
// cmd/specgen (run `go generate ./internal/fhir/spec`) into r4.json, which is
// committed and embedded so that a normal build needs no network.
//
// The definitions are immutable after loading; R4 returns the one shared,
// read-only instance.
package spec

//go:generate go run ../../../cmd/specgen -out r4.json

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
)

//go:embed r4.json
var r4JSON []byte

// Type kinds.
const (
	KindPrimitive = "primitive-type"
	KindComplex   = "complex-type"
	KindResource  = "resource"
)

// TypeRef is one allowed type of an element.
type TypeRef struct {
	Code    string   `json:"code"`              // e.g. string, HumanName, Reference
	Targets []string `json:"targets,omitempty"` // Reference/canonical: allowed target types (Resource = any)
	Profile string   `json:"profile,omitempty"` // e.g. SimpleQuantity
}

// Binding is an element's terminology binding.
type Binding struct {
	Strength string `json:"strength"` // required | extensible | preferred | example
	ValueSet string `json:"valueSet,omitempty"`
}

// Constraint is an invariant with its FHIRPath expression.
type Constraint struct {
	Key        string `json:"key"`
	Severity   string `json:"severity"` // error | warning
	Human      string `json:"human"`
	Expression string `json:"expression"`
	Path       string `json:"path"` // element path the constraint is declared on
}

// SearchParam is one R4 SearchParameter.
type SearchParam struct {
	URL        string           `json:"url"`
	Code       string           `json:"code"`
	Base       []string         `json:"base"`
	Type       string           `json:"type"`
	Expression string           `json:"expression,omitempty"`
	Target     []string         `json:"target,omitempty"`
	Modifier   []string         `json:"modifier,omitempty"`
	Comparator []string         `json:"comparator,omitempty"`
	Component  []ParamComponent `json:"component,omitempty"`
}

// ParamComponent is a part of a composite SearchParameter.
type ParamComponent struct {
	Definition string `json:"definition"`
	Expression string `json:"expression"`
}

// Compartment is one CompartmentDefinition: for each resource type, the
// search parameters that link a resource to the compartment's owner.
type Compartment struct {
	Code      string              `json:"code"` // Patient, Encounter, …
	Resources map[string][]string `json:"resources"`
}

// Element is a node of a type's element tree.
type Element struct {
	Path     string // full path, e.g. Patient.contact.name
	Name     string // JSON name; for choice elements the stem ("value" of value[x])
	Choice   bool   // name ended in [x]
	Min      int
	Max      int // -1 means unbounded
	Types    []TypeRef
	Binding  *Binding
	Summary  bool
	Modifier bool
	// Children are the element's own children when it is a BackboneElement
	// or Element defined inline, or those of the element named by a
	// contentReference. For elements of a named complex type they are empty:
	// use Spec.ChildrenOf.
	Children    []*Element
	Constraints []string // constraint keys declared on this element
	contentRef  string
	byName      map[string]*Element
	byJSON      map[string]jsonChild
}

type jsonChild struct {
	elem     *Element
	typeCode string // for choice forms: the type the JSON name selects
}

// Repeating reports whether the element is an array in JSON.
func (e *Element) Repeating() bool { return e.Max != 1 && e.Max != 0 }

// Child returns the direct child named name (choice children by their stem).
func (e *Element) Child(name string) *Element { return e.byName[name] }

// ChildByJSONName returns the direct child that a JSON property name denotes:
// a plain child ("name") or one form of a choice child ("valueQuantity"). For
// a choice form typeCode is the type it selects ("Quantity"); for a plain
// child it is "" (the element may still have several types only if it is a
// choice).
func (e *Element) ChildByJSONName(name string) (child *Element, typeCode string) {
	c := e.byJSON[name]
	return c.elem, c.typeCode
}

// ChoiceType returns the type code of a choice element's JSON name, e.g.
// "valueQuantity" → "Quantity", or "" if jsonName is not one of its forms.
func (e *Element) ChoiceType(jsonName string) string {
	if !e.Choice || !strings.HasPrefix(jsonName, e.Name) {
		return ""
	}
	suffix := jsonName[len(e.Name):]
	for _, t := range e.Types {
		if upperFirst(t.Code) == suffix {
			return t.Code
		}
	}
	return ""
}

// Type is a resource, complex or primitive type.
type Type struct {
	Name        string
	Kind        string
	Abstract    bool
	Base        string
	Regex       string // primitives: anchored by the validator
	Root        *Element
	Constraints map[string]Constraint
	// ConstraintOrder lists constraint keys in definition order.
	ConstraintOrder []string
	elements        map[string]*Element // by path
}

// Element returns the element at path (e.g. "Patient.contact.name").
func (t *Type) Element(path string) *Element { return t.elements[path] }

// IsResource reports whether the type is a resource (including abstract ones).
func (t *Type) IsResource() bool { return t.Kind == KindResource }

// IsPrimitive reports whether the type is a primitive type.
func (t *Type) IsPrimitive() bool { return t.Kind == KindPrimitive }

// JSONKind is the JSON representation of a primitive: "boolean", "number" or
// "string" (https://hl7.org/fhir/R4/json.html#primitive).
func (t *Type) JSONKind() string { return PrimitiveJSONKind(t.Name) }

// PrimitiveJSONKind is JSONKind for a primitive type name.
func PrimitiveJSONKind(name string) string {
	switch name {
	case "boolean":
		return "boolean"
	case "integer", "positiveInt", "unsignedInt", "decimal":
		return "number"
	}
	return "string"
}

// ValueSet is an expanded value set.
type ValueSet struct {
	URL        string
	Name       string
	Expandable bool
	Reason     string
	codes      map[string]map[string]bool // system → code set
	anySystem  map[string]bool
}

// Contains reports whether system|code is in the value set. An empty system
// matches a code from any of its systems (for elements of type code).
func (v *ValueSet) Contains(system, code string) bool {
	if system == "" {
		return v.anySystem[code]
	}
	return v.codes[system][code]
}

// Systems lists the code systems the value set draws from.
func (v *ValueSet) Systems() []string {
	out := make([]string, 0, len(v.codes))
	for s := range v.codes {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Spec is the loaded set of definitions.
type Spec struct {
	FHIRVersion  string
	types        map[string]*Type
	valueSets    map[string]*ValueSet
	SearchParams []SearchParam
	Compartments []Compartment
}

// Type returns the type called name, or nil.
func (s *Spec) Type(name string) *Type { return s.types[name] }

// Resource returns the concrete or abstract resource type called name, or nil.
func (s *Spec) Resource(name string) *Type {
	if t := s.types[name]; t != nil && t.IsResource() {
		return t
	}
	return nil
}

// ResourceTypes lists the concrete resource types, sorted.
func (s *Spec) ResourceTypes() []string {
	var out []string
	for n, t := range s.types {
		if t.IsResource() && !t.Abstract {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// ValueSet returns the value set with the given canonical URL (a |version
// suffix is ignored), or nil if it is not behind any required binding.
func (s *Spec) ValueSet(url string) *ValueSet {
	if i := strings.IndexByte(url, '|'); i >= 0 {
		url = url[:i]
	}
	return s.valueSets[url]
}

// ChildrenOf returns the children of element e when it holds a value of
// type typeCode: e's own children for inline (backbone) elements, otherwise
// the root children of the named type.
func (s *Spec) ChildrenOf(e *Element, typeCode string) []*Element {
	if len(e.Children) > 0 {
		return e.Children
	}
	if t := s.types[typeCode]; t != nil {
		return t.Root.Children
	}
	return nil
}

// ChildOf returns the child called name of element e holding a value of
// type typeCode.
func (s *Spec) ChildOf(e *Element, typeCode string, name string) *Element {
	if len(e.Children) > 0 {
		return e.byName[name]
	}
	if t := s.types[typeCode]; t != nil {
		return t.Root.byName[name]
	}
	return nil
}

// ChildByJSONName is Element.ChildByJSONName for element e holding a value
// of type typeCode (inline children, or the named type's).
func (s *Spec) ChildByJSONName(e *Element, typeCode, name string) (*Element, string) {
	if len(e.Children) > 0 {
		return e.ChildByJSONName(name)
	}
	if t := s.types[typeCode]; t != nil {
		return t.Root.ChildByJSONName(name)
	}
	return nil, ""
}

// IsA reports whether type name is typ or derives from it (e.g. Patient is a
// DomainResource and a Resource; SimpleQuantity is not a type here).
func (s *Spec) IsA(name, typ string) bool {
	for t := s.types[name]; t != nil; t = s.types[t.Base] {
		if t.Name == typ {
			return true
		}
		if t.Base == "" {
			break
		}
	}
	return false
}

var loadR4 = sync.OnceValues(func() (*Spec, error) { return Load(r4JSON) })

// R4 returns the embedded R4 definitions. They are parsed once, on first use,
// and are read-only afterwards.
func R4() *Spec {
	s, err := loadR4()
	if err != nil {
		// The embedded file is generated and tested; failing to load it is a
		// build defect, not a runtime condition.
		panic(fmt.Sprintf("spec: embedded r4.json: %v", err))
	}
	return s
}

// Load parses a generated definitions file.
func Load(b []byte) (*Spec, error) {
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	s := &Spec{
		FHIRVersion:  f.FHIRVersion,
		types:        make(map[string]*Type, len(f.Types)),
		valueSets:    make(map[string]*ValueSet, len(f.ValueSets)),
		SearchParams: f.SearchParams,
		Compartments: f.Compartments,
	}
	for _, ft := range f.Types {
		t, err := buildType(ft)
		if err != nil {
			return nil, fmt.Errorf("type %s: %w", ft.Name, err)
		}
		s.types[t.Name] = t
	}
	for _, fv := range f.ValueSets {
		vs := &ValueSet{URL: fv.URL, Name: fv.Name, Expandable: fv.Expandable, Reason: fv.Reason,
			codes: map[string]map[string]bool{}, anySystem: map[string]bool{}}
		for _, sys := range fv.Systems {
			m := vs.codes[sys.System]
			if m == nil {
				m = make(map[string]bool, len(sys.Codes))
				vs.codes[sys.System] = m
			}
			for _, c := range sys.Codes {
				m[c] = true
				vs.anySystem[c] = true
			}
		}
		s.valueSets[vs.URL] = vs
	}
	return s, nil
}

func buildType(ft FileType) (*Type, error) {
	t := &Type{Name: ft.Name, Kind: ft.Kind, Abstract: ft.Abstract, Base: ft.Base, Regex: ft.Regex,
		Constraints: map[string]Constraint{}, elements: map[string]*Element{}}
	for _, c := range ft.Constraints {
		t.Constraints[c.Key] = c
		t.ConstraintOrder = append(t.ConstraintOrder, c.Key)
	}
	for i, fe := range ft.Elements {
		name := fe.Path
		if j := strings.LastIndexByte(name, '.'); j >= 0 {
			name = name[j+1:]
		}
		e := &Element{Path: fe.Path, Min: fe.Min, Max: fe.Max, Types: fe.Types, Binding: fe.Binding,
			Summary: fe.Summary, Modifier: fe.Modifier, Constraints: fe.Constraint, contentRef: fe.ContentRef}
		if strings.HasSuffix(name, "[x]") {
			e.Choice = true
			name = strings.TrimSuffix(name, "[x]")
		}
		e.Name = name
		if i == 0 {
			if fe.Path != ft.Name {
				return nil, fmt.Errorf("first element %q is not the root", fe.Path)
			}
			t.Root = e
			t.elements[fe.Path] = e
			continue
		}
		parentPath := fe.Path[:strings.LastIndexByte(fe.Path, '.')]
		parent := t.elements[parentPath]
		if parent == nil {
			return nil, fmt.Errorf("element %s has no parent", fe.Path)
		}
		parent.Children = append(parent.Children, e)
		if parent.byName == nil {
			parent.byName = map[string]*Element{}
		}
		parent.byName[name] = e
		if parent.byJSON == nil {
			parent.byJSON = map[string]jsonChild{}
		}
		if e.Choice {
			for _, tr := range e.Types {
				parent.byJSON[name+upperFirst(tr.Code)] = jsonChild{elem: e, typeCode: tr.Code}
			}
		} else {
			parent.byJSON[name] = jsonChild{elem: e}
		}
		t.elements[stripChoice(fe.Path)] = e
		if e.Choice {
			t.elements[fe.Path] = e
		}
	}
	if t.Root == nil {
		return nil, fmt.Errorf("no elements")
	}
	// Resolve contentReferences (e.g. Questionnaire.item.item → Questionnaire.item)
	// by sharing the referenced element's children.
	for _, e := range t.elements {
		if e.contentRef == "" {
			continue
		}
		ref := t.elements[e.contentRef]
		if ref == nil {
			return nil, fmt.Errorf("element %s: contentReference %s not found", e.Path, e.contentRef)
		}
		e.Children = ref.Children
		e.byName = ref.byName
		e.byJSON = ref.byJSON
		if len(e.Types) == 0 {
			e.Types = ref.Types
		}
		e.Binding = ref.Binding
	}
	return t, nil
}

func stripChoice(p string) string { return strings.TrimSuffix(p, "[x]") }

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
