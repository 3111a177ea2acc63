package oauth

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// ClientCredentials are the ways a client proves who it is at the token,
// introspection and revocation endpoints (RFC 6749 §2.3, RFC 7523 §2.2).
type ClientCredentials struct {
	ClientID     string // the client_id form parameter
	ClientSecret string // client_secret_post
	// Basic holds client_secret_basic credentials (already URL-decoded:
	// RFC 6749 §2.3.1).
	Basic               bool
	BasicID, BasicPass  string
	ClientAssertionType string
	ClientAssertion     string
}

// AuthMethod is how a client authenticated.
type AuthMethod string

// Client authentication methods, as the SMART configuration names them.
const (
	AuthNone          AuthMethod = "none"
	AuthSecretBasic   AuthMethod = "client_secret_basic"
	AuthSecretPost    AuthMethod = "client_secret_post"
	AuthPrivateKeyJWT AuthMethod = "private_key_jwt"
)

const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionAlgs are the algorithms SMART requires servers to support for
// client assertions
// (https://hl7.org/fhir/smart-app-launch/STU2.2/client-confidential-asymmetric.html#signature-verification).
var assertionAlgs = []jose.SignatureAlgorithm{jose.RS384, jose.ES384}

// maxAssertionLife bounds how far in the future an assertion's exp may be
// (SMART: "no more than five minutes in the future").
const maxAssertionLife = 5 * time.Minute

func badClient(format string, args ...any) *Error { return oauthErr("invalid_client", format, args...) }

// authenticateClient identifies and authenticates the client of a request.
// A client registered with a secret or with keys must use them; only a
// client with neither is public, identified by client_id alone.
func (s *Server) authenticateClient(ctx context.Context, cc ClientCredentials) (*store.Client, AuthMethod, error) {
	switch {
	case cc.ClientAssertionType != "" || cc.ClientAssertion != "":
		if cc.ClientAssertionType != jwtBearer {
			return nil, "", badClient("client_assertion_type must be %s", jwtBearer)
		}
		c, err := s.checkAssertion(ctx, cc.ClientAssertion)
		if err != nil {
			return nil, "", err
		}
		if cc.ClientID != "" && cc.ClientID != c.ID {
			return nil, "", badClient("client_id does not match the assertion")
		}
		return c, AuthPrivateKeyJWT, nil
	case cc.Basic, cc.ClientSecret != "":
		id, secret, method := cc.BasicID, cc.BasicPass, AuthSecretBasic
		if !cc.Basic {
			id, secret, method = cc.ClientID, cc.ClientSecret, AuthSecretPost
		} else if cc.ClientSecret != "" || (cc.ClientID != "" && cc.ClientID != id) {
			return nil, "", oauthErr("invalid_request", "use one client authentication method")
		}
		c, err := s.id.Client(ctx, id)
		if err != nil && !isKind(err, outcome.NotFound) {
			return nil, "", err
		}
		hash := s.dummy // same work for unknown clients
		if c != nil && c.SecretHash != "" {
			hash = c.SecretHash
		}
		if !s.checkPassword(ctx, hash, secret) || c == nil || c.SecretHash == "" {
			return nil, "", badClient("client authentication failed")
		}
		return c, method, nil
	}
	if cc.ClientID == "" {
		return nil, "", badClient("client authentication is required")
	}
	c, err := s.id.Client(ctx, cc.ClientID)
	if isKind(err, outcome.NotFound) {
		return nil, "", badClient("client authentication failed")
	}
	if err != nil {
		return nil, "", err
	}
	if c.SecretHash != "" || c.JWKS != "" || c.JWKSURL != "" {
		return nil, "", badClient("this client must authenticate")
	}
	return c, AuthNone, nil
}

// assertionClaims are the claims of a client assertion (RFC 7523 §3).
type assertionClaims struct {
	jwt.Claims
}

// checkAssertion verifies a private_key_jwt client assertion: signed with a
// key of the client's JWKS, iss = sub = client_id, aud = our token
// endpoint, not expired, exp at most five minutes ahead, jti never seen.
func (s *Server) checkAssertion(ctx context.Context, assertion string) (*store.Client, error) {
	tok, err := jwt.ParseSigned(assertion, assertionAlgs)
	if err != nil || len(tok.Headers) != 1 {
		return nil, badClient("client_assertion is not a JWT signed with RS384 or ES384")
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil || unverified.Issuer == "" || unverified.Issuer != unverified.Subject {
		return nil, badClient("client_assertion must have iss and sub equal to the client_id")
	}
	c, err := s.id.Client(ctx, unverified.Issuer)
	if isKind(err, outcome.NotFound) {
		return nil, badClient("client authentication failed")
	}
	if err != nil {
		return nil, err
	}
	// SMART's key resolution: a jku header must name the registered JWKS
	// URL; the keys always come from the registration
	// (https://hl7.org/fhir/smart-app-launch/STU2.2/client-confidential-asymmetric.html#signature-verification).
	if jku, ok := tok.Headers[0].ExtraHeaders["jku"]; ok && (c.JWKSURL == "" || jku != any(c.JWKSURL)) {
		return nil, badClient("client_assertion's jku is not the client's registered JWKS URL")
	}
	set, err := s.clientKeys(ctx, c)
	if err != nil {
		return nil, err
	}
	kid := tok.Headers[0].KeyID
	var claims assertionClaims
	verified := false
	for _, k := range set.Keys {
		if (kid != "" && k.KeyID != kid) || !k.Valid() {
			continue
		}
		if err := tok.Claims(k.Key, &claims); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, badClient("client_assertion's signature does not verify with the client's registered keys")
	}
	now := s.now()
	if err := claims.ValidateWithLeeway(jwt.Expected{Issuer: c.ID, Subject: c.ID,
		AnyAudience: jwt.Audience{s.Endpoint("token")}, Time: now}, 30*time.Second); err != nil {
		return nil, badClient("client_assertion: %v", err)
	}
	if claims.Expiry == nil || claims.Expiry.Time().After(now.Add(maxAssertionLife+30*time.Second)) {
		return nil, badClient("client_assertion needs an exp at most five minutes ahead")
	}
	if claims.ID == "" {
		return nil, badClient("client_assertion needs a jti")
	}
	if err := s.id.NoteJTI(ctx, c.ID, claims.ID, claims.Expiry.Time(), now); err != nil {
		if isKind(err, outcome.Conflict) {
			return nil, badClient("client_assertion was used before (jti replay)")
		}
		return nil, err
	}
	return c, nil
}

// clientKeys returns a client's public keys: inline, or fetched from its
// JWKS URL (RFC 7517 §5).
func (s *Server) clientKeys(ctx context.Context, c *store.Client) (jose.JSONWebKeySet, error) {
	var raw []byte
	switch {
	case c.JWKS != "":
		raw = []byte(c.JWKS)
	case c.JWKSURL != "" && s.opts.FetchJWKS != nil:
		b, err := s.opts.FetchJWKS(ctx, c.JWKSURL)
		if err != nil {
			s.log.Warn("cannot fetch a client's JWKS", "client", c.ID, "err", err)
			return jose.JSONWebKeySet{}, badClient("the client's JWKS URL cannot be fetched")
		}
		raw = b
	default:
		return jose.JSONWebKeySet{}, badClient("the client has no registered keys")
	}
	set, err := ParseJWKS(raw)
	if err != nil {
		return jose.JSONWebKeySet{}, badClient("the client's JWKS is not valid: %v", err)
	}
	return set, nil
}

// ParseJWKS parses a JWK Set of public keys; a private key in it is an
// error (it must never have been shared).
func ParseJWKS(raw []byte) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return set, err
	}
	if len(set.Keys) == 0 {
		return set, errString("the JWK Set has no keys")
	}
	if slices.ContainsFunc(set.Keys, func(k jose.JSONWebKey) bool { return !k.IsPublic() }) {
		return set, errString("the JWK Set holds a private key; register public keys only")
	}
	return set, nil
}

type errString string

func (e errString) Error() string { return string(e) }
