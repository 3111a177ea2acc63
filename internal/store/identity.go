package store

import (
	"context"
	"time"
)

// Identity is the storage of accounts, OAuth clients and the state of the
// authorization server: sessions, authorization codes, grants and their
// refresh tokens, EHR launches, signing keys and the JWT replay cache. It is
// kept apart from Store, because none of it is a FHIR resource and its
// consumer (internal/oauth) needs none of Store's versioning, but it lives in
// the same database so that every node of a deployment shares it
// (architecture.md §3). sqlstore.DB implements both; storetest.RunIdentity is
// its conformance suite.
//
// Each method is atomic on its own. Secrets never reach the store in the
// clear: passwords and client secrets arrive as argon2id hashes, codes,
// session ids and refresh tokens as SHA-256 digests, private keys and TOTP
// seeds sealed with the deployment's secret key. The store cannot tell.
//
// Errors are *outcome.Error: NotFound for an unknown row, Conflict for a
// duplicate key (a taken username or client id, a replayed jti, a code or
// refresh token used twice), Invalid for a row the contract rejects.
type Identity interface {
	// CreateUser stores a new account; a taken id or username is Conflict.
	CreateUser(ctx context.Context, u User) error
	// User returns an account by id.
	User(ctx context.Context, id string) (*User, error)
	// UserByUsername returns an account by its (case-sensitive) username.
	UserByUsername(ctx context.Context, username string) (*User, error)
	// SetPassword replaces a password hash and clears the lockout.
	SetPassword(ctx context.Context, userID, hash string, at time.Time) error
	// SetTOTP stores the sealed TOTP seed and whether enrolment finished.
	SetTOTP(ctx context.Context, userID string, sealedSeed []byte, enrolled bool) error
	// UseTOTPStep records that the user's TOTP code of time step step was
	// accepted. A step not after the last one recorded is Conflict, so a
	// code is accepted once (RFC 6238 §5.2). Unknown users too are Conflict.
	UseTOTPStep(ctx context.Context, userID string, step int64) error
	// SignInFailed counts a failed sign-in; when the count reaches limit the
	// account is locked until at+lockFor and the count starts again. It
	// returns the lock's end (zero when not locked).
	SignInFailed(ctx context.Context, userID string, at time.Time, limit int, lockFor time.Duration) (time.Time, error)
	// SetDisabled disables or enables an account. Disabling also ends the
	// user's sessions and revokes every grant the user gave, in the same
	// transaction, so nothing issued before keeps working.
	SetDisabled(ctx context.Context, userID string, disabled bool, at time.Time) error
	// SignInSucceeded clears the failure count.
	SignInSucceeded(ctx context.Context, userID string) error

	// CreateClient registers an OAuth client; a taken id is Conflict.
	CreateClient(ctx context.Context, c Client) error
	// Client returns a client by id.
	Client(ctx context.Context, id string) (*Client, error)
	// Clients returns every client, by id.
	Clients(ctx context.Context) ([]Client, error)

	// CreateSession stores a browser session of the sign-in pages.
	CreateSession(ctx context.Context, s Session) error
	// Session returns a session by the digest of its cookie.
	Session(ctx context.Context, idHash string) (*Session, error)
	// TouchSession records activity, and the second factor when mfa is true.
	TouchSession(ctx context.Context, idHash string, seen time.Time, mfa bool) error
	// DeleteSession ends a session (sign-out); unknown is not an error.
	DeleteSession(ctx context.Context, idHash string) error

	// CreateGrant stores what a user (or a backend client) authorized.
	CreateGrant(ctx context.Context, g Grant) error
	// Grant returns a grant by id.
	Grant(ctx context.Context, id string) (*Grant, error)
	// RevokeGrant revokes a grant, and with it every token issued under it.
	// Revoking a revoked or unknown grant is not an error (RFC 7009 §2.2).
	RevokeGrant(ctx context.Context, id string, at time.Time) error

	// CreateCode stores an authorization code (by digest).
	CreateCode(ctx context.Context, c AuthCode) error
	// ConsumeCode marks a code used and returns it. A code used before is
	// returned with Conflict, so the caller can revoke what it granted
	// (RFC 6749 §4.1.2); an unknown one is NotFound.
	ConsumeCode(ctx context.Context, hash string, at time.Time) (*AuthCode, error)

	// CreateRefreshToken stores a refresh token (by digest).
	CreateRefreshToken(ctx context.Context, r RefreshToken) error
	// RotateRefreshToken marks the token hash used and stores next in its
	// place, atomically. A token used before returns Conflict with the old
	// token, so the caller can revoke its grant (reuse detection, OAuth 2.0
	// Security BCP §4.14.2); an unknown one is NotFound.
	RotateRefreshToken(ctx context.Context, hash string, next RefreshToken, at time.Time) (*RefreshToken, error)
	// RefreshToken returns a refresh token by digest.
	RefreshToken(ctx context.Context, hash string) (*RefreshToken, error)

	// CreateLaunch stores an EHR launch context.
	CreateLaunch(ctx context.Context, l Launch) error
	// Launch returns a launch by id.
	Launch(ctx context.Context, id string) (*Launch, error)

	// SigningKeys returns the signing keys created at or after since, newest
	// first.
	SigningKeys(ctx context.Context, since time.Time) ([]SigningKey, error)
	// AddSigningKey stores a new signing key.
	AddSigningKey(ctx context.Context, k SigningKey) error

	// NoteJTI records that issuer used jti, remembered until expires. A jti
	// seen before and not yet expired is Conflict (a replayed assertion).
	// Expired entries are purged on the way.
	NoteJTI(ctx context.Context, issuer, jti string, expires, at time.Time) error
}

// User is an account.
type User struct {
	ID       string
	Username string
	// PasswordHash is the PHC string of an argon2id hash.
	PasswordHash string
	// Kind is "practitioner" or "patient".
	Kind string
	// FHIRUser is the user's resource: "Practitioner/…" or "Patient/…".
	FHIRUser string
	// Memberships are a practitioner's roles at organizations.
	Memberships []Membership
	Failures    int       // failed sign-ins since the last success or lock
	LockedUntil time.Time // zero when not locked
	// TOTPSeed is the sealed TOTP seed, nil when none; MFAEnrolled says the
	// user confirmed it with a code.
	TOTPSeed    []byte
	MFAEnrolled bool
	Disabled    bool
	CreatedAt   time.Time
	PasswordAt  time.Time // when the password was last set
}

// Membership is a role at an organization.
type Membership struct {
	Org  string
	Role string
}

// Client is a registered OAuth client.
type Client struct {
	ID   string
	Name string
	// SecretHash is the argon2id hash of a confidential client's secret, ""
	// for a public or asymmetric client.
	SecretHash   string
	Scopes       string // the scopes it may be granted, space separated
	RedirectURIs []string
	LaunchURI    string
	JWKSURL      string // where its public keys are (private_key_jwt)
	JWKS         string // or its public keys inline, as a JWK Set
	// Orgs are the organizations it is enabled for.
	Orgs      []string
	CreatedAt time.Time
}

// Session is a browser session of the sign-in pages.
type Session struct {
	IDHash    string
	UserID    string
	CreatedAt time.Time // the sign-in (OIDC auth_time)
	LastSeen  time.Time
	ExpiresAt time.Time // absolute end, whatever the activity
	// MFA says the second factor was given (or is not needed).
	MFA bool
}

// Grant is one authorization: what a user let a client do (or a backend
// client's own client_credentials grant). Tokens carry its id; revoking it
// revokes them all.
type Grant struct {
	ID        string
	ClientID  string
	UserID    string // "" for client_credentials
	SessionID string // the session's digest, for online_access
	Scopes    string
	Patient   string
	Encounter string
	// Context is extra launch context as JSON (SMART fhirContext), or "".
	Context string
	// Launch is the id of the EHR launch it came from, "" for a standalone
	// launch or a backend grant.
	Launch    string
	CreatedAt time.Time
	ExpiresAt time.Time // the last moment a refresh may extend it
	RevokedAt time.Time // zero while valid
}

// AuthCode is an authorization code waiting for the token endpoint.
type AuthCode struct {
	Hash          string
	GrantID       string
	ClientID      string
	RedirectURI   string
	CodeChallenge string // PKCE S256 challenge
	Nonce         string
	AuthTime      time.Time
	ExpiresAt     time.Time
	UsedAt        time.Time // zero until redeemed
}

// RefreshToken is a refresh token (by digest).
type RefreshToken struct {
	Hash      string
	GrantID   string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero until rotated
}

// Launch is the context of an EHR launch, bound to one client.
type Launch struct {
	ID        string
	ClientID  string
	Patient   string
	Encounter string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SigningKey is a key the authorization server signs tokens with.
type SigningKey struct {
	KID       string
	Alg       string // JWS algorithm, e.g. RS256
	Sealed    []byte // the private key, sealed with the deployment's secret key
	CreatedAt time.Time
}
