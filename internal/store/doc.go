// Package store is Continuum's storage contract: versioned FHIR resources,
// their history, and a durable job queue, behind explicit transactions.
//
// # Transactions
//
// Every access happens inside a callback:
//
//	err := st.Update(ctx, func(tx store.Tx) error { … })
//	err := st.View(ctx, func(tx store.ReadTx) error { … })
//
// Update commits when the callback returns nil and rolls back everything the
// callback wrote when it returns an error or panics, so a FHIR transaction
// Bundle is all or nothing by construction. Transactions are never hidden in a
// context.Context: a function that needs one says so in its signature.
//
// Update transactions run one at a time, on every backend. SQLite allows one
// writer anyway; on PostgreSQL the first statement of an Update locks the one
// row of the store clock, which is held until commit. That is a deliberate
// trade: inside an Update a read sees every earlier commit and nothing that can
// change underneath it, so check-then-write logic (conditional create,
// If-Match, "N identical conditional creates yield one resource") is correct
// without retries or isolation-level subtleties, and the commit sequence below
// is the commit order. The cost is that writes do not run in parallel, which is
// why callers validate and parse before they call Update and keep callbacks
// short, and why throughput comes from putting many writes in one transaction
// (batch ingest) and from group commit: an implementation may run the
// callbacks of concurrent Updates, one after the other, inside one database
// transaction with one fsync, each in a savepoint so that a failing callback
// is rolled back alone (sqlstore does).
//
// View reads one snapshot: every read inside the callback sees the database as
// of one instant, whatever commits meanwhile (SQLite WAL read transaction;
// PostgreSQL REPEATABLE READ READ ONLY). Paging a history or a search inside one
// View is therefore stable. Store.Read reads one resource by id without a
// transaction: a single statement is its own snapshot, and read by id is the
// hottest path.
//
// # Versions and the commit sequence
//
// Every write stores a new version; nothing is overwritten. The server assigns
// meta.versionId (1, 2, 3, … per resource) and meta.lastUpdated, and writes
// them into the stored JSON once, at write time, together with the id. Reads,
// vreads and history then return the stored JSON exactly as it was written,
// with no decode and re-encode (architecture.md §3); an implementation may
// compress it at rest (sqlstore does) as long as it returns the same bytes.
//
// Each Update that writes gets a number from a monotonically increasing commit
// sequence (Version.Seq), taken under the clock lock, so sequence order is
// commit order even when concurrent transactions or several nodes write.
// History is ordered by it, newest first, and _since, paging and export
// transactionTime are defined on it. Wall-clock time is not used for ordering:
// transactions commit out of timestamp order and node clocks disagree.
// lastUpdated is still kept monotonic with the sequence (the clock never goes
// backwards: a write is stamped max(now, previous stamp)), so "versions since
// instant X" is a contiguous suffix of the sequence.
//
// Deletes are logical: a delete stores a tombstone version without a body.
// Reading a deleted resource answers an error of kind outcome.Gone; history
// shows the delete; a later update revives the resource with the next version.
//
// # Identity and tenancy
//
// Server-assigned ids (NewID) are 128 random bits from crypto/rand, written as
// 26 lowercase base32 characters: valid FHIR ids that reveal nothing about
// when or where they were created, because they appear in URLs and logs.
// Inside the database, rows are joined on sequential int64 keys for locality;
// those never leave the store.
//
// Every version records the organization that owns it (Version.Org), the
// tenancy key of docs/decisions/0004-tenancy.md. Directory types shared by the
// whole deployment (DirectoryType) are owned by no organization. The store
// records ownership; deciding who may see what is the authorization layer's
// job, which narrows queries by organization before they run.
//
// # Search
//
// ReadTx.Search runs a parsed search (package search) over a search index
// that the implementation keeps in step with the current versions, in the
// transaction of every write: counts and matches never read the resources.
// SearchOptions narrow every part of a search — matches, chain and _has
// links, includes, counts — to organizations and to a compartment before it
// runs; authorization passes its decision there. Pages are keyset pages with
// a guarantee stated on ReadTx.Search (docs/decisions/0006-search-index.md).
//
// # Jobs
//
// The job queue lives in the same database (Tx.EnqueueJob and friends) so a
// job can be enqueued atomically with the write that causes it, survives
// restarts, and is shared by all nodes. Leases expire, so a job whose worker
// died is picked up again; failures are retried with the backoff the caller
// chooses, up to a maximum number of attempts.
//
// # Errors
//
// Every method returns *outcome.Error: NotFound for an unknown resource or
// version, Gone for a deleted one, Precondition for a failed If-Match or an
// ambiguous conditional match, Invalid for a write the contract rejects, and
// Internal for everything else. Driver errors (including SQLite's "database is
// locked") never reach callers as such.
//
// The one implementation is internal/store/sqlstore (SQLite and PostgreSQL);
// internal/store/storetest is the conformance suite every backend passes.
package store
