package store

import (
	"context"
	"strconv"
	"time"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/search"
)

// Store is the storage contract. It is a deliberately wide interface (the
// exception to "small interfaces owned by the consumer", style.md §5) because
// every backend must pass one conformance suite, internal/store/storetest.
type Store interface {
	// View runs fn in a read-only transaction that sees one snapshot.
	View(ctx context.Context, fn func(tx ReadTx) error) error
	// Read is ReadTx.Read outside a transaction: the current version of
	// type/id, read by one statement, which is its own snapshot. It exists
	// because read by id is the hottest path (benchmarks.md W4) and a View
	// costs a BEGIN and a ROLLBACK around it.
	Read(ctx context.Context, typ, id string) (*Version, error)
	// Update runs fn in a read-write transaction. Updates run one at a time;
	// the transaction commits if fn returns nil and writes nothing otherwise
	// (a panic in fn rolls back and is re-raised in the caller). The error
	// returned is fn's, or an *outcome.Error from the store. fn must not call
	// Update (it would wait for itself) and must not keep tx after it
	// returns.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// Close releases the store's connections. Transactions still running
	// fail.
	Close() error
}

// ReadTx reads resources and jobs inside a transaction.
type ReadTx interface {
	// Read returns the current version of type/id. A deleted resource is an
	// error of kind Gone, an unknown one NotFound.
	Read(ctx context.Context, typ, id string) (*Version, error)
	// VRead returns one version of type/id. The tombstone of a delete is an
	// error of kind Gone; an unknown resource or version NotFound.
	VRead(ctx context.Context, typ, id, versionID string) (*Version, error)
	// History returns versions newest first, one page at a time.
	History(ctx context.Context, q HistoryQuery) (*HistoryPage, error)
	// FindByIdentifier returns the current, not deleted resources of type typ
	// with an identifier of that system and value (system "" matches any
	// system). It serves conditional create, update and delete by identifier
	// until general search exists.
	FindByIdentifier(ctx context.Context, typ, system, value string) ([]Ref, error)
	// Search runs a parsed search (https://hl7.org/fhir/R4/search.html)
	// over the search index and returns one page; see SearchOptions for
	// narrowing and paging. Paging guarantee (keyset pages over the sort
	// values and the internal key, bounded by the newest internal key at
	// the first page): a resource that matches from the first page to the
	// last and is not changed meanwhile appears exactly once; resources
	// created after the first page never appear; a resource deleted
	// meanwhile does not appear on later pages. A search the index cannot
	// answer (:in, :above/:below on tokens, near, _text) fails with kind
	// NotSupported.
	Search(ctx context.Context, q *search.Query, opts SearchOptions) (*SearchPage, error)
	// Job returns a job by id, NotFound if there is none.
	Job(ctx context.Context, id string) (*Job, error)

	// AuditEntries returns up to limit audit entries with Seq > after, in
	// Seq order (audit.go).
	AuditEntries(ctx context.Context, after int64, limit int) ([]AuditEntry, error)
	// AuditCheckpoints returns every audit checkpoint in Seq order.
	AuditCheckpoints(ctx context.Context) ([]AuditCheckpoint, error)
	// ReadAudit returns the audit entry whose AuditEvent has this id,
	// NotFound if there is none.
	ReadAudit(ctx context.Context, id string) (*AuditEntry, error)
	// SearchAudit returns audit entries newest first, one page at a time.
	SearchAudit(ctx context.Context, q AuditQuery) (*AuditPage, error)
}

// Tx reads and writes inside a read-write transaction.
type Tx interface {
	ReadTx
	// Create stores w.Resource as version 1 of a new resource with a new
	// random id (any id in the resource is replaced).
	Create(ctx context.Context, w Write) (*Version, error)
	// Put stores w.Resource as the next version of the resource its type and
	// id name, creating it (version 1) when there is none — FHIR's update and
	// create-on-update. A deleted resource is revived with the next version.
	Put(ctx context.Context, w Write) (*Version, error)
	// Delete stores a tombstone as the next version of type/id. Deleting a
	// deleted resource writes nothing and returns the existing tombstone.
	// ifMatch, when not "", is the versionId the current version must have.
	Delete(ctx context.Context, typ, id, ifMatch string) (*Version, error)

	// EnqueueJob adds a job to the queue; it becomes visible when the
	// transaction commits.
	EnqueueJob(ctx context.Context, spec JobSpec) (*Job, error)
	// LeaseJob takes the oldest runnable job of one of kinds (all kinds when
	// empty) for owner until now+leaseFor, or returns nil, nil when none is
	// runnable. A job is runnable when queued and due, or running with an
	// expired lease (its worker died).
	LeaseJob(ctx context.Context, owner string, kinds []string, leaseFor time.Duration) (*Job, error)
	// HeartbeatJob extends owner's lease and records progress. It fails with
	// kind Conflict when owner no longer holds the lease.
	HeartbeatJob(ctx context.Context, id, owner string, leaseFor time.Duration, p Progress) error
	// CompleteJob marks owner's job succeeded with a result.
	CompleteJob(ctx context.Context, id, owner string, result []byte) error
	// FailJob records a failed attempt. The job is queued again after
	// retryAfter, or marked failed for good once it has used its attempts or
	// when retryAfter is negative.
	FailJob(ctx context.Context, id, owner, reason string, retryAfter time.Duration) error

	// AuditHead returns the last audit entry's position and link (0 and
	// zeros when the chain is empty). Updates run one at a time, so the
	// head read here stays the head until the transaction ends.
	AuditHead(ctx context.Context) (seq int64, link [32]byte, err error)
	// AppendAudit stores entries, which must continue the head in order
	// (head + 1, head + 2, …; the store refuses anything else with kind
	// Conflict). They commit with the transaction: a write's audit entry
	// commits with the write or not at all.
	AppendAudit(ctx context.Context, entries ...AuditEntry) error
	// AppendAuditCheckpoint stores a signed checkpoint.
	AppendAuditCheckpoint(ctx context.Context, c AuditCheckpoint) error
}

// Write is the input of Create and Put.
type Write struct {
	// Resource is the validated resource. Its resourceType names the type;
	// for Put its id names the resource. The store sets id, meta.versionId
	// and meta.lastUpdated in a copy and stores that copy's JSON. Resource
	// itself is not modified.
	Resource *fhir.Value
	// Org is the id of the Organization that owns the resource: required
	// for every type but the deployment-wide directory types, for which it
	// must be empty (see DirectoryType).
	Org string
	// IfMatch, for Put, is the versionId the current version must have
	// ("" means no precondition). A mismatch, or a precondition on a
	// resource that does not exist, is an error of kind Precondition.
	IfMatch string
}

// Method is the interaction that wrote a version, as
// Bundle.entry.request.method says it in a history Bundle
// (https://hl7.org/fhir/R4/http.html#history): replaying a history with these
// methods rebuilds the same resources with the same ids.
type Method uint8

// Methods of versions.
const (
	MethodPost   Method = iota + 1 // create: POST [type], the server chose the id
	MethodPut                      // update: PUT [type]/[id], which created the resource when its version is 1
	MethodDelete                   // DELETE: a tombstone
)

func (m Method) String() string {
	switch m {
	case MethodPost:
		return "POST"
	case MethodPut:
		return "PUT"
	case MethodDelete:
		return "DELETE"
	}
	return "method(" + strconv.Itoa(int(m)) + ")"
}

// Version is one stored version of a resource.
type Version struct {
	Type        string
	ID          string
	VersionID   string    // "1", "2", … per resource
	LastUpdated time.Time // UTC, microsecond precision
	Seq         int64     // commit sequence number of the transaction that wrote it
	Org         string    // owning organization; "" for directory types
	Method      Method
	// Body is the stored JSON, with id, meta.versionId and meta.lastUpdated
	// already set: serve it as it is. Nil for a delete.
	Body []byte
}

// Deleted reports whether v is a tombstone.
func (v *Version) Deleted() bool { return v.Method == MethodDelete }

// Ref names a resource.
type Ref struct {
	Type string
	ID   string
}

// HistoryQuery selects versions for History. Type and ID empty: the whole
// system; Type only: one type; both: one resource.
type HistoryQuery struct {
	Type string
	ID   string
	// Since, when not zero, keeps versions whose lastUpdated is at or after
	// it (FHIR _since).
	Since time.Time
	// AtFrom, when not zero, keeps the versions that were current at some
	// moment of [AtFrom, AtTo) — FHIR _at: the version current at AtFrom of
	// each resource, and those written after AtFrom and before AtTo. AtTo
	// zero (or not after AtFrom) means the instant AtFrom only.
	AtFrom, AtTo time.Time
	// Count bounds the page size; 0 means DefaultHistoryCount, and more than
	// MaxHistoryCount is clamped to it.
	Count int
	// Cursor continues a previous page (HistoryPage.Next). Pages are stable:
	// later writes never shift earlier pages, because they get larger
	// sequence numbers.
	Cursor string
	// Types, when not nil, keeps only versions of these types (an empty,
	// non-nil slice keeps nothing). Authorization narrows system history
	// to the types the caller may read with it.
	Types []string
	// Orgs, when not nil, keeps only versions owned by one of these
	// organizations, and versions of the directory types, which no
	// organization owns (DirectoryType; they are stored with Org ""). An
	// empty, non-nil slice keeps the directory types alone. This is the
	// tenancy narrowing of history (docs/decisions/0004-tenancy.md): the
	// query runs narrowed, so pages and next links are those of the
	// permitted subset.
	Orgs []string
}

// Page sizes of History.
const (
	DefaultHistoryCount = 50
	MaxHistoryCount     = 1000
)

// HistoryPage is one page of History.
type HistoryPage struct {
	Versions []*Version
	// Next is the cursor of the following page, "" on the last page.
	Next string
}

// TimeFormat is how the store writes meta.lastUpdated: an instant in UTC with
// microseconds, the precision the store keeps.
const TimeFormat = "2006-01-02T15:04:05.000000Z07:00"
