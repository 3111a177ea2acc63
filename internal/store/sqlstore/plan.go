package sqlstore

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/index"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/search"
	"github.com/continuum-ehr/continuum/internal/store"
)

// The planner turns a search.Query into SQL over the index tables
// (migrations/0002_search.sql). Every filter becomes a set of internal keys
// (rkey) — "SELECT x.rkey FROM search_<type> x WHERE …" — and the query is
// their intersection: IN for a filter, NOT IN for a negated one (:not, ne,
// :missing=true). Chains and _has are the same sets joined through
// search_reference and resources, recursively. Values are always bound
// parameters; the SQL text holds only names the planner chose.

// frag is a piece of SQL with its arguments, in placeholder order.
type frag struct {
	s string
	a []any
}

func (f frag) empty() bool { return f.s == "" }

// join concatenates fragments with sep.
func join(sep string, fs []frag) frag {
	var out frag
	for i, f := range fs {
		if i > 0 {
			out.s += sep
		}
		out.s += f.s
		out.a = append(out.a, f.a...)
	}
	return out
}

func f(s string, args ...any) frag { return frag{s: s, a: args} }

// placeholders returns "?, ?, …" for n values.
func placeholders(n int) string {
	if n == 0 {
		return "NULL"
	}
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func inList[T any](col string, vals []T) frag {
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	if len(vals) == 1 {
		return frag{s: col + " = ?", a: args}
	}
	return frag{s: col + " IN (" + placeholders(len(vals)) + ")", a: args}
}

// planner holds what every set of one search shares.
type planner struct {
	db   *DB
	spec *spec.Spec
	opts store.SearchOptions
	now  time.Time
}

func notSupported(format string, args ...any) error {
	return outcome.New(outcome.NotSupported, "not-supported", fmt.Sprintf(format, args...))
}

// orgCond narrows rows of alias a (which has an org column) to the
// allowed organizations and the directory types (org "").
func (p *planner) orgCond(a string) frag {
	if p.opts.Orgs == nil {
		return frag{}
	}
	orgs := append([]string{""}, p.opts.Orgs...)
	return inList(a+".org", orgs)
}

// typeCond restricts alias a to types; none means every type.
func typeCond(a string, types []string) frag {
	if len(types) == 0 {
		return frag{}
	}
	return inList(a+".type", types)
}

// where joins the non-empty conditions with AND.
func where(conds ...frag) frag {
	var keep []frag
	for _, c := range conds {
		if !c.empty() {
			keep = append(keep, c)
		}
	}
	if len(keep) == 0 {
		return f("1 = 1")
	}
	return join(" AND ", keep)
}

// set is a set of rkeys: SQL selecting one rkey column, and whether the
// filter is its complement (:not, ne, :missing=true).
type set struct {
	frag
	negate bool
}

// tableOf is the index table of a parameter type.
func tableOf(typ string) string {
	switch typ {
	case search.TypeToken:
		return "search_token"
	case search.TypeString:
		return "search_string"
	case search.TypeDate:
		return "search_date"
	case search.TypeNumber:
		return "search_number"
	case search.TypeQuantity:
		return "search_quantity"
	case search.TypeReference:
		return "search_reference"
	case search.TypeURI:
		return "search_uri"
	case search.TypeComposite:
		return "search_composite"
	}
	return ""
}

// rows selects the rkeys of rows of table for param on types matching cond.
func (p *planner) rows(table, param string, types []string, cond frag) frag {
	w := where(typeCond("x", types), p.orgCond("x"), f("x.param = ?", param), cond)
	return join("", []frag{f("SELECT x.rkey FROM " + table + " x WHERE "), w})
}

// hashed is rows for a condition on hash keys only, which include the
// parameter's code: without a test of param, the (hash, type, rkey)
// indexes answer it alone, counts included.
func (p *planner) hashed(table string, types []string, cond frag) frag {
	w := where(cond, typeCond("x", types), p.orgCond("x"))
	return join("", []frag{f("SELECT x.rkey FROM " + table + " x WHERE "), w})
}

// filterSet plans one filter on resources of types.
func (p *planner) filterSet(types []string, fl *search.Filter, depth int) (set, error) {
	if depth > 16 {
		return set{}, outcome.New(outcome.TooCostly, "too-costly", "the search nests too deeply")
	}
	switch {
	case fl.Has != nil:
		s, err := p.hasSet(types, fl.Has, depth)
		return set{frag: s}, err
	case len(fl.Chain) > 0:
		s, err := p.chainSet(types, fl, depth)
		return set{frag: s}, err
	case fl.Missing != nil:
		table := tableOf(fl.Param.Type)
		if table == "" {
			return set{}, notSupported("%s:missing is not supported for %s parameters", fl.Param.Code, fl.Param.Type)
		}
		return set{frag: p.rows(table, fl.Param.Code, types, frag{}), negate: *fl.Missing}, nil
	}
	code := fl.Param.Code
	if fl.Param.Expression == "" && code != search.ParamList {
		// _text, _content: full text is not indexed (yet); an empty
		// answer would look like "no match".
		return set{}, notSupported("searching by %s is not supported", code)
	}
	switch fl.Param.Type {
	case search.TypeToken:
		return p.tokenSet(types, fl)
	case search.TypeString:
		if fl.Modifier == search.ModExact {
			var alts []frag
			for _, v := range fl.Values {
				alts = append(alts, f("x.h_exact = ?", index.StringExactHash(code, v.(search.StringValue).Text)))
			}
			return set{frag: p.hashed("search_string", types, mergeEq(alts))}, nil
		}
		var alts []frag
		for _, v := range fl.Values {
			sv := v.(search.StringValue)
			switch fl.Modifier {
			case search.ModContains:
				alts = append(alts, p.contains("x.norm", sv.Normalized))
			default:
				alts = append(alts, prefixRange("x.norm", sv.Normalized))
			}
		}
		return set{frag: p.rows("search_string", code, types, or(alts))}, nil
	case search.TypeDate:
		var alts []frag
		negate := false
		for _, v := range fl.Values {
			dv := v.(search.DateValue)
			c, neg := p.dateCond("x.lo", "x.hi", dv.Prefix, dv.Low.UnixMicro(), dv.High.UnixMicro())
			if neg {
				negate = true
			}
			alts = append(alts, c)
		}
		return p.prefixSet("search_date", code, types, fl, alts, negate)
	case search.TypeNumber:
		var alts []frag
		negate := false
		for _, v := range fl.Values {
			nv := v.(search.NumberValue)
			c, neg := numberCond("x.val", "x.lo", "x.hi", nv.Prefix, dec(nv.Number), dec(nv.Low), dec(nv.High), false)
			negate = negate || neg
			alts = append(alts, c)
		}
		return p.prefixSet("search_number", code, types, fl, alts, negate)
	case search.TypeQuantity:
		var alts []frag
		negate := false
		for _, v := range fl.Values {
			c, neg := quantityCond(code, v.(search.QuantityValue), quantityCols{
				val: "x.val", lo: "x.lo", hi: "x.hi", code: "x.h_code", sysCode: "x.h_sys_code",
				canon: "x.h_canon", cVal: "x.c_val", cLo: "x.c_lo", cHi: "x.c_hi"})
			negate = negate || neg
			alts = append(alts, c)
		}
		return p.prefixSet("search_quantity", code, types, fl, alts, negate)
	case search.TypeReference:
		var alts []frag
		byParam := false
		for _, v := range fl.Values {
			c, err := p.referenceCond(fl, v)
			if err != nil {
				return set{}, err
			}
			byParam = byParam || strings.Contains(c.s, "target_id")
			alts = append(alts, c)
		}
		if byParam {
			return set{frag: p.rows("search_reference", code, types, or(alts))}, nil
		}
		return set{frag: p.hashed("search_reference", types, mergeEq(alts))}, nil
	case search.TypeURI:
		var alts []frag
		for _, v := range fl.Values {
			u := v.(search.URIValue).URI
			switch fl.Modifier {
			case search.ModBelow:
				alts = append(alts, f("substr(x.value, 1, ?) = ?", len([]rune(u)), u))
			case search.ModAbove:
				alts = append(alts, f("substr(CAST(? AS TEXT), 1, length(x.value)) = x.value", u))
			default:
				alts = append(alts, f("x.h_value = ?", index.URIHash(code, u)))
			}
		}
		if fl.Modifier == "" {
			return set{frag: p.hashed("search_uri", types, mergeEq(alts))}, nil
		}
		return set{frag: p.rows("search_uri", code, types, or(alts))}, nil
	case search.TypeComposite:
		var alts []frag
		for _, v := range fl.Values {
			c, err := compositeCond(fl, v.(search.CompositeValue))
			if err != nil {
				return set{}, err
			}
			alts = append(alts, c)
		}
		return set{frag: p.rows("search_composite", code, types, or(alts))}, nil
	case search.TypeSpecial:
		if code == search.ParamList {
			return p.listSet(types, fl)
		}
	}
	return set{}, notSupported("searching by %s (%s) is not supported", code, fl.Param.Type)
}

// prefixSet is the set of a date, number or quantity filter. With ne the
// alternatives are the equalities to exclude: a resource matches ne when
// none of its values equals (https://hl7.org/fhir/R4/search.html#prefix).
func (p *planner) prefixSet(table, code string, types []string, fl *search.Filter, alts []frag, negate bool) (set, error) {
	if negate {
		if len(fl.Values) > 1 {
			return set{}, outcome.New(outcome.Invalid, "value", fmt.Sprintf("%s: ne cannot be combined with other alternatives", code))
		}
		return set{frag: p.rows(table, code, types, or(alts)), negate: true}, nil
	}
	return set{frag: p.rows(table, code, types, or(alts))}, nil
}

func or(alts []frag) frag {
	if len(alts) == 1 {
		return alts[0]
	}
	j := join(" OR ", alts)
	j.s = "(" + j.s + ")"
	return j
}

// prefixRange matches byte strings starting with prefix: a range scan in
// both engines (0xFF never occurs in UTF-8).
func prefixRange(col, prefix string) frag {
	if prefix == "" {
		return f(col + " IS NOT NULL")
	}
	return f("("+col+" >= ? AND "+col+" < ?)", []byte(prefix), append([]byte(prefix), 0xff))
}

// contains matches byte strings containing s.
func (p *planner) contains(col, s string) frag {
	if p.db.d.dollar {
		return f("position(? in "+col+") > 0", []byte(s))
	}
	return f("instr("+col+", ?) > 0", []byte(s))
}

// tokenSet plans a token filter: one hash equality per alternative
// (Blaze's and HAPI's token keys), :text over the folded display, :not as
// the complement, :of-type on the identifier value's key.
func (p *planner) tokenSet(types []string, fl *search.Filter) (set, error) {
	code := fl.Param.Code
	switch fl.Modifier {
	case search.ModIn, search.ModNotIn, search.ModAbove, search.ModBelow:
		return set{}, notSupported("%s:%s needs terminology services, which this server does not have yet", code, fl.Modifier)
	case search.ModText:
		var alts []frag
		for _, v := range fl.Values {
			alts = append(alts, p.contains("x.text", v.(search.StringValue).Normalized))
		}
		return set{frag: p.rows("search_token", code, types, or(alts))}, nil
	}
	cols := tokenCols{code: "x.h_code", sysCode: "x.h_sys_code", sys: "x.h_sys"}
	var alts []frag
	for _, v := range fl.Values {
		tv := v.(search.TokenValue)
		if fl.Modifier == search.ModOfType {
			alts = append(alts, f("(x.h_code = ? AND x.h_of_type = ?)",
				index.TokenCodeHash(code, tv.Value), index.TokenOfTypeHash(code, tv.System, tv.Code, tv.Value)))
			continue
		}
		alts = append(alts, tokenCond(code, tv, cols))
	}
	return set{frag: p.hashed("search_token", types, mergeEq(alts)), negate: fl.Modifier == search.ModNot}, nil
}

type tokenCols struct{ code, sysCode, sys string }

func tokenCond(code string, tv search.TokenValue, c tokenCols) frag {
	switch {
	case tv.HasSystem && tv.Code == "":
		return f(c.sys+" = ?", index.TokenSystemHash(code, tv.System))
	case tv.HasSystem:
		return f(c.sysCode+" = ?", index.TokenSystemCodeHash(code, tv.System, tv.Code))
	}
	return f(c.code+" = ?", index.TokenCodeHash(code, tv.Code))
}

// mergeEq turns alternatives "col = ?" on the same column into one IN, so
// that a list of 200 codes is one index probe list per column.
func mergeEq(alts []frag) frag {
	byCol := map[string][]any{}
	var order []string
	var rest []frag
	for _, a := range alts {
		col, ok := strings.CutSuffix(a.s, " = ?")
		if !ok || len(a.a) != 1 || strings.ContainsAny(col, " ()") {
			rest = append(rest, a)
			continue
		}
		if _, seen := byCol[col]; !seen {
			order = append(order, col)
		}
		byCol[col] = append(byCol[col], a.a[0])
	}
	var out []frag
	for _, col := range order {
		out = append(out, inList(col, byCol[col]))
	}
	return or(append(out, rest...))
}

// dateCond compares a stored range [lo, hi) with the search range [ql, qh)
// for one prefix (https://hl7.org/fhir/R4/search.html#prefix). neg reports
// ne, whose condition is the equality to exclude.
func (p *planner) dateCond(lo, hi string, prefix search.Prefix, ql, qh int64) (frag, bool) {
	// Each condition leads with a range on lo or hi that it implies (a
	// stored range is never empty: lo < hi), so that the (type, param, lo)
	// and (type, param, hi) indexes bound the scan.
	eq := func() frag { return f("("+lo+" >= ? AND "+lo+" < ? AND "+hi+" <= ?)", ql, qh, qh) }
	switch prefix {
	case search.Ne:
		return eq(), true
	case search.Gt:
		return f(hi+" > ?", qh), false
	case search.Lt:
		return f(lo+" < ?", ql), false
	case search.Ge:
		return f("("+hi+" > ? AND ("+hi+" > ? OR "+lo+" >= ?))", ql, qh, ql), false
	case search.Le:
		return f("("+lo+" < ? AND ("+lo+" < ? OR "+hi+" <= ?))", qh, ql, qh), false
	case search.Sa:
		return f(lo+" >= ?", qh), false
	case search.Eb:
		return f(hi+" <= ?", ql), false
	case search.Ap:
		// Approximately: the ranges overlap once the search range is
		// widened by 10% of its distance from now (the spec's
		// suggestion), and at least by its own width.
		now := p.now.UnixMicro()
		dist := max(abs64(now-ql), abs64(now-qh))
		m := max(dist/10, qh-ql)
		return f("("+lo+" < ? AND "+hi+" > ?)", satAdd(qh, m), satAdd(ql, -m)), false
	}
	return eq(), false
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func satAdd(a, b int64) int64 {
	s := a + b
	if b > 0 && s < a {
		return math.MaxInt64
	}
	if b < 0 && s > a {
		return math.MinInt64
	}
	return s
}

// numberCond compares a stored number (val; or, where val is NULL and
// ranges is set, a Range [lo, hi]) with a search number n whose implicit
// range is [ql, qh) (https://hl7.org/fhir/R4/search.html#number).
func numberCond(val, lo, hi string, prefix search.Prefix, n, ql, qh float64, ranges bool) (frag, bool) {
	var c frag
	neg := false
	switch prefix {
	case search.Ne:
		c, neg = f("("+val+" >= ? AND "+val+" < ?)", ql, qh), true
	case search.Gt, search.Sa:
		c = f(val+" > ?", n)
	case search.Lt, search.Eb:
		c = f(val+" < ?", n)
	case search.Ge:
		c = f(val+" >= ?", n)
	case search.Le:
		c = f(val+" <= ?", n)
	case search.Ap:
		m := math.Abs(n) / 10
		c = f("("+val+" >= ? AND "+val+" <= ?)", n-m, n+m)
	default:
		c = f("("+val+" >= ? AND "+val+" < ?)", ql, qh)
	}
	if !ranges {
		return c, neg
	}
	// A Range matches by its bounds.
	var r frag
	switch prefix {
	case search.Ne, search.Eq:
		r = f("("+lo+" >= ? AND "+hi+" <= ?)", ql, qh)
	case search.Gt:
		r = f(hi+" > ?", n)
	case search.Sa:
		r = f(lo+" > ?", n)
	case search.Lt:
		r = f(lo+" < ?", n)
	case search.Eb:
		r = f(hi+" < ?", n)
	case search.Ge:
		r = f(hi+" >= ?", n)
	case search.Le:
		r = f(lo+" <= ?", n)
	case search.Ap:
		m := math.Abs(n) / 10
		r = f("("+lo+" <= ? AND "+hi+" >= ?)", n+m, n-m)
	default:
		r = f("("+lo+" >= ? AND "+hi+" <= ?)", ql, qh)
	}
	out := join("", []frag{f("((" + val + " IS NOT NULL AND "), c, f(") OR (" + val + " IS NULL AND "), r, f("))")})
	return out, neg
}

type quantityCols struct{ val, lo, hi, code, sysCode, canon, cVal, cLo, cHi string }

// quantityCond matches a quantity: by canonical UCUM unit and value when
// both sides can be normalised, by system|code or code as written
// otherwise, by number alone without a unit
// (https://hl7.org/fhir/R4/search.html#quantity).
func quantityCond(code string, q search.QuantityValue, c quantityCols) (frag, bool) {
	n, ql, qh := dec(q.Number), dec(q.Low), dec(q.High)
	if q.HasUnit && q.System == index.UCUM {
		if canon, conv, ok := index.CanonicalUnit(q.Code); ok {
			num, neg := numberCond(c.cVal, c.cLo, c.cHi, q.Prefix, conv(n), conv(ql), conv(qh), c.lo != "")
			return join("", []frag{f("("+c.canon+" = ? AND ", index.QuantityCanonicalHash(code, canon)), num, f(")")}), neg
		}
	}
	num, neg := numberCond(c.val, c.lo, c.hi, q.Prefix, n, ql, qh, c.lo != "")
	switch {
	case q.HasUnit && q.System != "":
		return join("", []frag{f("("+c.sysCode+" = ? AND ", index.QuantitySystemCodeHash(code, q.System, q.Code)), num, f(")")}), neg
	case q.HasUnit && q.Code != "":
		return join("", []frag{f("("+c.code+" = ? AND ", index.QuantityCodeHash(code, q.Code)), num, f(")")}), neg
	}
	return num, neg
}

// referenceCond matches one reference value
// (https://hl7.org/fhir/R4/search.html#reference).
func (p *planner) referenceCond(fl *search.Filter, v search.Value) (frag, error) {
	code := fl.Param.Code
	switch fl.Modifier {
	case search.ModIdentifier:
		tv := v.(search.TokenValue)
		return f("x.h_ident = ?", index.ReferenceIdentifierHash(code, tv.System, tv.Code)), nil
	case search.ModAbove, search.ModBelow:
		return frag{}, notSupported("%s:%s (canonical hierarchies) is not supported", code, fl.Modifier)
	}
	rv := v.(search.ReferenceValue)
	var alts []frag
	if rv.URL != "" {
		alts = append(alts, f("x.h_url = ?", index.ReferenceURLHash(code, rv.URL)))
		base := strings.TrimSuffix(p.opts.BaseURL, "/")
		if base != "" && rv.Type != "" && rv.ID != "" && strings.HasPrefix(rv.URL, base+"/") &&
			rv.URL == base+"/"+rv.Type+"/"+rv.ID {
			alts = append(alts, f("x.h_target = ?", index.ReferenceTargetHash(code, rv.Type, rv.ID)))
		}
		return or(alts), nil
	}
	if rv.Type != "" {
		return f("x.h_target = ?", index.ReferenceTargetHash(code, rv.Type, rv.ID)), nil
	}
	targets := fl.Param.Target
	if len(targets) == 0 || slices.Contains(targets, "Resource") {
		return f("x.target_id = ?", rv.ID), nil
	}
	var hs []int64
	for _, t := range targets {
		hs = append(hs, index.ReferenceTargetHash(code, t, rv.ID))
	}
	return inList("x.h_target", hs), nil
}

// compositeCond matches one composite value: every component against its
// part of the same tuple (https://hl7.org/fhir/R4/search.html#composite).
func compositeCond(fl *search.Filter, cv search.CompositeValue) (frag, error) {
	if len(cv.Components) > 3 || len(cv.Components) != len(fl.Components) {
		return frag{}, notSupported("composite %s has more parts than the index keeps", fl.Param.Code)
	}
	var conds []frag
	for i, comp := range cv.Components {
		pre := string(rune('a'+i)) + "_"
		col := func(s string) string { return "x." + pre + s }
		code := fl.Components[i].Code
		switch v := comp.(type) {
		case search.TokenValue:
			conds = append(conds, tokenCond(code, v, tokenCols{code: col("h1"), sysCode: col("h2"), sys: col("h3")}))
		case search.StringValue:
			conds = append(conds, f(col("h2")+" = ?", compositeStringHash(v.Normalized)))
		case search.ReferenceValue:
			switch {
			case v.URL != "":
				conds = append(conds, f(col("h2")+" = ?", index.ReferenceURLHash(code, v.URL)))
			case v.Type != "":
				conds = append(conds, f(col("h1")+" = ?", index.ReferenceTargetHash(code, v.Type, v.ID)))
			default:
				var hs []int64
				for _, t := range fl.Components[i].Target {
					hs = append(hs, index.ReferenceTargetHash(code, t, v.ID))
				}
				conds = append(conds, inList(col("h1"), hs))
			}
		case search.URIValue:
			conds = append(conds, f(col("h1")+" = ?", index.URIHash(code, v.URI)))
		case search.NumberValue:
			c, neg := numberCond(col("val"), "", "", v.Prefix, dec(v.Number), dec(v.Low), dec(v.High), false)
			if neg {
				return frag{}, notSupported("ne inside a composite value is not supported")
			}
			conds = append(conds, c)
		case search.QuantityValue:
			c, neg := quantityCond(code, v, quantityCols{val: col("val"), code: col("h1"), sysCode: col("h2"),
				canon: col("h3"), cVal: "((" + col("lo") + " + " + col("hi") + ") / 2)"})
			if neg {
				return frag{}, notSupported("ne inside a composite value is not supported")
			}
			conds = append(conds, c)
		case search.DateValue:
			lo, hi := float64(v.Low.UnixMicro()), float64(v.High.UnixMicro())
			var c frag
			switch v.Prefix {
			case search.Eq:
				c = f("("+col("lo")+" >= ? AND "+col("hi")+" <= ?)", lo, hi)
			case search.Gt, search.Sa:
				c = f(col("lo")+" >= ?", hi)
			case search.Lt, search.Eb:
				c = f(col("hi")+" <= ?", lo)
			case search.Ge:
				c = f(col("hi")+" > ?", lo)
			case search.Le:
				c = f(col("lo")+" < ?", hi)
			default:
				return frag{}, notSupported("prefix %s inside a composite date is not supported", v.Prefix)
			}
			conds = append(conds, c)
		default:
			return frag{}, notSupported("composite %s: component type not supported", fl.Param.Code)
		}
	}
	j := join(" AND ", conds)
	j.s = "(" + j.s + ")"
	return j, nil
}

// chainSet plans a chain link, param.rest=v: resources whose reference
// param points to a resource (of one of the link's types) in the inner
// set (https://hl7.org/fhir/R4/search.html#chaining).
func (p *planner) chainSet(types []string, fl *search.Filter, depth int) (frag, error) {
	var parts []frag
	for _, c := range fl.Chain {
		inner, err := p.filterSet([]string{c.Type}, c.Filter, depth+1)
		if err != nil {
			return frag{}, err
		}
		w := where(typeCond("x", types), p.orgCond("x"), f("x.param = ?", fl.Param.Code),
			f("x.target_type = ?", c.Type), p.orgCond("t"), f("t.type = ?", c.Type), f("t.deleted = 0"))
		if inner.negate {
			parts = append(parts, join("", []frag{
				f("SELECT x.rkey FROM search_reference x JOIN resources t ON t.type = x.target_type AND t.id = x.target_id WHERE "),
				w, f(" AND t.rkey NOT IN ("), inner.frag, f(")")}))
			continue
		}
		// Driven by the inner set (usually the selective side): its
		// resources, then the references to them.
		parts = append(parts, join("", []frag{f("SELECT x.rkey FROM ("), inner.frag,
			f(") i JOIN resources t ON t.rkey = i.rkey JOIN search_reference x ON x.target_id = t.id AND x.target_type = t.type WHERE "), w}))
	}
	return join(" UNION ", parts), nil
}

// hasSet plans _has:Type:param:filter: resources that a resource of Type
// matching the filter refers to through param
// (https://hl7.org/fhir/R4/search.html#has).
func (p *planner) hasSet(types []string, h *search.Has, depth int) (frag, error) {
	inner, err := p.filterSet([]string{h.Type}, h.Filter, depth+1)
	if err != nil {
		return frag{}, err
	}
	w := where(f("x.type = ?", h.Type), p.orgCond("x"), f("x.param = ?", h.Param.Code), typeCond("t", types), p.orgCond("t"), f("t.deleted = 0"))
	if inner.negate {
		return join("", []frag{
			f("SELECT t.rkey FROM search_reference x JOIN resources t ON t.type = x.target_type AND t.id = x.target_id WHERE "),
			w, f(" AND x.rkey NOT IN ("), inner.frag, f(")")}), nil
	}
	// Driven by the inner set: the referring resources, their references
	// (by key), the resources referred to.
	return join("", []frag{f("SELECT t.rkey FROM ("), inner.frag,
		f(") i JOIN search_reference x ON x.rkey = i.rkey JOIN resources t ON t.type = x.target_type AND t.id = x.target_id WHERE "), w}), nil
}

// listSet plans _list=id: the resources List/id has as entries
// (https://hl7.org/fhir/R4/search.html#list), through the List's item
// references.
func (p *planner) listSet(types []string, fl *search.Filter) (set, error) {
	var ids []string
	for _, v := range fl.Values {
		id := v.(search.ListValue).ID
		if strings.HasPrefix(id, "$") {
			return set{}, notSupported("functional list %s is not supported", id)
		}
		ids = append(ids, id)
	}
	w := where(f("x.type = 'List' AND x.param = 'item'"), p.orgCond("x"), typeCond("t", types), p.orgCond("t"))
	return set{frag: join("", []frag{
		f("SELECT t.rkey FROM search_reference x JOIN resources t ON t.type = x.target_type AND t.id = x.target_id WHERE "),
		w, f(" AND t.deleted = 0 AND x.rkey IN (SELECT l.rkey FROM resources l WHERE l.type = 'List' AND "), inList("l.id", ids), f(")")})}, nil
}

// compartmentSet is the set of resources of types in the compartment of
// typ/id: those referring to it through the compartment's parameters for
// their type, and typ/id itself (https://hl7.org/fhir/R4/compartmentdefinition.html).
// params gives the parameter codes per type.
func (p *planner) compartmentSet(types []string, typ, id string, params func(t string) []string, self bool) frag {
	var parts []frag
	for _, t := range types {
		var hs []int64
		for _, code := range params(t) {
			hs = append(hs, index.ReferenceTargetHash(code, typ, id))
		}
		if len(hs) > 0 {
			parts = append(parts, join("", []frag{f("SELECT x.rkey FROM search_reference x WHERE "),
				where(f("x.type = ?", t), inList("x.h_target", hs), p.orgCond("x"))}))
		}
		if self && t == typ {
			parts = append(parts, join("", []frag{f("SELECT c.rkey FROM resources c WHERE "),
				where(f("c.type = ? AND c.id = ? AND c.deleted = 0", typ, id), p.orgCond("c"))}))
		}
	}
	if len(parts) == 0 {
		return f("SELECT c.rkey FROM resources c WHERE 1 = 0")
	}
	return join(" UNION ", parts)
}

// dec converts an apd decimal to float64 for comparison with the index.
func dec(d interface{ Float64() (float64, error) }) float64 {
	v, err := d.Float64()
	if err != nil {
		return 0
	}
	return v
}
