package index

import (
	"math"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/fhirpath"
)

// Number is one row of a number parameter
// (https://hl7.org/fhir/R4/search.html#number). Value keeps the digits as
// written; Low and High are the implicit range of its precision ("100" is
// [99.5, 100.5), "100.00" is [99.995, 100.005)), which eq, ap and the
// other prefixes compare against.
type Number struct {
	Param     string
	Value     string
	Low, High float64
}

// NumberRange returns the implicit range of a decimal as written: half a
// unit of its last digit on either side. ok is false when s is not a
// decimal.
func NumberRange(s string) (low, high float64, ok bool) {
	// The exponent of the last digit, read from the literal: digits after
	// the point, less an exponent part (1.5e2 has last digit 10^1).
	mant, exp, hasExp := strings.Cut(strings.ToLower(s), "e")
	e := 0
	if hasExp {
		n, err := strconv.Atoi(exp)
		if err != nil || n > 400 || n < -400 {
			return 0, 0, false
		}
		e = n
	}
	if _, frac, ok := strings.Cut(mant, "."); ok {
		e -= len(frac)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, 0, false
	}
	half := 0.5 * math.Pow10(e)
	return v - half, v + half, true
}

func decimalRange(d *apd.Decimal) (low, high float64, ok bool) {
	v, err := d.Float64()
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, 0, false
	}
	half := 0.5 * math.Pow10(int(d.Exponent))
	return v - half, v + half, true
}

// appendNumbers indexes decimal, integer, positiveInt and unsignedInt
// values and computed numbers.
func appendNumbers(out []Number, param string, it fhirpath.Item) []Number {
	var s string
	switch v := it.(type) {
	case fhirpath.Integer, fhirpath.Decimal:
		s = itemString(v)
	case *fhirpath.Node:
		if val := v.Value(); val != nil && val.Kind == fhir.Number {
			s = val.Text
		}
	}
	if s == "" {
		return out
	}
	low, high, ok := NumberRange(s)
	if !ok {
		return out
	}
	return append(out, Number{Param: param, Value: s, Low: low, High: high})
}
