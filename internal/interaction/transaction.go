package interaction

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// BundleRequest is a batch or transaction: POST [base] with a Bundle of
// type batch or transaction.
// https://hl7.org/fhir/R4/http.html#transaction
type BundleRequest struct {
	Body []byte
	// Org is the caller's choice of owner for the resources the Bundle
	// creates (CreateRequest.Org).
	Org string
	// Base is the FHIR base URL, for the searchset Bundles of search
	// entries (GET Type?…).
	Base string
}

// EntryResult is the outcome of one entry, in the order of the request's
// entries (Bundle.entry.response).
type EntryResult struct {
	Status   string         // "201 Created", "200 OK", "204 No Content", or a batch entry's error status
	Location string         // Type/id/_history/vid for writes
	Version  *store.Version // the version written or read; nil for an empty delete or an error
	Err      *outcome.Error // a failed batch entry
	Search   *SearchResult  // a search entry's page (GET Type?…)
}

// BundleResult is the outcome of a batch or transaction.
type BundleResult struct {
	Type    string // batch-response or transaction-response
	Entries []EntryResult
	base    string // BundleRequest.Base
}

// entry is one parsed Bundle.entry.
type entry struct {
	index      int
	fullURL    string
	res        *fhir.Value // nil for DELETE and GET
	method     string
	typ, id    string // from request.url
	vid        string // GET …/_history/vid
	cond       string // the criteria of a conditional url (Type?criteria)
	ifNoneExis string
	ifMatch    string
	// target is the resource the entry writes, once known: its type and id.
	target string
	// patch is a PATCH entry's patch: a JSON Patch in a Binary or a
	// FHIRPath Patch (Parameters), https://hl7.org/fhir/R4/http.html#patch
	patchFormat PatchFormat
	patchBody   []byte
}

// order is the processing order R4 prescribes: DELETE, POST, PUT/PATCH, GET;
// -1 for a method a Bundle entry cannot have here.
func order(method string) int {
	switch method {
	case "DELETE":
		return 0
	case "POST":
		return 1
	case "PUT", "PATCH":
		return 2
	case "GET":
		return 3
	}
	return -1
}

// Bundle runs a batch or transaction Bundle.
//
// Transaction: all or nothing in one store transaction. Entries are
// processed DELETE → POST → PUT/PATCH → GET. Every POST gets its id before any
// resource is written, and every reference to an entry's fullUrl
// (urn:uuid:…) is rewritten to Type/id in all resources; a conditional
// reference (Type?identifier=…) is replaced by the one resource it matches.
// A reference to a urn:uuid that no entry has, a conditional reference that
// matches none or several resources, or any failing entry fails the whole
// transaction with nothing written.
//
// Batch: each entry on its own, as R4 requires: no reference rewriting, and
// a failing entry is reported in its response entry while the others
// proceed.
//
// Authorization: every entry is decided as a request of its own (SMART:
// "batch and transaction requests SHALL be validated based on the actual
// requests within them"). A batch entry leaves its own AuditEvent; a
// transaction leaves one, naming every resource and patient its entries
// touched, committed with it (or recording its failure).
func (s *Service) Bundle(ctx context.Context, req BundleRequest) (*BundleResult, error) {
	c := callerFrom(ctx)
	if !c.ok {
		tr := &trace{action: audit.Batch, reason: "no authenticated principal"}
		return nil, s.finish(ctx, c, tr, errUnauthenticated)
	}
	out, tr, err := s.bundle(ctx, c, req)
	if err != nil {
		return nil, s.finish(ctx, c, tr, err)
	}
	return out, nil
}

// entryAction is the audit action of a Bundle entry.
func entryAction(e *entry) audit.Action {
	switch e.method {
	case "DELETE":
		return audit.Delete
	case "POST":
		return audit.Create
	case "PUT":
		return audit.Update
	case "PATCH":
		return audit.Patch
	case "GET":
		if e.vid != "" {
			return audit.VRead
		}
	}
	return audit.Read
}

// bundle runs the Bundle; on failure, tr is the trace of the one AuditEvent
// that records it.
func (s *Service) bundle(ctx context.Context, c caller, req BundleRequest) (*BundleResult, *trace, error) {
	tr := &trace{action: audit.Batch}
	bundle, err := s.parse("Bundle", req.Body)
	if err != nil {
		return nil, tr, err
	}
	btype := bundle.Str("type")
	if btype == "transaction" {
		tr.action = audit.Transaction
	}
	if btype != "transaction" && btype != "batch" {
		return nil, tr, outcome.New(outcome.Invalid, "invalid",
			fmt.Sprintf("POST [base] takes a Bundle of type batch or transaction, not %q", btype), "Bundle.type")
	}
	entries, err := parseEntries(s, bundle)
	if err != nil {
		return nil, tr, err
	}
	out := &BundleResult{Type: btype + "-response", Entries: make([]EntryResult, len(entries)), base: req.Base}
	sorted := make([]*entry, len(entries))
	for i := range entries {
		sorted[i] = &entries[i]
	}
	// Stable: entries of one method keep their order.
	for i := 1; i < len(sorted); i++ {
		for j := i; j > 0 && order(sorted[j].method) < order(sorted[j-1].method); j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	if btype == "batch" {
		for _, e := range sorted {
			var res EntryResult
			etr := &trace{action: entryAction(e)}
			etr.touch(e.typ, e.id, e.vid, nil)
			err := s.st.Update(ctx, func(tx store.Tx) (err error) {
				if res, err = s.runEntry(ctx, tx, c, etr, e, req.Org); err != nil {
					return err
				}
				return s.commitTx(ctx, tx, c, etr)
			})
			if err = s.finish(ctx, c, etr, err); err != nil {
				oe := outcome.As(err)
				res = EntryResult{Status: statusText(oe.Kind.HTTPStatus()), Err: oe}
			}
			out.Entries[e.index] = res
		}
		return out, nil, nil
	}
	traces := make([]*trace, len(sorted))
	err = s.st.Update(ctx, func(tx store.Tx) error {
		if err := s.resolve(ctx, tx, c, entries); err != nil {
			return err
		}
		for i, e := range sorted {
			traces[i] = &trace{action: entryAction(e)}
			traces[i].touch(e.typ, e.id, e.vid, nil)
			res, err := s.runEntry(ctx, tx, c, traces[i], e, req.Org)
			if err != nil {
				tr.reason = traces[i].reason
				return atEntry(err, e.index)
			}
			out.Entries[e.index] = res
		}
		// One AuditEvent for the transaction, naming every resource it
		// read or wrote and every patient they concern: a bulk load of a
		// thousand entries is one record, not a thousand.
		for _, etr := range traces {
			tr.merge(etr)
		}
		return s.commitTx(ctx, tx, c, tr)
	})
	if err != nil {
		for _, etr := range traces {
			if etr != nil {
				for _, r := range etr.resources {
					tr.touch(r.Type, r.ID, r.Version, nil)
				}
				tr.touch("", "", "", etr.patients)
			}
		}
		return nil, tr, err
	}
	return out, nil, nil
}

// parseEntries reads Bundle.entry; the Bundle is already validated.
func parseEntries(s *Service, bundle *fhir.Value) ([]entry, error) {
	list, _ := bundle.Get("entry")
	var out []entry
	if list == nil {
		return nil, nil
	}
	for i := range list.Items {
		item := &list.Items[i]
		e := entry{index: i, fullURL: item.Str("fullUrl")}
		req, ok := item.Get("request")
		if !ok {
			return nil, atEntry(outcome.New(outcome.Invalid, "required", "an entry needs a request"), i)
		}
		e.method = req.Str("method")
		e.ifNoneExis, e.ifMatch = req.Str("ifNoneExist"), strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(req.Str("ifMatch"), "W/"), `"`), `"`)
		if order(e.method) < 0 {
			return nil, atEntry(outcome.New(outcome.NotSupported, "not-supported", fmt.Sprintf("request.method %s is not supported in a Bundle yet", e.method)), i)
		}
		path, query, _ := strings.Cut(req.Str("url"), "?")
		parts := strings.Split(strings.Trim(path, "/"), "/")
		e.typ, e.cond = parts[0], query
		if err := s.checkType(e.typ); err != nil {
			return nil, atEntry(err, i)
		}
		switch {
		case len(parts) == 2:
			e.id = parts[1]
		case len(parts) == 4 && parts[2] == "_history" && e.method == "GET":
			e.id, e.vid = parts[1], parts[3]
		case len(parts) != 1:
			return nil, atEntry(outcome.New(outcome.NotSupported, "not-supported", fmt.Sprintf("request.url %q is not supported in a Bundle", req.Str("url"))), i)
		}
		switch e.method {
		case "POST":
			if e.id != "" || e.cond != "" {
				return nil, atEntry(outcome.New(outcome.Invalid, "invalid", "a POST entry's url is the resource type"), i)
			}
		case "PUT", "DELETE", "PATCH":
			if (e.id == "") == (e.cond == "") {
				return nil, atEntry(outcome.New(outcome.Invalid, "invalid", "a "+e.method+" entry's url is Type/id or Type?criteria"), i)
			}
		case "GET":
			// GET Type?… (or GET Type) is a search; it runs after every
			// write of the Bundle and sees them.
		}
		if e.id != "" {
			if err := checkID(e.id); err != nil {
				return nil, atEntry(err, i)
			}
		}
		if e.method == "POST" || e.method == "PUT" {
			res, ok := item.Get("resource")
			if !ok {
				return nil, atEntry(outcome.New(outcome.Invalid, "required", "a "+e.method+" entry needs a resource"), i)
			}
			if rt := res.ResourceType(); rt != e.typ {
				return nil, atEntry(outcome.New(outcome.Invalid, "invalid", fmt.Sprintf("the resource is a %s, the url names %s", rt, e.typ)), i)
			}
			if e.method == "PUT" && e.id != "" && res.Str("id") != e.id {
				return nil, atEntry(outcome.New(outcome.Invalid, "invalid", "the resource's id differs from the id in request.url"), i)
			}
			e.res = res
		}
		if e.method == "PATCH" {
			if err := e.readPatch(item); err != nil {
				return nil, atEntry(err, i)
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// readPatch reads a PATCH entry's resource: a Binary holding a JSON Patch
// (contentType application/json-patch+json, the document in data), or a
// Parameters resource, a FHIRPath Patch.
// https://hl7.org/fhir/R4/http.html#patch (transactions)
func (e *entry) readPatch(item *fhir.Value) error {
	res, ok := item.Get("resource")
	if !ok {
		return outcome.New(outcome.Invalid, "required", "a PATCH entry needs a resource: a Binary with a JSON Patch or a Parameters with a FHIRPath Patch")
	}
	switch res.ResourceType() {
	case "Binary":
		if ct, _, _ := strings.Cut(res.Str("contentType"), ";"); strings.TrimSpace(ct) != "application/json-patch+json" {
			return outcome.New(outcome.NotSupported, "not-supported",
				fmt.Sprintf("a PATCH entry's Binary has contentType %q; only application/json-patch+json is supported", res.Str("contentType")), "resource.contentType")
		}
		b, err := base64.StdEncoding.DecodeString(res.Str("data"))
		if err != nil || len(b) == 0 {
			return outcome.New(outcome.Invalid, "invalid", "a PATCH entry's Binary needs the JSON Patch in data (base64)", "resource.data")
		}
		e.patchFormat, e.patchBody = JSONPatch, b
	case "Parameters":
		e.res = res // references in the values are rewritten like any resource's
		e.patchFormat = FHIRPathPatch
	default:
		return outcome.New(outcome.Invalid, "invalid",
			fmt.Sprintf("a PATCH entry's resource is a Binary or a Parameters, not a %s", res.ResourceType()), "resource")
	}
	return nil
}

// resolve gives every POST entry its resource (a new id, or the match of its
// ifNoneExist), every conditional PUT and DELETE its target, and rewrites the
// references between entries and the conditional references.
//
// Matches see only what the caller may see: resources outside its boundary
// are as if they did not exist (visible).
func (s *Service) resolve(ctx context.Context, tx store.Tx, c caller, entries []entry) error {
	ids := map[string]string{} // fullUrl → Type/id
	for i := range entries {
		e := &entries[i]
		switch {
		case e.method == "POST" && e.ifNoneExis != "":
			cond, err := ParseCondition(e.ifNoneExis)
			if err != nil {
				return atEntry(err, e.index)
			}
			refs, err := s.matchAs(ctx, tx, c, auth.InteractionRead, e.typ, cond)
			if err != nil {
				return atEntry(err, e.index)
			}
			switch len(refs) {
			case 0:
				e.id = store.NewID()
			case 1:
				e.id, e.target = refs[0].ID, e.typ+"/"+refs[0].ID // exists: not written
			default:
				return atEntry(outcome.New(outcome.Precondition, "duplicate",
					fmt.Sprintf("ifNoneExist %q matches %d resources", e.ifNoneExis, len(refs))), e.index)
			}
		case e.method == "POST":
			e.id = store.NewID()
		case e.cond != "":
			cond, err := ParseCondition(e.cond)
			if err != nil {
				return atEntry(err, e.index)
			}
			in := auth.InteractionUpdate
			if e.method == "DELETE" {
				in = auth.InteractionDelete
			}
			refs, err := s.matchAs(ctx, tx, c, in, e.typ, cond)
			if err != nil {
				return atEntry(err, e.index)
			}
			switch {
			case len(refs) == 1:
				e.id = refs[0].ID
			case len(refs) > 1:
				return atEntry(outcome.New(outcome.Precondition, "multiple-matches",
					fmt.Sprintf("%s?%s matches %d resources", e.typ, e.cond, len(refs))), e.index)
			case e.method == "PUT":
				// Conditional update without a match creates.
				e.id = e.res.Str("id")
				if e.id == "" {
					e.id = store.NewID()
				}
			}
		}
		if e.fullURL != "" && e.id != "" {
			ids[e.fullURL] = e.typ + "/" + e.id
		}
	}
	for i := range entries {
		e := &entries[i]
		if e.res == nil {
			continue
		}
		if e.method == "PUT" && e.id != "" {
			setID(e.res, e.id)
		}
		if err := s.rewrite(ctx, tx, c, e.res, ids); err != nil {
			return atEntry(err, e.index)
		}
	}
	return nil
}

// rewrite replaces, in every Reference.reference of v, a fullUrl of the
// Bundle by Type/id and a conditional reference by the resource it matches.
// A conditional reference matches only resources the caller may read.
func (s *Service) rewrite(ctx context.Context, tx store.Tx, c caller, v *fhir.Value, ids map[string]string) error {
	switch v.Kind {
	case fhir.Array:
		for i := range v.Items {
			if err := s.rewrite(ctx, tx, c, &v.Items[i], ids); err != nil {
				return err
			}
		}
	case fhir.Object:
		for i := range v.Members {
			m := &v.Members[i]
			if m.Name == "reference" && m.Value.Kind == fhir.String {
				ref := m.Value.Text
				if to, ok := ids[ref]; ok {
					m.Value.Text = to
					continue
				}
				if strings.HasPrefix(ref, "urn:uuid:") || strings.HasPrefix(ref, "urn:oid:") {
					return outcome.New(outcome.Invalid, "not-found", fmt.Sprintf("reference %q names no entry of the transaction", ref))
				}
				if typ, query, ok := strings.Cut(ref, "?"); ok && !strings.Contains(typ, "/") {
					cond, err := ParseCondition(query)
					if err != nil {
						return err
					}
					refs, err := s.matchAs(ctx, tx, c, auth.InteractionRead, typ, cond)
					if err != nil {
						return err
					}
					if len(refs) != 1 {
						return outcome.New(outcome.Precondition, "multiple-matches",
							fmt.Sprintf("conditional reference %q matches %d resources, not one", ref, len(refs)))
					}
					m.Value.Text = typ + "/" + refs[0].ID
					// Nothing is written while references are
					// resolved, so the match holds for the whole
					// Bundle: Synthea repeats each practitioner's and
					// organization's conditional reference hundreds of
					// times.
					ids[ref] = m.Value.Text
				}
				continue
			}
			if err := s.rewrite(ctx, tx, c, &m.Value, ids); err != nil {
				return err
			}
		}
	}
	return nil
}

// runEntry performs one entry in tx.
func (s *Service) runEntry(ctx context.Context, tx store.Tx, c caller, tr *trace, e *entry, org string) (EntryResult, error) {
	written := func(v *store.Version, status string) EntryResult {
		return EntryResult{Status: status, Version: v, Location: v.Type + "/" + v.ID + "/_history/" + v.VersionID}
	}
	switch e.method {
	case "DELETE":
		id := e.id
		if e.cond != "" && id == "" {
			cond, err := ParseCondition(e.cond)
			if err != nil {
				return EntryResult{}, err
			}
			refs, err := s.matchAs(ctx, tx, c, auth.InteractionDelete, e.typ, cond)
			if err != nil {
				return EntryResult{}, err
			}
			switch len(refs) {
			case 0:
				return EntryResult{Status: "204 No Content"}, nil
			case 1:
				id = refs[0].ID
			default:
				return EntryResult{}, outcome.New(outcome.Precondition, "multiple-matches",
					fmt.Sprintf("%s?%s matches %d resources", e.typ, e.cond, len(refs)))
			}
		}
		if err := s.preDecide(c, tr, auth.InteractionDelete, e.typ, id); err != nil {
			return EntryResult{}, err
		}
		v, err := s.deleteTx(ctx, tx, c, tr, e.typ, id, e.ifMatch)
		if err != nil {
			return EntryResult{}, err
		}
		return EntryResult{Status: "204 No Content", Version: v}, nil
	case "POST":
		if e.target != "" { // ifNoneExist matched (transaction), among what the caller may read
			v, err := s.readIn(ctx, tx, c, tr, e.typ, e.id, "", "")
			if err != nil {
				return EntryResult{}, err
			}
			return written(v, "200 OK"), nil
		}
		if err := s.preDecide(c, tr, auth.InteractionCreate, e.typ, ""); err != nil {
			return EntryResult{}, err
		}
		var cond Condition
		if e.ifNoneExis != "" {
			var err error
			if cond, err = ParseCondition(e.ifNoneExis); err != nil {
				return EntryResult{}, err
			}
		}
		v, existing, err := s.createTx(ctx, tx, c, tr, e.typ, e.id, e.res, org, e.ifNoneExis, cond)
		if err != nil {
			return EntryResult{}, err
		}
		if existing {
			return written(v, "200 OK"), nil
		}
		return written(v, "201 Created"), nil
	case "PUT":
		id := e.id
		if id == "" { // batch: conditional update resolved here
			cond, err := ParseCondition(e.cond)
			if err != nil {
				return EntryResult{}, err
			}
			refs, err := s.matchAs(ctx, tx, c, auth.InteractionUpdate, e.typ, cond)
			if err != nil {
				return EntryResult{}, err
			}
			switch len(refs) {
			case 0:
				if id = e.res.Str("id"); id == "" {
					id = store.NewID()
				}
			case 1:
				id = refs[0].ID
			default:
				return EntryResult{}, outcome.New(outcome.Precondition, "multiple-matches",
					fmt.Sprintf("%s?%s matches %d resources", e.typ, e.cond, len(refs)))
			}
			setID(e.res, id)
		}
		if err := s.preDecide(c, tr, auth.InteractionUpdate, e.typ, id); err != nil {
			return EntryResult{}, err
		}
		v, created, err := s.updateTx(ctx, tx, c, tr, auth.InteractionUpdate, e.typ, id, e.res, org, e.ifMatch)
		if err != nil {
			return EntryResult{}, err
		}
		if created {
			return written(v, "201 Created"), nil
		}
		return written(v, "200 OK"), nil
	case "PATCH":
		id := e.id
		if id == "" {
			cond, err := ParseCondition(e.cond)
			if err != nil {
				return EntryResult{}, err
			}
			refs, err := s.matchAs(ctx, tx, c, auth.InteractionPatch, e.typ, cond)
			if err != nil {
				return EntryResult{}, err
			}
			switch len(refs) {
			case 0:
				return EntryResult{}, outcome.Errorf(outcome.NotFound, "%s?%s matches no resource to patch", e.typ, e.cond)
			case 1:
				id = refs[0].ID
			default:
				return EntryResult{}, outcome.New(outcome.Precondition, "multiple-matches",
					fmt.Sprintf("%s?%s matches %d resources", e.typ, e.cond, len(refs)))
			}
		}
		body := e.patchBody
		if e.patchFormat == FHIRPathPatch {
			body = e.res.Marshal()
		}
		apply, err := s.patcher(e.patchFormat, body)
		if err != nil {
			return EntryResult{}, err
		}
		if err := s.preDecide(c, tr, auth.InteractionPatch, e.typ, id); err != nil {
			return EntryResult{}, err
		}
		v, err := s.patchTx(ctx, tx, c, tr, e.typ, id, apply, e.ifMatch)
		if err != nil {
			return EntryResult{}, err
		}
		return written(v, "200 OK"), nil
	case "GET":
		if e.id == "" {
			return s.searchEntry(ctx, tx, c, tr, e)
		}
		in := auth.InteractionRead
		if e.vid != "" {
			in = auth.InteractionVRead
		}
		if err := s.preDecide(c, tr, in, e.typ, e.id); err != nil {
			return EntryResult{}, err
		}
		v, err := s.readIn(ctx, tx, c, tr, e.typ, e.id, e.vid, "")
		if err != nil {
			return EntryResult{}, err
		}
		return EntryResult{Status: "200 OK", Version: v}, nil
	}
	return EntryResult{}, outcome.Errorf(outcome.NotSupported, "request.method %s", e.method)
}

// atEntry locates err at Bundle.entry[i].
func atEntry(err error, i int) error {
	oe := outcome.As(err)
	loc := fmt.Sprintf("Bundle.entry[%d]", i)
	issues := make([]outcome.Issue, len(oe.Issues))
	for j, is := range oe.Issues {
		is.Expression = append([]string{loc}, is.Expression...)
		issues[j] = is
	}
	return &outcome.Error{Kind: oe.Kind, Issues: issues, Err: oe.Err}
}

// statusText is "404 Not Found" for 404: Bundle.entry.response.status. (The
// names are net/http's, which this layer does not import.)
func statusText(code int) string {
	name := "Error"
	switch code {
	case 400:
		name = "Bad Request"
	case 401:
		name = "Unauthorized"
	case 403:
		name = "Forbidden"
	case 404:
		name = "Not Found"
	case 406:
		name = "Not Acceptable"
	case 409:
		name = "Conflict"
	case 410:
		name = "Gone"
	case 412:
		name = "Precondition Failed"
	case 413:
		name = "Payload Too Large"
	case 415:
		name = "Unsupported Media Type"
	case 422:
		name = "Unprocessable Entity"
	case 500:
		name = "Internal Server Error"
	case 501:
		name = "Not Implemented"
	}
	return fmt.Sprintf("%d %s", code, name)
}

// Marshal renders the result as a Bundle (batch-response or
// transaction-response). Each response entry carries status, location, etag
// and lastModified, and, for a failed batch entry, its OperationOutcome.
func (r *BundleResult) Marshal() []byte {
	var b strings.Builder
	str := func(s string) { b.WriteString(quote(s)) }
	b.WriteString(`{"resourceType":"Bundle","type":`)
	str(r.Type)
	b.WriteString(`,"entry":[`)
	for i, e := range r.Entries {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"response":{"status":`)
		str(e.Status)
		if e.Location != "" {
			b.WriteString(`,"location":`)
			str(e.Location)
		}
		if e.Version != nil {
			b.WriteString(`,"etag":`)
			str(`W/"` + e.Version.VersionID + `"`)
			b.WriteString(`,"lastModified":`)
			str(e.Version.LastUpdated.Format(store.TimeFormat))
		}
		if e.Err != nil {
			b.WriteString(`,"outcome":`)
			b.Write(e.Err.OperationOutcome())
		}
		b.WriteString(`}`)
		if e.Status == "200 OK" && e.Version != nil && e.Location == "" && e.Version.Body != nil {
			b.WriteString(`,"resource":`) // a GET entry answers with the resource
			b.Write(e.Version.Body)
		}
		if e.Search != nil {
			b.WriteString(`,"resource":`) // a search entry with its searchset
			b.Write(e.Search.Bundle(r.base))
		}
		b.WriteString(`}`)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// quote returns s as a JSON string.
func quote(s string) string {
	v := fhir.Value{Kind: fhir.String, Text: s}
	return string(v.Marshal())
}

// searchEntry runs a search entry (GET Type?params) inside the Bundle's
// transaction (https://hl7.org/fhir/R4/http.html#transaction: GETs are
// processed last and see the Bundle's writes).
func (s *Service) searchEntry(ctx context.Context, tx store.ReadTx, c caller, tr *trace, e *entry) (EntryResult, error) {
	tr.action, tr.query = audit.SearchType, e.typ+"?"+e.cond
	params, err := url.ParseQuery(e.cond)
	if err != nil {
		return EntryResult{}, outcome.New(outcome.Invalid, "value", fmt.Sprintf("request.url: %v", err))
	}
	res, err := s.searchTx(ctx, tx, c, tr, SearchRequest{Type: e.typ, Params: params})
	if err != nil {
		return EntryResult{}, err
	}
	return EntryResult{Status: "200 OK", Search: res}, nil
}
