package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// TokenRequest is a request to the token endpoint (RFC 6749 §4.1.3, §4.4,
// §6).
type TokenRequest struct {
	GrantType    string
	Code         string
	RedirectURI  string
	CodeVerifier string
	RefreshToken string
	Scope        string
	Client       ClientCredentials
	Addr         string
}

// TokenResponse is the token endpoint's answer, with SMART's launch context
// (https://hl7.org/fhir/smart-app-launch/STU2.2/app-launch.html#response-5).
type TokenResponse struct {
	AccessToken       string              `json:"access_token"`
	TokenType         string              `json:"token_type"`
	ExpiresIn         int                 `json:"expires_in"`
	Scope             string              `json:"scope"`
	RefreshToken      string              `json:"refresh_token,omitempty"`
	IDToken           string              `json:"id_token,omitempty"`
	Patient           string              `json:"patient,omitempty"`
	Encounter         string              `json:"encounter,omitempty"`
	FHIRContext       []map[string]string `json:"fhirContext,omitempty"`
	NeedPatientBanner *bool               `json:"need_patient_banner,omitempty"`
	SMARTStyleURL     string              `json:"smart_style_url,omitempty"`
}

// Token answers a token request.
func (s *Server) Token(ctx context.Context, req TokenRequest) (*TokenResponse, error) {
	switch req.GrantType {
	case "authorization_code", "refresh_token", "client_credentials":
	case "":
		return nil, oauthErr("invalid_request", "grant_type is required")
	default:
		return nil, oauthErr("unsupported_grant_type", "grant_type %q is not supported", req.GrantType)
	}
	c, method, err := s.authenticateClient(ctx, req.Client)
	if err != nil {
		if e, ok := err.(*Error); ok {
			// Failed client authentication is what credential stuffing
			// against the token endpoint looks like: audit it.
			claimed := req.Client.ClientID
			if req.Client.Basic {
				claimed = req.Client.BasicID
			}
			s.audit(ctx, audit.Record{Action: audit.Operation, Operation: "token", Outcome: audit.MinorFailure,
				OutcomeDesc: req.GrantType + ": " + e.Code, Client: audit.Agent{ID: claimed, Address: req.Addr}})
		}
		return nil, err
	}
	var resp *TokenResponse
	switch req.GrantType {
	case "authorization_code":
		resp, err = s.exchangeCode(ctx, c, req)
	case "refresh_token":
		resp, err = s.refresh(ctx, c, req)
	case "client_credentials":
		resp, err = s.clientCredentials(ctx, c, method, req)
	}
	rec := audit.Record{Action: audit.Operation, Operation: "token", Outcome: audit.Success,
		Client: audit.Agent{ID: c.ID, Address: req.Addr}}
	if err != nil {
		rec.Outcome = audit.MinorFailure
		if e, ok := err.(*Error); ok {
			rec.OutcomeDesc = req.GrantType + ": " + e.Code
		} else {
			rec.Outcome = audit.SeriousFailure
		}
	} else if resp.Patient != "" {
		rec.Patients = []string{resp.Patient}
	}
	s.audit(ctx, rec)
	return resp, err
}

func (s *Server) exchangeCode(ctx context.Context, c *store.Client, req TokenRequest) (*TokenResponse, error) {
	if req.Code == "" {
		return nil, oauthErr("invalid_request", "code is required")
	}
	now := s.now()
	code, err := s.id.ConsumeCode(ctx, digest(req.Code), now)
	switch {
	case isKind(err, outcome.Conflict):
		// A code used twice: someone else may hold it. Revoke everything
		// it granted (RFC 6749 §4.1.2).
		if rerr := s.id.RevokeGrant(ctx, code.GrantID, now); rerr != nil {
			return nil, rerr
		}
		s.log.Warn("authorization code reused; its tokens are revoked", "client", c.ID)
		return nil, oauthErr("invalid_grant", "the code was used before")
	case isKind(err, outcome.NotFound):
		return nil, oauthErr("invalid_grant", "the code is not valid")
	case err != nil:
		return nil, err
	}
	if code.ClientID != c.ID {
		return nil, oauthErr("invalid_grant", "the code was issued to another client")
	}
	if !now.Before(code.ExpiresAt) {
		return nil, oauthErr("invalid_grant", "the code has expired")
	}
	if req.RedirectURI != code.RedirectURI {
		return nil, oauthErr("invalid_grant", "redirect_uri differs from the authorization request's")
	}
	if !pkceMatches(code.CodeChallenge, req.CodeVerifier) {
		return nil, oauthErr("invalid_grant", "code_verifier does not match the code_challenge")
	}
	g, err := s.liveGrant(ctx, code.GrantID, c.ID)
	if err != nil {
		return nil, err
	}
	return s.issue(ctx, c, g, code, nil, true)
}

// pkceMatches checks a verifier against an S256 challenge (RFC 7636 §4.6).
func pkceMatches(challenge, verifier string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

// liveGrant returns a grant of client that is neither revoked nor expired.
func (s *Server) liveGrant(ctx context.Context, id, clientID string) (*store.Grant, error) {
	g, err := s.id.Grant(ctx, id)
	if isKind(err, outcome.NotFound) {
		return nil, oauthErr("invalid_grant", "the grant is not known")
	}
	if err != nil {
		return nil, err
	}
	if g.ClientID != clientID {
		return nil, oauthErr("invalid_grant", "the grant belongs to another client")
	}
	if !g.RevokedAt.IsZero() {
		return nil, oauthErr("invalid_grant", "the grant was revoked")
	}
	if !s.now().Before(g.ExpiresAt) {
		return nil, oauthErr("invalid_grant", "the grant has expired")
	}
	return g, nil
}

func (s *Server) refresh(ctx context.Context, c *store.Client, req TokenRequest) (*TokenResponse, error) {
	if req.RefreshToken == "" {
		return nil, oauthErr("invalid_request", "refresh_token is required")
	}
	now := s.now()
	next := randomToken()
	old, err := s.id.RefreshToken(ctx, digest(req.RefreshToken))
	if isKind(err, outcome.NotFound) {
		return nil, oauthErr("invalid_grant", "the refresh token is not valid")
	}
	if err != nil {
		return nil, err
	}
	g, err := s.liveGrant(ctx, old.GrantID, c.ID)
	if err != nil {
		return nil, err
	}
	if !now.Before(old.ExpiresAt) {
		return nil, oauthErr("invalid_grant", "the refresh token has expired")
	}
	granted, _ := auth.ParseScopes(g.Scopes)
	if granted.Has(auth.OnlineAccessScope) && !granted.Has(auth.OfflineAccessScope) {
		// online_access lives as long as the user's session.
		if _, err := s.id.Session(ctx, g.SessionID); err != nil {
			return nil, oauthErr("invalid_grant", "the session this token belongs to has ended")
		}
	}
	var narrowed *auth.Scopes
	if req.Scope != "" {
		want, err := auth.ParseScopes(req.Scope)
		if err != nil {
			return nil, oauthErr("invalid_scope", "%v", err)
		}
		ok, refused := granted.Grant(want)
		if len(refused.List()) > 0 {
			return nil, oauthErr("invalid_scope", "a refresh cannot widen the grant (%s)", refused)
		}
		narrowed = &ok
	}
	_, err = s.id.RotateRefreshToken(ctx, old.Hash, store.RefreshToken{Hash: digest(next), GrantID: g.ID,
		CreatedAt: now, ExpiresAt: g.ExpiresAt}, now)
	if isKind(err, outcome.Conflict) {
		// Reuse of a rotated token: it leaked. Revoke the grant (OAuth 2.0
		// Security BCP §4.14.2).
		if rerr := s.id.RevokeGrant(ctx, g.ID, now); rerr != nil {
			return nil, rerr
		}
		s.log.Warn("refresh token reused; its grant is revoked", "client", c.ID)
		return nil, oauthErr("invalid_grant", "the refresh token was used before")
	}
	if err != nil {
		return nil, err
	}
	resp, err := s.issue(ctx, c, g, nil, narrowed, false)
	if err != nil {
		return nil, err
	}
	resp.RefreshToken = next
	return resp, nil
}

func (s *Server) clientCredentials(ctx context.Context, c *store.Client, method AuthMethod, req TokenRequest) (*TokenResponse, error) {
	// Backend services use private_key_jwt; the operator grant uses a
	// secret with HTTP Basic. A public client has no credentials to grant.
	if method != AuthPrivateKeyJWT && method != AuthSecretBasic {
		return nil, oauthErr("unauthorized_client", "client_credentials needs private_key_jwt (or, for operator clients, client_secret_basic)")
	}
	requested, err := auth.ParseScopes(req.Scope)
	if !auth.OnlyUnknown(err) {
		return nil, oauthErr("invalid_scope", "%v", err)
	}
	var system auth.Scopes
	for _, sc := range requested.List() {
		if sc.Kind == auth.ResourceScope && sc.Context == auth.SystemContext {
			system = system.With(sc)
		}
	}
	allowed, _ := auth.ParseScopes(c.Scopes)
	granted, _ := allowed.Grant(system)
	if len(granted.List()) == 0 {
		return nil, oauthErr("invalid_scope", "request system/ scopes the client is registered for")
	}
	now := s.now()
	g := &store.Grant{ID: store.NewID(), ClientID: c.ID, Scopes: granted.String(), CreatedAt: now,
		ExpiresAt: now.Add(s.opts.AccessTokenTTL)}
	if err := s.id.CreateGrant(ctx, *g); err != nil {
		return nil, err
	}
	return s.issue(ctx, c, g, nil, nil, false)
}

// accessClaims are the claims of our access tokens: RFC 9068's, plus what
// rebuilding the auth.Principal needs.
type accessClaims struct {
	jwt.Claims
	ClientID    string             `json:"client_id"`
	Scope       string             `json:"scope"`
	GrantID     string             `json:"gid"`
	Kind        string             `json:"kind"` // "app" or "backend"
	UserKind    string             `json:"ukind,omitempty"`
	FHIRUser    string             `json:"fhirUser,omitempty"`
	Memberships []store.Membership `json:"roles,omitempty"`
	Patient     string             `json:"patient,omitempty"`
	Encounter   string             `json:"encounter,omitempty"`
	Orgs        []string           `json:"orgs,omitempty"`
}

type idClaims struct {
	jwt.Claims
	AuthTime          *jwt.NumericDate `json:"auth_time,omitempty"`
	Nonce             string           `json:"nonce,omitempty"`
	AZP               string           `json:"azp,omitempty"`
	FHIRUser          string           `json:"fhirUser,omitempty"`
	PreferredUsername string           `json:"preferred_username,omitempty"`
}

// issue makes the tokens of grant g for client c. code is the redeemed
// code (for the id_token's nonce), narrowed the scopes of a narrowing
// refresh, withRefresh whether a refresh token is due.
func (s *Server) issue(ctx context.Context, c *store.Client, g *store.Grant, code *store.AuthCode, narrowed *auth.Scopes, withRefresh bool) (*TokenResponse, error) {
	now := s.now()
	scopes, _ := auth.ParseScopes(g.Scopes)
	if narrowed != nil {
		scopes = *narrowed
	}
	exp := now.Add(s.opts.AccessTokenTTL)
	ac := accessClaims{
		Claims: jwt.Claims{Issuer: s.issuer, Audience: jwt.Audience{s.fhir}, IssuedAt: jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(exp), ID: randomToken()},
		ClientID: c.ID, Scope: scopes.String(), GrantID: g.ID, Patient: g.Patient, Encounter: g.Encounter,
	}
	var u *store.User
	if g.UserID != "" {
		var err error
		if u, err = s.id.User(ctx, g.UserID); err != nil {
			return nil, err
		}
		if u.Disabled {
			return nil, oauthErr("invalid_grant", "the account is disabled")
		}
		ac.Subject, ac.Kind, ac.UserKind, ac.FHIRUser, ac.Memberships = u.ID, "app", u.Kind, u.FHIRUser, enabledMemberships(c, u)
	} else {
		ac.Subject, ac.Kind, ac.Orgs = c.ID, "backend", c.Orgs
	}
	at, err := s.keys.sign(ctx, "at+jwt", ac)
	if err != nil {
		return nil, err
	}
	resp := &TokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: int(s.opts.AccessTokenTTL / time.Second),
		Scope: scopes.String(), Patient: g.Patient, Encounter: g.Encounter}
	if g.Context != "" {
		_ = json.Unmarshal([]byte(g.Context), &resp.FHIRContext)
	}
	if u != nil {
		banner := g.Launch == "" && g.Patient != "" // an EHR launch shows the app inside the chart, with its banner
		resp.NeedPatientBanner = &banner
		resp.SMARTStyleURL = s.Endpoint("smart-style.json")
		if scopes.Has(auth.OpenIDScope) && (scopes.Has(auth.FHIRUserScope) || scopes.Has(auth.ProfileScope)) {
			ic := idClaims{Claims: jwt.Claims{Issuer: s.issuer, Subject: u.ID, Audience: jwt.Audience{c.ID},
				IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(exp)}, AZP: c.ID}
			if code != nil {
				ic.Nonce, ic.AuthTime = code.Nonce, jwt.NewNumericDate(code.AuthTime)
			}
			if scopes.Has(auth.FHIRUserScope) {
				ic.FHIRUser = s.fhir + "/" + u.FHIRUser
			}
			if scopes.Has(auth.ProfileScope) {
				ic.PreferredUsername = u.Username
			}
			if resp.IDToken, err = s.keys.sign(ctx, "JWT", ic); err != nil {
				return nil, err
			}
		}
		if withRefresh && (scopes.Has(auth.OfflineAccessScope) || scopes.Has(auth.OnlineAccessScope)) {
			rt := randomToken()
			if err := s.id.CreateRefreshToken(ctx, store.RefreshToken{Hash: digest(rt), GrantID: g.ID, CreatedAt: now,
				ExpiresAt: g.ExpiresAt}); err != nil {
				return nil, err
			}
			resp.RefreshToken = rt
		}
	}
	return resp, nil
}

// parseAccess verifies an access token's signature, issuer, audience and
// lifetime, and that its grant is live.
func (s *Server) parseAccess(ctx context.Context, token string) (*accessClaims, *store.Grant, error) {
	if strings.Count(token, ".") != 2 || len(token) > 16<<10 {
		return nil, nil, errString("not a JWT")
	}
	now := s.now()
	ac := s.verified.get(token, now)
	if ac == nil {
		ac = new(accessClaims)
		if err := s.keys.verify(ctx, token, ac); err != nil {
			return nil, nil, err
		}
		if err := ac.ValidateWithLeeway(jwt.Expected{Issuer: s.issuer, AnyAudience: jwt.Audience{s.fhir}, Time: now}, 30*time.Second); err != nil {
			return nil, nil, err
		}
		if ac.GrantID == "" || ac.Expiry == nil || (ac.Kind != "app" && ac.Kind != "backend") {
			return nil, nil, errString("not an access token")
		}
		s.verified.put(token, ac, now)
	} else if ac.NotBefore != nil && now.Add(30*time.Second).Before(ac.NotBefore.Time()) {
		return nil, nil, errString("not yet valid")
	}
	g, err := s.id.Grant(ctx, ac.GrantID)
	if err != nil {
		if isKindAny(err) {
			return nil, nil, errString("unknown grant")
		}
		return nil, nil, err
	}
	if !g.RevokedAt.IsZero() {
		return nil, nil, errString("the token was revoked")
	}
	return ac, g, nil
}
