package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

var _ store.Identity = (*DB)(nil)

// The identity tables (migration 0003) are written outside the resource
// writer: each method is its own short transaction on the write pool, so
// sign-ins and token requests neither take the store clock nor wait for a
// group of resource writes to fill. On SQLite they still queue for the one
// writer connection; that is the point of having one.

// identityTx runs fn in a write transaction of its own.
func (db *DB) identityTx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	sqlTx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = sqlTx.Rollback() }()
	if err := fn(sqlTx); err != nil {
		if oe := outcome.As(err); oe != nil && oe.Kind != outcome.Internal {
			return err
		}
		if uniqueViolation(err) {
			return outcome.Errorf(outcome.Conflict, "cannot %s: it exists already", what)
		}
		return outcome.Wrap(err, "cannot "+what)
	}
	if err := sqlTx.Commit(); err != nil {
		return outcome.Wrap(err, "cannot "+what)
	}
	return nil
}

// uniqueViolation reports a duplicate key on either engine.
func uniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

func (db *DB) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, db.q(q), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// instant converts an optional instant (zero = none) to its column value.
func instant(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

func fromInstant(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return fromMicros(us)
}

func notFound(what string) error { return outcome.Errorf(outcome.NotFound, "%s is not known", what) }

// --- users ---

// CreateUser implements store.Identity.
func (db *DB) CreateUser(ctx context.Context, u store.User) error {
	if u.ID == "" || u.Username == "" || u.PasswordHash == "" || (u.Kind != "practitioner" && u.Kind != "patient") {
		return outcome.New(outcome.Invalid, "required", "a user needs an id, a username, a password hash and a kind")
	}
	return db.identityTx(ctx, "create the user", func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `INSERT INTO users (id, username, password_hash, kind, fhir_user, failures, locked_until,
			totp_seed, totp_step, mfa_enrolled, disabled, created_at, password_at) VALUES (?, ?, ?, ?, ?, 0, 0, ?, 0, ?, ?, ?, ?)`,
			u.ID, u.Username, u.PasswordHash, u.Kind, u.FHIRUser, u.TOTPSeed, boolInt(u.MFAEnrolled), boolInt(u.Disabled),
			instant(u.CreatedAt), instant(u.PasswordAt))
		if uniqueViolation(err) {
			return outcome.Errorf(outcome.Conflict, "the username %q is taken", u.Username)
		}
		if err != nil {
			return err
		}
		seen := map[store.Membership]bool{}
		for _, m := range u.Memberships {
			if seen[m] || m.Org == "" || m.Role == "" {
				continue
			}
			seen[m] = true
			if _, err := db.exec(ctx, tx, `INSERT INTO user_memberships (user_id, org, role) VALUES (?, ?, ?)`, u.ID, m.Org, m.Role); err != nil {
				return err
			}
		}
		return nil
	})
}

const selectUser = `SELECT id, username, password_hash, kind, fhir_user, failures, locked_until, totp_seed, mfa_enrolled,
	disabled, created_at, password_at FROM users `

func (db *DB) user(ctx context.Context, where string, arg any) (*store.User, error) {
	var (
		u                           store.User
		locked, created, passwordAt int64
		mfa, disabled               int
	)
	err := db.read.QueryRowContext(ctx, db.q(selectUser+where), arg).Scan(&u.ID, &u.Username, &u.PasswordHash, &u.Kind,
		&u.FHIRUser, &u.Failures, &locked, &u.TOTPSeed, &mfa, &disabled, &created, &passwordAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("the user")
	}
	if err != nil {
		return nil, outcome.Wrap(err, "cannot read a user")
	}
	u.LockedUntil, u.CreatedAt, u.PasswordAt = fromInstant(locked), fromInstant(created), fromInstant(passwordAt)
	u.MFAEnrolled, u.Disabled = mfa != 0, disabled != 0
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT org, role FROM user_memberships WHERE user_id = ? ORDER BY org, role`), u.ID)
	if err != nil {
		return nil, outcome.Wrap(err, "cannot read a user's memberships")
	}
	defer rows.Close()
	for rows.Next() {
		var m store.Membership
		if err := rows.Scan(&m.Org, &m.Role); err != nil {
			return nil, outcome.Wrap(err, "cannot read a user's memberships")
		}
		u.Memberships = append(u.Memberships, m)
	}
	if err := rows.Err(); err != nil {
		return nil, outcome.Wrap(err, "cannot read a user's memberships")
	}
	return &u, nil
}

// User implements store.Identity.
func (db *DB) User(ctx context.Context, id string) (*store.User, error) {
	return db.user(ctx, `WHERE id = ?`, id)
}

// UserByUsername implements store.Identity.
func (db *DB) UserByUsername(ctx context.Context, username string) (*store.User, error) {
	return db.user(ctx, `WHERE username = ?`, username)
}

func (db *DB) updateUser(ctx context.Context, what, q string, args ...any) error {
	return db.identityTx(ctx, what, func(tx *sql.Tx) error {
		n, err := db.exec(ctx, tx, q, args...)
		if err == nil && n == 0 {
			return notFound("the user")
		}
		return err
	})
}

// SetPassword implements store.Identity.
func (db *DB) SetPassword(ctx context.Context, userID, hash string, at time.Time) error {
	if hash == "" {
		return outcome.New(outcome.Invalid, "required", "a password hash is required")
	}
	return db.updateUser(ctx, "set the password", `UPDATE users SET password_hash = ?, password_at = ?, failures = 0,
		locked_until = 0 WHERE id = ?`, hash, instant(at), userID)
}

// SetTOTP implements store.Identity.
func (db *DB) SetTOTP(ctx context.Context, userID string, sealedSeed []byte, enrolled bool) error {
	return db.updateUser(ctx, "set the second factor", `UPDATE users SET totp_seed = ?, mfa_enrolled = ? WHERE id = ?`,
		sealedSeed, boolInt(enrolled), userID)
}

// UseTOTPStep implements store.Identity.
func (db *DB) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	return db.identityTx(ctx, "record the second-factor code", func(tx *sql.Tx) error {
		n, err := db.exec(ctx, tx, `UPDATE users SET totp_step = ? WHERE id = ? AND totp_step < ?`, step, userID, step)
		if err == nil && n == 0 {
			return outcome.Errorf(outcome.Conflict, "this code, or a later one, was used already")
		}
		return err
	})
}

// SignInFailed implements store.Identity. The count is incremented by the
// database, so concurrent failures on several nodes all count.
func (db *DB) SignInFailed(ctx context.Context, userID string, at time.Time, limit int, lockFor time.Duration) (time.Time, error) {
	var until time.Time
	err := db.identityTx(ctx, "count a failed sign-in", func(tx *sql.Tx) error {
		var failures int
		err := tx.QueryRowContext(ctx, db.q(`UPDATE users SET failures = failures + 1 WHERE id = ? RETURNING failures`), userID).Scan(&failures)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("the user")
		}
		if err != nil {
			return err
		}
		if limit > 0 && failures >= limit {
			until = at.Add(lockFor)
			_, err = db.exec(ctx, tx, `UPDATE users SET failures = 0, locked_until = ? WHERE id = ?`, micros(until), userID)
		}
		return err
	})
	return until, err
}

// SetDisabled implements store.Identity.
func (db *DB) SetDisabled(ctx context.Context, userID string, disabled bool, at time.Time) error {
	return db.identityTx(ctx, "change the account", func(tx *sql.Tx) error {
		n, err := db.exec(ctx, tx, `UPDATE users SET disabled = ? WHERE id = ?`, boolInt(disabled), userID)
		if err == nil && n == 0 {
			return notFound("the user")
		}
		if err != nil || !disabled {
			return err
		}
		if _, err := db.exec(ctx, tx, `DELETE FROM auth_sessions WHERE user_id = ?`, userID); err != nil {
			return err
		}
		_, err = db.exec(ctx, tx, `UPDATE oauth_grants SET revoked_at = ? WHERE user_id = ? AND revoked_at = 0`, micros(at), userID)
		return err
	})
}

// SignInSucceeded implements store.Identity.
func (db *DB) SignInSucceeded(ctx context.Context, userID string) error {
	return db.updateUser(ctx, "record a sign-in", `UPDATE users SET failures = 0, locked_until = 0 WHERE id = ?`, userID)
}

// --- clients ---

// CreateClient implements store.Identity.
func (db *DB) CreateClient(ctx context.Context, c store.Client) error {
	if c.ID == "" {
		return outcome.New(outcome.Invalid, "required", "a client needs an id")
	}
	uris, _ := json.Marshal(nonNil(c.RedirectURIs))
	orgs, _ := json.Marshal(nonNil(c.Orgs))
	return db.identityTx(ctx, "register the client", func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `INSERT INTO oauth_clients (id, name, secret_hash, scopes, redirect_uris, launch_uri,
			jwks_url, jwks, orgs, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.Name, c.SecretHash, c.Scopes, string(uris), c.LaunchURI, c.JWKSURL, c.JWKS, string(orgs), instant(c.CreatedAt))
		if uniqueViolation(err) {
			return outcome.Errorf(outcome.Conflict, "a client with id %q exists already", c.ID)
		}
		return err
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const selectClient = `SELECT id, name, secret_hash, scopes, redirect_uris, launch_uri, jwks_url, jwks, orgs, created_at
	FROM oauth_clients `

func scanClient(sc scanner) (*store.Client, error) {
	var (
		c          store.Client
		uris, orgs string
		created    int64
	)
	if err := sc.Scan(&c.ID, &c.Name, &c.SecretHash, &c.Scopes, &uris, &c.LaunchURI, &c.JWKSURL, &c.JWKS, &orgs, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(uris), &c.RedirectURIs); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(orgs), &c.Orgs); err != nil {
		return nil, err
	}
	c.CreatedAt = fromInstant(created)
	return &c, nil
}

// Client implements store.Identity.
func (db *DB) Client(ctx context.Context, id string) (*store.Client, error) {
	c, err := scanClient(db.read.QueryRowContext(ctx, db.q(selectClient+`WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("the client")
	}
	if err != nil {
		return nil, outcome.Wrap(err, "cannot read a client")
	}
	return c, nil
}

// Clients implements store.Identity.
func (db *DB) Clients(ctx context.Context) ([]store.Client, error) {
	rows, err := db.read.QueryContext(ctx, selectClient+`ORDER BY id`)
	if err != nil {
		return nil, outcome.Wrap(err, "cannot list the clients")
	}
	defer rows.Close()
	var out []store.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, outcome.Wrap(err, "cannot list the clients")
		}
		out = append(out, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, outcome.Wrap(err, "cannot list the clients")
	}
	return out, nil
}

// --- sessions ---

// CreateSession implements store.Identity. Expired sessions are purged on
// the way, so the table holds only live ones.
func (db *DB) CreateSession(ctx context.Context, s store.Session) error {
	if s.IDHash == "" || s.UserID == "" {
		return outcome.New(outcome.Invalid, "required", "a session needs an id and a user")
	}
	return db.identityTx(ctx, "start the session", func(tx *sql.Tx) error {
		if _, err := db.exec(ctx, tx, `DELETE FROM auth_sessions WHERE expires_at < ?`, instant(s.CreatedAt)); err != nil {
			return err
		}
		_, err := db.exec(ctx, tx, `INSERT INTO auth_sessions (id_hash, user_id, created_at, last_seen, expires_at, mfa)
			VALUES (?, ?, ?, ?, ?, ?)`, s.IDHash, s.UserID, instant(s.CreatedAt), instant(s.LastSeen), instant(s.ExpiresAt), boolInt(s.MFA))
		return err
	})
}

// Session implements store.Identity.
func (db *DB) Session(ctx context.Context, idHash string) (*store.Session, error) {
	var (
		s                      store.Session
		created, seen, expires int64
		mfa                    int
	)
	err := db.read.QueryRowContext(ctx, db.q(`SELECT id_hash, user_id, created_at, last_seen, expires_at, mfa
		FROM auth_sessions WHERE id_hash = ?`), idHash).Scan(&s.IDHash, &s.UserID, &created, &seen, &expires, &mfa)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("the session")
	}
	if err != nil {
		return nil, outcome.Wrap(err, "cannot read a session")
	}
	s.CreatedAt, s.LastSeen, s.ExpiresAt, s.MFA = fromInstant(created), fromInstant(seen), fromInstant(expires), mfa != 0
	return &s, nil
}

// TouchSession implements store.Identity.
func (db *DB) TouchSession(ctx context.Context, idHash string, seen time.Time, mfa bool) error {
	return db.identityTx(ctx, "update the session", func(tx *sql.Tx) error {
		q := `UPDATE auth_sessions SET last_seen = ? WHERE id_hash = ?`
		if mfa {
			q = `UPDATE auth_sessions SET last_seen = ?, mfa = 1 WHERE id_hash = ?`
		}
		n, err := db.exec(ctx, tx, q, instant(seen), idHash)
		if err == nil && n == 0 {
			return notFound("the session")
		}
		return err
	})
}

// DeleteSession implements store.Identity.
func (db *DB) DeleteSession(ctx context.Context, idHash string) error {
	return db.identityTx(ctx, "end the session", func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `DELETE FROM auth_sessions WHERE id_hash = ?`, idHash)
		return err
	})
}

// --- grants, codes, refresh tokens ---

// CreateGrant implements store.Identity.
func (db *DB) CreateGrant(ctx context.Context, g store.Grant) error {
	if g.ID == "" || g.ClientID == "" {
		return outcome.New(outcome.Invalid, "required", "a grant needs an id and a client")
	}
	return db.identityTx(ctx, "store the grant", func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `INSERT INTO oauth_grants (id, client_id, user_id, session_id, scopes, patient, encounter,
			context, launch, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			g.ID, g.ClientID, g.UserID, g.SessionID, g.Scopes, g.Patient, g.Encounter, g.Context, g.Launch, instant(g.CreatedAt),
			instant(g.ExpiresAt), instant(g.RevokedAt))
		return err
	})
}

// Grant implements store.Identity.
func (db *DB) Grant(ctx context.Context, id string) (*store.Grant, error) {
	var (
		g                         store.Grant
		created, expires, revoked int64
	)
	// Every authenticated FHIR request reads its grant (revocation), so the
	// statement is prepared once per connection (statements.go).
	var row *sql.Row
	if st := db.readStmts.get(db.q(sqlGrantByID)); st != nil {
		row = st.QueryRowContext(ctx, id)
	} else {
		row = db.read.QueryRowContext(ctx, db.q(sqlGrantByID), id)
	}
	err := row.Scan(&g.ID, &g.ClientID, &g.UserID,
		&g.SessionID, &g.Scopes, &g.Patient, &g.Encounter, &g.Context, &g.Launch, &created, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("the grant")
	}
	if err != nil {
		return nil, outcome.Wrap(err, "cannot read a grant")
	}
	g.CreatedAt, g.ExpiresAt, g.RevokedAt = fromInstant(created), fromInstant(expires), fromInstant(revoked)
	return &g, nil
}

// RevokeGrant implements store.Identity.
func (db *DB) RevokeGrant(ctx context.Context, id string, at time.Time) error {
	return db.identityTx(ctx, "revoke the grant", func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `UPDATE oauth_grants SET revoked_at = ? WHERE id = ? AND revoked_at = 0`, micros(at), id)
		return err
	})
}

// CreateCode implements store.Identity.
func (db *DB) CreateCode(ctx context.Context, c store.AuthCode) error {
	if c.Hash == "" || c.GrantID == "" {
		return outcome.New(outcome.Invalid, "required", "a code needs a digest and a grant")
	}
	return db.identityTx(ctx, "store the code", func(tx *sql.Tx) error {
		// Codes live minutes; drop those long expired.
		if _, err := db.exec(ctx, tx, `DELETE FROM oauth_codes WHERE expires_at < ?`, micros(c.ExpiresAt.Add(-24*time.Hour))); err != nil {
			return err
		}
		_, err := db.exec(ctx, tx, `INSERT INTO oauth_codes (hash, grant_id, client_id, redirect_uri, code_challenge, nonce,
			auth_time, expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)`, c.Hash, c.GrantID, c.ClientID, c.RedirectURI,
			c.CodeChallenge, c.Nonce, instant(c.AuthTime), instant(c.ExpiresAt))
		return err
	})
}

// ConsumeCode implements store.Identity.
func (db *DB) ConsumeCode(ctx context.Context, hash string, at time.Time) (*store.AuthCode, error) {
	var (
		c                    store.AuthCode
		used                 bool
		authTime, exp, usedA int64
	)
	err := db.identityTx(ctx, "redeem the code", func(tx *sql.Tx) error {
		n, err := db.exec(ctx, tx, `UPDATE oauth_codes SET used_at = ? WHERE hash = ? AND used_at = 0`, micros(at), hash)
		if err != nil {
			return err
		}
		used = n == 0
		err = tx.QueryRowContext(ctx, db.q(`SELECT hash, grant_id, client_id, redirect_uri, code_challenge, nonce, auth_time,
			expires_at, used_at FROM oauth_codes WHERE hash = ?`), hash).Scan(&c.Hash, &c.GrantID, &c.ClientID, &c.RedirectURI,
			&c.CodeChallenge, &c.Nonce, &authTime, &exp, &usedA)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("the code")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	c.AuthTime, c.ExpiresAt, c.UsedAt = fromInstant(authTime), fromInstant(exp), fromInstant(usedA)
	if used {
		return &c, outcome.Errorf(outcome.Conflict, "the code was used before")
	}
	return &c, nil
}

// CreateRefreshToken implements store.Identity.
func (db *DB) CreateRefreshToken(ctx context.Context, r store.RefreshToken) error {
	return db.identityTx(ctx, "store the refresh token", func(tx *sql.Tx) error {
		return db.insertRefresh(ctx, tx, r)
	})
}

func (db *DB) insertRefresh(ctx context.Context, tx *sql.Tx, r store.RefreshToken) error {
	if r.Hash == "" || r.GrantID == "" {
		return outcome.New(outcome.Invalid, "required", "a refresh token needs a digest and a grant")
	}
	_, err := db.exec(ctx, tx, `INSERT INTO oauth_refresh_tokens (hash, grant_id, created_at, expires_at, used_at)
		VALUES (?, ?, ?, ?, 0)`, r.Hash, r.GrantID, instant(r.CreatedAt), instant(r.ExpiresAt))
	return err
}

// RotateRefreshToken implements store.Identity.
func (db *DB) RotateRefreshToken(ctx context.Context, hash string, next store.RefreshToken, at time.Time) (*store.RefreshToken, error) {
	var (
		old  *store.RefreshToken
		used bool
	)
	err := db.identityTx(ctx, "rotate the refresh token", func(tx *sql.Tx) error {
		n, err := db.exec(ctx, tx, `UPDATE oauth_refresh_tokens SET used_at = ? WHERE hash = ? AND used_at = 0`, micros(at), hash)
		if err != nil {
			return err
		}
		used = n == 0
		old, err = scanRefresh(tx.QueryRowContext(ctx, db.q(selectRefresh), hash))
		if err != nil || used {
			return err
		}
		return db.insertRefresh(ctx, tx, next)
	})
	if err != nil {
		return nil, err
	}
	if used {
		return old, outcome.Errorf(outcome.Conflict, "the refresh token was used before")
	}
	return old, nil
}

const selectRefresh = `SELECT hash, grant_id, created_at, expires_at, used_at FROM oauth_refresh_tokens WHERE hash = ?`

func scanRefresh(s scanner) (*store.RefreshToken, error) {
	var (
		r                   store.RefreshToken
		created, exp, usedA int64
	)
	err := s.Scan(&r.Hash, &r.GrantID, &created, &exp, &usedA)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("the refresh token")
	}
	if err != nil {
		return nil, err
	}
	r.CreatedAt, r.ExpiresAt, r.UsedAt = fromInstant(created), fromInstant(exp), fromInstant(usedA)
	return &r, nil
}

// RefreshToken implements store.Identity.
func (db *DB) RefreshToken(ctx context.Context, hash string) (*store.RefreshToken, error) {
	r, err := scanRefresh(db.read.QueryRowContext(ctx, db.q(selectRefresh), hash))
	if err != nil && outcome.As(err) == nil {
		return nil, outcome.Wrap(err, "cannot read a refresh token")
	}
	return r, err
}

// --- launches, keys, replay ---

// CreateLaunch implements store.Identity.
func (db *DB) CreateLaunch(ctx context.Context, l store.Launch) error {
	if l.ID == "" || l.ClientID == "" {
		return outcome.New(outcome.Invalid, "required", "a launch needs an id and a client")
	}
	return db.identityTx(ctx, "store the launch", func(tx *sql.Tx) error {
		if _, err := db.exec(ctx, tx, `DELETE FROM smart_launches WHERE expires_at < ?`, micros(l.CreatedAt.Add(-24*time.Hour))); err != nil {
			return err
		}
		_, err := db.exec(ctx, tx, `INSERT INTO smart_launches (id, client_id, patient, encounter, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?)`, l.ID, l.ClientID, l.Patient, l.Encounter, instant(l.CreatedAt), instant(l.ExpiresAt))
		return err
	})
}

// Launch implements store.Identity.
func (db *DB) Launch(ctx context.Context, id string) (*store.Launch, error) {
	var (
		l            store.Launch
		created, exp int64
	)
	err := db.read.QueryRowContext(ctx, db.q(`SELECT id, client_id, patient, encounter, created_at, expires_at
		FROM smart_launches WHERE id = ?`), id).Scan(&l.ID, &l.ClientID, &l.Patient, &l.Encounter, &created, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("the launch")
	}
	if err != nil {
		return nil, outcome.Wrap(err, "cannot read a launch")
	}
	l.CreatedAt, l.ExpiresAt = fromInstant(created), fromInstant(exp)
	return &l, nil
}

// SigningKeys implements store.Identity.
func (db *DB) SigningKeys(ctx context.Context, since time.Time) ([]store.SigningKey, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT kid, alg, sealed, created_at FROM signing_keys
		WHERE created_at >= ? ORDER BY created_at DESC, kid`), instant(since))
	if err != nil {
		return nil, outcome.Wrap(err, "cannot read the signing keys")
	}
	defer rows.Close()
	var out []store.SigningKey
	for rows.Next() {
		var (
			k       store.SigningKey
			created int64
		)
		if err := rows.Scan(&k.KID, &k.Alg, &k.Sealed, &created); err != nil {
			return nil, outcome.Wrap(err, "cannot read the signing keys")
		}
		k.CreatedAt = fromInstant(created)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, outcome.Wrap(err, "cannot read the signing keys")
	}
	return out, nil
}

// AddSigningKey implements store.Identity.
func (db *DB) AddSigningKey(ctx context.Context, k store.SigningKey) error {
	if k.KID == "" || k.Alg == "" || len(k.Sealed) == 0 {
		return outcome.New(outcome.Invalid, "required", "a signing key needs a kid, an algorithm and the sealed key")
	}
	return db.identityTx(ctx, "store the signing key", func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `INSERT INTO signing_keys (kid, alg, sealed, created_at) VALUES (?, ?, ?, ?)`,
			k.KID, k.Alg, k.Sealed, instant(k.CreatedAt))
		return err
	})
}

// NoteJTI implements store.Identity.
func (db *DB) NoteJTI(ctx context.Context, issuer, jti string, expires, at time.Time) error {
	if issuer == "" || strings.TrimSpace(jti) == "" {
		return outcome.New(outcome.Invalid, "required", "a jti and its issuer are required")
	}
	return db.identityTx(ctx, "record the jti", func(tx *sql.Tx) error {
		if _, err := db.exec(ctx, tx, `DELETE FROM jwt_replay WHERE expires_at < ?`, micros(at)); err != nil {
			return err
		}
		_, err := db.exec(ctx, tx, `INSERT INTO jwt_replay (issuer, jti, expires_at) VALUES (?, ?, ?)`, issuer, jti, micros(expires))
		if uniqueViolation(err) {
			return outcome.Errorf(outcome.Conflict, "the assertion's jti was used before")
		}
		return err
	})
}
