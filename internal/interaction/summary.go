package interaction

import (
	"fmt"
	"strings"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/outcome"
)

// Subset is what _summary and _elements ask of a read: a subset of the
// resource's top-level elements (https://hl7.org/fhir/R4/search.html#summary,
// #elements). The zero value is the whole resource.
type Subset struct {
	Summary  string   // "", "true", "text", "data" or "false"
	Elements []string // top-level element names; choice elements by their stem
}

// subsettedTag returns the tag that marks a resource as not complete
// (https://hl7.org/fhir/R4/v3/ObservationValue/cs.html#v3-ObservationValue-SUBSETTED),
// a new tree each time so that no caller shares it.
func subsettedTag() fhir.Value {
	return fhir.Value{Kind: fhir.Object, Members: []fhir.Member{
		{Name: "system", Value: fhir.Value{Kind: fhir.String, Text: "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"}},
		{Name: "code", Value: fhir.Value{Kind: fhir.String, Text: "SUBSETTED"}},
	}}
}

// Apply returns body reduced to the subset, with the SUBSETTED tag in
// meta.tag, or body itself — the stored bytes — when the subset is the whole
// resource. Mandatory elements are always kept, as R4 asks.
func (s *Service) Apply(sub Subset, body []byte) ([]byte, error) {
	if (sub.Summary == "" || sub.Summary == "false") && len(sub.Elements) == 0 {
		return body, nil
	}
	if sub.Summary != "" && len(sub.Elements) > 0 {
		return nil, outcome.New(outcome.Invalid, "invalid", "_summary and _elements cannot be combined")
	}
	res, err := fhir.Parse(body)
	if err != nil {
		return nil, outcome.Wrap(err, "stored resource is not JSON")
	}
	typ := s.spec.Resource(res.ResourceType())
	if typ == nil || typ.Root == nil {
		return nil, outcome.Errorf(outcome.Internal, "no definition of %s", res.ResourceType())
	}
	wanted := map[string]bool{}
	for _, e := range sub.Elements {
		wanted[strings.TrimSpace(e)] = true
	}
	keep := func(name string) (bool, error) {
		switch name {
		case "resourceType", "id", "meta":
			return true, nil
		}
		// Primitive extensions (_birthDate) follow their element.
		elem, _ := typ.Root.ChildByJSONName(strings.TrimPrefix(name, "_"))
		if elem == nil {
			return false, nil
		}
		if elem.Min > 0 {
			return true, nil
		}
		switch sub.Summary {
		case "true":
			return elem.Summary, nil
		case "text":
			return elem.Name == "text", nil
		case "data":
			return elem.Name != "text", nil
		case "":
			return wanted[elem.Name], nil
		}
		return false, outcome.New(outcome.NotSupported, "not-supported", fmt.Sprintf("_summary=%s is not supported on a read", sub.Summary))
	}
	var members []fhir.Member
	for _, m := range res.Members {
		ok, err := keep(m.Name)
		if err != nil {
			return nil, err
		}
		if ok {
			members = append(members, m)
		}
	}
	res.Members = members
	tagSubsetted(&res)
	return res.Marshal(), nil
}

// tagSubsetted adds the SUBSETTED tag to meta.tag.
func tagSubsetted(res *fhir.Value) {
	meta, ok := res.Get("meta")
	if !ok {
		res.Members = append(res.Members, fhir.Member{Name: "meta", Value: fhir.Value{Kind: fhir.Object}})
		meta = &res.Members[len(res.Members)-1].Value
	}
	if tags, ok := meta.Get("tag"); ok && tags.Kind == fhir.Array {
		tags.Items = append(tags.Items, subsettedTag())
		return
	}
	meta.Members = append(meta.Members, fhir.Member{Name: "tag", Value: fhir.Value{Kind: fhir.Array, Items: []fhir.Value{subsettedTag()}}})
}
