package storetest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// OpenIdentity returns a new, empty identity store for one subtest; the
// suite does not close it (the opener registers its cleanup).
type OpenIdentity func(t *testing.T) store.Identity

// RunIdentity runs the conformance suite of store.Identity.
func RunIdentity(t *testing.T, open OpenIdentity) {
	tests := []struct {
		name string
		fn   func(t *testing.T, id store.Identity)
	}{
		{"Users", testUsers},
		{"Lockout", testLockout},
		{"TOTPStepOnce", testTOTPStepOnce},
		{"Disable", testDisable},
		{"ConcurrentFailuresAllCount", testConcurrentSignInFailures},
		{"Clients", testClients},
		{"Sessions", testSessions},
		{"CodeSingleUse", testCodeSingleUse},
		{"ConcurrentCodeRedemption", testConcurrentCodeRedemption},
		{"RefreshRotation", testRefreshRotation},
		{"Grants", testGrants},
		{"Launches", testLaunches},
		{"SigningKeys", testSigningKeys},
		{"ReplayCache", testReplayCache},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// t0 is a fixed instant with microsecond precision, what the store keeps.
var t0 = time.Date(2026, 3, 1, 9, 30, 0, 123456000, time.UTC)

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func testUsers(t *testing.T, id store.Identity) {
	ctx := context.Background()
	u := store.User{ID: "u1", Username: "alice", PasswordHash: "$argon2id$x", Kind: "practitioner",
		FHIRUser: "Practitioner/p1", CreatedAt: t0, PasswordAt: t0,
		Memberships: []store.Membership{{Org: "org-b", Role: "nurse"}, {Org: "org-a", Role: "physician"}, {Org: "org-a", Role: "physician"}}}
	must(t, "CreateUser", id.CreateUser(ctx, u))
	dup := u
	dup.ID = "u2"
	wantKind(t, "CreateUser with a taken username", id.CreateUser(ctx, dup), outcome.Conflict)
	wantKind(t, "CreateUser without a hash", id.CreateUser(ctx, store.User{ID: "u3", Username: "x", Kind: "patient"}), outcome.Invalid)

	for _, get := range []func() (*store.User, error){
		func() (*store.User, error) { return id.User(ctx, "u1") },
		func() (*store.User, error) { return id.UserByUsername(ctx, "alice") },
	} {
		got, err := get()
		must(t, "read user", err)
		want := []store.Membership{{Org: "org-a", Role: "physician"}, {Org: "org-b", Role: "nurse"}}
		if got.Username != "alice" || got.FHIRUser != "Practitioner/p1" || !slices.Equal(got.Memberships, want) ||
			!got.CreatedAt.Equal(t0) || got.MFAEnrolled || got.TOTPSeed != nil {
			t.Errorf("read back %+v", got)
		}
	}
	_, err := id.UserByUsername(ctx, "Alice")
	wantKind(t, "usernames are case-sensitive", err, outcome.NotFound)
	_, err = id.User(ctx, "nobody")
	wantKind(t, "unknown user", err, outcome.NotFound)

	must(t, "SetTOTP", id.SetTOTP(ctx, "u1", []byte("sealed"), true))
	must(t, "SetPassword", id.SetPassword(ctx, "u1", "$argon2id$y", t0.Add(time.Hour)))
	got, err := id.User(ctx, "u1")
	must(t, "User", err)
	if string(got.TOTPSeed) != "sealed" || !got.MFAEnrolled || got.PasswordHash != "$argon2id$y" || !got.PasswordAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("after SetTOTP and SetPassword: %+v", got)
	}
	wantKind(t, "SetPassword of an unknown user", id.SetPassword(ctx, "nobody", "h", t0), outcome.NotFound)
}

func testLockout(t *testing.T, id store.Identity) {
	ctx := context.Background()
	must(t, "CreateUser", id.CreateUser(ctx, store.User{ID: "u1", Username: "bob", PasswordHash: "h", Kind: "patient", FHIRUser: "Patient/1"}))
	for i := 1; i <= 2; i++ {
		until, err := id.SignInFailed(ctx, "u1", t0, 3, time.Minute)
		must(t, "SignInFailed", err)
		if !until.IsZero() {
			t.Fatalf("failure %d locked the account", i)
		}
	}
	must(t, "SignInSucceeded", id.SignInSucceeded(ctx, "u1"))
	for i := 1; i <= 3; i++ {
		until, err := id.SignInFailed(ctx, "u1", t0, 3, time.Minute)
		must(t, "SignInFailed", err)
		if (i == 3) != !until.IsZero() {
			t.Fatalf("failure %d after a success: locked until %v", i, until)
		}
	}
	u, err := id.User(ctx, "u1")
	must(t, "User", err)
	if !u.LockedUntil.Equal(t0.Add(time.Minute)) || u.Failures != 0 {
		t.Errorf("locked until %v with %d failures, want %v and 0", u.LockedUntil, u.Failures, t0.Add(time.Minute))
	}
	must(t, "SetPassword", id.SetPassword(ctx, "u1", "h2", t0))
	u, _ = id.User(ctx, "u1")
	if !u.LockedUntil.IsZero() {
		t.Errorf("a password reset left the lock: %v", u.LockedUntil)
	}
}

func testConcurrentSignInFailures(t *testing.T, id store.Identity) {
	ctx := context.Background()
	must(t, "CreateUser", id.CreateUser(ctx, store.User{ID: "u1", Username: "c", PasswordHash: "h", Kind: "patient"}))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := id.SignInFailed(ctx, "u1", t0, 100, time.Minute); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	u, _ := id.User(ctx, "u1")
	if u.Failures != 8 {
		t.Errorf("8 concurrent failures counted as %d", u.Failures)
	}
}

func testClients(t *testing.T, id store.Identity) {
	ctx := context.Background()
	c := store.Client{ID: "app", Name: "App", Scopes: "launch patient/*.rs", RedirectURIs: []string{"https://a/cb", "https://a/cb2"},
		LaunchURI: "https://a/launch", JWKS: `{"keys":[]}`, Orgs: []string{"org-a"}, CreatedAt: t0}
	must(t, "CreateClient", id.CreateClient(ctx, c))
	wantKind(t, "CreateClient with a taken id", id.CreateClient(ctx, c), outcome.Conflict)
	got, err := id.Client(ctx, "app")
	must(t, "Client", err)
	if got.Scopes != c.Scopes || !slices.Equal(got.RedirectURIs, c.RedirectURIs) || !slices.Equal(got.Orgs, c.Orgs) ||
		got.LaunchURI != c.LaunchURI || got.JWKS != c.JWKS || !got.CreatedAt.Equal(t0) {
		t.Errorf("read back %+v", got)
	}
	_, err = id.Client(ctx, "other")
	wantKind(t, "unknown client", err, outcome.NotFound)
	must(t, "CreateClient", id.CreateClient(ctx, store.Client{ID: "a-first", SecretHash: "h", Scopes: "system/*.rs"}))
	all, err := id.Clients(ctx)
	must(t, "Clients", err)
	if len(all) != 2 || all[0].ID != "a-first" || all[1].ID != "app" || !slices.Equal(all[1].RedirectURIs, c.RedirectURIs) || all[0].SecretHash != "h" {
		t.Errorf("Clients: %+v", all)
	}
}

func testSessions(t *testing.T, id store.Identity) {
	ctx := context.Background()
	must(t, "CreateSession", id.CreateSession(ctx, store.Session{IDHash: "old", UserID: "u1", CreatedAt: t0.Add(-48 * time.Hour),
		LastSeen: t0.Add(-48 * time.Hour), ExpiresAt: t0.Add(-36 * time.Hour)}))
	must(t, "CreateSession", id.CreateSession(ctx, store.Session{IDHash: "s1", UserID: "u1", CreatedAt: t0, LastSeen: t0, ExpiresAt: t0.Add(8 * time.Hour)}))
	_, err := id.Session(ctx, "old")
	wantKind(t, "an expired session is purged", err, outcome.NotFound)
	must(t, "TouchSession", id.TouchSession(ctx, "s1", t0.Add(time.Minute), true))
	s, err := id.Session(ctx, "s1")
	must(t, "Session", err)
	if !s.LastSeen.Equal(t0.Add(time.Minute)) || !s.MFA || !s.CreatedAt.Equal(t0) || !s.ExpiresAt.Equal(t0.Add(8*time.Hour)) {
		t.Errorf("read back %+v", s)
	}
	must(t, "DeleteSession", id.DeleteSession(ctx, "s1"))
	_, err = id.Session(ctx, "s1")
	wantKind(t, "deleted session", err, outcome.NotFound)
	wantKind(t, "touching a deleted session", id.TouchSession(ctx, "s1", t0, false), outcome.NotFound)
}

func testCodeSingleUse(t *testing.T, id store.Identity) {
	ctx := context.Background()
	c := store.AuthCode{Hash: "h1", GrantID: "g1", ClientID: "app", RedirectURI: "https://a/cb", CodeChallenge: "ch",
		Nonce: "n", AuthTime: t0, ExpiresAt: t0.Add(time.Minute)}
	must(t, "CreateCode", id.CreateCode(ctx, c))
	got, err := id.ConsumeCode(ctx, "h1", t0.Add(time.Second))
	must(t, "ConsumeCode", err)
	if got.GrantID != "g1" || got.CodeChallenge != "ch" || got.RedirectURI != c.RedirectURI || got.Nonce != "n" || !got.ExpiresAt.Equal(c.ExpiresAt) {
		t.Errorf("redeemed %+v", got)
	}
	again, err := id.ConsumeCode(ctx, "h1", t0.Add(2*time.Second))
	wantKind(t, "second redemption", err, outcome.Conflict)
	if again == nil || again.GrantID != "g1" {
		t.Errorf("a reused code must come back with its grant, got %+v", again)
	}
	_, err = id.ConsumeCode(ctx, "nope", t0)
	wantKind(t, "unknown code", err, outcome.NotFound)
}

func testConcurrentCodeRedemption(t *testing.T, id store.Identity) {
	ctx := context.Background()
	must(t, "CreateCode", id.CreateCode(ctx, store.AuthCode{Hash: "h", GrantID: "g", ClientID: "c", ExpiresAt: t0.Add(time.Minute)}))
	var (
		wg sync.WaitGroup
		mu sync.Mutex
		ok int
	)
	for range 8 {
		wg.Go(func() {
			if _, err := id.ConsumeCode(ctx, "h", t0); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Errorf("%d of 8 concurrent redemptions succeeded, want exactly 1", ok)
	}
}

func testRefreshRotation(t *testing.T, id store.Identity) {
	ctx := context.Background()
	must(t, "CreateRefreshToken", id.CreateRefreshToken(ctx, store.RefreshToken{Hash: "r1", GrantID: "g", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	old, err := id.RotateRefreshToken(ctx, "r1", store.RefreshToken{Hash: "r2", GrantID: "g", CreatedAt: t0, ExpiresAt: t0.Add(2 * time.Hour)}, t0.Add(time.Minute))
	must(t, "RotateRefreshToken", err)
	if old.GrantID != "g" || !old.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("rotated %+v", old)
	}
	r2, err := id.RefreshToken(ctx, "r2")
	must(t, "RefreshToken", err)
	if !r2.ExpiresAt.Equal(t0.Add(2*time.Hour)) || !r2.UsedAt.IsZero() {
		t.Errorf("next token %+v", r2)
	}
	old, err = id.RotateRefreshToken(ctx, "r1", store.RefreshToken{Hash: "r3", GrantID: "g"}, t0.Add(2*time.Minute))
	wantKind(t, "rotating a used token", err, outcome.Conflict)
	if old == nil || old.GrantID != "g" {
		t.Errorf("a reused token must come back with its grant, got %+v", old)
	}
	_, err = id.RefreshToken(ctx, "r3")
	wantKind(t, "no successor for a reused token", err, outcome.NotFound)
	_, err = id.RotateRefreshToken(ctx, "nope", store.RefreshToken{Hash: "r4", GrantID: "g"}, t0)
	wantKind(t, "unknown token", err, outcome.NotFound)
}

func testGrants(t *testing.T, id store.Identity) {
	ctx := context.Background()
	g := store.Grant{ID: "g1", ClientID: "app", UserID: "u1", SessionID: "s", Scopes: "openid patient/*.rs", Patient: "p1",
		Encounter: "e1", Context: `[{"reference":"Encounter/e1"}]`, Launch: "l1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	must(t, "CreateGrant", id.CreateGrant(ctx, g))
	got, err := id.Grant(ctx, "g1")
	must(t, "Grant", err)
	if *got != g {
		t.Errorf("read back %+v, want %+v", got, g)
	}
	must(t, "RevokeGrant", id.RevokeGrant(ctx, "g1", t0.Add(time.Minute)))
	must(t, "RevokeGrant again", id.RevokeGrant(ctx, "g1", t0.Add(2*time.Minute)))
	must(t, "RevokeGrant of an unknown grant", id.RevokeGrant(ctx, "nope", t0))
	got, _ = id.Grant(ctx, "g1")
	if !got.RevokedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("revoked at %v, want the first revocation %v", got.RevokedAt, t0.Add(time.Minute))
	}
}

func testLaunches(t *testing.T, id store.Identity) {
	ctx := context.Background()
	l := store.Launch{ID: "l1", ClientID: "app", Patient: "p1", Encounter: "e1", CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)}
	must(t, "CreateLaunch", id.CreateLaunch(ctx, l))
	got, err := id.Launch(ctx, "l1")
	must(t, "Launch", err)
	if *got != l {
		t.Errorf("read back %+v, want %+v", got, l)
	}
	_, err = id.Launch(ctx, "l2")
	wantKind(t, "unknown launch", err, outcome.NotFound)
}

func testSigningKeys(t *testing.T, id store.Identity) {
	ctx := context.Background()
	for i, kid := range []string{"k1", "k2", "k3"} {
		must(t, "AddSigningKey", id.AddSigningKey(ctx, store.SigningKey{KID: kid, Alg: "RS256", Sealed: []byte{byte(i), 0, 1},
			CreatedAt: t0.Add(time.Duration(i) * 24 * time.Hour)}))
	}
	wantKind(t, "AddSigningKey without a key", id.AddSigningKey(ctx, store.SigningKey{KID: "k4", Alg: "RS256"}), outcome.Invalid)
	keys, err := id.SigningKeys(ctx, t0.Add(24*time.Hour))
	must(t, "SigningKeys", err)
	var kids []string
	for _, k := range keys {
		kids = append(kids, k.KID)
	}
	if !slices.Equal(kids, []string{"k3", "k2"}) || keys[0].Sealed[0] != 2 {
		t.Errorf("keys since day 1: %v, want [k3 k2] newest first", kids)
	}
}

func testReplayCache(t *testing.T, id store.Identity) {
	ctx := context.Background()
	must(t, "NoteJTI", id.NoteJTI(ctx, "client", "j1", t0.Add(5*time.Minute), t0))
	wantKind(t, "a replayed jti", id.NoteJTI(ctx, "client", "j1", t0.Add(5*time.Minute), t0.Add(time.Minute)), outcome.Conflict)
	must(t, "the same jti from another issuer", id.NoteJTI(ctx, "other", "j1", t0.Add(5*time.Minute), t0))
	// Once expired it is forgotten; by then the assertion's exp refuses it.
	must(t, "an expired jti", id.NoteJTI(ctx, "client", "j1", t0.Add(20*time.Minute), t0.Add(10*time.Minute)))
}

func testTOTPStepOnce(t *testing.T, id store.Identity) {
	ctx := context.Background()
	must(t, "CreateUser", id.CreateUser(ctx, store.User{ID: "u1", Username: "a", PasswordHash: "h", Kind: "patient"}))
	must(t, "UseTOTPStep", id.UseTOTPStep(ctx, "u1", 1000))
	wantKind(t, "the same step again", id.UseTOTPStep(ctx, "u1", 1000), outcome.Conflict)
	wantKind(t, "an earlier step", id.UseTOTPStep(ctx, "u1", 999), outcome.Conflict)
	must(t, "a later step", id.UseTOTPStep(ctx, "u1", 1001))
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 6 {
		wg.Go(func() {
			if id.UseTOTPStep(ctx, "u1", 1002) == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Errorf("%d of 6 concurrent uses of one code succeeded, want 1", ok)
	}
}

func testDisable(t *testing.T, id store.Identity) {
	ctx := context.Background()
	must(t, "CreateUser", id.CreateUser(ctx, store.User{ID: "u1", Username: "a", PasswordHash: "h", Kind: "patient"}))
	must(t, "CreateUser", id.CreateUser(ctx, store.User{ID: "u2", Username: "b", PasswordHash: "h", Kind: "patient"}))
	for _, u := range []string{"u1", "u2"} {
		must(t, "CreateSession", id.CreateSession(ctx, store.Session{IDHash: "s-" + u, UserID: u, CreatedAt: t0, LastSeen: t0, ExpiresAt: t0.Add(time.Hour)}))
		must(t, "CreateGrant", id.CreateGrant(ctx, store.Grant{ID: "g-" + u, ClientID: "app", UserID: u, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	}
	must(t, "SetDisabled", id.SetDisabled(ctx, "u1", true, t0.Add(time.Minute)))
	u, _ := id.User(ctx, "u1")
	if !u.Disabled {
		t.Error("not disabled")
	}
	_, err := id.Session(ctx, "s-u1")
	wantKind(t, "the disabled user's session", err, outcome.NotFound)
	if g, _ := id.Grant(ctx, "g-u1"); g == nil || !g.RevokedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("the disabled user's grant: %+v", g)
	}
	if _, err := id.Session(ctx, "s-u2"); err != nil {
		t.Errorf("another user's session ended: %v", err)
	}
	if g, _ := id.Grant(ctx, "g-u2"); g == nil || !g.RevokedAt.IsZero() {
		t.Errorf("another user's grant revoked: %+v", g)
	}
	must(t, "SetDisabled false", id.SetDisabled(ctx, "u1", false, t0))
	if u, _ := id.User(ctx, "u1"); u.Disabled {
		t.Error("still disabled")
	}
	wantKind(t, "unknown user", id.SetDisabled(ctx, "nobody", true, t0), outcome.NotFound)
}
