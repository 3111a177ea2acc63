package store

import (
	"time"

	"github.com/continuum-ehr/continuum/internal/fhir"
)

// Stamp returns the JSON to store for res as version versionID of resource
// id: res with id, meta.versionId and meta.lastUpdated set, everything else as
// it was. It is the one place where stored bytes are produced, once per
// version, so that reads can serve them unchanged.
//
// res is not modified: the members of the resource and of meta are copied
// before they are changed, and the rest of the tree is shared.
//
// New members go where R4's JSON order puts them (resourceType, id, meta, …;
// within meta versionId, lastUpdated, …): order is not significant in FHIR
// JSON, but readers of the stored bytes expect it.
func Stamp(res *fhir.Value, id, versionID string, lastUpdated time.Time) []byte {
	out := StampTree(res, id, versionID, lastUpdated)
	return out.Marshal()
}

// StampTree is Stamp without the encoding: the tree whose JSON Stamp
// returns. The store indexes it, so that index rows describe exactly the
// stored bytes (id, meta.lastUpdated included).
func StampTree(res *fhir.Value, id, versionID string, lastUpdated time.Time) fhir.Value {
	out := *res
	out.Members = setMember(res.Members, "id", fhir.Value{Kind: fhir.String, Text: id}, "resourceType")

	var meta fhir.Value
	if m, ok := res.Get("meta"); ok && m.Kind == fhir.Object {
		meta = *m
	} else {
		meta = fhir.Value{Kind: fhir.Object}
	}
	meta.Members = setMember(meta.Members, "versionId", fhir.Value{Kind: fhir.String, Text: versionID})
	meta.Members = setMember(meta.Members, "lastUpdated",
		fhir.Value{Kind: fhir.String, Text: lastUpdated.UTC().Format(TimeFormat)}, "versionId")
	// setMember already copied out.Members, so assigning in place is safe.
	out.Members = setMember(out.Members, "meta", meta, "resourceType", "id")
	return out
}

// setMember returns a copy of members with name set to v: replaced where it
// is, or inserted after the last member named in after that is present (at the
// front when none is).
func setMember(members []fhir.Member, name string, v fhir.Value, after ...string) []fhir.Member {
	out := make([]fhir.Member, 0, len(members)+1)
	for i, m := range members {
		if m.Name == name {
			out = append(out, members...)
			out[i].Value = v
			return out
		}
	}
	at := 0
	for i, m := range members {
		for _, a := range after {
			if m.Name == a {
				at = i + 1
			}
		}
	}
	out = append(out, members[:at]...)
	out = append(out, fhir.Member{Name: name, Value: v})
	return append(out, members[at:]...)
}
