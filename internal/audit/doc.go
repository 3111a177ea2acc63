// Package audit builds Continuum's audit trail: IHE BALP-shaped AuditEvents
// (https://profiles.ihe.net/ITI/BALP/), a hash chain over their digests, and
// signed checkpoints, with the checks that prove the trail intact; and the
// Trail that appends them to the store (trail.go: in a write's transaction,
// or through a group commit of at most one second for everything else) and
// VerifyStore, which `continuum audit verify` runs. interaction emits the
// events (architecture.md §4); docs/security.md states the guarantees.
//
// # Events
//
// Event turns a Record (who, what, when, where, outcome) into an AuditEvent
// following BALP's RESTful patterns: type "rest" with the FHIR interaction as
// subtype, the action letter (C R U D E), agents for the user (information
// recipient, requestor), the client application and this server, named by the
// direction data flows (DICOM Source and Destination Role IDs), this server
// as source, and entities for the patient (BALP's Patient* profiles are
// claimed when there is exactly one), the resources, the query (base64 of the
// raw request, plus the cleaned form the server ran) and the X-Request-Id.
// Record.JSON is deterministic: the same Record always gives the same bytes.
//
// # The chain
//
// Each stored entry is (seq, record bytes, digest, link):
//
//	digest = SHA-256(record bytes, exactly as first written)
//	link   = SHA-256(previous link || digest)      previous link of seq 1: 32 zero bytes
//
// The link chains digests, not records, so a retention policy can purge the
// PHI in old records (drop the bytes, keep the digest) and the chain still
// verifies. Verify names the first broken record: edited bytes break the
// digest, an edited digest or link or a reordered, removed or inserted
// record breaks the link or the position.
//
// A chain alone does not stop someone who can write the database from
// rewriting every record and recomputing every link. Checkpoints do: an
// ed25519 signature over (seq, link) by a key held outside the database
// (a file named in configuration, never a table). VerifyCheckpoints checks
// the signatures, that the chain still reaches each signed link, and that it
// has not been cut short before the last checkpoint.
//
// # What storage must provide
//
//   - An append-only table (seq, record, digest, link) with seq 1, 2, 3, …
//     and no gaps; appends serialized (each link depends on the previous one:
//     take the head under the store's writer lock, Resume, Append).
//   - Write audits in the same transaction as the write; read audits
//     durable within a short, documented group-commit window.
//   - No UPDATE of an entry except purging: setting record to NULL, never
//     digest or link; no DELETE.
//   - A checkpoints table (seq, link, key id, signature), appended
//     periodically (every N entries or T seconds) with the signing key from
//     configuration, and both tables read in seq order for
//     `continuum audit verify`.
//   - The AuditEvents kept apart from clinical data, searchable by
//     administrators, left out of $export and $everything unless asked.
package audit
