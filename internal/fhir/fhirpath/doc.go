// Package fhirpath is Continuum's FHIRPath engine: FHIRPath N1
// (https://hl7.org/fhirpath/N1/, the normative release FHIR R4 uses) with the
// FHIR R4 additions (https://hl7.org/fhir/R4/fhirpath.html). Search-parameter
// extraction, invariant validation and, later, FHIRPath Patch and
// subscription filters all go through it.
//
// # Use
//
// Compile once, evaluate many:
//
//	expr, err := fhirpath.Compile("Patient.name.where(use = 'official').given")
//	env := &fhirpath.Env{Spec: spec.R4()}
//	res, err := expr.Evaluate(env, fhirpath.Collection{fhirpath.ResourceNode(env.Spec, &resource)})
//	for _, it := range res {
//		if n, ok := it.(*fhirpath.Node); ok {
//			fmt.Println(n.Location(), n.TypeName(), n.Value()) // Patient.name[0].given[1] string …
//		}
//	}
//
// A *Cache (NewCache) holds compiled expressions by source text for callers
// with a fixed set of expressions (SearchParameters, invariants). An
// *Expression and an *Env are read-only during evaluation, so both can be
// shared between goroutines; the package has no mutable global state.
// AsBoolean reads a result with the singleton rules invariants need.
//
// # Representation
//
// The engine walks the lossless JSON tree of package fhir (fhir.Value)
// directly: there is no conversion into an object model, so evaluating an
// expression costs only the nodes it touches. A model value is a *Node: the
// JSON value, its FHIR type, its element definition from package spec, and
// its parent and index (from which Location is built on demand). Values the
// expression computes are System values (Boolean, Integer, Decimal, String,
// DateTime for Date/DateTime/Time, Quantity). A collection is a plain slice.
//
// # Typing
//
// Navigation is typed by the R4 definitions (spec.Spec): a child's type comes
// from its element definition, so Patient.gender is a code, not a string, and
// a choice element is reached by its stem: Observation.value selects
// valueQuantity and types it Quantity (the JSON name valueQuantity itself is
// an error, https://hl7.org/fhir/R4/fhirpath.html#polymorphism). Resources in
// contained, Bundle.entry.resource and Parameters take their type from
// resourceType. A primitive's "_name" companion supplies its id and
// extensions, and a primitive with only extensions is a node without a value
// (hasValue() is false). Without a Spec, types are inferred from JSON
// (boolean, integer, decimal, string) and the rest is untyped.
//
// When a model primitive meets a System value (comparison, arithmetic, a
// function argument) it is converted by its FHIR type: date → System.Date,
// dateTime and instant → System.DateTime, integer and its subtypes →
// System.Integer, decimal → System.Decimal, the string family → System.String,
// and a Quantity (or Age, Duration …) element → System.Quantity.
//
// is(), as() and ofType() follow type inheritance, as N1 defines them ("of
// the given type or a subclass thereof"): code is a string, Age is a
// Quantity, Patient is a Resource. Unqualified type names resolve in
// FHIR first and System second: "string" is FHIR.string, "Boolean" is
// System.Boolean, so Patient.active.is(Boolean) is false.
//
// # Decimals and quantities
//
// Decimals are exact (github.com/cockroachdb/apd/v3) and keep the digits they
// were written with: 1.50 prints as 1.50 and 1.50 * 2 is 3.00. Equality is
// numeric (1.10 = 1.1); equivalence (~) rounds both to the precision of the
// less precise operand (1.2 / 1.8 ~ 0.67). Division and the transcendental
// functions round to 34 significant digits; an exact quotient drops trailing
// zeros (1 / 2 is 0.5). Integers are 32-bit as the spec says; overflow is an
// error.
//
// Quantities compare and add through a UCUM subset (mass, length, volume,
// time, pressure, amount of substance, common arbitrary units, metric
// prefixes, unit algebra such as mg/dL or cm.m): 4.0 'g' = 4000 'mg',
// 2.0 'cm' * 2.0 'm' = 0.040 'm2'. Calendar durations (4 days) equal their
// UCUM counterparts from week down, while year and month compare only with
// each other, never with 'a' or 'mo' (https://hl7.org/fhirpath/N1/#time-valued-quantities).
// Quantities in units that cannot be converted are incomparable: = gives
// empty, < gives empty.
//
// # Dates and precision
//
// A Date, DateTime or Time keeps the precision it was written with (year to
// millisecond) and its time zone, if any. Comparison follows
// https://hl7.org/fhirpath/N1/#comparison: values are normalised to UTC when
// both have a zone; components are compared from the year down; when they are
// equal as far as both go but one goes further, the answer is unknown
// (empty): @2018-03 < @2018-03-01 is empty, @2012-04-15 = @2012-04-15T10:00:00
// is empty. Seconds and milliseconds are one precision, so @T10:30:00 =
// @T10:30:00.0. A zone on one side only, at hour precision or finer, is also
// unknown. Equivalence (~) answers false instead of empty.
//
// Date arithmetic takes calendar durations: + 1 month clamps to the month's
// end (Jan 31 + 1 month = Feb 28 or 29), decimal amounts are truncated to
// whole units, units finer than the value's precision are converted and
// truncated (a Date + 25 hours adds one day). UCUM 'a' and 'mo' are definite
// durations, not calendar ones, so adding them to a date is an error.
//
// # Three-valued logic and errors
//
// and, or, xor, implies and not() follow the truth tables of
// https://hl7.org/fhirpath/N1/#boolean-logic, with {} as unknown; and, or and
// implies skip their right operand when the left one decides. Singleton
// evaluation of collections (https://hl7.org/fhirpath/N1/#singleton-evaluation-of-collections)
// applies wherever one value is expected: more than one item is an error, one
// non-Boolean item counts as true in a Boolean context. Errors are
// *SyntaxError (from Compile) or *EvalError (from Evaluate), both with the
// line and column of the failing part of the expression.
//
// # Budget
//
// Every node evaluated and every item iterated costs a step; an evaluation
// stops with an error wrapping ErrBudget after Env.MaxSteps steps
// (DefaultMaxSteps) or after Env.Timeout, so a hostile or runaway expression
// (repeat() over a deep tree, quadratic distinct()) cannot hold a request.
// Regular expressions are RE2, so matches() cannot backtrack exponentially.
//
// # What is not supported, and why
//
//   - Evaluation is dynamically typed: a misspelt name is empty at run time,
//     not an error. Expression.Check is the static check ("strict mode" of
//     the official suite) for callers who want mistakes reported before any
//     data is read; it refuses a multi-type union for either type, so check
//     such expressions branch by branch.
//   - as on more than one item is an error, as N1 asks, unless
//     Env.AsFilters is set: R4's own SearchParameters and the dom-3
//     invariant depend on it filtering, so the indexer and validator set it.
//   - subsumes(), subsumedBy(): need a terminology server.
//     elementDefinition(), slice(), checkModifiers(): need profiles, which
//     Continuum does not model yet. They compile and fail when called, with a
//     message saying so.
//   - memberOf() knows the value sets behind R4's required bindings (expanded
//     in package spec); for any other value set it answers empty (unknown).
//   - conformsTo() decides the base StructureDefinitions itself and asks
//     Env.ConformsTo for anything else.
//   - htmlChecks() is a pattern check for active content (script, event
//     handlers, javascript: URLs) and a div root, not a full XHTML validator.
//   - UCUM is a subset: units outside it compare only with the same unit
//     code. Celsius and Fahrenheit (offset units) do not convert.
//   - resolve() finds contained resources, entries of the enclosing Bundle,
//     and otherwise asks Env.Resolver; it does no network access itself.
//   - hasExtension(url) is accepted although it is not in the specification,
//     because one R4 SearchParameter uses it.
package fhirpath
