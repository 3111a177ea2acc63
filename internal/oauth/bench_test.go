package oauth

import (
	"context"
	"testing"

	"github.com/continuum-ehr/continuum/internal/store"
)

// BenchmarkAuthenticate measures what every FHIR request pays for its
// bearer token: the RS256 signature check and the grant's revocation read
// (SQLite).
func BenchmarkAuthenticate(b *testing.B) {
	f := newFixture(b, nil)
	ctx := context.Background()
	c := &store.Client{ID: "ops", Scopes: "system/*.rs", Orgs: []string{"org-a"}}
	g := &store.Grant{ID: store.NewID(), ClientID: c.ID, Scopes: "system/*.rs", CreatedAt: f.clock.Now(), ExpiresAt: f.clock.Now().Add(f.s.opts.AccessTokenTTL)}
	if err := f.db.CreateGrant(ctx, *g); err != nil {
		b.Fatal(err)
	}
	resp, err := f.s.issue(ctx, c, g, nil, nil, false)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.s.Authenticate(ctx, resp.AccessToken); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPasswordHash measures one argon2id hash: the cost of a sign-in
// and of a client_secret check.
func BenchmarkPasswordHash(b *testing.B) {
	for b.Loop() {
		if _, err := HashPassword("correct horse battery"); err != nil {
			b.Fatal(err)
		}
	}
}
