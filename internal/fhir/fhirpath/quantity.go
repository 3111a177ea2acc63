package fhirpath

import (
	"sort"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// Quantities compare and combine through a small UCUM subset
// (https://ucum.org/ucum): the units clinical data actually uses (mass,
// length, volume, time, amount of substance, pressure, common arbitrary
// units), with metric prefixes and unit algebra (cm.m, g/m, m2). A unit
// outside the subset still compares with itself by its code.
//
// Calendar durations (https://hl7.org/fhirpath/N1/#time-valued-quantities):
// week, day, hour, minute, second and millisecond equal their UCUM
// definite durations (1 week = 1 'wk'); year and month do not (1 year and
// 1 'a' are not comparable), but compare with each other.

type unitDef struct {
	factor string // in base units
	dims   map[string]int
}

var baseDims = func(d string) map[string]int { return map[string]int{d: 1} }

// ucumAtoms maps unit atoms to their definition in base units
// (m, g, s, mol, K, A, cd and arbitrary units as their own dimension).
var ucumAtoms = map[string]unitDef{
	"m":        {"1", baseDims("m")},
	"g":        {"1", baseDims("g")},
	"s":        {"1", baseDims("s")},
	"mol":      {"602213670000000000000000", baseDims("1")},
	"K":        {"1", baseDims("K")},
	"A":        {"1", baseDims("A")},
	"cd":       {"1", baseDims("cd")},
	"min":      {"60", baseDims("s")},
	"h":        {"3600", baseDims("s")},
	"d":        {"86400", baseDims("s")},
	"wk":       {"604800", baseDims("s")},
	"mo":       {"2629800", baseDims("s")},
	"a":        {"31557600", baseDims("s")},
	"L":        {"0.001", map[string]int{"m": 3}},
	"l":        {"0.001", map[string]int{"m": 3}},
	"[in_i]":   {"0.0254", baseDims("m")},
	"[ft_i]":   {"0.3048", baseDims("m")},
	"[yd_i]":   {"0.9144", baseDims("m")},
	"[mi_i]":   {"1609.344", baseDims("m")},
	"[lb_av]":  {"453.59237", baseDims("g")},
	"[oz_av]":  {"28.349523125", baseDims("g")},
	"[gr]":     {"0.06479891", baseDims("g")},
	"Pa":       {"1000", map[string]int{"g": 1, "m": -1, "s": -2}},
	"bar":      {"100000000", map[string]int{"g": 1, "m": -1, "s": -2}},
	"mm[Hg]":   {"133322", map[string]int{"g": 1, "m": -1, "s": -2}},
	"N":        {"1000", map[string]int{"g": 1, "m": 1, "s": -2}},
	"J":        {"1000", map[string]int{"g": 1, "m": 2, "s": -2}},
	"cal":      {"4184", map[string]int{"g": 1, "m": 2, "s": -2}},
	"W":        {"1000", map[string]int{"g": 1, "m": 2, "s": -3}},
	"Hz":       {"1", map[string]int{"s": -1}},
	"%":        {"0.01", nil},
	"[ppm]":    {"0.000001", nil},
	"[iU]":     {"1", baseDims("[iU]")},
	"[IU]":     {"1", baseDims("[iU]")},
	"U":        {"10036894500000000", map[string]int{"1": 1, "s": -1}},
	"eq":       {"602213670000000000000000", baseDims("1")},
	"osm":      {"602213670000000000000000", baseDims("1")},
	"kat":      {"602213670000000000000000", map[string]int{"1": 1, "s": -1}},
	"[pH]":     {"1", baseDims("[pH]")},
	"[degF]":   {"1", baseDims("[degF]")},
	"Cel":      {"1", baseDims("Cel")},
	"[drp]":    {"0.00000005", map[string]int{"m": 3}},
	"[tsp_us]": {"0.00000492892159375", map[string]int{"m": 3}},
	"[foz_us]": {"0.0000295735295625", map[string]int{"m": 3}},
	"[pt_us]":  {"0.000473176473", map[string]int{"m": 3}},
	"[gal_us]": {"0.003785411784", map[string]int{"m": 3}},
}

// Metric prefixes (https://ucum.org/ucum#section-Prefixes).
var ucumPrefixes = map[string]string{
	"Y": "1e24", "Z": "1e21", "E": "1e18", "P": "1e15", "T": "1e12", "G": "1e9", "M": "1e6", "k": "1e3",
	"h": "1e2", "da": "1e1", "d": "1e-1", "c": "1e-2", "m": "1e-3", "u": "1e-6", "n": "1e-9", "p": "1e-12",
	"f": "1e-15", "a": "1e-18",
}

// metric atoms take prefixes.
var metricAtoms = map[string]bool{"m": true, "g": true, "s": true, "mol": true, "K": true, "A": true, "cd": true,
	"L": true, "l": true, "Pa": true, "bar": true, "N": true, "J": true, "cal": true, "W": true, "Hz": true,
	"U": true, "eq": true, "osm": true, "kat": true, "[iU]": true, "[IU]": true}

// calendarUCUM gives the UCUM unit a calendar keyword equals.
var calendarUCUM = map[string]string{"week": "wk", "day": "d", "hour": "h", "minute": "min", "second": "s", "millisecond": "ms"}

// unit is a parsed unit: value in base units = value × factor.
type unit struct {
	factor *apd.Decimal
	dims   map[string]int
}

func (u unit) key() string {
	ks := make([]string, 0, len(u.dims))
	for k, v := range u.dims {
		if v != 0 {
			ks = append(ks, k+strconv.Itoa(v))
		}
	}
	sort.Strings(ks)
	return strings.Join(ks, ".")
}

// quantityUnit parses the unit of q. Calendar years and months get their
// own dimension so they compare with each other only.
func quantityUnit(q Quantity) (unit, bool) {
	switch q.calendar {
	case "year":
		return unit{apd.New(12, 0), map[string]int{"calendar-month": 1}}, true
	case "month":
		return unit{apd.New(1, 0), map[string]int{"calendar-month": 1}}, true
	case "":
	default:
		return parseUCUM(calendarUCUM[q.calendar])
	}
	if cu, ok := calendarUnits[q.Unit]; ok {
		// A quoted calendar word ('month') is not UCUM; treat it as the keyword.
		return quantityUnit(Quantity{Value: q.Value, Unit: q.Unit, calendar: cu})
	}
	return parseUCUM(q.Unit)
}

type ucumParser struct {
	s string
	i int
}

// parseUCUM parses a UCUM unit expression of the subset above.
func parseUCUM(s string) (unit, bool) {
	p := &ucumParser{s: s}
	u, ok := p.term(0)
	if !ok || p.i != len(s) {
		return unit{}, false
	}
	return u, true
}

func mulUnit(a, b unit, exp int) unit {
	f := new(apd.Decimal)
	bf := b.factor
	if exp < 0 {
		bf = new(apd.Decimal)
		_, _ = decCtx.Quo(bf, apd.New(1, 0), b.factor)
	}
	_, _ = decCtx.Mul(f, a.factor, bf)
	d := map[string]int{}
	for k, v := range a.dims {
		d[k] += v
	}
	for k, v := range b.dims {
		d[k] += v * exp
	}
	return unit{f, d}
}

func (p *ucumParser) term(depth int) (unit, bool) {
	if depth > 10 {
		return unit{}, false
	}
	acc := unit{apd.New(1, 0), map[string]int{}}
	op := 1
	if p.i < len(p.s) && p.s[p.i] == '/' {
		p.i++
		op = -1
	}
	for {
		c, ok := p.component(depth)
		if !ok {
			return unit{}, false
		}
		acc = mulUnit(acc, c, op)
		if p.i >= len(p.s) || p.s[p.i] == ')' {
			return acc, true
		}
		switch p.s[p.i] {
		case '.':
			op = 1
		case '/':
			op = -1
		default:
			return unit{}, false
		}
		p.i++
	}
}

func (p *ucumParser) component(depth int) (unit, bool) {
	if p.i >= len(p.s) {
		return unit{}, false
	}
	var u unit
	switch c := p.s[p.i]; {
	case c == '(':
		p.i++
		inner, ok := p.term(depth + 1)
		if !ok || p.i >= len(p.s) || p.s[p.i] != ')' {
			return unit{}, false
		}
		p.i++
		u = inner
	case c == '{':
		end := strings.IndexByte(p.s[p.i:], '}')
		if end < 0 {
			return unit{}, false
		}
		p.i += end + 1
		return unit{apd.New(1, 0), map[string]int{}}, true
	case c >= '0' && c <= '9':
		j := p.i
		for j < len(p.s) && isDigit(p.s[j]) {
			j++
		}
		n, _ := strconv.ParseInt(p.s[p.i:j], 10, 64)
		p.i = j
		u = unit{apd.New(n, 0), map[string]int{}}
		// 10*3 style factors
		if p.i < len(p.s) && (p.s[p.i] == '*' || p.s[p.i] == '^') {
			p.i++
			e, ok := p.exponent()
			if !ok {
				return unit{}, false
			}
			f := new(apd.Decimal)
			_, _ = decCtx.Pow(f, apd.New(n, 0), apd.New(int64(e), 0))
			u = unit{f, map[string]int{}}
		}
	default:
		j := p.i
		for j < len(p.s) {
			ch := p.s[j]
			if ch == '[' {
				k := strings.IndexByte(p.s[j:], ']')
				if k < 0 {
					return unit{}, false
				}
				j += k + 1
				continue
			}
			if ch == '.' || ch == '/' || ch == '(' || ch == ')' || ch == '{' || isDigit(ch) || ch == '-' || ch == '+' {
				break
			}
			j++
		}
		sym := p.s[p.i:j]
		p.i = j
		var ok bool
		u, ok = atom(sym)
		if !ok {
			return unit{}, false
		}
	}
	// annotation after a unit
	if p.i < len(p.s) && p.s[p.i] == '{' {
		end := strings.IndexByte(p.s[p.i:], '}')
		if end < 0 {
			return unit{}, false
		}
		p.i += end + 1
	}
	if p.i < len(p.s) && (isDigit(p.s[p.i]) || p.s[p.i] == '-' || p.s[p.i] == '+') {
		e, ok := p.exponent()
		if !ok {
			return unit{}, false
		}
		return mulUnit(unit{apd.New(1, 0), map[string]int{}}, u, e), true
	}
	return u, true
}

func (p *ucumParser) exponent() (int, bool) {
	j := p.i
	if j < len(p.s) && (p.s[j] == '-' || p.s[j] == '+') {
		j++
	}
	k := j
	for k < len(p.s) && isDigit(p.s[k]) {
		k++
	}
	if k == j || k-j > 3 {
		return 0, false
	}
	e, _ := strconv.Atoi(p.s[p.i:k])
	p.i = k
	return e, true
}

func atom(sym string) (unit, bool) {
	if sym == "" {
		return unit{}, false
	}
	if d, ok := ucumAtoms[sym]; ok {
		return defUnit(d, "1"), true
	}
	for _, pl := range []int{2, 1} {
		if len(sym) > pl {
			if pf, ok := ucumPrefixes[sym[:pl]]; ok && metricAtoms[sym[pl:]] {
				return defUnit(ucumAtoms[sym[pl:]], pf), true
			}
		}
	}
	return unit{}, false
}

func defUnit(d unitDef, prefix string) unit {
	f, _, _ := apd.NewFromString(d.factor)
	pf, _, _ := apd.NewFromString(prefix)
	r := new(apd.Decimal)
	_, _ = decCtx.Mul(r, f, pf)
	dims := map[string]int{}
	for k, v := range d.dims {
		dims[k] = v
	}
	return unit{r, dims}
}

// convertQuantity expresses b in a's unit; ok is false when the units are
// not commensurable.
func convertQuantity(b Quantity, to Quantity) (*apd.Decimal, bool) {
	if b.Unit == to.Unit && b.calendar == to.calendar {
		return b.Value, true
	}
	ub, ok1 := quantityUnit(b)
	ut, ok2 := quantityUnit(to)
	if !ok1 || !ok2 || ub.key() != ut.key() {
		return nil, false
	}
	r := new(apd.Decimal)
	_, _ = decCtx.Mul(r, b.Value, ub.factor)
	_, _ = decCtx.Quo(r, r, ut.factor)
	return normalizeDec(r), true
}

// normalizeDec strips trailing zeros a division introduced (keeping at
// least the integer digits), so converted values keep a sensible scale.
func normalizeDec(d *apd.Decimal) *apd.Decimal {
	r := new(apd.Decimal)
	r.Reduce(d)
	if r.Exponent > 0 && r.NumDigits()+int64(r.Exponent) <= int64(decCtx.Precision) {
		_, _ = decCtx.Quantize(r, r, 0)
	}
	return r
}

// comparableUnits implements comparable() (FHIRPath 2.1, used by R5-era tests).
func comparableUnits(a, b Quantity) bool {
	_, ok := convertQuantity(b, a)
	return ok
}
