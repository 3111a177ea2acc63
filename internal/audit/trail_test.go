package audit_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/store"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
)

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func rec(i int) audit.Record {
	return audit.Record{Action: audit.Read, User: audit.Agent{ID: "u1", Reference: "Practitioner/pr1"},
		Patients: []string{"p1"}, Resources: []audit.Resource{{Type: "Observation", ID: fmt.Sprintf("o%d", i), Version: "1"}}}
}

// TestTrail: write audits commit in the write's transaction, buffered ones
// within the window; the chain verifies; editing a stored row by hand, on
// both backends, makes VerifyStore name the edited record.
func TestTrail(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, b sqltest.Backend) {
		ctx := context.Background()
		db := b.Open(t)
		key := newKey(t)
		tr, err := audit.NewTrail(audit.TrailOptions{Store: db, Key: key, Window: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()

		// A write's audit commits with it; a failed write leaves none.
		if err := db.Update(ctx, func(tx store.Tx) error { return tr.AppendTx(ctx, tx, rec(1)) }); err != nil {
			t.Fatal(err)
		}
		_ = db.Update(ctx, func(tx store.Tx) error {
			if err := tr.AppendTx(ctx, tx, rec(99)); err != nil {
				return err
			}
			return fmt.Errorf("the write fails")
		})
		// Buffered records become durable within the window, without Flush.
		for i := 2; i <= 4; i++ {
			if err := tr.Record(ctx, rec(i)); err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.Now().Add(5 * time.Second)
		for n := 0; n != 4; {
			if time.Now().After(deadline) {
				t.Fatalf("%d audit entries after the window, want 4", n)
			}
			time.Sleep(10 * time.Millisecond)
			_ = db.View(ctx, func(tx store.ReadTx) error {
				es, err := tx.AuditEntries(ctx, 0, 0)
				n = len(es)
				return err
			})
		}
		if err := tr.Flush(ctx); err != nil { // signs a checkpoint
			t.Fatal(err)
		}
		rep, err := audit.VerifyStore(ctx, db, tr.PublicKeys())
		if err != nil || rep.Broken != nil || rep.Entries != 4 || rep.Checkpoints < 1 {
			t.Fatalf("intact trail: %+v, %v", rep, err)
		}
		var page *store.AuditPage
		_ = db.View(ctx, func(tx store.ReadTx) (err error) {
			page, err = tx.SearchAudit(ctx, store.AuditQuery{Refs: []store.AuditRef{{Name: store.AuditRefEntity, Value: "Observation/o3"}}})
			return err
		})
		if len(page.Entries) != 1 || !strings.Contains(string(page.Entries[0].Record), `"Observation/o3/_history/1"`) {
			t.Fatalf("search by entity: %+v", page)
		}
		// An unknown key fails the checkpoints.
		if rep, _ := audit.VerifyStore(ctx, db, map[string]ed25519.PublicKey{}); rep.Broken == nil {
			t.Error("checkpoints verified without their key")
		}

		q := "UPDATE audit_events SET record = ? WHERE seq = ?"
		if b.Name == "postgres" {
			q = "UPDATE audit_events SET record = $1 WHERE seq = $2"
		}
		var id3 string
		_ = db.View(ctx, func(tx store.ReadTx) error {
			es, _ := tx.AuditEntries(ctx, 2, 1)
			id3 = es[0].ID
			return nil
		})
		b.Exec(t, db, q, []byte(`{"resourceType":"AuditEvent","outcome":"0"}`), 3)
		rep, err = audit.VerifyStore(ctx, db, tr.PublicKeys())
		if err != nil || rep.Broken == nil || rep.Broken.Seq != 3 || rep.BrokenID != id3 {
			t.Fatalf("edited record 3: %+v (%v), %v", rep, rep.Broken, err)
		}
	})
}

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "audit.key")
	k1, created, err := audit.LoadOrCreateKey(path)
	if err != nil || !created {
		t.Fatalf("create: %v, %v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", fi.Mode(), err)
	}
	k2, created, err := audit.LoadOrCreateKey(path)
	if err != nil || created || !k1.Equal(k2) {
		t.Fatalf("reload: created %v, equal %v, %v", created, k1.Equal(k2), err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := audit.LoadOrCreateKey(path); err == nil {
		t.Error("a world-readable key was accepted")
	}
	bad := filepath.Join(t.TempDir(), "bad.key")
	if err := os.WriteFile(bad, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := audit.LoadOrCreateKey(bad); err == nil {
		t.Error("garbage accepted as a key")
	}
}

// TestTrailCheckpointsOnItsOwn: checkpoints are signed as the chain grows,
// without Flush or Close.
func TestTrailCheckpointsOnItsOwn(t *testing.T) {
	ctx := context.Background()
	db := sqltest.Backends()[0].Open(t)
	tr, err := audit.NewTrail(audit.TrailOptions{Store: db, Key: newKey(t), Window: 10 * time.Millisecond, CheckpointEntries: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for i := range 6 {
		if err := tr.Record(ctx, rec(i)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(15 * time.Millisecond)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		var cps []store.AuditCheckpoint
		_ = db.View(ctx, func(tx store.ReadTx) (err error) {
			cps, err = tx.AuditCheckpoints(ctx)
			return err
		})
		if len(cps) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d checkpoints after 6 records with CheckpointEntries 2", len(cps))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if rep, err := audit.VerifyStore(ctx, db, tr.PublicKeys()); err != nil || rep.Broken != nil {
		t.Fatalf("%+v, %v", rep, err)
	}
}
