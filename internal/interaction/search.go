package interaction

import (
	"bytes"
	"context"
	"net/url"
	"strconv"

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
	// Orgs and Narrow are the narrowing the caller's authorization
	// imposes (store.SearchOptions.Orgs and .Compartment); nil: none.
	Orgs   []string
	Narrow *search.CompartmentRef
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
func (s *Service) Search(ctx context.Context, req SearchRequest) (*SearchResult, error) {
	if req.Type != "" {
		if err := s.checkType(req.Type); err != nil {
			return nil, err
		}
	}
	var out *SearchResult
	err := s.st.View(ctx, func(tx store.ReadTx) (err error) {
		out, err = s.searchTx(ctx, tx, req)
		return err
	})
	return out, err
}

// searchTx is Search inside a transaction (also a Bundle's search entries).
func (s *Service) searchTx(ctx context.Context, tx store.ReadTx, req SearchRequest) (*SearchResult, error) {
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
	out := &SearchResult{Query: q}
	out.Page, err = tx.Search(ctx, q, store.SearchOptions{
		Orgs: req.Orgs, Compartment: req.Narrow, BaseURL: req.BaseURL, Cursor: req.Params.Get(CursorParam)})
	if err != nil {
		return nil, err
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
