package jobs

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/store"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func enqueue(t *testing.T, st store.Store, spec store.JobSpec) *store.Job {
	t.Helper()
	var j *store.Job
	err := st.Update(context.Background(), func(tx store.Tx) (err error) {
		j, err = tx.EnqueueJob(context.Background(), spec)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func jobOf(t *testing.T, st store.Store, id string) *store.Job {
	t.Helper()
	var j *store.Job
	err := st.View(context.Background(), func(tx store.ReadTx) (err error) {
		j, err = tx.Job(context.Background(), id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// waitFor polls cond until it holds or the test times out after 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// start runs r until the test ends and checks that Run returns.
func start(t *testing.T, r *Runner) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})
	return cancel
}

func TestRunner(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, b sqltest.Backend) {
		t.Run("SucceedsWithProgress", func(t *testing.T) {
			st := b.Open(t)
			release := make(chan struct{})
			h := func(ctx context.Context, j *store.Job, report func(store.Progress)) ([]byte, error) {
				if p, ok := auth.FromContext(ctx); !ok || p.Kind != auth.System {
					return nil, Permanent(errors.New("the handler does not act as the system principal"))
				}
				report(store.Progress{Done: 5, Total: 10, Note: "halfway"})
				select {
				case <-release:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
				report(store.Progress{Done: 10, Total: 10})
				return append([]byte("echo:"), j.Payload...), nil
			}
			r := New(st, map[string]Handler{"echo": h}, Options{Lease: 60 * time.Millisecond, Poll: 5 * time.Millisecond, Logger: quiet})
			j := enqueue(t, st, store.JobSpec{Kind: "echo", Payload: []byte("hi")})
			start(t, r)
			// Progress is visible to other readers while the job runs.
			waitFor(t, "progress", func() bool { return jobOf(t, st, j.ID).Progress.Done == 5 })
			if got := jobOf(t, st, j.ID); got.State != store.JobRunning || got.Progress.Note != "halfway" {
				t.Errorf("running job = %+v", got)
			}
			close(release)
			waitFor(t, "success", func() bool { return jobOf(t, st, j.ID).State == store.JobSucceeded })
			if got := jobOf(t, st, j.ID); string(got.Result) != "echo:hi" || got.Progress.Done != 10 || got.Attempts != 1 {
				t.Errorf("succeeded job = %+v", got)
			}
		})
		t.Run("RetriesWithBackoff", func(t *testing.T) {
			st := b.Open(t)
			var calls atomic.Int32
			h := func(ctx context.Context, j *store.Job, report func(store.Progress)) ([]byte, error) {
				if calls.Add(1) < 3 {
					return nil, errors.New("flaky")
				}
				return nil, nil
			}
			r := New(st, map[string]Handler{"flaky": h}, Options{Poll: 5 * time.Millisecond, Logger: quiet,
				Backoff: func(int) time.Duration { return 10 * time.Millisecond }})
			j := enqueue(t, st, store.JobSpec{Kind: "flaky"})
			start(t, r)
			waitFor(t, "success after retries", func() bool { return jobOf(t, st, j.ID).State == store.JobSucceeded })
			if got := jobOf(t, st, j.ID); got.Attempts != 3 || got.LastError != "flaky" {
				t.Errorf("job = %+v, want 3 attempts and the last error kept", got)
			}
		})
		t.Run("PermanentFailureAndPanic", func(t *testing.T) {
			st := b.Open(t)
			r := New(st, map[string]Handler{
				"bad": func(context.Context, *store.Job, func(store.Progress)) ([]byte, error) {
					return nil, Permanent(errors.New("bad input"))
				},
				"panic": func(context.Context, *store.Job, func(store.Progress)) ([]byte, error) { panic("boom") },
			}, Options{Poll: 5 * time.Millisecond, Logger: quiet, Backoff: func(int) time.Duration { return 0 }})
			bad := enqueue(t, st, store.JobSpec{Kind: "bad"})
			pan := enqueue(t, st, store.JobSpec{Kind: "panic", MaxAttempts: 2})
			start(t, r)
			waitFor(t, "failures", func() bool {
				return jobOf(t, st, bad.ID).State == store.JobFailed && jobOf(t, st, pan.ID).State == store.JobFailed
			})
			if got := jobOf(t, st, bad.ID); got.Attempts != 1 || got.LastError != "bad input" {
				t.Errorf("permanently failed job = %+v", got)
			}
			if got := jobOf(t, st, pan.ID); got.Attempts != 2 {
				t.Errorf("panicking job = %+v, want both attempts used", got)
			}
		})
		t.Run("SurvivesRestart", func(t *testing.T) {
			st := b.Open(t)
			j := enqueue(t, st, store.JobSpec{Kind: "slow"})
			started := make(chan struct{})
			first := New(st, map[string]Handler{"slow": func(ctx context.Context, _ *store.Job, _ func(store.Progress)) ([]byte, error) {
				close(started)
				<-ctx.Done() // "crashes": never finishes
				return nil, ctx.Err()
			}}, Options{Owner: "first", Lease: 90 * time.Millisecond, Poll: 5 * time.Millisecond, Logger: quiet})
			stop := start(t, first)
			<-started
			stop() // the process dies with the job leased

			// A new process, on a new handle of the same database.
			st2 := b.Reopen(t, st)
			second := New(st2, map[string]Handler{"slow": func(context.Context, *store.Job, func(store.Progress)) ([]byte, error) {
				return []byte("ok"), nil
			}}, Options{Owner: "second", Poll: 5 * time.Millisecond, Logger: quiet})
			start(t, second)
			waitFor(t, "takeover", func() bool { return jobOf(t, st2, j.ID).State == store.JobSucceeded })
			if got := jobOf(t, st2, j.ID); got.Attempts != 2 || string(got.Result) != "ok" {
				t.Errorf("job after restart = %+v, want attempt 2 succeeded", got)
			}
		})
	})
}

func TestDefaultBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 4: 80 * time.Second, 20: time.Hour} {
		if got := DefaultBackoff(n); got != want {
			t.Errorf("DefaultBackoff(%d) = %v, want %v", n, got, want)
		}
	}
}
