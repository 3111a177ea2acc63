package sqlstore

import (
	"context"

	"github.com/continuum-ehr/continuum/internal/outcome"
)

// Size returns the bytes the store's tables and indexes occupy: on SQLite
// the database file's pages after a WAL checkpoint, on PostgreSQL the total
// relation size of the tables in the current schema (TOAST and indexes
// included). It is what benchmarks.md W11 divides by the resource count.
func (db *DB) Size(ctx context.Context) (int64, error) {
	var n int64
	var err error
	switch db.d.name {
	case "sqlite":
		// The WAL holds recent pages until a checkpoint copies them into
		// the file; count them where they will live.
		if _, err = db.write.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err == nil {
			err = db.read.QueryRowContext(ctx,
				"SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()").Scan(&n)
		}
	default:
		err = db.read.QueryRowContext(ctx, `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)
			FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
			WHERE ns.nspname = current_schema() AND c.relkind = 'r'`).Scan(&n)
	}
	if err != nil {
		return 0, outcome.Wrap(err, "cannot measure the store")
	}
	return n, nil
}
