package fhir

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

// ValueKind is the JSON kind of a Value.
type ValueKind uint8

// JSON kinds.
const (
	Null ValueKind = iota
	Bool
	Number
	String
	Object
	Array
)

func (k ValueKind) String() string {
	switch k {
	case Null:
		return "null"
	case Bool:
		return "boolean"
	case Number:
		return "number"
	case String:
		return "string"
	case Object:
		return "object"
	case Array:
		return "array"
	}
	return "unknown"
}

// Value is a lossless JSON tree: object members keep their order, numbers keep
// the digits they were written with (FHIR decimals carry precision: 1.50 is
// not 1.5), strings are already unescaped.
//
// It is the in-memory form used where a resource must be navigated (FHIRPath,
// index extraction, patch). Storage and the REST layer keep raw bytes instead;
// see docs/decisions/0002-resource-representation.md.
type Value struct {
	Kind    ValueKind
	Bool    bool
	Text    string   // String: the unescaped string; Number: the literal as written
	Members []Member // Object
	Items   []Value  // Array
}

// Member is one name/value pair of a JSON object.
type Member struct {
	Name  string
	Value Value
}

// Get returns the member called name, if any.
func (v *Value) Get(name string) (*Value, bool) {
	for i := range v.Members {
		if v.Members[i].Name == name {
			return &v.Members[i].Value, true
		}
	}
	return nil, false
}

// Str returns the string member called name, or "".
func (v *Value) Str(name string) string {
	if m, ok := v.Get(name); ok && m.Kind == String {
		return m.Text
	}
	return ""
}

// ResourceType returns the resourceType member of an object, or "".
func (v *Value) ResourceType() string { return v.Str("resourceType") }

// Limits bound what Parse accepts, so hostile input cannot exhaust memory or
// the stack.
type Limits struct {
	MaxDepth int // nesting of objects and arrays; 0 means DefaultMaxDepth
}

// DefaultMaxDepth is deeper than any real resource (the deepest official
// example nests about 20 levels) and far below what would hurt.
const DefaultMaxDepth = 100

// ErrTooDeep reports JSON nested deeper than the limit.
var ErrTooDeep = errors.New("JSON nested too deeply")

// Parse decodes one JSON value strictly: duplicate object names, invalid UTF-8
// and trailing data are errors.
func Parse(b []byte) (Value, error) {
	return ParseLimits(b, Limits{})
}

// ParseLimits is Parse with explicit limits.
func ParseLimits(b []byte, lim Limits) (Value, error) {
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = DefaultMaxDepth
	}
	dec := jsontext.NewDecoder(bytes.NewReader(b))
	v, err := parseValue(dec, lim.MaxDepth)
	if err != nil {
		return Value{}, err
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		if err == nil {
			return Value{}, fmt.Errorf("unexpected data after the JSON value at byte %d", dec.InputOffset())
		}
		return Value{}, err
	}
	return v, nil
}

func parseValue(dec *jsontext.Decoder, depth int) (Value, error) {
	if k := dec.PeekKind(); (k == '{' || k == '[') && dec.StackDepth() >= depth {
		return Value{}, ErrTooDeep
	}
	tok, err := dec.ReadToken()
	if err != nil {
		return Value{}, err
	}
	switch tok.Kind() {
	case 'n':
		return Value{Kind: Null}, nil
	case 't', 'f':
		return Value{Kind: Bool, Bool: tok.Bool()}, nil
	case '"':
		return Value{Kind: String, Text: tok.String()}, nil
	case '0':
		return Value{Kind: Number, Text: tok.String()}, nil
	case '{':
		v := Value{Kind: Object}
		for dec.PeekKind() != '}' {
			nt, err := dec.ReadToken()
			if err != nil {
				return Value{}, err
			}
			name := nt.String()
			mv, err := parseValue(dec, depth)
			if err != nil {
				return Value{}, err
			}
			v.Members = append(v.Members, Member{Name: name, Value: mv})
		}
		if _, err := dec.ReadToken(); err != nil {
			return Value{}, err
		}
		return v, nil
	case '[':
		v := Value{Kind: Array, Items: []Value{}}
		for dec.PeekKind() != ']' {
			iv, err := parseValue(dec, depth)
			if err != nil {
				return Value{}, err
			}
			v.Items = append(v.Items, iv)
		}
		if _, err := dec.ReadToken(); err != nil {
			return Value{}, err
		}
		return v, nil
	}
	return Value{}, fmt.Errorf("unexpected JSON token %v", tok.Kind())
}

// Marshal encodes v as compact JSON, numbers exactly as they were written.
func (v Value) Marshal() []byte {
	var buf bytes.Buffer
	enc := jsontext.NewEncoder(&buf)
	// Errors cannot happen for a tree built by Parse; a hand-built tree with an
	// invalid number literal is a programming error and shows up in tests.
	_ = v.encode(enc)
	// The encoder ends each top-level value with a newline; callers embed
	// the bytes, so drop it.
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func (v Value) encode(enc *jsontext.Encoder) error {
	switch v.Kind {
	case Null:
		return enc.WriteToken(jsontext.Null)
	case Bool:
		return enc.WriteToken(jsontext.Bool(v.Bool))
	case String:
		return enc.WriteToken(jsontext.String(v.Text))
	case Number:
		return enc.WriteValue(jsontext.Value(v.Text))
	case Object:
		if err := enc.WriteToken(jsontext.BeginObject); err != nil {
			return err
		}
		for _, m := range v.Members {
			if err := enc.WriteToken(jsontext.String(m.Name)); err != nil {
				return err
			}
			if err := m.Value.encode(enc); err != nil {
				return err
			}
		}
		return enc.WriteToken(jsontext.EndObject)
	case Array:
		if err := enc.WriteToken(jsontext.BeginArray); err != nil {
			return err
		}
		for _, it := range v.Items {
			if err := it.encode(enc); err != nil {
				return err
			}
		}
		return enc.WriteToken(jsontext.EndArray)
	}
	return fmt.Errorf("invalid value kind %d", v.Kind)
}
