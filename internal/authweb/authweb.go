package authweb

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/oauth"
	"github.com/continuum-ehr/continuum/internal/outcome"
)

//go:embed templates/*.html templates/*.css
var files embed.FS

// Options configure a Web. OAuth and Logger are required.
type Options struct {
	OAuth  *oauth.Server
	Logger *slog.Logger
	// SecureCookies marks the session cookie Secure (and names it with the
	// __Host- prefix); true whenever the base URL is https.
	SecureCookies bool
	// Home, when not "", is where a sign-in without an authorization
	// request continues: the clinician workspace.
	Home string
}

// Web serves the authorization server over HTTP.
type Web struct {
	o     *oauth.Server
	log   *slog.Logger
	pages *template.Template
	cop   *http.CrossOriginProtection
	mux   *http.ServeMux
	opts  Options
}

// New returns the transport.
func New(opts Options) *Web {
	w := &Web{o: opts.OAuth, log: opts.Logger, opts: opts, cop: http.NewCrossOriginProtection()}
	w.pages = template.Must(template.New("").Funcs(template.FuncMap{}).ParseFS(files, "templates/*.html"))
	w.mux = w.routes()
	return w
}

// Handler returns the handler of every route in routes.go.
func (w *Web) Handler() http.Handler { return w.mux }

// OAuth returns the authorization server behind the pages.
func (w *Web) OAuth() *oauth.Server { return w.o }

// Patterns lists the route patterns, for the composition root to mount
// beside the FHIR API.
func (w *Web) Patterns() []string { return patterns }

// Authenticate returns the principal of a request's bearer access token
// (RFC 6750 §2.1). Every failure is an *outcome.Error of kind Unauthorized.
func (w *Web) Authenticate(r *http.Request) (auth.Principal, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if h == "" {
		return auth.Principal{}, outcome.New(outcome.Unauthorized, "login", "an access token is required (Authorization: Bearer …)")
	}
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return auth.Principal{}, outcome.New(outcome.Unauthorized, "login", "the Authorization header must be Bearer and an access token")
	}
	return w.o.Authenticate(r.Context(), token)
}

// writeJSON writes v with the no-store headers token responses need
// (RFC 6749 §5.1).
func writeJSON(rw http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	h := rw.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	rw.WriteHeader(status)
	_, _ = rw.Write(b)
}

// writeOAuthError answers a failed request of the token, introspection or
// revocation endpoint: an OAuth error as JSON, or 500 for a server fault
// (logged, never shown).
func (w *Web) writeOAuthError(rw http.ResponseWriter, r *http.Request, err error) {
	var oe *oauth.Error
	if errors.As(err, &oe) {
		if oe.Status == http.StatusUnauthorized {
			if _, _, basic := r.BasicAuth(); basic {
				rw.Header().Set("WWW-Authenticate", `Basic realm="continuum"`)
			}
		}
		writeJSON(rw, oe.Status, map[string]string{"error": oe.Code, "error_description": oe.Description})
		return
	}
	if e := outcome.As(err); e != nil && e.Kind != outcome.Internal {
		writeJSON(rw, e.Kind.HTTPStatus(), map[string]string{"error": "invalid_request", "error_description": e.Error()})
		return
	}
	w.log.ErrorContext(r.Context(), "authorization server failure", "err", err)
	writeJSON(rw, http.StatusInternalServerError, map[string]string{"error": "server_error"})
}

// cors lets browser apps on other origins call an endpoint. Tokens travel
// in headers and bodies, never in cookies, so any origin may read the
// answers (https://fetch.spec.whatwg.org/#cors-protocol-and-credentials).
func cors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		hd := rw.Header()
		hd.Set("Access-Control-Allow-Origin", "*")
		hd.Set("Access-Control-Expose-Headers", "Location, ETag, Content-Location, WWW-Authenticate, X-Request-Id")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			hd.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
			hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, If-Match, If-None-Exist, If-None-Match, If-Modified-Since, Prefer, X-Request-Id")
			hd.Set("Access-Control-Max-Age", "600")
			rw.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(rw, r)
	})
}

// CORS wraps the FHIR API for browser apps (SMART apps run in browsers on
// other origins and call the FHIR API with bearer tokens).
func CORS(h http.Handler) http.Handler { return cors(h) }

// clientCredentials reads the client authentication of a request.
func clientCredentials(r *http.Request) oauth.ClientCredentials {
	cc := oauth.ClientCredentials{
		ClientID: r.PostForm.Get("client_id"), ClientSecret: r.PostForm.Get("client_secret"),
		ClientAssertionType: r.PostForm.Get("client_assertion_type"), ClientAssertion: r.PostForm.Get("client_assertion"),
	}
	if id, secret, ok := r.BasicAuth(); ok {
		// The credentials are form-urlencoded before Basic encoding
		// (RFC 6749 §2.3.1).
		uid, err1 := url.QueryUnescape(id)
		usec, err2 := url.QueryUnescape(secret)
		if err1 == nil && err2 == nil {
			cc.Basic, cc.BasicID, cc.BasicPass = true, uid, usec
		} else {
			cc.Basic, cc.BasicID, cc.BasicPass = true, id, secret
		}
	}
	return cc
}

// addr is the caller's address for the audit trail.
func addr(r *http.Request) string {
	if i := strings.LastIndexByte(r.RemoteAddr, ':'); i > 0 {
		return strings.Trim(r.RemoteAddr[:i], "[]")
	}
	return r.RemoteAddr
}

// FetchJWKS fetches a client's JWK Set from its registered URL: https (or
// http on loopback), 5 seconds, 64 KiB at most, no redirects.
func FetchJWKS(ctx context.Context, u string) ([]byte, error) {
	client := &http.Client{Timeout: httpTimeout, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New("status " + resp.Status)
	}
	return readLimited(resp.Body, 64<<10)
}
