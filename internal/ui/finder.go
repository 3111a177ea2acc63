package ui

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
)

// finder answers Find patient: names (tolerant of one wrong, missing,
// extra or swapped letter in each word), birth date and MRN, over the
// patients of the user's organization.
//
// How it stays fast: each organization's patients are held in memory as
// small entries (folded name words, birth date, identifiers) — about 200
// bytes each, 200 KB for 1,000 patients — and a query is a linear scan
// with a bounded edit distance (optimal string alignment, abandoned once
// it exceeds 1). Before each query the index catches up with the Patient
// history since its last refresh (an indexed range read that is empty
// when nothing changed), so registrations through the API or by other
// nodes appear at once. BenchmarkFind measures the whole query, refresh
// included, on SQLite: docs/ui.md has the numbers.
type finder struct {
	rec  *records
	mu   sync.Mutex
	orgs map[string]*orgIndex
}

type orgIndex struct {
	mu      sync.Mutex // serializes refreshes and guards the fields
	seq     int64
	at      time.Time
	loaded  bool
	entries map[string]*entry
}

// entry is one patient in the index.
type entry struct {
	ID        string
	Name      string   // as displayed: "Family, Given"
	words     []string // folded name words
	BirthDate string
	Gender    string
	MRN       string
	ids       []string // folded identifier values
	seq       int64    // commit sequence of the version indexed
}

func newFinder(rec *records) *finder { return &finder{rec: rec, orgs: map[string]*orgIndex{}} }

func (f *finder) index(org string) *orgIndex {
	f.mu.Lock()
	defer f.mu.Unlock()
	ix := f.orgs[org]
	if ix == nil {
		ix = &orgIndex{entries: map[string]*entry{}}
		f.orgs[org] = ix
	}
	return ix
}

// refresh brings the organization's index up to date and returns a
// snapshot of its entries.
func (f *finder) refresh(ctx context.Context, org string) ([]*entry, error) {
	ix := f.index(org)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	since := ix.at
	if !ix.loaded {
		since = time.Time{}
	}
	seq, at, err := f.rec.changes(ctx, "Patient", since, ix.seq, func(r resource, deleted bool) {
		if deleted || r.Org != org {
			delete(ix.entries, r.ID)
			return
		}
		if e := entryOf(r); e != nil {
			e.seq = r.Seq
			ix.entries[r.ID] = e
		}
	})
	if err != nil {
		return nil, err
	}
	ix.seq, ix.at, ix.loaded = seq, at, true
	out := make([]*entry, 0, len(ix.entries))
	for _, e := range ix.entries {
		out = append(out, e)
	}
	return out, nil
}

// entryOf extracts what the index keeps of a Patient.
func entryOf(r resource) *entry {
	var p patientJSON
	if json.Unmarshal(r.Body, &p) != nil {
		return nil
	}
	e := &entry{ID: r.ID, Name: p.displayName(), BirthDate: p.BirthDate, Gender: p.Gender, MRN: p.mrn()}
	for _, n := range p.Name {
		for _, g := range append(slices.Clone(n.Given), n.Family) {
			e.words = append(e.words, words(g)...)
		}
	}
	for _, id := range p.Identifier {
		e.ids = append(e.ids, fold(id.Value))
	}
	return e
}

// recent returns the organization's most recently registered or changed
// patients.
func (f *finder) recent(ctx context.Context, org string, n int) ([]*entry, error) {
	entries, err := f.refresh(ctx, org)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(entries, func(a, b *entry) int { return cmp.Compare(b.seq, a.seq) })
	return entries[:min(n, len(entries))], nil
}

// match is a found patient with its score.
type match struct {
	*entry
	score int
}

// maxResults bounds the list under the search box.
const maxResults = 25

// find returns the organization's patients that match q, best first.
func (f *finder) find(ctx context.Context, org, q string) ([]match, error) {
	entries, err := f.refresh(ctx, org)
	if err != nil {
		return nil, err
	}
	return search(entries, q), nil
}

// search scores every entry against the query: every term must match.
func search(entries []*entry, q string) []match {
	terms := splitQuery(q)
	if len(terms) == 0 {
		return nil
	}
	var out []match
	for _, e := range entries {
		total := 0
		for _, t := range terms {
			s := t.score(e)
			if s == 0 {
				total = 0
				break
			}
			total += s
		}
		if total > 0 {
			out = append(out, match{e, total})
		}
	}
	slices.SortFunc(out, func(a, b match) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})
	if len(out) > maxResults {
		out = out[:maxResults]
	}
	return out
}

// term is one word of a query: a birth date, an identifier or a name.
type term struct {
	text string
	kind byte // 'd' date, 'i' identifier, 'n' name
}

func splitQuery(q string) []term {
	var out []term
	for _, f := range strings.FieldsFunc(q, func(r rune) bool { return unicode.IsSpace(r) || r == ',' || r == ';' }) {
		switch {
		case isDate(f):
			out = append(out, term{f, 'd'})
		case strings.ContainsAny(f, "0123456789"):
			out = append(out, term{fold(f), 'i'})
		default:
			for _, w := range words(f) {
				out = append(out, term{w, 'n'})
			}
		}
	}
	return out
}

// isDate accepts a birth date or its start: 1970, 1970-03, 1970-03-14.
func isDate(s string) bool {
	if len(s) != 4 && len(s) != 7 && len(s) != 10 {
		return false
	}
	for i, r := range s {
		if i == 4 || i == 7 {
			if r != '-' {
				return false
			}
		} else if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func (t term) score(e *entry) int {
	switch t.kind {
	case 'd':
		if strings.HasPrefix(e.BirthDate, t.text) {
			return 3
		}
		if len(t.text) == 4 {
			// Four digits may be a year or the start of an MRN.
			return term{t.text, 'i'}.score(e)
		}
	case 'i':
		best := 0
		for _, id := range e.ids {
			switch {
			case id == t.text:
				return 4
			case len(t.text) >= 4 && strings.HasPrefix(id, t.text):
				best = 2
			}
		}
		return best
	case 'n':
		best := 0
		for _, w := range e.words {
			switch {
			case w == t.text:
				return 3
			case strings.HasPrefix(w, t.text):
				best = max(best, 2)
			case len(t.text) >= 3 && withinOne(w, t.text):
				best = max(best, 1)
			case len(t.text) >= 4 && len(w) > len(t.text) && withinOne(w[:len(t.text)], t.text):
				// A typo in a prefix still typed: "Smi" → no, "Jhons" → "Johnson".
				best = max(best, 1)
			}
		}
		return best
	}
	return 0
}

// withinOne reports whether a and b are at most one edit apart: one
// letter substituted, inserted, deleted, or two adjacent letters swapped
// (optimal string alignment distance ≤ 1). It runs in O(len) without a
// table.
func withinOne(a, b string) bool {
	if a == b {
		return true
	}
	ra, rb := []rune(a), []rune(b)
	la, lb := len(ra), len(rb)
	if la-lb > 1 || lb-la > 1 {
		return false
	}
	i := 0
	for i < la && i < lb && ra[i] == rb[i] {
		i++
	}
	switch {
	case la == lb:
		if string(ra[i+1:]) == string(rb[i+1:]) {
			return true // substitution
		}
		// transposition
		return i+1 < la && ra[i] == rb[i+1] && ra[i+1] == rb[i] && string(ra[i+2:]) == string(rb[i+2:])
	case la > lb:
		return string(ra[i+1:]) == string(rb[i:])
	default:
		return string(ra[i:]) == string(rb[i+1:])
	}
}

// fold lower-cases s and drops accents of Latin letters, so "Zoë" is
// found by "zoe".
func fold(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if x, ok := latin[r]; ok {
			b.WriteString(x)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

var latin = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'æ': "ae", 'ç': "c", 'è': "e", 'é': "e", 'ê': "e", 'ë': "e",
	'ì': "i", 'í': "i", 'î': "i", 'ï': "i", 'ñ': "n", 'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "o", 'ø': "o", 'ù': "u",
	'ú': "u", 'û': "u", 'ü': "u", 'ý': "y", 'ÿ': "y", 'ß': "ss", 'ł': "l", 'ś': "s", 'ź': "z", 'ż': "z", 'č': "c", 'š': "s", 'ž': "z",
}

// words splits a name into folded words of letters ("O'Brien-Smith" →
// "obrien", "smith").
func words(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(fold(s), func(r rune) bool { return unicode.IsSpace(r) || r == '-' }) {
		w = strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) {
				return r
			}
			return -1
		}, w)
		if w != "" {
			out = append(out, w)
		}
	}
	return out
}
