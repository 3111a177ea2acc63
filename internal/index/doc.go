// Package index extracts the search-index rows of a resource: for every
// SearchParameter of the resource's type (R4's ~1,400 official ones, the
// common _id, _lastUpdated, _tag, _profile, _security and _source, and
// custom ones added with AddParam), the typed values a search compares
// against (https://hl7.org/fhir/R4/search.html).
//
// # Where it sits
//
// The store calls Extract at write time, on the version it is about to
// store (after meta.lastUpdated is set and transaction references are
// rewritten), and writes the rows beside it in one table per parameter
// type. Searches never read resources to match: they look rows up, and
// counts come from the rows alone (architecture.md §3). Package search
// parses query values; the hashes, NormalizeString, DateRange,
// NumberRange and CanonicalUnit are the functions both sides must share,
// and this package exports those the query side needs to compute keys.
//
// # Evaluation
//
// Expressions are the SearchParameters' own FHIRPath, compiled once per
// resource type by New, and evaluated by package fhirpath with AsFilters
// (R4 writes "(Observation.value as Quantity)" over repeating elements,
// which N1 would reject). Two things keep it cheap:
//
//   - specialize drops the branches of shared expressions that name other
//     types ("AllergyIntolerance.code | Condition.code | …" becomes
//     "Condition.code" for a Condition);
//   - pathHeads records the first element each branch selects, so an
//     expression whose elements are all absent from the resource is not
//     evaluated at all (most of an Observation's ~45 parameters). This is
//     only done for expressions that are empty on empty input; the
//     official-examples test compares rows with and without the shortcut.
//
// resolve() in expressions such as subject.where(resolve() is Patient) is
// answered from the reference itself: "Patient/123" resolves to a stub
// Patient, with no database access. A reference whose type cannot be read
// (urn:uuid, identifier only) resolves to nothing.
//
// # Rows
//
// Each parameter type has its own row shape, designed for an SQL table:
//
//   - Token: system, code, text, identifier type; hashes for code,
//     system|code (and |code with System ""), system| and :of-type —
//     Blaze's and HAPI's token variants, each one equality lookup.
//   - String: the folded form (lower case, accents removed, shared with
//     package search) for prefix and :contains, the exact text and its
//     hash for :exact. HumanName and Address give one row per part.
//   - Date: [Low, High) in UTC. Every precision is a range (2020 is the
//     whole year), a date without a zone is read in Options.Zone (the
//     server's --timezone), a Period's open ends are MinTime and MaxTime,
//     and Timing gives its events and boundsPeriod.
//   - Number: the value as written and its implicit precision range.
//   - Quantity: as written plus, for the UCUM units CanonicalUnit knows,
//     a canonical unit and range (5.4 mg and 0.0054 g meet); Range values
//     are indexed as their [low, high].
//   - Reference: type/id/version for literal references, the URL for
//     absolute and canonical ones (|version split off), the identifier
//     for :identifier, with a hash for each.
//   - URI: the value and its hash; :above and :below compare prefixes.
//   - Composite: one row per combination of component values taken
//     within the same element (an Observation.component's code with its
//     own value, never with a sibling's).
//
// Values of a type a parameter cannot index (SampledData for a quantity,
// an Age onset for a date) give no row, as on other servers.
//
// # Stability
//
// Rows are stored, so extraction is versioned: ExtractorVersion changes
// whenever any resource's rows would change, and the store reindexes.
// Hashes are FNV-1a 64 over a kind tag, the parameter code and the value
// parts — fixed by definition, identical in every process — and the
// golden files render them, so a change shows up as a diff in review.
// They leave out the resource type: the store keeps it in a column beside
// the hash (one index on (hash, type) serves a typed search, and a
// system-wide _tag search uses the same key for every type).
//
// Not indexed here: special parameters (Location near), _text and
// _content (full text belongs to the store's FTS), _list, _has and chains
// (query-time joins over these rows).
package index
