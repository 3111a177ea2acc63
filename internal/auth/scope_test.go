package auth

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/search"
)

const labCategory = "http://terminology.hl7.org/CodeSystem/observation-category|laboratory"

func TestParseScopeValid(t *testing.T) {
	tests := []struct {
		in   string
		want Scope
		str  string // canonical form; "" means the input
	}{
		{"patient/*.read", Scope{Kind: ResourceScope, Context: PatientContext, Type: "*", Perms: Read | Search, V1: true}, ""},
		{"user/Observation.write", Scope{Kind: ResourceScope, Context: UserContext, Type: "Observation", Perms: Create | Update | Delete, V1: true}, ""},
		{"system/*.*", Scope{Kind: ResourceScope, Context: SystemContext, Type: "*", Perms: AllPermissions, V1: true}, ""},
		{"patient/Observation.rs", Scope{Kind: ResourceScope, Context: PatientContext, Type: "Observation", Perms: Read | Search}, ""},
		{"user/*.cruds", Scope{Kind: ResourceScope, Context: UserContext, Type: "*", Perms: AllPermissions}, ""},
		{"system/Patient.c", Scope{Kind: ResourceScope, Context: SystemContext, Type: "Patient", Perms: Create}, ""},
		{"user/Encounter.ud", Scope{Kind: ResourceScope, Context: UserContext, Type: "Encounter", Perms: Update | Delete}, ""},
		{"patient/Observation.rs?category=" + labCategory, Scope{Kind: ResourceScope, Context: PatientContext,
			Type: "Observation", Perms: Read | Search, Params: []Param{{"category", labCategory}}}, ""},
		{"patient/Observation.rs?category=laboratory&code=http://loinc.org|1234-5", Scope{Kind: ResourceScope,
			Context: PatientContext, Type: "Observation", Perms: Read | Search,
			Params: []Param{{"category", "laboratory"}, {"code", "http://loinc.org|1234-5"}}}, ""},
		{"user/Condition.rs?code:in=http://example.org/vs", Scope{Kind: ResourceScope, Context: UserContext,
			Type: "Condition", Perms: Read | Search, Params: []Param{{"code:in", "http://example.org/vs"}}}, ""},
		{"patient/Observation.rs?category=a%7Cb", Scope{Kind: ResourceScope, Context: PatientContext,
			Type: "Observation", Perms: Read | Search, Params: []Param{{"category", "a|b"}}}, "patient/Observation.rs?category=a|b"},
		{"openid", Scope{Kind: OpenIDScope}, ""},
		{"fhirUser", Scope{Kind: FHIRUserScope}, ""},
		{"profile", Scope{Kind: ProfileScope}, ""},
		{"launch", Scope{Kind: LaunchScope}, ""},
		{"launch/patient", Scope{Kind: LaunchContextScope, LaunchType: "patient"}, ""},
		{"launch/encounter", Scope{Kind: LaunchContextScope, LaunchType: "encounter"}, ""},
		{"launch/ImagingStudy", Scope{Kind: LaunchContextScope, LaunchType: "ImagingStudy"}, ""},
		{"launch/Patient?role=https://example.org/referral", Scope{Kind: LaunchContextScope, LaunchType: "Patient", Role: "https://example.org/referral"}, ""},
		{"offline_access", Scope{Kind: OfflineAccessScope}, ""},
		{"online_access", Scope{Kind: OnlineAccessScope}, ""},
	}
	for _, tt := range tests {
		got, err := ParseScope(tt.in)
		if err != nil {
			t.Errorf("ParseScope(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseScope(%q) =\n  %+v\nwant\n  %+v", tt.in, got, tt.want)
		}
		want := tt.str
		if want == "" {
			want = tt.in
		}
		if s := got.String(); s != want {
			t.Errorf("ParseScope(%q).String() = %q, want %q", tt.in, s, want)
		}
	}
}

func TestParseScopeInvalid(t *testing.T) {
	tests := []struct {
		in      string
		reason  string // substring of the error
		unknown bool
	}{
		{"", "empty", false},
		{"patient/Observation", "no '.'", false},
		{"patient/Observation.", "no permissions", false},
		{"patient/Observation.sr", "in the order c r u d s", false},
		{"patient/Observation.rr", "in the order c r u d s", false},
		{"patient/Observation.rx", `'x'`, false},
		{"patient/Observation.Read", `'R'`, false},
		{"patient/Observatio.rs", "not an R4 resource type", false},
		{"patient/observation.rs", "not an R4 resource type", false},
		{"patient/Resource.rs", "not an R4 resource type", false},
		{"patient/.rs", "no resource type", false},
		{"patient/Observation.read?category=laboratory", "v1 permissions", false},
		{"patient/Observation.rs?", "without search parameters", false},
		{"patient/Observation.rs?category", "not name=value", false},
		{"patient/Observation.rs?category=", "not name=value", false},
		{"patient/Observation.rs?=x", "not name=value", false},
		{"patient/Observation.rs?_count=1", "controls results", false},
		{"patient/Observation.rs?_include=Observation:subject", "controls results", false},
		{"patient/Observation.rs?a$b=1", "not a search parameter name", false},
		{"patient/Observation.rs?code:=1", "not a search parameter name", false},
		{"patient/Observation.rs?category=%zz", "percent-encoding", false},
		{"patient/Observation.rs\x00", "not allowed", false},
		{`patient/Observation.rs?category="x"`, "not allowed", false},
		{"patient/Obsérvation.rs", "not allowed", false},
		{"launch/", "without a context type", false},
		{"launch/patient?role=x", "takes no parameters", false},
		{"launch/Foo", "not an R4 resource type", false},
		{"launch/Patient?role=", "role=<role>", false},
		{"launch/Patient?x=y", "role=<role>", false},
		{"patient/" + strings.Repeat("A", MaxScopeLen), "longer than", false},
		{"email", "not a scope this server knows", true},
		{"smart/orchestrate_launch", "not a scope this server knows", true},
		{"Patient/*.read", "not a scope this server knows", true},
	}
	for _, tt := range tests {
		_, err := ParseScope(tt.in)
		if err == nil {
			t.Errorf("ParseScope(%q) succeeded, want an error containing %q", tt.in, tt.reason)
			continue
		}
		var se *ScopeError
		if !errors.As(err, &se) {
			t.Errorf("ParseScope(%q): error %T is not a *ScopeError", tt.in, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("ParseScope(%q) error %q does not contain %q", tt.in, err, tt.reason)
		}
		if se.Unknown != tt.unknown || OnlyUnknown(err) != tt.unknown {
			t.Errorf("ParseScope(%q): unknown = %v, want %v", tt.in, se.Unknown, tt.unknown)
		}
	}
}

// TestV1Equivalence checks SMART's rule that v1 .read is v2 .rs, .write is
// .cud and .* is .cruds, for what Allows grants.
func TestV1Equivalence(t *testing.T) {
	pairs := [][2]string{
		{"patient/Observation.read", "patient/Observation.rs"},
		{"user/*.write", "user/*.cud"},
		{"system/Patient.*", "system/Patient.cruds"},
	}
	for _, pr := range pairs {
		v1, err1 := ParseScopes(pr[0])
		v2, err2 := ParseScopes(pr[1])
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		for _, ctx := range []Context{PatientContext, UserContext, SystemContext} {
			for _, typ := range []string{"Observation", "Patient"} {
				for perm := Permission(1); perm <= AllPermissions; perm <<= 1 {
					a, _ := v1.Allows(ctx, typ, perm)
					b, _ := v2.Allows(ctx, typ, perm)
					if a != b {
						t.Errorf("%s allows %s %s on %s: %v; %s: %v", pr[0], ctx, perm, typ, a, pr[1], b)
					}
				}
			}
		}
	}
}

func TestParseScopes(t *testing.T) {
	ss, err := ParseScopes("openid fhirUser  launch/patient patient/*.rs email patient/Observation.sr patient/*.rs")
	if got, want := ss.String(), "openid fhirUser launch/patient patient/*.rs"; got != want {
		t.Errorf("scopes = %q, want %q", got, want)
	}
	if err == nil {
		t.Fatal("no error for email and a malformed scope")
	}
	if !strings.Contains(err.Error(), `"email"`) || !strings.Contains(err.Error(), `"patient/Observation.sr"`) {
		t.Errorf("error %q does not name both bad scopes", err)
	}
	if OnlyUnknown(err) {
		t.Error("OnlyUnknown is true with a malformed scope among the errors")
	}
	if _, err := ParseScopes("openid email vendor/x"); err == nil || !OnlyUnknown(err) {
		t.Errorf("OnlyUnknown(%v) is false for unknown scopes alone", err)
	}
	if !OnlyUnknown(nil) || OnlyUnknown(errors.New("other")) {
		t.Error("OnlyUnknown is wrong for nil or a foreign error")
	}
	if !ss.Has(OpenIDScope) || !ss.Has(LaunchContextScope) || ss.Has(OfflineAccessScope) {
		t.Errorf("Has is wrong for %q", ss)
	}
	if !ss.HasContext(PatientContext) || ss.HasContext(UserContext) {
		t.Errorf("HasContext is wrong for %q", ss)
	}
	var zero Scopes
	if ok, _ := zero.Allows(SystemContext, "Patient", Read); ok {
		t.Error("the zero Scopes grants something")
	}
}

func TestAllows(t *testing.T) {
	lab := "patient/Observation.rs?category=" + labCategory
	vital := "patient/Observation.rs?category=vital-signs"
	tests := []struct {
		scopes string
		ctx    Context
		typ    string
		perm   Permission
		ok     bool
		cons   []string // the scopes of the constraints
	}{
		{"patient/*.rs", PatientContext, "Observation", Read, true, nil},
		{"patient/*.rs", PatientContext, "Observation", Search, true, nil},
		{"patient/*.rs", PatientContext, "Observation", Create, false, nil},
		{"patient/*.rs", UserContext, "Observation", Read, false, nil},
		{"patient/*.rs", PatientContext, "Observation", Read | Search, true, nil},
		{"patient/Observation.r patient/Observation.s", PatientContext, "Observation", Read | Search, false, nil},
		{"user/Observation.cruds", UserContext, "Condition", Read, false, nil},
		{"user/Observation.cruds", UserContext, "Observation", Delete, true, nil},
		{lab, PatientContext, "Observation", Search, true, []string{lab}},
		{lab, PatientContext, "Observation", Update, false, nil},
		{lab + " " + vital, PatientContext, "Observation", Read, true, []string{lab, vital}},
		{lab + " patient/Observation.rs", PatientContext, "Observation", Read, true, nil},
		{lab + " patient/*.read", PatientContext, "Observation", Read, true, nil},
		{lab, PatientContext, "Condition", Read, false, nil},
	}
	for _, tt := range tests {
		ss, err := ParseScopes(tt.scopes)
		if err != nil {
			t.Fatal(err)
		}
		ok, cons := ss.Allows(tt.ctx, tt.typ, tt.perm)
		var got []string
		for _, c := range cons {
			got = append(got, c.Scope)
		}
		if ok != tt.ok || !reflect.DeepEqual(got, tt.cons) {
			t.Errorf("%q.Allows(%s, %s, %s) = %v %q, want %v %q", tt.scopes, tt.ctx, tt.typ, tt.perm, ok, got, tt.ok, tt.cons)
		}
	}
}

func TestAsQuery(t *testing.T) {
	c := func(params ...string) Constraint {
		var ps []Param
		for i := 0; i < len(params); i += 2 {
			ps = append(ps, Param{params[i], params[i+1]})
		}
		return Constraint{Params: ps}
	}
	tests := []struct {
		alts []Constraint
		want url.Values
		ok   bool
	}{
		{nil, url.Values{}, true},
		{[]Constraint{c("category", "laboratory", "code", "x")}, url.Values{"category": {"laboratory"}, "code": {"x"}}, true},
		{[]Constraint{c("category", "laboratory"), c("category", "vital-signs")}, url.Values{"category": {"laboratory,vital-signs"}}, true},
		{[]Constraint{c("category", "laboratory"), c("code", "x")}, nil, false},
		{[]Constraint{c("category", "laboratory", "code", "x"), c("category", "vital-signs")}, nil, false},
	}
	for _, tt := range tests {
		got, ok := AsQuery(tt.alts)
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("AsQuery(%v) = %v %v, want %v %v", tt.alts, got, ok, tt.want, tt.ok)
		}
	}
}

// TestConstraintFilters checks that a scope's constraint parses into the
// typed filters the store will AND into the query, and that one it cannot
// evaluate is an error rather than ignored.
func TestConstraintFilters(t *testing.T) {
	reg := search.NewRegistry(spec.R4())
	ss, err := ParseScopes("patient/Observation.rs?category=" + labCategory + " patient/*.rs?nonsense=1")
	if err != nil {
		t.Fatal(err)
	}
	_, cons := ss.Allows(PatientContext, "Observation", Search)
	if len(cons) != 2 {
		t.Fatalf("constraints = %v", cons)
	}
	fs, err := cons[0].Filters(reg, "Observation")
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].Param.Code != "category" || len(fs[0].Values) != 1 {
		t.Fatalf("filters = %+v", fs)
	}
	tok, ok := fs[0].Values[0].(search.TokenValue)
	if !ok || tok.System != "http://terminology.hl7.org/CodeSystem/observation-category" || tok.Code != "laboratory" {
		t.Errorf("filter value = %#v", fs[0].Values[0])
	}
	if _, err := cons[1].Filters(reg, "Observation"); err == nil {
		t.Error("an unknown constraint parameter was accepted; it must be an error, not ignored")
	}
}

func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"patient/*.read", "user/Observation.cruds", "patient/Observation.rs?category=" + labCategory,
		"launch/patient", "launch/Patient?role=x", "openid", "system/*.*", "patient/Observation.rs?a=b&c=d", "user/X.r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := ParseScope(s)
		if err != nil {
			var se *ScopeError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *ScopeError", err)
			}
			return
		}
		// A parsed scope renders to a scope that parses to the same thing:
		// what the server grants back is what it understood.
		again, err := ParseScope(sc.String())
		if err != nil {
			t.Fatalf("%q parsed, but its rendering %q does not: %v", s, sc.String(), err)
		}
		if sc.String() != again.String() || sc.Perms != again.Perms || sc.Kind != again.Kind {
			t.Fatalf("%q → %q → %q: not stable", s, sc.String(), again.String())
		}
		if sc.Kind == ResourceScope && (sc.Perms == 0 || sc.Perms&^AllPermissions != 0) {
			t.Fatalf("%q: permissions %b", s, sc.Perms)
		}
	})
}

func TestGrant(t *testing.T) {
	tests := []struct {
		allowed, requested, granted, refused string
	}{
		{"patient/*.rs", "patient/Observation.rs", "patient/Observation.rs", ""},
		{"patient/*.rs", "patient/Observation.read", "patient/Observation.read", ""},
		{"patient/*.read", "patient/Observation.r patient/Observation.c", "patient/Observation.r", "patient/Observation.c"},
		{"patient/*.rs", "user/Observation.rs", "", "user/Observation.rs"},
		{"user/Observation.cruds", "user/*.rs", "", "user/*.rs"},
		{"patient/Observation.rs?category=laboratory", "patient/Observation.rs", "", "patient/Observation.rs"},
		{"patient/Observation.rs?category=laboratory", "patient/Observation.s?category=laboratory&code=x",
			"patient/Observation.s?category=laboratory&code=x", ""},
		{"patient/Observation.rs", "patient/Observation.rs?category=laboratory", "patient/Observation.rs?category=laboratory", ""},
		{"openid fhirUser launch/patient", "openid fhirUser launch/patient launch/encounter offline_access",
			"openid fhirUser launch/patient", "launch/encounter offline_access"},
		{"launch/Patient", "launch/Patient?role=https://x", "launch/Patient?role=https://x", ""},
		{"launch/Patient?role=https://x", "launch/Patient", "", "launch/Patient"},
		{"", "patient/*.rs", "", "patient/*.rs"},
	}
	for _, tt := range tests {
		granted, refused := mustScopes(t, tt.allowed).Grant(mustScopes(t, tt.requested))
		if granted.String() != tt.granted || refused.String() != tt.refused {
			t.Errorf("%q grants of %q: %q, refuses %q; want %q, %q", tt.allowed, tt.requested, granted, refused, tt.granted, tt.refused)
		}
	}
}
