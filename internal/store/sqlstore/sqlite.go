package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/continuum-ehr/continuum/internal/outcome"
)

// SQLiteFile is the database file inside the data directory.
const SQLiteFile = "continuum.db"

// busyTimeoutMS is how long a connection waits for another process's lock
// (the CLI writing while the server runs) before SQLite reports busy; the
// writer then keeps retrying until its context ends.
const busyTimeoutMS = 10000

var sqliteDialect = dialect{
	name:   "sqlite",
	dollar: false,
	ddl:    strings.NewReplacer("{{key}}", "INTEGER PRIMARY KEY", "{{bytes}}", "BLOB", "{{without_rowid}}", " WITHOUT ROWID"),
	retryBegin: func(err error) bool {
		var se *sqlite.Error
		return errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_BUSY || se.Code()&0xff == sqlite3.SQLITE_LOCKED)
	},
	// SQLite transactions are serializable; a read transaction's snapshot is
	// fixed by its first read (WAL).
	viewOptions:   &sql.TxOptions{ReadOnly: true},
	updateOptions: nil,
	cacheStmts:    true,
}

// OpenSQLite opens (creating it if needed) the SQLite store in directory dir
// and migrates it.
//
// Durability: WAL with synchronous=FULL, so a committed transaction has been
// fsynced to the WAL before Update returns and survives kill -9 and power
// loss (https://www.sqlite.org/pragma.html#pragma_synchronous).
//
// Connections: one writer connection, so in-process writers queue in Go
// instead of meeting "database is locked", and a pool of read-only
// connections, which in WAL mode read their snapshots without blocking the
// writer or each other (PocketBase's pattern). Writes begin IMMEDIATE, taking
// the write lock at BEGIN where busy_timeout applies, never by upgrading a
// read lock midway, which SQLite can only refuse.
func OpenSQLite(ctx context.Context, dir string, opt Options) (*DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, outcome.Wrap(err, "cannot create the data directory")
	}
	file := filepath.Join(dir, SQLiteFile)
	dsn := func(extra ...string) string {
		q := url.Values{}
		q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		q.Add("_pragma", "foreign_keys(1)")
		// Statement journals (one per multi-row index INSERT inside a
		// transaction) in memory rather than in temporary files: they
		// never need to survive a crash, the WAL does.
		q.Add("_pragma", "temp_store(MEMORY)")
		// 16 MB of page cache per connection (the default is 2 MB): the
		// search index's B-trees are read on every search.
		q.Add("_pragma", "cache_size(-16000)")
		for i := 0; i+1 < len(extra); i += 2 {
			q.Add(extra[i], extra[i+1])
		}
		return "file:" + (&url.URL{Path: file}).EscapedPath() + "?" + q.Encode()
	}
	write, err := sql.Open("sqlite", dsn("_txlock", "immediate"))
	if err != nil {
		return nil, outcome.Wrap(err, "cannot open the database")
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	read, err := sql.Open("sqlite", dsn("_pragma", "query_only(1)"))
	if err != nil {
		_ = write.Close()
		return nil, outcome.Wrap(err, "cannot open the database")
	}
	n := opt.MaxReadConns
	if n <= 0 {
		n = 8
	}
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)

	db, err := newDB(sqliteDialect, read, write, opt)
	if err != nil {
		_ = read.Close()
		_ = write.Close()
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := db.prepare(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}
