package index

import (
	"strconv"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/fhirpath"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
)

// Token is one row of a token parameter
// (https://hl7.org/fhir/R4/search.html#token). The four hashes are the
// keys of the four ways to name a token — Blaze's code, system|code, |code
// and system| variants, HAPI's HASH_VALUE, HASH_SYS_AND_VALUE, HASH_SYS —
// so every token search is an equality lookup on one indexed integer.
// "|code" (a code without a system) is SystemCode with System "".
type Token struct {
	Param  string
	System string
	Code   string
	// Text is the human text that :text searches
	// (CodeableConcept.text, Coding.display, Identifier.type.text), as
	// written; the store folds it with search.NormalizeString.
	Text string
	// TypeSystem and TypeCode are an Identifier's type, for :of-type.
	TypeSystem, TypeCode string

	CodeHash       int64 // TokenCodeHash(Param, Code)
	SystemCodeHash int64 // TokenSystemCodeHash(Param, System, Code)
	SystemHash     int64 // TokenSystemHash(Param, System)
	OfTypeHash     int64 // TokenOfTypeHash(…) for a typed Identifier, else 0
}

func newToken(param, system, code, text string) Token {
	return Token{
		Param: param, System: system, Code: code, Text: text,
		CodeHash:       TokenCodeHash(param, code),
		SystemCodeHash: TokenSystemCodeHash(param, system, code),
		SystemHash:     TokenSystemHash(param, system),
	}
}

// appendTokens indexes one value of a token parameter. Coding,
// CodeableConcept, Identifier, ContactPoint, boolean and the string-like
// primitives (code, id, string, uri …) are tokens; other types give no row.
func appendTokens(out []Token, s *spec.Spec, param string, it fhirpath.Item) []Token {
	switch v := it.(type) {
	case fhirpath.String:
		if v != "" {
			out = append(out, newToken(param, "", string(v), ""))
		}
		return out
	case fhirpath.Boolean:
		return append(out, newToken(param, "", boolText(bool(v)), ""))
	case fhirpath.Integer, fhirpath.Decimal:
		return append(out, newToken(param, "", itemString(v), ""))
	}
	n, ok := it.(*fhirpath.Node)
	if !ok || n.Value() == nil {
		return out
	}
	val := n.Value()
	switch n.TypeName() {
	case "Coding":
		return appendCoding(out, param, val)
	case "CodeableConcept":
		for i := range codings(val) {
			out = appendCoding(out, param, &codings(val)[i])
		}
		if t := val.Str("text"); t != "" {
			out = append(out, newToken(param, "", "", t))
		}
		return out
	case "Identifier":
		return appendIdentifier(out, param, val)
	case "ContactPoint":
		// HAPI's reading: the ContactPoint's system (phone, email …) is
		// the token's system, its value the code; "telecom=555-1234"
		// matches whatever the system.
		if c := val.Str("value"); c != "" {
			out = append(out, newToken(param, val.Str("system"), c, ""))
		}
		return out
	case "boolean":
		if val.Kind == fhir.Bool {
			return append(out, newToken(param, "", boolText(val.Bool), ""))
		}
		return out
	case "code":
		if val.Kind == fhir.String && val.Text != "" {
			return append(out, newToken(param, codeSystem(s, n), val.Text, ""))
		}
		return out
	}
	if val.Kind == fhir.String && val.Text != "" {
		// id, string, uri, canonical … indexed as a code without system.
		return append(out, newToken(param, "", val.Text, ""))
	}
	if val.Kind == fhir.Number {
		return append(out, newToken(param, "", val.Text, ""))
	}
	return out
}

func appendCoding(out []Token, param string, c *fhir.Value) []Token {
	code, sys, disp := c.Str("code"), c.Str("system"), c.Str("display")
	if code == "" && sys == "" && disp == "" {
		return out
	}
	return append(out, newToken(param, sys, code, disp))
}

func codings(cc *fhir.Value) []fhir.Value {
	if c, ok := cc.Get("coding"); ok && c.Kind == fhir.Array {
		return c.Items
	}
	return nil
}

// appendIdentifier indexes system|value, with the identifier's type for
// :of-type (one row per type coding, so each can be matched).
func appendIdentifier(out []Token, param string, id *fhir.Value) []Token {
	value, sys := id.Str("value"), id.Str("system")
	if value == "" && sys == "" {
		return out
	}
	t := newToken(param, sys, value, "")
	typ, _ := id.Get("type")
	if typ == nil || typ.Kind != fhir.Object {
		return append(out, t)
	}
	t.Text = typ.Str("text")
	cs := codings(typ)
	if len(cs) == 0 {
		return append(out, t)
	}
	for i := range cs {
		tt := t
		tt.TypeSystem, tt.TypeCode = cs[i].Str("system"), cs[i].Str("code")
		if tt.TypeCode != "" && value != "" {
			tt.OfTypeHash = TokenOfTypeHash(param, tt.TypeSystem, tt.TypeCode, value)
		}
		out = append(out, tt)
	}
	return out
}

// codeSystem gives a code element its implicit system when its required
// binding draws from exactly one code system (Patient.gender →
// http://hl7.org/fhir/administrative-gender), so that
// "gender=http://hl7.org/fhir/administrative-gender|male" matches as well
// as "gender=male" (https://hl7.org/fhir/R4/search.html#token).
func codeSystem(s *spec.Spec, n *fhirpath.Node) string {
	el := n.Element()
	if s == nil || el == nil || el.Binding == nil || el.Binding.Strength != "required" {
		return ""
	}
	vs := s.ValueSet(el.Binding.ValueSet)
	if vs == nil {
		return ""
	}
	if sys := vs.Systems(); len(sys) == 1 {
		return sys[0]
	}
	return ""
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// itemString renders a System value as FHIR writes it.
func itemString(it fhirpath.Item) string {
	switch v := it.(type) {
	case fhirpath.String:
		return string(v)
	case fhirpath.Boolean:
		return boolText(bool(v))
	case fhirpath.Integer:
		return strconv.FormatInt(int64(v), 10)
	case fhirpath.Decimal:
		return v.String()
	case fhirpath.DateTime:
		return v.String()
	}
	return ""
}
