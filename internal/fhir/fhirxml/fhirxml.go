// Package fhirxml converts FHIR XML resources into the JSON form of
// https://hl7.org/fhir/R4/json.html with the help of the R4 definitions:
// arrays by cardinality, primitives typed, id and extensions of primitives
// in "_name", choice elements by their typed names, XHTML as a string.
//
// It exists for the official test suites, which are written in XML (the
// FHIRPath suite's inputs, the FHIRPath Patch cases): their expectations
// were written against the XML originals, so the tests read those rather
// than JSON twins that differ. It is not a general FHIR XML parser: the
// server speaks JSON only (docs/conformance.md).
package fhirxml

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
)

type xmlElem struct {
	name     string
	attrs    map[string]string
	children []*xmlElem
	raw      string // XHTML: the element as written
}

func parseXMLTree(data []byte) (*xmlElem, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var stack []*xmlElem
	var root *xmlElem
	for {
		start := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			e := &xmlElem{name: t.Name.Local, attrs: map[string]string{}}
			for _, a := range t.Attr {
				if a.Name.Space == "" {
					e.attrs[a.Name.Local] = a.Value
				}
			}
			if t.Name.Space == "http://www.w3.org/1999/xhtml" {
				if err := d.Skip(); err != nil {
					return nil, err
				}
				e.raw = string(data[start:d.InputOffset()])
				if len(stack) > 0 {
					p := stack[len(stack)-1]
					p.children = append(p.children, e)
				}
				continue
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, e)
			} else {
				root = e
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	if root == nil {
		return nil, fmt.Errorf("no root element")
	}
	return root, nil
}

// xmlResourceToJSON converts a FHIR XML resource.
// ToJSON converts one FHIR XML resource into its JSON form
// (https://hl7.org/fhir/R4/json.html), guided by the R4 definitions in s.
func ToJSON(s *spec.Spec, data []byte) (*fhir.Value, error) {
	root, err := parseXMLTree(data)
	if err != nil {
		return nil, err
	}
	v, err := convertResource(s, root)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func convertResource(s *spec.Spec, e *xmlElem) (fhir.Value, error) {
	t := s.Type(e.name)
	if t == nil || !t.IsResource() {
		return fhir.Value{}, fmt.Errorf("unknown resource %s", e.name)
	}
	obj, err := convertComplex(s, e, t.Root, e.name)
	if err != nil {
		return fhir.Value{}, err
	}
	obj.Members = append([]fhir.Member{{Name: "resourceType", Value: fhir.Value{Kind: fhir.String, Text: e.name}}}, obj.Members...)
	return obj, nil
}

func convertComplex(s *spec.Spec, e *xmlElem, elem *spec.Element, typ string) (fhir.Value, error) {
	obj := fhir.Value{Kind: fhir.Object}
	if id, ok := e.attrs["id"]; ok {
		obj.Members = append(obj.Members, fhir.Member{Name: "id", Value: fhir.Value{Kind: fhir.String, Text: id}})
	}
	if url, ok := e.attrs["url"]; ok && typ == "Extension" {
		obj.Members = append(obj.Members, fhir.Member{Name: "url", Value: fhir.Value{Kind: fhir.String, Text: url}})
	}
	type group struct {
		def    *spec.Element
		tc     string
		values []fhir.Value
		exts   []*fhir.Value
	}
	var order []string
	groups := map[string]*group{}
	for _, c := range e.children {
		def, tc := s.ChildByJSONName(elem, typ, c.name)
		if def == nil {
			return obj, fmt.Errorf("%s: unknown element %s", elem.Path, c.name)
		}
		if tc == "" && len(def.Types) > 0 {
			tc = def.Types[0].Code
		}
		g := groups[c.name]
		if g == nil {
			g = &group{def: def, tc: tc}
			groups[c.name] = g
			order = append(order, c.name)
		}
		ct := s.Type(tc)
		switch {
		case c.raw != "" || tc == "xhtml":
			g.values = append(g.values, fhir.Value{Kind: fhir.String, Text: c.raw})
			g.exts = append(g.exts, nil)
		case ct != nil && ct.IsPrimitive():
			val := fhir.Value{Kind: fhir.Null}
			if text, ok := c.attrs["value"]; ok {
				switch spec.PrimitiveJSONKind(tc) {
				case "boolean":
					val = fhir.Value{Kind: fhir.Bool, Bool: text == "true"}
				case "number":
					val = fhir.Value{Kind: fhir.Number, Text: text}
				default:
					val = fhir.Value{Kind: fhir.String, Text: text}
				}
			}
			var ext *fhir.Value
			if _, hasID := c.attrs["id"]; hasID || len(c.children) > 0 {
				x, err := convertComplex(s, &xmlElem{name: c.name, attrs: map[string]string{"id": c.attrs["id"]}, children: c.children}, s.Type("Element").Root, "Element")
				if err != nil {
					return obj, err
				}
				if !hasID {
					x.Members = x.Members[1:]
				}
				ext = &x
			}
			g.values = append(g.values, val)
			g.exts = append(g.exts, ext)
		case tc == "Resource" || (ct != nil && ct.IsResource()):
			if len(c.children) != 1 {
				return obj, fmt.Errorf("%s: expected one resource", c.name)
			}
			r, err := convertResource(s, c.children[0])
			if err != nil {
				return obj, err
			}
			g.values = append(g.values, r)
			g.exts = append(g.exts, nil)
		default:
			sub := def
			if len(def.Children) == 0 && ct != nil {
				sub = ct.Root
			}
			v, err := convertComplex(s, c, sub, tc)
			if err != nil {
				return obj, err
			}
			g.values = append(g.values, v)
			g.exts = append(g.exts, nil)
		}
	}
	for _, name := range order {
		g := groups[name]
		hasValue, hasExt := false, false
		for i := range g.values {
			hasValue = hasValue || g.values[i].Kind != fhir.Null
			hasExt = hasExt || g.exts[i] != nil
		}
		if g.def.Repeating() {
			if hasValue {
				obj.Members = append(obj.Members, fhir.Member{Name: name, Value: fhir.Value{Kind: fhir.Array, Items: g.values}})
			}
			if hasExt {
				arr := fhir.Value{Kind: fhir.Array}
				for _, x := range g.exts {
					if x == nil {
						arr.Items = append(arr.Items, fhir.Value{Kind: fhir.Null})
					} else {
						arr.Items = append(arr.Items, *x)
					}
				}
				obj.Members = append(obj.Members, fhir.Member{Name: "_" + name, Value: arr})
			}
			continue
		}
		if hasValue {
			obj.Members = append(obj.Members, fhir.Member{Name: name, Value: g.values[0]})
		}
		if hasExt {
			obj.Members = append(obj.Members, fhir.Member{Name: "_" + name, Value: *g.exts[0]})
		}
	}
	return obj, nil
}
