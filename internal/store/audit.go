package store

import "time"

// The audit trail is kept beside the clinical data but apart from it: its
// own append-only tables, never among resources, never in history, search
// or export of clinical types. Package audit computes what goes in (the
// AuditEvent bytes, their digest and the chain link); the store keeps it and
// serializes appends with every other write. See internal/audit/doc.go for
// the chain and docs/storage.md for the tables.

// AuditEntry is one position of the audit chain.
type AuditEntry struct {
	Seq    int64    // 1, 2, 3, … without gaps
	ID     string   // the AuditEvent's id
	Record []byte   // the AuditEvent JSON exactly as written; nil when purged
	Digest [32]byte // SHA-256 of Record
	Link   [32]byte // SHA-256(previous Link || Digest)
	// Recorded is AuditEvent.recorded, for date searches.
	Recorded time.Time
	// Refs are the searchable facts of the event (written with it, never
	// part of the hashed record): AuditRefPatient "Patient/1",
	// AuditRefEntity "Observation/2", AuditRefAgent "user-id" or
	// "Practitioner/3" or a client id, AuditRefAction "read".
	Refs []AuditRef
}

// AuditRef is one searchable fact of an audit entry.
type AuditRef struct {
	Name  string
	Value string
}

// Names of AuditRefs: the search parameters of AuditEvent they serve
// (https://hl7.org/fhir/R4/auditevent.html#search).
const (
	AuditRefPatient = "patient"
	AuditRefEntity  = "entity"
	AuditRefAgent   = "agent"
	AuditRefAction  = "subtype"
	AuditRefPurpose = "purpose" // break-the-glass events: "BTG"
	AuditRefOrg     = "org"     // an organization owning a resource the event is about
)

// AuditCheckpoint is a signature over the chain's link at Seq by a key held
// outside the database.
type AuditCheckpoint struct {
	Seq       int64
	Link      [32]byte
	KeyID     string
	Signature []byte
	Created   time.Time
}

// AuditQuery selects audit entries: every Ref must match (AND), and
// Recorded must lie in [From, To) when those are set.
type AuditQuery struct {
	Refs []AuditRef
	// AnyOf, when not nil, also requires one of these refs (an empty,
	// non-nil list matches nothing): the organization narrowing of an
	// administrator's audit search.
	AnyOf    []AuditRef
	From, To time.Time
	// Count bounds the page size (DefaultHistoryCount when 0, clamped to
	// MaxHistoryCount).
	Count int
	// Before continues a previous page: entries with Seq < Before.
	Before int64
}

// AuditPage is one page of SearchAudit, newest first.
type AuditPage struct {
	Entries []AuditEntry
	// Next is the Before of the following page, 0 on the last page.
	Next int64
}
