// Package fhir holds Continuum's representation of FHIR R4 content: the
// lossless JSON tree (Value) used wherever a resource must be navigated, and
// helpers for resource envelopes, references and Bundles.
//
// Stored and transmitted resources stay raw bytes; the tree is built only
// where an algorithm needs it (see docs/decisions/0002-resource-representation.md).
package fhir
