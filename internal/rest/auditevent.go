package rest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/outcome"
)

// auditRead is GET [base]/AuditEvent/[id]: an event of the audit trail,
// for administrators (interaction.AuditRead).
func (a *API) auditRead(w http.ResponseWriter, r *http.Request) error {
	b, err := a.opts.Interactions.AuditRead(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeFHIR(w, http.StatusOK, b)
	return nil
}

// auditSearch is GET [base]/AuditEvent?patient=&entity=&agent=&subtype=&date=
// (https://hl7.org/fhir/R4/auditevent.html#search), and purpose=BTG for the
// break-the-glass events administrators review: a searchset Bundle,
// newest first, with a next link while there are more. date takes the
// prefixes ge, gt, le, lt and eq (the default) on a date or dateTime, and
// may be repeated to give a range.
func (a *API) auditSearch(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	req := interaction.AuditSearchRequest{
		Patient: q.Get("patient"), Entity: q.Get("entity"), Agent: q.Get("agent"), Subtype: q.Get("subtype"), Purpose: q.Get("purpose"),
		Query: "AuditEvent?" + r.URL.RawQuery,
	}
	for name, vs := range q {
		switch name {
		case "patient", "entity", "agent", "subtype", "purpose":
			if len(vs) > 1 {
				return outcome.New(outcome.NotSupported, "not-supported", fmt.Sprintf("AuditEvent search: %s may be given once", name))
			}
		case "date":
			for _, v := range vs {
				if err := auditDate(v, &req); err != nil {
					return err
				}
			}
		case "_count", "_page":
			if err := auditPaging(name, vs[0], &req.Count, &req.Before); err != nil {
				return err
			}
		case "_format", "_pretty":
		default:
			return outcome.New(outcome.NotSupported, "not-supported", fmt.Sprintf("AuditEvent search parameter %s is not supported", name))
		}
	}
	page, err := a.opts.Interactions.AuditSearch(r.Context(), req)
	if err != nil {
		return err
	}
	writeFHIR(w, http.StatusOK, a.auditBundle(a.opts.BaseURL+"/fhir/AuditEvent", q, page))
	return nil
}

// accessReport is GET [base]/Patient/[id]/$access-report: who accessed the
// patient's record, newest first, as redacted AuditEvents
// (interaction.AccessReport); _count and the next link page it.
func (a *API) accessReport(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	req := interaction.AccessReportRequest{Patient: r.PathValue("id")}
	for name, vs := range q {
		switch name {
		case "_count", "_page":
			if err := auditPaging(name, vs[0], &req.Count, &req.Before); err != nil {
				return err
			}
		case "_format", "_pretty":
		default:
			return outcome.New(outcome.NotSupported, "not-supported", fmt.Sprintf("$access-report parameter %s is not supported", name))
		}
	}
	page, err := a.opts.Interactions.AccessReport(r.Context(), req)
	if err != nil {
		return err
	}
	writeFHIR(w, http.StatusOK, a.auditBundle(a.opts.BaseURL+"/fhir/Patient/"+req.Patient+"/$access-report", q, page))
	return nil
}

// auditPaging reads _count (a page size) or _page (the cursor of the next
// link) of an AuditEvent listing into count or before.
func auditPaging(name, v string, count *int, before *int64) error {
	if name == "_count" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return outcome.New(outcome.Invalid, "value", fmt.Sprintf("_count %q is not a non-negative integer", v))
		}
		*count = n
		return nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return outcome.New(outcome.Invalid, "value", "the page cursor is not valid")
	}
	*before = n
	return nil
}

// auditBundle renders a page of AuditEvents as a searchset Bundle.
func (a *API) auditBundle(self string, q url.Values, page *interaction.AuditPage) []byte {
	var b bytes.Buffer
	str := func(s string) {
		e, _ := json.Marshal(s)
		b.Write(e)
	}
	b.WriteString(`{"resourceType":"Bundle","type":"searchset","link":[{"relation":"self","url":`)
	str(self + query(q, ""))
	b.WriteString(`}`)
	if page.Next != 0 {
		b.WriteString(`,{"relation":"next","url":`)
		str(self + query(q, strconv.FormatInt(page.Next, 10)))
		b.WriteString(`}`)
	}
	b.WriteString(`],"entry":[`)
	for i, ev := range page.Events {
		if i > 0 {
			b.WriteByte(',')
		}
		var id struct{ ID string }
		_ = json.Unmarshal(ev, &id, json.RejectUnknownMembers(false))
		b.WriteString(`{"fullUrl":`)
		str(a.opts.BaseURL + "/fhir/AuditEvent/" + id.ID)
		b.WriteString(`,"resource":`)
		b.Write(ev)
		b.WriteString(`,"search":{"mode":"match"}}`)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// auditDate applies one date parameter to req.
func auditDate(v string, req *interaction.AuditSearchRequest) error {
	prefix := "eq"
	if len(v) > 2 {
		switch v[:2] {
		case "eq", "ge", "gt", "le", "lt", "ne", "sa", "eb", "ap":
			prefix, v = v[:2], v[2:]
		}
	}
	from, to, err := parsePeriod(v)
	if err != nil {
		return outcome.New(outcome.Invalid, "value", fmt.Sprintf("date %q is not a date or dateTime", v))
	}
	if to.IsZero() {
		to = from.Add(time.Millisecond) // an instant: the millisecond AuditEvent.recorded has
	}
	switch prefix {
	case "eq":
		req.From, req.To = from, to
	case "ge":
		req.From = from
	case "gt":
		req.From = to
	case "le":
		req.To = to
	case "lt":
		req.To = from
	default:
		return outcome.New(outcome.NotSupported, "not-supported", "date prefix "+prefix+" is not supported on AuditEvent")
	}
	return nil
}
