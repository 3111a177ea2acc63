package sqlstore

import (
	"context"
	"database/sql"
)

// stmtCache holds the hot statements prepared on one pool, by SQL text.
// database/sql keeps a *sql.Stmt prepared on each connection that has run
// it, and Tx.StmtContext reuses that, so each statement is parsed once per
// connection instead of once per call — on SQLite, parsing costs about as
// much as running a small statement.
//
// Statements are prepared only when the store opens: preparing on a pool
// needs a free connection, and inside a transaction on SQLite's one writer
// connection there is none. Anything not in the cache runs unprepared.
type stmtCache struct {
	m map[string]*sql.Stmt // read-only after open; nil when off
}

// prepareAll prepares qs (with ? placeholders, rewritten by q) on pool.
func prepareAll(ctx context.Context, pool *sql.DB, q func(string) string, qs []string) (*stmtCache, error) {
	c := &stmtCache{m: make(map[string]*sql.Stmt, len(qs))}
	for _, s := range qs {
		st, err := pool.PrepareContext(ctx, q(s))
		if err != nil {
			c.close()
			return nil, err
		}
		c.m[q(s)] = st
	}
	return c, nil
}

// get returns the prepared statement for q (already rewritten), or nil.
func (c *stmtCache) get(q string) *sql.Stmt {
	if c == nil {
		return nil
	}
	return c.m[q]
}

func (c *stmtCache) close() {
	if c == nil {
		return
	}
	for _, st := range c.m {
		_ = st.Close()
	}
}
