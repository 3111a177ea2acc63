package ui

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzFind: any Find patient query answers without panicking, within the
// result limit, and every result matches every term.
func FuzzFind(f *testing.F) {
	for _, s := range []string{"Okafor", "marianne okafur", "1961-04-09", "1961", "12345678", "Zoë Müller", "O'Brien-Smith", ", ;", "ÿÿ", "\x00", "1961-13-99"} {
		f.Add(s)
	}
	entries := []*entry{
		{ID: "1", Name: "Okafor, Marianne", words: []string{"marianne", "okafor"}, BirthDate: "1961-04-09", ids: []string{"12345678"}},
		{ID: "2", Name: "Müller, Zoë", words: words("Zoë Müller"), BirthDate: "1961-04-10", ids: []string{"33333333"}},
		{ID: "3", Name: "O'Brien-Smith, Seán", words: words("Seán O'Brien-Smith"), BirthDate: "2001", ids: []string{"a-1"}},
	}
	f.Fuzz(func(t *testing.T, q string) {
		ms := search(entries, q)
		if len(ms) > maxResults {
			t.Fatalf("%d results", len(ms))
		}
		for _, m := range ms {
			for _, term := range splitQuery(q) {
				if term.score(m.entry) == 0 {
					t.Fatalf("%q: result %s does not match term %q", q, m.ID, term.text)
				}
			}
		}
	})
}

// FuzzNoteSections: the editor gets back what it composed, section by
// section, whatever the text (except a line that is itself a section
// heading of the template, which starts a new section by design).
func FuzzNoteSections(f *testing.F) {
	f.Add("Cough.", "Lungs clear.\nNo wheeze.", "", "## Plan")
	f.Add("", "", "", "")
	f.Add("a\r\nb", "## Not a section", "  x  ", "é")
	t0 := noteTemplates[0]
	f.Fuzz(func(t *testing.T, s, o, a, p string) {
		in := map[string]string{t0.Sections[0]: s, t0.Sections[1]: o, t0.Sections[2]: a, t0.Sections[3]: p}
		for _, v := range in {
			for _, line := range strings.Split(v, "\n") {
				if h, ok := strings.CutPrefix(strings.TrimSuffix(line, "\r"), "## "); ok && (contains(t0.Sections, h) || strings.TrimSpace(h) != h) {
					return
				}
			}
			if !utf8.ValidString(v) {
				return
			}
		}
		out := decompose(t0, compose(t0, in))
		for _, sec := range t0.Sections {
			want := strings.TrimSpace(strings.ReplaceAll(in[sec], "\r\n", "\n"))
			if out[sec] != want {
				t.Fatalf("section %s: got %q, want %q (text %q)", sec, out[sec], want, compose(t0, in))
			}
		}
	})
}
