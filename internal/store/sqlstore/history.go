package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// History implements store.ReadTx. Versions come newest first in commit
// sequence order, ties (versions of one transaction) broken by version key;
// the cursor is the position of the last version returned, so a page never
// shifts when later transactions commit.
func (t *readTx) History(ctx context.Context, q store.HistoryQuery) (*store.HistoryPage, error) {
	count := q.Count
	switch {
	case count <= 0:
		count = store.DefaultHistoryCount
	case count > store.MaxHistoryCount:
		count = store.MaxHistoryCount
	}
	var (
		where []string
		args  []any
	)
	switch {
	case q.ID != "" && q.Type == "":
		return nil, outcome.New(outcome.Invalid, "required", "instance history needs a type")
	case q.ID != "":
		var rkey int64
		err := t.queryRow(ctx, sqlResourceKey, q.Type, q.ID).Scan(&rkey)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, outcome.Errorf(outcome.NotFound, "%s/%s is not known", q.Type, q.ID)
		}
		if err != nil {
			return nil, outcome.Wrap(err, "cannot read history")
		}
		where, args = append(where, "v.rkey = ?"), append(args, rkey)
	case q.Type != "":
		where, args = append(where, "v.type = ?"), append(args, q.Type)
	}
	if q.Types != nil {
		if len(q.Types) == 0 {
			return &store.HistoryPage{}, nil
		}
		where = append(where, "v.type IN ("+placeholders(len(q.Types))+")")
		for _, typ := range q.Types {
			args = append(args, typ)
		}
	}
	if q.Orgs != nil {
		// Directory types are stored with org '' and belong to everyone.
		cond := "v.org = ''"
		if len(q.Orgs) > 0 {
			cond = "(v.org = '' OR v.org IN (" + placeholders(len(q.Orgs)) + "))"
		}
		where = append(where, cond)
		for _, o := range q.Orgs {
			args = append(args, o)
		}
	}
	if !q.Since.IsZero() {
		// lastUpdated is monotonic in the sequence, so "since instant X"
		// is "from the first transaction at or after X".
		var first sql.NullInt64
		err := t.queryRow(ctx, sqlFirstSince, micros(q.Since)).Scan(&first)
		if err != nil {
			return nil, outcome.Wrap(err, "cannot read history")
		}
		if !first.Valid {
			return &store.HistoryPage{}, nil
		}
		where, args = append(where, "v.t >= ?"), append(args, first.Int64)
	}
	if !q.AtFrom.IsZero() {
		// Versions written at or before AtFrom have t < tf; those written
		// before AtTo have t < tt. Transactions with no row in transactions
		// wrote nothing, so the first later one bounds correctly.
		tf, err := t.firstAfter(ctx, q.AtFrom, false)
		if err != nil {
			return nil, err
		}
		tt := tf
		if q.AtTo.After(q.AtFrom) {
			if tt, err = t.firstAfter(ctx, q.AtTo, true); err != nil {
				return nil, err
			}
		}
		where = append(where, `((v.t < ? AND NOT EXISTS (SELECT 1 FROM versions w WHERE w.rkey = v.rkey AND w.t < ? AND w.version > v.version))
			OR (v.t >= ? AND v.t < ?))`)
		args = append(args, tf, tf, tf, tt)
	}
	if q.Cursor != "" {
		var seq, vkey int64
		if _, err := fmt.Sscanf(q.Cursor, "%d.%d", &seq, &vkey); err != nil || fmt.Sprintf("%d.%d", seq, vkey) != q.Cursor {
			return nil, outcome.New(outcome.Invalid, "value", "the history page cursor is not valid")
		}
		where = append(where, "(v.t < ? OR (v.t = ? AND v.vkey < ?))")
		args = append(args, seq, seq, vkey)
	}
	s := selectVersion
	if len(where) > 0 {
		s += "WHERE " + strings.Join(where, " AND ")
	}
	s += " ORDER BY v.t DESC, v.vkey DESC LIMIT ?"
	args = append(args, count+1)
	rows, err := t.query(ctx, s, args...)
	if err != nil {
		return nil, outcome.Wrap(err, "cannot read history")
	}
	defer rows.Close()
	page := &store.HistoryPage{}
	var lastKey int64
	for rows.Next() {
		v, vkey, err := t.db.scanVersion(rows)
		if err != nil {
			return nil, outcome.Wrap(err, "cannot read history")
		}
		if len(page.Versions) == count {
			last := page.Versions[count-1]
			page.Next = fmt.Sprintf("%d.%d", last.Seq, lastKey)
			break
		}
		page.Versions = append(page.Versions, v)
		lastKey = vkey
	}
	if err := rows.Err(); err != nil {
		return nil, outcome.Wrap(err, "cannot read history")
	}
	return page, nil
}

// firstAfter returns the sequence number of the first transaction written
// after instant (at or after it, when inclusive), or one past the last when
// there is none.
func (t *readTx) firstAfter(ctx context.Context, instant time.Time, inclusive bool) (int64, error) {
	q := `SELECT MIN(t) FROM transactions WHERE instant > ?`
	if inclusive {
		q = sqlFirstSince
	}
	var first sql.NullInt64
	if err := t.queryRow(ctx, q, micros(instant)).Scan(&first); err != nil {
		return 0, outcome.Wrap(err, "cannot read history")
	}
	if first.Valid {
		return first.Int64, nil
	}
	var last sql.NullInt64
	if err := t.queryRow(ctx, `SELECT MAX(t) FROM transactions`).Scan(&last); err != nil {
		return 0, outcome.Wrap(err, "cannot read history")
	}
	return last.Int64 + 1, nil
}
