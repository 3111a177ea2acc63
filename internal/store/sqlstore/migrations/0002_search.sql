-- 0002: the search index. One table per search parameter type
-- (https://hl7.org/fhir/R4/search.html#ptypes), filled from index.Extract in
-- the transaction that writes the version and emptied for a resource when a
-- new version replaces it or a delete removes it: index rows describe current,
-- live resources only. Every row carries the resource's internal key (rkey),
-- its type and its owning organization (org, "" for directory types), so that
-- a search narrowed to organizations is "org IN (...)" on the rows themselves.
-- Each table's primary key is (rkey, param, n), n numbering a resource's rows:
-- a resource's rows are together (replacing them is one range), and on SQLite
-- the tables are WITHOUT ROWID, so the key is the table itself rather than a
-- rowid table plus an index on rkey. Hashes are index.*Hash (FNV-1a 64 over kind, parameter code and value),
-- signed BIGINT. See docs/storage.md and docs/decisions/0006-search-index.md.

-- The extractor version that built a resource's rows; a reindex finds
-- resources whose ix is below index.ExtractorVersion (0: never indexed).
ALTER TABLE resources ADD COLUMN ix INTEGER NOT NULL DEFAULT 0;

-- The live resources of a type, by owner: searches without a positive
-- filter and their counts read only this index.
CREATE INDEX resources_type_live ON resources (type, deleted, org);

-- token: code, system|code (and |code), system| and :of-type keys; code for
-- _sort; text (folded, bytes) for :text.
CREATE TABLE search_token (
	rkey BIGINT NOT NULL,
	type TEXT NOT NULL,
	org TEXT NOT NULL,
	param TEXT NOT NULL,
	n INTEGER NOT NULL,
	h_code BIGINT NOT NULL,
	h_sys_code BIGINT NOT NULL,
	h_sys BIGINT NOT NULL,
	h_of_type BIGINT NOT NULL,
	code TEXT NOT NULL,
	text {{bytes}},
	PRIMARY KEY (rkey, param, n)
){{without_rowid}};

CREATE INDEX search_token_code ON search_token (h_code, type, rkey);

CREATE INDEX search_token_sys_code ON search_token (h_sys_code, type, rkey);

CREATE INDEX search_token_sys ON search_token (h_sys, type, rkey);


-- string: the folded form as bytes (byte order in both engines, whatever
-- the database collation), so a prefix search is a range scan; the exact
-- text's hash for :exact.
CREATE TABLE search_string (
	rkey BIGINT NOT NULL,
	type TEXT NOT NULL,
	org TEXT NOT NULL,
	param TEXT NOT NULL,
	n INTEGER NOT NULL,
	norm {{bytes}} NOT NULL,
	h_exact BIGINT NOT NULL,
	PRIMARY KEY (rkey, param, n)
){{without_rowid}};

CREATE INDEX search_string_norm ON search_string (type, param, norm);

CREATE INDEX search_string_exact ON search_string (h_exact, type, rkey);


-- date: [lo, hi) in Unix microseconds, UTC.
CREATE TABLE search_date (
	rkey BIGINT NOT NULL,
	type TEXT NOT NULL,
	org TEXT NOT NULL,
	param TEXT NOT NULL,
	n INTEGER NOT NULL,
	lo BIGINT NOT NULL,
	hi BIGINT NOT NULL,
	PRIMARY KEY (rkey, param, n)
){{without_rowid}};

CREATE INDEX search_date_lo ON search_date (type, param, lo, hi);

CREATE INDEX search_date_hi ON search_date (type, param, hi, lo);


-- number: the value and its implicit precision range.
CREATE TABLE search_number (
	rkey BIGINT NOT NULL,
	type TEXT NOT NULL,
	org TEXT NOT NULL,
	param TEXT NOT NULL,
	n INTEGER NOT NULL,
	val DOUBLE PRECISION NOT NULL,
	lo DOUBLE PRECISION NOT NULL,
	hi DOUBLE PRECISION NOT NULL,
	PRIMARY KEY (rkey, param, n)
){{without_rowid}};

CREATE INDEX search_number_val ON search_number (type, param, val);


-- quantity: as written (val NULL for a Range, whose bounds are lo and hi),
-- with code and system|code keys, and the UCUM canonical form when known.
CREATE TABLE search_quantity (
	rkey BIGINT NOT NULL,
	type TEXT NOT NULL,
	org TEXT NOT NULL,
	param TEXT NOT NULL,
	n INTEGER NOT NULL,
	val DOUBLE PRECISION,
	lo DOUBLE PRECISION NOT NULL,
	hi DOUBLE PRECISION NOT NULL,
	h_code BIGINT NOT NULL,
	h_sys_code BIGINT NOT NULL,
	h_canon BIGINT NOT NULL,
	c_val DOUBLE PRECISION,
	c_lo DOUBLE PRECISION,
	c_hi DOUBLE PRECISION,
	PRIMARY KEY (rkey, param, n)
){{without_rowid}};

CREATE INDEX search_quantity_val ON search_quantity (type, param, val);

CREATE INDEX search_quantity_sys_code ON search_quantity (h_sys_code, val);

CREATE INDEX search_quantity_canon ON search_quantity (h_canon, c_val);


-- reference: the target as Type/id (hashed, and plain for chains, _has and
-- _revinclude, which join it to resources), the URL of absolute and canonical
-- references, and the identifier of logical ones.
CREATE TABLE search_reference (
	rkey BIGINT NOT NULL,
	type TEXT NOT NULL,
	org TEXT NOT NULL,
	param TEXT NOT NULL,
	n INTEGER NOT NULL,
	target_type TEXT NOT NULL,
	target_id TEXT NOT NULL,
	h_target BIGINT NOT NULL,
	h_url BIGINT NOT NULL,
	h_ident BIGINT NOT NULL,
	PRIMARY KEY (rkey, param, n)
){{without_rowid}};

CREATE INDEX search_reference_target ON search_reference (h_target, type, rkey);

CREATE INDEX search_reference_url ON search_reference (h_url, type, rkey);

CREATE INDEX search_reference_ident ON search_reference (h_ident, type, rkey);

CREATE INDEX search_reference_to ON search_reference (target_id, target_type, param);


-- uri: the value and its hash.
CREATE TABLE search_uri (
	rkey BIGINT NOT NULL,
	type TEXT NOT NULL,
	org TEXT NOT NULL,
	param TEXT NOT NULL,
	n INTEGER NOT NULL,
	value TEXT NOT NULL,
	h_value BIGINT NOT NULL,
	PRIMARY KEY (rkey, param, n)
){{without_rowid}};

CREATE INDEX search_uri_value ON search_uri (h_value, type, rkey);


-- composite: one row per tuple; up to three parts (R4's largest composites
-- have three), each as hash keys (h1 code/exact/target/value, h2
-- system|code or canonical unit, h3 system|) and a value with its range (dates
-- in microseconds).
CREATE TABLE search_composite (
	rkey BIGINT NOT NULL,
	type TEXT NOT NULL,
	org TEXT NOT NULL,
	param TEXT NOT NULL,
	n INTEGER NOT NULL,
	a_h1 BIGINT, a_h2 BIGINT, a_h3 BIGINT, a_val DOUBLE PRECISION, a_lo DOUBLE PRECISION, a_hi DOUBLE PRECISION,
	b_h1 BIGINT, b_h2 BIGINT, b_h3 BIGINT, b_val DOUBLE PRECISION, b_lo DOUBLE PRECISION, b_hi DOUBLE PRECISION,
	c_h1 BIGINT, c_h2 BIGINT, c_h3 BIGINT, c_val DOUBLE PRECISION, c_lo DOUBLE PRECISION, c_hi DOUBLE PRECISION,
	PRIMARY KEY (rkey, param, n)
){{without_rowid}};

CREATE INDEX search_composite_code ON search_composite (a_h1, param);

CREATE INDEX search_composite_sys_code ON search_composite (a_h2, param);

