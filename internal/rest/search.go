package rest

import (
	"mime"
	"net/http"
	"net/url"
	"strings"

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
	body := res.Bundle(a.opts.BaseURL + "/fhir")
	if params.Get("_pretty") == "true" {
		pretty := jsontext.Value(body)
		if err := pretty.Indent(jsontext.WithIndent("  ")); err == nil {
			body = pretty
		}
	}
	writeFHIR(w, http.StatusOK, body)
	return nil
}
