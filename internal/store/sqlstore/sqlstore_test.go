package sqlstore

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/index"
	"github.com/continuum-ehr/continuum/internal/store"
	"github.com/continuum-ehr/continuum/internal/store/storetest"
)

// testExtractor is the R4 extractor of the test stores, compiled once.
var testExtractor = sync.OnceValue(func() *index.Extractor { return index.New(spec.R4()) })

// openSQLite opens a store in a fresh temporary directory.
func openSQLite(t testing.TB, dir string) *DB {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	db, err := OpenSQLite(context.Background(), dir, Options{Extractor: testExtractor()})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openSQLite(t, "") })
}

func testingEnvURL() string { return os.Getenv("CONTINUUM_TEST_DATABASE_URL") }

// postgresURL returns the test server's URL, skipping the test when there is
// none — except in CI, which must run the PostgreSQL suite (.ci/postgres
// starts a server).
func postgresURL(t testing.TB) string {
	t.Helper()
	u := testingEnvURL()
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but CONTINUUM_TEST_DATABASE_URL is not set: CI must run the PostgreSQL suite (source .ci/postgres)")
		}
		t.Skip("CONTINUUM_TEST_DATABASE_URL is not set; run `make test-postgres` for the PostgreSQL suite")
	}
	return u
}

// withSearchPath returns the URL with its search_path set to schema.
func withSearchPath(t testing.TB, base, schema string) string {
	t.Helper()
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		return base + " search_path=" + schema
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// openPostgres opens a store in a new schema of the test database, dropped
// when the test ends, so tests share a server but never data.
func openPostgres(t testing.TB) (*DB, string) {
	t.Helper()
	base := postgresURL(t)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	schema := "t_" + store.NewID()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	u := withSearchPath(t, base, schema)
	db, err := OpenPostgres(context.Background(), u, Options{Extractor: testExtractor()})
	if err != nil {
		t.Fatal(err)
	}
	return db, u
}

func TestPostgres(t *testing.T) {
	postgresURL(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		db, _ := openPostgres(t)
		return db
	})
}

// TestDurabilitySettings asserts the settings the durability guarantee rests
// on (docs/storage.md): WAL and synchronous=FULL on SQLite, synchronous_commit
// on PostgreSQL.
func TestDurabilitySettings(t *testing.T) {
	ctx := context.Background()
	t.Run("sqlite", func(t *testing.T) {
		db := openSQLite(t, "")
		defer db.Close()
		for _, pool := range []*sql.DB{db.write, db.read} {
			var mode string
			var sync int
			if err := pool.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
				t.Fatal(err)
			}
			if err := pool.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
				t.Fatal(err)
			}
			if mode != "wal" || sync != 2 {
				t.Errorf("journal_mode=%s synchronous=%d, want wal and 2 (FULL)", mode, sync)
			}
		}
		if n := db.write.Stats().MaxOpenConnections; n != 1 {
			t.Errorf("writer pool allows %d connections, want 1", n)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		db, _ := openPostgres(t)
		defer db.Close()
		var s string
		if err := db.write.QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&s); err != nil {
			t.Fatal(err)
		}
		if s != "on" {
			t.Errorf("synchronous_commit = %s, want on", s)
		}
	})
}

// TestReopen checks that data and queued jobs survive closing and reopening
// (a restart), and that migrating a migrated store is a no-op.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	check := func(t *testing.T, open func() *DB) {
		db := open()
		var p *store.Version
		var j *store.Job
		err := db.Update(ctx, func(tx store.Tx) (err error) {
			res, _ := fhir.Parse([]byte(`{"resourceType":"Patient","active":true}`))
			if p, err = tx.Create(ctx, store.Write{Resource: &res, Org: "o"}); err != nil {
				return err
			}
			if j, err = tx.EnqueueJob(ctx, store.JobSpec{Kind: "k"}); err != nil {
				return err
			}
			_, err = tx.LeaseJob(ctx, "worker-before-restart", nil, time.Millisecond)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		db = open()
		defer db.Close()
		v, err := db.SchemaVersion(ctx)
		ms, _ := loadMigrations(db.d)
		if err != nil || v != len(ms) {
			t.Errorf("schema version = %d, %v; want %d", v, err, len(ms))
		}
		err = db.Update(ctx, func(tx store.Tx) error {
			got, err := tx.Read(ctx, "Patient", p.ID)
			if err != nil {
				return err
			}
			if string(got.Body) != string(p.Body) {
				t.Errorf("after reopen: %s, want %s", got.Body, p.Body)
			}
			// The job whose worker "died" in the restart is taken over.
			lj, err := tx.LeaseJob(ctx, "worker-after-restart", nil, time.Minute)
			if err != nil {
				return err
			}
			if lj == nil || lj.ID != j.ID || lj.Attempts != 2 {
				t.Errorf("after restart, lease = %+v, want job %s on attempt 2", lj, j.ID)
			}
			next, err := tx.Create(ctx, store.Write{Resource: mustParse(t, `{"resourceType":"Patient"}`), Org: "o"})
			if err != nil {
				return err
			}
			if next.Seq <= p.Seq {
				t.Errorf("commit sequence went back after reopen: %d after %d", next.Seq, p.Seq)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		check(t, func() *DB { return openSQLite(t, dir) })
	})
	t.Run("postgres", func(t *testing.T) {
		db, u := openPostgres(t)
		first := true
		check(t, func() *DB {
			if first {
				first = false
				return db
			}
			db, err := OpenPostgres(ctx, u, Options{Extractor: testExtractor()})
			if err != nil {
				t.Fatal(err)
			}
			return db
		})
	})
}

func mustParse(t testing.TB, s string) *fhir.Value {
	t.Helper()
	v, err := fhir.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return &v
}

// TestSQLiteTwoHandles opens the same directory twice, as the CLI does while
// the server runs: writers in both never see "database is locked".
func TestSQLiteTwoHandles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, b := openSQLite(t, dir), openSQLite(t, dir)
	defer a.Close()
	defer b.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for _, db := range []*DB{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				err := db.Update(ctx, func(tx store.Tx) error {
					_, err := tx.Create(ctx, store.Write{Resource: mustParse(t, `{"resourceType":"Patient"}`), Org: "o"})
					return err
				})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("writer: %v", err)
	}
	var n int
	err := a.View(ctx, func(tx store.ReadTx) error {
		p, err := tx.History(ctx, store.HistoryQuery{Count: store.MaxHistoryCount})
		n = len(p.Versions)
		return err
	})
	if err != nil || n != 40 {
		t.Errorf("history has %d versions (%v), want 40", n, err)
	}
}

func TestPlaceholders(t *testing.T) {
	pg := &DB{d: postgresDialect}
	sq := &DB{d: sqliteDialect}
	const s = `SELECT a FROM t WHERE b = ? AND c IN (?, ?)`
	if got, want := pg.q(s), `SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)`; got != want {
		t.Errorf("postgres: %s, want %s", got, want)
	}
	if got := sq.q(s); got != s {
		t.Errorf("sqlite: %s", got)
	}
}

func TestMigrationsLoad(t *testing.T) {
	for _, d := range []dialect{sqliteDialect, postgresDialect} {
		ms, err := loadMigrations(d)
		if err != nil {
			t.Fatalf("%s: %v", d.name, err)
		}
		for _, m := range ms {
			for _, s := range m.stmts {
				if strings.Contains(s, "{{") {
					t.Errorf("%s %s: unreplaced token in %q", d.name, m.name, s)
				}
			}
		}
	}
}

// TestGroupCommitStats checks the writer's counters: every committed Update
// is counted, and concurrent Updates share commits.
func TestGroupCommitStats(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t, "")
	defer db.Close()
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				err := db.Update(ctx, func(tx store.Tx) error {
					_, err := tx.Create(ctx, store.Write{Resource: mustParse(t, `{"resourceType":"Patient"}`), Org: "o"})
					return err
				})
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	// A failing Update is not counted.
	_ = db.Update(ctx, func(tx store.Tx) error { return context.Canceled })
	s := db.Stats()
	if s.Updates != 160 || s.Commits < 1 || s.Commits > 160 {
		t.Errorf("stats = %+v, want 160 updates in 1…160 commits", s)
	}
	t.Logf("%d updates in %d commits", s.Updates, s.Commits)
}

func TestSize(t *testing.T) {
	ctx := context.Background()
	check := func(t *testing.T, db *DB) {
		defer db.Close()
		before, err := db.Size(ctx)
		if err != nil || before <= 0 {
			t.Fatalf("Size = %d, %v", before, err)
		}
		big := `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">` +
			strings.Repeat("x", 1000) + `</div>"}}`
		err = db.Update(ctx, func(tx store.Tx) error {
			for range 200 {
				if _, err := tx.Create(ctx, store.Write{Resource: mustParse(t, big), Org: "o"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// PostgreSQL compresses the repeated text (TOAST), so only growth
		// is certain there.
		after, err := db.Size(ctx)
		if err != nil || after <= before || (db.Dialect() == "sqlite" && after-before < 200*1000) {
			t.Errorf("Size grew from %d to %d (%v) for 200 KB of resources", before, after, err)
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		// Uncompressed: the size of what was written is then known
		// (compression is TestCodec's and TestMixedRows' subject).
		db, err := OpenSQLite(ctx, t.TempDir(), Options{Uncompressed: true})
		if err != nil {
			t.Fatal(err)
		}
		check(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		db, _ := openPostgres(t)
		check(t, db)
	})
}

// TestReindexStale: resources written without an index (a store opened
// without an Extractor, as before migration 0002) are indexed by
// ReindexStale, once.
func TestReindexStale(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	plain, err := OpenSQLite(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 7 {
		err := plain.Update(ctx, func(tx store.Tx) error {
			v, _ := fhir.Parse([]byte(`{"resourceType":"Patient","gender":"female","id":"p` + string(rune('a'+i)) + `"}`))
			_, err := tx.Put(ctx, store.Write{Resource: &v, Org: "o"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	plain.Close()
	db := openSQLite(t, dir)
	defer db.Close()
	count := func() int {
		var n int
		if err := db.read.QueryRow(`SELECT COUNT(*) FROM search_token WHERE param = 'gender'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("rows before reindex: %d", n)
	}
	if n, err := db.ReindexStale(ctx, 3); err != nil || n != 7 {
		t.Fatalf("ReindexStale = %d, %v; want 7", n, err)
	}
	if n := count(); n != 7 {
		t.Errorf("rows after reindex: %d, want 7", n)
	}
	if n, err := db.ReindexStale(ctx, 3); err != nil || n != 0 {
		t.Errorf("second ReindexStale = %d, %v; want 0", n, err)
	}
}

func TestSQLiteIdentity(t *testing.T) {
	storetest.RunIdentity(t, func(t *testing.T) store.Identity {
		db := openSQLite(t, "")
		t.Cleanup(func() { _ = db.Close() })
		return db
	})
}

func TestPostgresIdentity(t *testing.T) {
	postgresURL(t)
	storetest.RunIdentity(t, func(t *testing.T) store.Identity {
		db, _ := openPostgres(t)
		t.Cleanup(func() { _ = db.Close() })
		return db
	})
}
