package oauth

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// ClientSpec is what `continuum client create` registers.
type ClientSpec struct {
	ID           string
	Name         string
	Secret       string // "" for a public or asymmetric client
	Scopes       string // "" means DefaultAppScopes for an app with redirect URIs
	RedirectURIs []string
	LaunchURI    string
	JWKSURL      string
	JWKS         string
	Orgs         []string
}

// DefaultAppScopes are what an app registered without --scope may ask for:
// every user-facing scope. The user's role and the data boundary still
// decide what a token reaches (scopes ∩ roles ∩ boundary).
const DefaultAppScopes = "openid fhirUser profile launch launch/patient launch/encounter offline_access online_access patient/*.cruds user/*.cruds"

// RegisterClient checks and stores a client.
func RegisterClient(ctx context.Context, id store.Identity, spec ClientSpec, now time.Time) error {
	bad := func(format string, args ...any) error {
		return outcome.New(outcome.Invalid, "value", fmt.Sprintf(format, args...))
	}
	if !store.ValidID(spec.ID) {
		return bad("the client id must be 1 to 64 letters, digits, '-' or '.'")
	}
	for _, u := range spec.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return bad("redirect URI %q: %v", u, err)
		}
	}
	if spec.LaunchURI != "" {
		if err := checkRedirectURI(spec.LaunchURI); err != nil {
			return bad("launch URI %q: %v", spec.LaunchURI, err)
		}
	}
	if spec.JWKSURL != "" && spec.JWKS != "" {
		return bad("give a JWKS URL or a JWKS, not both")
	}
	if spec.JWKSURL != "" {
		u, err := url.Parse(spec.JWKSURL)
		if err != nil || (u.Scheme != "https" && !loopback(u)) || u.Host == "" {
			return bad("the JWKS URL must be https (or http on loopback)")
		}
	}
	if spec.JWKS != "" {
		if _, err := ParseJWKS([]byte(spec.JWKS)); err != nil {
			return bad("the JWKS: %v", err)
		}
	}
	if spec.Scopes == "" {
		if len(spec.RedirectURIs) == 0 {
			return bad("a client without redirect URIs (a backend or operator client) needs --scope, e.g. \"system/*.rs\"")
		}
		spec.Scopes = DefaultAppScopes
	}
	if _, err := auth.ParseScopes(spec.Scopes); err != nil {
		return bad("scopes: %v", err)
	}
	if len(spec.RedirectURIs) == 0 && spec.Secret == "" && spec.JWKS == "" && spec.JWKSURL == "" {
		return bad("a client needs redirect URIs (an app), keys (a backend service) or a secret (an operator client)")
	}
	c := store.Client{ID: spec.ID, Name: spec.Name, Scopes: spec.Scopes, RedirectURIs: spec.RedirectURIs,
		LaunchURI: spec.LaunchURI, JWKSURL: spec.JWKSURL, JWKS: spec.JWKS, Orgs: spec.Orgs, CreatedAt: now}
	if c.Name == "" {
		c.Name = c.ID
	}
	if spec.Secret != "" {
		if len(spec.Secret) < 16 {
			return bad("the client secret must be at least 16 characters")
		}
		h, err := HashPassword(spec.Secret)
		if err != nil {
			return bad("%v", err)
		}
		c.SecretHash = h
	}
	return id.CreateClient(ctx, c)
}

// checkRedirectURI: absolute, no fragment (RFC 6749 §3.1.2), https or http
// on a loopback address (RFC 8252 §7.3), or a private-use scheme of a native
// app (RFC 8252 §7.1, with a dot in it).
func checkRedirectURI(s string) error {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() {
		return fmt.Errorf("not an absolute URI")
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return fmt.Errorf("a fragment is not allowed")
	}
	switch {
	case u.Scheme == "https" && u.Host != "":
	case u.Scheme == "http" && loopback(u):
	case strings.Contains(u.Scheme, "."):
	default:
		return fmt.Errorf("must be https, http on a loopback address, or a reverse-domain private scheme")
	}
	return nil
}

func loopback(u *url.URL) bool {
	h := u.Hostname()
	return u.Scheme == "http" && (h == "localhost" || h == "127.0.0.1" || h == "::1")
}

// UserSpec is what `continuum user create` stores.
type UserSpec struct {
	Username    string
	Password    string
	Kind        string // "practitioner" or "patient"
	FHIRUser    string // Practitioner/… or Patient/…
	Memberships []store.Membership
}

// CreateUser checks and stores an account; it returns the new user's id.
func CreateUser(ctx context.Context, id store.Identity, spec UserSpec, now time.Time) (string, error) {
	if spec.Username == "" || len(spec.Username) > 128 || strings.TrimSpace(spec.Username) != spec.Username {
		return "", outcome.New(outcome.Invalid, "value", "the username must be 1 to 128 characters without leading or trailing spaces")
	}
	hash, err := HashPassword(spec.Password)
	if err != nil {
		return "", outcome.New(outcome.Invalid, "value", err.Error())
	}
	for _, m := range spec.Memberships {
		if _, err := auth.ParseRole(m.Role); err != nil {
			return "", outcome.New(outcome.Invalid, "value", err.Error())
		}
	}
	u := store.User{ID: store.NewID(), Username: spec.Username, PasswordHash: hash, Kind: spec.Kind,
		FHIRUser: spec.FHIRUser, Memberships: spec.Memberships, CreatedAt: now, PasswordAt: now}
	if err := id.CreateUser(ctx, u); err != nil {
		return "", err
	}
	return u.ID, nil
}

// LaunchSpec is what `continuum launch` mints.
type LaunchSpec struct {
	ClientID  string
	Patient   string
	Encounter string
	FHIRBase  string
	TTL       time.Duration // 0 means 5 minutes
}

// MintLaunch stores an EHR launch bound to a client, patient and encounter
// and returns the app's launch URL: <launch-uri>?iss=<fhir base>&launch=<id>
// (https://hl7.org/fhir/smart-app-launch/STU2.2/app-launch.html#launch-app-ehr-launch).
func MintLaunch(ctx context.Context, id store.Identity, st store.Store, spec LaunchSpec, now time.Time) (string, error) {
	c, err := id.Client(ctx, spec.ClientID)
	if err != nil {
		return "", err
	}
	if c.LaunchURI == "" {
		return "", outcome.Errorf(outcome.Invalid, "the client %q has no launch URI (register it with --launch-uri)", c.ID)
	}
	if _, err := st.Read(ctx, "Patient", spec.Patient); err != nil {
		return "", outcome.Errorf(outcome.NotFound, "Patient/%s: %v", spec.Patient, err)
	}
	if spec.Encounter != "" {
		if _, err := st.Read(ctx, "Encounter", spec.Encounter); err != nil {
			return "", outcome.Errorf(outcome.NotFound, "Encounter/%s: %v", spec.Encounter, err)
		}
	}
	ttl := spec.TTL
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	l := store.Launch{ID: randomToken(), ClientID: c.ID, Patient: spec.Patient, Encounter: spec.Encounter,
		CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := id.CreateLaunch(ctx, l); err != nil {
		return "", err
	}
	q := url.Values{}
	q.Set("iss", spec.FHIRBase)
	q.Set("launch", l.ID)
	return withQuery(c.LaunchURI, q), nil
}
