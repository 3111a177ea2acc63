package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// The audit tables (migrations/0004_audit.sql): audit_events holds the
// chain, audit_refs the facts it is searched by, audit_checkpoints the
// signatures. Nothing here updates or deletes a row: the chain is
// append-only, and Verify in package audit catches anyone who edits it
// behind the store's back.

// AuditHead implements store.Tx.
func (t *tx) AuditHead(ctx context.Context) (int64, [32]byte, error) {
	var (
		seq  int64
		link []byte
		out  [32]byte
	)
	err := t.queryRow(ctx, sqlAuditHead).Scan(&seq, &link)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, out, nil
	case err != nil:
		return 0, out, outcome.Wrap(err, "cannot read the audit head")
	case len(link) != len(out):
		return 0, out, outcome.Errorf(outcome.Internal, "audit entry %d has a link of %d bytes", seq, len(link))
	}
	copy(out[:], link)
	return seq, out, nil
}

// auditChunk bounds the entries of one multi-row insert (SQLite allows
// 32,766 parameters; an entry takes 6, its refs about 21).
const auditChunk = 100

// AppendAudit implements store.Tx: one look at the head, then the entries
// and their refs in multi-row inserts of up to auditChunk entries — a
// transaction of a thousand entries appends its audit trail in a few dozen
// statements.
func (t *tx) AppendAudit(ctx context.Context, entries ...store.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	head, _, err := t.AuditHead(ctx)
	if err != nil {
		return err
	}
	for i, e := range entries {
		if e.Seq != head+1+int64(i) {
			return outcome.Errorf(outcome.Conflict, "audit entry %d does not follow the head %d of the audit trail", e.Seq, head+int64(i))
		}
	}
	for len(entries) > 0 {
		n := min(len(entries), auditChunk)
		chunk := entries[:n]
		entries = entries[n:]
		args := make([]any, 0, 6*n)
		for _, e := range chunk {
			args = append(args, e.Seq, e.ID, micros(e.Recorded), e.Record, e.Digest[:], e.Link[:])
		}
		q := "INSERT INTO audit_events (seq, id, recorded, record, digest, link) VALUES " + rows(n, 6)
		if _, err := t.exec(ctx, q, args...); err != nil {
			return outcome.Wrap(err, "cannot append to the audit trail")
		}
		args = args[:0]
		refs := 0
		for _, e := range chunk {
			for _, r := range e.Refs {
				args = append(args, e.Seq, r.Name, r.Value)
				refs++
			}
		}
		if refs == 0 {
			continue
		}
		if _, err := t.exec(ctx, "INSERT INTO audit_refs (seq, name, value) VALUES "+rows(refs, 3), args...); err != nil {
			return outcome.Wrap(err, "cannot append to the audit trail")
		}
	}
	return nil
}

// rows returns n groups of k placeholders: (?, ?), (?, ?), …
func rows(n, k int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", k), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", n), ", ")
}

// AppendAuditCheckpoint implements store.Tx.
func (t *tx) AppendAuditCheckpoint(ctx context.Context, c store.AuditCheckpoint) error {
	if _, err := t.exec(ctx, `INSERT INTO audit_checkpoints (seq, link, key_id, signature, created) VALUES (?, ?, ?, ?, ?)`,
		c.Seq, c.Link[:], c.KeyID, c.Signature, micros(c.Created)); err != nil {
		return outcome.Wrap(err, "cannot store an audit checkpoint")
	}
	return nil
}

const selectAudit = `SELECT seq, id, recorded, record, digest, link FROM audit_events `

func scanAudit(s scanner) (store.AuditEntry, error) {
	var (
		e            store.AuditEntry
		rec          int64
		digest, link []byte
	)
	if err := s.Scan(&e.Seq, &e.ID, &rec, &e.Record, &digest, &link); err != nil {
		return e, err
	}
	e.Recorded = fromMicros(rec)
	// A wrong length is kept visible as a broken entry (zeros), never
	// an error: verification must be able to name it.
	copy(e.Digest[:], digest)
	copy(e.Link[:], link)
	if len(digest) != len(e.Digest) {
		e.Digest = [32]byte{}
	}
	if len(link) != len(e.Link) {
		e.Link = [32]byte{}
	}
	return e, nil
}

// AuditEntries implements store.ReadTx.
func (t *readTx) AuditEntries(ctx context.Context, after int64, limit int) ([]store.AuditEntry, error) {
	if limit <= 0 {
		limit = store.MaxHistoryCount
	}
	rows, err := t.query(ctx, selectAudit+`WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, outcome.Wrap(err, "cannot read the audit trail")
	}
	return collectAudit(rows)
}

func collectAudit(rows *sql.Rows) ([]store.AuditEntry, error) {
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, outcome.Wrap(err, "cannot read the audit trail")
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, outcome.Wrap(err, "cannot read the audit trail")
	}
	return out, nil
}

// AuditCheckpoints implements store.ReadTx.
func (t *readTx) AuditCheckpoints(ctx context.Context) ([]store.AuditCheckpoint, error) {
	rows, err := t.query(ctx, `SELECT seq, link, key_id, signature, created FROM audit_checkpoints ORDER BY seq`)
	if err != nil {
		return nil, outcome.Wrap(err, "cannot read audit checkpoints")
	}
	defer rows.Close()
	var out []store.AuditCheckpoint
	for rows.Next() {
		var (
			c       store.AuditCheckpoint
			link    []byte
			created int64
		)
		if err := rows.Scan(&c.Seq, &link, &c.KeyID, &c.Signature, &created); err != nil {
			return nil, outcome.Wrap(err, "cannot read audit checkpoints")
		}
		copy(c.Link[:], link)
		c.Created = fromMicros(created)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, outcome.Wrap(err, "cannot read audit checkpoints")
	}
	return out, nil
}

// ReadAudit implements store.ReadTx.
func (t *readTx) ReadAudit(ctx context.Context, id string) (*store.AuditEntry, error) {
	e, err := scanAudit(t.queryRow(ctx, selectAudit+`WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, outcome.Errorf(outcome.NotFound, "AuditEvent/%s is not known", id)
	}
	if err != nil {
		return nil, outcome.Wrap(err, "cannot read the audit trail")
	}
	if err := t.auditRefs(ctx, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

func (t *readTx) auditRefs(ctx context.Context, e *store.AuditEntry) error {
	rows, err := t.query(ctx, `SELECT name, value FROM audit_refs WHERE seq = ? ORDER BY name, value`, e.Seq)
	if err != nil {
		return outcome.Wrap(err, "cannot read the audit trail")
	}
	defer rows.Close()
	for rows.Next() {
		var r store.AuditRef
		if err := rows.Scan(&r.Name, &r.Value); err != nil {
			return outcome.Wrap(err, "cannot read the audit trail")
		}
		e.Refs = append(e.Refs, r)
	}
	return rows.Err()
}

// SearchAudit implements store.ReadTx. Each Ref is an EXISTS on the
// (name, value, seq) index; the page is ordered by seq, newest first.
func (t *readTx) SearchAudit(ctx context.Context, q store.AuditQuery) (*store.AuditPage, error) {
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
	for _, r := range q.Refs {
		where = append(where, `EXISTS (SELECT 1 FROM audit_refs r WHERE r.seq = audit_events.seq AND r.name = ? AND r.value = ?)`)
		args = append(args, r.Name, r.Value)
	}
	if q.AnyOf != nil {
		if len(q.AnyOf) == 0 {
			return &store.AuditPage{}, nil
		}
		var alts []string
		for _, r := range q.AnyOf {
			alts = append(alts, "(r.name = ? AND r.value = ?)")
			args = append(args, r.Name, r.Value)
		}
		where = append(where, `EXISTS (SELECT 1 FROM audit_refs r WHERE r.seq = audit_events.seq AND (`+strings.Join(alts, " OR ")+`))`)
	}
	if !q.From.IsZero() {
		where, args = append(where, "recorded >= ?"), append(args, micros(q.From))
	}
	if !q.To.IsZero() {
		where, args = append(where, "recorded < ?"), append(args, micros(q.To))
	}
	if q.Before > 0 {
		where, args = append(where, "seq < ?"), append(args, q.Before)
	}
	s := selectAudit
	if len(where) > 0 {
		s += "WHERE " + strings.Join(where, " AND ")
	}
	s += fmt.Sprintf(" ORDER BY seq DESC LIMIT %d", count+1)
	rows, err := t.query(ctx, s, args...)
	if err != nil {
		return nil, outcome.Wrap(err, "cannot search the audit trail")
	}
	entries, err := collectAudit(rows)
	if err != nil {
		return nil, err
	}
	page := &store.AuditPage{Entries: entries}
	if len(entries) > count {
		page.Entries = entries[:count]
		page.Next = entries[count-1].Seq
	}
	return page, nil
}
