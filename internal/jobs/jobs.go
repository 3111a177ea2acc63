// Package jobs runs the durable job queue of the store (store.Tx.EnqueueJob):
// a Runner leases due jobs, runs the Handler registered for their kind,
// heartbeats the lease while the handler works (publishing its progress),
// and completes the job or fails it with exponential backoff.
//
// The queue's state lives in the database, so jobs survive restarts and are
// shared by all nodes: a worker that dies stops heartbeating, its lease
// expires, and another worker takes the job over as a new attempt. Handlers
// must therefore be idempotent per attempt (write through interaction with
// conditional operations, or to files named after the job).
//
// Per architecture.md §2 this package touches only the queue; handlers read
// and write clinical data through interaction with a system principal.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// Handler runs one attempt of a job. It calls report with its progress as it
// goes (the Runner stores the latest with the next heartbeat). ctx ends when
// the Runner stops or the lease is lost. Returning nil completes the job with
// result; an error fails the attempt, to be retried unless it is Permanent.
//
// ctx carries the system principal (auth.NewSystem): a job reads and
// writes clinical data through interaction as the server itself, explicitly,
// so it is authorized and audited like any caller (architecture.md §2,
// rule 4). The job's Org says for whom it writes.
type Handler func(ctx context.Context, job *store.Job, report func(store.Progress)) (result []byte, err error)

// Permanent marks err as not worth retrying: the job fails for good.
func Permanent(err error) error { return permanentError{err} }

type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Options configure a Runner. Zero values take the defaults.
type Options struct {
	// Owner names this worker in leases; default a random id. It must be
	// unique among running workers.
	Owner string
	// Lease is how long a lease lasts without a heartbeat (default 1m);
	// heartbeats come every Lease/3.
	Lease time.Duration
	// Poll is the pause after finding no runnable job (default 1s).
	Poll time.Duration
	// Backoff is the delay before attempt n+1 after attempt n failed
	// (default 10s·2^(n-1), at most 1h).
	Backoff func(attempt int) time.Duration
	// Logger receives one line per attempt; default slog.Default().
	Logger *slog.Logger
}

// DefaultBackoff is 10s, 20s, 40s, … capped at one hour.
func DefaultBackoff(attempt int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// Runner runs jobs of the kinds it has handlers for, one at a time.
type Runner struct {
	st       store.Store
	handlers map[string]Handler
	kinds    []string
	opt      Options
}

// New returns a Runner over st with a handler per job kind.
func New(st store.Store, handlers map[string]Handler, opt Options) *Runner {
	if opt.Owner == "" {
		opt.Owner = "worker-" + store.NewID()
	}
	if opt.Lease <= 0 {
		opt.Lease = time.Minute
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.Backoff == nil {
		opt.Backoff = DefaultBackoff
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	r := &Runner{st: st, handlers: handlers, opt: opt}
	for k := range handlers {
		r.kinds = append(r.kinds, k)
	}
	return r
}

// Run leases and runs jobs until ctx ends; it then returns nil. A job
// running when ctx ends is abandoned with its lease, which expires, so the
// job runs again later (here or on another node).
func (r *Runner) Run(ctx context.Context) error {
	if len(r.kinds) == 0 {
		<-ctx.Done()
		return nil
	}
	for {
		ran, err := r.RunOne(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			r.opt.Logger.Error("job queue", "err", err)
		}
		if !ran || err != nil {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(r.opt.Poll):
			}
		}
	}
}

// RunOne leases one runnable job and runs it to the end of the attempt. It
// reports whether there was a job.
func (r *Runner) RunOne(ctx context.Context) (bool, error) {
	var job *store.Job
	err := r.st.Update(ctx, func(tx store.Tx) (err error) {
		job, err = tx.LeaseJob(ctx, r.opt.Owner, r.kinds, r.opt.Lease)
		return err
	})
	if err != nil || job == nil {
		return false, err
	}
	return true, r.run(ctx, job)
}

// run runs one attempt of job, which this worker has leased.
func (r *Runner) run(ctx context.Context, job *store.Job) error {
	log := r.opt.Logger.With("job", job.ID, "kind", job.Kind, "attempt", job.Attempts)
	hctx, cancel := context.WithCancel(auth.NewContext(ctx, auth.NewSystem()))
	defer cancel()

	var (
		mu       sync.Mutex
		progress = job.Progress
	)
	report := func(p store.Progress) {
		mu.Lock()
		progress = p
		mu.Unlock()
	}

	// The heartbeat goroutine belongs to this attempt: it stops when the
	// handler returns (done) and is waited for before the attempt ends.
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(r.opt.Lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			mu.Lock()
			p := progress
			mu.Unlock()
			err := r.st.Update(hctx, func(tx store.Tx) error {
				return tx.HeartbeatJob(hctx, job.ID, r.opt.Owner, r.opt.Lease, p)
			})
			if err != nil && hctx.Err() == nil {
				// Lost the lease (expired and taken over) or the store is
				// unreachable: stop the handler rather than run twice.
				log.Warn("job heartbeat failed; abandoning the attempt", "err", err)
				cancel()
				return
			}
		}
	}()

	result, herr := r.call(hctx, job, report)
	close(done)
	wg.Wait()

	if ctx.Err() != nil || hctx.Err() != nil {
		// Stopping, or the lease is gone: leave the job to its lease.
		return nil
	}
	// The final state change uses ctx, not hctx, which may be canceled.
	err := r.st.Update(ctx, func(tx store.Tx) error {
		if herr == nil {
			mu.Lock()
			p := progress
			mu.Unlock()
			if err := tx.HeartbeatJob(ctx, job.ID, r.opt.Owner, r.opt.Lease, p); err != nil {
				return err
			}
			return tx.CompleteJob(ctx, job.ID, r.opt.Owner, result)
		}
		retry := r.opt.Backoff(job.Attempts)
		var perm permanentError
		if errors.As(herr, &perm) {
			retry = -1
		}
		return tx.FailJob(ctx, job.ID, r.opt.Owner, herr.Error(), retry)
	})
	if herr == nil {
		log.Info("job succeeded")
	} else {
		log.Warn("job attempt failed", "err", herr)
	}
	return err
}

// call runs the handler, turning a panic into a failed attempt so one bad job
// cannot take the worker down.
func (r *Runner) call(ctx context.Context, job *store.Job, report func(store.Progress)) (result []byte, err error) {
	h := r.handlers[job.Kind]
	if h == nil {
		return nil, Permanent(outcome.Errorf(outcome.NotSupported, "no handler for job kind %q", job.Kind))
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return h(ctx, job, report)
}
