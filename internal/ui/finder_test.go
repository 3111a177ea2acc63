package ui

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
	"github.com/continuum-ehr/continuum/internal/validate"
)

func TestWithinOne(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"smith", "smith", true}, {"smith", "smyth", true}, {"smith", "smiht", true}, {"smith", "smit", true},
		{"smith", "smitth", true}, {"smith", "mith", true}, {"smith", "smiths", true}, {"smith", "smyht", false},
		{"smith", "smi", false}, {"okafor", "okafur", true}, {"zoë", "zoe", true}, {"ab", "ba", true}, {"abc", "cab", false},
		{"", "a", true}, {"", "ab", false},
	} {
		if got := withinOne(tc.a, tc.b); got != tc.want {
			t.Errorf("withinOne(%q, %q) = %v", tc.a, tc.b, got)
		}
		if got := withinOne(tc.b, tc.a); got != tc.want {
			t.Errorf("withinOne(%q, %q) = %v (reversed)", tc.b, tc.a, got)
		}
	}
}

func TestSearch(t *testing.T) {
	entries := []*entry{
		{ID: "1", Name: "Marianne Okafor", words: []string{"marianne", "okafor"}, BirthDate: "1961-04-09", ids: []string{"12345678"}},
		{ID: "2", Name: "Mary Okafor", words: []string{"mary", "okafor"}, BirthDate: "1990-01-01", ids: []string{"22222222"}},
		{ID: "3", Name: "Zoë Müller", words: words("Zoë Müller"), BirthDate: "1961-04-10", ids: []string{"33333333"}},
		{ID: "4", Name: "Jon Johnson", words: []string{"jon", "johnson"}, BirthDate: "1975-06-30", ids: []string{"44444444"}},
	}
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"Okafor", []string{"1", "2"}},
		{"okafur", []string{"1", "2"}},     // a typo in the family name
		{"Marianne Okafur", []string{"1"}}, // a typo in one name
		{"Maryanne okafor", []string{"1"}}, // a typo in the given name
		{"Marianne Okafor", []string{"1"}}, // as displayed
		{"oka", []string{"1", "2"}},        // a prefix while typing
		{"zoe muller", []string{"3"}},      // without accents
		{"1961-04-09", []string{"1"}},      // birth date
		{"1961", []string{"1", "3"}},       // birth year
		{"okafor 1990", []string{"2"}},     // name and year
		{"12345678", []string{"1"}},        // MRN
		{"1234", []string{"1"}},            // MRN prefix
		{"Jhonson", []string{"4"}},         // a swapped pair
		{"smith", nil},
		{"", nil},
		{"okafor 1975-06-30", nil},
	} {
		var got []string
		for _, m := range search(entries, tc.q) {
			got = append(got, m.ID)
		}
		sort.Strings(got) // ties come in name order; compare as sets
		sort.Strings(tc.want)
		if !slices.Equal(got, tc.want) {
			t.Errorf("search(%q) = %v, want %v", tc.q, got, tc.want)
		}
	}
	// Best first: an exact name before a typo, a full word before a prefix.
	entries = append(entries, &entry{ID: "5", Name: "Bo Okafur", words: []string{"bo", "okafur"}})
	for q, first := range map[string]string{"okafur": "5", "okafor": "1"} {
		if ms := search(entries, q); len(ms) == 0 || (ms[0].ID != first && !(q == "okafor" && ms[0].ID == "2")) {
			t.Errorf("search(%q) starts with %v, want %s", q, ms, first)
		}
	}
}

// The index follows registrations and changes made through any path.
func TestFinderFollowsChanges(t *testing.T) {
	h := newHarness(t, sqltest.Backends()[0])
	ctx := auth.NewContext(context.Background(), auth.NewSystem())
	f := h.ui.finder
	if ms, err := f.find(ctx, "org-a", "Shaw"); err != nil || len(ms) != 0 {
		t.Fatalf("empty: %v %v", ms, err)
	}
	h.put("org-a", `{"resourceType":"Patient","id":"p1","name":[{"family":"Shaw","given":["Amy"]}],"birthDate":"1980-02-03"}`)
	h.put("org-b", `{"resourceType":"Patient","id":"p2","name":[{"family":"Shaw","given":["Bea"]}]}`)
	ms, err := f.find(ctx, "org-a", "Shaw")
	if err != nil || len(ms) != 1 || ms[0].ID != "p1" {
		t.Fatalf("after a create: %v %v", ms, err)
	}
	h.put("org-a", `{"resourceType":"Patient","id":"p1","name":[{"family":"Shore","given":["Amy"]}],"birthDate":"1980-02-03"}`)
	if ms, _ := f.find(ctx, "org-a", "Shaw"); len(ms) != 0 {
		t.Errorf("after a rename the old name still matches: %v", ms)
	}
	if ms, _ := f.find(ctx, "org-a", "Shore"); len(ms) != 1 {
		t.Errorf("after a rename the new name does not match: %v", ms)
	}
	svc := h.ui.rec.svc
	if _, err := svc.Delete(ctx, interaction.DeleteRequest{Type: "Patient", ID: "p1"}); err != nil {
		t.Fatal(err)
	}
	if ms, _ := f.find(ctx, "org-a", "Shore"); len(ms) != 0 {
		t.Errorf("a deleted patient is found: %v", ms)
	}
}

var givenNames = []string{"Amy", "Ben", "Chloe", "Daniel", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemal", "Lena", "Marta",
	"Nikolai", "Olga", "Pedro", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zara"}
var familyNames = []string{"Andersen", "Brown", "Castillo", "Dubois", "Eriksson", "Fischer", "Garcia", "Hansen", "Ivanova", "Jensen",
	"Kowalski", "Larsen", "Martin", "Nguyen", "Okafor", "Petrov", "Quispe", "Rossi", "Schmidt", "Tanaka", "Usman", "Varga", "Weber",
	"Xu", "Yilmaz", "Zimmermann", "Johansson", "Novak", "Horvat", "Kaya"}

// BenchmarkFind is one Find patient query at 1,000 patients of the
// organization (and 1,000 of another), on SQLite, through interaction —
// the index refresh included. It reports the p95 latency.
func BenchmarkFind(b *testing.B) {
	be := sqltest.Backends()[0]
	db := be.Open(b)
	r4 := spec.R4()
	svc := interaction.New(interaction.Options{Store: db, Validator: validate.New(r4, validate.Options{}), Spec: r4, Audit: testTrail(b, db)})
	ctx := auth.NewContext(context.Background(), auth.NewSystem())
	rng := rand.New(rand.NewPCG(1, 2))
	for _, org := range []string{"org-a", "org-b"} {
		for i := range 1000 {
			body := fmt.Sprintf(`{"resourceType":"Patient","name":[{"family":%q,"given":[%q]}],"birthDate":"19%02d-%02d-%02d","identifier":[{"system":"urn:continuum:mrn:%s","value":"%08d"}]}`,
				familyNames[rng.IntN(len(familyNames))], givenNames[rng.IntN(len(givenNames))], rng.IntN(100), 1+rng.IntN(12), 1+rng.IntN(28), org, 10_000_000+i)
			if _, err := svc.Create(ctx, interaction.CreateRequest{Type: "Patient", Body: []byte(body), Org: org}); err != nil {
				b.Fatal(err)
			}
		}
	}
	f := newFinder(&records{svc: svc})
	if _, err := f.refresh(ctx, "org-a"); err != nil { // the first load, once per process
		b.Fatal(err)
	}
	queries := []string{"Okafur", "emma schmit", "Jonas 1975", "10000500", "kowalsky marta", "zimerman", "1980-03"}
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		if _, err := f.find(ctx, "org-a", queries[i%len(queries)]); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds()), "p95-µs")
}
