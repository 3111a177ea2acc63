package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/continuum-ehr/continuum/internal/index"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

var _ store.Store = (*DB)(nil)

// Options configure a DB. The zero value is the production setting.
type Options struct {
	// Now is the store's clock; nil means time.Now.
	Now func() time.Time
	// MaxReadConns bounds the read pool (SQLite) or the whole pool
	// (PostgreSQL); 0 means 8.
	MaxReadConns int
	// Uncompressed stores new versions' JSON as it is instead of
	// compressed (docs/decisions/0009-compression.md); for measurements.
	// Both kinds of rows are always read.
	Uncompressed bool
	// Extractor computes the search-index rows written with every version
	// (the composition root passes index.New(spec)). Nil: nothing is
	// indexed and Search fails — for tools that only move versions.
	Extractor *index.Extractor
}

// DB is a store on SQLite or PostgreSQL.
type DB struct {
	d     dialect
	read  *sql.DB // Views
	write *sql.DB // Updates; on SQLite exactly one connection
	now   func() time.Time
	codec *codec // version bodies at rest
	// extractor fills the search index; nil: no index.
	extractor *index.Extractor

	// The hot statements prepared per pool, when the driver does not cache
	// them itself (SQLite); nil otherwise. Set by prepare before first use.
	readStmts, writeStmts *stmtCache

	// Group commit: Update sends its callback to the writer goroutine,
	// which runs waiting callbacks together in one database transaction.
	reqs      chan *writeReq
	stop      chan struct{} // closed by Close
	writerEnd chan struct{} // closed when the writer goroutine returns

	// Counters for Stats.
	updates, commits atomic.Int64

	closeOnce sync.Once
	closeErr  error
}

// Stats counts what the writer did since the store opened.
type Stats struct {
	Updates int64 // Update callbacks that committed
	Commits int64 // database commits (each one fsync on SQLite and PostgreSQL)
}

// Stats returns the counters; Updates/Commits is the group commit factor
// (benchmarks.md W5: transactions per fsync).
func (db *DB) Stats() Stats {
	return Stats{Updates: db.updates.Load(), Commits: db.commits.Load()}
}

// dialect holds what differs between the SQL engines; everything else is one
// SQL text.
type dialect struct {
	name string
	// dollar: placeholders are $1, $2, … (PostgreSQL) instead of ?.
	dollar bool
	// ddl rewrites the {{…}} tokens of migrations.
	ddl *strings.Replacer
	// retryBegin reports whether a failed BEGIN is worth retrying (SQLite
	// "database is locked" after busy_timeout, when another process writes).
	retryBegin func(error) bool
	// viewOptions are the options of a View's transaction.
	viewOptions *sql.TxOptions
	// updateOptions are the options of an Update's transaction.
	updateOptions *sql.TxOptions
	// cacheStmts: prepare each statement once per connection (SQLite);
	// pgx caches prepared statements itself.
	cacheStmts bool
}

func newDB(d dialect, read, write *sql.DB, opt Options) (*DB, error) {
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	c, err := newCodec(!opt.Uncompressed)
	if err != nil {
		return nil, outcome.Wrap(err, "cannot set up compression")
	}
	db := &DB{d: d, read: read, write: write, now: now, codec: c, extractor: opt.Extractor,
		reqs: make(chan *writeReq), stop: make(chan struct{}), writerEnd: make(chan struct{})}
	go db.writer()
	return db, nil
}

// prepare prepares the hot statements on both pools, when the dialect wants
// it. It runs after migration, before the store is used.
func (db *DB) prepare(ctx context.Context) error {
	if !db.d.cacheStmts {
		return nil
	}
	var err error
	if db.writeStmts, err = prepareAll(ctx, db.write, db.q, hotStatements()); err != nil {
		return outcome.Wrap(err, "cannot prepare statements")
	}
	if db.readStmts, err = prepareAll(ctx, db.read, db.q, hotStatements()); err != nil {
		return outcome.Wrap(err, "cannot prepare statements")
	}
	return nil
}

// Dialect names the engine: "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.d.name }

// Close stops the writer and closes the connection pools. Updates waiting
// for the writer fail.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		close(db.stop)
		<-db.writerEnd
		db.readStmts.close()
		db.writeStmts.close()
		err := db.write.Close()
		if db.read != db.write {
			err = errors.Join(err, db.read.Close())
		}
		db.closeErr = err
		db.codec.close()
	})
	return db.closeErr
}

// q rewrites the ? placeholders of s for the dialect. Statements are written
// once, with ?, because SQLite numbers $N parameters by first appearance, not
// by N.
func (db *DB) q(s string) string {
	if !db.d.dollar {
		if strings.HasPrefix(s, "INSERT INTO search_") {
			// SQLite: a multi-row INSERT that may abort midway keeps a
			// statement journal (a copy of every page it touches, to
			// undo its own earlier rows); OR FAIL keeps those rows on an
			// error instead, which costs nothing here because any error
			// fails the whole Update (or its savepoint) anyway.
			return "INSERT OR FAIL INTO " + s[len("INSERT INTO "):]
		}
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// micros returns t as the store keeps instants: Unix microseconds.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// View implements store.Store.
func (db *DB) View(ctx context.Context, fn func(store.ReadTx) error) (err error) {
	sqlTx, err := db.read.BeginTx(ctx, db.d.viewOptions)
	if err != nil {
		return outcome.Wrap(err, "cannot start a read transaction")
	}
	// A read transaction has nothing to commit; rolling back ends the
	// snapshot, also when fn panics.
	defer func() { _ = sqlTx.Rollback() }()
	return fn(&readTx{db: db, sql: sqlTx, stmts: db.readStmts})
}

// begin starts a write transaction that lives until committed or rolled
// back. On SQLite the writer waits busy_timeout for another process's write
// lock, and then again with backoff until wait ends, so "database is locked"
// never reaches a caller.
func (db *DB) begin(wait context.Context) (*sql.Tx, error) {
	backoff := 5 * time.Millisecond
	for {
		// The transaction must not end with the context of the caller that
		// happened to open it: group commit runs other callers in it.
		sqlTx, err := db.write.BeginTx(context.WithoutCancel(wait), db.d.updateOptions)
		if err == nil {
			return sqlTx, nil
		}
		if db.d.retryBegin == nil || !db.d.retryBegin(err) {
			return nil, outcome.Wrap(err, "cannot start a write transaction")
		}
		select {
		case <-wait.Done():
			return nil, outcome.Wrap(fmt.Errorf("%w (last: %v)", wait.Err(), err), "the store is busy")
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

// takeClock locks the clock row for the rest of the transaction and takes
// the transaction's commit sequence number and instant. Holding this lock is
// what makes Updates run one at a time on PostgreSQL and makes sequence order
// commit order; the instant never goes backwards, even if the wall clock
// does or another node's clock is behind.
func (t *tx) takeClock(ctx context.Context) error {
	now := micros(t.db.now())
	err := t.queryRow(ctx, sqlTakeClock, now, now).Scan(&t.seq, &t.instant)
	if err != nil {
		return outcome.Wrap(err, "cannot take the store clock")
	}
	return nil
}

// readTx implements store.ReadTx on a database transaction.
type readTx struct {
	db    *DB
	sql   *sql.Tx
	stmts *stmtCache // of the pool the transaction runs on
}

// prepared returns q, written with ? placeholders, prepared for this
// transaction, or nil when statements are not cached.
func (t *readTx) prepared(ctx context.Context, q string) (*sql.Stmt, string) {
	q = t.db.q(q)
	st := t.stmts.get(q)
	if st == nil {
		return nil, q
	}
	return t.sql.StmtContext(ctx, st), q
}

func (t *readTx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st, _ := t.prepared(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.sql.QueryRowContext(ctx, t.db.q(q), args...)
}

func (t *readTx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st, _ := t.prepared(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.sql.QueryContext(ctx, t.db.q(q), args...)
}

func (t *readTx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st, _ := t.prepared(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.sql.ExecContext(ctx, t.db.q(q), args...)
}

// tx implements store.Tx.
type tx struct {
	readTx
	seq     int64 // commit sequence number of this transaction
	instant int64 // its lastUpdated, Unix microseconds
	wrote   bool  // the transactions row is written
}

// noteWrite records the transaction in the transactions table on its first
// write, which maps instants to sequence numbers for _since.
func (t *tx) noteWrite(ctx context.Context) error {
	if t.wrote {
		return nil
	}
	if _, err := t.exec(ctx, sqlInsertTransaction, t.seq, t.instant); err != nil {
		return outcome.Wrap(err, "cannot record the transaction")
	}
	t.wrote = true
	return nil
}
