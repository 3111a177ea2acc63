package fhirpath

import (
	"github.com/cockroachdb/apd/v3"
)

// Decimals are exact (github.com/cockroachdb/apd/v3): FHIR decimals keep
// the digits they were written with, and FHIRPath asks for at least 28
// digits of precision (https://hl7.org/fhirpath/N1/#decimal). Addition,
// subtraction and multiplication are exact; division and the
// transcendental functions round to 34 significant digits (IEEE decimal128).
//
// decCtx is read-only: apd contexts are configuration, the condition flags
// each operation returns are not stored in it.
var decCtx = apd.BaseContext.WithPrecision(34)

// decScale is the number of digits after the decimal point.
func decScale(d *apd.Decimal) int {
	if d.Exponent < 0 {
		return int(-d.Exponent)
	}
	return 0
}

// roundTo rounds d to places digits after the point (half away from zero,
// as round() asks: https://hl7.org/fhirpath/N1/#roundprecision-integer-decimal).
func roundTo(d *apd.Decimal, places int) *apd.Decimal {
	r := new(apd.Decimal)
	c := *decCtx
	c.Rounding = apd.RoundHalfUp
	_, _ = c.Quantize(r, d, int32(-places))
	return r
}

// decEqual compares numerically (1.10 = 1.1).
func decEqual(a, b *apd.Decimal) bool { return a.Cmp(b) == 0 }

// decEquivalent compares after rounding both to the precision of the less
// precise (https://hl7.org/fhirpath/N1/#equivalence: "the comparison is
// done on values rounded to the precision of the least precise operand").
func decEquivalent(a, b *apd.Decimal) bool {
	p := min(decScale(a), decScale(b))
	return roundTo(a, p).Cmp(roundTo(b, p)) == 0
}
