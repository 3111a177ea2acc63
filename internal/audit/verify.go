package audit

import (
	"cmp"
	"crypto/ed25519"
	"fmt"
	"slices"
)

// BrokenError says where and how the chain is broken.
type BrokenError struct {
	Seq    int64 // the first broken record's position
	Reason string
}

func (e *BrokenError) Error() string { return fmt.Sprintf("audit record %d: %s", e.Seq, e.Reason) }

// Verify checks entries, which must be the whole chain from position 1 in
// order, and returns the index into entries of the first broken record and
// a *BrokenError naming its position, or -1 and nil when the chain is
// intact. A record is broken when its bytes do not have its digest (edited),
// when its link does not follow from the previous link and its digest (an
// edited digest or link, or records reordered, removed or inserted), or
// when its position is not the next one. Purged records (nil bytes) are
// checked by digest and link alone.
func Verify(entries []Entry) (firstBroken int, err error) {
	var prev Hash
	for i, e := range entries {
		if want := int64(i) + 1; e.Seq != want {
			return i, &BrokenError{Seq: want, Reason: fmt.Sprintf("found position %d where %d belongs: records removed, inserted or reordered", e.Seq, want)}
		}
		if e.Record != nil && Digest(e.Record) != e.Digest {
			return i, &BrokenError{Seq: e.Seq, Reason: "record bytes do not match their digest: the record was edited"}
		}
		if Link(prev, e.Digest) != e.Link {
			return i, &BrokenError{Seq: e.Seq, Reason: "link does not follow from the previous link and the digest"}
		}
		prev = e.Link
	}
	return -1, nil
}

// VerifyCheckpoints verifies the chain (Verify) and then every checkpoint:
// its signature must be valid under the key it names, and the chain's link
// at its position must be the signed link. A checkpoint past the end of the
// chain means records were cut off the end. It returns the index into
// entries of the first broken record, or -1 and nil. A bad signature names
// the checkpoint's position as broken: from there on nothing is proven. A
// rewritten chain (consistent links that miss a signed one) names the first
// record after the last checkpoint that held: the change is somewhere
// between the two.
func VerifyCheckpoints(entries []Entry, checkpoints []Checkpoint, keys map[string]ed25519.PublicKey) (firstBroken int, err error) {
	first, err := Verify(entries)
	cps := slices.Clone(checkpoints)
	slices.SortFunc(cps, func(a, b Checkpoint) int { return cmp.Compare(a.Seq, b.Seq) })
	var proven int64 // position of the last checkpoint that held
	for _, c := range cps {
		idx := int(c.Seq - 1)
		if err != nil && idx >= first {
			break // the earlier break is the first
		}
		var why string
		switch pub, ok := keys[c.KeyID]; {
		case c.Seq < 1:
			why = fmt.Sprintf("checkpoint at invalid position %d", c.Seq)
			idx = 0
		case !ok:
			why = fmt.Sprintf("checkpoint signed by unknown key %q", c.KeyID)
		case !c.Valid(pub):
			why = "checkpoint signature is not valid: the checkpoint was edited"
		case idx >= len(entries):
			why = fmt.Sprintf("chain ends at %d before its checkpoint: records were removed from the end", len(entries))
			idx = len(entries)
		case entries[idx].Link != c.Link:
			// The links are consistent but lead elsewhere: someone
			// recomputed them. The first changed record lies after the
			// last checkpoint that held.
			why = fmt.Sprintf("link differs from the signed checkpoint at %d: the chain was rewritten after %d", c.Seq, proven)
			idx = int(proven)
		default:
			proven = c.Seq
			continue
		}
		return idx, &BrokenError{Seq: int64(idx) + 1, Reason: why}
	}
	return first, err
}
