package index

import (
	"math"
	"strconv"
	"strings"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/fhirpath"
)

// UCUM is the system of unit codes that quantities are normalised in.
const UCUM = "http://unitsofmeasure.org"

// Quantity is one row of a quantity parameter
// (https://hl7.org/fhir/R4/search.html#quantity).
//
// Value is the number as written ("" for a Range); Low and High are its
// implicit precision range (as for Number) or, for a Range, the range's
// bounds (an absent bound is ±Inf). System, Code and Unit are as written;
// CodeHash keys "n||code" (the code, or the unit when there is no code)
// and SystemCodeHash "n|system|code".
//
// When System is UCUM and the unit is one CanonicalUnit understands,
// Canonical is the unit's canonical form and CanonicalLow/High the range
// in it, so "5.4|http://unitsofmeasure.org|mg" finds a stored 0.0054 g.
type Quantity struct {
	Param          string
	Value          string
	Low, High      float64
	System         string
	Code           string
	Unit           string
	CodeHash       int64
	SystemCodeHash int64

	Canonical                   string // "" when not normalised
	CanonicalLow, CanonicalHigh float64
	CanonicalHash               int64 // QuantityCanonicalHash(Param, Canonical), 0 when not normalised
}

// appendQuantities indexes Quantity (and Age, Duration, Distance, Count,
// SimpleQuantity, MoneyQuantity), Money (currency as code) and Range
// values. SampledData gives no row.
func appendQuantities(out []Quantity, param string, it fhirpath.Item) []Quantity {
	n, ok := it.(*fhirpath.Node)
	if !ok {
		if d, ok := it.(fhirpath.Decimal); ok {
			if l, h, ok := decimalRange(d.D); ok {
				out = append(out, newQuantity(param, d.String(), l, h, "", "", ""))
			}
		}
		return out
	}
	v := n.Value()
	if v == nil || v.Kind != fhir.Object {
		return out
	}
	switch n.TypeName() {
	case "Range":
		low, high := math.Inf(-1), math.Inf(1)
		var sys, code, unit string
		found := false
		if lo, ok := v.Get("low"); ok && lo.Kind == fhir.Object {
			if l, _, ok := NumberRange(numText(lo)); ok {
				low, found = exactFloat(numText(lo), l), true
				sys, code, unit = lo.Str("system"), lo.Str("code"), lo.Str("unit")
			}
		}
		if hi, ok := v.Get("high"); ok && hi.Kind == fhir.Object {
			if _, h, ok := NumberRange(numText(hi)); ok {
				high = exactFloat(numText(hi), h)
				if sys == "" && code == "" && unit == "" {
					sys, code, unit = hi.Str("system"), hi.Str("code"), hi.Str("unit")
				}
			}
		}
		if found || !math.IsInf(high, 1) {
			out = append(out, newQuantity(param, "", low, high, sys, code, unit))
		}
		return out
	case "Money":
		s := numText(v)
		if l, h, ok := NumberRange(s); ok {
			out = append(out, newQuantity(param, s, l, h, "urn:iso:std:iso:4217", v.Str("currency"), ""))
		}
		return out
	case "Quantity", "Age", "Duration", "Distance", "Count", "SimpleQuantity", "MoneyQuantity":
		s := numText(v)
		if l, h, ok := NumberRange(s); ok {
			out = append(out, newQuantity(param, s, l, h, v.Str("system"), v.Str("code"), v.Str("unit")))
		}
	}
	return out
}

// exactFloat is the value of a Range bound: a bound is exact, not a
// measurement with an implicit precision.
func exactFloat(s string, fallback float64) float64 {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f
	}
	return fallback
}

func numText(v *fhir.Value) string {
	if n, ok := v.Get("value"); ok && n.Kind == fhir.Number {
		return n.Text
	}
	return ""
}

func newQuantity(param, value string, low, high float64, system, code, unit string) Quantity {
	key := code
	if key == "" {
		key = unit
	}
	q := Quantity{
		Param: param, Value: value, Low: low, High: high, System: system, Code: code, Unit: unit,
		CodeHash:       QuantityCodeHash(param, key),
		SystemCodeHash: QuantitySystemCodeHash(param, system, code),
	}
	if system == UCUM && code != "" {
		if canon, conv, ok := CanonicalUnit(code); ok {
			q.Canonical = canon
			q.CanonicalLow, q.CanonicalHigh = conv(low), conv(high)
			q.CanonicalHash = QuantityCanonicalHash(param, canon)
		}
	}
	return q
}

// CanonicalUnit normalises a UCUM unit code
// (https://ucum.org/ucum) to a canonical unit and returns the conversion of
// values into it. It understands:
//
//   - products and quotients of simple units, with integer exponents:
//     mg/dL, mmol/L, kg/m2, mL/min, /min, {beats}/min (annotations {…}
//     count as 1), 10*3/uL (powers of ten);
//   - metric prefixes (p n u m c d da h k M G) on g, L/l, m, s, mol, eq, Pa,
//     kat, Hz, m[Hg];
//   - min, h, d, wk, mo, a (UCUM's mean Julian month and year), [lb_av],
//     [oz_av], [in_i], [ft_i], mm[Hg] (to Pa), %, [iU]/[IU] (kept as is);
//   - Cel, [degF] and K alone, converted to Cel (an affine map, still
//     monotone, so ranges stay ranges).
//
// The canonical unit is written with base units g, L, m, s, mol, eq, Pa,
// [IU] and powers of ten folded into the value: mg/dL → "g.L-1" with
// factor 0.01. Volume stays in L (not m3) because clinical units use it
// and it keeps factors exact. Anything else is not normalised (ok false):
// such quantities match only on their own code.
func CanonicalUnit(code string) (canonical string, convert func(float64) float64, ok bool) {
	switch code {
	case "Cel":
		return "Cel", func(v float64) float64 { return v }, true
	case "[degF]":
		return "Cel", func(v float64) float64 { return (v - 32) * 5 / 9 }, true
	case "K":
		return "Cel", func(v float64) float64 { return v - 273.15 }, true
	}
	factor, dims, ok := parseUnit(code)
	if !ok {
		return "", nil, false
	}
	var b strings.Builder
	for i, base := range baseUnits {
		e := dims[i]
		if e == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(base)
		if e != 1 {
			b.WriteString(strconv.Itoa(e))
		}
	}
	if b.Len() == 0 {
		b.WriteString("1")
	}
	return b.String(), func(v float64) float64 { return v * factor }, true
}

// baseUnits orders the canonical form.
var baseUnits = [...]string{"g", "L", "m", "s", "mol", "eq", "Pa", "kat", "[IU]", "%"}

// Indexes into baseUnits.
const (
	baseNone = iota - 1
	baseG
	baseL
	baseM
	baseS
	baseMol
	baseEq
	basePa
	baseKat
	baseIU
	basePercent
)

type unitDef struct {
	factor float64
	base   int // index into baseUnits, baseNone for dimensionless
	exp    int // power of base the unit is (m2 is m with exp 2 — only via exponents)
	metric bool
}

var unitAtoms = map[string]unitDef{
	"g":       {1, baseG, 1, true},
	"L":       {1, baseL, 1, true},
	"l":       {1, baseL, 1, true},
	"m":       {1, baseM, 1, true},
	"s":       {1, baseS, 1, true},
	"mol":     {1, baseMol, 1, true},
	"eq":      {1, baseEq, 1, true},
	"Pa":      {1, basePa, 1, true},
	"kat":     {1, baseKat, 1, true},
	"Hz":      {1, baseS, -1, true},
	"m[Hg]":   {133322.387415, basePa, 1, true},
	"min":     {60, baseS, 1, false},
	"h":       {3600, baseS, 1, false},
	"d":       {86400, baseS, 1, false},
	"wk":      {604800, baseS, 1, false},
	"a":       {31557600, baseS, 1, false},
	"mo":      {2629800, baseS, 1, false},
	"[lb_av]": {453.59237, baseG, 1, false},
	"[oz_av]": {28.349523125, baseG, 1, false},
	"[in_i]":  {0.0254, baseM, 1, false},
	"[ft_i]":  {0.3048, baseM, 1, false},
	"%":       {1, basePercent, 1, false},
	"[iU]":    {1, baseIU, 1, true},
	"[IU]":    {1, baseIU, 1, true},
	"1":       {1, baseNone, 0, false},
}

var unitPrefixes = []struct {
	p string
	f float64
}{
	{"da", 1e1}, {"p", 1e-12}, {"n", 1e-9}, {"u", 1e-6}, {"m", 1e-3}, {"c", 1e-2}, {"d", 1e-1},
	{"h", 1e2}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9},
}

// parseUnit reads term ('.' term | '/' term)*, with a leading '/' allowed.
func parseUnit(code string) (float64, [len(baseUnits)]int, bool) {
	var dims [len(baseUnits)]int
	if code == "" || len(code) > 64 {
		return 0, dims, false
	}
	factor := 1.0
	sign := 1
	i := 0
	if code[0] == '/' {
		sign, i = -1, 1
	}
	for i <= len(code) {
		j := i
		for j < len(code) && code[j] != '.' && code[j] != '/' {
			if code[j] == '{' {
				k := strings.IndexByte(code[j:], '}')
				if k < 0 {
					return 0, dims, false
				}
				j += k
			}
			j++
		}
		f, base, exp, ok := parseTerm(code[i:j])
		if !ok {
			return 0, dims, false
		}
		factor *= math.Pow(f, float64(sign))
		if base >= 0 {
			dims[base] += sign * exp
		}
		if j == len(code) {
			break
		}
		sign = 1
		if code[j] == '/' {
			sign = -1
		}
		i = j + 1
	}
	return factor, dims, true
}

// parseTerm reads one unit term: an annotation, a power of ten (10*3), or a
// prefixed atom with an optional integer exponent.
func parseTerm(t string) (factor float64, base int, exp int, ok bool) {
	if i := strings.IndexByte(t, '{'); i >= 0 {
		t = t[:i] // annotations do not change the unit
		if t == "" {
			return 1, baseNone, 0, true
		}
	}
	if rest, ok := strings.CutPrefix(t, "10*"); ok {
		n, err := strconv.Atoi(rest)
		if err != nil || n < -24 || n > 24 {
			return 0, baseNone, 0, false
		}
		return math.Pow10(n), baseNone, 0, true
	}
	// Trailing integer exponent (m2, s-1, cm3).
	e := 1
	k := len(t)
	for k > 0 && (t[k-1] >= '0' && t[k-1] <= '9') {
		k--
	}
	if k > 0 && t[k-1] == '-' && k < len(t) {
		k--
	}
	if k < len(t) && k > 0 {
		n, err := strconv.Atoi(t[k:])
		if err != nil || n == 0 || n > 9 || n < -9 {
			return 0, baseNone, 0, false
		}
		e, t = n, t[:k]
	}
	if t == "" {
		return 0, baseNone, 0, false
	}
	if d, ok := unitAtoms[t]; ok {
		return math.Pow(d.factor, float64(e)), d.base, d.exp * e, true
	}
	for _, p := range unitPrefixes {
		if atom, ok := strings.CutPrefix(t, p.p); ok {
			if d, ok := unitAtoms[atom]; ok && d.metric {
				return math.Pow(p.f*d.factor, float64(e)), d.base, d.exp * e, true
			}
		}
	}
	return 0, baseNone, 0, false
}
