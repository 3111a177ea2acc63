package auth

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/search"
)

// SMART App Launch 2.2 scopes:
// https://hl7.org/fhir/smart-app-launch/STU2.2/scopes-and-launch-context.html

// Context is the first part of a resource scope: whose data it reaches
// (https://hl7.org/fhir/smart-app-launch/STU2.2/scopes-and-launch-context.html#scopes-for-requesting-fhir-resources).
type Context uint8

// Contexts. The zero value is no context (a scope that is not a resource
// scope).
const (
	NoContext      Context = iota
	PatientContext         // patient/: the data of the patient in context
	UserContext            // user/: the data the user may see
	SystemContext          // system/: the data the client is authorized for
)

func (c Context) String() string {
	switch c {
	case PatientContext:
		return "patient"
	case UserContext:
		return "user"
	case SystemContext:
		return "system"
	}
	return ""
}

// Permission is a set of SMART v2 permission letters: c r u d s.
type Permission uint8

// The permissions, in the order SMART requires them to be written.
const (
	Create Permission = 1 << iota // c: type-level create
	Read                          // r: read, vread, instance history
	Update                        // u: update, patch (and update-as-create)
	Delete                        // d: delete
	Search                        // s: type and system search, type and system history

	// AllPermissions is .cruds (v1 .*).
	AllPermissions = Create | Read | Update | Delete | Search
)

const permLetters = "cruds"

// String renders the permissions as letters in the canonical order, "" for
// none.
func (p Permission) String() string {
	var b strings.Builder
	for i := range len(permLetters) {
		if p&(1<<i) != 0 {
			b.WriteByte(permLetters[i])
		}
	}
	return b.String()
}

// Has reports whether p includes every permission of q.
func (p Permission) Has(q Permission) bool { return q != 0 && p&q == q }

// ScopeKind says what a scope asks for.
type ScopeKind uint8

// Scope kinds.
const (
	ResourceScope      ScopeKind = iota + 1 // patient/Observation.rs, user/*.cruds, system/*.read
	OpenIDScope                             // openid
	FHIRUserScope                           // fhirUser
	ProfileScope                            // profile (OIDC; kept for SMART v1 clients)
	LaunchScope                             // launch: EHR launch, context from the launch id
	LaunchContextScope                      // launch/patient, launch/encounter, launch/Type?role=…
	OfflineAccessScope                      // offline_access: a refresh token that outlives the session
	OnlineAccessScope                       // online_access: a refresh token bound to the session
)

// Param is one name=value of a v2 scope's search constraint.
type Param struct{ Name, Value string }

// Scope is one parsed scope.
type Scope struct {
	Kind ScopeKind
	// Resource scopes.
	Context Context
	Type    string // a resource type, or "*"
	Perms   Permission
	// V1 records that the scope was written in SMART v1 syntax (.read,
	// .write, .*), so that a server can grant back what was asked in the
	// form it was asked (SHOULD, "return v1 scopes when v1 scopes are
	// requested and granted").
	V1 bool
	// Params are a v2 scope's search constraint
	// (patient/Observation.rs?category=…|laboratory), in written order. A
	// resource matches when it matches all of them.
	Params []Param
	// Launch context scopes: launch/patient has LaunchType "patient";
	// launch/ImagingStudy?role=… has LaunchType "ImagingStudy" and Role.
	LaunchType string
	Role       string
}

// String renders the scope canonically: v1 scopes as v1, v2 permissions in
// cruds order, parameters as written.
func (s Scope) String() string {
	switch s.Kind {
	case ResourceScope:
		var b strings.Builder
		b.WriteString(s.Context.String())
		b.WriteByte('/')
		b.WriteString(s.Type)
		b.WriteByte('.')
		if s.V1 {
			switch s.Perms {
			case Read | Search:
				b.WriteString("read")
			case Create | Update | Delete:
				b.WriteString("write")
			default:
				b.WriteString("*")
			}
		} else {
			b.WriteString(s.Perms.String())
		}
		for i, p := range s.Params {
			if i == 0 {
				b.WriteByte('?')
			} else {
				b.WriteByte('&')
			}
			b.WriteString(p.Name)
			b.WriteByte('=')
			b.WriteString(escapeValue(p.Value))
		}
		return b.String()
	case OpenIDScope:
		return "openid"
	case FHIRUserScope:
		return "fhirUser"
	case ProfileScope:
		return "profile"
	case LaunchScope:
		return "launch"
	case LaunchContextScope:
		if s.Role != "" {
			return "launch/" + s.LaunchType + "?role=" + s.Role
		}
		return "launch/" + s.LaunchType
	case OfflineAccessScope:
		return "offline_access"
	case OnlineAccessScope:
		return "online_access"
	}
	return ""
}

// ScopeError reports a scope that cannot be granted, and why.
type ScopeError struct {
	Scope  string
	Reason string
	// Unknown marks a well-formed scope this server does not know (email,
	// smart/orchestrate_launch, a vendor's scope). An authorization server
	// may drop those and grant the rest, as OAuth allows (RFC 6749 §3.3);
	// malformed scopes are errors.
	Unknown bool
}

func (e *ScopeError) Error() string { return fmt.Sprintf("scope %q: %s", e.Scope, e.Reason) }

// OnlyUnknown reports whether err, from ParseScope or ParseScopes, is nil or
// holds only unknown scopes: the request may then proceed without them.
// Any malformed scope, or an error of another kind, makes it false.
func OnlyUnknown(err error) bool {
	if err == nil {
		return true
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !OnlyUnknown(e) {
				return false
			}
		}
		return true
	}
	se, ok := err.(*ScopeError)
	return ok && se.Unknown
}

// resultParam reports parameters that do not select resources, so they
// cannot narrow access: a scope carrying one is malformed rather than
// silently broader than it reads
// (https://hl7.org/fhir/R4/search.html#Summary).
func resultParam(name string) bool {
	switch name {
	case "_count", "_sort", "_include", "_revinclude", "_summary", "_elements",
		"_total", "_contained", "_containedType", "_format", "_pretty", "_type":
		return true
	}
	return false
}

// MaxScopeLen bounds one scope. Access tokens travel in headers, so SMART
// asks servers to keep them small
// (https://hl7.org/fhir/smart-app-launch/STU2.2/scopes-and-launch-context.html#scope-size-over-the-wire).
const MaxScopeLen = 1024

// ParseScope parses one scope token.
func ParseScope(s string) (Scope, error) {
	bad := func(format string, args ...any) (Scope, error) {
		return Scope{}, &ScopeError{Scope: s, Reason: fmt.Sprintf(format, args...)}
	}
	if s == "" {
		return bad("empty scope")
	}
	if len(s) > MaxScopeLen {
		return bad("longer than %d bytes", MaxScopeLen)
	}
	// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return bad("character %q at byte %d is not allowed in a scope (RFC 6749 §3.3)", c, i)
		}
	}
	switch s {
	case "openid":
		return Scope{Kind: OpenIDScope}, nil
	case "fhirUser":
		return Scope{Kind: FHIRUserScope}, nil
	case "profile":
		return Scope{Kind: ProfileScope}, nil
	case "launch":
		return Scope{Kind: LaunchScope}, nil
	case "offline_access":
		return Scope{Kind: OfflineAccessScope}, nil
	case "online_access":
		return Scope{Kind: OnlineAccessScope}, nil
	}
	prefix, rest, ok := strings.Cut(s, "/")
	if !ok {
		return Scope{}, &ScopeError{Scope: s, Reason: "not a scope this server knows", Unknown: true}
	}
	var ctx Context
	switch prefix {
	case "patient":
		ctx = PatientContext
	case "user":
		ctx = UserContext
	case "system":
		ctx = SystemContext
	case "launch":
		return parseLaunch(s, rest)
	default:
		return Scope{}, &ScopeError{Scope: s, Reason: "not a scope this server knows", Unknown: true}
	}
	res, query, hasQuery := strings.Cut(rest, "?")
	dot := strings.LastIndexByte(res, '.')
	if dot < 0 {
		return bad("want %s/<Type or *>.<permissions>, no '.' before the permissions", prefix)
	}
	typ, perm := res[:dot], res[dot+1:]
	if typ != "*" {
		if err := checkResourceType(typ); err != "" {
			return bad("%s", err)
		}
	}
	sc := Scope{Kind: ResourceScope, Context: ctx, Type: typ}
	switch perm {
	case "read":
		sc.Perms, sc.V1 = Read|Search, true
	case "write":
		sc.Perms, sc.V1 = Create|Update|Delete, true
	case "*":
		sc.Perms, sc.V1 = AllPermissions, true
	case "":
		return bad("no permissions after '.'; want letters of cruds, or v1 read, write or *")
	default:
		last := -1
		for i := 0; i < len(perm); i++ {
			j := strings.IndexByte(permLetters, perm[i])
			if j < 0 {
				return bad("permission %q is not one of c r u d s (or v1 read, write, *)", perm[i])
			}
			if j <= last {
				return bad("permissions %q must be written once each, in the order c r u d s", perm)
			}
			last = j
			sc.Perms |= 1 << j
		}
	}
	if hasQuery {
		if sc.V1 {
			return bad("SMART v1 permissions (%s) take no search parameters; use v2 letters", perm)
		}
		if query == "" {
			return bad("'?' without search parameters")
		}
		for part := range strings.SplitSeq(query, "&") {
			name, value, ok := strings.Cut(part, "=")
			if !ok || name == "" || value == "" {
				return bad("search constraint %q is not name=value", part)
			}
			if !validParamName(name) {
				return bad("%q is not a search parameter name", name)
			}
			if resultParam(name) {
				return bad("%s controls results, it cannot narrow access", name)
			}
			v, err := url.PathUnescape(value)
			if err != nil {
				return bad("search constraint %s: bad percent-encoding", name)
			}
			sc.Params = append(sc.Params, Param{Name: name, Value: v})
		}
	}
	return sc, nil
}

// escapeValue percent-encodes what ParseScope decodes and a scope token
// cannot hold, so that String parses back to the same scope.
func escapeValue(v string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' || c == '%' || c == '&' {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// parseLaunch parses launch/patient, launch/encounter and the launch/Type
// and launch/Type?role=… forms of SMART 2.1+
// (https://hl7.org/fhir/smart-app-launch/STU2.2/scopes-and-launch-context.html#scopes-for-requesting-context-data).
func parseLaunch(s, rest string) (Scope, error) {
	bad := func(format string, args ...any) (Scope, error) {
		return Scope{}, &ScopeError{Scope: s, Reason: fmt.Sprintf(format, args...)}
	}
	typ, query, hasQuery := strings.Cut(rest, "?")
	sc := Scope{Kind: LaunchContextScope, LaunchType: typ}
	switch typ {
	case "patient", "encounter":
		if hasQuery {
			return bad("launch/%s takes no parameters", typ)
		}
		return sc, nil
	case "":
		return bad("launch/ without a context type")
	}
	if err := checkResourceType(typ); err != "" {
		return bad("%s", err)
	}
	if hasQuery {
		role, ok := strings.CutPrefix(query, "role=")
		if !ok || role == "" || strings.ContainsAny(role, "&=") {
			return bad("launch context parameters must be a single non-empty role=<role>")
		}
		sc.Role = role
	}
	return sc, nil
}

// checkResourceType returns why typ is not a concrete R4 resource type, or "".
func checkResourceType(typ string) string {
	if typ == "" {
		return "no resource type"
	}
	if t := spec.R4().Resource(typ); t == nil || t.Abstract {
		return fmt.Sprintf("%q is not an R4 resource type", typ)
	}
	return ""
}

// validParamName accepts a search parameter code with an optional
// :modifier (code:in, subject:Patient), the grammar search.Parse reads.
func validParamName(name string) bool {
	code, mod, hasMod := strings.Cut(name, ":")
	if hasMod && (mod == "" || strings.Contains(mod, ":")) {
		return false
	}
	for _, part := range []string{code, mod} {
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				return false
			}
		}
	}
	return code != ""
}

// Scopes is a granted set of scopes. The zero value grants nothing.
type Scopes struct{ list []Scope }

// ParseScopes parses a space-separated scope string (the OAuth scope
// parameter). It returns the scopes it could parse and, if any could not,
// an error joining one *ScopeError per bad scope, so that an authorization
// server can drop unknown scopes (OnlyUnknown) and refuse malformed ones. Duplicates are kept once.
func ParseScopes(s string) (Scopes, error) {
	var out Scopes
	var errs []error
	for tok := range strings.FieldsSeq(s) {
		sc, err := ParseScope(tok)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = out.With(sc)
	}
	return out, errors.Join(errs...)
}

// NewScopes builds a set from parsed scopes.
func NewScopes(list ...Scope) Scopes {
	var out Scopes
	for _, s := range list {
		out = out.With(s)
	}
	return out
}

// With returns the set with s added (a set never changes in place: a
// Principal's scopes may be shared between goroutines).
func (ss Scopes) With(s Scope) Scopes {
	str := s.String()
	for _, have := range ss.list {
		if have.String() == str {
			return ss
		}
	}
	return Scopes{list: append(slices.Clip(ss.list), s)}
}

// List returns the scopes in grant order.
func (ss Scopes) List() []Scope { return slices.Clone(ss.list) }

// String renders the set as the OAuth scope parameter.
func (ss Scopes) String() string {
	parts := make([]string, len(ss.list))
	for i, s := range ss.list {
		parts[i] = s.String()
	}
	return strings.Join(parts, " ")
}

// Has reports whether the set holds a scope of kind k (openid, fhirUser,
// launch, offline_access, …).
func (ss Scopes) Has(k ScopeKind) bool {
	return slices.ContainsFunc(ss.list, func(s Scope) bool { return s.Kind == k })
}

// HasContext reports whether any resource scope is of context c; a set
// with patient/ scopes needs a patient in context to be usable.
func (ss Scopes) HasContext(c Context) bool {
	return slices.ContainsFunc(ss.list, func(s Scope) bool { return s.Kind == ResourceScope && s.Context == c })
}

// Constraint is the search constraint of one v2 scope: resources must
// match all of Params. It names the scope it came from for audit and
// error messages.
type Constraint struct {
	Scope  string
	Params []Param
}

// Allows reports whether the scopes of context ctx grant perm (every
// letter of it, from one scope) on resourceType.
//
// When it does, constraints lists the alternatives that bound the grant: a
// resource is covered when it matches the Params of at least one
// Constraint. An empty list means no bound. Several scopes may grant the
// same thing (patient/Observation.rs?category=laboratory and
// patient/Observation.rs?category=vital-signs); any one unconstrained scope
// makes the grant unconstrained. The caller must AND the alternatives into
// the query before it runs (see AsQuery) and never filter results
// afterwards, so that totals and paging stay those of the permitted subset.
func (ss Scopes) Allows(ctx Context, resourceType string, perm Permission) (ok bool, constraints []Constraint) {
	for _, s := range ss.list {
		if s.Kind != ResourceScope || s.Context != ctx || !s.Perms.Has(perm) {
			continue
		}
		if s.Type != "*" && s.Type != resourceType {
			continue
		}
		if len(s.Params) == 0 {
			return true, nil
		}
		ok = true
		constraints = append(constraints, Constraint{Scope: s.String(), Params: slices.Clone(s.Params)})
	}
	return ok, constraints
}

// AsQuery turns alternative constraints into search parameters to AND into
// a query, when the search grammar can express their OR: one alternative
// becomes its parameters; several alternatives that each constrain only the
// same parameter become one comma-separated list
// (https://hl7.org/fhir/R4/search.html#combining). ok is false when the
// alternatives need an OR the grammar lacks (category=a OR code=b); the
// caller must then run each alternative or refuse, never widen.
func AsQuery(alts []Constraint) (q url.Values, ok bool) {
	q = url.Values{}
	switch {
	case len(alts) == 0:
		return q, true
	case len(alts) == 1:
		for _, p := range alts[0].Params {
			q.Add(p.Name, p.Value)
		}
		return q, true
	}
	name := ""
	var values []string
	for _, a := range alts {
		if len(a.Params) != 1 || (name != "" && a.Params[0].Name != name) {
			return nil, false
		}
		name = a.Params[0].Name
		values = append(values, a.Params[0].Value)
	}
	q.Set(name, strings.Join(values, ","))
	return q, true
}

// Filters parses constraint c on resourceType into search filters with reg,
// strictly: a scope constraint the server cannot evaluate is an error, never
// ignored, since ignoring it would widen access.
func (c Constraint) Filters(reg *search.Registry, resourceType string) ([]*search.Filter, error) {
	q := url.Values{}
	for _, p := range c.Params {
		q.Add(p.Name, p.Value)
	}
	parsed, err := reg.Parse(resourceType, q, search.Options{Strict: true})
	if err != nil {
		return nil, fmt.Errorf("scope %s on %s: %w", c.Scope, resourceType, err)
	}
	return parsed.Filters, nil
}

// Covers reports whether scope s grants at least everything t asks for: the
// same kind and context, the same type or *, every permission letter of t,
// and no search constraint that t lacks (a scope with more constraints is
// narrower). The authorization server uses it to grant requested scopes
// against a client's registered ones.
func (s Scope) Covers(t Scope) bool {
	if s.Kind != t.Kind {
		return false
	}
	switch s.Kind {
	case ResourceScope:
		if s.Context != t.Context || (s.Type != "*" && s.Type != t.Type) || !s.Perms.Has(t.Perms) {
			return false
		}
		for _, p := range s.Params {
			if !slices.Contains(t.Params, p) {
				return false
			}
		}
		return true
	case LaunchContextScope:
		return s.LaunchType == t.LaunchType && (s.Role == "" || s.Role == t.Role)
	}
	return true
}

// Grant splits requested into the scopes that some scope of allowed covers
// and those it does not, each in requested order. Granted scopes keep the
// form they were requested in (SMART: return v1 scopes when v1 scopes are
// requested and granted).
func (ss Scopes) Grant(requested Scopes) (granted, refused Scopes) {
	for _, r := range requested.list {
		if slices.ContainsFunc(ss.list, func(a Scope) bool { return a.Covers(r) }) {
			granted = granted.With(r)
		} else {
			refused = refused.With(r)
		}
	}
	return granted, refused
}
