package sqlstore

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/index"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/search"
	"github.com/continuum-ehr/continuum/internal/store"
)

// The search index (migrations/0002_search.sql, docs/decisions/0006-search-index.md):
// one table per parameter type, rows written in the transaction of the
// version they describe. Rows exist for live resources only: a new version
// replaces its resource's rows, a delete removes them.

// indexTable describes one index table: its name and the columns after the
// common rkey, type, org and param.
type indexTable struct {
	name string
	cols []string
	// The statements, built once: insert[k] writes 1<<k rows, del
	// removes a resource's rows.
	insert [insertSizes]string
	del    string
}

func newIndexTable(name string, cols []string) indexTable {
	tb := indexTable{name: name, cols: cols, del: "DELETE FROM " + name + " WHERE rkey = ?"}
	for k := range insertSizes {
		tb.insert[k] = tb.insertSQL(1 << k)
	}
	return tb
}

var (
	tokenTable     = newIndexTable("search_token", []string{"h_code", "h_sys_code", "h_sys", "h_of_type", "code", "text"})
	stringTable    = newIndexTable("search_string", []string{"norm", "h_exact"})
	dateTable      = newIndexTable("search_date", []string{"lo", "hi"})
	numberTable    = newIndexTable("search_number", []string{"val", "lo", "hi"})
	quantityTable  = newIndexTable("search_quantity", []string{"val", "lo", "hi", "h_code", "h_sys_code", "h_canon", "c_val", "c_lo", "c_hi"})
	referenceTable = newIndexTable("search_reference", []string{"target_type", "target_id", "h_target", "h_url", "h_ident"})
	uriTable       = newIndexTable("search_uri", []string{"value", "h_value"})
	compositeTable = newIndexTable("search_composite", []string{
		"a_h1", "a_h2", "a_h3", "a_val", "a_lo", "a_hi",
		"b_h1", "b_h2", "b_h3", "b_val", "b_lo", "b_hi",
		"c_h1", "c_h2", "c_h3", "c_val", "c_lo", "c_hi"})
	indexTables = []indexTable{tokenTable, stringTable, dateTable, numberTable, quantityTable, referenceTable, uriTable, compositeTable}
)

// insertSizes: INSERTs of 1, 2, 4, 8 and 16 rows are prepared per table
// when the store opens, and a resource's n rows of a table go in with one
// statement per bit of n (16 at a time above that): few statements, no
// parsing.
const insertSizes = 5

// insertSQL is the INSERT of n rows into tb.
func (tb indexTable) insertSQL(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(tb.name)
	b.WriteString(" (rkey, type, org, param, n, ")
	b.WriteString(strings.Join(tb.cols, ", "))
	b.WriteString(") VALUES ")
	row := "(?, ?, ?, ?, ?" + strings.Repeat(", ?", len(tb.cols)) + ")"
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// indexStatements are the index statements prepared when a store opens.
func indexStatements() []string {
	var out []string
	for _, tb := range indexTables {
		out = append(out, tb.insert[:]...)
		out = append(out, tb.del)
	}
	return append(out, sqlSetIndexed)
}

const sqlSetIndexed = `UPDATE resources SET ix = ? WHERE rkey = ?`

// finite keeps ±Inf (an open Range bound) and NaN out of the database:
// SQLite and PostgreSQL disagree on infinities, and ±MaxFloat64 orders the
// same way.
func finite(f float64) float64 {
	switch {
	case math.IsInf(f, 1):
		return math.MaxFloat64
	case math.IsInf(f, -1):
		return -math.MaxFloat64
	case math.IsNaN(f):
		return 0
	}
	return f
}

func nullable(f float64, ok bool) any {
	if !ok {
		return nil
	}
	return finite(f)
}

func foldedBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

// rowsOf flattens e into the argument lists of each table, common columns
// first, sorted by the first key so that a batch touches index pages in
// order (architecture.md §3).
func rowsOf(e *index.Entries) [][][]any {
	out := make([][][]any, len(indexTables))
	tokens := slices.Clone(e.Tokens)
	slices.SortFunc(tokens, func(a, b index.Token) int { return cmp.Compare(a.CodeHash, b.CodeHash) })
	for _, r := range tokens {
		out[0] = append(out[0], []any{r.Param, r.CodeHash, r.SystemCodeHash, r.SystemHash, r.OfTypeHash, r.Code,
			foldedBytes(normalizeText(r.Text))})
	}
	for _, r := range e.Strings {
		out[1] = append(out[1], []any{r.Param, []byte(r.Normalized), r.ExactHash})
	}
	for _, r := range e.Dates {
		out[2] = append(out[2], []any{r.Param, r.Low.UnixMicro(), r.High.UnixMicro()})
	}
	for _, r := range e.Numbers {
		out[3] = append(out[3], []any{r.Param, finite(numberValue(r.Value, r.Low, r.High)), finite(r.Low), finite(r.High)})
	}
	for _, r := range e.Quantities {
		val := nullable(numberValue(r.Value, r.Low, r.High), r.Value != "")
		cVal, cLo, cHi := any(nil), any(nil), any(nil)
		if r.Canonical != "" {
			cLo, cHi = finite(r.CanonicalLow), finite(r.CanonicalHigh)
			if r.Value != "" {
				cVal = finite((r.CanonicalLow + r.CanonicalHigh) / 2)
			}
		}
		out[4] = append(out[4], []any{r.Param, val, finite(r.Low), finite(r.High), r.CodeHash, r.SystemCodeHash,
			r.CanonicalHash, cVal, cLo, cHi})
	}
	for _, r := range e.References {
		out[5] = append(out[5], []any{r.Param, r.Type, r.ID, r.TargetHash, r.URLHash, r.IdentifierHash})
	}
	for _, r := range e.URIs {
		out[6] = append(out[6], []any{r.Param, r.Value, r.Hash})
	}
	for _, r := range e.Composites {
		row := []any{r.Param}
		for i := range 3 {
			if i < len(r.Parts) {
				row = append(row, partColumns(r.Parts[i])...)
			} else {
				row = append(row, nil, nil, nil, nil, nil, nil)
			}
		}
		out[7] = append(out[7], row)
	}
	return out
}

// normalizeText folds a token's display or text for :text, as strings are
// folded.
func normalizeText(s string) string {
	if s == "" {
		return ""
	}
	return search.NormalizeString(s)
}

// numberValue is the value a number or quantity row compares with: the
// middle of its implicit precision range (the number as written, up to
// float rounding).
func numberValue(written string, lo, hi float64) float64 {
	if f, err := strconv.ParseFloat(written, 64); err == nil && written != "" {
		return f
	}
	return (lo + hi) / 2
}

// partColumns are the six columns of one composite part: three keys, a
// value and its range (dates in microseconds).
func partColumns(p index.Part) []any {
	switch {
	case p.Token != nil:
		return []any{p.Token.CodeHash, p.Token.SystemCodeHash, p.Token.SystemHash, nil, nil, nil}
	case p.String != nil:
		return []any{p.String.ExactHash, compositeStringHash(p.String.Normalized), nil, nil, nil, nil}
	case p.Date != nil:
		lo, hi := float64(p.Date.Low.UnixMicro()), float64(p.Date.High.UnixMicro())
		return []any{nil, nil, nil, lo, lo, hi}
	case p.Number != nil:
		return []any{nil, nil, nil, finite(numberValue(p.Number.Value, p.Number.Low, p.Number.High)), finite(p.Number.Low), finite(p.Number.High)}
	case p.Quantity != nil:
		// val is the value as written; lo and hi the range in the
		// canonical unit when there is one (h3 set), as written otherwise.
		q := p.Quantity
		if q.Canonical != "" {
			return []any{q.CodeHash, q.SystemCodeHash, q.CanonicalHash,
				finite(numberValue(q.Value, q.Low, q.High)), finite(q.CanonicalLow), finite(q.CanonicalHigh)}
		}
		return []any{q.CodeHash, q.SystemCodeHash, nil, finite(numberValue(q.Value, q.Low, q.High)), finite(q.Low), finite(q.High)}
	case p.Reference != nil:
		return []any{p.Reference.TargetHash, p.Reference.URLHash, p.Reference.IdentifierHash, nil, nil, nil}
	case p.URI != nil:
		return []any{p.URI.Hash, nil, nil, nil, nil, nil}
	}
	return []any{nil, nil, nil, nil, nil, nil}
}

// compositeStringHash keys a string part of a composite by its folded
// form (composites match whole values, not prefixes).
func compositeStringHash(norm string) int64 { return index.StringExactHash("\x00folded", norm) }

// writeIndex replaces the index rows of resource rkey with those of res,
// the tree of the version just stored (nil for a delete: the rows go).
// fresh says the resource is new, so there is nothing to delete.
func (t *tx) writeIndex(ctx context.Context, rkey int64, typ, org string, res *fhir.Value, fresh bool) error {
	x := t.db.extractor
	if !fresh {
		for _, tb := range indexTables {
			if _, err := t.exec(ctx, tb.del, rkey); err != nil {
				return outcome.Wrap(err, "cannot update the search index")
			}
		}
	}
	if res == nil {
		return nil
	}
	if x == nil {
		// Written without an index: ReindexStale will find it.
		if !fresh {
			if _, err := t.exec(ctx, sqlSetIndexed, 0, rkey); err != nil {
				return outcome.Wrap(err, "cannot update the search index")
			}
		}
		return nil
	}
	e, err := x.Extract(res)
	if err != nil {
		return err
	}
	for i, rows := range rowsOf(&e) {
		if err := t.insertRows(ctx, indexTables[i], rkey, typ, org, rows); err != nil {
			return err
		}
	}
	if _, err := t.exec(ctx, sqlSetIndexed, index.ExtractorVersion, rkey); err != nil {
		return outcome.Wrap(err, "cannot update the search index")
	}
	return nil
}

// insertRows writes rows (each without the common columns) into tb.
func (t *tx) insertRows(ctx context.Context, tb indexTable, rkey int64, typ, org string, rows [][]any) error {
	width := 5 + len(tb.cols)
	args := make([]any, 0, (1<<(insertSizes-1))*width)
	seq := 0 // n: the row's number among the resource's rows of the table
	for len(rows) > 0 {
		k := insertSizes - 1
		for 1<<k > len(rows) {
			k--
		}
		n := 1 << k
		args = args[:0]
		for _, r := range rows[:n] {
			args = append(args, rkey, typ, org, r[0], seq)
			args = append(args, r[1:]...)
			seq++
		}
		if _, err := t.exec(ctx, tb.insert[k], args...); err != nil {
			return outcome.Wrap(err, "cannot write the search index")
		}
		rows = rows[n:]
	}
	return nil
}

// ReindexStale rebuilds the index rows of resources that an older
// extractor (index.ExtractorVersion) indexed, or none did — rows written
// before migration 0002, or before an extraction fix — up to batch
// resources per transaction, until none is left. It returns how many it
// reindexed. Searches meanwhile see the stale rows of the resources not yet
// done. A store without an Extractor does nothing.
func (db *DB) ReindexStale(ctx context.Context, batch int) (int, error) {
	if db.extractor == nil {
		return 0, nil
	}
	if batch <= 0 {
		batch = 500
	}
	total := 0
	for {
		n := 0
		err := db.Update(ctx, func(stx store.Tx) error {
			t := stx.(*tx)
			rows, err := t.query(ctx, `SELECT r.rkey, r.type, r.org, v.body FROM resources r
				JOIN versions v ON v.rkey = r.rkey AND v.version = r.version
				WHERE r.ix < ? AND r.deleted = 0 ORDER BY r.rkey LIMIT ?`, index.ExtractorVersion, batch)
			if err != nil {
				return outcome.Wrap(err, "cannot find stale index rows")
			}
			type stale struct {
				rkey     int64
				typ, org string
				body     []byte
			}
			var todo []stale
			for rows.Next() {
				var s stale
				if err := rows.Scan(&s.rkey, &s.typ, &s.org, &s.body); err != nil {
					rows.Close()
					return outcome.Wrap(err, "cannot find stale index rows")
				}
				todo = append(todo, s)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return outcome.Wrap(err, "cannot find stale index rows")
			}
			for _, s := range todo {
				body, err := t.db.codec.decode(s.body)
				if err != nil {
					return outcome.Wrap(err, "cannot read a stored version")
				}
				res, err := fhir.Parse(body)
				if err != nil {
					return outcome.Wrap(err, "a stored version is not JSON")
				}
				if err := t.writeIndex(ctx, s.rkey, s.typ, s.org, &res, false); err != nil {
					return err
				}
			}
			n = len(todo)
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < batch {
			return total, nil
		}
	}
}

// Analyze refreshes the query planner's statistics (ANALYZE on both
// engines). The search planner's joins depend on them: PostgreSQL's
// autovacuum keeps them current in steady state, but right after a bulk
// load or a reindex they describe nearly empty tables, and the planner then
// picks nested loops over thousands of rows. serve runs it after
// ReindexStale has indexed anything.
func (db *DB) Analyze(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, "ANALYZE"); err != nil {
		return outcome.Wrap(err, "cannot analyze the database")
	}
	return nil
}
