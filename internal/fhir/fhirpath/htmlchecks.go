package fhirpath

import "strings"

// htmlActive reports whether narrative holds active or external content that
// https://hl7.org/fhir/R4/narrative.html#xhtml forbids: an element such as
// script, object, iframe, form, base, link, meta or style; an event handler
// attribute (on…=); or a javascript: URL in href or src. Matching is
// case-insensitive. It is the same test as the patterns
//
//	(?i)<\s*(script|object|applet|embed|iframe|form|input|frame|frameset|base|link|meta|style)\b
//	(?i)\son[a-z]+\s*=
//	(?i)(href|src)\s*=\s*["']?\s*javascript:
//
// written as one pass over the text, because htmlChecks() runs on every
// narrative of every validated resource and the regular expressions cost
// more than all other invariants together (TestHTMLActiveMatchesPatterns
// compares the two).
func htmlActive(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '<':
			j := skipSpace(s, i+1)
			for _, name := range forbiddenElements {
				if hasPrefixFold(s[j:], name) && !isWordByte(s, j+len(name)) {
					return true
				}
			}
		case isSpaceByte(c):
			// \son[a-z]+\s*=
			if i+3 < len(s) && (s[i+1]|0x20) == 'o' && (s[i+2]|0x20) == 'n' && isLetter(s[i+3]) {
				j := i + 4
				for j < len(s) && isLetter(s[j]) {
					j++
				}
				if j = skipSpace(s, j); j < len(s) && s[j] == '=' {
					return true
				}
			}
		case c == '=':
			// (href|src)\s*=\s*["']?\s*javascript:
			k := i
			for k > 0 && isSpaceByte(s[k-1]) {
				k--
			}
			if hasSuffixFold(s[:k], "href") || hasSuffixFold(s[:k], "src") {
				j := skipSpace(s, i+1)
				if j < len(s) && (s[j] == '"' || s[j] == '\'') {
					if hasPrefixFold(s[skipSpace(s, j+1):], "javascript:") {
						return true
					}
				}
				if hasPrefixFold(s[j:], "javascript:") {
					return true
				}
			}
		}
	}
	return false
}

var forbiddenElements = []string{"script", "object", "applet", "embed", "iframe", "form", "input", "frameset", "frame",
	"base", "link", "meta", "style"}

// isSpaceByte is RE2's \s: [\t\n\f\r ].
func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// isWordByte reports whether s[i] exists and is a word character, so that
// \b does not hold before it.
func isWordByte(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	c := s[i]
	return isLetter(c) || c >= '0' && c <= '9' || c == '_'
}

func skipSpace(s string, i int) int {
	for i < len(s) && isSpaceByte(s[i]) {
		i++
	}
	return i
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}
