package oauth

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// AuthorizeRequest holds the parameters of the authorization endpoint
// (RFC 6749 §4.1.1, RFC 7636 §4.3, SMART App Launch 2.2 §"Obtain
// authorization code":
// https://hl7.org/fhir/smart-app-launch/STU2.2/app-launch.html#obtain-authorization-code).
type AuthorizeRequest struct {
	ResponseType        string
	ClientID            string
	RedirectURI         string
	Scope               string
	State               string
	Aud                 string
	CodeChallenge       string
	CodeChallengeMethod string
	Launch              string
	Nonce               string
}

// Query renders the request back as the query of the authorization
// endpoint, so that the sign-in, second-factor and patient pages can return
// to it.
func (r AuthorizeRequest) Query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("response_type", r.ResponseType)
	set("client_id", r.ClientID)
	set("redirect_uri", r.RedirectURI)
	set("scope", r.Scope)
	set("state", r.State)
	set("aud", r.Aud)
	set("code_challenge", r.CodeChallenge)
	set("code_challenge_method", r.CodeChallengeMethod)
	set("launch", r.Launch)
	set("nonce", r.Nonce)
	return q
}

// AuthorizeRequestFrom reads the parameters from a query.
func AuthorizeRequestFrom(q url.Values) AuthorizeRequest {
	return AuthorizeRequest{
		ResponseType: q.Get("response_type"), ClientID: q.Get("client_id"), RedirectURI: q.Get("redirect_uri"),
		Scope: q.Get("scope"), State: q.Get("state"), Aud: q.Get("aud"), CodeChallenge: q.Get("code_challenge"),
		CodeChallengeMethod: q.Get("code_challenge_method"), Launch: q.Get("launch"), Nonce: q.Get("nonce"),
	}
}

// Authorization is a checked authorization request, waiting for the user.
type Authorization struct {
	Req    AuthorizeRequest
	Client *store.Client
	// Scopes are what may be granted: the requested scopes the client is
	// registered for, unknown ones dropped.
	Scopes auth.Scopes
	// Launch is the EHR launch, nil for a standalone launch.
	Launch *store.Launch
}

// NeedsPatient reports whether the user must pick a patient: a standalone
// launch asking for launch/patient.
func (a *Authorization) NeedsPatient() bool {
	if a.Launch != nil {
		return false
	}
	return slices.ContainsFunc(a.Scopes.List(), func(s auth.Scope) bool {
		return s.Kind == auth.LaunchContextScope && strings.EqualFold(s.LaunchType, "patient")
	})
}

// Optional reports whether the user may untick a scope on the consent page:
// access to data and long-lived access are the user's to refuse; identity
// and launch context are what the app needs to work at all.
func Optional(s auth.Scope) bool {
	switch s.Kind {
	case auth.ResourceScope, auth.OfflineAccessScope, auth.OnlineAccessScope, auth.ProfileScope:
		return true
	}
	return false
}

// CheckAuthorize checks an authorization request. When the client or the
// redirect URI is wrong it returns a nil Authorization and an *Error that
// must be shown to the user, never sent to the redirect URI (that would be
// an open redirect: RFC 6749 §4.1.2.1). Otherwise the Authorization is not
// nil, and an *Error goes back to the client through RedirectError.
func (s *Server) CheckAuthorize(ctx context.Context, req AuthorizeRequest) (*Authorization, error) {
	if req.ClientID == "" {
		return nil, oauthErr("invalid_request", "client_id is required")
	}
	c, err := s.id.Client(ctx, req.ClientID)
	if isKind(err, outcome.NotFound) {
		return nil, oauthErr("invalid_client", "the client %q is not registered", req.ClientID)
	}
	if err != nil {
		return nil, err
	}
	if req.RedirectURI == "" || !slices.Contains(c.RedirectURIs, req.RedirectURI) {
		// Exact string match (OAuth 2.0 Security BCP §4.1.3).
		return nil, oauthErr("invalid_request", "redirect_uri is not one registered for the client")
	}
	a := &Authorization{Req: req, Client: c}
	if req.ResponseType != "code" {
		return a, oauthErr("unsupported_response_type", "response_type must be code")
	}
	if req.State == "" {
		return a, oauthErr("invalid_request", "state is required")
	}
	if req.CodeChallengeMethod != "S256" {
		// SMART 2.2 requires S256 and forbids plain.
		return a, oauthErr("invalid_request", "code_challenge_method must be S256 (PKCE is required; plain is not supported)")
	}
	if !validChallenge(req.CodeChallenge) {
		return a, oauthErr("invalid_request", "code_challenge must be 43 base64url characters (S256)")
	}
	if strings.TrimSuffix(req.Aud, "/") != s.fhir {
		// SMART: the server must refuse an aud it does not serve, so a
		// token is never sent to a server pretending to be us.
		return a, oauthErr("invalid_request", "aud must be this server's FHIR base URL, %s", s.fhir)
	}
	a.Scopes, err = s.grantable(c, req.Scope)
	if err != nil {
		return a, err
	}
	if req.Launch != "" {
		l, err := s.id.Launch(ctx, req.Launch)
		if err != nil || l.ClientID != c.ID || !s.now().Before(l.ExpiresAt) {
			return a, oauthErr("invalid_request", "the launch is unknown, expired or for another app")
		}
		a.Launch = l
	} else if a.Scopes.Has(auth.LaunchScope) {
		return a, oauthErr("invalid_request", "scope launch needs the launch parameter of an EHR launch")
	}
	return a, nil
}

// validChallenge: BASE64URL(SHA256(verifier)) is 43 characters (RFC 7636
// §4.2).
func validChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	for i := range len(c) {
		ch := c[i]
		if !(ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			return false
		}
	}
	return true
}

// grantable parses a requested scope string and keeps what the client is
// registered for. Unknown scopes are dropped (RFC 6749 §3.3 lets a server
// grant less); malformed ones are an error.
func (s *Server) grantable(c *store.Client, scope string) (auth.Scopes, error) {
	requested, err := auth.ParseScopes(scope)
	if !auth.OnlyUnknown(err) {
		return auth.Scopes{}, oauthErr("invalid_scope", "%v", err)
	}
	allowed, _ := auth.ParseScopes(c.Scopes)
	granted, _ := allowed.Grant(requested)
	if len(granted.List()) == 0 {
		return auth.Scopes{}, oauthErr("invalid_scope", "none of the requested scopes is allowed for this client")
	}
	return granted, nil
}

// RedirectError returns the URL that sends err back to the client's
// redirect URI with the request's state (RFC 6749 §4.1.2.1).
func (a *Authorization) RedirectError(err *Error) string {
	q := url.Values{}
	q.Set("error", err.Code)
	q.Set("error_description", err.Description)
	if a.Req.State != "" {
		q.Set("state", a.Req.State)
	}
	return withQuery(a.Req.RedirectURI, q)
}

func withQuery(uri string, q url.Values) string {
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
	}
	return uri + sep + q.Encode()
}

// Decision is what the user chose on the consent page.
type Decision struct {
	// Scopes are the scopes the user left ticked, as strings; scopes that
	// are not Optional are granted whatever the form says.
	Scopes []string
	// Patient is the patient picked for a standalone launch/patient.
	Patient string
	Addr    string
}

// Approve issues an authorization code for a when the signed-in user
// allowed it, and returns the redirect URL that carries it.
func (s *Server) Approve(ctx context.Context, a *Authorization, sess *Session, d Decision) (string, error) {
	if !sess.MFADone() {
		return "", ErrNoSession
	}
	var granted auth.Scopes
	for _, sc := range a.Scopes.List() {
		if !Optional(sc) || slices.Contains(d.Scopes, sc.String()) {
			granted = granted.With(sc)
		}
	}
	u := sess.User
	if ok, err := s.enabledFor(ctx, a.Client, u); err != nil {
		return "", err
	} else if !ok {
		return a.RedirectError(oauthErr("access_denied", "this app is not enabled for your organization")), nil
	}
	g := store.Grant{ID: store.NewID(), ClientID: a.Client.ID, UserID: u.ID, SessionID: sess.Stored.IDHash,
		Scopes: granted.String(), CreatedAt: s.now()}
	switch {
	case a.Launch != nil:
		g.Patient, g.Encounter, g.Launch = a.Launch.Patient, a.Launch.Encounter, a.Launch.ID
	case u.Kind == "patient":
		g.Patient = strings.TrimPrefix(u.FHIRUser, "Patient/")
	case a.NeedsPatient():
		ok, err := s.mayPick(ctx, u, d.Patient)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", oauthErr("invalid_request", "pick one of the patients offered")
		}
		g.Patient = d.Patient
	}
	if granted.HasContext(auth.PatientContext) && g.Patient == "" {
		return a.RedirectError(oauthErr("invalid_scope", "patient/ scopes need a patient in context: request launch/patient")), nil
	}
	if g.Encounter != "" {
		ctxJSON, _ := json.Marshal([]map[string]string{{"reference": "Encounter/" + g.Encounter}})
		g.Context = string(ctxJSON)
	}
	g.ExpiresAt = s.grantExpiry(granted, sess, g.CreatedAt)
	if err := s.id.CreateGrant(ctx, g); err != nil {
		return "", err
	}
	code := randomToken()
	if err := s.id.CreateCode(ctx, store.AuthCode{Hash: digest(code), GrantID: g.ID, ClientID: a.Client.ID,
		RedirectURI: a.Req.RedirectURI, CodeChallenge: a.Req.CodeChallenge, Nonce: a.Req.Nonce,
		AuthTime: sess.Stored.CreatedAt, ExpiresAt: g.CreatedAt.Add(s.opts.CodeTTL)}); err != nil {
		return "", err
	}
	rec := audit.Record{Action: audit.Operation, Operation: "authorize", Outcome: audit.Success,
		User: audit.Agent{ID: u.ID, Reference: u.FHIRUser}, Client: audit.Agent{ID: a.Client.ID, Address: d.Addr}}
	if g.Patient != "" {
		rec.Patients = []string{g.Patient}
	}
	s.audit(ctx, rec)
	q := url.Values{}
	q.Set("code", code)
	q.Set("state", a.Req.State)
	return withQuery(a.Req.RedirectURI, q), nil
}

// Deny returns the redirect URL that tells the client the user refused.
func (s *Server) Deny(ctx context.Context, a *Authorization, sess *Session, addr string) string {
	s.audit(ctx, audit.Record{Action: audit.Operation, Operation: "authorize", Outcome: audit.MinorFailure,
		OutcomeDesc: "the user denied access", User: audit.Agent{ID: sess.User.ID, Reference: sess.User.FHIRUser},
		Client: audit.Agent{ID: a.Client.ID, Address: addr}})
	return a.RedirectError(oauthErr("access_denied", "the user denied access"))
}

// grantExpiry is how long the grant can be refreshed: offline_access for
// OfflineTTL, online_access while the session lasts, otherwise only the
// first access token.
func (s *Server) grantExpiry(granted auth.Scopes, sess *Session, now time.Time) time.Time {
	switch {
	case granted.Has(auth.OfflineAccessScope):
		return now.Add(s.opts.OfflineTTL)
	case granted.Has(auth.OnlineAccessScope) && sess != nil:
		return sess.Stored.ExpiresAt
	}
	return now.Add(s.opts.AccessTokenTTL)
}

// enabledFor reports whether client c may act for user u: a client is
// enabled per organization (`client create --org`), and a practitioner
// must hold a role at one of them, a patient user's record must belong to
// one. A client with no organizations listed is enabled everywhere.
func (s *Server) enabledFor(ctx context.Context, c *store.Client, u *store.User) (bool, error) {
	if len(c.Orgs) == 0 {
		return true, nil
	}
	if u.Kind == "patient" {
		v, err := s.opts.Store.Read(ctx, "Patient", strings.TrimPrefix(u.FHIRUser, "Patient/"))
		if err != nil {
			if isKindAny(err) {
				return false, nil
			}
			return false, err
		}
		return slices.Contains(c.Orgs, v.Org), nil
	}
	return len(enabledMemberships(c, u)) > 0, nil
}

// enabledMemberships are the user's roles at the organizations the client
// is enabled for: an app reaches no other organization's data, whatever the
// user could reach in the EHR itself.
func enabledMemberships(c *store.Client, u *store.User) []store.Membership {
	if len(c.Orgs) == 0 {
		return u.Memberships
	}
	var out []store.Membership
	for _, m := range u.Memberships {
		if slices.Contains(c.Orgs, m.Org) {
			out = append(out, m)
		}
	}
	return out
}
