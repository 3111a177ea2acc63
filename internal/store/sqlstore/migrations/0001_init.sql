-- 0001: versioned resources, the commit clock, identifiers, jobs.
-- Portable SQL for SQLite and PostgreSQL (and Postgres-compatible distributed
-- engines): {{key}} is the dialect's int64 surrogate key, {{bytes}} its blob
-- type. One statement per ";" at the end of a line. See docs/storage.md.

CREATE TABLE store_clock (
	id INTEGER PRIMARY KEY,
	seq BIGINT NOT NULL,
	instant BIGINT NOT NULL
);

INSERT INTO store_clock (id, seq, instant) VALUES (1, 0, 0);

CREATE TABLE transactions (
	t BIGINT PRIMARY KEY,
	instant BIGINT NOT NULL
);

CREATE INDEX transactions_instant ON transactions (instant);

CREATE TABLE resources (
	rkey {{key}},
	type TEXT NOT NULL,
	id TEXT NOT NULL,
	version BIGINT NOT NULL,
	deleted SMALLINT NOT NULL,
	org TEXT NOT NULL,
	t BIGINT NOT NULL
);

CREATE UNIQUE INDEX resources_type_id ON resources (type, id);

CREATE TABLE versions (
	vkey {{key}},
	rkey BIGINT NOT NULL REFERENCES resources (rkey),
	version BIGINT NOT NULL,
	type TEXT NOT NULL,
	t BIGINT NOT NULL,
	last_updated BIGINT NOT NULL,
	method SMALLINT NOT NULL,
	org TEXT NOT NULL,
	body {{bytes}}
);

CREATE UNIQUE INDEX versions_rkey_version ON versions (rkey, version);

CREATE INDEX versions_t ON versions (t, vkey);

CREATE INDEX versions_type_t ON versions (type, t, vkey);

CREATE TABLE resource_identifiers (
	rkey BIGINT NOT NULL REFERENCES resources (rkey),
	type TEXT NOT NULL,
	system TEXT NOT NULL,
	value TEXT NOT NULL,
	org TEXT NOT NULL
);

CREATE INDEX resource_identifiers_value ON resource_identifiers (type, value, system);

CREATE INDEX resource_identifiers_rkey ON resource_identifiers (rkey);

CREATE TABLE jobs (
	jkey {{key}},
	id TEXT NOT NULL,
	kind TEXT NOT NULL,
	org TEXT NOT NULL,
	payload {{bytes}},
	state TEXT NOT NULL,
	attempts INTEGER NOT NULL,
	max_attempts INTEGER NOT NULL,
	run_after BIGINT NOT NULL,
	lease_owner TEXT NOT NULL,
	lease_until BIGINT NOT NULL,
	progress_done BIGINT NOT NULL,
	progress_total BIGINT NOT NULL,
	progress_note TEXT NOT NULL,
	result {{bytes}},
	last_error TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX jobs_id ON jobs (id);

CREATE INDEX jobs_runnable ON jobs (state, run_after);
