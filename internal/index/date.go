package index

import (
	"time"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/fhirpath"
)

// Date is one row of a date parameter: the range of instants the value
// stands for, Low inclusive and High exclusive, in UTC
// (https://hl7.org/fhir/R4/search.html#date: "the date parameter format
// is yyyy-mm-ddThh:mm:ss.ssss[Z|(+|-)hh:mm]… with an implicit range").
// 2020 is [2020-01-01T00:00Z, 2021-01-01T00:00Z); a Period without an end
// runs to MaxTime. Every prefix is then a comparison of ranges:
// eq is "Low ≥ qLow and High ≤ qHigh", sa "Low ≥ qHigh", and so on.
type Date struct {
	Param     string
	Low, High time.Time
	// Precision is the finer precision of the value's ends (for a Period,
	// of start and end); informative, the range already carries it.
	Precision Precision
}

// MinTime and MaxTime stand for the open ends of a Period or bounds
// (−∞ and +∞). They are inside the range of SQL timestamp types and of
// Unix milliseconds in an int64.
var (
	MinTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC)
)

// Precision is how much of a date or time was given.
type Precision uint8

// Precisions, coarse to fine. Seconds with a fraction are Millisecond and
// finer (the fraction's digits set the range's width).
const (
	PrecisionNone Precision = iota
	PrecisionYear
	PrecisionMonth
	PrecisionDay
	PrecisionMinute
	PrecisionSecond
	PrecisionFraction
)

func (p Precision) String() string {
	return [...]string{"none", "year", "month", "day", "minute", "second", "fraction"}[p]
}

// DateRange returns the range [low, high) that a FHIR date, dateTime or
// instant stands for. A value without a zone is read in zone (FHIR allows
// no zone only up to day precision; a time without one is read the same
// way rather than refused). ok is false when s is not a FHIR date or time.
// Search values go through the same function, so that stored values and
// query values are read alike.
func DateRange(s string, zone *time.Location) (low, high time.Time, p Precision, ok bool) {
	num := func(i, n int) (int, bool) {
		if i+n > len(s) {
			return 0, false
		}
		v := 0
		for j := i; j < i+n; j++ {
			c := s[j]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	year, ok1 := num(0, 4)
	if !ok1 {
		return
	}
	month, day, hour, minute, sec, nsec := 1, 1, 0, 0, 0, 0
	p, i := PrecisionYear, 4
	fracDigits := 0
	if i < len(s) && s[i] == '-' {
		if month, ok1 = num(i+1, 2); !ok1 || month < 1 || month > 12 {
			return
		}
		p, i = PrecisionMonth, i+3
		if i < len(s) && s[i] == '-' {
			if day, ok1 = num(i+1, 2); !ok1 || day < 1 || day > daysIn(year, month) {
				return
			}
			p, i = PrecisionDay, i+3
			if i < len(s) && s[i] == 'T' {
				if hour, ok1 = num(i+1, 2); !ok1 || hour > 23 || i+3 >= len(s) || s[i+3] != ':' {
					return
				}
				if minute, ok1 = num(i+4, 2); !ok1 || minute > 59 {
					return
				}
				p, i = PrecisionMinute, i+6
				if i < len(s) && s[i] == ':' {
					if sec, ok1 = num(i+1, 2); !ok1 || sec > 59 {
						return
					}
					p, i = PrecisionSecond, i+3
					if i < len(s) && s[i] == '.' {
						i++
						scale := 100_000_000
						for i < len(s) && s[i] >= '0' && s[i] <= '9' {
							if scale > 0 {
								nsec += int(s[i]-'0') * scale
								scale /= 10
								fracDigits++
							}
							i++
						}
						if fracDigits == 0 {
							return
						}
						p = PrecisionFraction
					}
				}
			}
		}
	}
	loc := zone
	if i < len(s) {
		switch c := s[i]; {
		case c == 'Z' && i+1 == len(s):
			loc = time.UTC
		case (c == '+' || c == '-') && i+6 == len(s) && s[i+3] == ':':
			hh, ok1 := num(i+1, 2)
			mm, ok2 := num(i+4, 2)
			if !ok1 || !ok2 || hh > 14 || mm > 59 {
				return
			}
			off := (hh*60 + mm) * 60
			if c == '-' {
				off = -off
			}
			loc = time.FixedZone("", off)
		default:
			return
		}
		if p < PrecisionMinute {
			return // a zone needs a time
		}
	}
	if loc == nil {
		loc = time.UTC
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc)
	switch p {
	case PrecisionYear:
		high = t.AddDate(1, 0, 0)
	case PrecisionMonth:
		high = t.AddDate(0, 1, 0)
	case PrecisionDay:
		high = t.AddDate(0, 0, 1)
	case PrecisionMinute:
		high = t.Add(time.Minute)
	case PrecisionSecond:
		high = t.Add(time.Second)
	default:
		step := time.Duration(1)
		for d := fracDigits; d < 9; d++ {
			step *= 10
		}
		high = t.Add(step)
	}
	return t.UTC(), high.UTC(), p, true
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// appendDates indexes one value of a date parameter: date, dateTime,
// instant, Period (start to end, open ends as MinTime/MaxTime) and Timing
// (each event, and repeat.boundsPeriod). Other types (Age, Range, string
// onsets) give no row.
func appendDates(out []Date, param string, it fhirpath.Item, zone *time.Location) []Date {
	if dt, ok := it.(fhirpath.DateTime); ok {
		return appendDateString(out, param, dt.String(), zone)
	}
	n, ok := it.(*fhirpath.Node)
	if !ok || n.Value() == nil {
		return out
	}
	v := n.Value()
	switch n.TypeName() {
	case "Period":
		return appendPeriod(out, param, v, zone)
	case "Timing":
		if ev, ok := v.Get("event"); ok && ev.Kind == fhir.Array {
			for _, e := range ev.Items {
				if e.Kind == fhir.String {
					out = appendDateString(out, param, e.Text, zone)
				}
			}
		}
		if rep, ok := v.Get("repeat"); ok && rep.Kind == fhir.Object {
			if bp, ok := rep.Get("boundsPeriod"); ok && bp.Kind == fhir.Object {
				out = appendPeriod(out, param, bp, zone)
			}
		}
		return out
	}
	if v.Kind == fhir.String {
		out = appendDateString(out, param, v.Text, zone)
	}
	return out
}

func appendDateString(out []Date, param, s string, zone *time.Location) []Date {
	low, high, p, ok := DateRange(s, zone)
	if !ok {
		return out
	}
	return append(out, Date{Param: param, Low: low, High: high, Precision: p})
}

func appendPeriod(out []Date, param string, v *fhir.Value, zone *time.Location) []Date {
	low, high := MinTime, MaxTime
	var p Precision
	found := false
	if s := v.Str("start"); s != "" {
		if l, _, ps, ok := DateRange(s, zone); ok {
			low, p, found = l, ps, true
		}
	}
	if s := v.Str("end"); s != "" {
		if _, h, pe, ok := DateRange(s, zone); ok {
			high, found = h, true
			p = max(p, pe)
		}
	}
	if !found {
		return out
	}
	return append(out, Date{Param: param, Low: low, High: high, Precision: p})
}
