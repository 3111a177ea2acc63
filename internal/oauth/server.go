package oauth

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// Auditor records sign-in and token events in the audit trail. The
// composition root wires the audit store; nil records nothing.
type Auditor interface {
	Record(ctx context.Context, r audit.Record) error
}

// Options configure a Server. Store, Identity, BaseURL and SecretKey are
// required.
type Options struct {
	// Identity stores accounts, clients and the server's state.
	Identity store.Identity
	// Store holds the FHIR resources (patients for the patient picker).
	Store store.Store
	// BaseURL is the public base URL, without a trailing slash. The issuer
	// is BaseURL; the FHIR base (every token's audience) is BaseURL+"/fhir".
	BaseURL string
	// SecretKey seals signing keys and TOTP seeds (at least 32 bytes).
	SecretKey []byte
	// FetchJWKS fetches a client's JWK Set from its registered URL; nil
	// refuses clients registered with a JWKS URL.
	FetchJWKS func(ctx context.Context, url string) ([]byte, error)
	Auditor   Auditor
	Logger    *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// Lifetimes; zero means the default of each.
	AccessTokenTTL time.Duration // 5 minutes
	CodeTTL        time.Duration // 1 minute
	LaunchTTL      time.Duration // 5 minutes
	SessionIdle    time.Duration // 15 minutes
	SessionMax     time.Duration // 12 hours
	OfflineTTL     time.Duration // 90 days: offline_access refresh tokens
	KeyRotation    time.Duration // 30 days: a new signing key after this

	// MaxFailures locks an account after that many failed sign-ins in a
	// row (default 5) for LockFor (default 15 minutes).
	MaxFailures int
	LockFor     time.Duration
	// FailureFloor is the least time a failed sign-in takes to answer
	// (default 400ms), so that timing tells nothing about which check
	// failed.
	FailureFloor time.Duration
}

// Server is the authorization server.
type Server struct {
	opts  Options
	id    store.Identity
	seal  *sealer
	now   func() time.Time
	log   *slog.Logger
	dummy string // a hash to check passwords of unknown users against
	keys  *keyring
	// hashing bounds concurrent password checks (password.go).
	hashing chan struct{}
	// verified caches verified access tokens (tokencache.go).
	verified verifiedCache
	issuer   string
	fhir     string
}

// New returns a server.
func New(opts Options) (*Server, error) {
	if opts.Identity == nil || opts.Store == nil || opts.BaseURL == "" {
		return nil, errors.New("oauth: Identity, Store and BaseURL are required")
	}
	seal, err := newSealer(opts.SecretKey)
	if err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.AccessTokenTTL, 5*time.Minute)
	def(&opts.CodeTTL, time.Minute)
	def(&opts.LaunchTTL, 5*time.Minute)
	def(&opts.SessionIdle, 15*time.Minute)
	def(&opts.SessionMax, 12*time.Hour)
	def(&opts.OfflineTTL, 90*24*time.Hour)
	def(&opts.KeyRotation, 30*24*time.Hour)
	def(&opts.LockFor, 15*time.Minute)
	def(&opts.FailureFloor, 400*time.Millisecond)
	if opts.MaxFailures <= 0 {
		opts.MaxFailures = 5
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dummy, err := HashPassword(randomToken())
	if err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(opts.BaseURL, "/")
	s := &Server{opts: opts, id: opts.Identity, seal: seal, now: now, log: log, dummy: dummy,
		issuer: base, fhir: base + "/fhir", hashing: make(chan struct{}, 2*runtime.GOMAXPROCS(0))}
	s.keys = &keyring{s: s}
	return s, nil
}

// Issuer is the OIDC issuer: the base URL.
func (s *Server) Issuer() string { return s.issuer }

// FHIRBase is the FHIR base URL, the audience of every access token.
func (s *Server) FHIRBase() string { return s.fhir }

// Endpoint returns the absolute URL of an authorization server endpoint.
func (s *Server) Endpoint(name string) string { return s.issuer + "/auth/" + name }

// randomToken returns 256 random bits, base64url: codes, refresh tokens,
// session ids, launch ids.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// digest is how tokens are kept in the database: a SHA-256, enough for
// 256-bit random values (no salt or stretching needed: nothing to guess).
func digest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Error is an OAuth error response (RFC 6749 §5.2, §4.1.2.1).
type Error struct {
	Code        string // invalid_request, invalid_client, invalid_grant, …
	Description string // for the developer; never secrets
	// Status is the HTTP status of the token endpoint's answer: 400, or
	// 401 for invalid_client.
	Status int
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

func oauthErr(code, format string, args ...any) *Error {
	status := 400
	if code == "invalid_client" {
		status = 401
	}
	return &Error{Code: code, Description: fmt.Sprintf(format, args...), Status: status}
}

// audit records r, filling in the server; failures to audit are logged (a
// sign-in does not fail because the audit store is down, but it is loud).
func (s *Server) audit(ctx context.Context, r audit.Record) {
	if s.opts.Auditor == nil {
		return
	}
	r.ID = store.NewID()
	r.Recorded = s.now()
	r.Server = s.fhir
	if err := s.opts.Auditor.Record(ctx, r); err != nil {
		s.log.Error("cannot record an audit event", "action", string(r.Action), "err", err)
	}
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

const cryptoSHA256 = crypto.SHA256

// isKindAny reports whether err is a store answer about the row (not
// found, gone), as opposed to a failure.
func isKindAny(err error) bool {
	return isKind(err, outcome.NotFound) || isKind(err, outcome.Gone) || isKind(err, outcome.Private)
}

// fault reports whether err is the server's failure (the store, a sealed
// key that does not open) rather than a verdict on the caller's input.
func fault(err error) bool {
	var oe *outcome.Error
	if errors.As(err, &oe) {
		return oe.Kind == outcome.Internal
	}
	return errors.Is(err, errSealed)
}
