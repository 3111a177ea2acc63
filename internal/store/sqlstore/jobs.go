package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

const selectJob = `SELECT id, kind, org, payload, state, attempts, max_attempts, run_after, lease_owner, lease_until,
	progress_done, progress_total, progress_note, result, last_error, created_at, updated_at FROM jobs `

func scanJob(s scanner) (*store.Job, error) {
	var (
		j                                  store.Job
		state                              string
		runAfter, leaseUntil, created, upd int64
	)
	err := s.Scan(&j.ID, &j.Kind, &j.Org, &j.Payload, &state, &j.Attempts, &j.MaxAttempts, &runAfter, &j.LeaseOwner, &leaseUntil,
		&j.Progress.Done, &j.Progress.Total, &j.Progress.Note, &j.Result, &j.LastError, &created, &upd)
	if err != nil {
		return nil, err
	}
	j.State = store.JobState(state)
	j.RunAfter, j.LeaseUntil = fromMicros(runAfter), fromMicros(leaseUntil)
	j.CreatedAt, j.UpdatedAt = fromMicros(created), fromMicros(upd)
	if j.LeaseOwner == "" {
		j.LeaseUntil = time.Time{}
	}
	return &j, nil
}

// Job implements store.ReadTx.
func (t *readTx) Job(ctx context.Context, id string) (*store.Job, error) {
	j, err := scanJob(t.queryRow(ctx, sqlJobByID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, outcome.Errorf(outcome.NotFound, "job %s is not known", id)
	}
	if err != nil {
		return nil, outcome.Wrap(err, "cannot read a job")
	}
	return j, nil
}

// EnqueueJob implements store.Tx.
func (t *tx) EnqueueJob(ctx context.Context, spec store.JobSpec) (*store.Job, error) {
	if spec.Kind == "" {
		return nil, outcome.New(outcome.Invalid, "required", "a job needs a kind")
	}
	now := t.db.now()
	j := &store.Job{
		ID: store.NewID(), Kind: spec.Kind, Org: spec.Org, Payload: spec.Payload, State: store.JobQueued,
		MaxAttempts: spec.MaxAttempts, RunAfter: spec.RunAfter, CreatedAt: now, UpdatedAt: now,
	}
	if j.MaxAttempts <= 0 {
		j.MaxAttempts = store.DefaultMaxAttempts
	}
	if j.RunAfter.IsZero() {
		j.RunAfter = now
	}
	// Round trip through the stored precision so the returned job equals a
	// later read of it.
	j.RunAfter, j.CreatedAt, j.UpdatedAt = fromMicros(micros(j.RunAfter)), fromMicros(micros(now)), fromMicros(micros(now))
	_, err := t.exec(ctx, `INSERT INTO jobs (id, kind, org, payload, state, attempts, max_attempts, run_after,
		lease_owner, lease_until, progress_done, progress_total, progress_note, result, last_error, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 0, ?, ?, '', 0, 0, 0, '', NULL, '', ?, ?)`,
		j.ID, j.Kind, j.Org, j.Payload, string(j.State), j.MaxAttempts, micros(j.RunAfter), micros(now), micros(now))
	if err != nil {
		return nil, outcome.Wrap(err, "cannot enqueue a job")
	}
	return j, nil
}

// LeaseJob implements store.Tx. Updates run one at a time, so two workers
// can never lease the same job, without SELECT … FOR UPDATE SKIP LOCKED
// (which SQLite and some distributed engines lack).
func (t *tx) LeaseJob(ctx context.Context, owner string, kinds []string, leaseFor time.Duration) (*store.Job, error) {
	if owner == "" || leaseFor <= 0 {
		return nil, outcome.New(outcome.Invalid, "required", "a lease needs an owner and a duration")
	}
	now := micros(t.db.now())
	q := selectJob + `WHERE ((state = 'queued' AND run_after <= ?) OR (state = 'running' AND lease_until <= ?))`
	args := []any{now, now}
	if len(kinds) > 0 {
		q += ` AND kind IN (?` + strings.Repeat(", ?", len(kinds)-1) + `)`
		for _, k := range kinds {
			args = append(args, k)
		}
	}
	q += ` ORDER BY run_after, jkey LIMIT 1`
	for {
		j, err := scanJob(t.queryRow(ctx, q, args...))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, outcome.Wrap(err, "cannot lease a job")
		}
		if j.Attempts >= j.MaxAttempts {
			// Its last worker died holding it and it has no attempt left.
			if _, err := t.exec(ctx, `UPDATE jobs SET state = 'failed', lease_owner = '', lease_until = 0,
				last_error = ?, updated_at = ? WHERE id = ?`, "lease expired on the last attempt", now, j.ID); err != nil {
				return nil, outcome.Wrap(err, "cannot lease a job")
			}
			continue
		}
		until := now + leaseFor.Microseconds()
		if _, err := t.exec(ctx, `UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = ?,
			lease_until = ?, updated_at = ? WHERE id = ?`, owner, until, now, j.ID); err != nil {
			return nil, outcome.Wrap(err, "cannot lease a job")
		}
		j.State, j.Attempts, j.LeaseOwner = store.JobRunning, j.Attempts+1, owner
		j.LeaseUntil, j.UpdatedAt = fromMicros(until), fromMicros(now)
		return j, nil
	}
}

// leased runs an UPDATE of owner's running job and turns "not held" into a
// Conflict.
func (t *tx) leased(ctx context.Context, id, owner, set string, args ...any) error {
	args = append(args, id, owner)
	res, err := t.exec(ctx, `UPDATE jobs SET `+set+` WHERE id = ? AND lease_owner = ? AND state = 'running'`, args...)
	if err != nil {
		return outcome.Wrap(err, "cannot update a job")
	}
	if n, err := res.RowsAffected(); err != nil {
		return outcome.Wrap(err, "cannot update a job")
	} else if n == 0 {
		return outcome.Errorf(outcome.Conflict, "job %s is not leased by %s", id, owner)
	}
	return nil
}

// HeartbeatJob implements store.Tx.
func (t *tx) HeartbeatJob(ctx context.Context, id, owner string, leaseFor time.Duration, p store.Progress) error {
	now := micros(t.db.now())
	return t.leased(ctx, id, owner, `lease_until = ?, progress_done = ?, progress_total = ?, progress_note = ?, updated_at = ?`,
		now+leaseFor.Microseconds(), p.Done, p.Total, p.Note, now)
}

// CompleteJob implements store.Tx.
func (t *tx) CompleteJob(ctx context.Context, id, owner string, result []byte) error {
	return t.leased(ctx, id, owner, `state = 'succeeded', lease_owner = '', lease_until = 0, result = ?, updated_at = ?`,
		result, micros(t.db.now()))
}

// FailJob implements store.Tx.
func (t *tx) FailJob(ctx context.Context, id, owner, reason string, retryAfter time.Duration) error {
	now := micros(t.db.now())
	// A job out of attempts, or told not to retry, fails for good; otherwise
	// it is queued again for after the backoff.
	return t.leased(ctx, id, owner, `state = CASE WHEN attempts >= max_attempts OR ? = 1 THEN 'failed' ELSE 'queued' END,
		run_after = ?, lease_owner = '', lease_until = 0, last_error = ?, updated_at = ?`,
		boolInt(retryAfter < 0), now+max(retryAfter, 0).Microseconds(), reason, now)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
