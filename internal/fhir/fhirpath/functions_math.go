package fhirpath

import (
	"math"
	"strconv"

	"github.com/cockroachdb/apd/v3"
)

// Math functions (https://hl7.org/fhirpath/N1/#math). abs, ceiling, floor,
// truncate and round are exact; exp, ln, log, power and sqrt go through
// float64, which is as precise as the results can usefully be.

func numberInput(in Collection) (Item, bool, error) {
	v, err := singleton(in)
	if err != nil || v == nil {
		return nil, false, err
	}
	switch v.(type) {
	case Integer, Decimal:
		return v, true, nil
	}
	return nil, false, errorf("expected a number, got %s", typeNameOf(in[0]))
}

func fnAbs(_ *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
	v, err := singleton(in)
	if err != nil || v == nil {
		return nil, err
	}
	switch x := v.(type) {
	case Integer:
		if x < 0 {
			x = -x
		}
		return Collection{x}, nil
	case Decimal:
		return Collection{Decimal{new(apd.Decimal).Abs(x.D)}}, nil
	case Quantity:
		x.Value = new(apd.Decimal).Abs(x.Value)
		return Collection{x}, nil
	}
	return nil, errorf("abs() needs a number or quantity")
}

func mathInt(op string) impl {
	return func(_ *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
		v, ok, err := numberInput(in)
		if err != nil || !ok {
			return nil, err
		}
		if i, isInt := v.(Integer); isInt {
			return Collection{i}, nil
		}
		d := v.(Decimal).D
		r := new(apd.Decimal)
		switch op {
		case "ceiling":
			_, err = decCtx.Ceil(r, d)
		case "floor":
			_, err = decCtx.Floor(r, d)
		default:
			c := *decCtx
			c.Rounding = apd.RoundDown
			_, err = c.RoundToIntegralValue(r, d)
		}
		if err != nil {
			return nil, errorf("%s(): %v", op, err)
		}
		i, err := r.Int64()
		if err != nil {
			return nil, errorf("%s(): result out of range", op)
		}
		return Collection{Integer(i)}, nil
	}
}

func fnRound(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	v, ok, err := numberInput(in)
	if err != nil || !ok {
		return nil, err
	}
	places := int64(0)
	if len(n.args) > 0 {
		p, ok, err := intArg(ev, n, f, 0)
		if err != nil {
			return nil, err
		}
		if ok {
			if p < 0 || p > 100 {
				return nil, errorf("round() precision must be between 0 and 100")
			}
			places = p
		}
	}
	return Collection{Decimal{roundTo(toDec(v), int(places))}}, nil
}

func floatOf(v Item) float64 {
	f, _ := toDec(v).Float64()
	return f
}

func floatResult(f float64) (Collection, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, nil
	}
	d, _, err := apd.NewFromString(strconv.FormatFloat(f, 'f', -1, 64))
	if err != nil {
		return nil, nil
	}
	return Collection{Decimal{d}}, nil
}

func mathFloat(op string) impl {
	return func(_ *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
		v, ok, err := numberInput(in)
		if err != nil || !ok {
			return nil, err
		}
		x := floatOf(v)
		switch op {
		case "exp":
			return floatResult(math.Exp(x))
		case "ln":
			return floatResult(math.Log(x))
		}
		return floatResult(math.Sqrt(x))
	}
}

func fnLog(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	v, ok, err := numberInput(in)
	if err != nil || !ok {
		return nil, err
	}
	a, err := ev.arg(n, f, 0)
	if err != nil {
		return nil, err
	}
	b, ok, err := numberInput(a)
	if err != nil || !ok {
		return nil, err
	}
	return floatResult(math.Log(floatOf(v)) / math.Log(floatOf(b)))
}

func fnPower(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	v, ok, err := numberInput(in)
	if err != nil || !ok {
		return nil, err
	}
	a, err := ev.arg(n, f, 0)
	if err != nil {
		return nil, err
	}
	e, ok, err := numberInput(a)
	if err != nil || !ok {
		return nil, err
	}
	bi, bInt := v.(Integer)
	ei, eInt := e.(Integer)
	if bInt && eInt && ei >= 0 {
		r := math.Pow(float64(bi), float64(ei))
		if r > math.MaxInt32 || r < math.MinInt32 {
			return nil, errorf("integer overflow")
		}
		return Collection{Integer(int64(r))}, nil
	}
	return floatResult(math.Pow(floatOf(v), floatOf(e)))
}
