// Package search parses a FHIR search request into a typed, validated
// Query (https://hl7.org/fhir/R4/search.html). It is pure: no I/O, no HTTP,
// no storage. The REST layer hands it the query parameters (from the URL or
// a POST _search form body), the resource type and any compartment; the
// store's planner turns the Query into SQL over the index tables that
// internal/index fills at write time.
//
// # Why parse separately
//
// Search is where FHIR servers are subtly wrong. Keeping the grammar in one
// pure package means every rule of the spec is decided once, tested by
// golden scripts (testdata/parse) and fuzzed (FuzzParse), before anything
// touches SQL. The planner never sees a string it has to interpret: values
// arrive typed and validated, so injection through a parameter has nowhere
// to go, and both SQL dialects share one reading of the request.
//
// # Shape of a Query
//
// A Query is an AND of Filters (each occurrence of a parameter; repeating a
// parameter ANDs) plus result parameters. A Filter is one of:
//
//   - a value test: Param, Modifier and Values, ORed (the comma-separated
//     alternatives). Each Value has a concrete type per parameter type:
//     TokenValue {System, Code, HasSystem}, DateValue {Prefix, Low, High,
//     Precision}, NumberValue and QuantityValue with exact apd decimals and
//     their implied range, StringValue with NormalizeString's form,
//     ReferenceValue {Type, ID, URL, Version}, URIValue, CompositeValue;
//   - :missing, true or false;
//   - a chain: a reference Param and, per target type, the Filter the
//     referenced resource must match (ORed over the types);
//   - a reverse chain (_has): the type, its reference parameter and the
//     Filter it must match.
//
// Chains and _has nest as filters inside filters, so a planner handles them
// with one recursive function: a chain link is a semi-join on the
// reference index, _has the same join in the other direction.
//
// Each Filter carries the parameter's spec.SearchParam, so the planner knows
// the type, the targets and, through the registry, the index rows it wrote.
//
// # Decisions
//
// Dates become half-open instant ranges [Low, High) at the precision
// written: ge2020 is "the range of the value starts at or after
// 2020-01-01T00:00" in the server's zone (Options.Location) unless the value
// has an offset. The index stores stored dates as ranges too, and the
// prefixes become range comparisons
// (https://hl7.org/fhir/R4/search.html#prefix).
//
// Numbers keep their written precision, as apd decimals, with the implied
// range half a unit of the last digit either side: eq100 is [99.5, 100.5).
//
// Strings compare in NormalizeString's form (lower case, accents folded)
// for the default prefix match and :contains; :exact uses the text as
// written. The index must store the same form, which is why the function is
// exported from here (index imports search).
//
// Chains are checked link by link against the definitions: each link must
// be a reference parameter, a :Type modifier must be one of its targets,
// and an untyped link is expanded over every target type that defines the
// next parameter. When the expansions disagree on the parameter's type the
// chain is rejected, as R4 advises; a Type modifier resolves it.
//
// Unknown and unsupported parameters follow the Prefer header: under
// handling=strict they are errors; under the default handling=lenient they
// are dropped and reported in Query.Warnings, which the REST layer returns
// as an OperationOutcome entry and which the self link (Query.String)
// reflects by omitting them. Malformed values and modifiers that do not
// apply to a parameter's type are errors under either handling: silently
// widening a search would return records the user did not ask for. All
// problems of a request are reported at once, each naming its parameter and
// value.
//
// Depth and width are bounded (Options.MaxDepth, MaxValues): R4 allows
// chains of any depth and value lists of any length, but each link is a
// join and an untyped link over a parameter with 145 targets multiplies
// the work.
//
// Query.String renders a canonical form: filters sorted, values re-escaped,
// result parameters in a fixed order. It is the self link and a cache key.
//
// The parameters come from a Registry built from the spec's
// SearchParameters (plus, later, custom ones). Search parameters without a
// FHIRPath expression cannot be indexed and are unsupported; the R4
// package's example SearchParameters are skipped.
package search
