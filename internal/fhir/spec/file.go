package spec

// The serialized form of the generated definitions (r4.json). cmd/specgen
// writes it; Load reads it. Field names are short because the file is
// embedded in the binary.

// File is the whole generated file.
type File struct {
	FHIRVersion  string         `json:"fhirVersion"`
	Source       string         `json:"source"`
	Types        []FileType     `json:"types"`
	ValueSets    []FileValueSet `json:"valueSets"`
	SearchParams []SearchParam  `json:"searchParams"`
	Compartments []Compartment  `json:"compartments"`
}

// FileType is one StructureDefinition (resource, complex or primitive type).
type FileType struct {
	Name        string        `json:"name"`
	Kind        string        `json:"kind"` // primitive-type | complex-type | resource
	Abstract    bool          `json:"abstract,omitempty"`
	Base        string        `json:"base,omitempty"`
	Regex       string        `json:"regex,omitempty"` // primitives: the spec's value regex
	Elements    []FileElement `json:"elements"`
	Constraints []Constraint  `json:"constraints,omitempty"` // defined by this type (not inherited)
}

// FileElement is one snapshot element of a type.
type FileElement struct {
	Path       string    `json:"path"`
	Min        int       `json:"min,omitempty"`
	Max        int       `json:"max"` // -1 means *
	Types      []TypeRef `json:"types,omitempty"`
	ContentRef string    `json:"contentRef,omitempty"` // e.g. Questionnaire.item
	Binding    *Binding  `json:"binding,omitempty"`
	Summary    bool      `json:"summary,omitempty"`
	Modifier   bool      `json:"modifier,omitempty"`
	Constraint []string  `json:"constraint,omitempty"` // keys of this type's constraints that apply here
}

// FileValueSet is a value set behind a required binding, expanded at
// generation time.
type FileValueSet struct {
	URL        string       `json:"url"`
	Name       string       `json:"name,omitempty"`
	Expandable bool         `json:"expandable"`
	Reason     string       `json:"reason,omitempty"` // why it cannot be expanded locally
	Systems    []FileSystem `json:"systems,omitempty"`
}

// FileSystem lists the codes a value set takes from one code system.
type FileSystem struct {
	System string   `json:"system"`
	Codes  []string `json:"codes"`
}
