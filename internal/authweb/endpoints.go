package authweb

import (
	"net/http"
	"strings"

	"github.com/continuum-ehr/continuum/internal/oauth"
)

// jwks serves our public signing keys (RFC 7517 §5).
func (w *Web) jwks(rw http.ResponseWriter, r *http.Request) {
	set, err := w.o.JWKS(r.Context())
	if err != nil {
		w.writeOAuthError(rw, r, err)
		return
	}
	writeJSON(rw, http.StatusOK, set)
}

// parseForm reads a form-encoded POST body (RFC 6749 §3.2: the token
// endpoint takes application/x-www-form-urlencoded).
func parseForm(r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		return &oauth.Error{Code: "invalid_request", Description: "the body must be application/x-www-form-urlencoded", Status: http.StatusBadRequest}
	}
	if err := r.ParseForm(); err != nil {
		return &oauth.Error{Code: "invalid_request", Description: "the form cannot be parsed", Status: http.StatusBadRequest}
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			// RFC 6749 §3.2: parameters must not repeat.
			return &oauth.Error{Code: "invalid_request", Description: "the parameter " + k + " is repeated", Status: http.StatusBadRequest}
		}
	}
	return nil
}

// token is the token endpoint (RFC 6749 §3.2).
func (w *Web) token(rw http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		w.writeOAuthError(rw, r, err)
		return
	}
	f := r.PostForm
	resp, err := w.o.Token(r.Context(), oauth.TokenRequest{
		GrantType: f.Get("grant_type"), Code: f.Get("code"), RedirectURI: f.Get("redirect_uri"),
		CodeVerifier: f.Get("code_verifier"), RefreshToken: f.Get("refresh_token"), Scope: f.Get("scope"),
		Client: clientCredentials(r), Addr: addr(r),
	})
	if err != nil {
		w.writeOAuthError(rw, r, err)
		return
	}
	writeJSON(rw, http.StatusOK, resp)
}

// introspect is the introspection endpoint (RFC 7662).
func (w *Web) introspect(rw http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		w.writeOAuthError(rw, r, err)
		return
	}
	out, err := w.o.Introspect(r.Context(), clientCredentials(r), r.PostForm.Get("token"))
	if err != nil {
		w.writeOAuthError(rw, r, err)
		return
	}
	writeJSON(rw, http.StatusOK, out)
}

// revoke is the revocation endpoint (RFC 7009): 200 whether or not the
// token was valid.
func (w *Web) revoke(rw http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		w.writeOAuthError(rw, r, err)
		return
	}
	if r.PostForm.Get("token") == "" {
		w.writeOAuthError(rw, r, &oauth.Error{Code: "invalid_request", Description: "token is required", Status: http.StatusBadRequest})
		return
	}
	if err := w.o.Revoke(r.Context(), clientCredentials(r), r.PostForm.Get("token"), addr(r)); err != nil {
		w.writeOAuthError(rw, r, err)
		return
	}
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(http.StatusOK)
}

// userinfo is the OIDC userinfo endpoint (OpenID Connect Core §5.3).
func (w *Web) userinfo(rw http.ResponseWriter, r *http.Request) {
	h := r.Header.Get("Authorization")
	scheme, token, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		rw.Header().Set("WWW-Authenticate", `Bearer realm="continuum"`)
		writeJSON(rw, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	claims, err := w.o.UserInfo(r.Context(), strings.TrimSpace(token))
	if err != nil {
		rw.Header().Set("WWW-Authenticate", `Bearer realm="continuum", error="invalid_token"`)
		writeJSON(rw, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	writeJSON(rw, http.StatusOK, claims)
}

// smartStyle is the style sheet of smart_style_url
// (https://hl7.org/fhir/smart-app-launch/STU2.2/scopes-and-launch-context.html#styling).
func (w *Web) smartStyle(rw http.ResponseWriter, r *http.Request) {
	writeJSON(rw, http.StatusOK, map[string]any{
		"color_background": "#ffffff", "color_error": "#b00020", "color_highlight": "#005ea2",
		"color_modal_backdrop": "", "color_success": "#00703c", "color_text": "#1b1b1b",
		"dim_border_radius": "4px", "dim_font_size": "16px", "dim_spacing_size": "16px",
		"font_family_body": "system-ui, sans-serif", "font_family_heading": "system-ui, sans-serif",
	})
}

func (w *Web) stylesheet(rw http.ResponseWriter, r *http.Request) {
	b, _ := files.ReadFile("templates/style.css")
	rw.Header().Set("Content-Type", "text/css; charset=utf-8")
	rw.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = rw.Write(b)
}
