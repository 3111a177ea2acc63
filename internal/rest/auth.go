package rest

import (
	"net"
	"net/http"
	"strings"

	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/reqid"
)

// Authenticator says who sent a request: it checks the bearer token (or a
// session) and returns the caller's principal, or an *outcome.Error of kind
// Unauthorized for a missing, expired, revoked or otherwise bad credential.
// The OAuth server provides it; REST owns the interface.
type Authenticator interface {
	Authenticate(r *http.Request) (auth.Principal, error)
}

// Request headers of the FHIR API that are Continuum's own.
const (
	// HeaderOrganization chooses the organization that owns what a write
	// creates, for a caller who may write for several (interaction's
	// writeOrg; without it the primary membership decides).
	HeaderOrganization = "Continuum-Organization"
	// HeaderBreakGlass carries the reason a practitioner gives to read a
	// record outside their organizations; it is honored only for a
	// practitioner signed in to the EHR itself, and flagged in the audit.
	HeaderBreakGlass = "Continuum-Break-Glass"
)

func chosenOrg(r *http.Request) string  { return strings.TrimSpace(r.Header.Get(HeaderOrganization)) }
func breakGlass(r *http.Request) string { return strings.TrimSpace(r.Header.Get(HeaderBreakGlass)) }

// authenticate puts the caller's principal and origin into the request's
// context, or fails with Unauthorized and a WWW-Authenticate challenge
// (RFC 6750 §3): error="invalid_token" when credentials were presented and
// refused, no error code when there were none. Without an Authenticator
// every request is refused: the API is never open by omission.
func (a *API) authenticate(w http.ResponseWriter, r *http.Request) (*http.Request, error) {
	ctx := r.Context()
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ctx = interaction.WithOrigin(ctx, interaction.Origin{Address: host, RequestID: reqid.From(ctx)})
	var (
		p    auth.Principal
		aerr error
	)
	if a.opts.Authenticator == nil {
		aerr = outcome.New(outcome.Unauthorized, "login", "this server has no way to authenticate callers yet")
	} else {
		p, aerr = a.opts.Authenticator.Authenticate(r)
		if aerr == nil && p.Kind == auth.Anonymous {
			aerr = outcome.New(outcome.Unauthorized, "login", "authentication is required")
		}
	}
	if aerr != nil {
		if outcome.As(aerr).Kind != outcome.Unauthorized {
			return nil, aerr // the authenticator failed, not the caller
		}
		challenge := `Bearer realm="` + a.opts.BaseURL + `/fhir"`
		if r.Header.Get("Authorization") != "" {
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
		return nil, aerr
	}
	return r.WithContext(auth.NewContext(ctx, p)), nil
}
