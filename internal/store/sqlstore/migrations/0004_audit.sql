-- 0004: the audit trail (internal/audit): an append-only hash chain of
-- AuditEvents, the facts they are searched by, and signed checkpoints.
-- Kept apart from resources: AuditEvents are never clinical data.
-- Portable SQL for SQLite and PostgreSQL; see docs/storage.md.

CREATE TABLE audit_events (
	seq BIGINT PRIMARY KEY,
	id TEXT NOT NULL,
	recorded BIGINT NOT NULL,
	record {{bytes}},
	digest {{bytes}} NOT NULL,
	link {{bytes}} NOT NULL
);

CREATE UNIQUE INDEX audit_events_id ON audit_events (id);

CREATE INDEX audit_events_recorded ON audit_events (recorded, seq);

CREATE TABLE audit_refs (
	seq BIGINT NOT NULL REFERENCES audit_events (seq),
	name TEXT NOT NULL,
	value TEXT NOT NULL
);

CREATE INDEX audit_refs_value ON audit_refs (name, value, seq);

CREATE TABLE audit_checkpoints (
	seq BIGINT PRIMARY KEY,
	link {{bytes}} NOT NULL,
	key_id TEXT NOT NULL,
	signature {{bytes}} NOT NULL,
	created BIGINT NOT NULL
);
