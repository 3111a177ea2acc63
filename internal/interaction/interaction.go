// Package interaction is the one read and write path of Continuum: every
// caller — REST, the UI, batch and transaction entries, HL7 feeds, jobs —
// reads and writes resources through a Service, so that validation (and,
// with later issues, authorization, consent and audit) happens in exactly one
// place (architecture.md §1).
//
// There is one file per RESTful interaction of FHIR R4
// (https://hl7.org/fhir/R4/http.html), each linking its section: read.go,
// vread.go, create.go, update.go, patch.go (JSON Patch; FHIRPath Patch in
// fhirpathpatch.go), delete.go, history.go,
// conditional.go (conditional update and delete) and transaction.go (batch
// and transaction Bundles); summary.go renders _summary and _elements.
// Requests are typed
// values (If-Match, If-None-Exist, … as fields), never HTTP headers; the
// transport maps headers and status codes.
//
// Every write is validated against the base specification before anything
// is stored; a write with an error-level issue fails with kind Invalid and
// the issues, and nothing is written.
//
// Tenancy (docs/decisions/0004-tenancy.md): writes name the organization on
// whose behalf they are made (Org); a write that would change another
// organization's resource answers Private (rendered 404), exactly as if it did
// not exist. Reads are not narrowed by organization yet: that arrives with the
// authorization issue's principals.
package interaction

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// Validator checks and parses a resource; *validate.Validator is the
// implementation.
type Validator interface {
	Parse(b []byte) (fhir.Value, []outcome.Issue)
}

// Options configure a Service; all fields are required.
type Options struct {
	Store     store.Store
	Validator Validator
	Spec      *spec.Spec
}

// Service performs FHIR interactions over a store.
type Service struct {
	st   store.Store
	v    Validator
	spec *spec.Spec
}

// New returns a Service.
func New(opts Options) *Service {
	return &Service{st: opts.Store, v: opts.Validator, spec: opts.Spec}
}

// checkType fails with NotFound for a name that is not a concrete resource
// type of R4, so /fhir/Foo answers like any unknown path.
func (s *Service) checkType(typ string) error {
	if t := s.spec.Resource(typ); t == nil || t.Abstract {
		return outcome.Errorf(outcome.NotFound, "%q is not a resource type of FHIR R4", typ)
	}
	return nil
}

// checkID fails for a malformed id in a URL.
func checkID(id string) error {
	if !store.ValidID(id) {
		return outcome.New(outcome.Invalid, "value", fmt.Sprintf("%q is not a valid resource id", id))
	}
	return nil
}

// parse validates body as a resource of type typ and returns its tree.
func (s *Service) parse(typ string, body []byte) (*fhir.Value, error) {
	v, issues := s.v.Parse(body)
	if outcome.HasErrors(issues) {
		return nil, &outcome.Error{Kind: outcome.Invalid, Issues: issues}
	}
	if rt := v.ResourceType(); rt != typ {
		return nil, outcome.New(outcome.Invalid, "invalid",
			fmt.Sprintf("the body is a %s, but the request is for %s", rt, typ), "resourceType")
	}
	return &v, nil
}

// owner is the organization that owns a write of type typ made for org:
// none for directory types.
func owner(typ, org string) string {
	if store.DirectoryType(typ) {
		return ""
	}
	return org
}

// private reports whether cur belongs to another organization than org, so
// that a write by org must not reveal that it exists.
func private(cur *store.Version, typ, org string) bool {
	return !store.DirectoryType(typ) && cur.Org != org
}

func privateErr(typ, id string) error {
	// Worded exactly like a resource that does not exist.
	return &outcome.Error{Kind: outcome.Private, Issues: []outcome.Issue{{
		Severity: outcome.SevError, Code: "not-found", Diagnostics: fmt.Sprintf("%s/%s is not known", typ, id)}}}
}

// Condition is a conditional match, as in If-None-Exist, by
// "identifier=system|value", "identifier=value" (any system) or "_id=id".
// General search criteria arrive with the search issue.
type Condition struct {
	ID         string
	System     string
	Identifier string
}

// ParseCondition parses the query of If-None-Exist or a conditional URL
// (without the "Type?" prefix).
func ParseCondition(query string) (Condition, error) {
	// ifNoneExist is sometimes written with the type: "Patient?identifier=…".
	if before, after, ok := strings.Cut(query, "?"); ok && !strings.Contains(before, "=") {
		query = after
	}
	name, value, ok := strings.Cut(query, "=")
	if !ok || value == "" || strings.ContainsAny(value, "&,") || strings.Contains(name, ":") {
		return Condition{}, outcome.New(outcome.NotSupported, "not-supported",
			fmt.Sprintf("conditional criteria %q: only a single identifier=[system|]value or _id=id is supported yet", query))
	}
	value, err := url.QueryUnescape(value)
	if err != nil {
		return Condition{}, outcome.New(outcome.Invalid, "value", fmt.Sprintf("conditional criteria %q: %v", query, err))
	}
	switch name {
	case "_id":
		return Condition{ID: value}, nil
	case "identifier":
		if system, val, ok := strings.Cut(value, "|"); ok {
			// "|value" means "without a system", "system|" any value of
			// the system: both need the search index.
			if system == "" || val == "" {
				break
			}
			return Condition{System: system, Identifier: val}, nil
		}
		return Condition{Identifier: value}, nil
	}
	return Condition{}, outcome.New(outcome.NotSupported, "not-supported",
		fmt.Sprintf("conditional criteria %q: only identifier and _id are supported yet", query))
}

// match returns the current resources of type typ that c matches.
func match(ctx context.Context, tx store.ReadTx, typ string, c Condition) ([]store.Ref, error) {
	if c.ID != "" {
		_, err := tx.Read(ctx, typ, c.ID)
		var oe *outcome.Error
		switch {
		case err == nil:
			return []store.Ref{{Type: typ, ID: c.ID}}, nil
		case errors.As(err, &oe) && (oe.Kind == outcome.NotFound || oe.Kind == outcome.Gone):
			return nil, nil
		default:
			return nil, err
		}
	}
	return tx.FindByIdentifier(ctx, typ, c.System, c.Identifier)
}

// kindOf returns the kind of err, Internal for foreign errors.
func kindOf(err error) outcome.Kind {
	var oe *outcome.Error
	if errors.As(err, &oe) {
		return oe.Kind
	}
	return outcome.Internal
}
