package validate

import (
	"encoding/xml"
	"strconv"
	"strings"
	"unicode/utf8"
)

const xhtmlNS = "http://www.w3.org/1999/xhtml"

// checkXHTML checks that narrative is well-formed XML whose single root is a
// div in the XHTML namespace (https://hl7.org/fhir/R4/narrative.html#xhtml),
// and returns what is wrong, or "". Only the five XML entities and character
// references are allowed: the narrative must parse as XML without an HTML
// DTD. Content rules beyond well-formedness (no scripts, no forms) are the
// txt-1 and txt-2 invariants.
//
// It is a small scanner rather than encoding/xml because narrative is on the
// path of every write and encoding/xml cost a fifth of validation time;
// TestXHTMLAgreesWithEncodingXML compares the two.
func checkXHTML(s string) string {
	p := xhtmlScanner{s: s}
	return p.document()
}

type xhtmlScanner struct {
	s     string
	i     int
	stack []string
	roots int
}

func (p *xhtmlScanner) document() string {
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '<' {
			if msg := p.markup(); msg != "" {
				return msg
			}
			continue
		}
		if len(p.stack) == 0 {
			if !isSpace(c) {
				return "text outside the div"
			}
			p.i++
			continue
		}
		if msg := p.text(); msg != "" {
			return msg
		}
	}
	if len(p.stack) > 0 {
		return "element <" + p.stack[len(p.stack)-1] + "> is not closed"
	}
	if p.roots != 1 {
		return "expected exactly one div element"
	}
	return ""
}

// text consumes character data up to the next '<'.
func (p *xhtmlScanner) text() string {
	for p.i < len(p.s) && p.s[p.i] != '<' {
		switch p.s[p.i] {
		case '&':
			if msg := p.reference(); msg != "" {
				return msg
			}
			continue
		case ']':
			if strings.HasPrefix(p.s[p.i:], "]]>") {
				return "\"]]>\" is not allowed in text"
			}
		}
		if msg := p.char(); msg != "" {
			return msg
		}
	}
	return ""
}

// char consumes one character and checks that XML allows it.
func (p *xhtmlScanner) char() string {
	if c := p.s[p.i]; c >= 0x20 && c < 0x80 {
		p.i++
		return ""
	}
	r, n := utf8.DecodeRuneInString(p.s[p.i:])
	if r == utf8.RuneError && n == 1 {
		return "invalid UTF-8"
	}
	if !isXMLChar(r) {
		return "character " + strconv.QuoteRune(r) + " is not allowed in XML"
	}
	p.i += n
	return ""
}

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// reference consumes &name; or &#n; or &#xh;.
func (p *xhtmlScanner) reference() string {
	end := strings.IndexByte(p.s[p.i:], ';')
	if end < 0 || end > 12 {
		return "'&' must start an entity reference such as &amp;"
	}
	ref := p.s[p.i+1 : p.i+end]
	p.i += end + 1
	switch ref {
	case "amp", "lt", "gt", "quot", "apos":
		return ""
	}
	if strings.HasPrefix(ref, "#") {
		var n uint64
		var err error
		if strings.HasPrefix(ref, "#x") {
			n, err = strconv.ParseUint(ref[2:], 16, 32)
		} else {
			n, err = strconv.ParseUint(ref[1:], 10, 32)
		}
		if err != nil || !isXMLChar(rune(n)) {
			return "invalid character reference &" + ref + ";"
		}
		return ""
	}
	// HTML's named entities are not XML, but narrative pasted from HTML
	// editors carries them and XHTML renderers understand them; accept the
	// ones HTML 4 defines, as the reference validator does.
	if _, ok := xml.HTMLEntity[ref]; ok {
		return ""
	}
	return "entity &" + ref + "; is not defined (use a character reference)"
}

// markup consumes a tag, comment, CDATA section or processing instruction.
func (p *xhtmlScanner) markup() string {
	rest := p.s[p.i:]
	switch {
	case strings.HasPrefix(rest, "<!--"):
		end := strings.Index(rest[4:], "-->")
		if end < 0 {
			return "comment is not closed"
		}
		if strings.Contains(rest[4:4+end], "--") {
			return "\"--\" is not allowed inside a comment"
		}
		p.i += 4 + end + 3
		return ""
	case strings.HasPrefix(rest, "<![CDATA["):
		if len(p.stack) == 0 {
			return "CDATA outside the div"
		}
		end := strings.Index(rest, "]]>")
		if end < 0 {
			return "CDATA section is not closed"
		}
		p.i += end + 3
		return ""
	case strings.HasPrefix(rest, "<!"):
		return "DOCTYPE and other declarations are not allowed"
	case strings.HasPrefix(rest, "<?"):
		end := strings.Index(rest, "?>")
		if end < 0 {
			return "processing instruction is not closed"
		}
		p.i += end + 2
		return ""
	case strings.HasPrefix(rest, "</"):
		p.i += 2
		name := p.name()
		if name == "" {
			return "end tag without a name"
		}
		p.spaces()
		if p.i >= len(p.s) || p.s[p.i] != '>' {
			return "end tag </" + name + " is not closed"
		}
		p.i++
		if len(p.stack) == 0 || p.stack[len(p.stack)-1] != name {
			return "end tag </" + name + "> does not match an open element"
		}
		p.stack = p.stack[:len(p.stack)-1]
		return ""
	}
	return p.startTag()
}

func (p *xhtmlScanner) startTag() string {
	p.i++ // '<'
	name := p.name()
	if name == "" {
		return "'<' must start a tag (write &lt; for a less-than sign)"
	}
	root := len(p.stack) == 0
	if root {
		p.roots++
		if p.roots > 1 {
			return "expected exactly one div element"
		}
	}
	prefix, local := "", name
	if k := strings.IndexByte(name, ':'); k >= 0 {
		prefix, local = name[:k], name[k+1:]
	}
	if root && local != "div" {
		return "the root element must be div, not " + name
	}
	ns := ""
	var attrs []string
	for {
		hadSpace := p.spaces()
		if p.i >= len(p.s) {
			return "tag <" + name + " is not closed"
		}
		c := p.s[p.i]
		if c == '>' {
			p.i++
			p.stack = append(p.stack, name)
			break
		}
		if c == '/' {
			if p.i+1 >= len(p.s) || p.s[p.i+1] != '>' {
				return "'/' in tag <" + name + " must be followed by '>'"
			}
			p.i += 2
			break
		}
		if !hadSpace {
			return "attributes of <" + name + "> must be separated by spaces"
		}
		an := p.name()
		if an == "" {
			return "invalid attribute in <" + name + ">"
		}
		for _, a := range attrs {
			if a == an {
				return "attribute " + an + " appears twice in <" + name + ">"
			}
		}
		attrs = append(attrs, an)
		p.spaces()
		if p.i >= len(p.s) || p.s[p.i] != '=' {
			return "attribute " + an + " in <" + name + "> has no value"
		}
		p.i++
		p.spaces()
		val, msg := p.attrValue()
		if msg != "" {
			return msg
		}
		if (prefix == "" && an == "xmlns") || (prefix != "" && an == "xmlns:"+prefix) {
			ns = val
		}
	}
	if root && ns != xhtmlNS {
		return "the div must be in the XHTML namespace (xmlns=\"" + xhtmlNS + "\")"
	}
	return ""
}

func (p *xhtmlScanner) attrValue() (string, string) {
	if p.i >= len(p.s) || (p.s[p.i] != '"' && p.s[p.i] != '\'') {
		return "", "attribute values must be quoted"
	}
	q := p.s[p.i]
	p.i++
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != q {
		switch p.s[p.i] {
		case '<':
			return "", "'<' is not allowed in an attribute value"
		case '&':
			if msg := p.reference(); msg != "" {
				return "", msg
			}
			continue
		}
		if msg := p.char(); msg != "" {
			return "", msg
		}
	}
	if p.i >= len(p.s) {
		return "", "attribute value is not closed"
	}
	val := p.s[start:p.i]
	p.i++
	return val, ""
}

// name consumes an XML name. Only ASCII names are accepted: XML allows more,
// but every XHTML element and attribute name is ASCII.
func (p *xhtmlScanner) name() string {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':' ||
			p.i > start && (c >= '0' && c <= '9' || c == '-' || c == '.') {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i]
}

func (p *xhtmlScanner) spaces() bool {
	start := p.i
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
	return p.i > start
}
