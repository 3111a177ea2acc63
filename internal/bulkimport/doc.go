// Package bulkimport loads FHIR data from files into the store through
// interaction, the one write path (validation, tenancy, and the
// authorization and audit that come with the caller's principal): Bulk Data
// NDJSON files (https://hl7.org/fhir/uv/bulkdata/STU2/export.html#file-format)
// and Bundles of type transaction, batch or collection
// (https://hl7.org/fhir/R4/bundle.html), plain or compressed with gzip or
// bzip2, named one by one or found in directories.
//
// Loading is idempotent (docs/decisions/0008-import-idempotency.md):
//
//   - A resource from an NDJSON file or a collection Bundle is an update
//     with its id (PUT), so a second load finds it; a resource without an id
//     gets one derived from its content. Content equal to the current
//     version writes nothing.
//   - A transaction or batch Bundle, whose POST entries get ids from the
//     server, is recorded as a Provenance, id "import-" and the start of the
//     SHA-256 of the file's content, that names the file and targets every
//     resource it produced. For a transaction it is written in the same
//     transaction; a file whose Provenance exists is skipped.
//
// NDJSON is written in chunks of several resources per store transaction by
// a few workers (validation runs in parallel; the store's single writer and
// group commit do the rest). A resource that fails is reported with its file
// and line and does not stop the others.
package bulkimport
