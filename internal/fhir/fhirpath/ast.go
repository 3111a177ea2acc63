package fhirpath

import "regexp"

// The abstract syntax tree. Expressions are compiled once into this tree and
// evaluated many times; nothing in it changes after Compile, so one
// *Expression can be evaluated from many goroutines at once.

type nodeKind uint8

const (
	nLiteral  nodeKind = iota // a constant collection (value)
	nEmpty                    // {}
	nIdent                    // member navigation from the focus: name
	nThis                     // $this
	nIndex                    // $index
	nTotal                    // $total
	nExtConst                 // %name
	nChild                    // left.name
	nCall                     // [left.]fn(args)
	nIndexer                  // left[index]
	nUnary                    // -x, +x
	nBinary                   // left op right
	nTypeOp                   // left is/as Type
)

type node struct {
	kind  nodeKind
	pos   int
	name  string // identifier, function, operator, constant name
	left  *node  // invocation target / left operand (nil: the focus)
	right *node
	args  []*node
	value Item       // nLiteral
	lit   Collection // nLiteral: value as a shared one-item collection
	typ   *typeSpec  // nTypeOp, and is/as/ofType arguments
	fn    *funcDef   // nCall: resolved at compile time
	// re is the compiled pattern of matches(), matchesFull() or
	// replaceMatches() when it is a string literal: compiled once with the
	// expression rather than on every call.
	re *regexp.Regexp
}

// literalRegex compiles the pattern of a regex function call whose pattern
// is a string literal; invalid patterns are left to fail at evaluation.
func literalRegex(n *node) {
	if n.kind == nCall && len(n.args) > 0 && n.args[0].kind == nLiteral {
		if pat, ok := n.args[0].value.(String); ok && pat != "" {
			switch n.name {
			case "matches", "replaceMatches":
				n.re, _ = compileRegex(string(pat), false)
			case "matchesFull":
				n.re, _ = compileRegex(string(pat), true)
			}
		}
	}
}

// typeSpec is a type specifier: [namespace.]name.
type typeSpec struct {
	ns   string // "System", "FHIR" or "" (unqualified)
	name string
}

func (t *typeSpec) String() string {
	if t.ns == "" {
		return t.name
	}
	return t.ns + "." + t.name
}
