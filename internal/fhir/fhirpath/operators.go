package fhirpath

import (
	"math"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/continuum-ehr/continuum/internal/fhir"
)

// Operators: https://hl7.org/fhirpath/N1/#operations.

func (ev *evaluator) binary(n *node, f *frame) (Collection, error) {
	l, err := ev.eval(n.left, f)
	if err != nil {
		return nil, err
	}
	// Boolean operators short-circuit where the result is already decided:
	// it is cheaper and lets guards like "x.exists() implies x.y" skip work.
	switch n.name {
	case "and", "or", "implies":
		lb, lok, err := singletonBool(l)
		if err != nil {
			return nil, err
		}
		if lok && ((n.name == "and" && !lb) || (n.name == "or" && lb)) {
			return boolColl(lb), nil
		}
		if lok && n.name == "implies" && !lb {
			return boolColl(true), nil
		}
	}
	r, err := ev.eval(n.right, f)
	if err != nil {
		return nil, err
	}
	// Equivalence of collections compares every pair.
	switch n.name {
	case "~", "!~":
		if err := ev.chargePairs(len(l), len(r)); err != nil {
			return nil, err
		}
	}
	switch n.name {
	case "and", "or", "xor", "implies":
		return logic(n.name, l, r)
	case "|":
		return ev.dedup(l, r)
	case "=", "!=":
		res, known := collectionsEqual(l, r)
		if !known {
			return nil, nil
		}
		return boolColl(res == (n.name == "=")), nil
	case "~", "!~":
		res := collectionsEquivalent(l, r)
		return boolColl(res == (n.name == "~")), nil
	case "<", ">", "<=", ">=":
		return compareOp(n.name, l, r)
	case "in", "contains":
		if n.name == "contains" {
			l, r = r, l
		}
		if len(l) == 0 {
			return nil, nil
		}
		if len(l) > 1 {
			return nil, errorf("'%s' needs a single item, got %d", n.name, len(l))
		}
		if err := ev.step(len(r)); err != nil {
			return nil, err
		}
		for _, it := range r {
			if eq, known := itemsEqual(l[0], it); known && eq {
				return boolColl(true), nil
			}
		}
		return boolColl(false), nil
	case "&":
		ls, err := concatOperand(l)
		if err != nil {
			return nil, err
		}
		rs, err := concatOperand(r)
		if err != nil {
			return nil, err
		}
		return ev.str(ls + rs)
	}
	res, err := arith(n.name, l, r)
	if err == nil && len(res) == 1 {
		if s, ok := res[0].(String); ok {
			return ev.str(string(s))
		}
	}
	return res, err
}

func concatOperand(c Collection) (string, error) {
	v, err := singleton(c)
	if err != nil || v == nil {
		return "", err
	}
	s, ok := v.(String)
	if !ok {
		return "", errorf("'&' needs strings")
	}
	return string(s), nil
}

// logic is three-valued logic (https://hl7.org/fhirpath/N1/#boolean-logic).
func logic(op string, l, r Collection) (Collection, error) {
	lb, lok, err := singletonBool(l)
	if err != nil {
		return nil, err
	}
	rb, rok, err := singletonBool(r)
	if err != nil {
		return nil, err
	}
	res := func(b bool) (Collection, error) { return boolColl(b), nil }
	switch op {
	case "and":
		if (lok && !lb) || (rok && !rb) {
			return res(false)
		}
		if lok && rok {
			return res(true)
		}
	case "or":
		if (lok && lb) || (rok && rb) {
			return res(true)
		}
		if lok && rok {
			return res(false)
		}
	case "xor":
		if lok && rok {
			return res(lb != rb)
		}
	case "implies":
		if lok && !lb {
			return res(true)
		}
		if rok && rb {
			return res(true)
		}
		if lok && rok {
			return res(false)
		}
	}
	return nil, nil
}

// collectionsEqual is = on collections (https://hl7.org/fhirpath/N1/#equals):
// empty operands give empty; otherwise item by item, in order.
func collectionsEqual(l, r Collection) (eq, known bool) {
	if len(l) == 0 || len(r) == 0 {
		return false, false
	}
	if len(l) != len(r) {
		return false, true
	}
	for i := range l {
		e, k := itemsEqual(l[i], r[i])
		if !k {
			return false, false
		}
		if !e {
			return false, true
		}
	}
	return true, true
}

// itemsEqual compares two items; known is false when the answer is
// unknown (dates of different precision, incommensurable quantities).
func itemsEqual(a, b Item) (eq, known bool) {
	if an, ok := a.(*Node); ok {
		if bn, ok := b.(*Node); ok && an.v != nil && an.v == bn.v && an.typ == bn.typ {
			return true, true // the same value of the tree
		}
	}
	av, aok := sysValue(a)
	bv, bok := sysValue(b)
	if !aok || !bok {
		an, aIsNode := a.(*Node)
		bn, bIsNode := b.(*Node)
		if aIsNode && bIsNode && !aok && !bok {
			return valuesEqual(an.v, bn.v, false), true
		}
		return false, true
	}
	switch x := av.(type) {
	case Boolean:
		y, ok := bv.(Boolean)
		return ok && x == y, true
	case String:
		y, ok := bv.(String)
		return ok && x == y, true
	case Integer:
		switch y := bv.(type) {
		case Integer:
			return x == y, true
		case Decimal:
			return decEqual(toDec(x), y.D), true
		}
		return false, true
	case Decimal:
		switch y := bv.(type) {
		case Integer, Decimal:
			return decEqual(x.D, toDec(y)), true
		}
		return false, true
	case DateTime:
		y, ok := bv.(DateTime)
		if !ok {
			return false, true
		}
		c, known, incomparable := compareDT(x, y)
		if incomparable {
			return false, true
		}
		return c == 0, known
	case Quantity:
		y, ok := bv.(Quantity)
		if !ok {
			return false, true
		}
		yv, ok := convertQuantity(y, x)
		if !ok {
			return false, false
		}
		return decEqual(x.Value, yv), true
	case TypeInfo:
		y, ok := bv.(TypeInfo)
		return ok && x == y, true
	}
	return false, true
}

// valuesEqual compares JSON trees; member order does not matter. With
// fold, strings compare as equivalent strings.
func valuesEqual(a, b *fhir.Value, fold bool) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case fhir.Null:
		return true
	case fhir.Bool:
		return a.Bool == b.Bool
	case fhir.String:
		if fold {
			return normalizeString(a.Text) == normalizeString(b.Text)
		}
		return a.Text == b.Text
	case fhir.Number:
		x, _, e1 := apd.NewFromString(a.Text)
		y, _, e2 := apd.NewFromString(b.Text)
		if e1 != nil || e2 != nil {
			return a.Text == b.Text
		}
		return x.Cmp(y) == 0
	case fhir.Array:
		if len(a.Items) != len(b.Items) {
			return false
		}
		for i := range a.Items {
			if !valuesEqual(&a.Items[i], &b.Items[i], fold) {
				return false
			}
		}
		return true
	case fhir.Object:
		if len(a.Members) != len(b.Members) {
			return false
		}
		for i := range a.Members {
			if fold && a.Members[i].Name == "id" {
				continue // equivalence ignores ids
			}
			bm, ok := b.Get(a.Members[i].Name)
			if !ok || !valuesEqual(&a.Members[i].Value, bm, fold) {
				return false
			}
		}
		return true
	}
	return false
}

func normalizeString(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// collectionsEquivalent is ~ (https://hl7.org/fhirpath/N1/#equivalent):
// never empty, and order does not matter.
func collectionsEquivalent(l, r Collection) bool {
	if len(l) != len(r) {
		return false
	}
	used := make([]bool, len(r))
outer:
	for _, a := range l {
		for j, b := range r {
			if !used[j] && itemsEquivalent(a, b) {
				used[j] = true
				continue outer
			}
		}
		return false
	}
	return true
}

func itemsEquivalent(a, b Item) bool {
	av, aok := sysValue(a)
	bv, bok := sysValue(b)
	if !aok || !bok {
		an, aIsNode := a.(*Node)
		bn, bIsNode := b.(*Node)
		return aIsNode && bIsNode && !aok && !bok && valuesEqual(an.v, bn.v, true)
	}
	switch x := av.(type) {
	case String:
		y, ok := bv.(String)
		return ok && normalizeString(string(x)) == normalizeString(string(y))
	case Integer, Decimal:
		switch y := bv.(type) {
		case Integer, Decimal:
			return decEquivalent(toDec(x), toDec(y))
		}
		return false
	case DateTime:
		y, ok := bv.(DateTime)
		if !ok {
			return false
		}
		c, known, incomparable := compareDT(x, y)
		return !incomparable && known && c == 0
	case Quantity:
		y, ok := bv.(Quantity)
		if !ok {
			return false
		}
		yv, ok := convertQuantity(y, x)
		return ok && decEquivalent(x.Value, yv)
	}
	eq, known := itemsEqual(av, bv)
	return known && eq
}

// compareOp is < > <= >= (https://hl7.org/fhirpath/N1/#comparison).
func compareOp(op string, l, r Collection) (Collection, error) {
	if len(l) == 0 || len(r) == 0 {
		return nil, nil
	}
	a, err := singleton(l)
	if err != nil {
		return nil, err
	}
	b, err := singleton(r)
	if err != nil {
		return nil, err
	}
	c, known, err := compareItems(a, b)
	if err != nil || !known {
		return nil, err
	}
	var res bool
	switch op {
	case "<":
		res = c < 0
	case ">":
		res = c > 0
	case "<=":
		res = c <= 0
	case ">=":
		res = c >= 0
	}
	return boolColl(res), nil
}

func compareItems(a, b Item) (int, bool, error) {
	switch x := a.(type) {
	case Integer:
		switch y := b.(type) {
		case Integer:
			return cmpInt(int64(x), int64(y)), true, nil
		case Decimal:
			return toDec(x).Cmp(y.D), true, nil
		}
	case Decimal:
		switch y := b.(type) {
		case Integer, Decimal:
			return x.D.Cmp(toDec(y)), true, nil
		}
	case String:
		if y, ok := b.(String); ok {
			return strings.Compare(string(x), string(y)), true, nil
		}
	case DateTime:
		if y, ok := b.(DateTime); ok {
			c, known, incomparable := compareDT(x, y)
			if incomparable {
				return 0, false, errorf("cannot compare %s with %s", x.TypeName(), y.TypeName())
			}
			return c, known, nil
		}
	case Quantity:
		if y, ok := b.(Quantity); ok {
			yv, ok := convertQuantity(y, x)
			if !ok {
				return 0, false, nil
			}
			return x.Value.Cmp(yv), true, nil
		}
	}
	return 0, false, errorf("cannot compare %s with %s", typeNameOf(a), typeNameOf(b))
}

func typeNameOf(it Item) string {
	if it == nil {
		return "nothing"
	}
	return it.TypeName()
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func unaryOp(op string, c Collection) (Collection, error) {
	v, err := singleton(c)
	if err != nil || v == nil {
		return nil, err
	}
	if op == "+" {
		switch v.(type) {
		case Integer, Decimal, Quantity:
			return Collection{v}, nil
		}
		return nil, errorf("unary + needs a number or quantity, not %s", v.TypeName())
	}
	switch x := v.(type) {
	case Integer:
		return Collection{-x}, nil
	case Decimal:
		d := new(apd.Decimal).Neg(x.D)
		return Collection{Decimal{d}}, nil
	case Quantity:
		x.Value = new(apd.Decimal).Neg(x.Value)
		return Collection{x}, nil
	}
	return nil, errorf("unary - needs a number or quantity, not %s", v.TypeName())
}

// arith is + - * / div mod (https://hl7.org/fhirpath/N1/#math-1).
func arith(op string, l, r Collection) (Collection, error) {
	a, err := singleton(l)
	if err != nil {
		return nil, err
	}
	b, err := singleton(r)
	if err != nil {
		return nil, err
	}
	if a == nil || b == nil {
		return nil, nil
	}
	one := func(it Item) (Collection, error) { return Collection{it}, nil }
	switch x := a.(type) {
	case Integer:
		if y, ok := b.(Integer); ok && op != "/" {
			xi, yi := int64(x), int64(y)
			var res int64
			switch op {
			case "+":
				res = xi + yi
			case "-":
				res = xi - yi
			case "*":
				res = xi * yi
				if xi != 0 && res/xi != yi {
					return nil, errorf("integer overflow")
				}
			case "div":
				if yi == 0 {
					return nil, nil
				}
				res = xi / yi
			case "mod":
				if yi == 0 {
					return nil, nil
				}
				res = xi % yi
			}
			if res > math.MaxInt32 || res < math.MinInt32 {
				return nil, errorf("integer overflow: FHIRPath integers are 32-bit")
			}
			return one(Integer(res))
		}
		if y, ok := b.(Quantity); ok && op == "*" {
			return arith(op, Collection{y}, Collection{x})
		}
		if _, ok := b.(Decimal); ok {
			return decArith(op, toDec(x), b)
		}
		if _, ok := b.(Integer); ok {
			return decArith(op, toDec(x), b)
		}
	case Decimal:
		if y, ok := b.(Quantity); ok && op == "*" {
			return arith(op, Collection{y}, Collection{x})
		}
		return decArith(op, x.D, b)
	case String:
		if y, ok := b.(String); ok && op == "+" {
			return one(x + y)
		}
	case DateTime:
		if y, ok := b.(Quantity); ok && (op == "+" || op == "-") {
			sign := 1
			if op == "-" {
				sign = -1
			}
			d, err := addDuration(x, y, sign)
			if err != nil {
				return nil, err
			}
			return one(d)
		}
	case Quantity:
		return quantityArith(op, x, b)
	}
	return nil, errorf("cannot apply '%s' to %s and %s", op, a.TypeName(), b.TypeName())
}

func decArith(op string, x *apd.Decimal, b Item) (Collection, error) {
	var y *apd.Decimal
	switch v := b.(type) {
	case Integer:
		y = toDec(v)
	case Decimal:
		y = v.D
	default:
		return nil, errorf("cannot apply '%s' to a number and %s", op, b.TypeName())
	}
	r := new(apd.Decimal)
	var err error
	switch op {
	case "+":
		_, err = decCtx.Add(r, x, y)
	case "-":
		_, err = decCtx.Sub(r, x, y)
	case "*":
		_, err = decCtx.Mul(r, x, y)
	case "/":
		if y.IsZero() {
			return nil, nil
		}
		_, err = decCtx.Quo(r, x, y)
		r = trimQuotient(r)
	case "div":
		if y.IsZero() {
			return nil, nil
		}
		_, err = decCtx.QuoInteger(r, x, y)
		if err == nil {
			i, e := r.Int64()
			if e != nil {
				return nil, errorf("integer overflow")
			}
			return Collection{Integer(i)}, nil
		}
	case "mod":
		if y.IsZero() {
			return nil, nil
		}
		_, err = decCtx.Rem(r, x, y)
	}
	if err != nil {
		return nil, errorf("decimal arithmetic: %v", err)
	}
	return Collection{Decimal{r}}, nil
}

// trimQuotient drops the trailing zeros of an exact quotient (1 / 2 is
// 0.5, not 0.5000…) while keeping the digits of an inexact one.
func trimQuotient(r *apd.Decimal) *apd.Decimal {
	t := new(apd.Decimal)
	t.Reduce(r)
	if t.Exponent > 0 && t.NumDigits()+int64(t.Exponent) <= int64(decCtx.Precision) {
		_, _ = decCtx.Quantize(t, t, 0)
	}
	return t
}

func quantityArith(op string, x Quantity, b Item) (Collection, error) {
	switch y := b.(type) {
	case Quantity:
		switch op {
		case "+", "-":
			yv, ok := convertQuantity(y, x)
			if !ok {
				return nil, errorf("cannot add or subtract '%s' and '%s'", x.Unit, y.Unit)
			}
			r := new(apd.Decimal)
			if op == "+" {
				_, _ = decCtx.Add(r, x.Value, yv)
			} else {
				_, _ = decCtx.Sub(r, x.Value, yv)
			}
			return Collection{Quantity{Value: r, Unit: x.Unit, calendar: x.calendar}}, nil
		case "*", "/":
			r := new(apd.Decimal)
			sep := "."
			if op == "*" {
				_, _ = decCtx.Mul(r, x.Value, y.Value)
			} else {
				if y.Value.IsZero() {
					return nil, nil
				}
				_, _ = decCtx.Quo(r, x.Value, y.Value)
				r = trimQuotient(r)
				sep = "/"
			}
			return Collection{Quantity{Value: r, Unit: "(" + ucumOf(x) + ")" + sep + "(" + ucumOf(y) + ")"}}, nil
		}
	case Integer, Decimal:
		if op == "*" || op == "/" {
			res, err := decArith(op, x.Value, y)
			if err != nil || len(res) == 0 {
				return res, err
			}
			return Collection{Quantity{Value: res[0].(Decimal).D, Unit: x.Unit, calendar: x.calendar}}, nil
		}
	}
	return nil, errorf("cannot apply '%s' to %s and %s", op, x.TypeName(), b.TypeName())
}

func ucumOf(q Quantity) string {
	if q.calendar != "" {
		if u := calendarUCUM[q.calendar]; u != "" {
			return u
		}
	}
	return q.Unit
}
