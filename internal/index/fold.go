package index

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// NormalizeString folds a string for FHIR string search: "case
// insensitive and accent-insensitive" matching
// (https://hl7.org/fhir/R4/search.html#string). Stored rows and search
// values must go through this same function.
//
// Folding lowercases (unicode.ToLower), removes combining marks
// (U+0300–U+036F, so decomposed input folds like precomposed) and maps the
// precomposed Latin letters of Latin-1 Supplement and Latin Extended-A to
// their base letters (ü → u, ß → ss, æ → ae, ø → o, ł → l). Other scripts
// are only lowercased. It lives here rather than in internal/search because
// that package did not exist when indexing was written; it can move there
// (index → search is allowed) without changing its output.
func NormalizeString(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			b.WriteByte(byte(r))
		case r >= 0x300 && r <= 0x36f:
			// combining diacritical mark: dropped
		case r >= 0xc0 && r <= 0x17f:
			b.WriteString(latinFold[r-0xc0])
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// latinFold maps U+00C0…U+017F to lowercase ASCII (or the lowercased rune
// itself where there is no base letter: ×, ÷).
var latinFold = func() [0x17f - 0xc0 + 1]string {
	// One entry per code point, space separated, from U+00C0.
	const table = "a a a a a a ae c e e e e i i i i d n o o o o o × o u u u u y th ss " + // C0–DF
		"a a a a a a ae c e e e e i i i i d n o o o o o ÷ o u u u u y th y " + // E0–FF
		"a a a a a a c c c c c c c c d d d d e e e e e e e e e e g g g g g g g g h h h h " + // 100–127
		"i i i i i i i i i i ij ij j j k k k l l l l l l l l l l n n n n n n n n n o o o o o o oe oe " + // 128–153
		"r r r r r r s s s s s s s s t t t t t t u u u u u u u u u u u u w w y y y z z z z z z s" // 154–17F
	var t [0x17f - 0xc0 + 1]string
	f := strings.Fields(table)
	if len(f) != len(t) {
		panic("index: latin fold table has " + itoa(len(f)) + " entries")
	}
	copy(t[:], f)
	return t
}()

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
