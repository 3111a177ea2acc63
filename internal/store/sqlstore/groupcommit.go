package sqlstore

import (
	"context"

	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// maxGroup bounds how many Update callbacks share one database transaction.
const maxGroup = 64

// writeReq is one Update waiting for the writer.
type writeReq struct {
	ctx  context.Context
	fn   func(store.Tx) error
	done chan writeRes // buffered: the writer never blocks on a caller
}

type writeRes struct {
	err      error
	panicked bool
	panicVal any
}

// Update implements store.Store.
//
// Group commit: callbacks go to the one writer goroutine. While it commits
// (an fsync), later Updates queue; it then runs all queued callbacks, up to
// maxGroup, in one database transaction, each inside a savepoint, and commits
// them with one fsync. A callback that fails or panics is rolled back to its
// savepoint alone; the others still commit. Every Update returns only after
// the commit that holds its writes, so durability is unchanged, and callbacks
// still run one at a time, each seeing the writes of those before it. With no
// concurrency a group is one
// callback and no savepoint is used.
//
// Each callback still gets its own commit sequence number; all of a group
// become visible at once, in sequence order.
//
// What a group shares: if the transaction itself breaks — the commit fails,
// or on PostgreSQL a callback's context is canceled mid-statement, which
// makes pgx drop the connection — every callback of the group fails. None is
// ever reported committed when it was not.
func (db *DB) Update(ctx context.Context, fn func(store.Tx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan writeRes, 1)}
	select {
	case db.reqs <- req:
	case <-ctx.Done():
		return outcome.Wrap(ctx.Err(), "the write was canceled before it started")
	case <-db.stop:
		return outcome.Errorf(outcome.Internal, "the store is closed")
	}
	// Once the writer has the request it always answers, and the caller must
	// wait for that answer: returning early could report failure for a write
	// that then commits.
	res := <-req.done
	if res.panicked {
		panic(res.panicVal)
	}
	return res.err
}

// writer is the goroutine that runs Updates. DB owns it; Close stops it.
func (db *DB) writer() {
	defer close(db.writerEnd)
	for {
		var group []*writeReq
		select {
		case r := <-db.reqs:
			group = append(group, r)
		case <-db.stop:
			return
		}
	drain:
		for len(group) < maxGroup {
			select {
			case r := <-db.reqs:
				group = append(group, r)
			default:
				break drain
			}
		}
		db.runGroup(group)
	}
}

// runGroup runs the callbacks of group in one transaction and answers each.
func (db *DB) runGroup(group []*writeReq) {
	results := make([]writeRes, len(group))
	answer := func() {
		for i, r := range group {
			r.done <- results[i]
		}
	}
	failAll := func(err error) {
		for i := range results {
			if results[i].err == nil && !results[i].panicked {
				results[i].err = err
			}
		}
		answer()
	}
	var live []int
	for i, r := range group {
		if err := r.ctx.Err(); err != nil {
			results[i].err = outcome.Wrap(err, "the write was canceled before it started")
			continue
		}
		live = append(live, i)
	}
	if len(live) == 0 {
		answer()
		return
	}
	sqlTx, err := db.begin(group[live[0]].ctx)
	if err != nil {
		failAll(err)
		return
	}
	committed := false
	defer func() {
		if !committed {
			_ = sqlTx.Rollback()
		}
	}()
	t := &tx{readTx: readTx{db: db, sql: sqlTx, stmts: db.writeStmts}}
	if err := t.takeClock(context.Background()); err != nil {
		failAll(err)
		return
	}
	ok := 0
	if len(live) == 1 {
		i := live[0]
		results[i] = call(group[i].fn, t)
		if results[i].err != nil || results[i].panicked {
			answer()
			return
		}
		ok = 1
	} else {
		for n, i := range live {
			res, err := db.inSavepoint(t, group[i].fn, n > 0)
			if err != nil {
				// The transaction itself is broken: nothing commits.
				results[i] = res
				failAll(err)
				return
			}
			results[i] = res
			if res.err == nil && !res.panicked {
				ok++
			}
		}
	}
	if ok == 0 {
		answer()
		return
	}
	if err := sqlTx.Commit(); err != nil {
		committed = true // a failed Commit has ended the transaction too
		failAll(outcome.Wrap(err, "cannot commit"))
		return
	}
	committed = true
	db.commits.Add(1)
	db.updates.Add(int64(ok))
	answer()
}

// inSavepoint runs fn inside a savepoint, rolling back to it when fn fails.
// With nextSeq, fn gets the next commit sequence number: each Update has its
// own, as if it had been a transaction of its own (the clock row is already
// locked by this transaction, so this costs one statement). The error is
// about the transaction (a savepoint statement failed), not fn.
func (db *DB) inSavepoint(t *tx, fn func(store.Tx) error, nextSeq bool) (writeRes, error) {
	ctx := context.Background()
	if _, err := t.sql.ExecContext(ctx, "SAVEPOINT cb"); err != nil {
		return writeRes{}, outcome.Wrap(err, "cannot start a savepoint")
	}
	seq, instant, wrote := t.seq, t.instant, t.wrote
	if nextSeq {
		if err := t.takeClock(ctx); err != nil {
			return writeRes{}, err
		}
		t.wrote = false
	}
	res := call(fn, t)
	if res.err == nil && !res.panicked {
		_, err := t.sql.ExecContext(ctx, "RELEASE SAVEPOINT cb")
		if err == nil {
			return res, nil
		}
		// E.g. PostgreSQL refusing to release after a statement failed that
		// fn ignored: undo fn's writes instead.
		res.err = outcome.Wrap(err, "cannot complete the write")
	}
	// The rollback undoes fn's writes and its clock increment.
	t.seq, t.instant, t.wrote = seq, instant, wrote
	if _, err := t.sql.ExecContext(ctx, "ROLLBACK TO SAVEPOINT cb"); err != nil {
		return res, outcome.Wrap(err, "cannot roll back a savepoint")
	}
	if _, err := t.sql.ExecContext(ctx, "RELEASE SAVEPOINT cb"); err != nil {
		return res, outcome.Wrap(err, "cannot release a savepoint")
	}
	return res, nil
}

// call runs fn, catching a panic so the writer survives it; Update re-panics
// in the caller's goroutine.
func call(fn func(store.Tx) error, t *tx) (res writeRes) {
	defer func() {
		if p := recover(); p != nil {
			res = writeRes{panicked: true, panicVal: p}
		}
	}()
	return writeRes{err: fn(t)}
}
