package audit

import (
	"context"
	"crypto/ed25519"

	"github.com/continuum-ehr/continuum/internal/store"
)

// verifyBatch is how many entries VerifyStore reads at a time.
const verifyBatch = 1000

// Report is what VerifyStore found.
type Report struct {
	Entries     int64 // records checked
	Checkpoints int   // checkpoints checked
	// Broken is the first broken record, nil when the trail is intact;
	// BrokenID is its AuditEvent id, when the record exists.
	Broken   *BrokenError
	BrokenID string
}

// VerifyStore checks the whole audit trail of st in one snapshot: every
// record against its digest, the chain of links, and every checkpoint's
// signature (keys by id) and link (VerifyCheckpoints). Records are read in
// batches and dropped once their digest is checked, so memory grows with
// about 80 bytes per record, not with the records. The error is about
// reading the store; a broken trail is Report.Broken.
func VerifyStore(ctx context.Context, st store.Store, keys map[string]ed25519.PublicKey) (*Report, error) {
	rep := &Report{}
	err := st.View(ctx, func(tx store.ReadTx) error {
		var (
			entries   []Entry
			ids       []string
			badDigest = -1
			after     int64
		)
		for {
			batch, err := tx.AuditEntries(ctx, after, verifyBatch)
			if err != nil {
				return err
			}
			for _, e := range batch {
				if badDigest < 0 && e.Record != nil && Digest(e.Record) != e.Digest {
					badDigest = len(entries)
				}
				// The record is checked: keep the digest and link only.
				entries = append(entries, Entry{Seq: e.Seq, Digest: e.Digest, Link: e.Link})
				ids = append(ids, e.ID)
				after = e.Seq
			}
			if len(batch) < verifyBatch {
				break
			}
		}
		sc, err := tx.AuditCheckpoints(ctx)
		if err != nil {
			return err
		}
		cps := make([]Checkpoint, len(sc))
		for i, c := range sc {
			cps[i] = Checkpoint{Seq: c.Seq, Link: c.Link, KeyID: c.KeyID, Signature: c.Signature}
		}
		rep.Entries, rep.Checkpoints = int64(len(entries)), len(cps)
		first, verr := VerifyCheckpoints(entries, cps, keys)
		if badDigest >= 0 && (verr == nil || badDigest <= first) {
			first = badDigest
			verr = &BrokenError{Seq: int64(badDigest) + 1, Reason: "record bytes do not match their digest: the record was edited"}
			if entries[badDigest].Seq != int64(badDigest)+1 {
				// Positions are off before this record; VerifyCheckpoints
				// reported that earlier break already.
				first, verr = VerifyCheckpoints(entries, cps, keys)
			}
		}
		if verr != nil {
			rep.Broken = verr.(*BrokenError)
			if first >= 0 && first < len(ids) {
				rep.BrokenID = ids[first]
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}
