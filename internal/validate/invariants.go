package validate

import (
	"strings"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/fhirpath"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/outcome"
)

// FHIRPathInvariants evaluates the constraints of the R4 definitions with
// the FHIRPath engine (https://hl7.org/fhir/R4/conformance-rules.html#constraints):
// on every node, those its type and base types declare on their root
// (ele-1 on every element, ext-1 on extensions, dom-2…dom-6 on resources,
// each resource's own), and those declared on the node's own element (for
// backbone elements such as Patient.contact's pat-1).
//
// A violated constraint of severity error is an error issue with code
// invariant, its key and text in the diagnostics and the node's location as
// expression; severity warning gives a warning.
type FHIRPathInvariants struct {
	cache    *fhirpath.Cache
	children *fhirpath.Expression
}

// NewFHIRPathInvariants returns a checker with its own expression cache.
func NewFHIRPathInvariants() *FHIRPathInvariants {
	return &FHIRPathInvariants{cache: fhirpath.NewCache(0), children: fhirpath.MustCompile("children()")}
}

var _ InvariantChecker = (*FHIRPathInvariants)(nil)

// CheckInvariants implements InvariantChecker.
func (f *FHIRPathInvariants) CheckInvariants(s *spec.Spec, resource *fhir.Value) []outcome.Issue {
	root := fhirpath.ResourceNode(s, resource)
	w := invariantWalk{f: f, s: s}
	w.node(root, root, root)
	return w.issues
}

type invariantWalk struct {
	f      *FHIRPathInvariants
	s      *spec.Spec
	issues []outcome.Issue
}

// node checks n and its descendants. resource is %resource, the nearest
// resource at or above n; rootResource is %rootResource, the same except
// inside a contained resource, where it is the container
// (https://hl7.org/fhir/R4/fhirpath.html#variables). A resource in a Bundle
// entry or a Parameters parameter is its own root: ref-1 looks for "#id"
// targets among %rootResource.contained.
func (w *invariantWalk) node(n, resource, rootResource *fhirpath.Node) {
	typ := w.s.Type(n.TypeName())
	if typ != nil && typ.IsResource() {
		resource = n
		if e := n.Element(); e == nil || e.Name != "contained" {
			rootResource = n
		}
	}
	// Constraints of the node's type and its base types, declared on the
	// type's root.
	for t := typ; t != nil; t = w.s.Type(t.Base) {
		for _, key := range t.ConstraintOrder {
			if key == "ele-1" {
				continue // checked structurally: see checker.object
			}
			if c := t.Constraints[key]; c.Path == t.Name {
				w.check(c, n, resource, rootResource)
			}
		}
		if t.Base == "" {
			break
		}
	}
	// Constraints declared on the node's own element inside its owning type.
	if e := n.Element(); e != nil && len(e.Constraints) > 0 && strings.IndexByte(e.Path, '.') > 0 {
		if owner := w.s.Type(e.Path[:strings.IndexByte(e.Path, '.')]); owner != nil {
			for _, key := range e.Constraints {
				if c, ok := owner.Constraints[key]; ok && c.Path != owner.Name {
					w.check(c, n, resource, rootResource)
				}
			}
		}
	}
	kids, err := w.f.children.Evaluate(&fhirpath.Env{Spec: w.s}, fhirpath.Collection{n})
	if err != nil {
		return
	}
	for _, k := range kids {
		if kn, ok := k.(*fhirpath.Node); ok {
			w.node(kn, resource, rootResource)
		}
	}
}

// correctedInvariants replaces R4 invariants whose expression is wrong in
// the published definitions, with the reason and the fix.
var correctedInvariants = map[string]string{
	// R4's que-7 is "operator = 'exists' implies (answer is Boolean)":
	// unqualified "Boolean" is System.Boolean, which a FHIR boolean is not
	// (https://hl7.org/fhir/R4/fhirpath.html#types), so every valid 'exists'
	// condition fails it. R5 corrected it to "answer is boolean".
	"que-7": "operator = 'exists' implies (answer is boolean)",
}

func (w *invariantWalk) check(c spec.Constraint, n, resource, rootResource *fhirpath.Node) {
	if fixed, ok := correctedInvariants[c.Key]; ok {
		c.Expression = fixed
	}
	expr, err := w.f.cache.Compile(c.Expression)
	if err != nil {
		// Every R4 invariant compiles (fhirpath's TestInvariantsOnExamples);
		// a definition that does not is reported, not ignored.
		w.issues = append(w.issues, outcome.Issue{Severity: outcome.SevWarning, Code: "invariant",
			Diagnostics: c.Key + ": cannot evaluate: " + err.Error(), Expression: []string{n.Location()}})
		return
	}
	out, err := expr.Evaluate(&fhirpath.Env{Spec: w.s, Resource: resource, RootResource: rootResource, AsFilters: true}, fhirpath.Collection{n})
	if err != nil {
		w.issues = append(w.issues, outcome.Issue{Severity: outcome.SevError, Code: "invariant",
			Diagnostics: c.Key + ": cannot be evaluated on this content: " + err.Error(), Expression: []string{n.Location()}})
		return
	}
	if ok, isBool, _ := fhirpath.AsBoolean(out); isBool && !ok {
		sev := outcome.SevError
		if c.Severity == "warning" {
			sev = outcome.SevWarning
		}
		w.issues = append(w.issues, outcome.Issue{Severity: sev, Code: "invariant",
			Diagnostics: c.Key + ": " + c.Human, Expression: []string{n.Location()}})
	}
}
