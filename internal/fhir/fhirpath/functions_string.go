package fhirpath

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"strings"
	"unicode/utf8"
)

// String functions (https://hl7.org/fhirpath/N1/#string-manipulation). They
// apply to a single string; on any other input they are an error (a
// complex type is never silently converted), on empty input empty.

func inputString(in Collection) (string, bool, error) {
	v, err := singleton(in)
	if err != nil || v == nil {
		return "", false, err
	}
	s, ok := v.(String)
	if !ok {
		return "", false, errorf("expected a string, got %s", typeNameOf(in[0]))
	}
	return string(s), true, nil
}

func stringArg(ev *evaluator, n *node, f *frame, i int) (string, bool, error) {
	a, err := ev.arg(n, f, i)
	if err != nil {
		return "", false, err
	}
	return inputString(a)
}

func strPred(pred func(s, a string) bool) impl {
	return func(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
		s, ok, err := inputString(in)
		if err != nil || !ok {
			return nil, err
		}
		a, ok, err := stringArg(ev, n, f, 0)
		if err != nil || !ok {
			return nil, err
		}
		return boolResult(pred(s, a))
	}
}

func containsStr(s, a string) bool { return strings.Contains(s, a) }
func upper(s string) string        { return strings.ToUpper(s) }
func lower(s string) string        { return strings.ToLower(s) }
func trim(s string) string         { return strings.TrimSpace(s) }

func strMap(fn func(string) string) impl {
	return func(_ *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
		s, ok, err := inputString(in)
		if err != nil || !ok {
			return nil, err
		}
		return Collection{String(fn(s))}, nil
	}
}

// Positions and lengths count characters, not bytes.
func fnIndexOf(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	s, ok, err := inputString(in)
	if err != nil || !ok {
		return nil, err
	}
	a, ok, err := stringArg(ev, n, f, 0)
	if err != nil || !ok {
		return nil, err
	}
	i := strings.Index(s, a)
	if i < 0 {
		return Collection{Integer(-1)}, nil
	}
	return Collection{Integer(utf8.RuneCountInString(s[:i]))}, nil
}

func fnSubstring(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	s, ok, err := inputString(in)
	if err != nil || !ok {
		return nil, err
	}
	start, ok, err := intArg(ev, n, f, 0)
	if err != nil || !ok {
		return nil, err
	}
	r := []rune(s)
	if start < 0 || start >= int64(len(r)) {
		return nil, nil
	}
	end := int64(len(r))
	if len(n.args) > 1 {
		l, ok, err := intArg(ev, n, f, 1)
		if err != nil {
			return nil, err
		}
		if ok {
			if l < 0 {
				l = 0
			}
			end = min(end, start+l)
		}
	}
	return Collection{String(string(r[start:end]))}, nil
}

func fnReplace(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	s, ok, err := inputString(in)
	if err != nil || !ok {
		return nil, err
	}
	pat, ok, err := stringArg(ev, n, f, 0)
	if err != nil || !ok {
		return nil, err
	}
	rep, ok, err := stringArg(ev, n, f, 1)
	if err != nil || !ok {
		return nil, err
	}
	return ev.str(strings.ReplaceAll(s, pat, rep))
}

// Regular expressions are RE2 (Go regexp), a subset of the PCRE flavour
// the spec names, in single-line mode ("." matches new lines) as
// https://hl7.org/fhirpath/N1/#matchesregex-string-boolean asks. RE2 cannot
// backtrack, so a hostile pattern cannot take exponential time.
func compileRegex(pat string, full bool) (*regexp.Regexp, error) {
	src := "(?s)" + pat
	if full {
		src = "^(?s:" + pat + ")$"
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, errorf("invalid regular expression %q: %v", pat, err)
	}
	return re, nil
}

func fnMatches(full bool) impl {
	return func(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
		s, ok, err := inputString(in)
		if err != nil || !ok {
			return nil, err
		}
		pat, ok, err := stringArg(ev, n, f, 0)
		if err != nil || !ok {
			return nil, err
		}
		re := n.re
		if re == nil {
			if re, err = compileRegex(pat, full); err != nil {
				return nil, err
			}
		}
		return boolResult(re.MatchString(s))
	}
}

func fnReplaceMatches(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	s, ok, err := inputString(in)
	if err != nil || !ok {
		return nil, err
	}
	pat, ok, err := stringArg(ev, n, f, 0)
	if err != nil || !ok {
		return nil, err
	}
	rep, ok, err := stringArg(ev, n, f, 1)
	if err != nil || !ok {
		return nil, err
	}
	if pat == "" {
		return Collection{String(s)}, nil
	}
	re := n.re
	if re == nil {
		if re, err = compileRegex(pat, false); err != nil {
			return nil, err
		}
	}
	return ev.str(re.ReplaceAllString(s, rep))
}

func fnLength(_ *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
	s, ok, err := inputString(in)
	if err != nil || !ok {
		return nil, err
	}
	return Collection{Integer(utf8.RuneCountInString(s))}, nil
}

func fnToChars(ev *evaluator, _ *node, _ *frame, in Collection) (Collection, error) {
	s, ok, err := inputString(in)
	if err != nil || !ok {
		return nil, err
	}
	if err := ev.step(len(s)); err != nil {
		return nil, err
	}
	var out Collection
	for _, r := range s {
		out = append(out, String(string(r)))
	}
	return out, nil
}

func fnSplit(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	s, ok, err := inputString(in)
	if err != nil || !ok {
		return nil, err
	}
	sep, ok, err := stringArg(ev, n, f, 0)
	if err != nil || !ok {
		return nil, err
	}
	if err := ev.step(len(s)); err != nil {
		return nil, err
	}
	var out Collection
	for _, p := range strings.Split(s, sep) {
		out = append(out, String(p))
	}
	return out, nil
}

func fnJoin(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
	if len(in) == 0 {
		return nil, nil // nothing to join is empty, not ''
	}
	sep := ""
	if len(n.args) > 0 {
		s, _, err := stringArg(ev, n, f, 0)
		if err != nil {
			return nil, err
		}
		sep = s
	}
	parts := make([]string, 0, len(in))
	for _, it := range in {
		s, _, err := inputString(Collection{it})
		if err != nil {
			return nil, err
		}
		parts = append(parts, s)
	}
	return ev.str(strings.Join(parts, sep))
}

func fnEncode(encode bool) impl {
	return func(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
		s, ok, err := inputString(in)
		if err != nil || !ok {
			return nil, err
		}
		format, ok, err := stringArg(ev, n, f, 0)
		if err != nil || !ok {
			return nil, err
		}
		var enc interface {
			EncodeToString([]byte) string
			DecodeString(string) ([]byte, error)
		}
		switch format {
		case "base64":
			enc = base64.StdEncoding
		case "urlbase64":
			enc = base64.URLEncoding
		case "hex":
			if encode {
				return ev.str(hex.EncodeToString([]byte(s)))
			}
			b, err := hex.DecodeString(s)
			if err != nil {
				return nil, nil
			}
			return Collection{String(b)}, nil
		default:
			return nil, errorf("unknown encoding %q", format)
		}
		if encode {
			return ev.str(enc.EncodeToString([]byte(s)))
		}
		b, err := enc.DecodeString(s)
		if err != nil {
			return nil, nil
		}
		return Collection{String(b)}, nil
	}
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")

func fnEscape(escape bool) impl {
	return func(ev *evaluator, n *node, f *frame, in Collection) (Collection, error) {
		s, ok, err := inputString(in)
		if err != nil || !ok {
			return nil, err
		}
		format, ok, err := stringArg(ev, n, f, 0)
		if err != nil || !ok {
			return nil, err
		}
		switch format {
		case "html":
			if escape {
				return ev.str(htmlEscaper.Replace(s))
			}
			return Collection{String(html.UnescapeString(s))}, nil
		case "json":
			if escape {
				b, _ := json.Marshal(s)
				out := string(b[1 : len(b)-1])
				// encoding/json escapes <, > and & for HTML safety; JSON does not need it.
				out = strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(out)
				return ev.str(out)
			}
			return Collection{String(unescapeJSON(s))}, nil
		}
		return nil, errorf("unknown escape format %q", format)
	}
}

// unescapeJSON undoes the escapes of a JSON string body, leaving anything
// else as it is.
func unescapeJSON(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch c := s[i]; c {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			var r rune
			if i+4 < len(s) {
				if _, err := fmt.Sscanf(s[i+1:i+5], "%04x", &r); err == nil {
					b.WriteRune(r)
					i += 4
					continue
				}
			}
			b.WriteString("\\u")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
