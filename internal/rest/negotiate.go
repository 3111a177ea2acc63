package rest

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/continuum-ehr/continuum/internal/outcome"
)

// FHIR content negotiation: https://hl7.org/fhir/R4/http.html#mime-type.
// _format overrides Accept; both may name JSON as json, application/json or
// application/fhir+json (and the DSTU2 application/json+fhir). A
// fhirVersion parameter other than 4.0 is a version this server does not
// speak (https://hl7.org/fhir/R4/http.html#version-parameter).

// negotiate checks that the client accepts JSON.
func negotiate(r *http.Request) error {
	if f := r.URL.Query().Get("_format"); f != "" {
		if f == "json" || acceptsJSON(f, false) {
			return nil
		}
		return outcome.New(outcome.NotAcceptable, "not-supported",
			fmt.Sprintf("_format %q is not supported: this server speaks JSON (application/fhir+json) only", f))
	}
	accept := strings.Join(r.Header.Values("Accept"), ",")
	if strings.TrimSpace(accept) == "" {
		return nil
	}
	for _, part := range strings.Split(accept, ",") {
		if acceptsJSON(part, true) {
			return nil
		}
	}
	return outcome.New(outcome.NotAcceptable, "not-supported",
		"no acceptable format in Accept: this server speaks JSON (application/fhir+json) only")
}

// acceptsJSON reports whether a media range (with wildcards when ranges is
// set) admits FHIR R4 JSON.
func acceptsJSON(mediaRange string, ranges bool) bool {
	mt, params, err := mime.ParseMediaType(strings.TrimSpace(mediaRange))
	if err != nil {
		return false
	}
	if q, ok := params["q"]; ok {
		if v, err := strconv.ParseFloat(q, 64); err != nil || v <= 0 {
			return false
		}
	}
	if !fhirVersionOK(params) {
		return false
	}
	switch mt {
	case "application/fhir+json", "application/json", "application/json+fhir":
		return true
	case "*/*", "application/*":
		return ranges
	}
	return false
}

func fhirVersionOK(params map[string]string) bool {
	v, ok := params["fhirversion"] // mime lower-cases parameter names
	return !ok || v == "4.0" || v == "4.0.1"
}

// checkBody checks that a request body is JSON we can read: a FHIR JSON
// media type (a missing Content-Type is taken as JSON), UTF-8, not
// content-encoded.
func checkBody(r *http.Request) error {
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return outcome.New(outcome.UnsupportedMediaType, "not-supported",
			fmt.Sprintf("Content-Encoding %q is not supported", ce))
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	ok := err == nil && fhirVersionOK(params)
	switch mt {
	case "application/fhir+json", "application/json", "application/json+fhir":
	default:
		ok = false
	}
	if cs, has := params["charset"]; has && !strings.EqualFold(cs, "utf-8") {
		ok = false
	}
	if !ok {
		return outcome.New(outcome.UnsupportedMediaType, "not-supported",
			fmt.Sprintf("Content-Type %q is not supported: send application/fhir+json", ct))
	}
	return nil
}
