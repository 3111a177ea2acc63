package fhirpath

import (
	"regexp"
	"testing"
)

// The patterns htmlActive implements, kept here as its oracle.
var (
	htmlScriptRE = regexp.MustCompile(`(?i)<\s*(script|object|applet|embed|iframe|form|input|frame|frameset|base|link|meta|style)\b`)
	htmlEventRE  = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	htmlJSURLRE  = regexp.MustCompile(`(?i)(href|src)\s*=\s*["']?\s*javascript:`)
)

func htmlActiveRE(s string) bool {
	return htmlScriptRE.MatchString(s) || htmlEventRE.MatchString(s) || htmlJSURLRE.MatchString(s)
}

var htmlActiveSamples = []string{
	`<div xmlns="http://www.w3.org/1999/xhtml"><p>plain</p></div>`,
	`<div><script>x</script></div>`, `<div>< SCRIPT >`, `<div><scripts>`, `<div><form/>`, `<div><formal>`,
	`<div><frame>`, `<div><frameset>`, `<div><framex>`, `<div><p onclick="x">`, `<div><p ONLOAD = "x">`,
	`<div><p on="x">`, `<div> one=1`, `<div><a href="javascript:alert(1)">`, `<div><a HREF = ' JavaScript:x'>`,
	`<div><img src=javascript:x>`, `<div><a href="http://x">javascript:</a>`, `<div><a xhref="javascript:x">`,
	`<div><a href= "javascript :x">`, `<div><meta_x>`, `<div><link>`, `<div><p>a<b</p>`, `<div><p>on=1</p>`,
	"<div>\tonx\t=", `<div><a href=""javascript:x">`, `<div><a href="  javascript:x">`, `<div><a href=  javascript:x>`,
}

func TestHTMLActiveMatchesPatterns(t *testing.T) {
	for _, s := range htmlActiveSamples {
		if got, want := htmlActive(s), htmlActiveRE(s); got != want {
			t.Errorf("%q: htmlActive = %v, patterns say %v", s, got, want)
		}
	}
}

func FuzzHTMLActive(f *testing.F) {
	for _, s := range htmlActiveSamples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := htmlActive(s), htmlActiveRE(s); got != want {
			t.Fatalf("%q: htmlActive = %v, patterns say %v", s, got, want)
		}
	})
}
