package store

import (
	"crypto/rand"
	"encoding/base32"
)

// idEncoding is lowercase RFC 4648 base32 without padding: 128 bits become 26
// characters of [a-z2-7], a valid FHIR id ([A-Za-z0-9\-\.]{1,64}) that is also
// safe in URLs, file names and case-insensitive contexts.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns a new random resource or job id: 128 bits from crypto/rand.
// Ids appear in URLs and logs, so they must not encode creation time or
// order (unlike UUIDv7 or sequences), and must not be guessable.
func NewID() string {
	var b [16]byte
	// crypto/rand.Read never fails (it panics on a broken system source,
	// Go 1.24+).
	_, _ = rand.Read(b[:])
	return idEncoding.EncodeToString(b[:])
}

// ValidID reports whether s is a valid FHIR id: 1 to 64 of [A-Za-z0-9-.]
// (https://hl7.org/fhir/R4/datatypes.html#id).
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
