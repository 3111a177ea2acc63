package fhirpath

import (
	"sort"
	"strconv"
)

// Existence, filtering, subsetting, combining, tree navigation and utility
// functions (https://hl7.org/fhirpath/N1/#existence …#utility-functions).

func itoa(i int) string { return strconv.Itoa(i) }

func boolResult(b bool) (Collection, error) { return boolColl(b), nil }

// Results are never written to in place (functions build new collections
// and append only with full slice expressions), so the two Boolean
// singletons can be shared instead of allocated per result.
var (
	trueColl  = Collection{Boolean(true)}[:1:1]
	falseColl = Collection{Boolean(false)}[:1:1]
)

func boolColl(b bool) Collection {
	if b {
		return trueColl
	}
	return falseColl
}

func fnEmpty(_ *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
	return boolResult(len(in) == 0)
}

func fnExists(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	if len(n.args) == 0 {
		return boolResult(len(in) > 0)
	}
	found := false
	err := ev.lambda(n.args[0], in, func(_ int, _ Item, res Collection) error {
		b, ok, err := AsBoolean(res)
		if ok && b {
			found = true
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return boolResult(found)
}

func fnAll(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	all := true
	err := ev.lambda(n.args[0], in, func(_ int, _ Item, res Collection) error {
		b, ok, err := AsBoolean(res)
		if !ok || !b {
			all = false
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return boolResult(all)
}

// fnAllAny implements allTrue, anyTrue, allFalse and anyFalse.
func fnAllAny(all, want bool) impl {
	return func(_ *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
		for _, it := range in {
			v, _ := sysValue(it)
			b, ok := v.(Boolean)
			if !ok {
				return nil, errorf("expected booleans, got %s", typeNameOf(it))
			}
			if all && bool(b) != want {
				return boolResult(false)
			}
			if !all && bool(b) == want {
				return boolResult(true)
			}
		}
		return boolResult(all)
	}
}

func fnSubsetOf(superset bool) impl {
	return func(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
		other, err := ev.arg(n, f, 0)
		if err != nil {
			return nil, err
		}
		a, b := in, other
		if superset {
			a, b = other, in
		}
		set, err := ev.setOf(b)
		if err != nil {
			return nil, err
		}
		for _, it := range a {
			found, cost := set.has(it)
			if err := ev.step(cost); err != nil {
				return nil, err
			}
			if !found {
				return boolResult(false)
			}
		}
		return boolResult(true)
	}
}

func fnCount(_ *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
	return Collection{Integer(len(in))}, nil
}

func distinct(ev *evaluator, in Collection) (Collection, error) {
	return ev.dedup(in)
}

func fnDistinct(ev *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
	return distinct(ev, in)
}

func fnIsDistinct(ev *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
	d, err := distinct(ev, in)
	if err != nil {
		return nil, err
	}
	return boolResult(len(d) == len(in))
}

func fnWhere(ev *evaluator, n *node, _ *frame, in Collection) (Collection, error) {
	var out Collection
	err := ev.lambda(n.args[0], in, func(_ int, it Item, res Collection) error {
		b, ok, err := AsBoolean(res)
		if ok && b {
			out = append(out, it)
		}
		return err
	})
	return out, err
}

func fnSelect(ev *evaluator, n *node, _ *frame, in Collection) (Collection, error) {
	var out Collection
	err := ev.lambda(n.args[0], in, func(_ int, _ Item, res Collection) error {
		out = append(out, res...)
		return ev.step(len(res))
	})
	return out, err
}

// sameItem is the identity used by repeat(): the same node of the tree, or
// equal System values.
func sameItem(a, b Item) bool {
	an, aok := a.(*Node)
	bn, bok := b.(*Node)
	if aok || bok {
		return aok && bok && an.v == bn.v && an.ext == bn.ext && an.typ == bn.typ
	}
	eq, known := itemsEqual(a, b)
	return known && eq
}

func fnRepeat(ev *evaluator, n *node, _ *frame, in Collection) (Collection, error) {
	var out Collection
	queue := in
	for len(queue) > 0 {
		var next Collection
		err := ev.lambda(n.args[0], queue, func(_ int, _ Item, res Collection) error {
			if err := ev.step(len(res) * len(out)); err != nil {
				return err
			}
			for _, r := range res {
				dup := false
				for _, o := range out {
					if sameItem(o, r) {
						dup = true
						break
					}
				}
				if !dup {
					out = append(out, r)
					next = append(next, r)
				}
			}
			return ev.step(len(res))
		})
		if err != nil {
			return nil, err
		}
		queue = next
	}
	return out, nil
}

func fnSingle(_ *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
	if len(in) > 1 {
		return nil, errorf("single() on %d items", len(in))
	}
	return in, nil
}

func fnFirst(_ *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
	if len(in) == 0 {
		return nil, nil
	}
	return in[:1:1], nil
}

func fnLast(_ *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
	if len(in) == 0 {
		return nil, nil
	}
	return in[len(in)-1:], nil
}

func fnTail(_ *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
	if len(in) <= 1 {
		return nil, nil
	}
	return in[1:], nil
}

func intArg(ev *evaluator, n *node, f *frame, i int) (int64, bool, error) {
	a, err := ev.arg(n, f, i)
	if err != nil || len(a) == 0 {
		return 0, false, err
	}
	v, err := singletonInteger(a)
	return v, err == nil, err
}

func fnSkip(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	k, ok, err := intArg(ev, n, f, 0)
	if err != nil || !ok {
		return nil, err
	}
	if k <= 0 {
		return in, nil
	}
	if k >= int64(len(in)) {
		return nil, nil
	}
	return in[k:], nil
}

func fnTake(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	k, ok, err := intArg(ev, n, f, 0)
	if err != nil || !ok {
		return nil, err
	}
	if k <= 0 {
		return nil, nil
	}
	if k >= int64(len(in)) {
		return in, nil
	}
	return in[:k:k], nil
}

// filterBy keeps the items of in that are (keep) or are not in other.
func filterBy(ev *evaluator, in, other Collection, keep bool) (Collection, error) {
	set, err := ev.setOf(other)
	if err != nil {
		return nil, err
	}
	var out Collection
	for _, it := range in {
		found, cost := set.has(it)
		if err := ev.step(cost); err != nil {
			return nil, err
		}
		if found == keep {
			out = append(out, it)
		}
	}
	return out, nil
}

func fnIntersect(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	other, err := ev.arg(n, f, 0)
	if err != nil {
		return nil, err
	}
	out, err := filterBy(ev, in, other, true)
	if err != nil {
		return nil, err
	}
	return ev.dedup(out)
}

func fnExclude(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	other, err := ev.arg(n, f, 0)
	if err != nil {
		return nil, err
	}
	return filterBy(ev, in, other, false)
}

func fnUnion(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	other, err := ev.arg(n, f, 0)
	if err != nil {
		return nil, err
	}
	return ev.dedup(in, other)
}

func fnCombine(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	other, err := ev.arg(n, f, 0)
	if err != nil {
		return nil, err
	}
	out := make(Collection, 0, len(in)+len(other))
	return append(append(out, in...), other...), nil
}

// fnIif is iif(criterion, true-result [, otherwise-result]); only the chosen
// branch is evaluated (https://hl7.org/fhirpath/N1/#iifcriterion-expression-true-result-collection-otherwise-result-collection-collection).
func fnIif(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	fr := f
	if n.left != nil {
		if len(in) > 1 {
			return nil, errorf("iif() on %d items", len(in))
		}
		fr = &frame{this: in, index: f.index, hasIndex: f.hasIndex, total: f.total, hasTotal: f.hasTotal}
	}
	c, err := ev.eval(n.args[0], fr)
	if err != nil {
		return nil, err
	}
	cond := false
	switch len(c) {
	case 0:
	case 1:
		v, _ := sysValue(c[0])
		b, ok := v.(Boolean)
		if !ok {
			return nil, errorf("iif() criterion must be a boolean, got %s", typeNameOf(c[0]))
		}
		cond = bool(b)
	default:
		return nil, errorf("iif() criterion must be a single boolean, got %d items", len(c))
	}
	if cond {
		return ev.eval(n.args[1], fr)
	}
	if len(n.args) > 2 {
		return ev.eval(n.args[2], fr)
	}
	return nil, nil
}

func fnChildren(ev *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
	var out Collection
	for _, it := range in {
		if nd, ok := it.(*Node); ok {
			out = nd.allChildren(out)
		}
	}
	return out, ev.step(len(out))
}

func fnDescendants(ev *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
	var out Collection
	queue := in
	for len(queue) > 0 {
		var next Collection
		for _, it := range queue {
			if nd, ok := it.(*Node); ok {
				next = nd.allChildren(next)
			}
		}
		if err := ev.step(len(next)); err != nil {
			return nil, err
		}
		out = append(out, next...)
		queue = next
	}
	return out, nil
}

func fnTrace(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	name, err := ev.arg(n, f, 0)
	if err != nil {
		return nil, err
	}
	if ev.env.Trace == nil {
		return in, nil
	}
	label := ""
	if s, err := singleton(name); err == nil {
		if str, ok := s.(String); ok {
			label = string(str)
		}
	}
	shown := in
	if len(n.args) > 1 {
		shown = nil
		err := ev.lambda(n.args[1], in, func(_ int, _ Item, res Collection) error {
			shown = append(shown, res...)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	ev.env.Trace(label, shown)
	return in, nil
}

func fnNot(_ *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
	b, ok, err := AsBoolean(in)
	if err != nil || !ok {
		return nil, err
	}
	return boolResult(!b)
}

func fnAggregate(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	total, err := ev.arg(n, f, 1)
	if err != nil {
		return nil, err
	}
	fr := &frame{hasIndex: true, hasTotal: true}
	for i, it := range in {
		fr.this, fr.index, fr.total = Collection{it}, i, total
		if total, err = ev.eval(n.args[0], fr); err != nil {
			return nil, err
		}
	}
	return total, nil
}

// fnSort is sort([key, …]) of FHIRPath 2.1: a key written -expr sorts
// descending.
func fnSort(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	type keyed struct {
		it   Item
		keys []Item
	}
	rows := make([]keyed, len(in))
	desc := make([]bool, len(n.args))
	exprs := make([]*node, len(n.args))
	for k, a := range n.args {
		exprs[k] = a
		if a.kind == nUnary && a.name == "-" {
			desc[k], exprs[k] = true, a.left
		}
	}
	for i, it := range in {
		rows[i].it = it
		if len(exprs) == 0 {
			v, _ := sysValue(it)
			rows[i].keys = []Item{v}
			continue
		}
		for _, e := range exprs {
			res, err := ev.eval(e, &frame{this: Collection{it}, index: i, hasIndex: true})
			if err != nil {
				return nil, err
			}
			v, err := singleton(res)
			if err != nil {
				return nil, err
			}
			rows[i].keys = append(rows[i].keys, v)
		}
	}
	var sortErr error
	sort.SliceStable(rows, func(a, b int) bool {
		for k := range rows[a].keys {
			x, y := rows[a].keys[k], rows[b].keys[k]
			if x == nil || y == nil {
				// Empty keys sort after values (before them when descending).
				if (x == nil) != (y == nil) {
					return (y == nil) != (k < len(desc) && desc[k])
				}
				continue
			}
			c, known, err := compareItems(x, y)
			if err != nil && sortErr == nil {
				sortErr = err
			}
			if !known || c == 0 {
				continue
			}
			if k < len(desc) && desc[k] {
				return c > 0
			}
			return c < 0
		}
		return false
	})
	if sortErr != nil {
		return nil, sortErr
	}
	out := make(Collection, len(rows))
	for i := range rows {
		out[i] = rows[i].it
	}
	return out, nil
}
