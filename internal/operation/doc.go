// Package operation implements FHIR operations (https://hl7.org/fhir/R4/operations.html),
// one file per operation, independent of the transport: REST and the CLI
// call the same code.
package operation
