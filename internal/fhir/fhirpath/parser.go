package fhirpath

import (
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// A recursive-descent parser with precedence climbing for the operator
// levels of https://hl7.org/fhirpath/N1/#operator-precedence (highest first):
//
//	1 . (path/function invocation)   2 [] (indexer)   3 unary + -
//	4 * / div mod   5 + - &   6 is as   7 |   8 > < >= <=   9 = ~ != !~
//	10 in contains   11 and   12 xor or   13 implies
//
// All binary operators are left-associative.

type parser struct {
	src  string
	toks []token
	i    int
	// depth bounds recursion so hostile input cannot exhaust the stack.
	depth int
}

const maxParseDepth = 200

// binary operator precedence levels (higher binds tighter).
func binaryPrec(t token) int {
	switch t.kind {
	case tOp:
		switch t.text {
		case "*", "/":
			return 10
		case "+", "-", "&":
			return 9
		case "|":
			return 7
		case "<", ">", "<=", ">=":
			return 6
		case "=", "~", "!=", "!~":
			return 5
		}
	case tIdent:
		switch t.text {
		case "div", "mod":
			return 10
		case "is", "as":
			return 8
		case "in", "contains":
			return 4
		case "and":
			return 3
		case "or", "xor":
			return 2
		case "implies":
			return 1
		}
	}
	return 0
}

func parse(src string) (*node, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks}
	n, err := p.expr(1)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errAt(t, "unexpected %s", describe(t))
	}
	return n, nil
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tString:
		return "string '" + t.text + "'"
	}
	return "'" + t.text + "'"
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}
func (p *parser) errAt(t token, format string, args ...any) error {
	return syntaxErr(p.src, t.pos, format, args...)
}
func (p *parser) isOp(s string) bool { t := p.peek(); return t.kind == tOp && t.text == s }
func (p *parser) expectOp(s string) error {
	if !p.isOp(s) {
		t := p.peek()
		return p.errAt(t, "expected '%s', found %s", s, describe(t))
	}
	p.next()
	return nil
}

func (p *parser) expr(minPrec int) (*node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxParseDepth {
		return nil, p.errAt(p.peek(), "expression nested too deeply")
	}
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		prec := binaryPrec(t)
		if prec == 0 || prec < minPrec {
			return left, nil
		}
		p.next()
		if t.kind == tIdent && (t.text == "is" || t.text == "as") {
			ts, err := p.typeSpecifier()
			if err != nil {
				return nil, err
			}
			left = &node{kind: nTypeOp, pos: t.pos, name: t.text, left: left, typ: ts}
			continue
		}
		right, err := p.expr(prec + 1)
		if err != nil {
			return nil, err
		}
		left = &node{kind: nBinary, pos: t.pos, name: t.text, left: left, right: right}
	}
}

func (p *parser) typeSpecifier() (*typeSpec, error) {
	t := p.next()
	if t.kind != tIdent && t.kind != tDelimIdent {
		return nil, p.errAt(t, "expected a type name, found %s", describe(t))
	}
	ts := &typeSpec{name: t.text}
	if p.isOp(".") && (p.toks[p.i+1].kind == tIdent || p.toks[p.i+1].kind == tDelimIdent) {
		p.next()
		ts.ns, ts.name = ts.name, p.next().text
	}
	return ts, nil
}

func (p *parser) unary() (*node, error) {
	if t := p.peek(); t.kind == tOp && (t.text == "-" || t.text == "+") {
		p.next()
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxParseDepth {
			return nil, p.errAt(t, "expression nested too deeply")
		}
		operand, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &node{kind: nUnary, pos: t.pos, name: t.text, left: operand}, nil
	}
	return p.postfix()
}

func (p *parser) postfix() (*node, error) {
	n, err := p.term()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.isOp("."):
			p.next()
			inv, err := p.invocation(n)
			if err != nil {
				return nil, err
			}
			n = inv
		case p.isOp("["):
			t := p.next()
			idx, err := p.expr(1)
			if err != nil {
				return nil, err
			}
			if err := p.expectOp("]"); err != nil {
				return nil, err
			}
			n = &node{kind: nIndexer, pos: t.pos, left: n, right: idx}
		default:
			return n, nil
		}
	}
}

// invocation parses identifier | function call | $this/$index/$total
// applied to target (nil for the focus).
func (p *parser) invocation(target *node) (*node, error) {
	t := p.next()
	switch t.kind {
	case tIdent, tDelimIdent:
	default:
		return nil, p.errAt(t, "expected a name, found %s", describe(t))
	}
	if t.kind == tIdent && strings.HasPrefix(t.text, "$") {
		if target != nil {
			return nil, p.errAt(t, "%s cannot follow '.'", t.text)
		}
		switch t.text {
		case "$this":
			return &node{kind: nThis, pos: t.pos}, nil
		case "$index":
			return &node{kind: nIndex, pos: t.pos}, nil
		case "$total":
			return &node{kind: nTotal, pos: t.pos}, nil
		}
		return nil, p.errAt(t, "unknown special variable %s", t.text)
	}
	if t.kind == tIdent && p.isOp("(") {
		p.next()
		call := &node{kind: nCall, pos: t.pos, name: t.text, left: target}
		if !p.isOp(")") {
			for {
				a, err := p.expr(1)
				if err != nil {
					return nil, err
				}
				call.args = append(call.args, a)
				if p.isOp(",") {
					p.next()
					continue
				}
				break
			}
		}
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
		if err := compileCall(p.src, call); err != nil {
			return nil, err
		}
		return call, nil
	}
	if target == nil {
		return &node{kind: nIdent, pos: t.pos, name: t.text}, nil
	}
	return &node{kind: nChild, pos: t.pos, name: t.text, left: target}, nil
}

var calendarUnits = map[string]string{
	"year": "year", "years": "year", "month": "month", "months": "month", "week": "week", "weeks": "week",
	"day": "day", "days": "day", "hour": "hour", "hours": "hour", "minute": "minute", "minutes": "minute",
	"second": "second", "seconds": "second", "millisecond": "millisecond", "milliseconds": "millisecond",
}

func (p *parser) term() (*node, error) {
	t := p.peek()
	switch t.kind {
	case tEOF:
		return nil, p.errAt(t, "unexpected end of expression")
	case tOp:
		switch t.text {
		case "(":
			p.next()
			n, err := p.expr(1)
			if err != nil {
				return nil, err
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
			return n, nil
		case "{":
			p.next()
			if err := p.expectOp("}"); err != nil {
				return nil, err
			}
			return &node{kind: nEmpty, pos: t.pos}, nil
		}
		return nil, p.errAt(t, "unexpected %s", describe(t))
	case tString:
		p.next()
		return &node{kind: nLiteral, pos: t.pos, value: String(t.text)}, nil
	case tNumber:
		p.next()
		var num Item
		if strings.Contains(t.text, ".") {
			d, _, err := apd.NewFromString(t.text)
			if err != nil {
				return nil, p.errAt(t, "bad number %s", t.text)
			}
			num = Decimal{d}
		} else {
			i, ok := parseInt(t.text)
			if !ok {
				// Too large for an Integer: it is still a valid decimal.
				d, _, err := apd.NewFromString(t.text)
				if err != nil {
					return nil, p.errAt(t, "bad number %s", t.text)
				}
				num = Decimal{d}
			} else {
				num = Integer(i)
			}
		}
		// quantity: NUMBER unit
		u := p.peek()
		if u.kind == tString {
			p.next()
			return &node{kind: nLiteral, pos: t.pos, value: Quantity{Value: toDec(num), Unit: u.text}}, nil
		}
		if u.kind == tIdent {
			if cu, ok := calendarUnits[u.text]; ok {
				p.next()
				return &node{kind: nLiteral, pos: t.pos, value: Quantity{Value: toDec(num), Unit: u.text, calendar: cu}}, nil
			}
		}
		return &node{kind: nLiteral, pos: t.pos, value: num}, nil
	case tDateTime, tTime:
		p.next()
		v, err := parseDateTimeLiteral(t.text[1:], t.kind == tTime)
		if err != nil {
			return nil, p.errAt(t, "%v", err)
		}
		return &node{kind: nLiteral, pos: t.pos, value: v}, nil
	case tExtConst:
		p.next()
		return &node{kind: nExtConst, pos: t.pos, name: t.text}, nil
	case tIdent:
		switch t.text {
		case "true", "false":
			if p.toks[p.i+1].kind != tOp || p.toks[p.i+1].text != "(" {
				p.next()
				return &node{kind: nLiteral, pos: t.pos, value: Boolean(t.text == "true")}, nil
			}
		}
		return p.invocation(nil)
	case tDelimIdent:
		return p.invocation(nil)
	}
	return nil, p.errAt(t, "unexpected %s", describe(t))
}
