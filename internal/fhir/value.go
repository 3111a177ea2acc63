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
	p := parser{dec: jsontext.NewDecoder(bytes.NewReader(b)), maxDepth: lim.MaxDepth}
	v, err := p.value()
	if err != nil {
		return Value{}, err
	}
	if _, err := p.dec.ReadToken(); err != io.EOF {
		if err == nil {
			return Value{}, fmt.Errorf("unexpected data after the JSON value at byte %d", p.dec.InputOffset())
		}
		return Value{}, err
	}
	return v, nil
}

// parser builds a Value tree from the token stream. Members and items are
// collected on shared scratch stacks and copied out once per object or array
// at its exact size, and repeated property names share one string, which
// halves the allocations of a naive tree builder.
type parser struct {
	dec      *jsontext.Decoder
	maxDepth int
	members  []Member
	items    []Value
	names    map[string]string
}

func (p *parser) value() (Value, error) {
	switch p.dec.PeekKind() {
	case '"':
		raw, err := p.dec.ReadValue()
		if err != nil {
			return Value{}, err
		}
		s, err := unquote(raw)
		return Value{Kind: String, Text: s}, err
	case '0':
		raw, err := p.dec.ReadValue()
		if err != nil {
			return Value{}, err
		}
		return Value{Kind: Number, Text: string(raw)}, nil
	case '{', '[':
		if p.dec.StackDepth() >= p.maxDepth {
			return Value{}, ErrTooDeep
		}
	}
	tok, err := p.dec.ReadToken()
	if err != nil {
		return Value{}, err
	}
	switch tok.Kind() {
	case 'n':
		return Value{Kind: Null}, nil
	case 't', 'f':
		return Value{Kind: Bool, Bool: tok.Bool()}, nil
	case '{':
		start := len(p.members)
		for p.dec.PeekKind() == '"' {
			name, err := p.name()
			if err != nil {
				return Value{}, err
			}
			mv, err := p.value()
			if err != nil {
				return Value{}, err
			}
			p.members = append(p.members, Member{Name: name, Value: mv})
		}
		if _, err := p.dec.ReadToken(); err != nil {
			return Value{}, err
		}
		v := Value{Kind: Object, Members: make([]Member, len(p.members)-start)}
		copy(v.Members, p.members[start:])
		clear(p.members[start:])
		p.members = p.members[:start]
		return v, nil
	case '[':
		start := len(p.items)
		for k := p.dec.PeekKind(); k != ']' && k != 0; k = p.dec.PeekKind() {
			iv, err := p.value()
			if err != nil {
				return Value{}, err
			}
			p.items = append(p.items, iv)
		}
		if _, err := p.dec.ReadToken(); err != nil {
			return Value{}, err
		}
		v := Value{Kind: Array, Items: make([]Value, len(p.items)-start)}
		copy(v.Items, p.items[start:])
		clear(p.items[start:])
		p.items = p.items[:start]
		return v, nil
	}
	return Value{}, fmt.Errorf("unexpected JSON token %v", tok.Kind())
}

// name reads an object member name, sharing one string per distinct name.
func (p *parser) name() (string, error) {
	raw, err := p.dec.ReadValue()
	if err != nil {
		return "", err
	}
	if len(raw) >= 2 && bytes.IndexByte(raw, '\\') < 0 {
		inner := raw[1 : len(raw)-1]
		if s, ok := p.names[string(inner)]; ok {
			return s, nil
		}
		s := string(inner)
		if p.names == nil {
			p.names = make(map[string]string, 32)
		}
		p.names[s] = s
		return s, nil
	}
	return unquote(raw)
}

// unquote returns the string a valid JSON string literal denotes.
func unquote(raw jsontext.Value) (string, error) {
	if len(raw) >= 2 && bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	b, err := jsontext.AppendUnquote(nil, raw)
	return string(b), err
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
