package sqlstore

// The statements of the hot paths (read, vread, writes, the clock), prepared
// once per connection on SQLite when a store opens (stmtCache). Others run
// unprepared. Placeholders are ?; DB.q rewrites them for PostgreSQL.
const (
	sqlReadCurrent       = selectVersion + `WHERE r.type = ? AND r.id = ? AND v.version = r.version`
	sqlVRead             = selectVersion + `WHERE r.type = ? AND r.id = ? AND v.version = ?`
	sqlLookup            = `SELECT rkey, version, deleted, org FROM resources WHERE type = ? AND id = ?`
	sqlUpdateResource    = `UPDATE resources SET version = ?, deleted = 0, org = ?, t = ? WHERE rkey = ?`
	sqlInsertResource    = `INSERT INTO resources (type, id, version, deleted, org, t) VALUES (?, ?, 1, 0, ?, ?) RETURNING rkey`
	sqlInsertVersion     = `INSERT INTO versions (rkey, version, type, t, last_updated, method, org, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	sqlDeleteIdentifiers = `DELETE FROM resource_identifiers WHERE rkey = ?`
	sqlInsertIdentifier  = `INSERT INTO resource_identifiers (rkey, type, system, value, org) VALUES (?, ?, ?, ?, ?)`
	sqlVersionByKey      = selectVersion + `WHERE v.rkey = ? AND v.version = ?`
	sqlDeleteResource    = `UPDATE resources SET version = ?, deleted = 1, t = ? WHERE rkey = ?`
	sqlInsertTransaction = `INSERT INTO transactions (t, instant) VALUES (?, ?)`
	sqlJobByID           = selectJob + `WHERE id = ?`
	sqlResourceKey       = `SELECT rkey FROM resources WHERE type = ? AND id = ?`
	sqlFirstSince        = `SELECT MIN(t) FROM transactions WHERE instant >= ?`
	sqlGrantByID         = `SELECT id, client_id, user_id, session_id, scopes, patient, encounter, context, launch, created_at,
		expires_at, revoked_at FROM oauth_grants WHERE id = ?`
	sqlAuditHead = `SELECT seq, link FROM audit_events ORDER BY seq DESC LIMIT 1`
	sqlTakeClock = `UPDATE store_clock SET seq = seq + 1, instant = CASE WHEN instant < ? THEN ? ELSE instant END
		 WHERE id = 1 RETURNING seq, instant`
)

// hotStatements returns the statements prepared when a store opens.
func hotStatements() []string {
	return append([]string{
		sqlReadCurrent,
		sqlVRead,
		sqlLookup,
		sqlUpdateResource,
		sqlInsertResource,
		sqlInsertVersion,
		sqlDeleteIdentifiers,
		sqlInsertIdentifier,
		sqlVersionByKey,
		sqlDeleteResource,
		sqlInsertTransaction,
		sqlJobByID,
		sqlResourceKey,
		sqlFirstSince,
		sqlTakeClock,
		sqlGrantByID,
		sqlAuditHead,
	}, indexStatements()...)
}
