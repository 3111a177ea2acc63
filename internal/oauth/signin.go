package oauth

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// ErrSignIn is the one answer to every failed sign-in: unknown username,
// wrong password, locked or disabled account. Saying which would tell an
// attacker which usernames exist (OWASP Authentication Cheat Sheet,
// "Authentication and Error Messages").
var ErrSignIn = errors.New("the username or password is incorrect, or the account is locked for a while after repeated failures")

// ErrTOTP answers a wrong or expired second-factor code.
var ErrTOTP = errors.New("the code is not correct; enter the current 6-digit code from your authenticator app")

// ErrNoSession means the caller must sign in (again): no session, or it
// ended by idle time, by its absolute lifetime or by sign-out.
var ErrNoSession = errors.New("please sign in")

// Session is a signed-in browser session.
type Session struct {
	Cookie string // the cookie value; only its digest is stored
	User   *store.User
	Stored *store.Session
}

// MFADone reports whether the session may be used: the second factor was
// given or the user needs none.
func (s *Session) MFADone() bool { return s.Stored.MFA }

// needsMFA: administrators must use a second factor; others once they
// enrolled one.
func needsMFA(u *store.User) bool {
	return u.MFAEnrolled || slices.ContainsFunc(u.Memberships, func(m store.Membership) bool { return m.Role == string(auth.Admin) })
}

// SignIn checks a username and password and starts a session. Every
// failure returns ErrSignIn no sooner than FailureFloor after the call, and
// does the same work: the password is checked against a dummy hash when the
// username is unknown or the account locked.
func (s *Server) SignIn(ctx context.Context, username, password, addr string) (*Session, error) {
	wall := time.Now() // real time: the floor is about what a caller measures
	fail := func(u *store.User, why string) (*Session, error) {
		rec := audit.Record{Action: audit.Login, Outcome: audit.MinorFailure, OutcomeDesc: why, Client: audit.Agent{Address: addr}}
		if u != nil {
			rec.User = audit.Agent{ID: u.ID, Reference: u.FHIRUser}
		}
		s.audit(ctx, rec)
		if d := s.opts.FailureFloor - time.Since(wall); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
		return nil, ErrSignIn
	}
	u, err := s.id.UserByUsername(ctx, username)
	if err != nil && !isKind(err, outcome.NotFound) {
		return nil, err
	}
	if u == nil {
		s.checkPassword(ctx, s.dummy, password)
		return fail(nil, "unknown username")
	}
	now := s.now()
	if u.Disabled || now.Before(u.LockedUntil) {
		s.checkPassword(ctx, s.dummy, password)
		return fail(u, "account locked or disabled")
	}
	if !s.checkPassword(ctx, u.PasswordHash, password) {
		until, err := s.id.SignInFailed(ctx, u.ID, now, s.opts.MaxFailures, s.opts.LockFor)
		if err != nil {
			return nil, err
		}
		if !until.IsZero() {
			s.log.Warn("account locked after repeated failed sign-ins", "user", u.ID, "until", until)
			return fail(u, "wrong password; account locked")
		}
		return fail(u, "wrong password")
	}
	if err := s.id.SignInSucceeded(ctx, u.ID); err != nil {
		return nil, err
	}
	cookie := randomToken()
	st := store.Session{IDHash: digest(cookie), UserID: u.ID, CreatedAt: now, LastSeen: now,
		ExpiresAt: now.Add(s.opts.SessionMax), MFA: !needsMFA(u)}
	if err := s.id.CreateSession(ctx, st); err != nil {
		return nil, err
	}
	desc := ""
	if !st.MFA {
		desc = "password accepted; second factor pending"
	}
	s.audit(ctx, audit.Record{Action: audit.Login, Outcome: audit.Success, OutcomeDesc: desc,
		User: audit.Agent{ID: u.ID, Reference: u.FHIRUser}, Client: audit.Agent{Address: addr}})
	return &Session{Cookie: cookie, User: u, Stored: &st}, nil
}

func isKind(err error, k outcome.Kind) bool {
	oe := outcome.As(err)
	return oe != nil && oe.Kind == k
}

// Session returns the live session of a cookie and records the activity.
// A session idle for longer than SessionIdle, or older than SessionMax, is
// ended (the server decides, not the cookie's lifetime).
func (s *Server) Session(ctx context.Context, cookie string) (*Session, error) {
	if cookie == "" {
		return nil, ErrNoSession
	}
	st, err := s.id.Session(ctx, digest(cookie))
	if isKind(err, outcome.NotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if now.Sub(st.LastSeen) > s.opts.SessionIdle || !now.Before(st.ExpiresAt) {
		_ = s.id.DeleteSession(ctx, st.IDHash)
		return nil, ErrNoSession
	}
	u, err := s.id.User(ctx, st.UserID)
	if err != nil || u.Disabled {
		return nil, ErrNoSession
	}
	if err := s.id.TouchSession(ctx, st.IDHash, now, false); err != nil {
		return nil, ErrNoSession
	}
	st.LastSeen = now
	return &Session{Cookie: cookie, User: u, Stored: st}, nil
}

// SignOut ends the session of a cookie.
func (s *Server) SignOut(ctx context.Context, cookie string) error {
	if cookie == "" {
		return nil
	}
	st, err := s.id.Session(ctx, digest(cookie))
	if err != nil {
		return nil
	}
	if err := s.id.DeleteSession(ctx, st.IDHash); err != nil {
		return err
	}
	s.audit(ctx, audit.Record{Action: audit.Logout, Outcome: audit.Success, User: audit.Agent{ID: st.UserID}})
	return nil
}

// Enrollment is what a user needs to set up an authenticator app.
type Enrollment struct {
	Secret string // base32, to type in
	URI    string // otpauth://, to scan
}

// TOTPEnrollment returns the enrolment of a session's user who has no
// second factor yet, creating the seed on first call (and keeping it, so a
// reload shows the same one); nil when the user is enrolled already.
func (s *Server) TOTPEnrollment(ctx context.Context, sess *Session) (*Enrollment, error) {
	if sess.User.MFAEnrolled {
		return nil, nil
	}
	var seed []byte
	if sess.User.TOTPSeed != nil {
		var err error
		if seed, err = s.seal.open("totp", sess.User.TOTPSeed); err != nil {
			return nil, err
		}
	} else {
		seed = newTOTPSeed()
		sealed := s.seal.seal("totp", seed)
		if err := s.id.SetTOTP(ctx, sess.User.ID, sealed, false); err != nil {
			return nil, err
		}
		sess.User.TOTPSeed = sealed
	}
	return &Enrollment{Secret: b32.EncodeToString(seed), URI: totpURI("Continuum", sess.User.Username, seed)}, nil
}

// VerifyTOTP checks a second-factor code for the session: on success the
// session is complete (and a pending enrolment confirmed). A wrong code
// counts as a failed sign-in towards the lockout.
func (s *Server) VerifyTOTP(ctx context.Context, sess *Session, code, addr string) error {
	if sess.User.TOTPSeed == nil {
		return ErrTOTP
	}
	seed, err := s.seal.open("totp", sess.User.TOTPSeed)
	if err != nil {
		return err
	}
	now := s.now()
	agent := audit.Agent{ID: sess.User.ID, Reference: sess.User.FHIRUser}
	step, ok := checkTOTP(seed, code, now)
	if ok && !now.Before(sess.User.LockedUntil) {
		// Each code is accepted once (RFC 6238 §5.2): a code seen over a
		// shoulder or replayed from a log fails.
		if err := s.id.UseTOTPStep(ctx, sess.User.ID, step); err != nil {
			if !isKind(err, outcome.Conflict) {
				return err
			}
			ok = false
		}
	}
	if now.Before(sess.User.LockedUntil) || !ok {
		if _, err := s.id.SignInFailed(ctx, sess.User.ID, now, s.opts.MaxFailures, s.opts.LockFor); err != nil {
			return err
		}
		s.audit(ctx, audit.Record{Action: audit.Login, Outcome: audit.MinorFailure, OutcomeDesc: "wrong second-factor code",
			User: agent, Client: audit.Agent{Address: addr}})
		return ErrTOTP
	}
	if !sess.User.MFAEnrolled {
		if err := s.id.SetTOTP(ctx, sess.User.ID, sess.User.TOTPSeed, true); err != nil {
			return err
		}
		sess.User.MFAEnrolled = true
	}
	if err := s.id.TouchSession(ctx, sess.Stored.IDHash, now, true); err != nil {
		return err
	}
	sess.Stored.MFA = true
	s.audit(ctx, audit.Record{Action: audit.Login, Outcome: audit.Success, OutcomeDesc: "second factor accepted",
		User: agent, Client: audit.Agent{Address: addr}})
	return nil
}

// ChangePassword sets a new password for a user (the admin CLI's reset,
// and a user's own change).
func (s *Server) ChangePassword(ctx context.Context, userID, password string) error {
	return SetPassword(ctx, s.id, userID, password, s.now())
}

// SetPassword hashes and stores a password, clearing any lockout. It needs
// no Server: the CLI resets passwords with only the store.
func SetPassword(ctx context.Context, id store.Identity, userID, password string, at time.Time) error {
	hash, err := HashPassword(password)
	if err != nil {
		return outcome.New(outcome.Invalid, "value", err.Error())
	}
	return id.SetPassword(ctx, userID, hash, at)
}

// ErrCurrentPassword answers a password change with a wrong current
// password.
var ErrCurrentPassword = errors.New("the current password is not correct")

// ChangeOwnPassword lets a signed-in user change their password, proving
// they know the current one (a wrong one counts towards the lockout, like a
// failed sign-in). The new password must meet HashPassword's rules.
func (s *Server) ChangeOwnPassword(ctx context.Context, sess *Session, current, next, addr string) error {
	if !sess.MFADone() {
		return ErrNoSession
	}
	agent := audit.Agent{ID: sess.User.ID, Reference: sess.User.FHIRUser}
	if !s.checkPassword(ctx, sess.User.PasswordHash, current) {
		if _, err := s.id.SignInFailed(ctx, sess.User.ID, s.now(), s.opts.MaxFailures, s.opts.LockFor); err != nil {
			return err
		}
		s.audit(ctx, audit.Record{Action: audit.Operation, Operation: "password-change", Outcome: audit.MinorFailure,
			OutcomeDesc: "wrong current password", User: agent, Client: audit.Agent{Address: addr}})
		return ErrCurrentPassword
	}
	if err := SetPassword(ctx, s.id, sess.User.ID, next, s.now()); err != nil {
		return err
	}
	s.audit(ctx, audit.Record{Action: audit.Operation, Operation: "password-change", Outcome: audit.Success,
		User: agent, Client: audit.Agent{Address: addr}})
	return nil
}
