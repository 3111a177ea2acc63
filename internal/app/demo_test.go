package app

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"log/slog"
	"strings"
	"testing"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/config"
	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/store"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
	"github.com/continuum-ehr/continuum/internal/synth"
)

// TestDemo loads the demo population into an empty store, completes an
// interrupted load, and leaves a store with other data alone.
func TestDemo(t *testing.T) {
	ctx := context.Background()
	pop := demoPopulation()
	pop.Patients = 3 // the mechanism; the size is serve's

	st := sqltest.Backends()[0].Open(t)
	// Opened as serve opens it: with the default organization already
	// there, which must not count as "data already".
	cfg := config.Default()
	cfg.Data = t.TempDir()
	if err := ensureDefaultOrg(ctx, cfg, st); err != nil {
		t.Fatal(err)
	}
	svc := newInteractions(config.Default(), st, testTrail(t, st))
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))
	if err := loadDemo(ctx, svc, st, log, pop); err != nil {
		t.Fatal(err)
	}
	counts := countTypes(t, st)
	if counts["Patient"] != pop.Patients || counts["Organization"] < pop.Orgs || counts["Observation"] == 0 {
		t.Fatalf("after the demo load: %v", counts)
	}
	if !strings.Contains(logs.String(), "demo data loaded") {
		t.Errorf("no summary in the log:\n%s", logs.String())
	}
	// The demo accounts exist, with the demo password, linked to demo
	// records, and the physician belongs to the organization that owns
	// the demo's clinical data.
	var idt store.Identity = st
	for _, want := range []string{"demo-physician", "demo-nurse", "demo-patient"} {
		u, err := idt.UserByUsername(ctx, want)
		if err != nil {
			t.Fatalf("demo account %s: %v", want, err)
		}
		if !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
			t.Errorf("demo account %s has no argon2id password hash", want)
		}
		if u.FHIRUser == "" {
			t.Errorf("demo account %s is linked to no record", want)
		}
	}
	if u, _ := idt.UserByUsername(ctx, "demo-physician"); len(u.Memberships) != 1 || u.Memberships[0].Org != defaultOrg {
		t.Errorf("demo physician memberships %+v, want the default organization", u.Memberships)
	}
	// Started again: nothing new.
	if err := loadDemo(ctx, svc, st, log, pop); err != nil {
		t.Fatal(err)
	}
	if again := countTypes(t, st); !sameCounts(again, counts) {
		t.Errorf("a second start changed the store: %v", again)
	}
	if !strings.Contains(logs.String(), "holds data already") {
		t.Errorf("the second start does not say why it loads nothing:\n%s", logs.String())
	}

	// An interrupted load (the directory only) is completed.
	st2 := sqltest.Backends()[0].Open(t)
	if err := ensureDefaultOrg(ctx, cfg, st2); err != nil {
		t.Fatal(err)
	}
	svc2 := newInteractions(config.Default(), st2, testTrail(t, st2))
	sink := &demoSink{files: map[string]*bytes.Buffer{}}
	if err := synth.Generate(ctx, pop, sink); err != nil {
		t.Fatal(err)
	}
	org := sink.data.Organizations[0]
	if _, err := svc2.Update(auth.NewContext(ctx, auth.NewSystem()), interaction.UpdateRequest{Type: org.Type, ID: org.ID, Body: org.JSON, Org: defaultOrg}); err != nil {
		t.Fatal(err)
	}
	if err := loadDemo(ctx, svc2, st2, log, pop); err != nil {
		t.Fatal(err)
	}
	if got := countTypes(t, st2); !sameCounts(got, counts) {
		t.Errorf("completing an interrupted load: %v, want %v", got, counts)
	}
}

func countTypes(t *testing.T, st store.Store) map[string]int {
	t.Helper()
	ctx := context.Background()
	out := map[string]int{}
	err := st.View(ctx, func(tx store.ReadTx) error {
		for cursor := ""; ; {
			p, err := tx.History(ctx, store.HistoryQuery{Count: store.MaxHistoryCount, Cursor: cursor})
			if err != nil {
				return err
			}
			for _, v := range p.Versions {
				out[v.Type]++
			}
			if cursor = p.Next; cursor == "" {
				return nil
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// testTrail is an audit trail over st with a throwaway key.
func testTrail(t *testing.T, st store.Store) *audit.Trail {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := audit.NewTrail(audit.TrailOptions{Store: st, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}
