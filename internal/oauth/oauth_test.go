package oauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
)

// clock is a settable clock for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	s     *Server
	db    *sqlstore.DB
	clock *clock
}

const testBase = "https://ehr.example.org"

var testSecret = []byte("0123456789abcdef0123456789abcdef-test")

func newFixture(t testing.TB, tweak func(*Options)) *fixture {
	t.Helper()
	db := sqltest.Backends()[0].Open(t)
	clk := &clock{t: time.Now().UTC().Truncate(time.Microsecond)}
	opts := Options{Identity: db, Store: db, BaseURL: testBase, SecretKey: testSecret, Now: clk.Now,
		FailureFloor: 150 * time.Millisecond}
	if tweak != nil {
		tweak(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{s: s, db: db, clock: clk}
}

func (f *fixture) user(t *testing.T, username, password, role string) *store.User {
	t.Helper()
	id, err := CreateUser(context.Background(), f.db, UserSpec{Username: username, Password: password, Kind: "practitioner",
		FHIRUser: "Practitioner/" + username, Memberships: []store.Membership{{Org: "org-a", Role: role}}}, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	u, err := f.db.User(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (f *fixture) put(t *testing.T, org, body string) {
	t.Helper()
	v, err := fhir.Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.Update(context.Background(), func(tx store.Tx) error {
		_, err := tx.Put(context.Background(), store.Write{Resource: &v, Org: org})
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

func TestSignInLockout(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxFailures = 3; o.LockFor = 10 * time.Minute })
	ctx := context.Background()
	f.user(t, "alice", "correct horse", "physician")
	for i := range 3 {
		if _, err := f.s.SignIn(ctx, "alice", "wrong password", "127.0.0.1"); !errors.Is(err, ErrSignIn) {
			t.Fatalf("failure %d: %v, want ErrSignIn", i+1, err)
		}
	}
	if _, err := f.s.SignIn(ctx, "alice", "correct horse", "127.0.0.1"); !errors.Is(err, ErrSignIn) {
		t.Fatalf("the right password during the lockout: %v, want ErrSignIn", err)
	}
	f.clock.Advance(10*time.Minute + time.Second)
	sess, err := f.s.SignIn(ctx, "alice", "correct horse", "127.0.0.1")
	if err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
	if !sess.MFADone() {
		t.Error("a physician without a second factor needs none")
	}
	u, _ := f.db.User(ctx, sess.User.ID)
	if u.Failures != 0 {
		t.Errorf("a success leaves %d failures counted", u.Failures)
	}
}

// TestSignInIndistinguishable: an unknown username and a wrong password get
// the same error and take the same time: both at least the floor, and their
// medians within a tolerance (medians of interleaved samples, so that load
// from other processes, which slows both alike, does not decide).
func TestSignInIndistinguishable(t *testing.T) {
	const floor = 400 * time.Millisecond
	f := newFixture(t, func(o *Options) { o.FailureFloor = floor })
	ctx := context.Background()
	f.user(t, "alice", "correct horse", "nurse")
	measure := func(username string) (time.Duration, error) {
		start := time.Now()
		_, err := f.s.SignIn(ctx, username, "wrong password", "127.0.0.1")
		return time.Since(start), err
	}
	var unknown, wrong []time.Duration
	for range 3 {
		d1, err1 := measure("nobody")
		d2, err2 := measure("alice")
		if err1 == nil || err2 == nil || err1.Error() != err2.Error() {
			t.Fatalf("errors differ: unknown username %v, wrong password %v", err1, err2)
		}
		if d1 < floor || d2 < floor {
			t.Errorf("a failure answered before the floor: %v, %v", d1, d2)
		}
		unknown, wrong = append(unknown, d1), append(wrong, d2)
	}
	slices.Sort(unknown)
	slices.Sort(wrong)
	if diff := (unknown[1] - wrong[1]).Abs(); diff > 80*time.Millisecond {
		t.Errorf("median times: unknown username %v, wrong password %v (all: %v, %v): distinguishable", unknown[1], wrong[1], unknown, wrong)
	}
}

func TestSessionIdleAndAbsolute(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.SessionIdle = 15 * time.Minute; o.SessionMax = time.Hour })
	ctx := context.Background()
	f.user(t, "alice", "correct horse", "nurse")
	sess, err := f.s.SignIn(ctx, "alice", "correct horse", "")
	if err != nil {
		t.Fatal(err)
	}
	for range 5 { // active every 14 minutes: alive until the absolute end
		f.clock.Advance(14 * time.Minute)
		_, err := f.s.Session(ctx, sess.Cookie)
		if f.clock.Now().Sub(sess.Stored.CreatedAt) < time.Hour {
			if err != nil {
				t.Fatalf("active session ended after %v: %v", f.clock.Now().Sub(sess.Stored.CreatedAt), err)
			}
		} else if !errors.Is(err, ErrNoSession) {
			t.Fatalf("session alive past its absolute lifetime: %v", err)
		}
	}
	sess, _ = f.s.SignIn(ctx, "alice", "correct horse", "")
	f.clock.Advance(16 * time.Minute)
	if _, err := f.s.Session(ctx, sess.Cookie); !errors.Is(err, ErrNoSession) {
		t.Fatalf("idle session: %v, want ErrNoSession", err)
	}
	if _, err := f.s.Session(ctx, "forged"); !errors.Is(err, ErrNoSession) {
		t.Fatalf("unknown cookie: %v", err)
	}
}

func TestAdminMustEnrollTOTP(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	f.user(t, "root", "correct horse", "admin")
	sess, err := f.s.SignIn(ctx, "root", "correct horse", "")
	if err != nil {
		t.Fatal(err)
	}
	if sess.MFADone() {
		t.Fatal("an administrator's session is complete without a second factor")
	}
	enr, err := f.s.TOTPEnrollment(ctx, sess)
	if err != nil || enr == nil {
		t.Fatalf("enrolment: %v %v", enr, err)
	}
	again, _ := f.s.TOTPEnrollment(ctx, sess)
	if again.Secret != enr.Secret || !strings.HasPrefix(enr.URI, "otpauth://totp/") {
		t.Errorf("enrolment changed on reload or bad URI: %+v %+v", enr, again)
	}
	seed, err := b32.DecodeString(enr.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.VerifyTOTP(ctx, sess, "000000", ""); !errors.Is(err, ErrTOTP) && totpCode(seed, f.clock.Now()) != "000000" {
		t.Fatalf("a wrong code: %v", err)
	}
	if err := f.s.VerifyTOTP(ctx, sess, totpCode(seed, f.clock.Now()), ""); err != nil {
		t.Fatalf("the right code: %v", err)
	}
	if !sess.MFADone() {
		t.Fatal("the session is not complete after the second factor")
	}
	// The same code cannot be used again (RFC 6238 §5.2).
	replay, _ := f.s.SignIn(ctx, "root", "correct horse", "")
	if err := f.s.VerifyTOTP(ctx, replay, totpCode(seed, f.clock.Now()), ""); !errors.Is(err, ErrTOTP) {
		t.Errorf("a replayed code: %v, want ErrTOTP", err)
	}
	f.clock.Advance(totpStep)
	if err := f.s.VerifyTOTP(ctx, replay, totpCode(seed, f.clock.Now()), ""); err != nil {
		t.Errorf("the next code: %v", err)
	}
	// The seed is sealed at rest, and the next sign-in asks for a code again.
	u, _ := f.db.User(ctx, sess.User.ID)
	if !u.MFAEnrolled || strings.Contains(string(u.TOTPSeed), string(seed)) {
		t.Errorf("enrolled %v; seed stored in the clear: %v", u.MFAEnrolled, strings.Contains(string(u.TOTPSeed), string(seed)))
	}
	sess2, _ := f.s.SignIn(ctx, "root", "correct horse", "")
	if sess2.MFADone() {
		t.Error("a second sign-in skipped the second factor")
	}
	if enr, _ := f.s.TOTPEnrollment(ctx, sess2); enr != nil {
		t.Error("an enrolled user is offered enrolment again")
	}
}

// RFC 6238 Appendix B, SHA-1 rows, the last six digits.
func TestTOTPVectors(t *testing.T) {
	seed := []byte("12345678901234567890")
	for _, tc := range []struct {
		unix int64
		want string
	}{{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"}, {1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"}} {
		if got := totpCode(seed, time.Unix(tc.unix, 0)); got != tc.want {
			t.Errorf("T=%d: %s, want %s", tc.unix, got, tc.want)
		}
	}
	now := time.Unix(1111111111, 0)
	if _, ok := checkTOTP(seed, "050471", now.Add(29*time.Second)); !ok {
		t.Error("the code of the step before was refused")
	}
	if _, ok := checkTOTP(seed, "050471", now.Add(95*time.Second)); ok {
		t.Error("a code three steps old was accepted")
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || !checkPassword(h, "correct horse") || checkPassword(h, "correct horsf") {
		t.Errorf("hash %s does not verify as it should", h)
	}
	h2, _ := HashPassword("correct horse")
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	if _, err := HashPassword("short"); err == nil {
		t.Error("a 5-character password was accepted")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$a2V5", "$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHQ$" + strings.Repeat("A", 43)} {
		if checkPassword(bad, "x") {
			t.Errorf("%q verified", bad)
		}
	}
}

func FuzzParseHash(f *testing.F) {
	h, _ := HashPassword("correct horse")
	f.Add(h)
	f.Add("$argon2id$v=19$m=8,t=1,p=1$$")
	f.Add("$argon2id$v=19$m=4294967295,t=4294967295,p=255$AAAA$AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		p, _, key, err := parseHash(s)
		if err == nil && (p.memory > 1<<20 || p.time > 16 || len(key) < 16) {
			t.Fatalf("accepted out-of-bounds parameters %+v", p)
		}
	})
}

func FuzzRedirectURI(f *testing.F) {
	for _, s := range []string{"https://app.example.org/cb", "http://localhost:8000/cb", "http://evil.example.org/cb", "org.example.app:/cb", "javascript:alert(1)", "https://a/cb#x", "//x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if checkRedirectURI(s) != nil {
			return
		}
		if strings.HasPrefix(strings.ToLower(s), "javascript:") || strings.HasPrefix(strings.ToLower(s), "data:") || strings.Contains(s, "#") {
			t.Fatalf("accepted a dangerous redirect URI %q", s)
		}
	})
}

func TestSealedAtRest(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	if _, err := f.s.JWKS(ctx); err != nil {
		t.Fatal(err)
	}
	keys, err := f.db.SigningKeys(ctx, time.Time{})
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys %v %v", keys, err)
	}
	if strings.Contains(string(keys[0].Sealed), "PRIVATE") || len(keys[0].Sealed) < 1000 {
		t.Error("the signing key does not look sealed")
	}
	other, err := New(Options{Identity: f.db, Store: f.db, BaseURL: testBase, SecretKey: []byte("another key, also thirty-two bytes long"), Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.JWKS(ctx); err == nil || !strings.Contains(err.Error(), "secret-key-file") {
		t.Errorf("a server with another secret key opened the keys: %v", err)
	}
}

func TestKeyRotation(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.KeyRotation = 24 * time.Hour })
	ctx := context.Background()
	kid := func() []string {
		set, err := f.s.JWKS(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range set.Keys {
			out = append(out, k.KeyID)
		}
		return out
	}
	first := kid()
	f.clock.Advance(25 * time.Hour)
	second := kid()
	if len(second) != 2 || second[1] != first[0] {
		t.Fatalf("after a rotation the JWKS holds %v, want a new key and %v", second, first)
	}
	f.clock.Advance(48 * time.Hour)
	third := kid()
	if len(third) != 2 || third[1] == first[0] {
		t.Errorf("two rotations later the JWKS holds %v; the first key %v should be gone", third, first)
	}
}

func TestPatientChoices(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	u := f.user(t, "doc", "correct horse", "physician") // at org-a
	f.put(t, "org-a", `{"resourceType":"Patient","id":"p1","name":[{"given":["Amy"],"family":"Shaw"}]}`)
	f.put(t, "org-a", `{"resourceType":"Patient","id":"p1","name":[{"given":["Amy"],"family":"Shaw-Lee"}]}`)
	f.put(t, "org-a", `{"resourceType":"Patient","id":"p2","name":[{"use":"nickname","text":"Bee"},{"use":"official","text":"Beatrice Ng"}]}`)
	f.put(t, "org-a", `{"resourceType":"Patient","id":"p3"}`)
	f.put(t, "org-b", `{"resourceType":"Patient","id":"p4","name":[{"text":"Other Org"}]}`)
	f.put(t, "org-a", `{"resourceType":"Patient","id":"p5","name":[{"text":"Gone Patient"}]}`)
	if err := f.db.Update(ctx, func(tx store.Tx) error { _, err := tx.Delete(ctx, "Patient", "p5", ""); return err }); err != nil {
		t.Fatal(err)
	}
	got, err := f.s.PatientChoices(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	want := []PatientChoice{{"p3", "(no name)"}, {"p1", "Amy Shaw-Lee"}, {"p2", "Beatrice Ng"}}
	if len(got) != len(want) {
		t.Fatalf("choices %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("choice %d: %v, want %v", i, got[i], want[i])
		}
	}
	for id, ok := range map[string]bool{"p1": true, "p4": false, "p5": false, "nope": false, "../x": false} {
		if may, err := f.s.mayPick(ctx, u, id); err != nil || may != ok {
			t.Errorf("mayPick(%s) = %v, %v; want %v", id, may, err, ok)
		}
	}
}

type recorder struct {
	mu   sync.Mutex
	recs []audit.Record
}

func (r *recorder) Record(_ context.Context, rec audit.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
	return nil
}

// TestAuditOfSignIn: sign-ins, failures and sign-outs reach the Auditor,
// saying who and why, never the password, and never an unknown username
// (which is often a password typed in the wrong field).
func TestAuditOfSignIn(t *testing.T) {
	rec := &recorder{}
	f := newFixture(t, func(o *Options) { o.Auditor = rec; o.FailureFloor = time.Millisecond })
	ctx := context.Background()
	u := f.user(t, "alice", "correct horse", "nurse")
	_, _ = f.s.SignIn(ctx, "Tr0ub4dor&3", "whatever1", "10.0.0.1")
	_, _ = f.s.SignIn(ctx, "alice", "bad-pw-7531", "10.0.0.2")
	sess, err := f.s.SignIn(ctx, "alice", "correct horse", "10.0.0.3")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.SignOut(ctx, sess.Cookie); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		action  audit.Action
		outcome audit.Outcome
		user    string
		addr    string
		desc    string
	}{
		{audit.Login, audit.MinorFailure, "", "10.0.0.1", "unknown username"},
		{audit.Login, audit.MinorFailure, u.ID, "10.0.0.2", "wrong password"},
		{audit.Login, audit.Success, u.ID, "10.0.0.3", ""},
		{audit.Logout, audit.Success, u.ID, "", ""},
	}
	if len(rec.recs) != len(want) {
		t.Fatalf("%d audit records, want %d: %+v", len(rec.recs), len(want), rec.recs)
	}
	for i, w := range want {
		r := rec.recs[i]
		if r.Action != w.action || r.Outcome != w.outcome || r.User.ID != w.user || r.Client.Address != w.addr ||
			r.OutcomeDesc != w.desc || r.ID == "" || r.Recorded.IsZero() || r.Server != testBase+"/fhir" {
			t.Errorf("record %d: %+v, want %+v", i, r, w)
		}
		for _, secret := range []string{"Tr0ub4dor", "whatever1", "bad-pw-7531", "correct horse"} {
			if strings.Contains(fmt.Sprintf("%+v", r), secret) {
				t.Errorf("record %d holds %q", i, secret)
			}
		}
	}
}

// FuzzAuthenticate: no bearer value makes Authenticate do anything but
// refuse with Unauthorized.
func FuzzAuthenticate(f *testing.F) {
	for _, s := range []string{"", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.e30.AAAA", strings.Repeat("A", 20000)} {
		f.Add(s)
	}
	fx := newFixture(f, nil)
	f.Fuzz(func(t *testing.T, token string) {
		_, err := fx.s.Authenticate(context.Background(), token)
		if !isKind(err, outcome.Unauthorized) {
			t.Fatalf("Authenticate(%q) = %v, want Unauthorized", token, err)
		}
	})
}
