package fhirpath

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Dates and times are partial: they carry the precision they were written
// with, and comparisons respect it (https://hl7.org/fhirpath/N1/#datetime-equality
// and #comparison): @2018-03 < @2018-03-01 is empty, not false, because the
// month does not say which day. Seconds and milliseconds count as one
// precision, so @T10:30:00 = @T10:30:00.0.

type dtKind uint8

const (
	kDate dtKind = iota
	kDateTime
	kTime
)

// Precision levels: the number of components present.
const (
	pYear = 1 + iota
	pMonth
	pDay
	pHour
	pMinute
	pSecond
	pMillis
)

// DateTime is System.Date, System.DateTime or System.Time.
type DateTime struct {
	kind                         dtKind
	prec                         int
	year, month, day             int
	hour, minute, second, millis int
	hasTZ                        bool
	tzMin                        int    // offset east of UTC in minutes
	frac                         string // fractional second digits as written
}

// TypeName implements Item.
func (d DateTime) TypeName() string {
	switch d.kind {
	case kDate:
		return "System.Date"
	case kTime:
		return "System.Time"
	}
	return "System.DateTime"
}

// String formats the value as FHIR writes it (no leading @).
func (d DateTime) String() string {
	var b strings.Builder
	if d.kind != kTime {
		fmt.Fprintf(&b, "%04d", d.year)
		if d.prec >= pMonth {
			fmt.Fprintf(&b, "-%02d", d.month)
		}
		if d.prec >= pDay {
			fmt.Fprintf(&b, "-%02d", d.day)
		}
		if d.kind == kDate || d.prec < pHour {
			return b.String()
		}
		b.WriteByte('T')
	}
	fmt.Fprintf(&b, "%02d", d.hour)
	if d.prec >= pMinute {
		fmt.Fprintf(&b, ":%02d", d.minute)
	}
	if d.prec >= pSecond {
		fmt.Fprintf(&b, ":%02d", d.second)
	}
	if d.prec >= pMillis {
		if d.frac != "" {
			b.WriteString("." + d.frac)
		} else {
			fmt.Fprintf(&b, ".%03d", d.millis)
		}
	}
	if d.kind == kDateTime && d.hasTZ {
		if d.tzMin == 0 {
			b.WriteByte('Z')
		} else {
			o := d.tzMin
			sign := byte('+')
			if o < 0 {
				sign, o = '-', -o
			}
			fmt.Fprintf(&b, "%c%02d:%02d", sign, o/60, o%60)
		}
	}
	return b.String()
}

// parseDateTimeLiteral parses the text after '@' of a DATETIME or TIME
// literal (https://hl7.org/fhirpath/N1/#date).
func parseDateTimeLiteral(s string, isTime bool) (DateTime, error) {
	if isTime {
		d, rest, err := parseTimePart(s[1:], kTime)
		if err != nil || rest != "" {
			return DateTime{}, fmt.Errorf("malformed time @%s", s)
		}
		return d, nil
	}
	d, rest, err := parseDatePart(s)
	if err != nil {
		return DateTime{}, fmt.Errorf("malformed date @%s", s)
	}
	if rest == "" {
		return d, nil
	}
	if rest[0] != 'T' {
		return DateTime{}, fmt.Errorf("malformed date @%s", s)
	}
	d.kind = kDateTime
	if rest == "T" {
		return d, nil
	}
	if d.prec != pDay {
		return DateTime{}, fmt.Errorf("malformed date-time @%s", s)
	}
	t, rest, err := parseTimePart(rest[1:], kDateTime)
	if err != nil || rest != "" {
		return DateTime{}, fmt.Errorf("malformed date-time @%s", s)
	}
	return mergeTime(d, t), nil
}

func mergeTime(d, t DateTime) DateTime {
	d.kind = kDateTime
	d.prec = t.prec
	d.hour, d.minute, d.second, d.millis, d.frac = t.hour, t.minute, t.second, t.millis, t.frac
	d.hasTZ, d.tzMin = t.hasTZ, t.tzMin
	return d
}

// parseDateTimeValue parses a FHIR date, dateTime, instant or time value, or
// a string being converted (toDate, toDateTime, toTime), as kind st
// ("Date", "DateTime", "Time").
func parseDateTimeValue(s, st string) (DateTime, error) {
	switch st {
	case "Time":
		d, rest, err := parseTimePart(s, kTime)
		if err != nil || rest != "" {
			return DateTime{}, fmt.Errorf("not a time: %q", s)
		}
		return d, nil
	}
	d, rest, err := parseDatePart(s)
	if err != nil {
		return DateTime{}, err
	}
	if st == "Date" {
		if rest != "" {
			return DateTime{}, fmt.Errorf("not a date: %q", s)
		}
		return d, nil
	}
	d.kind = kDateTime
	if rest == "" {
		return d, nil
	}
	if rest[0] != 'T' || d.prec != pDay {
		return DateTime{}, fmt.Errorf("not a dateTime: %q", s)
	}
	t, rest, err := parseTimePart(rest[1:], kDateTime)
	if err != nil || rest != "" {
		return DateTime{}, fmt.Errorf("not a dateTime: %q", s)
	}
	return mergeTime(d, t), nil
}

func num(s string, n int) (int, bool) {
	if len(s) < n {
		return 0, false
	}
	v := 0
	for i := 0; i < n; i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, true
}

func parseDatePart(s string) (DateTime, string, error) {
	d := DateTime{kind: kDate, month: 1, day: 1}
	var ok bool
	if d.year, ok = num(s, 4); !ok {
		return d, s, fmt.Errorf("bad year in %q", s)
	}
	d.prec = pYear
	s = s[4:]
	if len(s) >= 3 && s[0] == '-' {
		if d.month, ok = num(s[1:], 2); !ok || d.month < 1 || d.month > 12 {
			return d, s, fmt.Errorf("bad month")
		}
		d.prec = pMonth
		s = s[3:]
		if len(s) >= 3 && s[0] == '-' {
			if d.day, ok = num(s[1:], 2); !ok || d.day < 1 || d.day > daysIn(d.year, d.month) {
				return d, s, fmt.Errorf("bad day")
			}
			d.prec = pDay
			s = s[3:]
		}
	}
	return d, s, nil
}

func parseTimePart(s string, kind dtKind) (DateTime, string, error) {
	d := DateTime{kind: kind, year: 1, month: 1, day: 1}
	var ok bool
	if d.hour, ok = num(s, 2); !ok || d.hour > 23 {
		return d, s, fmt.Errorf("bad hour")
	}
	d.prec = pHour
	s = s[2:]
	if len(s) >= 3 && s[0] == ':' {
		if d.minute, ok = num(s[1:], 2); !ok || d.minute > 59 {
			return d, s, fmt.Errorf("bad minute")
		}
		d.prec = pMinute
		s = s[3:]
		if len(s) >= 3 && s[0] == ':' {
			if d.second, ok = num(s[1:], 2); !ok || d.second > 59 {
				return d, s, fmt.Errorf("bad second")
			}
			d.prec = pSecond
			s = s[3:]
			if len(s) >= 2 && s[0] == '.' && isDigit(s[1]) {
				j := 1
				for j < len(s) && isDigit(s[j]) {
					j++
				}
				d.frac = s[1:j]
				ms := (d.frac + "000")[:3]
				d.millis, _ = strconv.Atoi(ms)
				d.prec = pMillis
				s = s[j:]
			}
		}
	}
	if kind == kDateTime && s != "" {
		if s[0] == 'Z' {
			d.hasTZ = true
			s = s[1:]
		} else if (s[0] == '+' || s[0] == '-') && isTZ(s) {
			h, _ := num(s[1:], 2)
			m, _ := num(s[4:], 2)
			d.hasTZ = true
			d.tzMin = h*60 + m
			if s[0] == '-' {
				d.tzMin = -d.tzMin
			}
			s = s[6:]
		}
	}
	return d, s, nil
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// toTime converts to a time.Time (components below the precision are zero).
func (d DateTime) toTime() time.Time {
	loc := time.UTC
	if d.hasTZ {
		loc = time.FixedZone("", d.tzMin*60)
	}
	return time.Date(d.year, time.Month(d.month), d.day, d.hour, d.minute, d.second, d.millis*1e6, loc)
}

func fromTime(t time.Time, like DateTime) DateTime {
	d := like
	d.year, d.month, d.day = t.Year(), int(t.Month()), t.Day()
	d.hour, d.minute, d.second, d.millis = t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/1e6
	if d.prec >= pMillis {
		d.frac = ""
	}
	return d
}

// compareDT compares two dates/times. ok is false when the result is
// unknown because the precisions differ in the part that decides it, or
// one has a time zone and the other not (https://hl7.org/fhirpath/N1/#comparison).
// incomparable reports values of kinds that cannot be compared at all.
func compareDT(a, b DateTime) (cmp int, ok bool, incomparable bool) {
	if (a.kind == kTime) != (b.kind == kTime) {
		return 0, false, true
	}
	if a.prec >= pHour && b.prec >= pHour && a.kind != kTime {
		if a.hasTZ != b.hasTZ {
			return 0, false, false
		}
		if a.hasTZ && a.tzMin != b.tzMin {
			a = fromTime(a.toTime().UTC(), a)
			a.tzMin = 0
			b = fromTime(b.toTime().UTC(), b)
			b.tzMin = 0
		}
	}
	av := [...]int{a.year, a.month, a.day, a.hour, a.minute, a.second*1000 + a.millis}
	bv := [...]int{b.year, b.month, b.day, b.hour, b.minute, b.second*1000 + b.millis}
	ap, bp := min(a.prec, pSecond), min(b.prec, pSecond)
	start := 0
	if a.kind == kTime {
		start = pHour - 1
	}
	for i := start; i < min(ap, bp); i++ {
		if av[i] != bv[i] {
			if av[i] < bv[i] {
				return -1, true, false
			}
			return 1, true, false
		}
	}
	if ap != bp {
		return 0, false, false
	}
	return 0, true, false
}

// calendarUnit maps a quantity unit to a calendar duration for date
// arithmetic (https://hl7.org/fhirpath/N1/#date-time-arithmetic). UCUM 'a'
// and 'mo' are definite durations (365.25 and 30.4375 days), not calendar
// years and months, so adding them to a date is an error.
func calendarUnit(q Quantity) (string, error) {
	if q.calendar != "" {
		return q.calendar, nil
	}
	if cu, ok := calendarUnits[q.Unit]; ok {
		return cu, nil
	}
	switch q.Unit {
	case "wk":
		return "week", nil
	case "d":
		return "day", nil
	case "h":
		return "hour", nil
	case "min":
		return "minute", nil
	case "s":
		return "second", nil
	case "ms":
		return "millisecond", nil
	}
	return "", errorf("cannot add a quantity in '%s' to a date/time: use a calendar duration (years, months, days, …)", q.Unit)
}

func addDuration(d DateTime, q Quantity, sign int) (DateTime, error) {
	unit, err := calendarUnit(q)
	if err != nil {
		return d, err
	}
	f, err := q.Value.Float64()
	if err != nil {
		return d, errorf("bad quantity")
	}
	n := int64(f) * int64(sign) // calendar arithmetic uses whole units
	if d.kind == kTime && (unit == "year" || unit == "month" || unit == "week" || unit == "day") {
		return d, errorf("cannot add %s to a time", unit)
	}
	// Units finer than the value's precision are converted to it, truncating
	// (https://hl7.org/fhirpath/N1/#date-time-arithmetic).
	switch {
	case unit == "week":
		unit, n = "day", n*7
	}
	if d.kind == kDate {
		switch unit {
		case "hour":
			unit, n = "day", n/24
		case "minute":
			unit, n = "day", n/(24*60)
		case "second":
			unit, n = "day", n/86400
		case "millisecond":
			unit, n = "day", n/86400000
		}
	}
	if d.prec < pDay && unit == "day" {
		unit, n = "month", n/30
	}
	if d.prec < pMonth && unit == "month" {
		unit, n = "year", n/12
	}
	switch unit {
	case "year", "month":
		y, m := d.year, d.month
		if unit == "year" {
			y += int(n)
		} else {
			total := y*12 + (m - 1) + int(n)
			y, m = total/12, total%12+1
		}
		d.year, d.month = y, m
		if d.prec >= pDay {
			d.day = min(d.day, daysIn(y, m))
		}
		if d.year < 1 || d.year > 9999 {
			return d, errorf("date out of range")
		}
		return d, nil
	}
	var dur time.Duration
	switch unit {
	case "day":
		dur = time.Duration(n) * 24 * time.Hour
	case "hour":
		dur = time.Duration(n) * time.Hour
	case "minute":
		dur = time.Duration(n) * time.Minute
	case "second":
		dur = time.Duration(n) * time.Second
	case "millisecond":
		dur = time.Duration(n) * time.Millisecond
	}
	t := d.toTime().Add(dur)
	nd := fromTime(t, d)
	if d.kind == kTime {
		nd.year, nd.month, nd.day = 1, 1, 1
	}
	if nd.year < 1 || nd.year > 9999 {
		return d, errorf("date out of range")
	}
	return nd, nil
}
