package search

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cockroachdb/apd/v3"
)

// Value is one alternative of a parameter's value: the comma-separated
// parts of a value are ORed (https://hl7.org/fhir/R4/search.html#combining).
// The concrete types are NumberValue, DateValue, StringValue, TokenValue,
// ReferenceValue, QuantityValue, URIValue, CompositeValue, NearValue and
// ListValue. String renders the value in FHIR search syntax, escaped.
type Value interface {
	String() string
	isValue()
}

// Prefix is a comparison prefix of number, date and quantity values
// (https://hl7.org/fhir/R4/search.html#prefix). Without one, eq applies.
type Prefix string

// The prefixes of R4.
const (
	Eq Prefix = "eq"
	Ne Prefix = "ne"
	Gt Prefix = "gt"
	Lt Prefix = "lt"
	Ge Prefix = "ge"
	Le Prefix = "le"
	Sa Prefix = "sa" // starts after
	Eb Prefix = "eb" // ends before
	Ap Prefix = "ap" // approximately (the server chooses the margin; ±10% is the spec's suggestion)
)

var prefixes = [...]Prefix{Eq, Ne, Gt, Lt, Ge, Le, Sa, Eb, Ap}

// splitPrefix takes a two-letter prefix off s. A value such as "eb" alone or
// a string that happens to start with letters is left to the value parser
// to reject.
func splitPrefix(s string) (Prefix, string) {
	if len(s) >= 2 {
		for _, p := range prefixes {
			if s[:2] == string(p) {
				return p, s[2:]
			}
		}
	}
	return Eq, s
}

func (p Prefix) render() string {
	if p == Eq {
		return ""
	}
	return string(p)
}

// NumberValue is a number parameter's value. The number keeps its written
// precision: per https://hl7.org/fhir/R4/search.html#number, eq100 matches
// [99.5, 100.5) and eq100.00 matches [99.995, 100.005). Low and High are
// that implied range (half a unit of the last written digit either side).
type NumberValue struct {
	Prefix    Prefix
	Number    *apd.Decimal
	Low, High *apd.Decimal
}

func (v NumberValue) String() string { return v.Prefix.render() + v.Number.String() }

// Precision is the precision a date was written with.
type Precision uint8

// Date precisions, coarsest first.
const (
	Year Precision = iota + 1
	Month
	Day
	Minute
	Second
	Fraction // fractional seconds; the range is one unit of the last digit
)

var precisionNames = [...]string{Year: "year", Month: "month", Day: "day", Minute: "minute", Second: "second", Fraction: "fraction"}

func (p Precision) String() string {
	if int(p) < len(precisionNames) && p > 0 {
		return precisionNames[p]
	}
	return "precision(" + strconv.Itoa(int(p)) + ")"
}

// DateValue is a date parameter's value: the instant range [Low, High) that
// the written date covers at its precision
// (https://hl7.org/fhir/R4/search.html#date). 2020 is [2020-01-01,
// 2021-01-01) in the zone it is read in; 2020-03-04T10:00:00Z is one second.
// Dates and times written without an offset are read in Options.Location.
type DateValue struct {
	Prefix    Prefix
	Low, High time.Time
	Precision Precision
	Text      string // the date as written, for rendering
}

func (v DateValue) String() string { return v.Prefix.render() + v.Text }

// StringValue is a string parameter's value. Default matching is a
// case- and accent-insensitive prefix match on Normalized, :contains a
// substring match on Normalized, :exact an exact match on Text
// (https://hl7.org/fhir/R4/search.html#string). :text on tokens uses the
// same value.
type StringValue struct {
	Text       string
	Normalized string // NormalizeString(Text)
}

func (v StringValue) String() string { return escape(v.Text) }

// TokenValue is a token parameter's value
// (https://hl7.org/fhir/R4/search.html#token):
//
//	code          Code, HasSystem false: any system
//	system|code   System and Code
//	|code         HasSystem true, System "": only codes without a system
//	system|       System, Code "": any code of the system
//
// With :of-type the value is system|code|value: System and Code name the
// identifier type and Value the identifier. With :in and :not-in Code is the
// value set's URL (ValueSet) and nothing else is set. With :text the
// value is a StringValue instead.
type TokenValue struct {
	System, Code string
	HasSystem    bool
	Value        string // :of-type only
	ValueSet     string // :in, :not-in only
}

func (v TokenValue) String() string {
	switch {
	case v.ValueSet != "":
		return escape(v.ValueSet)
	case v.Value != "":
		return escape(v.System) + "|" + escape(v.Code) + "|" + escape(v.Value)
	case v.HasSystem:
		return escape(v.System) + "|" + escape(v.Code)
	}
	return escape(v.Code)
}

// ReferenceValue is a reference parameter's value
// (https://hl7.org/fhir/R4/search.html#reference). A bare id has Type "" when
// the parameter targets several types (any of them matches) and the one
// target type otherwise; Type/id sets both; an absolute URL sets URL, and
// Type and ID too when the URL ends in Type/id. Version comes from
// /_history/v or, for canonical references, from url|version. With
// :identifier the value is a TokenValue instead.
type ReferenceValue struct {
	Type, ID, URL, Version string
	written                string
}

// String renders the reference as written; a | in it separates a canonical
// URL from its version, so it stays unescaped.
func (v ReferenceValue) String() string { return escapeOnly(v.written, `,$\`) }

// QuantityValue is a quantity parameter's value: [prefix]number|system|code,
// [prefix]number||code (code or unit, any system) or [prefix]number
// (https://hl7.org/fhir/R4/search.html#quantity). Low and High are the
// number's implied range as for NumberValue. Unit conversion (UCUM) is the
// index's and planner's concern, not the parser's.
type QuantityValue struct {
	Prefix       Prefix
	Number       *apd.Decimal
	Low, High    *apd.Decimal
	System, Code string
	HasUnit      bool // a "|" was written
}

func (v QuantityValue) String() string {
	s := v.Prefix.render() + v.Number.String()
	if v.HasUnit {
		s += "|" + escape(v.System) + "|" + escape(v.Code)
	}
	return s
}

// URIValue is a uri parameter's value, matched exactly, or as a prefix
// (:below) or by the URL's ancestors (:above)
// (https://hl7.org/fhir/R4/search.html#uri).
type URIValue struct{ URI string }

func (v URIValue) String() string { return escape(v.URI) }

// CompositeValue is a composite parameter's value: one value per component,
// in the order of the definition, written joined by $
// (https://hl7.org/fhir/R4/search.html#composite).
type CompositeValue struct{ Components []Value }

func (v CompositeValue) String() string {
	parts := make([]string, len(v.Components))
	for i, c := range v.Components {
		parts[i] = c.String()
	}
	return strings.Join(parts, "$")
}

// NearValue is the value of Location's special near parameter:
// latitude|longitude[|distance[|units]]
// (https://hl7.org/fhir/R4/location.html#positional).
type NearValue struct {
	Latitude, Longitude *apd.Decimal
	Distance            *apd.Decimal // nil: the server's default
	Units               string       // UCUM code of the distance; "" with a distance means km
}

func (v NearValue) String() string {
	s := v.Latitude.String() + "|" + v.Longitude.String()
	if v.Distance != nil {
		s += "|" + v.Distance.String()
		if v.Units != "" {
			s += "|" + escape(v.Units)
		}
	}
	return s
}

// ListValue is the value of _list: a List id or a functional list name
// such as $current-problems (https://hl7.org/fhir/R4/search.html#list).
type ListValue struct{ ID string }

func (v ListValue) String() string { return escapeOnly(v.ID, `,|\`) }

func (NumberValue) isValue()    {}
func (DateValue) isValue()      {}
func (StringValue) isValue()    {}
func (TokenValue) isValue()     {}
func (ReferenceValue) isValue() {}
func (QuantityValue) isValue()  {}
func (URIValue) isValue()       {}
func (CompositeValue) isValue() {}
func (NearValue) isValue()      {}
func (ListValue) isValue()      {}

// splitEscaped splits s at each sep not preceded by the escape character,
// keeping escapes in the parts (https://hl7.org/fhir/R4/search.html#escaping).
func splitEscaped(s string, sep byte) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++ // skip the escaped byte
		case sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// unescape removes the escapes \, \$ \| and \\. A backslash before any other
// character, or at the end, is kept as written: the spec defines only these
// four escapes, and a lone backslash in a value is more likely meant
// literally than an error.
func unescape(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`,$|\`, s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// escape is the inverse of unescape for rendering.
func escape(s string) string { return escapeOnly(s, `,$|\`) }

// escapeOnly escapes the characters of special.
func escapeOnly(s, special string) string {
	if !strings.ContainsAny(s, special) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(special, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// valueError is a problem with one value; the caller adds the parameter.
type valueError string

func (e valueError) Error() string { return string(e) }

func errorf(format string, args ...any) error { return valueError(fmt.Sprintf(format, args...)) }

// parseDecimal parses a FHIR search number and its implied range.
func parseDecimal(s string) (num, low, high *apd.Decimal, err error) {
	if s == "" {
		return nil, nil, nil, errorf("a number is required")
	}
	// apd also accepts "NaN", "Infinity" and hex-free forms we do not want;
	// FHIR numbers are decimal digits with an optional sign, point and
	// exponent.
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return nil, nil, nil, errorf("%q is not a number", s)
		}
	}
	if len(s) > 64 {
		return nil, nil, nil, errorf("number %.20q… is too long", s)
	}
	num, _, err = apd.NewFromString(s)
	if err != nil || num.Form != apd.Finite || num.Exponent < -64 || num.Exponent > 64 {
		return nil, nil, nil, errorf("%q is not a number", s)
	}
	// Half a unit of the last written digit: 0.5 × 10^exponent.
	half := apd.New(5, num.Exponent-1)
	ctx := apd.BaseContext.WithPrecision(200)
	low, high = new(apd.Decimal), new(apd.Decimal)
	if _, err := ctx.Sub(low, num, half); err != nil {
		return nil, nil, nil, errorf("%q is out of range", s)
	}
	if _, err := ctx.Add(high, num, half); err != nil {
		return nil, nil, nil, errorf("%q is out of range", s)
	}
	return num, low, high, nil
}

func parseNumber(s string) (Value, error) {
	prefix, rest := splitPrefix(s)
	num, low, high, err := parseDecimal(unescape(rest))
	if err != nil {
		return nil, err
	}
	return NumberValue{Prefix: prefix, Number: num, Low: low, High: high}, nil
}

// parseDate parses [prefix]date into its range. Accepted forms are those of
// FHIR date, dateTime and instant: yyyy, yyyy-mm, yyyy-mm-dd,
// yyyy-mm-ddThh:mm[:ss[.fff…]][Z|±hh:mm]; minutes-only times are accepted as
// many servers do. A space where the offset's + belongs is read as + (an
// unencoded + in a query string arrives as a space).
func parseDate(s string, loc *time.Location) (Value, error) {
	prefix, text := splitPrefix(s)
	text = unescape(text)
	bad := func() (Value, error) {
		return nil, errorf("not a date: want yyyy, yyyy-mm, yyyy-mm-dd or yyyy-mm-ddThh:mm[:ss[.sss]][Z|+hh:mm]")
	}
	num := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, s != ""
	}
	t := text
	if len(t) < 4 {
		return bad()
	}
	year, ok := num(t[:4])
	if !ok || year < 1 {
		return bad()
	}
	month, day, hour, minute, sec, nsec := 1, 1, 0, 0, 0, 0
	prec := Year
	var fracDigits int
	t = t[4:]
	if t != "" {
		if len(t) < 3 || t[0] != '-' {
			return bad()
		}
		if month, ok = num(t[1:3]); !ok || month < 1 || month > 12 {
			return bad()
		}
		prec, t = Month, t[3:]
	}
	if t != "" {
		if len(t) < 3 || t[0] != '-' {
			return bad()
		}
		if day, ok = num(t[1:3]); !ok || day < 1 || day > daysIn(year, month) {
			return bad()
		}
		prec, t = Day, t[3:]
	}
	zone := loc
	if t != "" {
		if len(t) < 6 || t[0] != 'T' || t[3] != ':' {
			return bad()
		}
		if hour, ok = num(t[1:3]); !ok || hour > 23 {
			return bad()
		}
		if minute, ok = num(t[4:6]); !ok || minute > 59 {
			return bad()
		}
		prec, t = Minute, t[6:]
		if len(t) >= 3 && t[0] == ':' {
			if sec, ok = num(t[1:3]); !ok || sec > 59 {
				return bad()
			}
			prec, t = Second, t[3:]
			if len(t) >= 2 && t[0] == '.' {
				i := 1
				for i < len(t) && t[i] >= '0' && t[i] <= '9' {
					i++
				}
				fracDigits = i - 1
				if fracDigits == 0 || fracDigits > 9 {
					return bad()
				}
				f, _ := num(t[1:i])
				for range 9 - fracDigits {
					f *= 10
				}
				nsec, prec, t = f, Fraction, t[i:]
			}
		}
		switch {
		case t == "":
		case t == "Z":
			zone = time.UTC
		case len(t) == 6 && (t[0] == '+' || t[0] == '-' || t[0] == ' ') && t[3] == ':':
			oh, ok1 := num(t[1:3])
			om, ok2 := num(t[4:6])
			if !ok1 || !ok2 || oh > 14 || om > 59 {
				return bad()
			}
			off := oh*3600 + om*60
			if t[0] == '-' {
				off = -off
			}
			zone = time.FixedZone("", off)
			if t[0] == ' ' {
				text = text[:len(text)-6] + "+" + t[1:]
			}
		default:
			return bad()
		}
	}
	low := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, zone)
	var high time.Time
	switch prec {
	case Year:
		high = low.AddDate(1, 0, 0)
	case Month:
		high = low.AddDate(0, 1, 0)
	case Day:
		high = low.AddDate(0, 0, 1)
	case Minute:
		high = low.Add(time.Minute)
	case Second:
		high = low.Add(time.Second)
	case Fraction:
		d := time.Second
		for range fracDigits {
			d /= 10
		}
		high = low.Add(d)
	}
	return DateValue{Prefix: prefix, Low: low.UTC(), High: high.UTC(), Precision: prec, Text: text}, nil
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func parseString(s string) (Value, error) {
	text := unescape(s)
	if !utf8.ValidString(text) {
		return nil, errorf("the value is not valid UTF-8")
	}
	return StringValue{Text: text, Normalized: NormalizeString(text)}, nil
}

// parseToken parses a token value for modifier mod ("" or one of the token
// modifiers).
func parseToken(s, mod string) (Value, error) {
	switch mod {
	case ModText:
		return parseString(s)
	case ModIn, ModNotIn:
		url := unescape(s)
		if strings.ContainsAny(url, " \t\n") {
			return nil, errorf("not a value set URL")
		}
		return TokenValue{ValueSet: url}, nil
	}
	parts := splitEscaped(s, '|')
	for i := range parts {
		parts[i] = unescape(parts[i])
	}
	switch {
	case mod == ModOfType:
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			return nil, errorf(":of-type takes system|code|value (the identifier type and the identifier)")
		}
		return TokenValue{System: parts[0], Code: parts[1], HasSystem: true, Value: parts[2]}, nil
	case len(parts) == 1:
		return TokenValue{Code: parts[0]}, nil
	case len(parts) == 2:
		if parts[0] == "" && parts[1] == "" {
			return nil, errorf(`"|" alone names neither a system nor a code`)
		}
		return TokenValue{System: parts[0], Code: parts[1], HasSystem: true}, nil
	}
	return nil, errorf("more than one unescaped |: want code, system|code, |code or system|")
}

// parseReference parses a reference value. targets are the parameter's
// target types; typ is the type named by a :Type modifier, if any.
func parseReference(s string, targets []string, typ string, isType func(string) bool) (Value, error) {
	v := ReferenceValue{written: unescape(s)}
	w := v.written
	if w == "" {
		return nil, errorf("a reference is required")
	}
	if strings.ContainsAny(w, " \t\n") {
		return nil, errorf("not a reference")
	}
	// Canonical references carry their version after | (https://hl7.org/fhir/R4/references.html#canonical).
	if i := strings.IndexByte(w, '|'); i >= 0 {
		w, v.Version = w[:i], w[i+1:]
	}
	absolute := strings.Contains(w, "://") || strings.HasPrefix(w, "urn:")
	if absolute {
		v.URL = w
	}
	segs := strings.Split(w, "/")
	if n := len(segs); n >= 4 && segs[n-2] == "_history" {
		if v.Version != "" {
			return nil, errorf("two versions")
		}
		v.Version = segs[n-1]
		segs = segs[:n-2]
	}
	switch n := len(segs); {
	case n >= 2 && isType(segs[n-2]) && validID(segs[n-1]):
		v.Type, v.ID = segs[n-2], segs[n-1]
		if !absolute && n != 2 {
			return nil, errorf("not a reference: want id, Type/id or an absolute URL")
		}
	case absolute:
	case n == 1 && validID(segs[0]):
		v.ID = segs[0]
	default:
		return nil, errorf("not a reference: want id, Type/id or an absolute URL")
	}
	if typ != "" {
		switch {
		case v.Type == "":
			if !absolute {
				v.Type = typ
			}
		case v.Type != typ:
			return nil, errorf("not a %s reference", typ)
		}
	}
	if v.Type == "" && !absolute && len(targets) == 1 && targets[0] != "Resource" {
		v.Type = targets[0]
	}
	if v.Type != "" && !absolute && !targetAllowed(targets, v.Type) {
		return nil, errorf("the parameter does not refer to %s (targets: %s)", v.Type, strings.Join(targets, ", "))
	}
	return v, nil
}

// validID reports whether s is a FHIR id ([A-Za-z0-9\-\.]{1,64},
// https://hl7.org/fhir/R4/datatypes.html#id).
func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func targetAllowed(targets []string, typ string) bool {
	for _, t := range targets {
		if t == typ || t == "Resource" {
			return true
		}
	}
	// A reference parameter without declared targets may point anywhere.
	return len(targets) == 0
}

func parseQuantity(s string) (Value, error) {
	prefix, rest := splitPrefix(s)
	parts := splitEscaped(rest, '|')
	num, low, high, err := parseDecimal(unescape(parts[0]))
	if err != nil {
		return nil, err
	}
	v := QuantityValue{Prefix: prefix, Number: num, Low: low, High: high}
	switch len(parts) {
	case 1:
	case 3:
		v.System, v.Code, v.HasUnit = unescape(parts[1]), unescape(parts[2]), true
		if v.Code == "" && v.System != "" {
			return nil, errorf("a unit system without a unit")
		}
	default:
		return nil, errorf("want [prefix]number, [prefix]number|system|code or [prefix]number||code")
	}
	return v, nil
}

func parseURI(s string) (Value, error) {
	u := unescape(s)
	if strings.ContainsAny(u, " \t\n") {
		return nil, errorf("not a URI")
	}
	return URIValue{URI: u}, nil
}

func parseNear(s string) (Value, error) {
	parts := splitEscaped(s, '|')
	if len(parts) < 2 || len(parts) > 4 {
		return nil, errorf("want latitude|longitude[|distance[|units]]")
	}
	var v NearValue
	var err error
	if v.Latitude, _, _, err = parseDecimal(parts[0]); err != nil {
		return nil, err
	}
	if v.Longitude, _, _, err = parseDecimal(parts[1]); err != nil {
		return nil, err
	}
	if v.Latitude.Cmp(apd.New(90, 0)) > 0 || v.Latitude.Cmp(apd.New(-90, 0)) < 0 ||
		v.Longitude.Cmp(apd.New(180, 0)) > 0 || v.Longitude.Cmp(apd.New(-180, 0)) < 0 {
		return nil, errorf("latitude or longitude out of range")
	}
	if len(parts) >= 3 {
		if v.Distance, _, _, err = parseDecimal(parts[2]); err != nil {
			return nil, err
		}
		if v.Distance.Negative {
			return nil, errorf("negative distance")
		}
	}
	if len(parts) == 4 {
		v.Units = unescape(parts[3])
	}
	return v, nil
}

// NormalizeString is the form in which string parameters are compared:
// lower case, with accents and other diacritics removed, so that "Zoë",
// "ZOE" and "zoe" match (https://hl7.org/fhir/R4/search.html#string: "case-
// and accent-insensitive"). The index stores the same form, so both sides
// must use this function. Diacritics are removed for precomposed Latin
// letters (a built-in table; golang.org/x/text is not a direct dependency)
// and as combining marks (U+0300–U+036F); other scripts are only
// lower-cased.
func NormalizeString(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || c >= 'A' && c <= 'Z' {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			if r >= 'A' && r <= 'Z' {
				r += 'a' - 'A'
			}
			b.WriteByte(byte(r))
		case r >= 0x300 && r <= 0x36F:
			// combining diacritical mark: dropped
		default:
			if f, ok := foldTable[r]; ok {
				b.WriteString(f)
			} else {
				b.WriteRune(unicode.ToLower(r))
			}
		}
	}
	return b.String()
}

// Precomposed Latin letters (Latin-1 Supplement, Latin Extended-A and -B)
// whose canonical decomposition is an ASCII letter plus marks, generated
// from Unicode's decompositions, and the letters without decomposition that
// are conventionally folded (ß → ss, ø → o, …).
const (
	foldFrom = "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžƠơƯưǍǎǏǐǑǒǓǔǕǖǗǘǙǚǛǜǞǟǠǡǦǧǨǩǪǫǬǭǰǴǵǸǹǺǻȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮȯȰȱȲȳ"
	foldTo   = "aaaaaaceeeeiiiinooooouuuuyaaaaaaceeeeiiiinooooouuuuyyaaaaaaccccccccddeeeeeeeeeegggggggghhiiiiiiiiijjkkllllllnnnnnnoooooorrrrrrssssssssttttuuuuuuuuuuuuwwyyyzzzzzzoouuaaiioouuuuuuuuuuaaaaggkkoooojggnnaaaaaaeeeeiiiioooorrrruuuusstthhaaeeooooooooyy"
)

// foldTable is built once from the constants above and never written after.
var foldTable = func() map[rune]string {
	m := map[rune]string{
		'Æ': "ae", 'æ': "ae", 'Ð': "d", 'ð': "d", 'Ø': "o", 'ø': "o", 'Þ': "th", 'þ': "th", 'ß': "ss",
		'Đ': "d", 'đ': "d", 'Ħ': "h", 'ħ': "h", 'ı': "i", 'Ĳ': "ij", 'ĳ': "ij", 'Ŀ': "l", 'ŀ': "l",
		'Ł': "l", 'ł': "l", 'Œ': "oe", 'œ': "oe", 'Ŧ': "t", 'ŧ': "t", 'ſ': "s",
	}
	i := 0
	for _, r := range foldFrom {
		m[r] = foldTo[i : i+1]
		i++
	}
	return m
}()
