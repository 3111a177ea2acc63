package synth

import (
	"strconv"
	"unicode/utf8"
)

// obj is a JSON object whose members keep the order they are written in, so
// that output is byte-for-byte reproducible. Values are string, int, bool,
// dec, obj, arr or raw.
type obj []kv

type kv struct {
	k string
	v any
}

// arr is a JSON array.
type arr []any

// dec is a decimal written with a fixed number of fraction digits (FHIR
// decimals keep their precision as written).
type dec struct {
	v      float64
	digits int
}

// add appends a member unless v is empty (FHIR forbids empty strings,
// arrays and objects).
func (o obj) add(k string, v any) obj {
	switch x := v.(type) {
	case string:
		if x == "" {
			return o
		}
	case obj:
		if len(x) == 0 {
			return o
		}
	case arr:
		if len(x) == 0 {
			return o
		}
	case nil:
		return o
	}
	return append(o, kv{k, v})
}

// appendJSON appends the JSON form of v to b.
func appendJSON(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return appendString(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case bool:
		return strconv.AppendBool(b, x)
	case dec:
		return strconv.AppendFloat(b, x.v, 'f', x.digits, 64)
	case obj:
		b = append(b, '{')
		for i, m := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, m.k)
			b = append(b, ':')
			b = appendJSON(b, m.v)
		}
		return append(b, '}')
	case arr:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, e)
		}
		return append(b, ']')
	case []string:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, e)
		}
		return append(b, ']')
	}
	panic("synth: cannot encode " + strconv.Quote(typeName(v)))
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "nil"
	}
	return "value"
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string (RFC 8259 §7).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
