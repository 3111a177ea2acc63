package oauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's minimum for argon2id (19 MiB, 2 passes, 1
// lane), a choice for servers that verify many sign-ins on few cores
// (https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#argon2id;
// RFC 9106 §4). Hashes carry their parameters (PHC string format), so
// raising them later keeps old hashes verifiable.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// MinPasswordLen is the shortest password accepted (NIST SP 800-63B §5.1.1.2
// asks for at least 8).
const MinPasswordLen = 8

// MaxPasswordLen bounds a password (and a client secret), so a huge one
// cannot make hashing costly.
const MaxPasswordLen = 256

var b64 = base64.RawStdEncoding

// HashPassword returns the argon2id hash of a password or client secret as
// a PHC string: $argon2id$v=19$m=…,t=…,p=…$salt$hash.
func HashPassword(password string) (string, error) {
	if len(password) < MinPasswordLen {
		return "", fmt.Errorf("the password is shorter than %d characters", MinPasswordLen)
	}
	if len(password) > MaxPasswordLen {
		return "", fmt.Errorf("the password is longer than %d bytes", MaxPasswordLen)
	}
	salt := make([]byte, argonSaltLen)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errHash = errors.New("not an argon2id hash")

// checkPassword reports whether password matches the PHC string hash, in
// time independent of where they differ.
func checkPassword(hash, password string) bool {
	if len(password) > MaxPasswordLen {
		password = password[:MaxPasswordLen] // still hash: the time must not tell
	}
	p, salt, key, err := parseHash(hash)
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

type argonParams struct {
	time, memory uint32
	threads      uint8
}

func parseHash(hash string) (argonParams, []byte, []byte, error) {
	var p argonParams
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, nil, nil, errHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil {
		return p, nil, nil, errHash
	}
	// Bounds keep a corrupted row from making one sign-in allocate gigabytes.
	if p.memory < 8 || p.memory > 1<<20 || p.time < 1 || p.time > 16 || p.threads < 1 {
		return p, nil, nil, errHash
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, errHash
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, errHash
	}
	return p, salt, key, nil
}

// checkPassword is checkPassword with the server's bound on concurrent
// hashes: each argon2id check takes 19 MiB, so a flood of sign-ins or
// client authentications waits here instead of exhausting memory. A
// request whose context ends while waiting fails the check.
func (s *Server) checkPassword(ctx context.Context, hash, password string) bool {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	defer func() { <-s.hashing }()
	return checkPassword(hash, password)
}
