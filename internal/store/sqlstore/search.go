package sqlstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/search"
	"github.com/continuum-ehr/continuum/internal/store"
)

// Bounds of a search's work.
const (
	// maxIncluded bounds the resources _include and _revinclude add to one
	// page.
	maxIncluded = 1000
	// maxIterate bounds the rounds of :iterate.
	maxIterate = 4
)

// sortKind is how a sort key's values are compared and carried in a
// cursor.
type sortKind uint8

const (
	sortText sortKind = iota + 1
	sortBytes
	sortInt
	sortFloat
)

// sortColumn is the table and column a parameter type sorts by.
func sortColumn(typ string) (table, col string, kind sortKind, ok bool) {
	switch typ {
	case search.TypeToken:
		return "search_token", "code", sortText, true
	case search.TypeString:
		return "search_string", "norm", sortBytes, true
	case search.TypeDate:
		return "search_date", "lo", sortInt, true
	case search.TypeNumber:
		return "search_number", "val", sortFloat, true
	case search.TypeQuantity:
		return "search_quantity", "val", sortFloat, true
	case search.TypeReference:
		return "search_reference", "target_id", sortText, true
	case search.TypeURI:
		return "search_uri", "value", sortText, true
	}
	return "", "", 0, false
}

// cursor is the state of a search between pages, carried in the next and
// previous links (base64url JSON). Keyset paging: Keys are the sort values
// and Rkey the internal key of the row the page continues from; Snap is the
// largest rkey at the first page, so resources created since never appear.
type cursor struct {
	Query string            `json:"q"` // hash of the query it belongs to
	Snap  int64             `json:"s"`
	Back  bool              `json:"b,omitempty"` // the page before the position, not after
	Keys  []json.RawMessage `json:"k,omitempty"` // null for a resource without a value
	Rkey  int64             `json:"r"`
	Total int               `json:"t"`
}

func queryHash(q *search.Query, opts store.SearchOptions) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%v\x00%v", q.Type, q.String(), opts.Orgs, opts.Compartment)
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12])
}

func (c *cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func badCursor() error {
	return outcome.New(outcome.Invalid, "value", "the paging cursor is not valid for this search (start again from the first page)")
}

func decodeCursor(s, qh string, nkeys int) (*cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 64<<10 {
		return nil, badCursor()
	}
	var c cursor
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&c); err != nil || c.Query != qh || len(c.Keys) != nkeys {
		return nil, badCursor()
	}
	return &c, nil
}

// sortKey is one planned ORDER BY key.
type sortKey struct {
	expr frag
	desc bool
	kind sortKind
}

// keyValue converts a scanned sort value for the cursor.
func keyValue(v any, kind sortKind) json.RawMessage {
	if v == nil {
		return json.RawMessage("null")
	}
	var out any
	switch kind {
	case sortText:
		switch s := v.(type) {
		case string:
			out = s
		case []byte:
			out = string(s)
		}
	case sortBytes:
		switch s := v.(type) {
		case string:
			out = []byte(s)
		case []byte:
			out = s
		}
	case sortInt:
		switch n := v.(type) {
		case int64:
			out = n
		case float64:
			out = int64(n)
		}
	case sortFloat:
		switch n := v.(type) {
		case float64:
			out = n
		case int64:
			out = float64(n)
		}
	}
	b, _ := json.Marshal(out)
	return b
}

// cursorArg converts a cursor key back to a query argument; nil means the
// key was NULL.
func cursorArg(raw json.RawMessage, kind sortKind) (any, bool, error) {
	if string(raw) == "null" {
		return nil, true, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, false, badCursor()
	}
	switch kind {
	case sortText:
		if s, ok := v.(string); ok {
			return s, false, nil
		}
	case sortBytes:
		if s, ok := v.(string); ok {
			b, err := base64.StdEncoding.DecodeString(s)
			if err == nil {
				return b, false, nil
			}
		}
	case sortInt:
		if n, ok := v.(json.Number); ok {
			if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
				return i, false, nil
			}
		}
	case sortFloat:
		if n, ok := v.(json.Number); ok {
			if x, err := strconv.ParseFloat(string(n), 64); err == nil {
				return x, false, nil
			}
		}
	}
	return nil, false, badCursor()
}

// keyset builds the condition "the row comes after (or, back, before) the
// cursor position" over the sort keys k0… (NULLs last in either direction)
// and rkey.
func keyset(keys []sortKey, args []any, nulls []bool, rkey int64, back bool, i int) frag {
	if i == len(keys) {
		if back {
			return f("s.rkey < ?", rkey)
		}
		return f("s.rkey > ?", rkey)
	}
	col := "s.k" + strconv.Itoa(i)
	rest := keyset(keys, args, nulls, rkey, back, i+1)
	greater := ">"
	if keys[i].desc != back {
		greater = "<"
	}
	if nulls[i] {
		if back {
			// Before a NULL: every non-NULL, or NULL and before in the rest.
			return join("", []frag{f("(" + col + " IS NOT NULL OR (" + col + " IS NULL AND "), rest, f("))")})
		}
		return join("", []frag{f("(" + col + " IS NULL AND "), rest, f(")")})
	}
	v := args[i]
	if back {
		return join("", []frag{f("(("+col+" IS NOT NULL AND "+col+" "+greater+" ?) OR ("+col+" = ? AND ", v, v), rest, f("))")})
	}
	return join("", []frag{f("("+col+" IS NULL OR "+col+" "+greater+" ? OR ("+col+" = ? AND ", v, v), rest, f("))")})
}

// Search implements store.ReadTx.
func (t *readTx) Search(ctx context.Context, q *search.Query, opts store.SearchOptions) (*store.SearchPage, error) {
	if t.db.extractor == nil {
		return nil, notSupported("this store has no search index")
	}
	if (q.Contained != "" && q.Contained != "false") || q.ContainedIn != "" {
		return nil, notSupported("searching contained resources (_contained, _containedType) is not supported")
	}
	p := &planner{db: t.db, spec: t.db.extractor.Spec(), opts: opts, now: t.db.now()}
	types := q.Types
	if q.Type != "" {
		types = []string{q.Type}
	}
	// The sets every match must be in, and those it must not be in.
	var in, notIn []frag
	for _, fl := range q.Filters {
		s, err := p.filterSet(types, fl, 0)
		if err != nil {
			return nil, err
		}
		if s.negate {
			notIn = append(notIn, s.frag)
		} else {
			in = append(in, s.frag)
		}
	}
	if c := q.Compartment; c != nil {
		params := func(string) []string {
			var codes []string
			for _, sp := range c.Params {
				codes = append(codes, sp.Code)
			}
			return codes
		}
		in = append(in, p.compartmentSet(types, c.Type, c.ID, params, c.Self))
	}
	if c := opts.Compartment; c != nil {
		ts := types
		if len(ts) == 0 {
			ts = p.spec.ResourceTypes()
		}
		in = append(in, p.compartmentSet(ts, c.Type, c.ID, p.compartmentParams(c.Type), true))
	}
	qh := queryHash(q, opts)
	var cur *cursor
	if opts.Cursor != "" {
		var err error
		if cur, err = decodeCursor(opts.Cursor, qh, len(q.Sort)); err != nil {
			return nil, err
		}
	}
	page := &store.SearchPage{Total: -1}
	if cur == nil && (q.Total != "none" || q.Summary == "count" || q.Count == 0) {
		n, err := t.count(ctx, p, types, in, notIn)
		if err != nil {
			return nil, err
		}
		page.Total = n
	} else if cur != nil {
		page.Total = cur.Total
	}
	if q.Count == 0 || q.Summary == "count" {
		return page, nil
	}

	// The matches of this page, in order.
	var keys []sortKey
	for _, k := range q.Sort {
		table, col, kind, ok := sortColumn(k.Param.Type)
		if !ok {
			return nil, notSupported("cannot sort by %s", k.Param.Code)
		}
		// The smallest value sorts ascending, the largest descending
		// (a date by the end of its range). ORDER BY … LIMIT 1 rather
		// than MIN: PostgreSQL has no MIN of bytea.
		dir := "ASC"
		if k.Descending {
			dir = "DESC"
			if table == "search_date" {
				col = "hi"
			}
		}
		keys = append(keys, sortKey{kind: kind, desc: k.Descending,
			expr: f("(SELECT y."+col+" FROM "+table+" y WHERE y.rkey = r.rkey AND y.param = ? ORDER BY y."+col+" "+dir+" LIMIT 1)", k.Param.Code)})
	}
	snap := int64(0)
	if cur != nil {
		snap = cur.Snap
	} else if err := t.queryRow(ctx, `SELECT COALESCE(MAX(rkey), 0) FROM resources`).Scan(&snap); err != nil {
		return nil, outcome.Wrap(err, "cannot search")
	}
	back := cur != nil && cur.Back
	sel := []frag{f("SELECT r.rkey AS rkey")}
	for i, k := range keys {
		sel = append(sel, join("", []frag{f(", "), k.expr, f(" AS k" + strconv.Itoa(i))}))
	}
	// The first positive set drives: its rows are already of the searched
	// types, live and narrowed, so the resources table is not touched.
	// Without one, the resources of the types are the candidates.
	var from frag
	var conds []frag
	if len(in) > 0 {
		from = join("", []frag{f(" FROM (SELECT DISTINCT y0.rkey AS rkey FROM ("), in[0], f(") y0) r WHERE ")})
		conds = []frag{f("r.rkey <= ?", snap)}
		for _, s := range in[1:] {
			conds = append(conds, join("", []frag{f("r.rkey IN ("), s, f(")")}))
		}
	} else {
		from = f(" FROM resources r WHERE ")
		conds = []frag{typeCond("r", types), f("r.deleted = 0"), p.orgCond("r"), f("r.rkey <= ?", snap)}
	}
	for _, s := range notIn {
		conds = append(conds, join("", []frag{f("r.rkey NOT IN ("), s, f(")")}))
	}
	inner := join("", []frag{join("", sel), from, where(conds...)})
	outer := []frag{f("SELECT s.rkey"), frag{}}
	for i := range keys {
		outer = append(outer, f(", s.k"+strconv.Itoa(i)))
	}
	outer = append(outer, f(" FROM ("), inner, f(") s"))
	if cur != nil {
		args := make([]any, len(keys))
		nulls := make([]bool, len(keys))
		for i, k := range keys {
			v, null, err := cursorArg(cur.Keys[i], k.kind)
			if err != nil {
				return nil, err
			}
			args[i], nulls[i] = v, null
		}
		outer = append(outer, f(" WHERE "), keyset(keys, args, nulls, cur.Rkey, back, 0))
	}
	var order []string
	for i, k := range keys {
		col := "s.k" + strconv.Itoa(i)
		nullsLast, dir := "1 ELSE 0", "ASC"
		if back {
			nullsLast = "0 ELSE 1"
		}
		if k.desc != back {
			dir = "DESC"
		}
		order = append(order, "CASE WHEN "+col+" IS NULL THEN "+nullsLast+" END", col+" "+dir)
	}
	if back {
		order = append(order, "s.rkey DESC")
	} else {
		order = append(order, "s.rkey ASC")
	}
	outer = append(outer, f(" ORDER BY "+joinStrings(order)+" LIMIT ?", q.Count+1))
	stmt := join("", outer)
	rows, err := t.query(ctx, stmt.s, stmt.a...)
	if err != nil {
		return nil, outcome.Wrap(err, "cannot search")
	}
	type hit struct {
		rkey int64
		keys []json.RawMessage
	}
	var hits []hit
	for rows.Next() {
		vals := make([]any, 1+len(keys))
		var rkey int64
		vals[0] = &rkey
		raw := make([]any, len(keys))
		for i := range keys {
			vals[1+i] = &raw[i]
		}
		if err := rows.Scan(vals...); err != nil {
			rows.Close()
			return nil, outcome.Wrap(err, "cannot search")
		}
		h := hit{rkey: rkey}
		for i, k := range keys {
			h.keys = append(h.keys, keyValue(raw[i], k.kind))
		}
		hits = append(hits, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, outcome.Wrap(err, "cannot search")
	}
	more := len(hits) > q.Count
	if more {
		hits = hits[:q.Count]
	}
	if back {
		slices.Reverse(hits)
	}
	// Links: forward from the last hit, back from the first. Going back,
	// "more" means there is a page before; there is always one after
	// (the page we came from).
	mk := func(h hit, b bool) string {
		return (&cursor{Query: qh, Snap: snap, Back: b, Keys: h.keys, Rkey: h.rkey, Total: page.Total}).encode()
	}
	if len(hits) > 0 {
		if (!back && more) || back {
			page.Next = mk(hits[len(hits)-1], false)
		}
		if (back && more) || (!back && cur != nil) {
			page.Prev = mk(hits[0], true)
		}
	}
	rkeys := make([]int64, len(hits))
	for i, h := range hits {
		rkeys[i] = h.rkey
	}
	if page.Matches, err = t.versionsByKey(ctx, rkeys); err != nil {
		return nil, err
	}
	if page.Included, err = t.includes(ctx, p, q, types, rkeys); err != nil {
		return nil, err
	}
	return page, nil
}

func joinStrings(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}

// compartmentParams returns the parameter codes that put resources of each
// type in compartments of type typ (the R4 CompartmentDefinitions).
func (p *planner) compartmentParams(typ string) func(string) []string {
	for _, c := range p.spec.Compartments {
		if c.Code == typ {
			return func(t string) []string {
				var out []string
				for _, code := range c.Resources[t] {
					if code != "{def}" {
						out = append(out, code)
					}
				}
				return out
			}
		}
	}
	return func(string) []string { return nil }
}

// count counts the matches from the index alone: the first positive set
// drives, the others intersect; without one, the resources table.
func (t *readTx) count(ctx context.Context, p *planner, types []string, in, notIn []frag) (int, error) {
	var stmt frag
	if len(in) == 0 {
		stmt = join("", []frag{f("SELECT COUNT(*) FROM resources r WHERE "),
			where(typeCond("r", types), f("r.deleted = 0"), p.orgCond("r"))})
		for _, s := range notIn {
			stmt = join("", []frag{stmt, f(" AND r.rkey NOT IN ("), s, f(")")})
		}
	} else {
		parts := []frag{f("SELECT COUNT(DISTINCT d.rkey) FROM ("), in[0], f(") d WHERE 1 = 1")}
		for _, s := range in[1:] {
			parts = append(parts, f(" AND d.rkey IN ("), s, f(")"))
		}
		for _, s := range notIn {
			parts = append(parts, f(" AND d.rkey NOT IN ("), s, f(")"))
		}
		stmt = join("", parts)
	}
	var n int
	if err := t.queryRow(ctx, stmt.s, stmt.a...).Scan(&n); err != nil {
		return 0, outcome.Wrap(err, "cannot count")
	}
	return n, nil
}

// versionsByKey returns the current versions of rkeys, in that order.
func (t *readTx) versionsByKey(ctx context.Context, rkeys []int64) ([]*store.Version, error) {
	if len(rkeys) == 0 {
		return nil, nil
	}
	stmt := join("", []frag{f(`SELECT r.rkey, r.type, r.id, v.vkey, v.version, v.t, v.last_updated, v.org, v.method, v.body
		FROM versions v JOIN resources r ON r.rkey = v.rkey WHERE v.version = r.version AND `), inList("r.rkey", rkeys)})
	rows, err := t.query(ctx, stmt.s+` ORDER BY r.rkey`, stmt.a...)
	if err != nil {
		return nil, outcome.Wrap(err, "cannot read search results")
	}
	defer rows.Close()
	byKey := make(map[int64]*store.Version, len(rkeys))
	for rows.Next() {
		var rkey int64
		v, _, err := t.db.scanVersion(keyScanner{rows, &rkey})
		if err != nil {
			return nil, outcome.Wrap(err, "cannot read search results")
		}
		byKey[rkey] = v
	}
	if err := rows.Err(); err != nil {
		return nil, outcome.Wrap(err, "cannot read search results")
	}
	out := make([]*store.Version, 0, len(rkeys))
	for _, k := range rkeys {
		if v := byKey[k]; v != nil {
			out = append(out, v)
		}
	}
	return out, nil
}

// includes resolves _include and _revinclude
// (https://hl7.org/fhir/R4/search.html#include) from the matches, and
// :iterate from what was included, narrowed like the matches.
func (t *readTx) includes(ctx context.Context, p *planner, q *search.Query, types []string, matches []int64) ([]*store.Version, error) {
	if len(matches) == 0 || len(q.Include)+len(q.RevInclude) == 0 {
		return nil, nil
	}
	seen := map[int64]bool{}
	for _, k := range matches {
		seen[k] = true
	}
	var included []int64
	var narrow frag
	if c := p.opts.Compartment; c != nil {
		narrow = p.compartmentSet(p.spec.ResourceTypes(), c.Type, c.ID, p.compartmentParams(c.Type), true)
	}
	from := matches
	for round := 0; round <= maxIterate && len(from) > 0; round++ {
		var next []int64
		add := func(stmt frag) error {
			if !narrow.empty() {
				stmt = join("", []frag{f("SELECT i.rkey FROM ("), stmt, f(") i WHERE i.rkey IN ("), narrow, f(")")})
			}
			rows, err := t.query(ctx, stmt.s, stmt.a...)
			if err != nil {
				return outcome.Wrap(err, "cannot resolve includes")
			}
			defer rows.Close()
			for rows.Next() {
				var k int64
				if err := rows.Scan(&k); err != nil {
					return outcome.Wrap(err, "cannot resolve includes")
				}
				if !seen[k] && len(included) < maxIncluded {
					seen[k] = true
					included = append(included, k)
					next = append(next, k)
				}
			}
			return rows.Err()
		}
		for _, in := range q.Include {
			if round > 0 && !in.Iterate {
				continue
			}
			conds := []frag{inList("x.rkey", from), p.orgCond("t"), f("t.deleted = 0")}
			if in.Source != "" {
				conds = append(conds, f("x.type = ?", in.Source))
			}
			if in.Param != nil {
				conds = append(conds, f("x.param = ?", in.Param.Code))
			}
			if in.Target != "" {
				conds = append(conds, f("t.type = ?", in.Target))
			}
			if err := add(join("", []frag{f("SELECT DISTINCT t.rkey FROM search_reference x JOIN resources t ON t.type = x.target_type AND t.id = x.target_id WHERE "), where(conds...)})); err != nil {
				return nil, err
			}
		}
		for _, in := range q.RevInclude {
			if round > 0 && !in.Iterate {
				continue
			}
			conds := []frag{inList("t.rkey", from), p.orgCond("x"), f("x.type = ?", in.Source)}
			if in.Param != nil {
				conds = append(conds, f("x.param = ?", in.Param.Code))
			}
			if in.Target != "" {
				conds = append(conds, f("t.type = ?", in.Target))
			}
			if err := add(join("", []frag{f("SELECT DISTINCT x.rkey FROM search_reference x JOIN resources t ON t.type = x.target_type AND t.id = x.target_id WHERE "), where(conds...)})); err != nil {
				return nil, err
			}
		}
		from = next
		if !hasIterate(q) {
			break
		}
	}
	return t.versionsByKey(ctx, included)
}

func hasIterate(q *search.Query) bool {
	for _, in := range q.Include {
		if in.Iterate {
			return true
		}
	}
	for _, in := range q.RevInclude {
		if in.Iterate {
			return true
		}
	}
	return false
}

// keyScanner scans the rkey column before scanVersion's columns.
type keyScanner struct {
	s    scanner
	rkey *int64
}

func (k keyScanner) Scan(dest ...any) error { return k.s.Scan(append([]any{k.rkey}, dest...)...) }
