package interaction

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/search"
	"github.com/continuum-ehr/continuum/internal/store"
)

// CursorParam is the parameter that carries a search's paging cursor in
// next and previous links. It is not a search parameter: Parse skips it.
const CursorParam = "_page"

// SearchRequest is a search: GET [base]/[type]?…, POST [base]/[type]/_search,
// GET [base]?_type=… (system search) and GET [base]/[Compartment]/[id]/[type]?…
// (https://hl7.org/fhir/R4/http.html#search).
type SearchRequest struct {
	Type string // "" for a system search
	// Compartment, for a compartment search, names its owner
	// (https://hl7.org/fhir/R4/search.html#compartments).
	Compartment *search.CompartmentRef
	// Params are the search's parameters, from the URL or the form body.
	Params url.Values
	// Strict is Prefer: handling=strict: unknown parameters are an error,
	// not a warning.
	Strict bool
	// BaseURL is the server's FHIR base, for absolute references in
	// search values.
	BaseURL string
}

// SearchResult is one page of a search.
type SearchResult struct {
	// Query is the search as understood: its String is the self link's
	// query, Warnings the parameters ignored under handling=lenient.
	Query *search.Query
	// Page holds the versions; their bodies are the stored bytes.
	Page *store.SearchPage
	// Matches and Included are the entries' resources as they go out:
	// the stored bytes, or the subset _summary or _elements ask for.
	Matches, Included [][]byte
}

// SearchDefaults configure how searches are read: the zone of dates
// without one (--timezone), page sizes and bounds (search.Options).
type SearchDefaults = search.Options

// Search runs a search and returns one page. The whole page — matches,
// count, includes — is read in one snapshot.
//
// Authorization narrows the query before it runs (authorizeSearch): every
// type the search touches — the searched types, _include and _revinclude
// types, chained and _has types — is decided as its own request, and the
// caller's organizations, patient compartment and v2 scope constraints go
// into the query, so counts, pages and next links are those of the
// permitted subset.
func (s *Service) Search(ctx context.Context, req SearchRequest) (*SearchResult, error) {
	c := callerFrom(ctx)
	tr := &trace{action: audit.SearchType, query: req.Type + "?" + req.Params.Encode()}
	if req.Type == "" {
		tr.action = audit.SearchSystem
	}
	out, err := s.searchView(ctx, c, tr, req)
	return out, s.finish(ctx, c, tr, err)
}

func (s *Service) searchView(ctx context.Context, c caller, tr *trace, req SearchRequest) (*SearchResult, error) {
	if req.Type != "" {
		if err := s.preDecide(c, tr, auth.InteractionSearch, req.Type, ""); err != nil {
			return nil, err
		}
		if err := s.checkType(req.Type); err != nil {
			return nil, err
		}
	}
	var out *SearchResult
	err := s.st.View(ctx, func(tx store.ReadTx) (err error) {
		out, err = s.searchTx(ctx, tx, c, tr, req)
		return err
	})
	return out, err
}

// searchTx is Search inside a transaction (also a Bundle's search entries).
func (s *Service) searchTx(ctx context.Context, tx store.ReadTx, c caller, tr *trace, req SearchRequest) (*SearchResult, error) {
	if !c.ok {
		tr.reason = "no authenticated principal"
		return nil, errUnauthenticated
	}
	opts := s.search
	opts.Strict = req.Strict
	opts.Compartment = req.Compartment
	opts.Reserved = append(opts.Reserved[:len(opts.Reserved):len(opts.Reserved)], CursorParam)
	q, err := search.Parse(s.spec, req.Type, req.Params, opts)
	if err != nil {
		return nil, err
	}
	if q.Summary != "" && q.Summary != "count" && q.Summary != "false" && len(q.Elements) > 0 {
		return nil, outcome.New(outcome.Invalid, "invalid", "_summary and _elements cannot be combined")
	}
	sopts, q, err := s.authorizeSearch(c, tr, req, q, opts)
	if err != nil {
		return nil, err
	}
	sopts.BaseURL, sopts.Cursor = req.BaseURL, req.Params.Get(CursorParam)
	out := &SearchResult{Query: q}
	out.Page, err = tx.Search(ctx, q, sopts)
	if err != nil {
		return nil, err
	}
	// The audit record names what the search disclosed, and whose.
	for _, list := range [][]*store.Version{out.Page.Matches, out.Page.Included} {
		for _, v := range list {
			pats, err := s.versionPatients(v)
			if err != nil {
				return nil, err
			}
			tr.touchVersion(v, pats)
		}
	}
	sub := Subset{Elements: q.Elements}
	if q.Summary != "count" {
		sub.Summary = q.Summary
	}
	for _, v := range out.Page.Matches {
		b, err := s.Apply(sub, v.Body)
		if err != nil {
			return nil, err
		}
		out.Matches = append(out.Matches, b)
	}
	for _, v := range out.Page.Included {
		out.Included = append(out.Included, v.Body)
	}
	return out, nil
}

// Bundle renders the page as a searchset Bundle
// (https://hl7.org/fhir/R4/bundle.html#searchset) under the FHIR base
// fhirBase, embedding the resources' bytes as they are.
func (res *SearchResult) Bundle(fhirBase string) []byte {
	self := fhirBase + "/" + res.Query.String()
	if res.Query.Type == "" && res.Query.Compartment == nil {
		self = fhirBase + "?" + res.Query.QueryString()
	}
	var b bytes.Buffer
	str := func(s string) { b.WriteString(quote(s)) }
	link := func(rel, u string) {
		b.WriteString(`,{"relation":"`)
		b.WriteString(rel)
		b.WriteString(`","url":`)
		str(u)
		b.WriteString(`}`)
	}
	b.WriteString(`{"resourceType":"Bundle","type":"searchset"`)
	if res.Page.Total >= 0 {
		b.WriteString(`,"total":`)
		b.WriteString(strconv.Itoa(res.Page.Total))
	}
	b.WriteString(`,"link":[{"relation":"self","url":`)
	str(self)
	b.WriteString(`}`)
	if res.Page.Next != "" {
		link("next", self+"&"+CursorParam+"="+url.QueryEscape(res.Page.Next))
	}
	if res.Page.Prev != "" {
		link("previous", self+"&"+CursorParam+"="+url.QueryEscape(res.Page.Prev))
	}
	b.WriteString(`],"entry":[`)
	n := 0
	entry := func(typ, id string, body []byte, mode string) {
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		b.WriteString(`{"fullUrl":`)
		str(fhirBase + "/" + typ + "/" + id)
		b.WriteString(`,"resource":`)
		b.Write(body)
		b.WriteString(`,"search":{"mode":"`)
		b.WriteString(mode)
		b.WriteString(`"}}`)
	}
	for i, v := range res.Page.Matches {
		entry(v.Type, v.ID, res.Matches[i], "match")
	}
	for i, v := range res.Page.Included {
		entry(v.Type, v.ID, res.Included[i], "include")
	}
	if len(res.Query.Warnings) > 0 {
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"resource":`)
		b.Write(outcome.OperationOutcome(res.Query.Warnings))
		b.WriteString(`,"search":{"mode":"outcome"}}`)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// authorizeSearch decides every type q touches and returns the narrowing
// the store applies inside the query, with q narrowed too: a system search
// without _type runs over the types the caller may search, and the v2 scope
// constraints of the searched type are ANDed into its parameters (q is
// parsed again with them). It refuses what cannot be narrowed in the query:
// types whose organization boundaries differ, scope constraints on included
// or chained types, and _include=* (name the parameters).
func (s *Service) authorizeSearch(c caller, tr *trace, req SearchRequest, q *search.Query, popts search.Options) (store.SearchOptions, *search.Query, error) {
	var (
		out     store.SearchOptions
		orgs    []string
		orgsSet bool
	)
	forbid := func(why string) (store.SearchOptions, *search.Query, error) {
		tr.reason = why
		return out, nil, outcome.New(outcome.Forbidden, "forbidden", "not permitted: "+why)
	}
	decide := func(typ string, main bool) (auth.Decision, error) {
		d, err := s.decide(c, tr, auth.Request{Interaction: auth.InteractionSearch, ResourceType: typ})
		if err != nil {
			return d, err
		}
		if len(d.Scope) > 0 && !main {
			return d, outcome.New(outcome.Forbidden, "forbidden",
				fmt.Sprintf("the scopes that grant %s are constrained (%s): include, chain or _has it only from a search of %s itself",
					typ, constraintNames(d.Scope), typ))
		}
		if !auth.Shared(typ) && d.Organizations != nil {
			o := append([]string{}, d.Organizations...)
			if orgsSet && !slices.Equal(orgs, o) {
				return d, outcome.New(outcome.Forbidden, "forbidden",
					"the caller's organizations differ between the types this search touches: search them one by one")
			}
			orgs, orgsSet = o, true
		}
		if d.Patient != "" {
			out.Compartment = d.Compartment()
		}
		return d, nil
	}
	// The searched types.
	var mainDecision auth.Decision
	switch {
	case q.Type != "":
		d, err := decide(q.Type, true)
		if err != nil {
			return out, nil, err
		}
		mainDecision = d
	case len(q.Types) > 0:
		for _, t := range q.Types {
			if _, err := decide(t, false); err != nil {
				return out, nil, err
			}
		}
	default:
		// All types: narrowed to those the caller may search without
		// constraints.
		var allowed []string
		for _, t := range s.spec.ResourceTypes() {
			if r := s.spec.Resource(t); r == nil || r.Abstract {
				continue
			}
			d := auth.Decide(c.p, auth.Request{Interaction: auth.InteractionSearch, ResourceType: t})
			if d.Allowed && len(d.Scope) == 0 {
				if _, err := decide(t, false); err != nil {
					return out, nil, err
				}
				allowed = append(allowed, t)
			}
		}
		if len(allowed) == 0 {
			return forbid("no resource type may be searched with this access")
		}
		q.Types = allowed
	}
	// The types it reaches through includes, chains and _has.
	var reached []string
	for _, in := range q.RevInclude {
		if in.Param == nil {
			return forbid("_revinclude with * cannot be authorized: name the parameters")
		}
		reached = append(reached, in.Source) // what a _revinclude adds
	}
	for _, in := range q.Include {
		if in.Param == nil {
			return forbid("_include with * cannot be authorized: name the parameters")
		}
		if in.Target != "" {
			reached = append(reached, in.Target)
			continue
		}
		// Every type the parameter may point to must be one the caller
		// may search; otherwise the client names the type it wants
		// (_include=Observation:subject:Patient).
		for _, t := range in.Param.Target {
			if d := auth.Decide(c.p, auth.Request{Interaction: auth.InteractionSearch, ResourceType: t}); !d.Allowed {
				return forbid(fmt.Sprintf("_include=%s may reach %s, which this access may not search: name the target type (%s:<type>)",
					in, t, in))
			}
		}
		reached = append(reached, in.Param.Target...)
	}
	var walk func(f *search.Filter)
	walk = func(f *search.Filter) {
		if f == nil {
			return
		}
		for _, ch := range f.Chain {
			reached = append(reached, ch.Type)
			walk(ch.Filter)
		}
		if f.Has != nil {
			reached = append(reached, f.Has.Type)
			walk(f.Has.Filter)
		}
	}
	for _, f := range q.Filters {
		walk(f)
	}
	for _, t := range reached {
		if t == q.Type || t == "" || s.spec.Resource(t) == nil {
			continue
		}
		if _, err := decide(t, false); err != nil {
			return out, nil, err
		}
	}
	if orgsSet {
		out.Orgs = orgs
	}
	if len(mainDecision.Scope) > 0 {
		_, params, err := narrowing(mainDecision, q.Type, req.Params)
		if err != nil {
			return out, nil, err
		}
		nq, err := search.Parse(s.spec, req.Type, params, popts)
		if err != nil {
			return out, nil, err
		}
		nq.Types = q.Types
		q = nq
	}
	return out, q, nil
}
