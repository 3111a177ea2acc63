-- 0003: identity and the SMART/OIDC authorization server (store.Identity).
-- Portable SQL as in 0001. Instants are Unix microseconds (0 = none);
-- booleans SMALLINT. Secrets are stored hashed or sealed, never in the clear:
-- see docs/security.md.

CREATE TABLE users (
	ukey {{key}},
	id TEXT NOT NULL,
	username TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	kind TEXT NOT NULL,
	fhir_user TEXT NOT NULL,
	failures INTEGER NOT NULL,
	locked_until BIGINT NOT NULL,
	totp_seed {{bytes}},
	totp_step BIGINT NOT NULL,
	mfa_enrolled SMALLINT NOT NULL,
	disabled SMALLINT NOT NULL,
	created_at BIGINT NOT NULL,
	password_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX users_id ON users (id);

CREATE UNIQUE INDEX users_username ON users (username);

CREATE TABLE user_memberships (
	user_id TEXT NOT NULL,
	org TEXT NOT NULL,
	role TEXT NOT NULL,
	PRIMARY KEY (user_id, org, role)
);

CREATE INDEX user_memberships_org ON user_memberships (org);

CREATE TABLE oauth_clients (
	ckey {{key}},
	id TEXT NOT NULL,
	name TEXT NOT NULL,
	secret_hash TEXT NOT NULL,
	scopes TEXT NOT NULL,
	redirect_uris TEXT NOT NULL,
	launch_uri TEXT NOT NULL,
	jwks_url TEXT NOT NULL,
	jwks TEXT NOT NULL,
	orgs TEXT NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX oauth_clients_id ON oauth_clients (id);

CREATE TABLE auth_sessions (
	id_hash TEXT PRIMARY KEY,
	user_id TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	last_seen BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	mfa SMALLINT NOT NULL
);

CREATE INDEX auth_sessions_expires ON auth_sessions (expires_at);

CREATE TABLE oauth_grants (
	id TEXT PRIMARY KEY,
	client_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	session_id TEXT NOT NULL,
	scopes TEXT NOT NULL,
	patient TEXT NOT NULL,
	encounter TEXT NOT NULL,
	context TEXT NOT NULL,
	launch TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	revoked_at BIGINT NOT NULL
);

CREATE INDEX oauth_grants_user ON oauth_grants (user_id);

CREATE TABLE oauth_codes (
	hash TEXT PRIMARY KEY,
	grant_id TEXT NOT NULL,
	client_id TEXT NOT NULL,
	redirect_uri TEXT NOT NULL,
	code_challenge TEXT NOT NULL,
	nonce TEXT NOT NULL,
	auth_time BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at BIGINT NOT NULL
);

CREATE TABLE oauth_refresh_tokens (
	hash TEXT PRIMARY KEY,
	grant_id TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at BIGINT NOT NULL
);

CREATE INDEX oauth_refresh_tokens_grant ON oauth_refresh_tokens (grant_id);

CREATE TABLE smart_launches (
	id TEXT PRIMARY KEY,
	client_id TEXT NOT NULL,
	patient TEXT NOT NULL,
	encounter TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);

CREATE TABLE signing_keys (
	kid TEXT PRIMARY KEY,
	alg TEXT NOT NULL,
	sealed {{bytes}} NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE INDEX signing_keys_created ON signing_keys (created_at);

CREATE TABLE jwt_replay (
	issuer TEXT NOT NULL,
	jti TEXT NOT NULL,
	expires_at BIGINT NOT NULL,
	PRIMARY KEY (issuer, jti)
);

CREATE INDEX jwt_replay_expires ON jwt_replay (expires_at);
