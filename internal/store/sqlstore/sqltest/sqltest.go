// Package sqltest opens real stores for tests of the packages above the
// store: SQLite in a temporary directory always, PostgreSQL in a fresh schema
// of the server CONTINUUM_TEST_DATABASE_URL names. With CI=true a missing URL
// fails the test, because CI must exercise PostgreSQL (.ci/postgres starts
// one). There are no mocks: the same SQL runs in tests as in production.
package sqltest

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	// Registers the "pgx" database/sql driver used to create schemas.
	_ "github.com/jackc/pgx/v5/stdlib"
	// Registers the "sqlite" driver for Exec.
	_ "modernc.org/sqlite"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/index"
	"github.com/continuum-ehr/continuum/internal/store"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore"
)

// Extractor returns the R4 index extractor the test stores index with,
// compiled once per test binary (compiling ~1,400 expressions per store
// would dominate short tests).
var Extractor = sync.OnceValue(func() *index.Extractor { return index.New(spec.R4()) })

// EnvURL is the environment variable naming the test PostgreSQL server.
const EnvURL = "CONTINUUM_TEST_DATABASE_URL"

// Backend opens stores of one kind.
type Backend struct {
	Name string
	// Open returns a new, empty store, closed when the test ends.
	Open func(t testing.TB) *sqlstore.DB
	// Reopen returns a second handle on the store s, as a restarted
	// process would open it; closed when the test ends.
	Reopen func(t testing.TB, s *sqlstore.DB) *sqlstore.DB
	// Where returns what the CLI opens s with: the data directory
	// (SQLite, --data) or the connection string (PostgreSQL,
	// --database-url).
	Where func(t testing.TB, s *sqlstore.DB) string
	// Exec runs a statement on s's database behind the store's back, as
	// someone with database access would: tests of tamper evidence.
	// Placeholders are the driver's (? on SQLite, $1 on PostgreSQL).
	Exec func(t testing.TB, s *sqlstore.DB, query string, args ...any)
}

// rawExec runs query on a fresh database/sql handle of driver.
func rawExec(t testing.TB, driver, dsn, query string, args ...any) {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// Backends returns the backends, SQLite first. Benchmarks use it directly;
// tests use Each.
func Backends() []Backend { return []Backend{sqliteBackend(), postgresBackend()} }

// EnvURLValue returns the test server's URL, "" when none is set.
func EnvURLValue() string { return os.Getenv(EnvURL) }

// Each runs fn once per backend, as subtests named after the backend.
func Each(t *testing.T, fn func(t *testing.T, b Backend)) {
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) {
			if b.Name == "postgres" {
				PostgresURL(t)
			}
			fn(t, b)
		})
	}
}

// PostgresURL returns the test server's URL or skips the test (fails it when
// CI=true).
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is not set: CI must run the PostgreSQL tests (source .ci/postgres)", EnvURL)
		}
		t.Skipf("%s is not set; `make test-postgres` runs the PostgreSQL tests", EnvURL)
	}
	return u
}

func sqliteBackend() Backend {
	var mu sync.Mutex
	dirs := map[*sqlstore.DB]string{}
	open := func(t testing.TB, dir string) *sqlstore.DB {
		t.Helper()
		db, err := sqlstore.OpenSQLite(context.Background(), dir, sqlstore.Options{Extractor: Extractor()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		mu.Lock()
		dirs[db] = dir
		mu.Unlock()
		return db
	}
	return Backend{
		Name: "sqlite",
		Open: func(t testing.TB) *sqlstore.DB { return open(t, t.TempDir()) },
		Reopen: func(t testing.TB, s *sqlstore.DB) *sqlstore.DB {
			mu.Lock()
			dir := dirs[s]
			mu.Unlock()
			return open(t, dir)
		},
		Where: func(t testing.TB, s *sqlstore.DB) string {
			mu.Lock()
			defer mu.Unlock()
			return dirs[s]
		},
		Exec: func(t testing.TB, s *sqlstore.DB, query string, args ...any) {
			mu.Lock()
			dir := dirs[s]
			mu.Unlock()
			rawExec(t, "sqlite", "file:"+filepath.Join(dir, sqlstore.SQLiteFile)+"?_pragma=busy_timeout(10000)", query, args...)
		},
	}
}

func postgresBackend() Backend {
	var mu sync.Mutex
	urls := map[*sqlstore.DB]string{}
	open := func(t testing.TB, u string) *sqlstore.DB {
		t.Helper()
		db, err := sqlstore.OpenPostgres(context.Background(), u, sqlstore.Options{Extractor: Extractor()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		mu.Lock()
		urls[db] = u
		mu.Unlock()
		return db
	}
	return Backend{
		Name: "postgres",
		Open: func(t testing.TB) *sqlstore.DB {
			t.Helper()
			return open(t, PostgresSchemaURL(t))
		},
		Reopen: func(t testing.TB, s *sqlstore.DB) *sqlstore.DB {
			mu.Lock()
			u := urls[s]
			mu.Unlock()
			return open(t, u)
		},
		Where: func(t testing.TB, s *sqlstore.DB) string {
			mu.Lock()
			defer mu.Unlock()
			return urls[s]
		},
		Exec: func(t testing.TB, s *sqlstore.DB, query string, args ...any) {
			mu.Lock()
			u := urls[s]
			mu.Unlock()
			rawExec(t, "pgx", u, query, args...)
		},
	}
}

// PostgresSchemaURL creates a fresh schema on the test server and returns the
// server's URL with its search_path set to it; the schema is dropped when
// the test ends. It skips the test without a server (fails it when CI=true).
// Tests that start a process on PostgreSQL (continuum serve) use it.
func PostgresSchemaURL(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	schema := "t_" + store.NewID()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		_ = admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	// Registered first, so it runs after the stores are closed.
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	return WithSearchPath(t, base, schema)
}

// WithSearchPath returns the connection string base with its search_path set
// to schema, for URLs and keyword/value strings.
func WithSearchPath(t testing.TB, base, schema string) string {
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
