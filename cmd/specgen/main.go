// Command specgen generates internal/fhir/spec/r4.json, the compact form of
// the FHIR R4 definitions that Continuum embeds, from the official npm package
// hl7.fhir.r4.examples@4.0.1 (CC0).
//
// It keeps what the server needs at run time and drops the prose:
//   - StructureDefinitions of every resource, complex and primitive type
//     (specializations only; profiles such as vitalsigns come later), with each
//     snapshot element's path, cardinality, types, binding, contentReference and
//     the keys of the constraints declared on it;
//   - constraints (invariants) declared by each type itself, not those it
//     inherits, so each is evaluated once along the base-type chain;
//   - the value sets behind required bindings, expanded here from the package's
//     CodeSystems and ValueSets (or recorded as not expandable, with why);
//   - SearchParameters and CompartmentDefinitions.
//
// Usage: go run ./cmd/specgen -out internal/fhir/spec/r4.json [-package PATH]
// Without -package it uses internal/r4examples to find or fetch the package.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/r4examples"
)

func main() {
	out := flag.String("out", "r4.json", "output file")
	pkg := flag.String("package", "", "path of hl7.fhir.r4.examples-4.0.1.tgz or its unpacked directory (default: find or npm pack it)")
	flag.Parse()
	if err := run(*out, *pkg); err != nil {
		fmt.Fprintln(os.Stderr, "specgen:", err)
		os.Exit(1)
	}
}

func run(out, pkg string) error {
	var files []r4examples.File
	var err error
	if pkg != "" {
		files, err = r4examples.Read(pkg)
	} else {
		files, err = r4examples.ReadAll()
	}
	if err != nil {
		return err
	}
	g := newGen()
	for _, f := range files {
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		if err := json.Unmarshal(f.Data, &head); err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		switch head.ResourceType {
		case "StructureDefinition", "ValueSet", "CodeSystem", "SearchParameter", "CompartmentDefinition":
			if err := g.add(head.ResourceType, f.Data); err != nil {
				return fmt.Errorf("%s: %w", f.Name, err)
			}
		}
	}
	file, err := g.build()
	if err != nil {
		return err
	}
	return os.WriteFile(out, encode(file), 0o644)
}

// Raw shapes of the definitions, just the parts read here.

type sdJSON struct {
	URL            string `json:"url"`
	Name           string `json:"name"`
	Type           string `json:"type"`
	Kind           string `json:"kind"`
	Abstract       bool   `json:"abstract"`
	Derivation     string `json:"derivation"`
	BaseDefinition string `json:"baseDefinition"`
	Snapshot       struct {
		Element []elementJSON `json:"element"`
	} `json:"snapshot"`
}

type extJSON struct {
	URL         string `json:"url"`
	ValueURL    string `json:"valueUrl"`
	ValueString string `json:"valueString"`
}

type elementJSON struct {
	Path             string `json:"path"`
	Min              int    `json:"min"`
	Max              string `json:"max"`
	ContentReference string `json:"contentReference"`
	Type             []struct {
		Code          string    `json:"code"`
		Extension     []extJSON `json:"extension"`
		Profile       []string  `json:"profile"`
		TargetProfile []string  `json:"targetProfile"`
	} `json:"type"`
	Binding *struct {
		Strength string `json:"strength"`
		ValueSet string `json:"valueSet"`
	} `json:"binding"`
	Constraint []struct {
		Key        string `json:"key"`
		Severity   string `json:"severity"`
		Human      string `json:"human"`
		Expression string `json:"expression"`
		Source     string `json:"source"`
	} `json:"constraint"`
	IsModifier bool `json:"isModifier"`
	IsSummary  bool `json:"isSummary"`
}

type conceptJSON struct {
	Code    string        `json:"code"`
	Concept []conceptJSON `json:"concept"`
}

type codeSystemJSON struct {
	URL      string        `json:"url"`
	Content  string        `json:"content"`
	Concept  []conceptJSON `json:"concept"`
	ValueSet string        `json:"valueSet"`
}

type includeJSON struct {
	System  string `json:"system"`
	Concept []struct {
		Code string `json:"code"`
	} `json:"concept"`
	Filter []struct {
		Property string `json:"property"`
		Op       string `json:"op"`
		Value    string `json:"value"`
	} `json:"filter"`
	ValueSet []string `json:"valueSet"`
}

type valueSetJSON struct {
	URL     string `json:"url"`
	Name    string `json:"name"`
	Compose *struct {
		Include []includeJSON `json:"include"`
		Exclude []includeJSON `json:"exclude"`
	} `json:"compose"`
	Expansion *struct {
		Contains []struct {
			System string `json:"system"`
			Code   string `json:"code"`
		} `json:"contains"`
	} `json:"expansion"`
}

type searchParamJSON struct {
	URL        string   `json:"url"`
	Code       string   `json:"code"`
	Base       []string `json:"base"`
	Type       string   `json:"type"`
	Expression string   `json:"expression"`
	Target     []string `json:"target"`
	Modifier   []string `json:"modifier"`
	Comparator []string `json:"comparator"`
	Component  []struct {
		Definition string `json:"definition"`
		Expression string `json:"expression"`
	} `json:"component"`
}

type compartmentJSON struct {
	Code     string `json:"code"`
	Resource []struct {
		Code  string   `json:"code"`
		Param []string `json:"param"`
	} `json:"resource"`
}

type gen struct {
	sds          []sdJSON
	codeSystems  map[string]codeSystemJSON
	valueSets    map[string]valueSetJSON
	searchParams []spec.SearchParam
	compartments []spec.Compartment
}

func newGen() *gen {
	return &gen{codeSystems: map[string]codeSystemJSON{}, valueSets: map[string]valueSetJSON{}}
}

func (g *gen) add(rt string, b []byte) error {
	switch rt {
	case "StructureDefinition":
		var sd sdJSON
		if err := json.Unmarshal(b, &sd); err != nil {
			return err
		}
		// Base types and specializations define the model; constraints are
		// profiles, validated by a later feature.
		if sd.Derivation == "constraint" || sd.Kind == "logical" || sd.Type != lastSegment(sd.URL) {
			return nil
		}
		g.sds = append(g.sds, sd)
	case "CodeSystem":
		var cs codeSystemJSON
		if err := json.Unmarshal(b, &cs); err != nil {
			return err
		}
		g.codeSystems[cs.URL] = cs
	case "ValueSet":
		var vs valueSetJSON
		if err := json.Unmarshal(b, &vs); err != nil {
			return err
		}
		g.valueSets[vs.URL] = vs
	case "SearchParameter":
		var sp searchParamJSON
		if err := json.Unmarshal(b, &sp); err != nil {
			return err
		}
		p := spec.SearchParam{URL: sp.URL, Code: sp.Code, Base: sp.Base, Type: sp.Type, Expression: sp.Expression,
			Target: sp.Target, Modifier: sp.Modifier, Comparator: sp.Comparator}
		for _, c := range sp.Component {
			p.Component = append(p.Component, spec.ParamComponent{Definition: c.Definition, Expression: c.Expression})
		}
		g.searchParams = append(g.searchParams, p)
	case "CompartmentDefinition":
		var cd compartmentJSON
		if err := json.Unmarshal(b, &cd); err != nil {
			return err
		}
		// The package holds an "example" CompartmentDefinition with a code
		// that duplicates a real one; only the five R4 definitions count.
		c := spec.Compartment{Code: cd.Code, Resources: map[string][]string{}}
		for _, r := range cd.Resource {
			if len(r.Param) > 0 {
				c.Resources[r.Code] = r.Param
			}
		}
		for _, have := range g.compartments {
			if have.Code == c.Code {
				return nil
			}
		}
		g.compartments = append(g.compartments, c)
	}
	return nil
}

const (
	sdPrefix       = "http://hl7.org/fhir/StructureDefinition/"
	fhirTypeExt    = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
	regexExt       = "http://hl7.org/fhir/StructureDefinition/regex"
	systemTypeBase = "http://hl7.org/fhirpath/System."
)

func lastSegment(u string) string { return u[strings.LastIndexByte(u, '/')+1:] }

func (g *gen) build() (spec.File, error) {
	f := spec.File{FHIRVersion: "4.0.1", Source: r4examples.Package}
	required := map[string]bool{}
	for _, sd := range g.sds {
		t, err := g.buildType(sd, required)
		if err != nil {
			return f, fmt.Errorf("%s: %w", sd.URL, err)
		}
		f.Types = append(f.Types, t)
	}
	sort.Slice(f.Types, func(i, j int) bool { return f.Types[i].Name < f.Types[j].Name })

	urls := make([]string, 0, len(required))
	for u := range required {
		urls = append(urls, u)
	}
	sort.Strings(urls)
	for _, u := range urls {
		f.ValueSets = append(f.ValueSets, g.expand(u))
	}

	sort.Slice(g.searchParams, func(i, j int) bool { return g.searchParams[i].URL < g.searchParams[j].URL })
	f.SearchParams = g.searchParams
	sort.Slice(g.compartments, func(i, j int) bool { return g.compartments[i].Code < g.compartments[j].Code })
	f.Compartments = g.compartments
	return f, nil
}

func (g *gen) buildType(sd sdJSON, required map[string]bool) (spec.FileType, error) {
	t := spec.FileType{Name: sd.Type, Kind: sd.Kind, Abstract: sd.Abstract}
	if sd.BaseDefinition != "" {
		t.Base = lastSegment(sd.BaseDefinition)
	}
	seen := map[string]bool{}
	for i, e := range sd.Snapshot.Element {
		fe := spec.FileElement{Path: e.Path, Min: e.Min, Max: -1, Summary: e.IsSummary, Modifier: e.IsModifier}
		if e.Max != "*" {
			if _, err := fmt.Sscanf(e.Max, "%d", &fe.Max); err != nil {
				return t, fmt.Errorf("%s: max %q", e.Path, e.Max)
			}
		}
		if i == 0 {
			// The root's cardinality describes use inside other types; the
			// instance itself is always exactly one.
			fe.Min, fe.Max = 0, 1
		}
		if strings.HasPrefix(e.ContentReference, "#") {
			fe.ContentRef = e.ContentReference[1:]
		}
		for _, tr := range e.Type {
			ref := spec.TypeRef{Code: tr.Code}
			if strings.HasPrefix(tr.Code, systemTypeBase) {
				// Primitive values and a few ids are typed with FHIRPath
				// System types; the extension names the FHIR type.
				for _, x := range tr.Extension {
					if x.URL == fhirTypeExt {
						ref.Code = x.ValueURL
					}
					if x.URL == regexExt && t.Kind == spec.KindPrimitive && e.Path == sd.Type+".value" {
						t.Regex = x.ValueString
					}
				}
				if e.Path == sd.Type+".value" && t.Kind == spec.KindPrimitive {
					// The value of a primitive is represented by the primitive
					// itself in JSON; record the system type.
					ref.Code = tr.Code[len(systemTypeBase):]
					ref.Code = "System." + ref.Code
				}
			}
			// Resource.id is an id (https://hl7.org/fhir/R4/resource.html#id),
			// although the snapshot types it as a plain string.
			if t.Kind == spec.KindResource && strings.Count(e.Path, ".") == 1 && strings.HasSuffix(e.Path, ".id") {
				ref.Code = "id"
			}
			for _, p := range tr.TargetProfile {
				ref.Targets = append(ref.Targets, lastSegment(p))
			}
			for _, p := range tr.Profile {
				if strings.HasPrefix(p, sdPrefix) {
					ref.Profile = lastSegment(p)
				}
			}
			fe.Types = append(fe.Types, ref)
		}
		if e.Binding != nil && e.Binding.ValueSet != "" {
			vs := e.Binding.ValueSet
			if j := strings.IndexByte(vs, '|'); j >= 0 {
				vs = vs[:j]
			}
			fe.Binding = &spec.Binding{Strength: e.Binding.Strength, ValueSet: vs}
			if e.Binding.Strength == "required" {
				required[vs] = true
			}
		}
		for _, c := range e.Constraint {
			if c.Source != "" && c.Source != sd.URL {
				continue // inherited: evaluated with the type that declares it
			}
			if c.Expression == "" {
				continue
			}
			fe.Constraint = append(fe.Constraint, c.Key)
			if !seen[c.Key] {
				seen[c.Key] = true
				t.Constraints = append(t.Constraints, spec.Constraint{Key: c.Key, Severity: c.Severity,
					Human: c.Human, Expression: c.Expression, Path: e.Path})
			}
		}
		t.Elements = append(t.Elements, fe)
	}
	return t, nil
}

// expand computes the codes of a value set from the package's content.
// Value sets drawing on code systems the package does not hold (MIME types,
// languages, UCUM, currencies, SNOMED CT …) are recorded as not expandable.
func (g *gen) expand(url string) spec.FileValueSet {
	out := spec.FileValueSet{URL: url}
	vs, ok := g.valueSets[url]
	if !ok {
		out.Reason = "value set not in the R4 package"
		return out
	}
	out.Name = vs.Name
	codes := map[string]map[string]bool{}
	if reason := g.collect(vs, codes, map[string]bool{}); reason != "" {
		out.Reason = reason
		return out
	}
	out.Expandable = true
	systems := make([]string, 0, len(codes))
	for s := range codes {
		systems = append(systems, s)
	}
	sort.Strings(systems)
	for _, s := range systems {
		list := make([]string, 0, len(codes[s]))
		for c := range codes[s] {
			list = append(list, c)
		}
		sort.Strings(list)
		out.Systems = append(out.Systems, spec.FileSystem{System: s, Codes: list})
	}
	return out
}

func (g *gen) collect(vs valueSetJSON, codes map[string]map[string]bool, visiting map[string]bool) string {
	if visiting[vs.URL] {
		return "value set includes itself"
	}
	visiting[vs.URL] = true
	defer delete(visiting, vs.URL)
	if vs.Compose == nil {
		if vs.Expansion != nil {
			for _, c := range vs.Expansion.Contains {
				addCode(codes, c.System, c.Code)
			}
			return ""
		}
		return "value set has no compose"
	}
	for _, inc := range vs.Compose.Include {
		if reason := g.include(inc, codes, visiting); reason != "" {
			return reason
		}
	}
	if len(vs.Compose.Exclude) > 0 {
		ex := map[string]map[string]bool{}
		for _, inc := range vs.Compose.Exclude {
			if reason := g.include(inc, ex, visiting); reason != "" {
				return reason
			}
		}
		for s, m := range ex {
			for c := range m {
				delete(codes[s], c)
			}
		}
	}
	return ""
}

func (g *gen) include(inc includeJSON, codes map[string]map[string]bool, visiting map[string]bool) string {
	// An include with value sets and a system is their intersection; R4's
	// core value sets do not use that form.
	if len(inc.ValueSet) > 0 && inc.System != "" {
		return "include combines system and valueSet"
	}
	for _, u := range inc.ValueSet {
		if i := strings.IndexByte(u, '|'); i >= 0 {
			u = u[:i]
		}
		sub, ok := g.valueSets[u]
		if !ok {
			return "included value set " + u + " not in the R4 package"
		}
		if reason := g.collect(sub, codes, visiting); reason != "" {
			return reason
		}
	}
	if inc.System == "" {
		return ""
	}
	if len(inc.Concept) > 0 {
		for _, c := range inc.Concept {
			addCode(codes, inc.System, c.Code)
		}
		return ""
	}
	cs, ok := g.codeSystems[inc.System]
	if !ok || cs.Content != "complete" {
		return "code system " + inc.System + " is not available locally"
	}
	if len(inc.Filter) == 0 {
		walkConcepts(cs.Concept, func(c conceptJSON) { addCode(codes, inc.System, c.Code) })
		return ""
	}
	if len(inc.Filter) != 1 || inc.Filter[0].Property != "concept" {
		return "unsupported filter in include of " + inc.System
	}
	f := inc.Filter[0]
	var root *conceptJSON
	findConcept(cs.Concept, f.Value, &root)
	if root == nil {
		return "filter value " + f.Value + " not in " + inc.System
	}
	switch f.Op {
	case "is-a":
		addCode(codes, inc.System, root.Code)
		walkConcepts(root.Concept, func(c conceptJSON) { addCode(codes, inc.System, c.Code) })
	case "descendent-of":
		walkConcepts(root.Concept, func(c conceptJSON) { addCode(codes, inc.System, c.Code) })
	default:
		return "unsupported filter op " + f.Op
	}
	return ""
}

func addCode(codes map[string]map[string]bool, system, code string) {
	m := codes[system]
	if m == nil {
		m = map[string]bool{}
		codes[system] = m
	}
	m[code] = true
}

func walkConcepts(cs []conceptJSON, fn func(conceptJSON)) {
	for _, c := range cs {
		fn(c)
		walkConcepts(c.Concept, fn)
	}
}

func findConcept(cs []conceptJSON, code string, out **conceptJSON) {
	for i := range cs {
		if cs[i].Code == code {
			*out = &cs[i]
			return
		}
		findConcept(cs[i].Concept, code, out)
	}
}

// encode writes the file with one type, element, value set or search
// parameter per line, so that regenerating after a change gives a readable
// diff.
func encode(f spec.File) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\"fhirVersion\":%q,\"source\":%q,\n\"types\":[", f.FHIRVersion, f.Source)
	for i, t := range f.Types {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n{\"name\":")
		writeJSON(&b, t.Name)
		b.WriteString(",\"kind\":")
		writeJSON(&b, t.Kind)
		if t.Abstract {
			b.WriteString(",\"abstract\":true")
		}
		if t.Base != "" {
			b.WriteString(",\"base\":")
			writeJSON(&b, t.Base)
		}
		if t.Regex != "" {
			b.WriteString(",\"regex\":")
			writeJSON(&b, t.Regex)
		}
		if len(t.Constraints) > 0 {
			writeLines(&b, ",\"constraints\":", "\n ", t.Constraints)
		}
		writeLines(&b, ",\"elements\":", "\n ", t.Elements)
		b.WriteString("}")
	}
	b.WriteString("]")
	writeLines(&b, ",\n\"valueSets\":", "\n", f.ValueSets)
	writeLines(&b, ",\n\"searchParams\":", "\n", f.SearchParams)
	writeLines(&b, ",\n\"compartments\":", "\n", f.Compartments)
	b.WriteString("}\n")
	return b.Bytes()
}

// writeLines writes key and a JSON array of items, each after sep.
func writeLines[T any](b *bytes.Buffer, key, sep string, items []T) {
	b.WriteString(key)
	b.WriteString("[")
	for i, it := range items {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(sep)
		writeJSON(b, it)
	}
	b.WriteString("]")
}

func writeJSON(b *bytes.Buffer, v any) {
	j, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs and strings are encoded
	}
	b.Write(j)
}
