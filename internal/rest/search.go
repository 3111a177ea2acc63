package rest

import (
	"bytes"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/search"
)

// Search (https://hl7.org/fhir/R4/http.html#search):
//
//	GET  [base]/[type]?…             searchType
//	POST [base]/[type]/_search       the same, parameters in a form body
//	GET  [base]?_type=…              system search (also POST [base]/_search)
//	GET  [base]/[Compartment]/[id]/[type]?…  compartment search
//
// The answer is a searchset Bundle: matches (search.mode match), included
// resources (include), and, when parameters were ignored under the default
// Prefer: handling=lenient, an OperationOutcome (outcome); self, next and
// previous links; total unless _total=none or a later page.

func (a *API) searchType(w http.ResponseWriter, r *http.Request) error {
	return a.runSearch(w, r, r.PathValue("type"), nil)
}

func (a *API) searchSystem(w http.ResponseWriter, r *http.Request) error {
	return a.runSearch(w, r, "", nil)
}

// searchCompartment is GET [base]/[Compartment]/[id]/[type]. The pattern
// {ctype}/{cid}/{type} also matches other three-segment paths; only the
// R4 compartment types are searched, anything else is not found.
func (a *API) searchCompartment(w http.ResponseWriter, r *http.Request) error {
	ct := r.PathValue("ctype")
	known := false
	for _, c := range a.opts.Spec.Compartments {
		known = known || c.Code == ct
	}
	if !known {
		return a.notFound(w, r)
	}
	return a.runSearch(w, r, r.PathValue("type"), &search.CompartmentRef{Type: ct, ID: r.PathValue("cid")})
}

// searchParams returns the parameters of a search: the URL's, and for
// POST …/_search the form body's too.
func searchParams(r *http.Request) (url.Values, error) {
	q := r.URL.Query()
	if r.Method != http.MethodPost {
		return q, nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		return nil, outcome.New(outcome.UnsupportedMediaType, "not-supported", "POST _search takes an application/x-www-form-urlencoded body")
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, outcome.New(outcome.Invalid, "value", "the form body is not valid: "+err.Error())
	}
	for k, vs := range form {
		q[k] = append(q[k], vs...)
	}
	return q, nil
}

// preferStrict reports Prefer: handling=strict
// (https://hl7.org/fhir/R4/search.html#errors).
func preferStrict(r *http.Request) bool {
	for _, h := range r.Header.Values("Prefer") {
		for _, part := range strings.Split(h, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			if strings.EqualFold(k, "handling") && strings.EqualFold(strings.Trim(v, `"`), "strict") {
				return true
			}
		}
	}
	return false
}

func (a *API) runSearch(w http.ResponseWriter, r *http.Request, typ string, comp *search.CompartmentRef) error {
	params, err := searchParams(r)
	if err != nil {
		return err
	}
	res, err := a.opts.Interactions.Search(r.Context(), interaction.SearchRequest{
		Type: typ, Compartment: comp, Params: params, Strict: preferStrict(r),
		BaseURL: a.opts.BaseURL + "/fhir",
	})
	if err != nil {
		return err
	}
	body := a.searchBundle(res)
	if params.Get("_pretty") == "true" {
		pretty := jsontext.Value(body)
		if err := pretty.Indent(jsontext.WithIndent("  ")); err == nil {
			body = pretty
		}
	}
	writeFHIR(w, http.StatusOK, body)
	return nil
}

// searchBundle renders a page as a searchset Bundle, embedding the
// resources' bytes as they are.
func (a *API) searchBundle(res *interaction.SearchResult) []byte {
	fhirBase := a.opts.BaseURL + "/fhir"
	self := fhirBase + "/" + res.Query.String()
	if res.Query.Type == "" && res.Query.Compartment == nil {
		self = fhirBase + "?" + res.Query.QueryString()
	}
	var b bytes.Buffer
	str := func(s string) {
		q, _ := json.Marshal(s)
		b.Write(q)
	}
	link := func(rel, u string) {
		b.WriteString(`,{"relation":"`)
		b.WriteString(rel)
		b.WriteString(`","url":`)
		str(u)
		b.WriteString(`}`)
	}
	b.WriteString(`{"resourceType":"Bundle","type":"searchset"`)
	if res.Page.Total >= 0 {
		b.WriteString(`,"total":`)
		b.WriteString(strconv.Itoa(res.Page.Total))
	}
	b.WriteString(`,"link":[{"relation":"self","url":`)
	str(self)
	b.WriteString(`}`)
	if res.Page.Next != "" {
		link("next", self+"&"+interaction.CursorParam+"="+url.QueryEscape(res.Page.Next))
	}
	if res.Page.Prev != "" {
		link("previous", self+"&"+interaction.CursorParam+"="+url.QueryEscape(res.Page.Prev))
	}
	b.WriteString(`],"entry":[`)
	n := 0
	entry := func(typ, id string, body []byte, mode string) {
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		b.WriteString(`{"fullUrl":`)
		str(fhirBase + "/" + typ + "/" + id)
		b.WriteString(`,"resource":`)
		b.Write(body)
		b.WriteString(`,"search":{"mode":"`)
		b.WriteString(mode)
		b.WriteString(`"}}`)
	}
	for i, v := range res.Page.Matches {
		entry(v.Type, v.ID, res.Matches[i], "match")
	}
	for i, v := range res.Page.Included {
		entry(v.Type, v.ID, res.Included[i], "include")
	}
	if len(res.Query.Warnings) > 0 {
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"resource":`)
		b.Write(outcome.OperationOutcome(res.Query.Warnings))
		b.WriteString(`,"search":{"mode":"outcome"}}`)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}
