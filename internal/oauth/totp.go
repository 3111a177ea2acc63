package oauth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"time"
)

// TOTP (RFC 6238) with the parameters every authenticator app supports:
// HMAC-SHA1, 30-second steps, 6 digits, and a 160-bit seed (RFC 4226 §4
// recommends 160 bits).
const (
	totpStep   = 30 * time.Second
	totpDigits = 6
	totpSeed   = 20
	// totpSkew accepts the codes of one step before and after, for clock
	// drift between the phone and the server (RFC 6238 §5.2).
	totpSkew = 1
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func newTOTPSeed() []byte {
	seed := make([]byte, totpSeed)
	_, _ = rand.Read(seed)
	return seed
}

// totpCode returns the code of the step that holds t (RFC 4226 §5.3
// dynamic truncation).
func totpCode(seed []byte, t time.Time) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(t.Unix()/int64(totpStep/time.Second)))
	m := hmac.New(sha1.New, seed)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", totpDigits, bin%1_000_000)
}

// checkTOTP reports whether code is the code at t, or within totpSkew steps
// of it, comparing in constant time, and returns the time step it matched
// (the latest, if several).
func checkTOTP(seed []byte, code string, t time.Time) (step int64, ok bool) {
	if len(code) != totpDigits {
		return 0, false
	}
	for d := -totpSkew; d <= totpSkew; d++ {
		at := t.Add(time.Duration(d) * totpStep)
		if subtle.ConstantTimeCompare([]byte(totpCode(seed, at)), []byte(code)) == 1 {
			step, ok = at.Unix()/int64(totpStep/time.Second), true
		}
	}
	return step, ok
}

// totpURI is the otpauth:// URI authenticator apps read (usually as a QR
// code): https://github.com/google/google-authenticator/wiki/Key-Uri-Format.
func totpURI(issuer, username string, seed []byte) string {
	q := url.Values{}
	q.Set("secret", b32.EncodeToString(seed))
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", "6")
	q.Set("period", "30")
	return "otpauth://totp/" + url.PathEscape(issuer+":"+username) + "?" + q.Encode()
}
