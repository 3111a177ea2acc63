package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// selectVersion is the column list scanVersion reads.
const selectVersion = `SELECT r.type, r.id, v.vkey, v.version, v.t, v.last_updated, v.org, v.method, v.body
	FROM versions v JOIN resources r ON r.rkey = v.rkey `

type scanner interface{ Scan(dest ...any) error }

// scanVersion reads a row of selectVersion, decompressing the body.
func (db *DB) scanVersion(s scanner) (*store.Version, int64, error) {
	var (
		v                 store.Version
		vkey, version, lu int64
		method            int
		body              []byte
	)
	if err := s.Scan(&v.Type, &v.ID, &vkey, &version, &v.Seq, &lu, &v.Org, &method, &body); err != nil {
		return nil, 0, err
	}
	v.VersionID = strconv.FormatInt(version, 10)
	v.LastUpdated = fromMicros(lu)
	v.Method = store.Method(method)
	var err error
	if v.Body, err = db.codec.decode(body); err != nil {
		return nil, 0, err
	}
	return &v, vkey, nil
}

// Read implements store.ReadTx.
func (t *readTx) Read(ctx context.Context, typ, id string) (*store.Version, error) {
	row := t.queryRow(ctx, sqlReadCurrent, typ, id)
	return t.oneVersion(row, typ, id, "")
}

// Read implements store.Store: one statement, no transaction.
func (db *DB) Read(ctx context.Context, typ, id string) (*store.Version, error) {
	q := db.q(sqlReadCurrent)
	var row *sql.Row
	if st := db.readStmts.get(q); st != nil {
		row = st.QueryRowContext(ctx, typ, id)
	} else {
		row = db.read.QueryRowContext(ctx, q, typ, id)
	}
	return (&readTx{db: db}).oneVersion(row, typ, id, "")
}

// VRead implements store.ReadTx.
func (t *readTx) VRead(ctx context.Context, typ, id, versionID string) (*store.Version, error) {
	n, err := strconv.ParseInt(versionID, 10, 64)
	if err != nil || n < 1 || strconv.FormatInt(n, 10) != versionID {
		// The store only ever assigns canonical positive integers.
		return nil, outcome.Errorf(outcome.NotFound, "%s/%s has no version %q", typ, id, versionID)
	}
	row := t.queryRow(ctx, sqlVRead, typ, id, n)
	return t.oneVersion(row, typ, id, versionID)
}

func (t *readTx) oneVersion(row *sql.Row, typ, id, versionID string) (*store.Version, error) {
	v, _, err := t.db.scanVersion(row)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if versionID != "" {
			return nil, outcome.Errorf(outcome.NotFound, "%s/%s has no version %s", typ, id, versionID)
		}
		return nil, outcome.Errorf(outcome.NotFound, "%s/%s is not known", typ, id)
	case err != nil:
		return nil, outcome.Wrap(err, "cannot read a resource")
	case v.Deleted():
		return nil, &outcome.Error{Kind: outcome.Gone, Issues: []outcome.Issue{{
			Severity: outcome.SevError, Code: "deleted",
			Diagnostics: typ + "/" + id + " was deleted (version " + v.VersionID + ")",
		}}}
	}
	return v, nil
}

// FindByIdentifier implements store.ReadTx.
func (t *readTx) FindByIdentifier(ctx context.Context, typ, system, value string) ([]store.Ref, error) {
	q := `SELECT DISTINCT r.type, r.id FROM resource_identifiers i JOIN resources r ON r.rkey = i.rkey
		WHERE i.type = ? AND i.value = ? AND r.deleted = 0`
	args := []any{typ, value}
	if system != "" {
		q += ` AND i.system = ?`
		args = append(args, system)
	}
	rows, err := t.query(ctx, q+` ORDER BY r.id`, args...)
	if err != nil {
		return nil, outcome.Wrap(err, "cannot search identifiers")
	}
	defer rows.Close()
	var refs []store.Ref
	for rows.Next() {
		var r store.Ref
		if err := rows.Scan(&r.Type, &r.ID); err != nil {
			return nil, outcome.Wrap(err, "cannot search identifiers")
		}
		refs = append(refs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, outcome.Wrap(err, "cannot search identifiers")
	}
	return refs, nil
}

// current is the resources row of a resource.
type current struct {
	rkey    int64
	version int64
	deleted bool
	org     string
}

// lookup returns the resources row of typ/id, or nil.
func (t *tx) lookup(ctx context.Context, typ, id string) (*current, error) {
	var c current
	var deleted int
	err := t.queryRow(ctx, sqlLookup, typ, id).
		Scan(&c.rkey, &c.version, &deleted, &c.org)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, outcome.Wrap(err, "cannot read a resource")
	}
	c.deleted = deleted != 0
	return &c, nil
}

// checkWrite checks what the contract requires of a write and returns the
// resource's type.
func checkWrite(w store.Write) (string, error) {
	if w.Resource == nil || w.Resource.Kind != fhir.Object {
		return "", outcome.New(outcome.Invalid, "structure", "a resource must be a JSON object")
	}
	typ := w.Resource.ResourceType()
	if typ == "" {
		return "", outcome.New(outcome.Invalid, "required", "the resource has no resourceType", "resourceType")
	}
	switch {
	case store.DirectoryType(typ) && w.Org != "":
		return "", outcome.New(outcome.Invalid, "business-rule", typ+" is a deployment-wide directory type: no organization owns it")
	case !store.DirectoryType(typ) && w.Org == "":
		return "", outcome.New(outcome.Invalid, "business-rule", typ+" must be owned by an organization")
	case w.Org != "" && !store.ValidID(w.Org):
		return "", outcome.New(outcome.Invalid, "value", "the owning organization's id is not a valid id")
	}
	return typ, nil
}

// Create implements store.Tx.
func (t *tx) Create(ctx context.Context, w store.Write) (*store.Version, error) {
	typ, err := checkWrite(w)
	if err != nil {
		return nil, err
	}
	return t.insertResource(ctx, typ, store.NewID(), store.MethodPost, w)
}

// Put implements store.Tx.
func (t *tx) Put(ctx context.Context, w store.Write) (*store.Version, error) {
	typ, err := checkWrite(w)
	if err != nil {
		return nil, err
	}
	id := w.Resource.Str("id")
	if !store.ValidID(id) {
		return nil, outcome.New(outcome.Invalid, "value", "the resource's id is missing or not a valid id", typ+".id")
	}
	cur, err := t.lookup(ctx, typ, id)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		if w.IfMatch != "" {
			return nil, outcome.Errorf(outcome.Precondition, "%s/%s does not exist, so it cannot be at version %q", typ, id, w.IfMatch)
		}
		return t.insertResource(ctx, typ, id, store.MethodPut, w)
	}
	if w.IfMatch != "" && w.IfMatch != strconv.FormatInt(cur.version, 10) {
		return nil, outcome.Errorf(outcome.Precondition, "%s/%s is at version %d, not %q", typ, id, cur.version, w.IfMatch)
	}
	next := cur.version + 1
	if err := t.noteWrite(ctx); err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, sqlUpdateResource,
		next, w.Org, t.seq, cur.rkey); err != nil {
		return nil, outcome.Wrap(err, "cannot update a resource")
	}
	v, tree, err := t.insertVersion(ctx, cur.rkey, typ, id, next, store.MethodPut, w.Org, w.Resource)
	if err != nil {
		return nil, err
	}
	if err := t.replaceIdentifiers(ctx, cur.rkey, typ, w.Org, w.Resource); err != nil {
		return nil, err
	}
	if err := t.writeIndex(ctx, cur.rkey, typ, w.Org, tree, false); err != nil {
		return nil, err
	}
	return v, nil
}

func (t *tx) insertResource(ctx context.Context, typ, id string, m store.Method, w store.Write) (*store.Version, error) {
	if err := t.noteWrite(ctx); err != nil {
		return nil, err
	}
	var rkey int64
	err := t.queryRow(ctx, sqlInsertResource,
		typ, id, w.Org, t.seq).Scan(&rkey)
	if err != nil {
		return nil, outcome.Wrap(err, "cannot create a resource")
	}
	v, tree, err := t.insertVersion(ctx, rkey, typ, id, 1, m, w.Org, w.Resource)
	if err != nil {
		return nil, err
	}
	if err := t.insertIdentifiers(ctx, rkey, typ, w.Org, w.Resource); err != nil {
		return nil, err
	}
	if err := t.writeIndex(ctx, rkey, typ, w.Org, tree, true); err != nil {
		return nil, err
	}
	return v, nil
}

// insertVersion stores one version; res nil stores a tombstone. It
// returns the stored tree too (nil for a tombstone), for the index.
func (t *tx) insertVersion(ctx context.Context, rkey int64, typ, id string, version int64, m store.Method, org string, res *fhir.Value) (*store.Version, *fhir.Value, error) {
	v := &store.Version{
		Type: typ, ID: id, VersionID: strconv.FormatInt(version, 10),
		LastUpdated: fromMicros(t.instant), Seq: t.seq, Org: org, Method: m,
	}
	var tree *fhir.Value
	if res != nil {
		st := store.StampTree(res, id, v.VersionID, v.LastUpdated)
		tree = &st
		v.Body = st.Marshal()
	}
	_, err := t.exec(ctx, sqlInsertVersion,
		rkey, version, typ, t.seq, t.instant, int(m), org, t.db.codec.encode(v.Body))
	if err != nil {
		return nil, nil, outcome.Wrap(err, "cannot store a version")
	}
	return v, tree, nil
}

// replaceIdentifiers keeps resource_identifiers equal to the identifiers of
// the current version (none for a tombstone: res nil).
func (t *tx) replaceIdentifiers(ctx context.Context, rkey int64, typ, org string, res *fhir.Value) error {
	if _, err := t.exec(ctx, sqlDeleteIdentifiers, rkey); err != nil {
		return outcome.Wrap(err, "cannot index identifiers")
	}
	if res == nil {
		return nil
	}
	return t.insertIdentifiers(ctx, rkey, typ, org, res)
}

// insertIdentifiers indexes the identifiers of a new current version.
func (t *tx) insertIdentifiers(ctx context.Context, rkey int64, typ, org string, res *fhir.Value) error {
	for _, id := range identifiers(res) {
		if _, err := t.exec(ctx, sqlInsertIdentifier,
			rkey, typ, id.system, id.value, org); err != nil {
			return outcome.Wrap(err, "cannot index identifiers")
		}
	}
	return nil
}

type identifier struct{ system, value string }

// identifiers returns the top-level identifiers of res with a value. Most
// types have identifier 0..*, a few 0..1 (an object, not an array).
func identifiers(res *fhir.Value) []identifier {
	v, ok := res.Get("identifier")
	if !ok {
		return nil
	}
	items := v.Items
	if v.Kind == fhir.Object {
		items = []fhir.Value{*v}
	}
	var out []identifier
	for i := range items {
		if items[i].Kind != fhir.Object {
			continue
		}
		if value := items[i].Str("value"); value != "" {
			out = append(out, identifier{system: items[i].Str("system"), value: value})
		}
	}
	return out
}

// Delete implements store.Tx.
func (t *tx) Delete(ctx context.Context, typ, id, ifMatch string) (*store.Version, error) {
	cur, err := t.lookup(ctx, typ, id)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return nil, outcome.Errorf(outcome.NotFound, "%s/%s is not known", typ, id)
	}
	if ifMatch != "" && ifMatch != strconv.FormatInt(cur.version, 10) {
		return nil, outcome.Errorf(outcome.Precondition, "%s/%s is at version %d, not %q", typ, id, cur.version, ifMatch)
	}
	if cur.deleted {
		row := t.queryRow(ctx, sqlVersionByKey, cur.rkey, cur.version)
		v, _, err := t.db.scanVersion(row)
		if err != nil {
			return nil, outcome.Wrap(err, "cannot read a resource")
		}
		return v, nil
	}
	if err := t.noteWrite(ctx); err != nil {
		return nil, err
	}
	next := cur.version + 1
	if _, err := t.exec(ctx, sqlDeleteResource,
		next, t.seq, cur.rkey); err != nil {
		return nil, outcome.Wrap(err, "cannot delete a resource")
	}
	v, _, err := t.insertVersion(ctx, cur.rkey, typ, id, next, store.MethodDelete, cur.org, nil)
	if err != nil {
		return nil, err
	}
	if err := t.replaceIdentifiers(ctx, cur.rkey, typ, cur.org, nil); err != nil {
		return nil, err
	}
	if err := t.writeIndex(ctx, cur.rkey, typ, cur.org, nil, false); err != nil {
		return nil, err
	}
	return v, nil
}
