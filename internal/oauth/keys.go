package oauth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/continuum-ehr/continuum/internal/store"
)

// signingAlg is the algorithm of our tokens. RS256 is the one every OIDC
// relying party must support (OpenID Connect Core §15.1), and SMART asks
// for it for id_tokens.
const signingAlg = jose.RS256

// keyring holds the signing keys, loaded from the database and cached for a
// minute; a node that meets a kid it does not know reloads at once (another
// node rotated). Rotation: when the newest key is older than KeyRotation, a
// new one is made and signs from then on; the previous one stays published
// in the JWKS for another rotation period, far longer than any token it
// signed lives.
type keyring struct {
	s        *Server
	mu       sync.Mutex
	keys     []jose.JSONWebKey // private keys, newest first
	loadedAt time.Time
}

const keyCacheFor = time.Minute

func (k *keyring) load(ctx context.Context, force bool) ([]jose.JSONWebKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.s.now()
	if !force && k.keys != nil && now.Sub(k.loadedAt) < keyCacheFor && now.Sub(k.loadedAt) >= 0 {
		return k.keys, nil
	}
	rows, err := k.s.id.SigningKeys(ctx, now.Add(-2*k.s.opts.KeyRotation))
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 || now.Sub(rows[0].CreatedAt) >= k.s.opts.KeyRotation {
		nk, err := k.generate(ctx, now)
		if err != nil {
			return nil, err
		}
		rows = append([]store.SigningKey{nk}, rows...)
	}
	keys := make([]jose.JSONWebKey, 0, len(rows))
	for _, r := range rows {
		der, err := k.s.seal.open("signing-key", r.Sealed)
		if err != nil {
			return nil, err
		}
		priv, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, errors.New("a stored signing key is damaged")
		}
		keys = append(keys, jose.JSONWebKey{Key: priv, KeyID: r.KID, Algorithm: r.Alg, Use: "sig"})
	}
	k.keys, k.loadedAt = keys, now
	return keys, nil
}

func (k *keyring) generate(ctx context.Context, now time.Time) (store.SigningKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return store.SigningKey{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, err
	}
	jwk := jose.JSONWebKey{Key: priv.Public()}
	thumb, err := jwk.Thumbprint(cryptoSHA256)
	if err != nil {
		return store.SigningKey{}, err
	}
	sk := store.SigningKey{KID: b64url(thumb), Alg: string(signingAlg), Sealed: k.s.seal.seal("signing-key", der), CreatedAt: now}
	if err := k.s.id.AddSigningKey(ctx, sk); err != nil {
		return store.SigningKey{}, err
	}
	k.s.log.Info("new token signing key", "kid", sk.KID)
	return sk, nil
}

// sign signs claims with the current key; typ is the JOSE header's typ
// (JWT, or at+jwt for access tokens: RFC 9068 §2.1).
func (k *keyring) sign(ctx context.Context, typ jose.ContentType, claims ...any) (string, error) {
	keys, err := k.load(ctx, false)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: signingAlg, Key: keys[0]},
		(&jose.SignerOptions{}).WithType(typ))
	if err != nil {
		return "", err
	}
	b := jwt.Signed(signer)
	for _, c := range claims {
		b = b.Claims(c)
	}
	return b.Serialize()
}

// verify checks a token's signature against our keys and decodes its
// claims into out.
func (k *keyring) verify(ctx context.Context, token string, out ...any) error {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{signingAlg})
	if err != nil {
		return err
	}
	if len(tok.Headers) != 1 {
		return errors.New("one signature expected")
	}
	kid := tok.Headers[0].KeyID
	for _, force := range []bool{false, true} {
		keys, err := k.load(ctx, force)
		if err != nil {
			return err
		}
		for _, key := range keys {
			if key.KeyID == kid {
				return tok.Claims(key.Public().Key, out...)
			}
		}
	}
	return errors.New("signed by an unknown key")
}

// JWKS returns the public keys, current and previous, as a JWK Set
// (RFC 7517 §5).
func (s *Server) JWKS(ctx context.Context) (jose.JSONWebKeySet, error) {
	keys, err := s.keys.load(ctx, false)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, k.Public())
	}
	return set, nil
}
