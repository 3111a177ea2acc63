package rest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// tokens is the test Authenticator: bearer tokens named in the map stand
// for the principals they map to, built with auth's constructors as the
// OAuth server would build them.
type tokens map[string]auth.Principal

func (m tokens) Authenticate(r *http.Request) (auth.Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return auth.Principal{}, outcome.New(outcome.Unauthorized, "login", "no access token")
	}
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if p, known := m[tok]; ok && known {
		return p, nil
	}
	return auth.Principal{}, outcome.New(outcome.Unauthorized, "login", "the access token is not valid")
}

// testTokens are the principals of the REST tests.
func testTokens() tokens {
	return tokens{"system": auth.NewSystem()}
}

// systemHeaders authorize a request as the server itself, writing for
// org-test: the tests of FHIR semantics; authorization has its own.
func systemHeaders(h map[string]string) map[string]string {
	out := map[string]string{"Authorization": "Bearer system", HeaderOrganization: "org-test"}
	for k, v := range h {
		out[k] = v
	}
	return out
}

// newTrail returns an audit trail over st, closed when the test ends.
func newTrail(t testing.TB, st store.Store) *audit.Trail {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := audit.NewTrail(audit.TrailOptions{Store: st, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

var _ = context.Background
