package fhirpath

// Many R4 SearchParameter expressions are unions over several resource
// types: the "patient" parameter is
// "AllergyIntolerance.patient | CarePlan.subject.where(resolve() is Patient) | …"
// with forty branches, of which at most one can select anything from a given
// resource. Evaluating the others costs most of the time of indexing a
// resource, so an Expression keeps, per focus type, a copy of its tree with
// those branches replaced by {}.
//
// A branch is dropped only when its value is certainly empty: it starts at
// the focus with a type name the focus is not (navigate answers empty for
// it), and every later step keeps an empty input empty.

// emptyOnEmpty lists the functions whose result is empty for an empty input.
var emptyOnEmpty = map[string]bool{
	"where": true, "select": true, "ofType": true, "as": true, "first": true, "last": true, "tail": true,
	"skip": true, "take": true, "resolve": true, "extension": true, "repeat": true, "children": true,
	"descendants": true, "distinct": true, "single": true, "trace": true,
}

// prunedFor returns the tree to evaluate on a focus of resource type typ.
func (e *Expression) prunedFor(typ string, isA func(string, string) bool) *node {
	if cached, ok := e.pruned.Load(typ); ok {
		return cached.(*node)
	}
	root := prune(e.root, typ, isA)
	e.pruned.Store(typ, root)
	return root
}

// prune drops the top-level union operands of n that are empty on typ and
// rebuilds the union from the rest: "A | {} | {}" becomes A.distinct(),
// which is what the union computes. Nodes are copied, never modified: other
// goroutines may be evaluating them.
func prune(n *node, typ string, isA func(string, string) bool) *node {
	if n.kind != nBinary || n.name != "|" {
		return n
	}
	var all, kept []*node
	var collect func(*node)
	collect = func(x *node) {
		if x.kind == nBinary && x.name == "|" {
			collect(x.left)
			collect(x.right)
			return
		}
		all = append(all, x)
	}
	collect(n)
	for _, x := range all {
		if !emptyBranch(x, typ, isA) {
			kept = append(kept, x)
		}
	}
	switch {
	case len(kept) == len(all):
		return n
	case len(kept) == 0:
		return &node{kind: nEmpty, pos: n.pos}
	case len(kept) == 1:
		return &node{kind: nCall, pos: n.pos, name: "distinct", left: kept[0], fn: funcs["distinct"]}
	}
	out := kept[0]
	for _, x := range kept[1:] {
		out = &node{kind: nBinary, pos: x.pos, name: "|", left: out, right: x}
	}
	return out
}

func emptyBranch(n *node, typ string, isA func(string, string) bool) bool {
	for {
		switch n.kind {
		case nChild, nIndexer:
			n = n.left
		case nTypeOp:
			if n.name != "as" {
				return false
			}
			n = n.left
		case nCall:
			if n.left == nil || !emptyOnEmpty[n.name] {
				return false
			}
			n = n.left
		case nIdent:
			name := n.name
			if name == "" || name[0] < 'A' || name[0] > 'Z' || name == typ {
				return false
			}
			return !isA(typ, name)
		default:
			return false
		}
	}
}
