package rest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// history is GET [base]/_history, [base]/[type]/_history and
// [base]/[type]/[id]/_history: https://hl7.org/fhir/R4/http.html#history
// Parameters: _since (an instant), _at (a date or dateTime: the versions
// current during it), _count, and _page, the opaque cursor of the next link.
func (a *API) history(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	req := interaction.HistoryRequest{Type: r.PathValue("type"), ID: r.PathValue("id"), Cursor: q.Get("_page"), BreakGlass: breakGlass(r)}
	if s := q.Get("_since"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return outcome.New(outcome.Invalid, "value", fmt.Sprintf("_since %q is not an instant (e.g. 2026-11-25T09:30:00Z)", s))
		}
		req.Since = t
	}
	if s := q.Get("_at"); s != "" {
		from, to, err := parsePeriod(s)
		if err != nil {
			return err
		}
		req.AtFrom, req.AtTo = from, to
	}
	if s := q.Get("_count"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return outcome.New(outcome.Invalid, "value", fmt.Sprintf("_count %q is not a non-negative integer", s))
		}
		req.Count = n
	}
	for name := range q {
		switch name {
		case "_since", "_at", "_count", "_page", "_format", "_pretty":
		default:
			return outcome.New(outcome.NotSupported, "not-supported", fmt.Sprintf("history parameter %s is not supported", name))
		}
	}
	page, err := a.opts.Interactions.History(r.Context(), req)
	if err != nil {
		return err
	}
	writeFHIR(w, http.StatusOK, a.historyBundle(r, page))
	return nil
}

// historyBundle renders a history page as a Bundle, embedding each version's
// stored bytes as they are (no decode and re-encode).
func (a *API) historyBundle(r *http.Request, page *store.HistoryPage) []byte {
	fhirBase := a.opts.BaseURL + "/fhir"
	self := fhirBase + strings.TrimPrefix(r.URL.Path, "/fhir")
	var b bytes.Buffer
	str := func(s string) {
		q, _ := json.Marshal(s)
		b.Write(q)
	}
	b.WriteString(`{"resourceType":"Bundle","type":"history","link":[{"relation":"self","url":`)
	str(self + query(r.URL.Query(), ""))
	b.WriteString(`}`)
	if page.Next != "" {
		b.WriteString(`,{"relation":"next","url":`)
		str(self + query(r.URL.Query(), page.Next))
		b.WriteString(`}`)
	}
	b.WriteString(`],"entry":[`)
	for i, v := range page.Versions {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"fullUrl":`)
		str(fhirBase + "/" + v.Type + "/" + v.ID)
		if v.Body != nil {
			b.WriteString(`,"resource":`)
			b.Write(v.Body)
		}
		method, url, status := v.Method.String(), v.Type+"/"+v.ID, "200 OK"
		switch {
		case v.Method == store.MethodPost:
			url, status = v.Type, "201 Created"
		case v.Method == store.MethodDelete:
			status = "204 No Content"
		case v.VersionID == "1":
			status = "201 Created" // PUT that created the resource
		}
		b.WriteString(`,"request":{"method":`)
		str(method)
		b.WriteString(`,"url":`)
		str(url)
		b.WriteString(`},"response":{"status":`)
		str(status)
		b.WriteString(`,"etag":`)
		str(etag(v))
		b.WriteString(`,"lastModified":`)
		str(v.LastUpdated.Format(store.TimeFormat))
		b.WriteString(`}}`)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// query renders the history query for a link: the request's parameters,
// with _page set to page ("" drops it).
func query(q url.Values, page string) string {
	out := url.Values{}
	for k, vs := range q {
		if k != "_page" {
			out[k] = vs
		}
	}
	if page != "" {
		out.Set("_page", page)
	}
	if len(out) == 0 {
		return ""
	}
	return "?" + out.Encode()
}

// parsePeriod reads a FHIR date or dateTime as the period it denotes: a
// year, month or day (in UTC, as dates carry no zone), or the instant of a
// dateTime (to is then zero).
func parsePeriod(s string) (from, to time.Time, err error) {
	for _, p := range []struct {
		layout string
		next   func(time.Time) time.Time
	}{
		{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }},
		{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
		{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
	} {
		if len(s) == len(p.layout) {
			if t, err := time.Parse(p.layout, s); err == nil {
				return t, p.next(t), nil
			}
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, time.Time{}, nil
	}
	return time.Time{}, time.Time{}, outcome.New(outcome.Invalid, "value",
		fmt.Sprintf("_at %q is not a date or dateTime (e.g. 2026, 2026-11-25 or 2026-11-25T09:30:00Z)", s))
}
