package oauth

import (
	"context"
	"errors"
	"slices"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/store"
)

// ErrNotAdmin refuses the client administration to a user who is not an
// administrator of any organization.
var ErrNotAdmin = errors.New("only administrators manage apps")

// AdminOrgs returns the organizations where u holds the admin role.
func AdminOrgs(u *store.User) []string {
	var out []string
	for _, m := range u.Memberships {
		if m.Role == string(auth.Admin) && !slices.Contains(out, m.Org) {
			out = append(out, m.Org)
		}
	}
	return out
}

// Clients lists the clients an administrator manages: those enabled at one
// of their organizations (or everywhere).
func (s *Server) Clients(ctx context.Context, sess *Session) ([]store.Client, error) {
	orgs := AdminOrgs(sess.User)
	if !sess.MFADone() || len(orgs) == 0 {
		return nil, ErrNotAdmin
	}
	all, err := s.id.Clients(ctx)
	if err != nil {
		return nil, err
	}
	var out []store.Client
	for _, c := range all {
		if len(c.Orgs) == 0 || slices.ContainsFunc(c.Orgs, func(o string) bool { return slices.Contains(orgs, o) }) {
			out = append(out, c)
		}
	}
	return out, nil
}

// RegisterClientAs registers a client for an administrator, enabled at
// their organizations. With generateSecret it is a confidential client and
// the secret (256 random bits) is returned, to be shown once; only its hash
// is kept.
func (s *Server) RegisterClientAs(ctx context.Context, sess *Session, spec ClientSpec, generateSecret bool, addr string) (string, error) {
	orgs := AdminOrgs(sess.User)
	if !sess.MFADone() || len(orgs) == 0 {
		return "", ErrNotAdmin
	}
	spec.Orgs = orgs
	secret := ""
	if generateSecret {
		secret = randomToken()
		spec.Secret = secret
	}
	if err := RegisterClient(ctx, s.id, spec, s.now()); err != nil {
		return "", err
	}
	s.audit(ctx, audit.Record{Action: audit.Operation, Operation: "client-register", Outcome: audit.Success,
		OutcomeDesc: "client " + spec.ID, User: audit.Agent{ID: sess.User.ID, Reference: sess.User.FHIRUser},
		Client: audit.Agent{Address: addr}})
	return secret, nil
}
