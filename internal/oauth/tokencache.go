package oauth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// verifiedCache remembers access tokens whose signature and claims were
// verified, until they expire, so that a client sending the same token with
// every request pays the RSA verification and JSON decoding once
// (BenchmarkAuthenticate: about two thirds of the cost). Only the work that
// cannot change is cached: the grant's revocation is still read on every
// request. A token is found by its SHA-256, so the cache holds no tokens.
type verifiedCache struct {
	mu sync.Mutex
	m  map[[32]byte]*accessClaims
}

// maxVerified bounds the cache; when full, expired entries go, and if that
// is not enough the cache starts again (a rare, cheap event: the next
// requests verify once more).
const maxVerified = 8192

func (c *verifiedCache) get(token string, now time.Time) *accessClaims {
	k := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	ac := c.m[k]
	if ac == nil || !now.Before(ac.Expiry.Time()) {
		return nil
	}
	return ac
}

func (c *verifiedCache) put(token string, ac *accessClaims, now time.Time) {
	k := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[[32]byte]*accessClaims)
	}
	if len(c.m) >= maxVerified {
		for key, v := range c.m {
			if !now.Before(v.Expiry.Time()) {
				delete(c.m, key)
			}
		}
		if len(c.m) >= maxVerified {
			clear(c.m)
		}
	}
	c.m[k] = ac
}
