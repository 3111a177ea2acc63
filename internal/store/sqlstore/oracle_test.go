package sqlstore

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/fhirpath"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/r4examples"
	"github.com/continuum-ehr/continuum/internal/search"
	"github.com/continuum-ehr/continuum/internal/store"
)

// TestSearchOracle is the consistency check of issue 5: the official R4
// examples are stored, and for a sample of search parameters and values
// present in them, the ids a search returns must equal the ids an
// independent oracle computes by evaluating the SearchParameter's FHIRPath
// expression over every loaded resource and comparing the results by the
// search rules written out again here — without the index extractor, its
// row types or hashes.
//
// Covered: token (code, system|code), reference (Type/id), string (prefix
// and :exact), date (eq, lt, gt at day precision), number and quantity
// (eq on the value as written), uri (exact).
func TestSearchOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	files, err := r4examples.ReadAll()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the official R4 examples are required in CI: %v", err)
		}
		t.Skipf("needs the official R4 examples: %v", err)
	}
	r4 := spec.R4()
	byKey := map[string]*fhir.Value{}
	for _, f := range files {
		v, err := fhir.Parse(f.Data)
		if err != nil || v.Kind != fhir.Object || !store.ValidID(v.Str("id")) {
			continue
		}
		if rt := r4.Resource(v.ResourceType()); rt == nil || rt.Abstract {
			continue
		}
		byKey[v.ResourceType()+"/"+v.Str("id")] = &v
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	// At most perType resources of each type keeps the test to seconds:
	// the conformance types (CodeSystem, StructureDefinition, …) have
	// hundreds of large examples that add little to search coverage.
	const perType = 40
	n := map[string]int{}
	kept := keys[:0]
	for _, k := range keys {
		typ, _, _ := strings.Cut(k, "/")
		if n[typ]++; n[typ] <= perType {
			kept = append(kept, k)
		}
	}
	keys = kept

	ctx := context.Background()
	backends := []struct {
		name string
		open func(t *testing.T) *DB
	}{{"sqlite", func(t *testing.T) *DB { return openSQLite(t, "") }}}
	if testingEnvURL() != "" {
		backends = append(backends, struct {
			name string
			open func(t *testing.T) *DB
		}{"postgres", func(t *testing.T) *DB { db, _ := openPostgres(t); return db }})
	}
	// The oracle's expectations, computed once.
	cases := oracleCases(t, r4, keys, byKey)
	t.Logf("%d resources, %d searches", len(keys), len(cases))
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			db := be.open(t)
			defer db.Close()
			for i := 0; i < len(keys); i += 200 {
				err := db.Update(ctx, func(tx store.Tx) error {
					for _, k := range keys[i:min(i+200, len(keys))] {
						v := byKey[k]
						org := "org-a"
						if store.DirectoryType(v.ResourceType()) {
							org = ""
						}
						if _, err := tx.Put(ctx, store.Write{Resource: v, Org: org}); err != nil {
							return fmt.Errorf("%s: %w", k, err)
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			failures := 0
			for _, c := range cases {
				vals, _ := url.ParseQuery(c.query)
				q, err := search.Parse(r4, c.typ, vals, search.Options{Strict: true, MaxCount: 5000})
				if err != nil {
					t.Errorf("%s?%s: %v", c.typ, c.query, err)
					continue
				}
				q.Count = 5000
				var page *store.SearchPage
				err = db.View(ctx, func(tx store.ReadTx) (err error) {
					page, err = tx.Search(ctx, q, store.SearchOptions{})
					return err
				})
				if err != nil {
					t.Errorf("%s?%s: %v", c.typ, c.query, err)
					continue
				}
				var got []string
				for _, v := range page.Matches {
					got = append(got, v.Type+"/"+v.ID)
				}
				slices.Sort(got)
				if !slices.Equal(got, c.want) || page.Total != len(c.want) {
					failures++
					if failures <= 25 {
						t.Errorf("%s?%s: got %v (total %d), oracle %v", c.typ, c.query, got, page.Total, c.want)
					}
				}
			}
			if failures > 0 {
				t.Errorf("%d of %d searches disagree with the oracle", failures, len(cases))
			}
		})
	}
}

type oracleCase struct {
	typ, query string
	want       []string // Type/id, sorted
}

// oracleResolver answers resolve() from the reference alone, as a server
// without the target would: "Patient/1" is a Patient.
func oracleResolver(r4 *spec.Spec) func(string) (*fhir.Value, error) {
	return func(ref string) (*fhir.Value, error) {
		typ, id := splitRef(r4, ref)
		if typ == "" {
			return nil, nil
		}
		return &fhir.Value{Kind: fhir.Object, Members: []fhir.Member{
			{Name: "resourceType", Value: fhir.Value{Kind: fhir.String, Text: typ}},
			{Name: "id", Value: fhir.Value{Kind: fhir.String, Text: id}}}}, nil
	}
}

// splitRef reads Type/id at the end of a literal reference.
func splitRef(r4 *spec.Spec, ref string) (string, string) {
	if strings.HasPrefix(ref, "#") || strings.HasPrefix(ref, "urn:") {
		return "", ""
	}
	segs := strings.Split(ref, "/")
	if n := len(segs); n >= 4 && segs[n-2] == "_history" {
		segs = segs[:n-2]
	}
	n := len(segs)
	if n < 2 || r4.Resource(segs[n-2]) == nil || !store.ValidID(segs[n-1]) {
		return "", ""
	}
	return segs[n-2], segs[n-1]
}

// oracleCases evaluates every sampled parameter's expression over the
// corpus and derives searches with their expected results.
func oracleCases(t *testing.T, r4 *spec.Spec, keys []string, byKey map[string]*fhir.Value) []oracleCase {
	env := &fhirpath.Env{Spec: r4, AsFilters: true, Resolver: oracleResolver(r4)}
	reg := search.NewRegistryR4()
	var cases []oracleCase
	types := map[string]bool{}
	for _, k := range keys {
		types[byKey[k].ResourceType()] = true
	}
	typeList := make([]string, 0, len(types))
	for typ := range types {
		typeList = append(typeList, typ)
	}
	slices.Sort(typeList)
	for _, typ := range typeList {
		var resources []string
		for _, k := range keys {
			if strings.HasPrefix(k, typ+"/") {
				resources = append(resources, k)
			}
		}
		for _, code := range reg.Params(typ) {
			sp := reg.Lookup(typ, code)
			switch sp.Type {
			case "token", "reference", "string", "date", "number", "quantity", "uri":
			default:
				continue
			}
			// _lastUpdated is the server's (the store stamps it), so the
			// examples' own values cannot be expected; storetest covers it.
			if sp.Expression == "" || code == "_text" || code == "_content" || code == "_lastUpdated" {
				continue
			}
			expr, err := fhirpath.Compile(sp.Expression)
			if err != nil {
				continue
			}
			// Every resource's items for this parameter.
			items := map[string]fhirpath.Collection{}
			for _, k := range resources {
				res := byKey[k]
				out, err := expr.Evaluate(env, fhirpath.Collection{fhirpath.ResourceNode(r4, res)})
				if err != nil {
					items = nil
					break
				}
				items[k] = out
			}
			if items == nil {
				continue
			}
			cases = append(cases, paramCases(r4, typ, code, sp, resources, items)...)
		}
	}
	return cases
}

// sample keeps at most n values, spread over the sorted list.
func sample(vals []string, n int) []string {
	slices.Sort(vals)
	vals = slices.Compact(vals)
	if len(vals) <= n {
		return vals
	}
	out := make([]string, 0, n)
	for i := range n {
		out = append(out, vals[i*len(vals)/n])
	}
	return out
}

func paramCases(r4 *spec.Spec, typ, code string, sp *spec.SearchParam, resources []string, items map[string]fhirpath.Collection) []oracleCase {
	const perParam = 3
	var cases []oracleCase
	expect := func(query string, match func(it fhirpath.Item) bool) {
		var want []string
		for _, k := range resources {
			for _, it := range items[k] {
				if match(it) {
					want = append(want, k)
					break
				}
			}
		}
		cases = append(cases, oracleCase{typ: typ, query: query, want: want})
	}
	str := func(it fhirpath.Item) (string, bool) {
		switch v := it.(type) {
		case fhirpath.String:
			return string(v), true
		case *fhirpath.Node:
			if v.Value() != nil && v.Value().Kind == fhir.String {
				return v.Value().Text, true
			}
		}
		return "", false
	}
	switch sp.Type {
	case "token":
		// (system, code) pairs of an item; system "" unknown or none.
		pairs := func(it fhirpath.Item) [][2]string {
			n, ok := it.(*fhirpath.Node)
			if !ok {
				if s, ok := str(it); ok {
					return [][2]string{{"", s}}
				}
				if b, ok := it.(fhirpath.Boolean); ok {
					return [][2]string{{"", strconv.FormatBool(bool(b))}}
				}
				return nil
			}
			v := n.Value()
			if v == nil {
				return nil
			}
			switch n.TypeName() {
			case "Coding":
				return [][2]string{{v.Str("system"), v.Str("code")}}
			case "CodeableConcept":
				var out [][2]string
				if c, ok := v.Get("coding"); ok {
					for i := range c.Items {
						out = append(out, [2]string{c.Items[i].Str("system"), c.Items[i].Str("code")})
					}
				}
				return out
			case "Identifier":
				return [][2]string{{v.Str("system"), v.Str("value")}}
			case "ContactPoint":
				return [][2]string{{v.Str("system"), v.Str("value")}}
			}
			if v.Kind == fhir.String {
				return [][2]string{{"", v.Text}}
			}
			if v.Kind == fhir.Bool {
				return [][2]string{{"", strconv.FormatBool(v.Bool)}}
			}
			return nil
		}
		var codes, sysCodes []string
		for _, k := range resources {
			for _, it := range items[k] {
				n, isNode := it.(*fhirpath.Node)
				for _, p := range pairs(it) {
					if p[1] == "" || strings.ContainsAny(p[1], ",|$\\") || strings.ContainsAny(p[0], ",|$\\") {
						continue
					}
					codes = append(codes, p[1])
					if p[0] != "" && isNode && (n.TypeName() == "Coding" || n.TypeName() == "CodeableConcept" || n.TypeName() == "Identifier") {
						sysCodes = append(sysCodes, p[0]+"|"+p[1])
					}
				}
			}
		}
		for _, c := range sample(codes, perParam) {
			expect(code+"="+url.QueryEscape(c), func(it fhirpath.Item) bool {
				for _, p := range pairs(it) {
					if p[1] == c {
						return true
					}
				}
				return false
			})
		}
		for _, sc := range sample(sysCodes, perParam) {
			sys, c, _ := strings.Cut(sc, "|")
			expect(code+"="+url.QueryEscape(sc), func(it fhirpath.Item) bool {
				n, ok := it.(*fhirpath.Node)
				if !ok || (n.TypeName() != "Coding" && n.TypeName() != "CodeableConcept" && n.TypeName() != "Identifier") {
					return false
				}
				for _, p := range pairs(it) {
					if p[0] == sys && p[1] == c {
						return true
					}
				}
				return false
			})
		}
	case "reference":
		ref := func(it fhirpath.Item) (string, string) {
			n, ok := it.(*fhirpath.Node)
			if !ok || n.Value() == nil || n.Value().Kind != fhir.Object {
				return "", ""
			}
			if n.TypeName() == "Reference" {
				return splitRef(r4, n.Value().Str("reference"))
			}
			if r4.Resource(n.TypeName()) != nil && store.ValidID(n.Value().Str("id")) {
				return n.TypeName(), n.Value().Str("id")
			}
			return "", ""
		}
		allowed := func(t string) bool {
			return len(sp.Target) == 0 || slices.Contains(sp.Target, t) || slices.Contains(sp.Target, "Resource")
		}
		var refs []string
		for _, k := range resources {
			for _, it := range items[k] {
				if t, id := ref(it); t != "" && allowed(t) {
					refs = append(refs, t+"/"+id)
				}
			}
		}
		for _, r := range sample(refs, perParam) {
			expect(code+"="+url.QueryEscape(r), func(it fhirpath.Item) bool {
				t, id := ref(it)
				return t != "" && allowed(t) && t+"/"+id == r
			})
		}
	case "string":
		parts := func(it fhirpath.Item) []string {
			if s, ok := str(it); ok {
				return []string{s}
			}
			n, ok := it.(*fhirpath.Node)
			if !ok || n.Value() == nil || n.Value().Kind != fhir.Object {
				return nil
			}
			var names []string
			switch n.TypeName() {
			case "HumanName":
				names = []string{"text", "family", "given", "prefix", "suffix"}
			case "Address":
				names = []string{"text", "line", "city", "district", "state", "postalCode", "country"}
			}
			var out []string
			for _, name := range names {
				m, ok := n.Value().Get(name)
				if !ok {
					continue
				}
				if m.Kind == fhir.String {
					out = append(out, m.Text)
				}
				for _, x := range m.Items {
					if x.Kind == fhir.String {
						out = append(out, x.Text)
					}
				}
			}
			return out
		}
		var vals []string
		for _, k := range resources {
			for _, it := range items[k] {
				for _, s := range parts(it) {
					if s != "" && len(s) < 200 && !strings.ContainsAny(s, ",|$\\") {
						vals = append(vals, s)
					}
				}
			}
		}
		for _, s := range sample(vals, perParam) {
			prefix := search.NormalizeString(s)
			if r := []rune(prefix); len(r) > 4 {
				prefix = string(r[:4])
			}
			expect(code+"="+url.QueryEscape(prefix), func(it fhirpath.Item) bool {
				for _, p := range parts(it) {
					if strings.HasPrefix(search.NormalizeString(p), prefix) {
						return true
					}
				}
				return false
			})
			expect(code+":exact="+url.QueryEscape(s), func(it fhirpath.Item) bool {
				return slices.Contains(parts(it), s)
			})
		}
	case "date":
		var days []string
		for _, k := range resources {
			for _, it := range items[k] {
				for _, r := range oracleRanges(it) {
					if r.text != "" && len(r.text) >= 10 {
						days = append(days, r.text[:10])
					}
				}
			}
		}
		for _, d := range sample(days, 2) {
			lo, err := time.Parse("2006-01-02", d)
			if err != nil {
				continue
			}
			hi := lo.AddDate(0, 0, 1)
			for _, c := range []struct {
				prefix string
				match  func(r oracleRange) bool
			}{
				{"", func(r oracleRange) bool { return !r.lo.Before(lo) && !r.hi.After(hi) }},
				{"lt", func(r oracleRange) bool { return r.lo.Before(lo) }},
				{"gt", func(r oracleRange) bool { return r.hi.After(hi) }},
			} {
				expect(code+"="+c.prefix+d, func(it fhirpath.Item) bool {
					for _, r := range oracleRanges(it) {
						if c.match(r) {
							return true
						}
					}
					return false
				})
			}
		}
	case "number", "quantity":
		num := func(it fhirpath.Item) (string, bool) {
			switch v := it.(type) {
			case fhirpath.Integer:
				return strconv.FormatInt(int64(v), 10), sp.Type == "number"
			case fhirpath.Decimal:
				return v.String(), sp.Type == "number"
			case *fhirpath.Node:
				val := v.Value()
				if val == nil {
					return "", false
				}
				if sp.Type == "number" && val.Kind == fhir.Number {
					return val.Text, true
				}
				switch v.TypeName() {
				case "Quantity", "Age", "Duration", "Distance", "Count", "SimpleQuantity", "MoneyQuantity", "Money":
					if n, ok := val.Get("value"); ok && n.Kind == fhir.Number {
						return n.Text, true
					}
				}
			}
			return "", false
		}
		for _, k := range resources {
			for _, it := range items[k] {
				if n, ok := it.(*fhirpath.Node); ok && n.TypeName() == "Range" {
					return cases // Ranges compare by bounds: not in this oracle
				}
			}
		}
		var vals []string
		for _, k := range resources {
			for _, it := range items[k] {
				if s, ok := num(it); ok && !strings.ContainsAny(s, "eE") {
					vals = append(vals, s)
				}
			}
		}
		for _, s := range sample(vals, perParam) {
			v, _ := strconv.ParseFloat(s, 64)
			half := 0.5
			if _, frac, ok := strings.Cut(s, "."); ok {
				half = 0.5 * math.Pow10(-len(frac))
			}
			expect(code+"="+s, func(it fhirpath.Item) bool {
				x, ok := num(it)
				if !ok {
					return false
				}
				f, err := strconv.ParseFloat(x, 64)
				return err == nil && f >= v-half && f < v+half
			})
		}
	case "uri":
		var vals []string
		for _, k := range resources {
			for _, it := range items[k] {
				if s, ok := str(it); ok && s != "" && !strings.ContainsAny(s, ",|$\\ ") {
					vals = append(vals, s)
				}
			}
		}
		for _, s := range sample(vals, perParam) {
			expect(code+"="+url.QueryEscape(s), func(it fhirpath.Item) bool {
				x, ok := str(it)
				return ok && x == s
			})
		}
	}
	return cases
}

// oracleRange is the instant range of a date value, read independently of
// internal/index: a date is its whole day, month or year (UTC, the test's
// zone); a dateTime or instant the unit of its last digit; a Period from
// the start of its start to the end of its end, open ends unbounded.
type oracleRange struct {
	lo, hi time.Time
	text   string
}

var (
	oracleMin = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	oracleMax = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

func oracleParse(s string) (lo, hi time.Time, ok bool) {
	for _, l := range []struct {
		layout string
		step   func(time.Time) time.Time
	}{
		{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }},
		{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
		{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
	} {
		if len(s) == len(l.layout) {
			t, err := time.Parse(l.layout, s)
			return t, l.step(t), err == nil
		}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t, err = time.Parse("2006-01-02T15:04Z07:00", s)
		if err != nil {
			return time.Time{}, time.Time{}, false
		}
		return t.UTC(), t.UTC().Add(time.Minute), true
	}
	unit := time.Second
	if i := strings.IndexByte(s, '.'); i >= 0 {
		digits := 0
		for j := i + 1; j < len(s) && s[j] >= '0' && s[j] <= '9'; j++ {
			digits++
		}
		for range digits {
			unit /= 10
		}
	}
	return t.UTC(), t.UTC().Add(unit), true
}

func oracleRanges(it fhirpath.Item) []oracleRange {
	var s string
	switch v := it.(type) {
	case fhirpath.DateTime:
		s = v.String()
	case *fhirpath.Node:
		val := v.Value()
		if val == nil {
			return nil
		}
		switch v.TypeName() {
		case "Period":
			lo, hi := oracleMin, oracleMax
			found := false
			if st := val.Str("start"); st != "" {
				if l, _, ok := oracleParse(st); ok {
					lo, found = l, true
				}
			}
			if en := val.Str("end"); en != "" {
				if _, h, ok := oracleParse(en); ok {
					hi, found = h, true
				}
			}
			if !found {
				return nil
			}
			return []oracleRange{{lo: lo, hi: hi}}
		case "Timing":
			var out []oracleRange
			if ev, ok := val.Get("event"); ok {
				for _, e := range ev.Items {
					if l, h, ok := oracleParse(e.Text); ok {
						out = append(out, oracleRange{lo: l, hi: h, text: e.Text})
					}
				}
			}
			if rep, ok := val.Get("repeat"); ok {
				if bp, ok := rep.Get("boundsPeriod"); ok {
					n := fhirpath.Collection{}
					_ = n
					lo, hi := oracleMin, oracleMax
					if l, _, ok := oracleParse(bp.Str("start")); ok {
						lo = l
					}
					if _, h, ok := oracleParse(bp.Str("end")); ok {
						hi = h
					}
					if bp.Str("start") != "" || bp.Str("end") != "" {
						out = append(out, oracleRange{lo: lo, hi: hi})
					}
				}
			}
			return out
		}
		if val.Kind == fhir.String {
			s = val.Text
		}
	}
	if s == "" {
		return nil
	}
	lo, hi, ok := oracleParse(s)
	if !ok {
		return nil
	}
	return []oracleRange{{lo: lo, hi: hi, text: s}}
}
