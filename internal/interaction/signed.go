package interaction

import (
	"bytes"
	"fmt"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// A signed clinical note is immutable on every write path — update, patch,
// delete, conditional writes and Bundle entries all pass through updateTx
// and deleteTx, which call these checks (docs/decisions/0010-notes.md).
// A note is signed when its DocumentReference has docStatus "final" (or
// "amended": https://hl7.org/fhir/R4/valueset-composition-status.html).
// It then changes only by an addendum — a new DocumentReference whose
// relatesTo "appends" it — or by being marked entered-in-error, which keeps
// everything else as it was
// (https://hl7.org/fhir/R4/documentreference-definitions.html#DocumentReference.status).

// signedNote reports whether cur is a signed DocumentReference.
func signedNote(cur *store.Version) bool {
	if cur == nil || cur.Type != "DocumentReference" || cur.Deleted() {
		return false
	}
	v, err := fhir.Parse(cur.Body)
	if err != nil {
		return false
	}
	switch v.Str("docStatus") {
	case "final", "amended":
		return true
	}
	return false
}

func signedErr(typ, id, what string) error {
	return outcome.New(outcome.Conflict, "business-rule",
		fmt.Sprintf("%s/%s is a signed note and cannot be %s; add an addendum (a DocumentReference that relatesTo appends it) or mark it entered-in-error", typ, id, what))
}

// checkUpdateSigned refuses an update of a signed note, except the one
// allowed change: status to entered-in-error with nothing else changed.
func checkUpdateSigned(cur *store.Version, res *fhir.Value) error {
	if !signedNote(cur) {
		return nil
	}
	if res.Str("status") == "entered-in-error" && sameExceptStatus(cur.Body, res) {
		return nil
	}
	return signedErr(cur.Type, cur.ID, "changed")
}

// sameExceptStatus compares a stored note with a new version, ignoring
// status and meta (which the store sets).
func sameExceptStatus(stored []byte, res *fhir.Value) bool {
	old, err := fhir.Parse(stored)
	if err != nil {
		return false
	}
	strip := func(v fhir.Value) []byte {
		out := fhir.Value{Kind: v.Kind}
		for _, m := range v.Members {
			if m.Name != "status" && m.Name != "meta" && m.Name != "text" {
				out.Members = append(out.Members, m)
			}
		}
		return out.Marshal()
	}
	return bytes.Equal(strip(old), strip(*res))
}

// checkDeleteSigned refuses a delete of a signed note: the record of care
// must stay readable (entered-in-error is the way to withdraw it).
func checkDeleteSigned(cur *store.Version) error {
	if signedNote(cur) {
		return signedErr(cur.Type, cur.ID, "deleted")
	}
	return nil
}
