package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// LoadOrCreateKey reads the checkpoint signing key from path, a PEM
// "PRIVATE KEY" (PKCS #8, RFC 8410) holding an ed25519 key. When the file
// does not exist it generates a key and writes it with mode 0600 (in a
// directory created 0700), so a first start needs no setup; created
// reports that. The key must live outside the database — its point is that
// someone who can rewrite the audit tables cannot sign a rewritten chain —
// so keep the file (and its backup) away from database backups.
//
// A key file readable by group or others is refused: anyone who can read
// it can sign checkpoints.
func LoadOrCreateKey(path string) (key ed25519.PrivateKey, created bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, false, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, false, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, false, fmt.Errorf("audit key: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, false, fmt.Errorf("audit key: %w", err)
		}
		if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
			_ = f.Close()
			return nil, false, fmt.Errorf("audit key: %w", err)
		}
		if err := f.Sync(); err != nil {
			_ = f.Close()
			return nil, false, fmt.Errorf("audit key: %w", err)
		}
		return key, true, f.Close()
	}
	if err != nil {
		return nil, false, fmt.Errorf("audit key: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("audit key %s is readable by others (mode %v): chmod 600 it", path, fi.Mode().Perm())
	}
	return ParseKey(b)
}

// ParseKey reads a PEM PKCS #8 ed25519 private key.
func ParseKey(b []byte) (ed25519.PrivateKey, bool, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, false, errors.New("audit key: not a PEM PRIVATE KEY")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, false, fmt.Errorf("audit key: %w", err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, false, fmt.Errorf("audit key: a %T, want ed25519", k)
	}
	return key, false, nil
}
