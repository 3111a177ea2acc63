package fhirpath

import (
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// itemSet is a set of items under FHIRPath equality, for union, distinct,
// intersect, exclude and the membership tests. Items with a simple value
// (strings, numbers, booleans, dates) are hashed by a key that is equal
// exactly when the items are equal; the rest (complex values, quantities)
// are compared pairwise. Union of two search-parameter collections of
// thousands of codes (ValueSet.expansion.contains.code) stays linear.
type itemSet struct {
	keys   map[string]struct{}
	others Collection
}

// setKey returns the hash key of an item, or ok false for items compared
// pairwise.
func setKey(it Item) (string, bool) {
	v, ok := sysValue(it)
	if !ok {
		return "", false
	}
	switch x := v.(type) {
	case String:
		return "s" + string(x), true
	case Boolean:
		if x {
			return "bt", true
		}
		return "bf", true
	case Integer:
		return "n" + itoa(int(x)), true
	case Decimal:
		r, _ := new(apd.Decimal).Reduce(x.D)
		if r.Exponent >= 0 && r.NumDigits()+int64(r.Exponent) <= 18 {
			if i, err := r.Int64(); err == nil {
				return "n" + itoa(int(i)), true // 1.0 and 1 are equal
			}
		}
		return "n" + r.Text('f'), true
	case DateTime:
		// Equal dates have the same precision; with a zone, the same instant.
		if x.kind != kTime && x.prec >= pHour && x.hasTZ {
			x = fromTime(x.toTime().UTC(), x)
			x.tzMin = 0
		}
		x.frac = ""
		var b strings.Builder
		b.WriteByte('d')
		b.WriteByte(byte('0' + x.kind))
		b.WriteByte(byte('0' + min(x.prec, pSecond)))
		b.WriteString(x.String())
		if x.prec >= pSecond {
			b.WriteString(itoa(x.millis))
		}
		return b.String(), true
	}
	return "", false
}

func newItemSet(capacity int) *itemSet {
	return &itemSet{keys: make(map[string]struct{}, capacity)}
}

// has reports whether an item equal to it is in the set; cost counts the
// pairwise comparisons made, for the evaluation budget.
func (s *itemSet) has(it Item) (found bool, cost int) {
	if k, ok := setKey(it); ok {
		_, found = s.keys[k]
		return found, 1
	}
	for _, o := range s.others {
		if eq, known := itemsEqual(o, it); known && eq {
			return true, len(s.others)
		}
	}
	return false, len(s.others) + 1
}

// add adds it unless an equal item is there; added reports which.
func (s *itemSet) add(it Item) (added bool, cost int) {
	if k, ok := setKey(it); ok {
		if _, found := s.keys[k]; found {
			return false, 1
		}
		s.keys[k] = struct{}{}
		return true, 1
	}
	found, cost := s.has(it)
	if !found {
		s.others = append(s.others, it)
	}
	return !found, cost
}

// dedup returns the items of the collections in order, without duplicates.
func (ev *evaluator) dedup(cs ...Collection) (Collection, error) {
	n := 0
	for _, c := range cs {
		n += len(c)
	}
	if n <= 1 {
		for _, c := range cs {
			if len(c) == 1 {
				return c, nil
			}
		}
		return nil, nil
	}
	out := make(Collection, 0, n)
	if n <= 16 {
		// Small collections (the usual case): pairwise is cheaper than hashing.
		for _, c := range cs {
		next:
			for _, it := range c {
				for _, o := range out {
					if eq, known := itemsEqual(o, it); known && eq {
						continue next
					}
				}
				out = append(out, it)
			}
		}
		return out, ev.step(n * n / 2)
	}
	set := newItemSet(n)
	cost := 0
	for _, c := range cs {
		for _, it := range c {
			added, k := set.add(it)
			cost += k
			if added {
				out = append(out, it)
			}
		}
	}
	return out, ev.step(cost)
}

// setOf builds a set of c for membership tests.
func (ev *evaluator) setOf(c Collection) (*itemSet, error) {
	set := newItemSet(len(c))
	cost := 0
	for _, it := range c {
		_, k := set.add(it)
		cost += k
	}
	return set, ev.step(cost)
}
