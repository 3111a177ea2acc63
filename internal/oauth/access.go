package oauth

import (
	"context"
	"strings"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/outcome"
)

// Authenticate returns the principal of an access token: the app acting for
// its user, or the backend client. Anything else — malformed, expired, not
// yet valid, signed by another key, for another audience, revoked — is an
// *outcome.Error of kind Unauthorized whose message says no more than that
// (the details go to the debug log: RFC 6750 §3.1 lets the server keep
// them).
func (s *Server) Authenticate(ctx context.Context, token string) (auth.Principal, error) {
	ac, _, err := s.parseAccess(ctx, token)
	if err != nil {
		if fault(err) {
			return auth.Principal{}, err
		}
		s.log.Debug("access token refused", "err", err)
		return auth.Principal{}, outcome.New(outcome.Unauthorized, "login", "the access token is invalid, expired or revoked")
	}
	scopes, err := auth.ParseScopes(ac.Scope)
	if !auth.OnlyUnknown(err) {
		return auth.Principal{}, outcome.New(outcome.Unauthorized, "login", "the access token is invalid")
	}
	p := auth.Principal{ClientID: ac.ClientID, Scopes: scopes, Patient: ac.Patient, Encounter: ac.Encounter}
	switch ac.Kind {
	case "backend":
		p.Kind = auth.Backend
		p.Organizations = ac.Orgs
	default:
		p.Kind = auth.App
		p.User = auth.User{ID: ac.Subject, FHIRUser: ac.FHIRUser}
		if ac.UserKind == "patient" {
			p.User.Kind = auth.PatientUser
			p.User.Patient = strings.TrimPrefix(ac.FHIRUser, "Patient/")
		} else {
			p.User.Kind = auth.Practitioner
			for _, m := range ac.Memberships {
				role, err := auth.ParseRole(m.Role)
				if err != nil {
					continue
				}
				p.User.Memberships = append(p.User.Memberships, auth.Membership{Organization: m.Org, Role: role})
			}
		}
	}
	return p, nil
}

// Introspection is an introspection response (RFC 7662 §2.2); inactive
// tokens answer only {"active": false}.
type Introspection struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	Sub       string   `json:"sub,omitempty"`
	Exp       int64    `json:"exp,omitempty"`
	Iat       int64    `json:"iat,omitempty"`
	Iss       string   `json:"iss,omitempty"`
	Aud       []string `json:"aud,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
	Patient   string   `json:"patient,omitempty"`
	Encounter string   `json:"encounter,omitempty"`
	FHIRUser  string   `json:"fhirUser,omitempty"`
}

// Introspect answers whether a token is active, for an authenticated
// confidential client (a resource server or the app itself).
func (s *Server) Introspect(ctx context.Context, cc ClientCredentials, token string) (*Introspection, error) {
	_, method, err := s.authenticateClient(ctx, cc)
	if err != nil {
		return nil, err
	}
	if method == AuthNone {
		return nil, badClient("introspection needs client authentication")
	}
	if ac, g, err := s.parseAccess(ctx, token); err == nil {
		out := &Introspection{Active: true, Scope: ac.Scope, ClientID: ac.ClientID, Sub: ac.Subject, Iss: ac.Issuer,
			Aud: ac.Audience, TokenType: "Bearer", Patient: g.Patient, Encounter: g.Encounter}
		if ac.FHIRUser != "" {
			out.FHIRUser = s.fhir + "/" + ac.FHIRUser
		}
		out.Exp, out.Iat = ac.Expiry.Time().Unix(), ac.IssuedAt.Time().Unix()
		return out, nil
	} else if fault(err) {
		return nil, err
	}
	rt, err := s.id.RefreshToken(ctx, digest(token))
	if err != nil {
		if isKindAny(err) {
			return &Introspection{}, nil
		}
		return nil, err
	}
	g, err := s.id.Grant(ctx, rt.GrantID)
	if err != nil || !rt.UsedAt.IsZero() || !g.RevokedAt.IsZero() || !s.now().Before(rt.ExpiresAt) {
		return &Introspection{}, nil
	}
	return &Introspection{Active: true, Scope: g.Scopes, ClientID: g.ClientID, Sub: g.UserID, Exp: rt.ExpiresAt.Unix(),
		Iat: rt.CreatedAt.Unix(), Iss: s.issuer, TokenType: "refresh_token", Patient: g.Patient, Encounter: g.Encounter}, nil
}

// Revoke revokes a token of the calling client and everything issued under
// the same grant (RFC 7009 §2.1 allows it, and an app signing out wants
// it). Tokens that are unknown, invalid or another client's are ignored:
// the answer is the same, as §2.2 asks.
func (s *Server) Revoke(ctx context.Context, cc ClientCredentials, token, addr string) error {
	c, _, err := s.authenticateClient(ctx, cc)
	if err != nil {
		return err
	}
	grantID := ""
	if ac, _, err := s.parseAccess(ctx, token); err == nil {
		grantID = ac.GrantID
	} else if rt, err := s.id.RefreshToken(ctx, digest(token)); err == nil {
		grantID = rt.GrantID
	}
	if grantID == "" {
		return nil
	}
	g, err := s.id.Grant(ctx, grantID)
	if err != nil || g.ClientID != c.ID {
		return nil
	}
	if err := s.id.RevokeGrant(ctx, g.ID, s.now()); err != nil {
		return err
	}
	s.audit(ctx, audit.Record{Action: audit.Operation, Operation: "revoke", Outcome: audit.Success,
		User: audit.Agent{ID: g.UserID}, Client: audit.Agent{ID: c.ID, Address: addr}})
	return nil
}

// UserInfo returns the OIDC claims of an access token's user
// (OpenID Connect Core §5.3); the token must carry openid.
func (s *Server) UserInfo(ctx context.Context, token string) (map[string]string, error) {
	ac, _, err := s.parseAccess(ctx, token)
	if err != nil || ac.Kind != "app" {
		return nil, outcome.New(outcome.Unauthorized, "login", "the access token is invalid, expired or revoked")
	}
	scopes, _ := auth.ParseScopes(ac.Scope)
	if !scopes.Has(auth.OpenIDScope) {
		return nil, outcome.New(outcome.Forbidden, "forbidden", "userinfo needs a token with the openid scope")
	}
	out := map[string]string{"sub": ac.Subject}
	if scopes.Has(auth.FHIRUserScope) {
		out["fhirUser"] = s.fhir + "/" + ac.FHIRUser
	}
	if scopes.Has(auth.ProfileScope) {
		if u, err := s.id.User(ctx, ac.Subject); err == nil {
			out["preferred_username"] = u.Username
		}
	}
	return out, nil
}
