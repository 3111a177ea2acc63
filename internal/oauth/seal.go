package oauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
)

// MinSecretKey is the least key material --secret-key-file must hold.
const MinSecretKey = 32

// sealer encrypts the secrets the database keeps (private signing keys, TOTP
// seeds) with AES-256-GCM under a key derived from the deployment's secret
// key, so a copy of the database alone reveals neither. Each use derives its
// own key (HMAC-SHA256 of the secret with a label), so the sealing key never
// doubles as the CSRF key.
type sealer struct {
	aead cipher.AEAD
	csrf []byte
}

func newSealer(secret []byte) (*sealer, error) {
	if len(secret) < MinSecretKey {
		return nil, errors.New("the secret key must hold at least 32 bytes")
	}
	block, err := aes.NewCipher(derive(secret, "continuum seal v1"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead, csrf: derive(secret, "continuum csrf v1")}, nil
}

func derive(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// seal encrypts plain; what names its use and is authenticated with it, so a
// sealed TOTP seed cannot be passed off as a signing key.
func (s *sealer) seal(what string, plain []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plain, []byte(what))
}

var errSealed = errors.New("cannot open a sealed secret: is --secret-key-file the key it was sealed with?")

func (s *sealer) open(what string, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errSealed
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(what))
	if err != nil {
		return nil, errSealed
	}
	return plain, nil
}

// CSRFToken returns the anti-forgery token of a session's forms: an HMAC
// of the session id, so it needs no storage and dies with the session.
func (s *Server) CSRFToken(sess *Session) string {
	m := hmac.New(sha256.New, s.seal.csrf)
	m.Write([]byte(sess.Stored.IDHash))
	return b64url(m.Sum(nil))
}

// CheckCSRF reports whether token is the session's anti-forgery token.
func (s *Server) CheckCSRF(sess *Session, token string) bool {
	return hmac.Equal([]byte(s.CSRFToken(sess)), []byte(token))
}
