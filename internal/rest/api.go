package rest

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/operation"
)

// Options configure an API. Every field except Ready is required.
type Options struct {
	// BaseURL is the public base of every absolute URL in responses, without
	// a trailing slash (config.CheckBaseURL). It is configured, never taken
	// from the request's Host header.
	BaseURL string

	Spec     *spec.Spec
	Validate *operation.Validate

	// Interactions serves the resource interactions (read, create, …);
	// nil leaves them out of the API and the CapabilityStatement.
	Interactions *interaction.Service
	// Authenticator says who is calling (auth.go). Every FHIR request but
	// metadata and discovery needs a principal: nil refuses them all with
	// 401 (deny by default), it never opens the API.
	Authenticator Authenticator

	Software Software  // reported in the CapabilityStatement
	Started  time.Time // the CapabilityStatement's date
	Logger   *slog.Logger

	// Ready reports whether the server can take traffic (/healthz); nil
	// means always.
	Ready func(context.Context) error
}

// Software names the running program.
type Software struct {
	Name    string
	Version string
}

// API serves the FHIR REST API.
type API struct {
	opts     Options
	log      *slog.Logger
	mux      *http.ServeMux
	metadata []byte // the CapabilityStatement, rendered once
}

// New returns the API.
func New(opts Options) *API {
	a := &API{opts: opts, log: opts.Logger}
	a.metadata = capabilityStatement(opts)
	a.mux = a.routes()
	return a
}

// Handler returns the API's handler: a ServeMux, so that the server's access
// log sees each request's route pattern.
func (a *API) Handler() http.Handler { return a.mux }

// handlerFunc is an HTTP handler that reports failure as an error, rendered
// by WriteError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// plain adapts a handler that is not part of the FHIR API.
func (a *API) plain(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.WriteError(w, r, err)
		}
	})
}

// fhir adapts a FHIR handler: the response format is negotiated first, so
// that even a 404 answers a client that cannot read JSON with 406; then the
// caller is authenticated (auth.go), and without a principal nothing else
// runs.
func (a *API) fhir(h handlerFunc) http.Handler {
	return a.plain(func(w http.ResponseWriter, r *http.Request) error {
		if err := negotiate(r); err != nil {
			return err
		}
		if strings.HasPrefix(r.URL.Path, "/fhir/.well-known/") {
			// Discovery is public; what no public route serves there
			// does not exist, for anyone.
			return a.notFound(w, r)
		}
		r, err := a.authenticate(w, r)
		if err != nil {
			return err
		}
		return h(w, r)
	})
}

// public adapts a FHIR handler anyone may call: the CapabilityStatement
// and discovery (SMART App Launch 2.2 §2.1: .well-known/smart-configuration).
func (a *API) public(h handlerFunc) http.Handler {
	return a.plain(func(w http.ResponseWriter, r *http.Request) error {
		if err := negotiate(r); err != nil {
			return err
		}
		return h(w, r)
	})
}
