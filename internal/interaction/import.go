package interaction

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// ImportRequest is a bulk load of resources that carry their ids, as in
// Bulk Data NDJSON files (https://hl7.org/fhir/uv/bulkdata/STU2/export.html#file-format):
// each is an update (PUT [type]/[id], create-on-update), several per store
// transaction.
type ImportRequest struct {
	Org       string   // the organization the writes are made for, and that owns new resources
	Resources [][]byte // JSON resources, each with resourceType and, unless IDs gives one, id
	// IDs, when not nil, has one entry per resource: the id to give a
	// resource that has none (an importer derives it from the content, so
	// that loading the same file again finds the same resources).
	IDs []string
}

// ImportStatus is what Import did with one resource.
type ImportStatus uint8

// Statuses of ImportResult.
const (
	ImportFailed    ImportStatus = iota // Err says why; nothing was written for it
	ImportCreated                       // version 1 written
	ImportUpdated                       // a new version written
	ImportUnchanged                     // the current version has the same content: nothing written
)

// ImportResult is the outcome of one resource of an ImportRequest, in
// request order.
type ImportResult struct {
	Status  ImportStatus
	Type    string
	ID      string
	Version *store.Version // the version written, or the current one when unchanged
	Err     *outcome.Error
}

// Import validates each resource and writes the valid ones in one store
// transaction, each as an update with its own id (tenancy as for Update: a
// resource of another organization fails with Private, and the others are
// written). A resource whose current version has the same content, apart
// from meta.versionId and meta.lastUpdated, is left as it is, so that
// loading the same data again adds no versions.
//
// A resource that fails validation or tenancy fails alone. An error of the
// store fails the whole request and nothing is written; the caller may then
// retry resources one per request to find the one at fault.
//
// Import is a bulk path for the composition root's loaders (continuum
// import, serve --demo): only the system principal may use it, and each
// request leaves one AuditEvent naming what it wrote and the Provenance of
// every write, in the write's transaction, like any other write.
func (s *Service) Import(ctx context.Context, req ImportRequest) ([]ImportResult, error) {
	c := callerFrom(ctx)
	tr := &trace{action: audit.Update}
	out, err := s.importAll(ctx, c, tr, req)
	return out, s.finish(ctx, c, tr, err)
}

func (s *Service) importAll(ctx context.Context, c caller, tr *trace, req ImportRequest) ([]ImportResult, error) {
	if !c.ok {
		tr.reason = "no authenticated principal"
		return nil, errUnauthenticated
	}
	if c.p.Kind != auth.System {
		tr.reason = "import is for the system principal"
		return nil, outcome.New(outcome.Forbidden, "forbidden", "bulk import is only for the server's own loaders")
	}
	out := make([]ImportResult, len(req.Resources))
	parsed := make([]*fhir.Value, len(req.Resources))
	for i, body := range req.Resources {
		v, issues := s.v.Parse(body)
		if outcome.HasErrors(issues) {
			out[i].Err = &outcome.Error{Kind: outcome.Invalid, Issues: issues}
			continue
		}
		typ, id := v.ResourceType(), v.Str("id")
		if id == "" && i < len(req.IDs) && req.IDs[i] != "" {
			id = req.IDs[i]
			setID(&v, id)
		}
		out[i].Type, out[i].ID = typ, id
		if err := s.checkType(typ); err != nil {
			out[i].Err = outcome.As(err)
			continue
		}
		if id == "" {
			out[i].Err = outcome.As(outcome.New(outcome.Invalid, "required", "an imported resource needs an id", typ+".id"))
			continue
		}
		if err := checkID(id); err != nil {
			out[i].Err = outcome.As(err)
			continue
		}
		parsed[i] = &v
	}
	// Which resources are new is asked before the write transaction, on
	// the read connections, so that the single writer does one lookup per
	// resource (Put's) instead of two. A new resource is then written
	// directly; should another writer have created it in between (Put
	// returns a later version than 1), the transaction is rolled back and
	// run again with every check inside it.
	absent := make([]bool, len(parsed))
	for i, res := range parsed {
		if res == nil {
			continue
		}
		_, err := s.st.Read(ctx, out[i].Type, out[i].ID)
		absent[i] = err != nil && kindOf(err) == outcome.NotFound
	}
	run := func(tx store.Tx) error {
		*tr = trace{action: audit.Update}
		if err := s.importTx(ctx, tx, c, tr, req.Org, parsed, absent, out); err != nil {
			return err
		}
		if len(tr.written) == 0 {
			return nil // nothing changed: no Provenance, the read-side event records the call
		}
		return s.commitTx(ctx, tx, c, tr)
	}
	err := s.st.Update(ctx, run)
	if errors.Is(err, errRaced) {
		clear(absent)
		err = s.st.Update(ctx, run)
	}
	if err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Err != nil {
			out[i].Status = ImportFailed
		}
	}
	return out, nil
}

// errRaced rolls back an import transaction in which a resource read as
// absent turned out to exist.
var errRaced = errors.New("interaction: a resource appeared during the import")

// importTx writes the parsed resources; absent marks those read as not
// existing just before. It fills out and may run twice.
func (s *Service) importTx(ctx context.Context, tx store.Tx, c caller, tr *trace, org string, parsed []*fhir.Value, absent []bool, out []ImportResult) error {
	for i, res := range parsed {
		if res == nil {
			continue
		}
		r := &out[i]
		r.Err, r.Version, r.Status = nil, nil, ImportFailed
		if absent[i] {
			v, err := tx.Put(ctx, store.Write{Resource: res, Org: owner(r.Type, org)})
			if err != nil {
				return err
			}
			if v.VersionID != "1" {
				return errRaced
			}
			r.Version, r.Status = v, ImportCreated
			tr.wrote(v, nil)
			continue
		}
		cur, err := tx.Read(ctx, r.Type, r.ID)
		var v *store.Version
		created := false
		switch kindOf(err) {
		case outcome.Internal:
			if err != nil {
				return err
			}
			if !store.DirectoryType(r.Type) && cur.Org != org {
				// Worded exactly like a resource that does not exist.
				r.Err = outcome.As(outcome.New(outcome.Private, "not-found", fmt.Sprintf("%s/%s is not known", r.Type, r.ID)))
				continue
			}
			if sameContent(res, cur.Body) {
				r.Status, r.Version = ImportUnchanged, cur
				continue
			}
			v, err = tx.Put(ctx, store.Write{Resource: res, Org: owner(r.Type, org)})
		case outcome.NotFound:
			// The second run after errRaced.
			created = true
			v, err = tx.Put(ctx, store.Write{Resource: res, Org: owner(r.Type, org)})
		default:
			// Deleted: update decides whether the tombstone's owner
			// may revive it.
			v, created, err = s.updateTx(ctx, tx, c, tr, auth.InteractionUpdate, r.Type, r.ID, res, org, "")
			if kindOf(err) == outcome.Private {
				// Decided before anything was written for it.
				r.Err = outcome.As(err)
				continue
			}
		}
		if err != nil {
			return err
		}
		if v != nil && !slices.Contains(tr.written, v) {
			tr.wrote(v, nil)
		}
		r.Version, r.Status = v, ImportUpdated
		if created {
			r.Status = ImportCreated
		}
	}
	return nil
}

// sameContent reports whether res and the stored body hold the same
// resource apart from the meta elements the store sets.
func sameContent(res *fhir.Value, stored []byte) bool {
	cur, err := fhir.Parse(stored)
	if err != nil {
		return false
	}
	a, b := withoutStoreMeta(*res).Marshal(), withoutStoreMeta(cur).Marshal()
	return bytes.Equal(a, b)
}

// withoutStoreMeta returns a shallow copy of v without meta.versionId and
// meta.lastUpdated (and without meta when nothing else is left in it).
func withoutStoreMeta(v fhir.Value) fhir.Value {
	members := make([]fhir.Member, 0, len(v.Members))
	for _, m := range v.Members {
		if m.Name != "meta" {
			members = append(members, m)
			continue
		}
		var kept []fhir.Member
		for _, mm := range m.Value.Members {
			if mm.Name != "versionId" && mm.Name != "lastUpdated" {
				kept = append(kept, mm)
			}
		}
		if len(kept) > 0 {
			meta := m.Value
			meta.Members = kept
			members = append(members, fhir.Member{Name: "meta", Value: meta})
		}
	}
	v.Members = members
	return v
}

// String names the status for summaries.
func (s ImportStatus) String() string {
	switch s {
	case ImportFailed:
		return "failed"
	case ImportCreated:
		return "created"
	case ImportUpdated:
		return "updated"
	case ImportUnchanged:
		return "unchanged"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}
