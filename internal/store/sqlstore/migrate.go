package sqlstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/continuum-ehr/continuum/internal/outcome"
)

// migrations are numbered SQL files, applied in order, each once, each in its
// own transaction. They are append-only: a released migration is never
// edited; a change is a new file. (goose would do this in 109 modules;
// dependencies.md.)
//
//go:embed migrations/*.sql
var migrations embed.FS

type migration struct {
	version int
	name    string
	stmts   []string
}

// loadMigrations reads the embedded migrations for dialect d.
func loadMigrations(d dialect) ([]migration, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_what.sql", base)
		}
		b, err := migrations.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, stmts: splitStatements(d.ddl.Replace(string(b)))})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected number %d", m.name, i+1)
		}
	}
	return out, nil
}

// splitStatements splits SQL at semicolons that end a line, dropping
// comment lines. Migrations are written that way; it spares a SQL lexer, and
// drivers differ in whether one Exec may run several statements.
func splitStatements(s string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(s, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	return out
}

// migrate brings the schema up to date; on an empty database it creates it.
// Concurrent migrators (two nodes starting at once) are safe: each migration
// inserts its schema_migrations row first, in the same transaction as its
// statements, so the second migrator blocks on that key and then fails and
// re-reads; SQLite's writer lock serializes them anyway.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := loadMigrations(db.d)
	if err != nil {
		return outcome.Wrap(err, "cannot load migrations")
	}
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return outcome.Wrap(err, "cannot create schema_migrations")
	}
	for _, m := range ms {
		for attempt := 0; ; attempt++ {
			err := db.apply(ctx, m)
			if err == nil {
				break
			}
			applied, aerr := db.applied(ctx, m.version)
			if aerr == nil && applied {
				break // another node applied it meanwhile
			}
			if attempt == 2 {
				return outcome.Wrap(err, "cannot apply migration "+m.name)
			}
		}
	}
	return nil
}

func (db *DB) applied(ctx context.Context, version int) (bool, error) {
	var n int
	err := db.write.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), version).Scan(&n)
	return n > 0, err
}

// apply runs one migration unless it has been applied.
func (db *DB) apply(ctx context.Context, m migration) error {
	sqlTx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = sqlTx.Rollback() }()
	var n int
	if err := sqlTx.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), m.version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := sqlTx.ExecContext(ctx, db.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
		m.version, m.name, micros(db.now())); err != nil {
		return err
	}
	for _, s := range m.stmts {
		if _, err := sqlTx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%w in %q", err, s)
		}
	}
	return sqlTx.Commit()
}

// SchemaVersion returns the number of the last applied migration.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil {
		return 0, outcome.Wrap(err, "cannot read the schema version")
	}
	return v, nil
}
