package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/bulkimport"
	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/oauth"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
	"github.com/continuum-ehr/continuum/internal/synth"
)

// demoPopulation is the synthetic population --demo loads: small enough to
// load in seconds, large enough to show every kind of record.
func demoPopulation() synth.Options {
	return synth.Options{Patients: 25, Seed: 2026, Orgs: 4}
}

// demoData is what the demo loaded, for the accounts that sign in to it.
type demoData struct {
	Organizations []synth.Resource // the care organizations and payers
	Practitioners []synth.Resource
	Patients      []synth.Resource
}

// demoSink collects the population as NDJSON per type, in the order types
// first appear, and keeps the directory and the patients.
type demoSink struct {
	order []string
	files map[string]*bytes.Buffer
	data  demoData
	last  synth.Resource // the last resource: its presence means a complete load
}

func (d *demoSink) add(rs []synth.Resource) {
	for _, r := range rs {
		b, ok := d.files[r.Type]
		if !ok {
			b = &bytes.Buffer{}
			d.files[r.Type] = b
			d.order = append(d.order, r.Type)
		}
		b.Write(r.JSON)
		b.WriteByte('\n')
		switch r.Type {
		case "Organization":
			d.data.Organizations = append(d.data.Organizations, r)
		case "Practitioner":
			d.data.Practitioners = append(d.data.Practitioners, r)
		case "Patient":
			d.data.Patients = append(d.data.Patients, r)
		}
		d.last = r
	}
}

func (d *demoSink) Directory(rs []synth.Resource) error      { d.add(rs); return nil }
func (d *demoSink) Patient(_ int, rs []synth.Resource) error { d.add(rs); return nil }
func (d *demoSink) Groups(rs []synth.Resource) error         { d.add(rs); return nil }

// loadDemo loads the demo population through the import path, as the
// system, when the store is empty or holds an interrupted demo load
// (loading is idempotent, so it completes it). Then it sets up the demo's
// sign-in accounts. pop is demoPopulation() but in tests.
func loadDemo(ctx context.Context, svc *interaction.Service, st store.Store, log *slog.Logger, pop synth.Options) error {
	start := time.Now()
	sink := &demoSink{files: map[string]*bytes.Buffer{}}
	if err := synth.Generate(ctx, pop, sink); err != nil {
		return err
	}
	ctx = auth.NewContext(ctx, auth.NewSystem())
	pending, err := demoPending(ctx, st, sink)
	if err != nil {
		return err
	}
	if !pending {
		log.Info("demo mode: the store holds data already; no demo data loaded")
		return createDemoAccounts(ctx, st, sink.data, log)
	}
	var failed []string
	im := bulkimport.New(bulkimport.Options{Service: svc, Org: defaultOrg, Report: func(f bulkimport.Failure) {
		if len(failed) < 3 {
			failed = append(failed, f.Error())
		}
	}})
	for _, typ := range sink.order {
		if _, err := im.ImportReader(ctx, "demo/"+typ+".ndjson", bytes.NewReader(sink.files[typ].Bytes())); err != nil {
			return err
		}
	}
	sum := im.Summary()
	if sum.Failed > 0 {
		return errors.New("the demo data did not load: " + failed[0])
	}
	log.Info("demo data loaded", "organizations", len(sink.data.Organizations), "practitioners", len(sink.data.Practitioners),
		"patients", len(sink.data.Patients), "resources", sum.Resources(), "elapsed", time.Since(start).Round(time.Millisecond))
	return createDemoAccounts(ctx, st, sink.data, log)
}

// demoPending reports whether the demo must be loaded: the store holds no
// patients,
// or holds the demo's first resource but not its last (a load that was
// interrupted).
func demoPending(ctx context.Context, st store.Store, sink *demoSink) (bool, error) {
	// "Empty" means no patients: opening a store creates the default
	// Organization (and its Provenance) before the demo looks.
	empty := true
	err := st.View(ctx, func(tx store.ReadTx) error {
		p, err := tx.History(ctx, store.HistoryQuery{Type: "Patient", Count: 1})
		if err != nil {
			return err
		}
		empty = len(p.Versions) == 0
		return nil
	})
	if err != nil || empty {
		return empty, err
	}
	first := sink.data.Organizations[0]
	if _, err := st.Read(ctx, first.Type, first.ID); err != nil {
		return false, nil // someone else's data
	}
	_, err = st.Read(ctx, sink.last.Type, sink.last.ID)
	if err != nil && outcome.As(err).Kind == outcome.NotFound {
		return true, nil
	}
	return false, nil
}

// demoPassword is the password of the demo's accounts. It is public on
// purpose (README): --demo is for trying Continuum on synthetic data on the
// loopback address, never for real patients.
const demoPassword = "continuum-demo"

// demoAccounts are the demo's sign-in accounts: two clinicians of the
// default organization, which owns the demo's clinical data, and a
// patient user for the first demo patient.
func demoAccounts(data demoData) []oauth.UserSpec {
	member := func(role string) []store.Membership { return []store.Membership{{Org: defaultOrg, Role: role}} }
	return []oauth.UserSpec{
		{Username: "demo-physician", Password: demoPassword, Kind: "practitioner",
			FHIRUser: "Practitioner/" + data.Practitioners[0].ID, Memberships: member(string(auth.Physician))},
		{Username: "demo-nurse", Password: demoPassword, Kind: "practitioner",
			FHIRUser: "Practitioner/" + data.Practitioners[1%len(data.Practitioners)].ID, Memberships: member(string(auth.Nurse))},
		{Username: "demo-patient", Password: demoPassword, Kind: "patient", FHIRUser: "Patient/" + data.Patients[0].ID},
	}
}

// createDemoAccounts creates the demo's sign-in accounts that do not exist
// yet and logs how to sign in.
func createDemoAccounts(ctx context.Context, st store.Store, data demoData, log *slog.Logger) error {
	idt, ok := st.(store.Identity)
	if !ok {
		return errors.New("the store keeps no accounts")
	}
	for _, spec := range demoAccounts(data) {
		if _, err := idt.UserByUsername(ctx, spec.Username); err == nil {
			continue
		}
		if _, err := oauth.CreateUser(ctx, idt, spec, time.Now()); err != nil {
			return fmt.Errorf("demo account %s: %w", spec.Username, err)
		}
	}
	log.Info("demo mode: sign in at the server's root URL", "usernames", "demo-physician, demo-nurse, demo-patient",
		"password", demoPassword, "example", "/fhir/Patient/"+data.Patients[0].ID)
	return nil
}
