package authweb

import (
	"errors"
	"net/http"
	"strings"

	"github.com/continuum-ehr/continuum/internal/oauth"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// clientRow is one registered app on the administration page.
type clientRow struct {
	ID, Name, Kind, Scopes, LaunchURI string
	RedirectURIs                      []string
	Orgs                              string
}

func clientKind(c store.Client) string {
	switch {
	case c.JWKS != "" || c.JWKSURL != "":
		return "asymmetric (private_key_jwt)"
	case c.SecretHash != "" && len(c.RedirectURIs) > 0:
		return "confidential (client secret)"
	case c.SecretHash != "":
		return "operator (client_credentials)"
	}
	return "public (PKCE)"
}

// adminClients renders the administration page of the apps, or refuses a
// user who is not an administrator.
func (w *Web) adminClients(rw http.ResponseWriter, r *http.Request, sess *oauth.Session, status int, msg, errMsg, secret string) {
	clients, err := w.o.Clients(r.Context(), sess)
	if errors.Is(err, oauth.ErrNotAdmin) {
		w.render(rw, http.StatusForbidden, "error.html", page{Title: "Not allowed", Error: err.Error() + ".", SignedIn: true,
			CSRF: w.o.CSRFToken(sess)}, "")
		return
	}
	if err != nil {
		w.serverError(rw, r, err)
		return
	}
	p := page{Title: "Apps", CSRF: w.o.CSRFToken(sess), SignedIn: true, Message: msg, Error: errMsg, Secret: secret}
	for _, c := range clients {
		p.Clients = append(p.Clients, clientRow{ID: c.ID, Name: c.Name, Kind: clientKind(c), Scopes: c.Scopes,
			LaunchURI: c.LaunchURI, RedirectURIs: c.RedirectURIs, Orgs: strings.Join(c.Orgs, ", ")})
	}
	w.render(rw, status, "clients.html", p, "")
}

// clientsPage lists the apps an administrator manages, with a form to
// register one.
func (w *Web) clientsPage(rw http.ResponseWriter, r *http.Request) {
	sess, err := w.session(r)
	if err != nil {
		w.serverError(rw, r, err)
		return
	}
	if sess == nil || !sess.MFADone() {
		w.signinPage(rw, r)
		return
	}
	w.adminClients(rw, r, sess, http.StatusOK, "", "", "")
}

func (w *Web) registerClient(rw http.ResponseWriter, r *http.Request) {
	sess := w.sessionForm(rw, r)
	if sess == nil {
		return
	}
	f := r.PostForm
	spec := oauth.ClientSpec{ID: strings.TrimSpace(f.Get("id")), Name: strings.TrimSpace(f.Get("name")),
		Scopes: strings.Join(strings.Fields(f.Get("scope")), " "), LaunchURI: strings.TrimSpace(f.Get("launch_uri")),
		JWKSURL: strings.TrimSpace(f.Get("jwks_url"))}
	for line := range strings.Lines(f.Get("redirect_uris")) {
		if u := strings.TrimSpace(line); u != "" {
			spec.RedirectURIs = append(spec.RedirectURIs, u)
		}
	}
	secret, err := w.o.RegisterClientAs(r.Context(), sess, spec, f.Get("confidential") == "yes", addr(r))
	var oe *outcome.Error
	switch {
	case errors.Is(err, oauth.ErrNotAdmin), err == nil:
		msg := ""
		if err == nil {
			msg = "The app " + spec.ID + " is registered."
		}
		w.adminClients(rw, r, sess, http.StatusOK, msg, "", secret)
	case errors.As(err, &oe) && (oe.Kind == outcome.Invalid || oe.Kind == outcome.Conflict):
		w.adminClients(rw, r, sess, http.StatusBadRequest, "", "The app cannot be registered: "+oe.Error()+".", "")
	default:
		w.serverError(rw, r, err)
	}
}
