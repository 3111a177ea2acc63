package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// TrailOptions configure a Trail.
type TrailOptions struct {
	Store store.Store
	// Key signs checkpoints. It is held outside the database (a file named
	// in configuration, LoadOrCreateKey); required.
	Key ed25519.PrivateKey
	// Window is the group-commit window of buffered records (reads,
	// searches, denials): each is durable at most this long after Record
	// returns. 0 means DefaultWindow.
	Window time.Duration
	// MaxBatch flushes early once this many records wait; 0 means
	// DefaultMaxBatch.
	MaxBatch int
	// CheckpointEvery and CheckpointEntries: a checkpoint is signed when
	// the chain has grown and either this much time has passed or this
	// many entries were added since the last one. 0 means the defaults.
	CheckpointEvery   time.Duration
	CheckpointEntries int64
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Defaults of TrailOptions.
const (
	DefaultWindow            = time.Second
	DefaultMaxBatch          = 256
	DefaultCheckpointEvery   = time.Minute
	DefaultCheckpointEntries = 1000
)

// Trail appends AuditEvents to the chain in the store.
//
// Two ways in, by what is being audited:
//
//   - AppendTx, in the transaction of a write: the audit entry commits
//     with the write or not at all.
//   - Record, for everything that writes nothing (reads, searches,
//     denials, failed writes): the record waits in memory and is appended
//     by the Trail's goroutine in one transaction with the others that
//     arrived within the window (Window, default 1 s, or MaxBatch
//     records, whichever comes first). A crash can lose at most the
//     records of the last window. When the buffer is full, Record blocks:
//     no access proceeds faster than it can be audited.
//
// The goroutine also signs checkpoints. Close flushes, signs a last
// checkpoint and stops it.
type Trail struct {
	st      store.Store
	key     ed25519.PrivateKey
	keyID   string
	window  time.Duration
	batch   int
	cpEvery time.Duration
	cpN     int64
	now     func() time.Time
	log     *slog.Logger

	in      chan Record
	flushes chan chan error
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once

	// owned by the goroutine
	cpKnown    bool // lastCP was read from the store
	lastCP     int64
	lastCPTime time.Time
}

// NewTrail returns a Trail and starts its goroutine; Close stops it.
func NewTrail(opts TrailOptions) (*Trail, error) {
	if opts.Store == nil || len(opts.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("audit: a Trail needs a store and an ed25519 signing key")
	}
	t := &Trail{st: opts.Store, key: opts.Key, keyID: KeyID(opts.Key.Public().(ed25519.PublicKey)),
		window: opts.Window, batch: opts.MaxBatch, cpEvery: opts.CheckpointEvery, cpN: opts.CheckpointEntries,
		now: opts.Now, log: opts.Logger,
		flushes: make(chan chan error), stop: make(chan struct{}), done: make(chan struct{})}
	if t.window <= 0 {
		t.window = DefaultWindow
	}
	if t.batch <= 0 {
		t.batch = DefaultMaxBatch
	}
	if t.cpEvery <= 0 {
		t.cpEvery = DefaultCheckpointEvery
	}
	if t.cpN <= 0 {
		t.cpN = DefaultCheckpointEntries
	}
	if t.now == nil {
		t.now = time.Now
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	t.in = make(chan Record, 4*t.batch)
	t.lastCPTime = t.now()
	go t.run()
	return t, nil
}

// KeyID names a checkpoint key: the first 8 bytes of the SHA-256 of the
// public key, in hex.
func KeyID(pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return hex.EncodeToString(h[:8])
}

// PublicKeys returns the key that verifies this Trail's checkpoints, by id.
func (t *Trail) PublicKeys() map[string]ed25519.PublicKey {
	return map[string]ed25519.PublicKey{t.keyID: t.key.Public().(ed25519.PublicKey)}
}

// stamp fills what a record needs before it is hashed: an id and the time.
func (t *Trail) stamp(rec *Record) {
	if rec.ID == "" {
		rec.ID = store.NewID()
	}
	if rec.Recorded.IsZero() {
		rec.Recorded = t.now()
	}
}

// AppendTx appends recs in tx, the transaction of the write they audit.
func (t *Trail) AppendTx(ctx context.Context, tx store.Tx, recs ...Record) error {
	for i := range recs {
		t.stamp(&recs[i])
	}
	return appendTx(ctx, tx, recs...)
}

func appendTx(ctx context.Context, tx store.Tx, recs ...Record) error {
	seq, link, err := tx.AuditHead(ctx)
	if err != nil {
		return err
	}
	c := Resume(Entry{Seq: seq, Link: link})
	entries := make([]store.AuditEntry, len(recs))
	for i, rec := range recs {
		e := c.Append(rec.JSON())
		entries[i] = store.AuditEntry{Seq: e.Seq, ID: rec.ID, Record: e.Record, Digest: e.Digest, Link: e.Link,
			Recorded: rec.Recorded, Refs: rec.refs()}
	}
	return tx.AppendAudit(ctx, entries...)
}

// refs are the searchable facts of rec (store.AuditRef names).
func (r Record) refs() []store.AuditRef {
	var out []store.AuditRef
	add := func(name, value string) {
		ref := store.AuditRef{Name: name, Value: value}
		if value != "" && !slices.Contains(out, ref) {
			out = append(out, ref)
		}
	}
	for _, p := range r.Patients {
		add(store.AuditRefPatient, "Patient/"+p)
		add(store.AuditRefEntity, "Patient/"+p)
	}
	for _, res := range r.Resources {
		add(store.AuditRefEntity, res.Type+"/"+res.ID)
	}
	add(store.AuditRefAgent, r.User.ID)
	add(store.AuditRefAgent, r.User.Reference)
	add(store.AuditRefAgent, r.Client.ID)
	add(store.AuditRefAction, string(r.Action))
	for _, o := range r.Organizations {
		add(store.AuditRefOrg, o)
	}
	if r.BreakGlass != "" {
		add(store.AuditRefPurpose, "BTG")
	}
	return out
}

// Record queues rec for the next group commit (within the window). It
// blocks while the buffer is full, and fails only when ctx ends or the
// Trail is closed.
func (t *Trail) Record(ctx context.Context, rec Record) error {
	t.stamp(&rec)
	select {
	case t.in <- rec:
		return nil
	case <-t.stop:
		return outcome.Errorf(outcome.Internal, "the audit trail is closed")
	case <-ctx.Done():
		return outcome.Wrap(ctx.Err(), "the audit record was not queued")
	}
}

// Flush appends every queued record now and returns when they are
// committed.
func (t *Trail) Flush(ctx context.Context) error {
	ch := make(chan error, 1)
	select {
	case t.flushes <- ch:
	case <-t.done:
		return outcome.Errorf(outcome.Internal, "the audit trail is closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close flushes the queue, signs a last checkpoint and stops the goroutine.
func (t *Trail) Close() error {
	t.once.Do(func() { close(t.stop) })
	<-t.done
	return nil
}

// run is the Trail's goroutine: it owns the pending records and the
// checkpoint state.
func (t *Trail) run() {
	defer close(t.done)
	tick := time.NewTicker(t.window)
	defer tick.Stop()
	var (
		pending []Record
		failing bool // the last flush failed: stop taking records (backpressure)
		since   int64
	)
	flush := func() error {
		if len(pending) > 0 {
			err := t.st.Update(context.Background(), func(tx store.Tx) error {
				return appendTx(context.Background(), tx, pending...)
			})
			if err != nil {
				// Kept for the next attempt: an audit record is never
				// dropped while the process lives; meanwhile Record
				// blocks once the queue is full.
				t.log.Error("audit flush failed; retrying", "records", len(pending), "err", err)
				failing = true
				return err
			}
			since += int64(len(pending))
			pending = pending[:0]
			failing = false
		}
		// A checkpoint is due after CheckpointEvery, or after
		// CheckpointEntries of this goroutine's records (writes append
		// their own; the time bound covers them).
		if since >= t.cpN || t.now().Sub(t.lastCPTime) >= t.cpEvery {
			since = 0
			return t.checkpoint()
		}
		return nil
	}
	for {
		in := t.in
		if failing {
			in = nil
		}
		select {
		case rec := <-in:
			pending = append(pending, rec)
			if len(pending) >= t.batch {
				_ = flush()
			}
		case <-tick.C:
			_ = flush()
		case ch := <-t.flushes:
			// Everything queued before Flush was called is in t.in.
			pending = t.drain(pending)
			err := flush()
			if err == nil {
				err = t.checkpoint()
			}
			ch <- err
		case <-t.stop:
			pending = t.drain(pending)
			if err := flush(); err == nil {
				_ = t.checkpoint()
			}
			return
		}
	}
}

func (t *Trail) drain(pending []Record) []Record {
	for {
		select {
		case rec := <-t.in:
			pending = append(pending, rec)
		default:
			return pending
		}
	}
}

// checkpoint signs the head when it has moved since the last checkpoint.
// The caller decides when one is due; an idle trail costs one look per
// CheckpointEvery.
func (t *Trail) checkpoint() error {
	t.lastCPTime = t.now()
	err := t.st.Update(context.Background(), func(tx store.Tx) error {
		if !t.cpKnown {
			// After a restart: continue after the last stored checkpoint.
			cps, err := tx.AuditCheckpoints(context.Background())
			if err != nil {
				return err
			}
			if len(cps) > 0 {
				t.lastCP = cps[len(cps)-1].Seq
			}
			t.cpKnown = true
		}
		seq, link, err := tx.AuditHead(context.Background())
		if err != nil || seq == 0 || seq <= t.lastCP {
			return err
		}
		c := Sign(t.key, t.keyID, seq, link)
		if err := tx.AppendAuditCheckpoint(context.Background(), store.AuditCheckpoint{
			Seq: c.Seq, Link: c.Link, KeyID: c.KeyID, Signature: c.Signature, Created: t.now()}); err != nil {
			return err
		}
		t.lastCP = seq
		return nil
	})
	if err != nil {
		// E.g. another node signed this position first (PostgreSQL with
		// several nodes): look at the stored checkpoints again next time.
		t.cpKnown = false
		t.log.Error("audit checkpoint failed", "err", err)
	}
	return err
}
