package search

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Name renders the filter's parameter name in canonical form: code,
// modifiers, chain and _has, as in subject:Patient.name:exact.
func (f *Filter) Name() string {
	var b strings.Builder
	f.writeName(&b)
	return b.String()
}

func (f *Filter) writeName(b *strings.Builder) {
	if f.Has != nil {
		b.WriteString(ParamHas + ":" + f.Has.Type + ":" + f.Has.Param.Code + ":")
		f.Has.Filter.writeName(b)
		return
	}
	b.WriteString(f.Param.Code)
	switch {
	case f.TargetType != "":
		b.WriteString(":" + f.TargetType)
	case f.Modifier != "":
		b.WriteString(":" + f.Modifier)
	case f.Missing != nil:
		b.WriteString(":" + ModMissing)
	}
	if len(f.Chain) > 0 {
		b.WriteByte('.')
		f.Chain[0].Filter.writeName(b)
	}
}

// Value renders the filter's value in FHIR syntax, alternatives joined by
// commas (the value of the innermost filter of a chain or _has).
func (f *Filter) Value() string {
	for {
		switch {
		case f.Has != nil:
			f = f.Has.Filter
		case len(f.Chain) > 0:
			f = f.Chain[0].Filter
		case f.Missing != nil:
			return strconv.FormatBool(*f.Missing)
		default:
			parts := make([]string, len(f.Values))
			for i, v := range f.Values {
				parts[i] = v.String()
			}
			return strings.Join(parts, ",")
		}
	}
}

func (f *Filter) String() string { return f.Name() + "=" + f.Value() }

// String renders the query in a canonical form relative to the FHIR base:
// the path (Type, Compartment/id/Type, or "" for a system search), "?" and
// QueryString.
func (q *Query) String() string {
	path := q.Type
	if c := q.Compartment; c != nil {
		path = c.Type + "/" + c.ID + "/" + path
	}
	return path + "?" + q.QueryString()
}

// QueryString renders the parameters in a canonical form: the filters
// sorted, then the result parameters in a fixed order, _count always
// included. Two requests that mean the same search render the same, so the
// form serves as a cache key and in paging links, and it states the
// parameters actually used (https://hl7.org/fhir/R4/search.html#conformance:
// the self link).
func (q *Query) QueryString() string {
	var params []string
	add := func(name, value string) { params = append(params, queryEscape(name)+"="+queryEscape(value)) }
	if len(q.Types) > 0 {
		add(ParamType, strings.Join(q.Types, ","))
	}
	filters := make([]string, len(q.Filters))
	for i, f := range q.Filters {
		filters[i] = queryEscape(f.Name()) + "=" + queryEscape(f.Value())
	}
	slices.Sort(filters)
	params = append(params, filters...)
	if len(q.Sort) > 0 {
		keys := make([]string, len(q.Sort))
		for i, k := range q.Sort {
			keys[i] = k.String()
		}
		add(ParamSort, strings.Join(keys, ","))
	}
	add(ParamCount, strconv.Itoa(q.Count))
	if q.Total != "" {
		add(ParamTotal, q.Total)
	}
	if q.Summary != "" {
		add(ParamSummary, q.Summary)
	}
	if len(q.Elements) > 0 {
		els := slices.Clone(q.Elements)
		slices.Sort(els)
		add(ParamElements, strings.Join(els, ","))
	}
	for _, in := range sortedIncludes(q.Include) {
		add(includeName(ParamInclude, in), in.String())
	}
	for _, in := range sortedIncludes(q.RevInclude) {
		add(includeName(ParamRevInclude, in), in.String())
	}
	if q.Contained != "" {
		add(ParamContained, q.Contained)
	}
	if q.ContainedIn != "" {
		add(ParamContainedType, q.ContainedIn)
	}
	return strings.Join(params, "&")
}

func includeName(base string, in Include) string {
	if in.Iterate {
		return base + ":iterate"
	}
	return base
}

func sortedIncludes(ins []Include) []Include {
	out := slices.Clone(ins)
	slices.SortFunc(out, func(a, b Include) int {
		return cmp.Or(cmp.Compare(includeName("", a), includeName("", b)), cmp.Compare(a.String(), b.String()))
	})
	return out
}

// queryEscape percent-encodes what would change the meaning of a query
// string (&, =, +, #, %, ;, space, controls and non-ASCII) and leaves the
// FHIR punctuation (| , $ : / .) readable.
func queryEscape(s string) string {
	const hex = "0123456789ABCDEF"
	need := false
	for i := 0; i < len(s); i++ {
		if mustEscape(s[i]) {
			need = true
			break
		}
	}
	if !need {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if mustEscape(c) {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func mustEscape(c byte) bool {
	return c <= ' ' || c >= 0x7f || strings.IndexByte("&=+#%;", c) >= 0
}
