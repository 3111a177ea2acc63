package fhirpath

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The lexical grammar is https://hl7.org/fhirpath/N1/grammar.html (the
// lexer rules at the end of the ANTLR file). It is small enough that a
// hand-written scanner is shorter than the generated one and an order of
// magnitude faster (docs/decisions/0003-fhirpath-parser.md).

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tDelimIdent // `quoted identifier`
	tString
	tNumber
	tDateTime // @2015-02-04T14:34, @2015, @2015T
	tTime     // @T14:34
	tExtConst // %name, %`name`, %'name'
	tOp       // punctuation and symbolic operators
)

type token struct {
	kind tokKind
	text string // identifier/string: the unescaped value; op: the operator; number/date: as written
	pos  int    // byte offset in the expression
}

// SyntaxError is a lexing or parsing error with its position.
type SyntaxError struct {
	Pos  int // byte offset
	Line int // 1-based
	Col  int // 1-based, in runes
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("fhirpath: syntax error at line %d, column %d: %s", e.Line, e.Col, e.Msg)
}

func syntaxErr(src string, pos int, format string, args ...any) *SyntaxError {
	if pos > len(src) {
		pos = len(src)
	}
	line, col := 1, 1
	for _, r := range src[:pos] {
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return &SyntaxError{Pos: pos, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for {
		// skip white space and comments
		for i < len(src) {
			c := src[i]
			if c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' {
				i++
				continue
			}
			if c == '/' && i+1 < len(src) && src[i+1] == '/' {
				for i < len(src) && src[i] != '\n' {
					i++
				}
				continue
			}
			if c == '/' && i+1 < len(src) && src[i+1] == '*' {
				end := strings.Index(src[i+2:], "*/")
				if end < 0 {
					return nil, syntaxErr(src, i, "unterminated comment")
				}
				i += 2 + end + 2
				continue
			}
			break
		}
		if i >= len(src) {
			toks = append(toks, token{kind: tEOF, pos: i})
			return toks, nil
		}
		start := i
		c := src[i]
		switch {
		case isIdentStart(c):
			for i < len(src) && isIdentPart(src[i]) {
				i++
			}
			toks = append(toks, token{kind: tIdent, text: src[start:i], pos: start})
		case c == '`':
			s, n, err := unquote(src, i, '`')
			if err != nil {
				return nil, err
			}
			i = n
			toks = append(toks, token{kind: tDelimIdent, text: s, pos: start})
		case c == '\'':
			s, n, err := unquote(src, i, '\'')
			if err != nil {
				return nil, err
			}
			i = n
			toks = append(toks, token{kind: tString, text: s, pos: start})
		case c >= '0' && c <= '9':
			for i < len(src) && isDigit(src[i]) {
				i++
			}
			if i+1 < len(src) && src[i] == '.' && isDigit(src[i+1]) {
				i++
				for i < len(src) && isDigit(src[i]) {
					i++
				}
			}
			toks = append(toks, token{kind: tNumber, text: src[start:i], pos: start})
		case c == '@':
			n, kind := scanDateTime(src, i)
			if n == i+1 {
				return nil, syntaxErr(src, i, "malformed date/time literal")
			}
			i = n
			toks = append(toks, token{kind: kind, text: src[start:i], pos: start})
		case c == '%':
			i++
			if i < len(src) && (src[i] == '`' || src[i] == '\'') {
				s, n, err := unquote(src, i, src[i])
				if err != nil {
					return nil, err
				}
				i = n
				toks = append(toks, token{kind: tExtConst, text: s, pos: start})
				continue
			}
			for i < len(src) && isIdentPart(src[i]) {
				i++
			}
			if i == start+1 {
				return nil, syntaxErr(src, start, "expected a name after %%")
			}
			toks = append(toks, token{kind: tExtConst, text: src[start+1 : i], pos: start})
		case c == '$':
			i++
			for i < len(src) && isIdentPart(src[i]) {
				i++
			}
			toks = append(toks, token{kind: tIdent, text: src[start:i], pos: start})
		default:
			op := ""
			for _, o := range [...]string{"<=", ">=", "!=", "!~"} {
				if strings.HasPrefix(src[i:], o) {
					op = o
					break
				}
			}
			if op == "" && strings.ContainsRune(".,()[]{}+-*/&|<>=~", rune(c)) {
				op = src[i : i+1]
			}
			if op == "" {
				r, _ := utf8.DecodeRuneInString(src[i:])
				return nil, syntaxErr(src, i, "unexpected character %q", r)
			}
			i += len(op)
			toks = append(toks, token{kind: tOp, text: op, pos: start})
		}
	}
}

// scanDateTime scans the DATETIME / TIME lexer rules from src[i] == '@'
// and returns the offset after the literal.
func scanDateTime(src string, i int) (int, tokKind) {
	i++
	digits := func(n int) bool {
		if i+n > len(src) {
			return false
		}
		for k := 0; k < n; k++ {
			if !isDigit(src[i+k]) {
				return false
			}
		}
		i += n
		return true
	}
	lit := func(c byte) bool {
		if i < len(src) && src[i] == c {
			i++
			return true
		}
		return false
	}
	peek2 := func(c byte) bool { return i+1 < len(src) && src[i] == c && isDigit(src[i+1]) }
	timePart := func() {
		if !digits(2) {
			return
		}
		if peek2(':') {
			i++
			digits(2)
			if peek2(':') {
				i++
				digits(2)
				if peek2('.') {
					i++
					for i < len(src) && isDigit(src[i]) {
						i++
					}
				}
			}
		}
	}
	if lit('T') {
		timePart()
		return i, tTime
	}
	if !digits(4) {
		return i, tDateTime
	}
	if peek2('-') {
		i++
		digits(2)
		if peek2('-') {
			i++
			digits(2)
		}
	}
	if lit('T') {
		timePart()
		if !lit('Z') && i < len(src) && (src[i] == '+' || src[i] == '-') && isTZ(src[i:]) {
			i += 6
		}
	}
	return i, tDateTime
}

func isTZ(s string) bool {
	return len(s) >= 6 && isDigit(s[1]) && isDigit(s[2]) && s[3] == ':' && isDigit(s[4]) && isDigit(s[5])
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
func isIdentPart(c byte) bool { return isIdentStart(c) || isDigit(c) }
func isDigit(c byte) bool     { return c >= '0' && c <= '9' }

// unquote reads a quoted string or identifier starting at src[i] == q and
// returns its value and the offset after the closing quote. Escapes are
// those of https://hl7.org/fhirpath/N1/#string.
func unquote(src string, i int, q byte) (string, int, error) {
	start := i
	i++
	var b strings.Builder
	for {
		if i >= len(src) {
			return "", 0, syntaxErr(src, start, "unterminated %c", q)
		}
		c := src[i]
		if c == q {
			return b.String(), i + 1, nil
		}
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(src) {
			return "", 0, syntaxErr(src, i, "unterminated escape")
		}
		e := src[i+1]
		i += 2
		switch e {
		case '\'', '"', '`', '\\', '/':
			b.WriteByte(e)
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			if i+4 > len(src) {
				return "", 0, syntaxErr(src, i-2, "bad \\u escape")
			}
			n, err := strconv.ParseUint(src[i:i+4], 16, 32)
			if err != nil {
				return "", 0, syntaxErr(src, i-2, "bad \\u escape")
			}
			b.WriteRune(rune(n))
			i += 4
		default:
			return "", 0, syntaxErr(src, i-2, "unknown escape \\%c", e)
		}
	}
}
