package operation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/continuum-ehr/continuum/internal/outcome"
)

// Validator checks one resource; *validate.Validator is the implementation.
type Validator interface {
	Validate(b []byte) []outcome.Issue
}

// Validate is the $validate operation:
// https://hl7.org/fhir/R4/resource-operation-validate.html
type Validate struct {
	v        Validator
	maxDepth int
}

// NewValidate returns the operation over v. maxDepth bounds JSON nesting and
// must match the validator's own limit (validate.Options.MaxDepth).
func NewValidate(v Validator, maxDepth int) *Validate {
	return &Validate{v: v, maxDepth: maxDepth}
}

// ValidateInput is one $validate request.
type ValidateInput struct {
	Body []byte // a resource, or (with Parameters) the operation's Parameters

	// Type, when set, is the type the caller validates against
	// (POST [base]/[type]/$validate); a resource of another type is an error.
	Type string

	// Parameters accepts a Parameters resource carrying the resource in its
	// "resource" parameter, as the REST operation does. The CLI validates a
	// Parameters file as itself.
	Parameters bool
}

// Run validates the input and returns every issue; the input is valid when
// none is an error (outcome.HasErrors). Input that is not JSON, not an
// object, or nested too deeply is reported here before the validator runs,
// so the answer does not depend on how far the validator gets.
func (op *Validate) Run(_ context.Context, in ValidateInput) []outcome.Issue {
	body := in.Body
	rt, err := scan(body, op.maxDepth)
	if err != nil {
		return []outcome.Issue{structure(err)}
	}
	var notes []outcome.Issue
	if in.Parameters && rt == "Parameters" {
		res, ignored, err := unwrap(body)
		if err != nil {
			return []outcome.Issue{structure(err)}
		}
		for _, name := range ignored {
			notes = append(notes, outcome.Issue{Severity: outcome.SevWarning, Code: "not-supported",
				Diagnostics: fmt.Sprintf("$validate parameter %q is not supported and was ignored", name)})
		}
		if res != nil {
			body = res
			if rt, err = scan(body, op.maxDepth); err != nil {
				return []outcome.Issue{structure(err)}
			}
		}
	}
	if in.Type != "" && rt != in.Type {
		return []outcome.Issue{{Severity: outcome.SevError, Code: "invalid", Expression: []string{"resourceType"},
			Diagnostics: fmt.Sprintf("resource type %q does not match the type %q of the operation", rt, in.Type)}}
	}
	return append(notes, op.v.Validate(body)...)
}

// structure reports input that could not be read as a resource; fatal,
// like the validator's own parse failures (docs/validation.md).
func structure(err error) outcome.Issue {
	code := "structure"
	if errors.Is(err, errTooDeep) {
		code = "too-costly"
	}
	return outcome.Issue{Severity: outcome.SevFatal, Code: code, Diagnostics: err.Error()}
}

var errTooDeep = errors.New("JSON nested too deeply")

var errNotObject = errors.New("a resource must be a JSON object")

// scan checks that b is one strictly valid JSON object (UTF-8, no duplicate
// names, nothing after it) nested at most maxDepth levels, and returns its
// top-level resourceType. It streams tokens and builds no tree, so a large
// or hostile body costs little memory.
func scan(b []byte, maxDepth int) (resourceType string, err error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return "", errors.New("empty body: expected a JSON resource")
	}
	dec := jsontext.NewDecoder(bytes.NewReader(b))
	if k := dec.PeekKind(); k != '{' {
		if k == 0 { // PeekKind hides the syntax error; ReadToken reports it
			_, err := dec.ReadToken()
			return "", invalidJSON(err)
		}
		return "", errNotObject
	}
	for {
		tok, err := dec.ReadToken()
		if err != nil {
			return "", invalidJSON(err)
		}
		d := dec.StackDepth()
		if d == 0 { // the object is complete
			break
		}
		if d > maxDepth {
			return "", fmt.Errorf("%w: deeper than %d levels", errTooDeep, maxDepth)
		}
		// A top-level member name is followed by its value; capture resourceType.
		if kind, n := dec.StackIndex(1); d == 1 && kind == '{' && n%2 == 1 && tok.Kind() == '"' &&
			tok.String() == "resourceType" && dec.PeekKind() == '"' {
			v, err := dec.ReadToken()
			if err != nil {
				return "", invalidJSON(err)
			}
			resourceType = v.String()
		}
	}
	// The decoder reads a stream of values; a resource is exactly one.
	if _, err := dec.ReadToken(); err != io.EOF {
		if err == nil {
			return "", fmt.Errorf("invalid JSON: unexpected data after the resource at byte %d", dec.InputOffset())
		}
		return "", invalidJSON(err)
	}
	if resourceType == "" {
		return "", errors.New("missing resourceType: a resource must name its type")
	}
	return resourceType, nil
}

func invalidJSON(err error) error {
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %v", se.ByteOffset, se.Err)
	}
	if err == io.ErrUnexpectedEOF {
		return errors.New("invalid JSON: unexpected end of input")
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

// unwrap returns the "resource" parameter of a $validate Parameters body
// (nil when there is none, and the Parameters is then validated as itself),
// and the names of parameters it ignores (mode, profile: not supported yet).
func unwrap(b []byte) (resource []byte, ignored []string, err error) {
	var p struct {
		Parameter []struct {
			Name     string         `json:"name"`
			Resource jsontext.Value `json:"resource"`
		} `json:"parameter"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, nil, fmt.Errorf("invalid Parameters: %v", err)
	}
	for _, prm := range p.Parameter {
		switch {
		case prm.Name == "resource" && resource == nil && len(prm.Resource) > 0:
			resource = prm.Resource
		default:
			ignored = append(ignored, prm.Name)
		}
	}
	if resource == nil {
		ignored = nil // not a $validate request but a Parameters resource to validate
	}
	return resource, ignored, nil
}
