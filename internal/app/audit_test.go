package app

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/store"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
)

// TestAuditVerify: `continuum audit verify` passes an intact trail and,
// after someone edits a stored record by hand in SQL, fails naming it — on
// SQLite and PostgreSQL.
func TestAuditVerify(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, b sqltest.Backend) {
		ctx := context.Background()
		db := b.Open(t)
		keyFile := filepath.Join(t.TempDir(), "audit.key")
		key, _, err := audit.LoadOrCreateKey(keyFile)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := audit.NewTrail(audit.TrailOptions{Store: db, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			rec := audit.Record{Action: audit.Read, User: audit.Agent{ID: "u1"}, Patients: []string{"p1"},
				Resources: []audit.Resource{{Type: "Observation", ID: fmt.Sprint("o", i), Version: "1"}}}
			if err := tr.Record(ctx, rec); err != nil {
				t.Fatal(err)
			}
		}
		if err := tr.Close(); err != nil { // flushes and signs a checkpoint
			t.Fatal(err)
		}
		where := "--data"
		if b.Name == "postgres" {
			where = "--database-url"
		}
		args := []string{"audit", "verify", where, b.Where(t, db), "--audit-key-file", keyFile}
		code, stdout, stderr := run(t, "", args...)
		if code != 0 || !strings.Contains(stdout, "intact: 5 audit records, 1 signed checkpoints") {
			t.Fatalf("intact trail: exit %d\n%s%s", code, stdout, stderr)
		}

		var id string
		_ = db.View(ctx, func(tx store.ReadTx) error {
			es, err := tx.AuditEntries(ctx, 2, 1)
			if len(es) == 1 {
				id = es[0].ID
			}
			return err
		})
		q := `UPDATE audit_events SET record = CAST(REPLACE(CAST(record AS TEXT), 'Observation/o2', 'Observation/o9') AS BLOB) WHERE seq = 3`
		if b.Name == "postgres" {
			q = `UPDATE audit_events SET record = convert_to(replace(convert_from(record, 'UTF8'), 'Observation/o2', 'Observation/o9'), 'UTF8') WHERE seq = 3`
		}
		b.Exec(t, db, q)
		code, stdout, stderr = run(t, "", args...)
		want := "BROKEN: audit record 3 (AuditEvent/" + id + "): record bytes do not match their digest"
		if code != 1 || !strings.Contains(stdout, want) {
			t.Fatalf("edited record: exit %d\n%s%s\nwant exit 1 and %q", code, stdout, stderr, want)
		}

		// Without the key the checkpoints cannot be checked: that fails too.
		code, _, _ = run(t, "", "audit", "verify", where, b.Where(t, db), "--audit-key-file", filepath.Join(t.TempDir(), "missing.key"))
		if code != 1 {
			t.Errorf("verify without the key file: exit %d, want 1", code)
		}
		code, _, stderr = run(t, "", "audit", "check")
		if code != 2 || !strings.Contains(stderr, "verify") {
			t.Errorf("unknown subcommand: exit %d, %s", code, stderr)
		}
	})
}
