// Package synth generates synthetic, longitudinal FHIR R4 patient populations
// for tests, demos and benchmarks: organizations of several kinds with their
// practitioners, roles and locations, and for every patient years of
// encounters with the conditions, observations, medications, immunizations,
// procedures, care plans, notes and referrals a real record accumulates.
//
// Generation is pure and deterministic: the output depends only on Options
// (the seed, the counts and the reference date). Every random choice comes
// from a math/rand/v2 PCG source seeded from the seed and the patient's
// number (never from global state or the clock), so the same options give the
// same bytes, and patient n's record does not depend on how many patients
// are generated or on how many workers generate them. Ids are drawn from the
// same sources: random-looking, derived from the seed, and free of time.
//
// The resources follow the base specification and the US Core profiles they
// claim (https://hl7.org/fhir/us/core/STU3.1.1/); codes are real SNOMED CT,
// LOINC, RxNorm, CVX and UCUM codes. What is modelled and what is not is in
// docs/synth.md.
package synth
