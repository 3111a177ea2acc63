package store

import "github.com/continuum-ehr/continuum/internal/search"

// SearchOptions narrow and continue a search (ReadTx.Search). The narrowing
// is applied inside the query, on the index rows themselves, never to
// results afterwards (architecture.md §4): counts, pages, chains, _has and
// includes all see only what the options allow.
type SearchOptions struct {
	// Orgs, when not nil, limits every resource the search touches —
	// matches, chain and _has links, includes, counts — to those owned by
	// one of these organizations or of a deployment-wide directory type
	// (DirectoryType). Nil means not narrowed; an empty, non-nil slice
	// allows directory types only.
	Orgs []string
	// Compartment, when set, limits the same way to the resources in the
	// compartment of Type/ID (R4 CompartmentDefinitions: for a Patient
	// compartment, the resources that refer to the patient through the
	// definition's parameters, and the patient itself). Types that are
	// not in the compartment match nothing.
	Compartment *search.CompartmentRef
	// BaseURL is the server's base ("https://host/fhir"): an absolute
	// reference under it in a search value also matches relative
	// references to the same Type/id.
	BaseURL string
	// Cursor continues a search (SearchPage.Next or Prev); "" is the
	// first page. A cursor is only valid for the same Query.
	Cursor string
}

// SearchPage is one page of a search.
type SearchPage struct {
	// Matches are the current versions of the matching resources of this
	// page, in the requested order.
	Matches []*Version
	// Included are the resources _include and _revinclude added, each
	// once and none of them a match.
	Included []*Version
	// Total is the number of matches of the whole search, or -1 when it
	// was not counted (_total=none, or a page after the first).
	Total int
	// Next and Prev are cursors of the following and preceding pages, ""
	// when there is none.
	Next, Prev string
}
