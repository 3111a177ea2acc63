package rest

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// The RESTful interactions on resources (https://hl7.org/fhir/R4/http.html).
// Each handler maps HTTP to a typed interaction request and the result back;
// the semantics live in internal/interaction.

// read is GET [base]/[type]/[id]: https://hl7.org/fhir/R4/http.html#read
// Conditional read (https://hl7.org/fhir/R4/http.html#cread): If-None-Match
// with the current ETag, or If-Modified-Since not before the last update,
// answers 304 without a body.
func (a *API) read(w http.ResponseWriter, r *http.Request) error {
	if r.PathValue("type") == "AuditEvent" {
		return a.auditRead(w, r) // from the audit trail, not the resources
	}
	v, err := a.opts.Interactions.Read(r.Context(), interaction.ReadRequest{Type: r.PathValue("type"), ID: r.PathValue("id"), BreakGlass: breakGlass(r)})
	if err != nil {
		return err
	}
	if notModified(r, v) {
		setVersionHeaders(w, v)
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	return a.writeRead(w, r, v)
}

// writeRead answers a read or vread: the stored bytes as they are, unless
// _summary, _elements or _pretty ask for another rendering.
func (a *API) writeRead(w http.ResponseWriter, r *http.Request, v *store.Version) error {
	q := r.URL.Query()
	sub := interaction.Subset{Summary: q.Get("_summary")}
	if e := q.Get("_elements"); e != "" {
		sub.Elements = strings.Split(e, ",")
	}
	body, err := a.opts.Interactions.Apply(sub, v.Body)
	if err != nil {
		return err
	}
	if q.Get("_pretty") == "true" {
		pretty := jsontext.Value(bytes.Clone(body))
		if err := pretty.Indent(jsontext.WithIndent("  ")); err == nil {
			body = pretty
		}
	}
	writeVersion(w, http.StatusOK, v, body)
	return nil
}

// notModified evaluates If-None-Match, and without it If-Modified-Since, as
// RFC 9110 §13.2.2 orders them.
func notModified(r *http.Request, v *store.Version) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, tag := range strings.Split(inm, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" || strings.TrimPrefix(tag, "W/") == `"`+v.VersionID+`"` {
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		t, err := http.ParseTime(ims)
		return err == nil && !v.LastUpdated.Truncate(time.Second).After(t)
	}
	return false
}

// vread is GET [base]/[type]/[id]/_history/[vid]:
// https://hl7.org/fhir/R4/http.html#vread
func (a *API) vread(w http.ResponseWriter, r *http.Request) error {
	v, err := a.opts.Interactions.VRead(r.Context(), interaction.VReadRequest{
		Type: r.PathValue("type"), ID: r.PathValue("id"), VersionID: r.PathValue("vid"), BreakGlass: breakGlass(r)})
	if err != nil {
		return err
	}
	return a.writeRead(w, r, v)
}

// create is POST [base]/[type], conditional with If-None-Exist:
// https://hl7.org/fhir/R4/http.html#create
func (a *API) create(w http.ResponseWriter, r *http.Request) error {
	typ := r.PathValue("type")
	if typ == "" {
		typ = r.PathValue("name") // POST [base]/{name} is shared with $operations
	}
	body, err := a.writeBody(r)
	if err != nil {
		return err
	}
	res, err := a.opts.Interactions.Create(r.Context(), interaction.CreateRequest{
		Type: typ, Body: body, Org: chosenOrg(r), IfNoneExist: r.Header.Get("If-None-Exist")})
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if res.Existing {
		status = http.StatusOK
	}
	a.respondWrite(w, r, status, res.Version)
	return nil
}

// update is PUT [base]/[type]/[id], also creating with the client's id,
// version-aware with If-Match: https://hl7.org/fhir/R4/http.html#update
func (a *API) update(w http.ResponseWriter, r *http.Request) error {
	ifMatch, err := parseIfMatch(r)
	if err != nil {
		return err
	}
	body, err := a.writeBody(r)
	if err != nil {
		return err
	}
	res, err := a.opts.Interactions.Update(r.Context(), interaction.UpdateRequest{
		Type: r.PathValue("type"), ID: r.PathValue("id"), Body: body, Org: chosenOrg(r), IfMatch: ifMatch})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	a.respondWrite(w, r, status, res.Version)
	return nil
}

// conditionalUpdate is PUT [base]/[type]?criteria:
// https://hl7.org/fhir/R4/http.html#cond-update
func (a *API) conditionalUpdate(w http.ResponseWriter, r *http.Request) error {
	if r.URL.RawQuery == "" {
		return outcome.New(outcome.Invalid, "required", "PUT [base]/[type] needs search criteria (a conditional update) or an id")
	}
	ifMatch, err := parseIfMatch(r)
	if err != nil {
		return err
	}
	body, err := a.writeBody(r)
	if err != nil {
		return err
	}
	res, err := a.opts.Interactions.ConditionalUpdate(r.Context(), interaction.ConditionalUpdateRequest{
		Type: r.PathValue("type"), Criteria: r.URL.RawQuery, Body: body, Org: chosenOrg(r), IfMatch: ifMatch})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	a.respondWrite(w, r, status, res.Version)
	return nil
}

// conditionalDelete is DELETE [base]/[type]?criteria:
// https://hl7.org/fhir/R4/http.html#delete
func (a *API) conditionalDelete(w http.ResponseWriter, r *http.Request) error {
	if r.URL.RawQuery == "" {
		return outcome.New(outcome.Invalid, "required", "DELETE [base]/[type] needs search criteria (a conditional delete) or an id")
	}
	v, err := a.opts.Interactions.ConditionalDelete(r.Context(), interaction.ConditionalDeleteRequest{
		Type: r.PathValue("type"), Criteria: r.URL.RawQuery})
	if err != nil {
		return err
	}
	if v != nil {
		w.Header().Set("ETag", etag(v))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// patch is PATCH [base]/[type]/[id] with a JSON Patch
// (application/json-patch+json) or a FHIRPath Patch (a Parameters resource,
// application/fhir+json): https://hl7.org/fhir/R4/http.html#patch
func (a *API) patch(w http.ResponseWriter, r *http.Request) error {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var format interaction.PatchFormat
	switch mt {
	case "application/json-patch+json":
		format = interaction.JSONPatch
	case "application/fhir+json", "application/json":
		format = interaction.FHIRPathPatch
	default:
		return outcome.New(outcome.UnsupportedMediaType, "not-supported",
			fmt.Sprintf("Content-Type %q is not supported: send a JSON Patch as application/json-patch+json or a FHIRPath Patch (Parameters) as application/fhir+json", r.Header.Get("Content-Type")))
	}
	ifMatch, err := parseIfMatch(r)
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	v, err := a.opts.Interactions.Patch(r.Context(), interaction.PatchRequest{
		Type: r.PathValue("type"), ID: r.PathValue("id"), Format: format, Body: body, IfMatch: ifMatch})
	if err != nil {
		return err
	}
	a.respondWrite(w, r, http.StatusOK, v)
	return nil
}

// delete is DELETE [base]/[type]/[id]: https://hl7.org/fhir/R4/http.html#delete
// It answers 204 also when there was nothing to delete, as R4 allows.
func (a *API) delete(w http.ResponseWriter, r *http.Request) error {
	ifMatch, err := parseIfMatch(r)
	if err != nil {
		return err
	}
	v, err := a.opts.Interactions.Delete(r.Context(), interaction.DeleteRequest{
		Type: r.PathValue("type"), ID: r.PathValue("id"), IfMatch: ifMatch})
	if err != nil {
		return err
	}
	if v != nil {
		w.Header().Set("ETag", etag(v))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// bundle is POST [base] with a batch or transaction Bundle:
// https://hl7.org/fhir/R4/http.html#transaction. A transaction that fails
// answers with the error of its failing entry and writes nothing; a batch
// answers 200 with each entry's outcome.
func (a *API) bundle(w http.ResponseWriter, r *http.Request) error {
	body, err := a.writeBody(r)
	if err != nil {
		return err
	}
	res, err := a.opts.Interactions.Bundle(r.Context(), interaction.BundleRequest{Body: body, Org: chosenOrg(r), Base: a.opts.BaseURL + "/fhir"})
	if err != nil {
		return err
	}
	writeFHIR(w, http.StatusOK, res.Marshal())
	return nil
}

// writeBody reads and checks the body of a create or update.
func (a *API) writeBody(r *http.Request) ([]byte, error) {
	if err := checkBody(r); err != nil {
		return nil, err
	}
	return readBody(r)
}

// respondWrite answers a create or update with the headers R4 asks for and
// the body Prefer chooses (https://hl7.org/fhir/R4/http.html#ops):
// return=representation (the default), return=minimal (none) or
// return=OperationOutcome.
func (a *API) respondWrite(w http.ResponseWriter, r *http.Request, status int, v *store.Version) {
	w.Header().Set("Location", a.opts.BaseURL+"/fhir/"+v.Type+"/"+v.ID+"/_history/"+v.VersionID)
	switch preferReturn(r) {
	case "minimal":
		setVersionHeaders(w, v)
		w.WriteHeader(status)
	case "OperationOutcome":
		setVersionHeaders(w, v)
		writeFHIR(w, status, outcome.OperationOutcome(nil))
	default:
		writeVersion(w, status, v, v.Body)
	}
}

func preferReturn(r *http.Request) string {
	for _, h := range r.Header.Values("Prefer") {
		for _, part := range strings.Split(h, ",") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(part), "return="); ok {
				return strings.Trim(v, `"`)
			}
		}
	}
	return ""
}

// writeVersion writes a stored version with its ETag and Last-Modified.
func writeVersion(w http.ResponseWriter, status int, v *store.Version, body []byte) {
	setVersionHeaders(w, v)
	writeFHIR(w, status, body)
}

func setVersionHeaders(w http.ResponseWriter, v *store.Version) {
	h := w.Header()
	h.Set("ETag", etag(v))
	h.Set("Last-Modified", v.LastUpdated.UTC().Format(http.TimeFormat))
}

// etag is the weak ETag of a version: W/"3" (https://hl7.org/fhir/R4/http.html#versioning).
func etag(v *store.Version) string { return `W/"` + v.VersionID + `"` }

// parseIfMatch returns the versionId of an If-Match header (W/"3" or "3"),
// "" when there is none.
func parseIfMatch(r *http.Request) (string, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		return "", nil
	}
	v := strings.TrimPrefix(h, "W/")
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if v == "" || strings.ContainsAny(v, `" ,`) {
		return "", outcome.New(outcome.Invalid, "value", fmt.Sprintf("If-Match %q is not an ETag like W/\"3\"", h))
	}
	return v, nil
}
