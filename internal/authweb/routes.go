package authweb

import (
	"io"
	"net/http"
	"time"
)

const httpTimeout = 5 * time.Second

// patterns are the routes of routes(), for mounting.
var patterns = []string{
	"GET /fhir/.well-known/smart-configuration",
	"OPTIONS /fhir/.well-known/smart-configuration",
	"GET /.well-known/openid-configuration",
	"OPTIONS /.well-known/openid-configuration",
	"/auth/",
}

// routes is the URL space of the authorization server.
func (w *Web) routes() *http.ServeMux {
	mux := http.NewServeMux()

	// Discovery: https://hl7.org/fhir/smart-app-launch/STU2.2/conformance.html
	// and OpenID Connect Discovery 1.0 §4 (under the issuer, the base URL).
	mux.Handle("GET /fhir/.well-known/smart-configuration", cors(jsonDoc(w.o.SMARTConfiguration)))
	mux.Handle("OPTIONS /fhir/.well-known/smart-configuration", cors(http.NotFoundHandler()))
	mux.Handle("GET /.well-known/openid-configuration", cors(jsonDoc(w.o.OpenIDConfiguration)))
	mux.Handle("OPTIONS /.well-known/openid-configuration", cors(http.NotFoundHandler()))
	mux.Handle("GET /auth/jwks", cors(http.HandlerFunc(w.jwks)))
	mux.Handle("OPTIONS /auth/jwks", cors(http.NotFoundHandler()))

	// The authorization endpoint: GET, and POST (SMART authorize-post).
	// Apps reach it by top-level navigation from their own origin, so it
	// takes no cross-origin protection; it changes nothing by itself.
	mux.HandleFunc("GET /auth/authorize", w.authorize)
	mux.HandleFunc("POST /auth/authorize", w.authorize)

	// The pages' own forms: same-origin only, plus the session token.
	mux.Handle("GET /auth/signin", http.HandlerFunc(w.signinPage))
	mux.Handle("POST /auth/signin", w.cop.Handler(http.HandlerFunc(w.signin)))
	mux.Handle("POST /auth/totp", w.cop.Handler(http.HandlerFunc(w.totp)))
	mux.Handle("POST /auth/consent", w.cop.Handler(http.HandlerFunc(w.consent)))
	mux.Handle("POST /auth/signout", w.cop.Handler(http.HandlerFunc(w.signout)))
	mux.Handle("GET /auth/account", http.HandlerFunc(w.accountPage))
	mux.Handle("POST /auth/password", w.cop.Handler(http.HandlerFunc(w.password)))
	mux.Handle("POST /auth/mfa", w.cop.Handler(http.HandlerFunc(w.mfaStart)))
	mux.Handle("GET /auth/admin/clients", http.HandlerFunc(w.clientsPage))
	mux.Handle("POST /auth/admin/clients", w.cop.Handler(http.HandlerFunc(w.registerClient)))
	mux.Handle("GET /auth/style.css", http.HandlerFunc(w.stylesheet))
	mux.Handle("GET /auth/smart-style.json", cors(http.HandlerFunc(w.smartStyle)))

	// Endpoints for apps (any origin: CORS).
	mux.Handle("POST /auth/token", cors(http.HandlerFunc(w.token)))
	mux.Handle("OPTIONS /auth/token", cors(http.NotFoundHandler()))
	mux.Handle("POST /auth/introspect", cors(http.HandlerFunc(w.introspect)))
	mux.Handle("OPTIONS /auth/introspect", cors(http.NotFoundHandler()))
	mux.Handle("POST /auth/revoke", cors(http.HandlerFunc(w.revoke)))
	mux.Handle("OPTIONS /auth/revoke", cors(http.NotFoundHandler()))
	mux.Handle("GET /auth/userinfo", cors(http.HandlerFunc(w.userinfo)))
	mux.Handle("POST /auth/userinfo", cors(http.HandlerFunc(w.userinfo)))
	mux.Handle("OPTIONS /auth/userinfo", cors(http.NotFoundHandler()))

	mux.Handle("/auth/", http.NotFoundHandler())
	return mux
}

func jsonDoc(doc func() map[string]any) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		writeJSON(rw, http.StatusOK, doc())
	})
}

func readLimited(r io.Reader, n int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, n+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > n {
		return nil, errTooLarge
	}
	return b, nil
}

type errorString string

func (e errorString) Error() string { return string(e) }

const errTooLarge = errorString("the response is too large")
