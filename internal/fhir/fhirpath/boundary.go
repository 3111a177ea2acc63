package fhirpath

import (
	"time"

	"github.com/cockroachdb/apd/v3"
)

// now(), today(), timeOfDay() (https://hl7.org/fhirpath/N1/#current-date-and-time-functions)
// and the precision functions lowBoundary(), highBoundary(), precision()
// and comparable() of FHIRPath 2.1, which the R4 test suite includes.

func nowDT(t time.Time) DateTime {
	_, off := t.Zone()
	d := DateTime{kind: kDateTime, prec: pMillis, hasTZ: true, tzMin: off / 60}
	return fromTime(t, d)
}

func fnNow(ev *evaluator, _ *node, _ *frame, _ Collection) (Collection, error) {
	return Collection{nowDT(ev.clock())}, nil
}

func fnToday(ev *evaluator, _ *node, _ *frame, _ Collection) (Collection, error) {
	d := nowDT(ev.clock())
	return Collection{toDate(d)}, nil
}

func fnTimeOfDay(ev *evaluator, _ *node, _ *frame, _ Collection) (Collection, error) {
	d := nowDT(ev.clock())
	d.kind, d.hasTZ, d.tzMin = kTime, false, 0
	d.year, d.month, d.day = 1, 1, 1
	return Collection{d}, nil
}

func fnPrecision(_ *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
	v, err := singleton(in)
	if err != nil || v == nil {
		return nil, err
	}
	switch x := v.(type) {
	case Integer:
		return Collection{Integer(0)}, nil
	case Decimal:
		return Collection{Integer(decScale(x.D))}, nil
	case DateTime:
		return Collection{Integer(dtDigits(x.kind, x.prec))}, nil
	}
	return nil, errorf("precision() needs a number or date/time")
}

// dtDigits is the number of digits up to precision p: @2014 has 4,
// @2014-01-05T10:30:00.000 has 17, @T10:30 has 4.
func dtDigits(k dtKind, p int) int {
	d := [...]int{0, 4, 6, 8, 10, 12, 14, 17}
	if k == kTime {
		return d[p] - 8
	}
	return d[p]
}

func fnComparable(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	v, err := singleton(in)
	if err != nil || v == nil {
		return nil, err
	}
	a, err := ev.arg(n, f, 0)
	if err != nil {
		return nil, err
	}
	w, err := singleton(a)
	if err != nil || w == nil {
		return nil, err
	}
	q1, ok1 := v.(Quantity)
	q2, ok2 := w.(Quantity)
	if !ok1 || !ok2 {
		return nil, errorf("comparable() needs quantities")
	}
	return boolResult(comparableUnits(q1, q2))
}

func fnBoundary(high bool) impl {
	return func(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
		v, err := singleton(in)
		if err != nil || v == nil {
			return nil, err
		}
		prec := int64(-1) // default
		if len(n.args) > 0 {
			p, ok, err := intArg(ev, n, f, 0)
			if err != nil {
				return nil, err
			}
			if ok {
				if p < 0 {
					return nil, nil
				}
				prec = p
			}
		}
		switch x := v.(type) {
		case Integer:
			return decBoundary(toDec(x), prec, high)
		case Decimal:
			return decBoundary(x.D, prec, high)
		case Quantity:
			r, err := decBoundary(x.Value, prec, high)
			if err != nil || len(r) == 0 {
				return r, err
			}
			x.Value = r[0].(Decimal).D
			return Collection{x}, nil
		case DateTime:
			return dtBoundary(x, prec, high)
		}
		return nil, errorf("boundary functions need a number, quantity or date/time")
	}
}

// decBoundary: a decimal stands for the interval of values that round to
// it, so 1.587 lies in [1.5865, 1.5875]; the result is given to prec
// digits after the point (default 8).
func decBoundary(d *apd.Decimal, prec int64, high bool) (Collection, error) {
	if prec == -1 {
		prec = 8
	}
	if prec < 0 || prec > 28 {
		return nil, nil
	}
	half := apd.New(5, d.Exponent-1) // half a unit in the last written place
	if d.Exponent > 0 {
		half = apd.New(5, -1)
	}
	r := new(apd.Decimal)
	if high {
		_, _ = decCtx.Add(r, d, half)
	} else {
		_, _ = decCtx.Sub(r, d, half)
	}
	c := *decCtx
	// Round away from the value so the interval is not shrunk.
	if high {
		c.Rounding = apd.RoundCeiling
	} else {
		c.Rounding = apd.RoundFloor
	}
	out := new(apd.Decimal)
	if _, err := c.Quantize(out, r, int32(-prec)); err != nil {
		return nil, nil
	}
	return Collection{Decimal{out}}, nil
}

func dtBoundary(d DateTime, prec int64, high bool) (Collection, error) {
	target := pMillis
	if prec >= 0 {
		found := false
		for p := pYear; p <= pMillis; p++ {
			if int64(dtDigits(d.kind, p)) == prec && (d.kind != kTime || p >= pHour) {
				target, found = p, true
			}
		}
		if !found {
			return nil, nil
		}
	}
	if d.kind == kDateTime && d.prec == pHour {
		// An hour alone is not a FHIR dateTime: read T08 as T08:00.
		d.prec = pMinute
	}
	if d.kind == kDate && target > pDay {
		target = pDay
	}
	out := d
	for p := d.prec + 1; p <= target; p++ {
		switch p {
		case pMonth:
			out.month = map[bool]int{false: 1, true: 12}[high]
		case pDay:
			out.day = map[bool]int{false: 1, true: daysIn(out.year, out.month)}[high]
		case pHour:
			out.hour = map[bool]int{false: 0, true: 23}[high]
		case pMinute:
			out.minute = map[bool]int{false: 0, true: 59}[high]
		case pSecond:
			out.second = map[bool]int{false: 0, true: 59}[high]
		case pMillis:
			out.millis = map[bool]int{false: 0, true: 999}[high]
			out.frac = ""
		}
	}
	out.prec = target
	if out.kind == kDateTime && target >= pHour && !d.hasTZ {
		// Unknown offset: the earliest instant is at +14:00, the latest at -12:00.
		out.hasTZ = true
		out.tzMin = map[bool]int{false: 14 * 60, true: -12 * 60}[high]
	}
	if target < d.prec {
		switch {
		case target < pMonth:
			out.month = 1
			fallthrough
		case target < pDay:
			out.day = 1
			fallthrough
		case target < pHour:
			out.hour = 0
			if out.kind == kDateTime {
				out.hasTZ = false
			}
		}
		if target <= pDay && out.kind == kDateTime {
			out.kind = kDate
		}
	}
	return Collection{out}, nil
}
