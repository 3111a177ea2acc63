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
// conditional.go (conditional update and delete), search.go (search and the
// searchset Bundle) and transaction.go (batch and transaction Bundles);
// summary.go renders _summary and _elements. Conditional criteria are
// searches (match in this file). import.go writes many resources with their
// ids per store transaction for bulk loads (continuum import), skipping
// unchanged content.
// Requests are typed
// values (If-Match, If-None-Exist, … as fields), never HTTP headers; the
// transport maps headers and status codes.
//
// Every write is validated against the base specification before anything
// is stored; a write with an error-level issue fails with kind Invalid and
// the issues, and nothing is written.
//
// # Authorization and audit
//
// Every interaction reads the caller's principal from the context
// (auth.FromContext; a context without one is Unauthorized: deny by
// default) and decides each request with auth.Decide on the real facts of
// its target — the owning organization of the stored version and the
// patient compartments the resource is in (authorize.go). A resource
// outside the caller's boundary answers Private (rendered 404, exactly as
// if it did not exist); a request the caller's scopes or roles do not allow
// answers Forbidden (403). Batch and transaction entries are decided one by
// one, as requests of their own. History is narrowed in the query
// (organizations and types), never filtered afterwards.
//
// Every interaction leaves exactly one AuditEvent (IHE BALP) through the
// Auditor: a write's event commits in the write's transaction; reads,
// denials and failures go through the trail's group commit. A batch leaves
// one event per entry; a transaction one event naming every resource and
// patient it touched.
//
// Tenancy (docs/decisions/0004-tenancy.md): a new resource belongs to the
// organization writeOrg chooses for the caller (the request's Org when the
// caller names one); an update keeps the owner it has.
package interaction

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	searchindex "github.com/continuum-ehr/continuum/internal/index"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/search"
	"github.com/continuum-ehr/continuum/internal/store"
)

// Validator checks and parses a resource; *validate.Validator is the
// implementation.
type Validator interface {
	Parse(b []byte) (fhir.Value, []outcome.Issue)
}

// Options configure a Service; Store, Validator, Spec and Audit are
// required.
type Options struct {
	Store     store.Store
	Validator Validator
	Spec      *spec.Spec
	// Search sets the zone of dates without one (the server's
	// --timezone; nil: UTC) and the page sizes of searches; zero fields
	// take search's defaults.
	Search SearchDefaults
	// Audit receives one AuditEvent per interaction.
	Audit Auditor
	// Server is the FHIR base URL and Site the deployment's name, as the
	// AuditEvents name them.
	Server, Site string
}

// Service performs FHIR interactions over a store.
type Service struct {
	st     store.Store
	v      Validator
	spec   *spec.Spec
	search search.Options
	audit  Auditor
	idx    *searchindex.Extractor
	reg    *search.Registry
	server string
	site   string
}

// New returns a Service. It panics without an Auditor: an interaction that
// leaves no audit record is not allowed to happen (architecture.md §4).
func New(opts Options) *Service {
	if opts.Audit == nil {
		panic("interaction: Options.Audit is required")
	}
	s := &Service{st: opts.Store, v: opts.Validator, spec: opts.Spec, search: opts.Search, audit: opts.Audit,
		server: opts.Server, site: opts.Site}
	if opts.Spec != nil {
		s.idx = searchindex.New(opts.Spec)
		s.reg = search.NewRegistry(opts.Spec)
	}
	return s
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

// Condition is the criteria of a conditional interaction — If-None-Exist,
// a conditional update or delete URL, a conditional reference in a
// transaction — as search parameters
// (https://hl7.org/fhir/R4/http.html#ccreate): any search the type
// supports, run with full search.
type Condition struct {
	Values url.Values
}

// ParseCondition parses the query of If-None-Exist or a conditional URL
// (with or without the "Type?" prefix). Criteria that name no search
// parameter would match everything and are refused; so are result
// parameters (_sort, _count, _include …), which select nothing.
func ParseCondition(query string) (Condition, error) {
	// ifNoneExist is sometimes written with the type: "Patient?identifier=…".
	if before, after, ok := strings.Cut(query, "?"); ok && !strings.Contains(before, "=") {
		query = after
	}
	vals, err := url.ParseQuery(query)
	if err != nil {
		return Condition{}, outcome.New(outcome.Invalid, "value", fmt.Sprintf("conditional criteria %q: %v", query, err))
	}
	n := 0
	for name, vs := range vals {
		switch strings.SplitN(name, ":", 2)[0] {
		case "_sort", "_count", "_include", "_revinclude", "_summary", "_elements", "_total", "_contained", "_containedType", "_format", "_pretty":
			return Condition{}, outcome.New(outcome.Invalid, "invalid",
				fmt.Sprintf("conditional criteria %q: %s selects nothing", query, name))
		}
		for _, v := range vs {
			if v != "" {
				n++
			}
		}
	}
	if n == 0 {
		return Condition{}, outcome.New(outcome.Invalid, "invalid",
			fmt.Sprintf("conditional criteria %q name no search parameter with a value", query))
	}
	return Condition{Values: vals}, nil
}

// match returns the current resources of type typ that c matches: at most
// two, which is all a conditional interaction needs to tell none, one and
// several apart. Unknown parameters are errors (handling=strict): ignoring
// one would widen the match to resources the client did not mean.
//
// opts narrow the match to what the caller may see (matchAs): resources
// outside the boundary are as if they did not exist, in the query itself.
func match(ctx context.Context, tx store.ReadTx, typ string, c Condition, opts store.SearchOptions) ([]store.Ref, error) {
	q, err := search.Parse(spec.R4(), typ, c.Values, search.Options{Strict: true})
	if err != nil {
		return nil, err
	}
	q.Count, q.Total, q.Sort, q.Include, q.RevInclude = 2, "none", nil, nil, nil
	page, err := tx.Search(ctx, q, opts)
	if err != nil {
		return nil, err
	}
	refs := make([]store.Ref, 0, len(page.Matches))
	for _, v := range page.Matches {
		refs = append(refs, store.Ref{Type: v.Type, ID: v.ID})
	}
	return refs, nil
}

// kindOf returns the kind of err, Internal for foreign errors.
func kindOf(err error) outcome.Kind {
	var oe *outcome.Error
	if errors.As(err, &oe) {
		return oe.Kind
	}
	return outcome.Internal
}
