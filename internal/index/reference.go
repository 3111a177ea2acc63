package index

import (
	"strings"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/fhirpath"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
)

// Reference is one row of a reference parameter
// (https://hl7.org/fhir/R4/search.html#reference).
//
//   - A literal reference "Patient/123", "Patient/123/_history/2" or
//     "https://other.example/fhir/Patient/123" sets Type, ID (and Version);
//     an absolute one also sets URL, so the store can tell its own base
//     from others. TargetHash keys "param=Type/id"; a search by bare id
//     expands to one key per target type of the parameter.
//   - A canonical reference "http://…/ValueSet/x|1.0" (canonical and uri
//     elements) sets URL and Version, and Canonical.
//   - Reference.identifier sets IdentifierSystem/Value for :identifier.
//
// URLHash keys URL (without version); IdentifierHash the identifier. A
// hash whose parts are absent is 0. Contained references (#id) and
// urn:uuid / urn:oid references get a row with only URL, so :missing
// sees them; the store rewrites urn:uuid references of a transaction to
// Type/id before indexing.
type Reference struct {
	Param            string
	Type, ID         string
	Version          string
	URL              string
	Canonical        bool
	IdentifierSystem string
	IdentifierValue  string
	Display          string

	TargetHash     int64
	URLHash        int64
	IdentifierHash int64
}

// parsedRef is a reference string taken apart.
type parsedRef struct {
	typ, id, version, url string
}

// parseReference reads a literal reference: [base/]Type/id[/_history/vid].
// isResource decides whether a path segment names a resource type, which
// is how the Type/id part of an absolute URL is found
// (https://hl7.org/fhir/R4/references.html#literal).
func parseReference(ref string, isResource func(string) bool) parsedRef {
	var r parsedRef
	if ref == "" || strings.HasPrefix(ref, "#") || strings.HasPrefix(ref, "urn:") {
		r.url = ref
		return r
	}
	if strings.Contains(ref, "://") {
		r.url = ref
	}
	path := ref
	if q := strings.IndexAny(path, "?#"); q >= 0 {
		path = path[:q]
	}
	segs := strings.Split(path, "/")
	// Find the last "Type/id" pair, allowing a trailing _history/vid.
	n := len(segs)
	if n >= 4 && segs[n-2] == "_history" {
		r.version = segs[n-1]
		n -= 2
	}
	if n >= 2 && isResource(segs[n-2]) && validID(segs[n-1]) {
		r.typ, r.id = segs[n-2], segs[n-1]
	} else {
		r.version = ""
	}
	return r
}

// validID follows https://hl7.org/fhir/R4/datatypes.html#id.
func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// appendReferences indexes one value of a reference parameter: a
// Reference, a canonical or uri, or a resource itself (parameters such as
// Bundle.composition select one).
func appendReferences(out []Reference, s *spec.Spec, param string, it fhirpath.Item) []Reference {
	isResource := func(name string) bool { return s.Resource(name) != nil }
	if str, ok := it.(fhirpath.String); ok {
		return appendCanonical(out, param, string(str))
	}
	n, ok := it.(*fhirpath.Node)
	if !ok || n.Value() == nil {
		return out
	}
	v := n.Value()
	switch typ := n.TypeName(); {
	case typ == "Reference":
		if v.Kind != fhir.Object {
			return out
		}
		r := Reference{Param: param, Display: v.Str("display")}
		if ref := v.Str("reference"); ref != "" {
			p := parseReference(ref, isResource)
			r.Type, r.ID, r.Version, r.URL = p.typ, p.id, p.version, p.url
			if r.Type == "" {
				if t := v.Str("type"); t != "" && isResource(t) && p.url == "" {
					r.Type = t
				}
			}
		}
		if id, ok := v.Get("identifier"); ok && id.Kind == fhir.Object {
			r.IdentifierSystem, r.IdentifierValue = id.Str("system"), id.Str("value")
		}
		if r.Type == "" && r.URL == "" && r.IdentifierValue == "" {
			return out
		}
		return append(out, r.hashed())
	case s != nil && s.Resource(typ) != nil && v.Kind == fhir.Object:
		if id := v.Str("id"); id != "" {
			return append(out, Reference{Param: param, Type: typ, ID: id}.hashed())
		}
		return out
	}
	if v.Kind == fhir.String {
		if n.TypeName() == "canonical" || n.TypeName() == "uri" || n.TypeName() == "url" {
			return appendCanonical(out, param, v.Text)
		}
		p := parseReference(v.Text, isResource)
		return append(out, Reference{Param: param, Type: p.typ, ID: p.id, Version: p.version, URL: p.url}.hashed())
	}
	return out
}

// appendCanonical indexes a canonical URL, splitting off |version
// (https://hl7.org/fhir/R4/references.html#canonical).
func appendCanonical(out []Reference, param, s string) []Reference {
	if s == "" {
		return out
	}
	url, version, _ := strings.Cut(s, "|")
	return append(out, Reference{Param: param, URL: url, Version: version, Canonical: true}.hashed())
}

func (r Reference) hashed() Reference {
	if r.Type != "" && r.ID != "" {
		r.TargetHash = ReferenceTargetHash(r.Param, r.Type, r.ID)
	}
	if r.URL != "" {
		r.URLHash = ReferenceURLHash(r.Param, r.URL)
	}
	if r.IdentifierValue != "" {
		r.IdentifierHash = ReferenceIdentifierHash(r.Param, r.IdentifierSystem, r.IdentifierValue)
	}
	return r
}
