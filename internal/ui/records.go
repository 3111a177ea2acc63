package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"time"

	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/outcome"
)

// records is the one place the workspace calls internal/interaction: reads,
// writes and the lists of the chart. Its context carries the signed-in
// user's principal, so authorization and audit are the FHIR API's.
type records struct {
	svc *interaction.Service
}

// resource is a current resource as the pages use it.
type resource struct {
	Type, ID, VersionID string
	Org                 string
	Seq                 int64
	Body                []byte
}

func (r resource) decode(v any) error { return json.Unmarshal(r.Body, v) }

func (rc *records) read(ctx context.Context, typ, id string) (resource, error) {
	if !validID.MatchString(id) {
		// A mistyped URL is a page that does not exist, not a bad request.
		return resource{}, outcome.New(outcome.NotFound, "not-found", typ+"/"+id+" is not known")
	}
	v, err := rc.svc.Read(ctx, interaction.ReadRequest{Type: typ, ID: id})
	if err != nil {
		return resource{}, err
	}
	return resource{Type: v.Type, ID: v.ID, VersionID: v.VersionID, Org: v.Org, Body: v.Body}, nil
}

// history returns every version of one resource, newest first.
func (rc *records) history(ctx context.Context, typ, id string) ([]resource, error) {
	var out []resource
	cursor := ""
	for {
		pg, err := rc.svc.History(ctx, interaction.HistoryRequest{Type: typ, ID: id, Count: 100, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		for _, v := range pg.Versions {
			if !v.Deleted() {
				out = append(out, resource{Type: v.Type, ID: v.ID, VersionID: v.VersionID, Org: v.Org, Body: v.Body})
			}
		}
		if cursor = pg.Next; cursor == "" {
			return out, nil
		}
	}
}

func (rc *records) create(ctx context.Context, org, typ string, body any, ifNoneExist string) (resource, bool, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return resource{}, false, err
	}
	res, err := rc.svc.Create(ctx, interaction.CreateRequest{Type: typ, Body: b, Org: org, IfNoneExist: ifNoneExist})
	if err != nil {
		return resource{}, false, err
	}
	v := res.Version
	return resource{Type: v.Type, ID: v.ID, VersionID: v.VersionID, Org: v.Org, Body: v.Body}, res.Existing, nil
}

// update writes a new version; ifMatch guards against a lost update.
func (rc *records) update(ctx context.Context, org, typ, id, ifMatch string, body any) (resource, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return resource{}, err
	}
	res, err := rc.svc.Update(ctx, interaction.UpdateRequest{Type: typ, ID: id, Body: b, Org: org, IfMatch: ifMatch})
	if err != nil {
		return resource{}, err
	}
	v := res.Version
	return resource{Type: v.Type, ID: v.ID, VersionID: v.VersionID, Org: v.Org, Body: v.Body}, nil
}

// changes visits the current version of every resource of type typ
// written since `since` (zero: all) with a commit sequence number above
// `after`, newest first, and returns the newest
// sequence number and time seen. The type-level history of interaction is
// the feed (https://hl7.org/fhir/R4/http.html#history); the finder keeps
// its name index current with it.
func (rc *records) changes(ctx context.Context, typ string, since time.Time, after int64, visit func(r resource, deleted bool)) (int64, time.Time, error) {
	// The store's history is in commit-sequence order, newest first, and
	// lastUpdated is monotonic in the sequence: _since the last refresh's
	// newest version reads only what is new, and the walk stops at the
	// first version seen before.
	newest, newestAt := after, since
	seen := map[string]bool{}
	cursor := ""
	for {
		pg, err := rc.svc.History(ctx, interaction.HistoryRequest{Type: typ, Since: since, Count: 1000, Cursor: cursor})
		if err != nil {
			return after, since, err
		}
		for _, v := range pg.Versions {
			if v.Seq <= after {
				return newest, newestAt, nil // seen at an earlier refresh
			}
			if seen[v.ID] {
				continue // an older version of a resource visited already
			}
			seen[v.ID] = true
			newest = max(newest, v.Seq)
			if v.LastUpdated.After(newestAt) {
				newestAt = v.LastUpdated
			}
			visit(resource{Type: v.Type, ID: v.ID, VersionID: v.VersionID, Org: v.Org, Seq: v.Seq, Body: v.Body}, v.Deleted())
		}
		if cursor = pg.Next; cursor == "" {
			return newest, newestAt, nil
		}
	}
}

// maxList bounds what one chart list reads.
const maxList = 2000

// find runs a FHIR search (https://hl7.org/fhir/R4/search.html) and
// returns up to limit matches, paging through the results. interaction
// narrows it to what the signed-in user may see (their organizations);
// org is kept for the callers' signature and names the workspace's
// organization.
func (rc *records) find(ctx context.Context, org, typ string, params url.Values, limit int) ([]resource, error) {
	params.Set("_count", fmt.Sprint(min(limit, 500)))
	var out []resource
	for {
		res, err := rc.svc.Search(ctx, interaction.SearchRequest{Type: typ, Params: params})
		if err != nil {
			return nil, err
		}
		for _, v := range res.Page.Matches {
			out = append(out, resource{Type: v.Type, ID: v.ID, VersionID: v.VersionID, Org: v.Org, Seq: v.Seq, Body: v.Body})
			if len(out) == limit {
				return out, nil
			}
		}
		if res.Page.Next == "" {
			return out, nil
		}
		params.Set(interaction.CursorParam, res.Page.Next)
	}
}

// patientParam is the search parameter that names the patient of a type.
func patientParam(typ string) string {
	if typ == "AllergyIntolerance" {
		return "patient"
	}
	return "subject"
}

// patientRecords returns the organization's current resources of type typ
// about Patient/id (by subject or patient), for the chart's lists; extra
// adds parameters such as _sort.
func (rc *records) patientRecords(ctx context.Context, org, typ, patientID string, extra url.Values, limit int) ([]resource, error) {
	params := url.Values{patientParam(typ): {"Patient/" + patientID}}
	for k, v := range extra {
		params[k] = v
	}
	return rc.find(ctx, org, typ, params, limit)
}

// drafts returns the organization's DocumentReferences that author is
// writing (docStatus preliminary).
func (rc *records) drafts(ctx context.Context, org, author string) ([]resource, error) {
	return rc.find(ctx, org, "DocumentReference", url.Values{"author": {author}, "docstatus": {"preliminary"}, "_sort": {"-date"}}, 100)
}

// validID is the syntax of a resource id (https://hl7.org/fhir/R4/datatypes.html#id).
var validID = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// query builds a conditional-create criterion.
func identifierQuery(system, value string) string {
	return "identifier=" + url.QueryEscape(system+"|"+value)
}

// createAll creates resources in one transaction Bundle: all or nothing
// (https://hl7.org/fhir/R4/http.html#transaction).
func (rc *records) createAll(ctx context.Context, org string, resources []any) error {
	type entry struct {
		Resource any `json:"resource"`
		Request  struct {
			Method string `json:"method"`
			URL    string `json:"url"`
		} `json:"request"`
	}
	bundle := struct {
		ResourceType string  `json:"resourceType"`
		Type         string  `json:"type"`
		Entry        []entry `json:"entry"`
	}{ResourceType: "Bundle", Type: "transaction"}
	for _, r := range resources {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		var typ struct{ ResourceType string }
		_ = json.Unmarshal(b, &typ)
		e := entry{Resource: json.RawMessage(b)}
		e.Request.Method, e.Request.URL = "POST", typ.ResourceType
		bundle.Entry = append(bundle.Entry, e)
	}
	b, err := json.Marshal(bundle)
	if err != nil {
		return err
	}
	_, err = rc.svc.Bundle(ctx, interaction.BundleRequest{Body: b, Org: org})
	return err
}
