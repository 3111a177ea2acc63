// Package sqlstore implements the storage contract (internal/store) on SQLite
// and PostgreSQL with one SQL text and a small dialect table.
//
// It is the only package that imports database/sql and database drivers
// (internal/deptest enforces this): modernc.org/sqlite, pure Go so the binary
// stays static, for the embedded default under --data; github.com/jackc/pgx/v5
// through its database/sql adapter for --database-url.
//
// The schema (docs/storage.md, docs/decisions/0005-storage-schema.md) is
// created and upgraded by embedded, numbered, append-only migrations in
// migrations/, recorded in schema_migrations; opening an empty database
// migrates it. The SQL stays within what SQLite, PostgreSQL and the
// Postgres-compatible distributed engines share: no advisory locks, no SKIP
// LOCKED, no SERIAL, no partial indexes, identity columns in the standard
// form. One writer at a time (SQLite's single writer connection; PostgreSQL's
// lock on the store_clock row) is what makes the commit sequence equal commit
// order and conditional writes race-free; see the package store
// documentation.
//
// Version bodies are compressed at rest (codec.go,
// docs/decisions/0009-compression.md): zstd against a dictionary generated
// from the R4 definitions, behind a one-byte marker, so rows written before
// compression read unchanged. Only this package sees compressed bytes: the
// store contract takes and returns the JSON, which reads decompress row by
// row as they scan.
//
// The search index (index.go, migrations/0002_search.sql,
// docs/decisions/0006-search-index.md) is one table per search parameter
// type, filled from an *index.Extractor (Options.Extractor) in the
// transaction of every write. plan.go turns each filter of a search.Query
// into a set of internal keys over those tables, search.go intersects them,
// sorts, pages with keyset cursors and resolves includes. Values are always
// bound parameters.
package sqlstore
