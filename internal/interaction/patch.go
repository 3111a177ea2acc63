package interaction

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// PatchRequest is a patch: PATCH [base]/[type]/[id] with a JSON Patch
// document (application/json-patch+json, RFC 6902) or a FHIRPath Patch (a
// Parameters resource, https://hl7.org/fhir/R4/fhirpatch.html).
// https://hl7.org/fhir/R4/http.html#patch
type PatchRequest struct {
	Type    string
	ID      string
	Format  PatchFormat
	Body    []byte // the JSON Patch (an array of operations) or the Parameters
	IfMatch string
}

// PatchFormat says which kind of patch document a PatchRequest carries.
type PatchFormat uint8

const (
	JSONPatch     PatchFormat = iota // RFC 6902, application/json-patch+json
	FHIRPathPatch                    // a Parameters resource, application/fhir+json
)

// Patch applies a JSON Patch or a FHIRPath Patch to the current version and stores the result as
// the next version, validated like any update. The read, the patch and the
// write happen in one transaction, so a concurrent write cannot slip between
// them. A failing "test" operation is an error of kind Precondition (as R4's
// If-Match); a patch that leaves an invalid resource, or changes its type or
// id, is Invalid. A resource outside the caller's boundary is Private (404)
// before anything of the patch is looked at.
func (s *Service) Patch(ctx context.Context, req PatchRequest) (*store.Version, error) {
	c := callerFrom(ctx)
	tr := &trace{action: audit.Patch}
	tr.touch(req.Type, req.ID, "", nil)
	out, err := s.patch(ctx, c, tr, req)
	return out, s.finish(ctx, c, tr, err)
}

func (s *Service) patch(ctx context.Context, c caller, tr *trace, req PatchRequest) (*store.Version, error) {
	if err := s.preDecide(c, tr, auth.InteractionPatch, req.Type, req.ID); err != nil {
		return nil, err
	}
	if err := s.checkType(req.Type); err != nil {
		return nil, err
	}
	if err := checkID(req.ID); err != nil {
		return nil, err
	}
	apply, err := s.patcher(req.Format, req.Body)
	if err != nil {
		return nil, err
	}
	var out *store.Version
	err = s.st.Update(ctx, func(tx store.Tx) (err error) {
		if out, err = s.patchTx(ctx, tx, c, tr, req.Type, req.ID, apply, req.IfMatch); err != nil {
			return err
		}
		return s.commitTx(ctx, tx, c, tr)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// patchTx reads the current version of typ/id in tx, decides the patch on
// it (a resource outside the caller's boundary is Private before anything
// of the patch is looked at), applies the patch and writes the validated
// result as the next version, decided again on its new content.
func (s *Service) patchTx(ctx context.Context, tx store.Tx, c caller, tr *trace, typ, id string, apply func(fhir.Value) (fhir.Value, error), ifMatch string) (*store.Version, error) {
	areq := auth.Request{Interaction: auth.InteractionPatch, ResourceType: typ, ID: id}
	cur, err := tx.Read(ctx, typ, id)
	if err != nil {
		return nil, s.authorizeMissing(ctx, tx, c, tr, areq, err)
	}
	d, pats, err := s.decideOn(c, tr, areq, cur, cur)
	tr.touchVersion(cur, pats)
	if err != nil {
		return nil, err
	}
	if err := s.checkScope(tr, d, areq, cur.Body); err != nil {
		return nil, err
	}
	doc, err := fhir.Parse(cur.Body)
	if err != nil {
		return nil, outcome.Wrap(err, "stored resource is not JSON")
	}
	// The stored meta.versionId and lastUpdated go with the patch's
	// result; the store sets them anew.
	patched, err := apply(doc)
	if err != nil {
		return nil, err
	}
	res, err := s.parse(typ, patched.Marshal())
	if err != nil {
		return nil, err
	}
	if res.Str("id") != id {
		return nil, outcome.New(outcome.Invalid, "invalid", "a patch must not change the resource's id", typ+".id")
	}
	out, _, err := s.updateTx(ctx, tx, c, tr, auth.InteractionPatch, typ, id, res, "", ifMatch)
	return out, err
}

// patcher parses a patch document of the given format and returns the
// function that applies it, so a malformed document fails before the store is
// touched.
func (s *Service) patcher(f PatchFormat, body []byte) (func(fhir.Value) (fhir.Value, error), error) {
	switch f {
	case JSONPatch:
		ops, err := fhir.Parse(body)
		if err != nil {
			return nil, outcome.New(outcome.Invalid, "structure", "the JSON Patch is not JSON: "+err.Error())
		}
		return func(doc fhir.Value) (fhir.Value, error) { return ApplyJSONPatch(doc, &ops) }, nil
	case FHIRPathPatch:
		params, err := s.parse("Parameters", body)
		if err != nil {
			return nil, err
		}
		ops, err := ParseFHIRPathPatch(params)
		if err != nil {
			return nil, err
		}
		return func(doc fhir.Value) (fhir.Value, error) { return ApplyFHIRPathPatch(s.spec, doc, ops) }, nil
	}
	return nil, outcome.Errorf(outcome.Internal, "unknown patch format %d", f)
}

// ApplyJSONPatch applies the operations of patch (RFC 6902) to doc and
// returns the result; doc is not modified.
func ApplyJSONPatch(doc fhir.Value, patch *fhir.Value) (fhir.Value, error) {
	if patch.Kind != fhir.Array {
		return fhir.Value{}, patchErr(outcome.Invalid, -1, "a JSON Patch is an array of operations")
	}
	root := clone(doc)
	for i := range patch.Items {
		op := &patch.Items[i]
		if op.Kind != fhir.Object {
			return fhir.Value{}, patchErr(outcome.Invalid, i, "an operation is an object")
		}
		_, hasPath := op.Get("path")
		path, err := parsePointer(op.Str("path"), hasPath)
		if err != nil {
			return fhir.Value{}, patchErr(outcome.Invalid, i, err.Error())
		}
		value, hasValue := op.Get("value")
		switch name := op.Str("op"); name {
		case "add", "replace", "test":
			if !hasValue {
				return fhir.Value{}, patchErr(outcome.Invalid, i, name+" needs a value")
			}
			switch name {
			case "add":
				err = add(&root, path, clone(*value))
			case "replace":
				// In place, so an object member keeps its position.
				var target *fhir.Value
				if target, err = lookup(&root, path); err == nil {
					*target = clone(*value)
				}
			case "test":
				var got *fhir.Value
				if got, err = lookup(&root, path); err == nil && !equal(*got, *value) {
					return fhir.Value{}, patchErr(outcome.Precondition, i, "test failed at "+op.Str("path"))
				}
			}
		case "remove":
			_, err = remove(&root, path)
		case "move", "copy":
			_, hasFrom := op.Get("from")
			from, ferr := parsePointer(op.Str("from"), hasFrom)
			if ferr != nil {
				return fhir.Value{}, patchErr(outcome.Invalid, i, ferr.Error())
			}
			if name == "move" && isPrefix(from, path) && len(from) < len(path) {
				return fhir.Value{}, patchErr(outcome.Invalid, i, "cannot move a value into itself")
			}
			var v fhir.Value
			if name == "move" {
				v, err = remove(&root, from)
			} else {
				var p *fhir.Value
				if p, err = lookup(&root, from); err == nil {
					v = clone(*p)
				}
			}
			if err == nil {
				err = add(&root, path, v)
			}
		default:
			return fhir.Value{}, patchErr(outcome.Invalid, i, fmt.Sprintf("unknown op %q", name))
		}
		if err != nil {
			return fhir.Value{}, patchErr(outcome.Invalid, i, err.Error())
		}
	}
	return root, nil
}

func patchErr(k outcome.Kind, i int, msg string) error {
	if i < 0 {
		return outcome.New(k, "invalid", "JSON Patch: "+msg)
	}
	return outcome.New(k, "invalid", fmt.Sprintf("JSON Patch operation %d: %s", i, msg))
}

// parsePointer splits a JSON Pointer (RFC 6901) into unescaped tokens;
// present tells a missing pointer from "", the whole document.
func parsePointer(p string, present bool) ([]string, error) {
	if p == "" {
		if !present {
			return nil, fmt.Errorf("missing path")
		}
		return nil, nil
	}
	if p[0] != '/' {
		return nil, fmt.Errorf("path %q does not start with /", p)
	}
	parts := strings.Split(p[1:], "/")
	for i, t := range parts {
		if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(t, "~0", ""), "~1", ""), "~") {
			return nil, fmt.Errorf("path %q has a bad ~ escape", p)
		}
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return parts, nil
}

func isPrefix(a, b []string) bool {
	if len(a) > len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// index parses an array index token; end allows "-" and len (add).
func index(tok string, n int, end bool) (int, error) {
	if end && tok == "-" {
		return n, nil
	}
	if tok == "" || (len(tok) > 1 && tok[0] == '0') {
		return 0, fmt.Errorf("bad array index %q", tok)
	}
	i, err := strconv.Atoi(tok)
	if err != nil || i < 0 {
		return 0, fmt.Errorf("bad array index %q", tok)
	}
	if i > n || (!end && i == n) {
		return 0, fmt.Errorf("array index %d out of range", i)
	}
	return i, nil
}

// lookup returns the value at path.
func lookup(root *fhir.Value, path []string) (*fhir.Value, error) {
	v := root
	for _, tok := range path {
		switch v.Kind {
		case fhir.Object:
			c, ok := v.Get(tok)
			if !ok {
				return nil, fmt.Errorf("path member %q does not exist", tok)
			}
			v = c
		case fhir.Array:
			i, err := index(tok, len(v.Items), false)
			if err != nil {
				return nil, err
			}
			v = &v.Items[i]
		default:
			return nil, fmt.Errorf("path goes through a %v", v.Kind)
		}
	}
	return v, nil
}

// add inserts v at path: a new or replaced object member, or an array
// element inserted before the index ("-": appended).
func add(root *fhir.Value, path []string, v fhir.Value) error {
	if len(path) == 0 {
		*root = v
		return nil
	}
	parent, err := lookup(root, path[:len(path)-1])
	if err != nil {
		return err
	}
	last := path[len(path)-1]
	switch parent.Kind {
	case fhir.Object:
		if c, ok := parent.Get(last); ok {
			*c = v
			return nil
		}
		parent.Members = append(parent.Members, fhir.Member{Name: last, Value: v})
	case fhir.Array:
		i, err := index(last, len(parent.Items), true)
		if err != nil {
			return err
		}
		parent.Items = append(parent.Items, fhir.Value{})
		copy(parent.Items[i+1:], parent.Items[i:])
		parent.Items[i] = v
	default:
		return fmt.Errorf("cannot add to a %v", parent.Kind)
	}
	return nil
}

// remove deletes the value at path and returns it.
func remove(root *fhir.Value, path []string) (fhir.Value, error) {
	if len(path) == 0 {
		return fhir.Value{}, fmt.Errorf("cannot remove the whole document")
	}
	parent, err := lookup(root, path[:len(path)-1])
	if err != nil {
		return fhir.Value{}, err
	}
	last := path[len(path)-1]
	switch parent.Kind {
	case fhir.Object:
		for i, m := range parent.Members {
			if m.Name == last {
				parent.Members = append(parent.Members[:i], parent.Members[i+1:]...)
				return m.Value, nil
			}
		}
		return fhir.Value{}, fmt.Errorf("path member %q does not exist", last)
	case fhir.Array:
		i, err := index(last, len(parent.Items), false)
		if err != nil {
			return fhir.Value{}, err
		}
		v := parent.Items[i]
		parent.Items = append(parent.Items[:i], parent.Items[i+1:]...)
		return v, nil
	}
	return fhir.Value{}, fmt.Errorf("cannot remove from a %v", parent.Kind)
}

// clone copies v deeply, so that patching never changes a shared tree.
func clone(v fhir.Value) fhir.Value {
	switch v.Kind {
	case fhir.Object:
		ms := make([]fhir.Member, len(v.Members))
		for i, m := range v.Members {
			ms[i] = fhir.Member{Name: m.Name, Value: clone(m.Value)}
		}
		v.Members = ms
	case fhir.Array:
		items := make([]fhir.Value, len(v.Items))
		for i, it := range v.Items {
			items[i] = clone(it)
		}
		v.Items = items
	}
	return v
}

// equal is JSON equality: object members in any order, numbers by value.
func equal(a, b fhir.Value) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case fhir.Null:
		return true
	case fhir.Bool:
		return a.Bool == b.Bool
	case fhir.String:
		return a.Text == b.Text
	case fhir.Number:
		if a.Text == b.Text {
			return true
		}
		x, err1 := strconv.ParseFloat(a.Text, 64)
		y, err2 := strconv.ParseFloat(b.Text, 64)
		return err1 == nil && err2 == nil && x == y
	case fhir.Array:
		if len(a.Items) != len(b.Items) {
			return false
		}
		for i := range a.Items {
			if !equal(a.Items[i], b.Items[i]) {
				return false
			}
		}
		return true
	case fhir.Object:
		if len(a.Members) != len(b.Members) {
			return false
		}
		for _, m := range a.Members {
			o, ok := b.Get(m.Name)
			if !ok || !equal(m.Value, *o) {
				return false
			}
		}
		return true
	}
	return false
}
