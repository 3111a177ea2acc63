package storetest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// testHistoryNarrowed: HistoryQuery.Orgs and Types narrow the query itself,
// so pages and cursors are those of the permitted subset.
func testHistoryNarrowed(t *testing.T, st store.Store) {
	mustPut(t, st, patient(t, "na", "A"), "org-a", "")
	mustPut(t, st, patient(t, "nb", "B"), "org-b", "")
	mustPut(t, st, resource(t, `{"resourceType":"Organization","id":"o1","name":"Clinic"}`), "", "")
	mustPut(t, st, resource(t, `{"resourceType":"Basic","id":"ba","code":{"text":"x"}}`), "org-a", "")
	mustPut(t, st, patient(t, "na", "A2"), "org-a", "")
	for _, tc := range []struct {
		q    store.HistoryQuery
		want []string
	}{
		{store.HistoryQuery{Orgs: []string{"org-a"}}, []string{"Patient/na/2", "Basic/ba/1", "Organization/o1/1", "Patient/na/1"}},
		{store.HistoryQuery{Orgs: []string{"org-a"}, Count: 1}, []string{"Patient/na/2", "Basic/ba/1", "Organization/o1/1", "Patient/na/1"}},
		{store.HistoryQuery{Orgs: []string{"org-b"}}, []string{"Organization/o1/1", "Patient/nb/1"}},
		{store.HistoryQuery{Orgs: []string{"org-a", "org-b"}, Type: "Patient"}, []string{"Patient/na/2", "Patient/nb/1", "Patient/na/1"}},
		{store.HistoryQuery{Orgs: []string{}}, []string{"Organization/o1/1"}},
		{store.HistoryQuery{Orgs: []string{"org-c"}, Type: "Patient"}, nil},
		{store.HistoryQuery{Type: "Patient", ID: "nb", Orgs: []string{"org-a"}}, nil},
		{store.HistoryQuery{Types: []string{"Basic", "Organization"}}, []string{"Basic/ba/1", "Organization/o1/1"}},
		{store.HistoryQuery{Types: []string{"Patient"}, Orgs: []string{"org-b"}}, []string{"Patient/nb/1"}},
		{store.HistoryQuery{Types: []string{}}, nil},
	} {
		got := allHistory(t, st, tc.q)
		if !slices.Equal(keys(got), tc.want) {
			t.Errorf("History(%+v) = %v, want %v", tc.q, keys(got), tc.want)
		}
	}
}

// chainEntry is an entry after prev for record: what package audit computes
// (the store does not check the hashes; audit.Verify does).
func chainEntry(seq int64, prev [32]byte, id string, record []byte, recorded time.Time, refs ...store.AuditRef) store.AuditEntry {
	d := sha256.Sum256(record)
	return store.AuditEntry{Seq: seq, ID: id, Record: record, Digest: d, Link: sha256.Sum256(append(prev[:], d[:]...)),
		Recorded: recorded, Refs: refs}
}

func testAuditChain(t *testing.T, st store.Store) {
	ctx := context.Background()
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	var written []store.AuditEntry
	for i := 1; i <= 5; i++ {
		update(t, st, func(tx store.Tx) error {
			seq, link, err := tx.AuditHead(ctx)
			if err != nil {
				return err
			}
			if seq != int64(i-1) {
				t.Errorf("head = %d before entry %d", seq, i)
			}
			refs := []store.AuditRef{{Name: store.AuditRefAgent, Value: fmt.Sprintf("user-%d", i%2)}, {Name: store.AuditRefOrg, Value: fmt.Sprintf("org-%d", i%3)}}
			if i != 3 {
				refs = append(refs, store.AuditRef{Name: store.AuditRefPatient, Value: "Patient/p1"})
			}
			e := chainEntry(seq+1, link, fmt.Sprintf("ae-%d", i), fmt.Appendf(nil, `{"n":%d}`, i), base.Add(time.Duration(i)*time.Hour), refs...)
			written = append(written, e)
			return tx.AppendAudit(ctx, e)
		})
	}
	// The head must follow: a stale or skipping entry is refused.
	err := st.Update(ctx, func(tx store.Tx) error {
		return tx.AppendAudit(ctx, chainEntry(3, [32]byte{}, "dup", []byte("x"), base))
	})
	wantKind(t, "append at a taken position", err, outcome.Conflict)
	err = st.Update(ctx, func(tx store.Tx) error {
		return tx.AppendAudit(ctx, chainEntry(6, written[4].Link, "six", []byte("6"), base), chainEntry(8, [32]byte{}, "eight", []byte("8"), base))
	})
	wantKind(t, "append with a gap", err, outcome.Conflict)
	// A failed write takes its audit entry with it.
	err = st.Update(ctx, func(tx store.Tx) error {
		seq, link, err := tx.AuditHead(ctx)
		if err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, chainEntry(seq+1, link, "rolled-back", []byte("y"), base)); err != nil {
			return err
		}
		return outcome.New(outcome.Invalid, "invalid", "the write fails")
	})
	wantKind(t, "failed write", err, outcome.Invalid)
	update(t, st, func(tx store.Tx) error {
		return tx.AppendAuditCheckpoint(ctx, store.AuditCheckpoint{Seq: 5, Link: written[4].Link, KeyID: "k1", Signature: []byte("sig"), Created: base})
	})

	view(t, st, func(tx store.ReadTx) error {
		all, err := tx.AuditEntries(ctx, 0, 0)
		if err != nil {
			return err
		}
		if len(all) != 5 {
			t.Fatalf("%d entries, want 5", len(all))
		}
		for i, e := range all {
			w := written[i]
			if e.Seq != w.Seq || e.ID != w.ID || string(e.Record) != string(w.Record) || e.Digest != w.Digest || e.Link != w.Link || !e.Recorded.Equal(w.Recorded) {
				t.Errorf("entry %d = %+v, want %+v", i, e, w)
			}
		}
		if part, err := tx.AuditEntries(ctx, 3, 1); err != nil || len(part) != 1 || part[0].Seq != 4 {
			t.Errorf("AuditEntries(3, 1) = %v, %v", part, err)
		}
		cps, err := tx.AuditCheckpoints(ctx)
		if err != nil || len(cps) != 1 || cps[0].Seq != 5 || cps[0].Link != written[4].Link || string(cps[0].Signature) != "sig" || cps[0].KeyID != "k1" {
			t.Errorf("checkpoints = %+v, %v", cps, err)
		}
		e, err := tx.ReadAudit(ctx, "ae-2")
		if err != nil || e.Seq != 2 || len(e.Refs) != 3 {
			t.Errorf("ReadAudit(ae-2) = %+v, %v", e, err)
		}
		_, err = tx.ReadAudit(ctx, "rolled-back")
		wantKind(t, "ReadAudit of a rolled-back entry", err, outcome.NotFound)

		seqs := func(q store.AuditQuery) []int64 {
			var out []int64
			for {
				p, err := tx.SearchAudit(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range p.Entries {
					out = append(out, e.Seq)
				}
				if p.Next == 0 {
					return out
				}
				q.Before = p.Next
			}
		}
		for _, tc := range []struct {
			q    store.AuditQuery
			want []int64
		}{
			{store.AuditQuery{}, []int64{5, 4, 3, 2, 1}},
			{store.AuditQuery{Count: 2}, []int64{5, 4, 3, 2, 1}},
			{store.AuditQuery{Refs: []store.AuditRef{{Name: store.AuditRefPatient, Value: "Patient/p1"}}}, []int64{5, 4, 2, 1}},
			{store.AuditQuery{Refs: []store.AuditRef{{Name: store.AuditRefPatient, Value: "Patient/p1"}, {Name: store.AuditRefAgent, Value: "user-1"}}, Count: 1}, []int64{5, 1}},
			{store.AuditQuery{From: base.Add(2 * time.Hour), To: base.Add(4 * time.Hour)}, []int64{3, 2}},
			{store.AuditQuery{Refs: []store.AuditRef{{Name: store.AuditRefPatient, Value: "Patient/p2"}}}, nil},
			{store.AuditQuery{AnyOf: []store.AuditRef{{Name: store.AuditRefOrg, Value: "org-1"}, {Name: store.AuditRefOrg, Value: "org-2"}}}, []int64{5, 4, 2, 1}},
			{store.AuditQuery{AnyOf: []store.AuditRef{{Name: store.AuditRefOrg, Value: "org-0"}}, Refs: []store.AuditRef{{Name: store.AuditRefPatient, Value: "Patient/p1"}}}, nil},
			{store.AuditQuery{AnyOf: []store.AuditRef{}}, nil},
		} {
			if got := seqs(tc.q); !slices.Equal(got, tc.want) {
				t.Errorf("SearchAudit(%+v) = %v, want %v", tc.q, got, tc.want)
			}
		}
		return nil
	})
}
