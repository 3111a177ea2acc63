package fhirpath

import (
	"regexp"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// Conversion functions (https://hl7.org/fhirpath/N1/#conversion). Each
// converter returns (nil, nil) when the value does not convert; convertsTo*
// then answers false and to* answers empty.

type converter func(v Item) Item

func convFn(conv converter, test bool) impl {
	return func(_ *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
		v, err := singleton(in)
		if err != nil || v == nil {
			return nil, err
		}
		r := conv(v)
		if test {
			return boolResult(r != nil)
		}
		if r == nil {
			return nil, nil
		}
		return Collection{r}, nil
	}
}

func toBoolean(v Item) Item {
	switch x := v.(type) {
	case Boolean:
		return x
	case Integer:
		switch x {
		case 1:
			return Boolean(true)
		case 0:
			return Boolean(false)
		}
	case Decimal:
		switch {
		case x.D.Cmp(apd.New(1, 0)) == 0:
			return Boolean(true)
		case x.D.IsZero():
			return Boolean(false)
		}
	case String:
		switch strings.ToLower(string(x)) {
		case "true", "t", "yes", "y", "1", "1.0":
			return Boolean(true)
		case "false", "f", "no", "n", "0", "0.0":
			return Boolean(false)
		}
	}
	return nil
}

var (
	intRe      = regexp.MustCompile(`^[+-]?\d+$`)
	decRe      = regexp.MustCompile(`^[+-]?\d+(\.\d+)?$`)
	quantityRe = regexp.MustCompile(`^([+-]?\d+(?:\.\d+)?)\s*(?:'([^']+)'|([a-zA-Z]+))?$`)
)

func toInteger(v Item) Item {
	switch x := v.(type) {
	case Integer:
		return x
	case Boolean:
		if x {
			return Integer(1)
		}
		return Integer(0)
	case String:
		if intRe.MatchString(string(x)) {
			if i, ok := parseInt(strings.TrimPrefix(string(x), "+")); ok {
				return Integer(i)
			}
		}
	}
	return nil
}

func toDecimal(v Item) Item {
	switch x := v.(type) {
	case Integer:
		return Decimal{toDec(x)}
	case Decimal:
		return x
	case Boolean:
		if x {
			return Decimal{apd.New(10, -1)}
		}
		return Decimal{apd.New(0, -1)}
	case String:
		if decRe.MatchString(string(x)) {
			if d, _, err := apd.NewFromString(string(x)); err == nil {
				return Decimal{d}
			}
		}
	}
	return nil
}

func toStringItem(v Item) Item {
	switch x := v.(type) {
	case String:
		return x
	case Boolean:
		if x {
			return String("true")
		}
		return String("false")
	case Integer:
		return String(itoa(int(x)))
	case Decimal:
		return String(x.D.Text('f'))
	case DateTime:
		return String(x.String())
	case Quantity:
		return String(quantityString(x))
	}
	return nil
}

func toDate(v Item) Item {
	switch x := v.(type) {
	case DateTime:
		if x.kind == kTime {
			return nil
		}
		x.kind = kDate
		x.prec = min(x.prec, pDay)
		x.hour, x.minute, x.second, x.millis, x.frac, x.hasTZ, x.tzMin = 0, 0, 0, 0, "", false, 0
		return x
	case String:
		if d, err := parseDateTimeValue(string(x), "Date"); err == nil {
			return d
		}
	}
	return nil
}

func toDateTime(v Item) Item {
	switch x := v.(type) {
	case DateTime:
		if x.kind == kTime {
			return nil
		}
		x.kind = kDateTime
		return x
	case String:
		if d, err := parseDateTimeValue(string(x), "DateTime"); err == nil {
			return d
		}
	}
	return nil
}

func toTime(v Item) Item {
	switch x := v.(type) {
	case DateTime:
		if x.kind == kTime {
			return x
		}
	case String:
		if d, err := parseDateTimeValue(string(x), "Time"); err == nil {
			return d
		}
	}
	return nil
}

func toQuantity(v Item) Item {
	switch x := v.(type) {
	case Integer, Decimal:
		return Quantity{Value: toDec(x), Unit: "1"}
	case Quantity:
		return x
	case Boolean:
		d := apd.New(0, -1)
		if x {
			d = apd.New(10, -1)
		}
		return Quantity{Value: d, Unit: "1"}
	case String:
		m := quantityRe.FindStringSubmatch(string(x))
		if m == nil {
			return nil
		}
		d, _, err := apd.NewFromString(m[1])
		if err != nil {
			return nil
		}
		switch {
		case m[2] != "":
			return Quantity{Value: d, Unit: m[2]}
		case m[3] != "":
			cu, ok := calendarUnits[m[3]]
			if !ok {
				return nil
			}
			return Quantity{Value: d, Unit: m[3], calendar: cu}
		}
		return Quantity{Value: d, Unit: "1"}
	}
	return nil
}

// fnToQuantity is toQuantity([unit]) / convertsToQuantity([unit]).
func fnToQuantity(test bool) impl {
	return func(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
		v, err := singleton(in)
		if err != nil || v == nil {
			return nil, err
		}
		r := toQuantity(v)
		if r != nil && len(n.args) > 0 {
			ua, err := ev.arg(n, f, 0)
			if err != nil {
				return nil, err
			}
			u, err := singleton(ua)
			if err != nil {
				return nil, err
			}
			us, ok := u.(String)
			if !ok {
				return nil, errorf("toQuantity() unit must be a string")
			}
			target := Quantity{Unit: string(us)}
			if cv, ok := convertQuantity(r.(Quantity), target); ok {
				r = Quantity{Value: cv, Unit: string(us)}
			} else {
				r = nil
			}
		}
		if test {
			return boolResult(r != nil)
		}
		if r == nil {
			return nil, nil
		}
		return Collection{r}, nil
	}
}
