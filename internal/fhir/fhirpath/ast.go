package fhirpath

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
