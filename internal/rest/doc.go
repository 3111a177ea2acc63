// Package rest is the FHIR RESTful API over HTTP
// (https://hl7.org/fhir/R4/http.html), with the operational /healthz beside
// it. routes.go is the whole URL space; each route's handler lives in a file
// named after it. Handlers return errors, and WriteError (errors.go) is the
// one place that turns an error into an OperationOutcome and a status.
//
// Every FHIR route but metadata and discovery authenticates the caller
// first (auth.go): the Authenticator's principal goes into the request
// context for interaction to authorize; without one the answer is 401
// with a WWW-Authenticate challenge (RFC 6750 §3).
//
// The package speaks JSON only (application/fhir+json); a request for XML
// is answered 406, an XML body 415.
package rest
