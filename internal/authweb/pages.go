package authweb

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/oauth"
)

// page is what every template gets.
type page struct {
	Title      string
	Error      string
	Q          string // the authorization request, as a query, carried through the steps
	CSRF       string
	Username   string
	Enrollment *oauth.Enrollment
	// OTPAuth is the enrolment's otpauth:// URI. html/template would
	// neutralize the unfamiliar scheme; the URI is ours (scheme fixed,
	// parameters escaped by oauth), so it is marked safe.
	OTPAuth  template.URL
	Client   string
	Scopes   []scopeItem
	Patients []oauth.PatientChoice
	Patient  string
	// PatientName names the patient in context on the consent page.
	PatientName string
	Message     string
	SignedIn    bool
	// MFAEnrolled says the account page's user has a second factor.
	MFAEnrolled bool
	// Clients are the apps on the administration page; Secret a new
	// client's secret, shown once.
	Clients []clientRow
	Secret  string
}

type scopeItem struct {
	Value    string
	Text     string
	Optional bool
}

func (w *Web) cookieName() string {
	if w.opts.SecureCookies {
		return "__Host-continuum_session" // Secure, Path=/, no Domain: https://developer.mozilla.org/en-US/docs/Web/HTTP/Cookies#cookie_prefixes
	}
	return "continuum_session"
}

func (w *Web) setCookie(rw http.ResponseWriter, value string, maxAge int) {
	http.SetCookie(rw, &http.Cookie{Name: w.cookieName(), Value: value, Path: "/", HttpOnly: true,
		Secure: w.opts.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: maxAge})
}

// session returns the signed-in session, nil when there is none.
func (w *Web) session(r *http.Request) (*oauth.Session, error) {
	c, err := r.Cookie(w.cookieName())
	if err != nil {
		return nil, nil
	}
	sess, err := w.o.Session(r.Context(), c.Value)
	if errors.Is(err, oauth.ErrNoSession) {
		return nil, nil
	}
	return sess, err
}

// render writes a page. formOrigin, when not "", is the app's origin that
// a form on the page may end up redirecting to (CSP form-action applies to
// redirects after a submission).
func (w *Web) render(rw http.ResponseWriter, status int, name string, p page, formOrigin string) {
	h := rw.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'self' "+formOrigin+
		"; frame-ancestors 'none'; base-uri 'none'")
	rw.WriteHeader(status)
	if err := w.pages.ExecuteTemplate(rw, name, p); err != nil {
		w.log.Error("cannot render a page", "page", name, "err", err)
	}
}

func (w *Web) serverError(rw http.ResponseWriter, r *http.Request, err error) {
	w.log.ErrorContext(r.Context(), "authorization page failure", "err", err)
	w.render(rw, http.StatusInternalServerError, "error.html", page{Title: "Something went wrong",
		Error: "The server could not complete this step. Please try again later."}, "")
}

func origin(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" {
		return ""
	}
	if u.Host == "" {
		return u.Scheme + ":"
	}
	return u.Scheme + "://" + u.Host
}

// authorize is the authorization endpoint. It checks the request, then
// walks the user through the steps still missing: sign in, second factor,
// patient, consent.
func (w *Web) authorize(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			w.render(rw, http.StatusBadRequest, "error.html", page{Title: "Bad request", Error: "The request cannot be read."}, "")
			return
		}
		q = r.PostForm
	}
	w.flow(rw, r, q, "")
}

func (w *Web) flow(rw http.ResponseWriter, r *http.Request, q url.Values, patient string) {
	ctx := r.Context()
	a, err := w.o.CheckAuthorize(ctx, oauth.AuthorizeRequestFrom(q))
	if err != nil {
		var oe *oauth.Error
		switch {
		case !errors.As(err, &oe):
			w.serverError(rw, r, err)
		case a == nil:
			// Never redirect to an unverified URI (no open redirect).
			w.render(rw, http.StatusBadRequest, "error.html", page{Title: "This app's request is not valid", Error: oe.Description}, "")
		default:
			http.Redirect(rw, r, a.RedirectError(oe), http.StatusSeeOther)
		}
		return
	}
	qs := a.Req.Query().Encode()
	appOrigin := origin(a.Req.RedirectURI)
	sess, err := w.session(r)
	if err != nil {
		w.serverError(rw, r, err)
		return
	}
	if sess == nil {
		w.render(rw, http.StatusOK, "signin.html", page{Title: "Sign in", Q: qs, Client: a.Client.Name}, appOrigin)
		return
	}
	p := page{Q: qs, CSRF: w.o.CSRFToken(sess), Client: a.Client.Name, SignedIn: true}
	if !sess.MFADone() {
		w.totpPage(rw, r, sess, p, "", appOrigin)
		return
	}
	if a.NeedsPatient() && sess.User.Kind == "practitioner" && patient == "" {
		p.Title = "Choose a patient"
		if p.Patients, err = w.o.PatientChoices(ctx, sess.User); err != nil {
			w.serverError(rw, r, err)
			return
		}
		w.render(rw, http.StatusOK, "patients.html", p, appOrigin)
		return
	}
	p.Title = "Allow " + a.Client.Name + "?"
	p.Patient = patient
	switch {
	case a.Launch != nil:
		p.PatientName = w.o.PatientName(ctx, sess.User, a.Launch.Patient)
	case sess.User.Kind == "patient":
		p.PatientName = w.o.PatientName(ctx, sess.User, strings.TrimPrefix(sess.User.FHIRUser, "Patient/"))
	default:
		p.PatientName = w.o.PatientName(ctx, sess.User, patient)
	}
	for _, sc := range a.Scopes.List() {
		p.Scopes = append(p.Scopes, scopeItem{Value: sc.String(), Text: Describe(sc), Optional: oauth.Optional(sc)})
	}
	w.render(rw, http.StatusOK, "consent.html", p, appOrigin)
}

func (w *Web) totpPage(rw http.ResponseWriter, r *http.Request, sess *oauth.Session, p page, msg, appOrigin string) {
	enr, err := w.o.TOTPEnrollment(r.Context(), sess)
	if err != nil {
		w.serverError(rw, r, err)
		return
	}
	p.Title, p.Enrollment, p.Error = "Verification code", enr, msg
	if enr != nil && strings.HasPrefix(enr.URI, "otpauth://totp/") {
		p.OTPAuth = template.URL(enr.URI)
	}
	status := http.StatusOK
	if msg != "" {
		status = http.StatusUnauthorized
	}
	w.render(rw, status, "totp.html", p, appOrigin)
}

// continueTo sends the browser back to the authorization request, or to
// the signed-in page when there is none. The target is always our own
// path, so the q parameter cannot make it an open redirect.
func (w *Web) continueTo(rw http.ResponseWriter, r *http.Request, q string) {
	target := "/auth/signin"
	if w.opts.Home != "" {
		target = w.opts.Home
	}
	if q != "" {
		target = "/auth/authorize?" + q
	}
	http.Redirect(rw, r, target, http.StatusSeeOther)
}

func (w *Web) signinPage(rw http.ResponseWriter, r *http.Request) {
	sess, err := w.session(r)
	if err != nil {
		w.serverError(rw, r, err)
		return
	}
	if sess != nil && sess.MFADone() {
		w.render(rw, http.StatusOK, "signedin.html", page{Title: "Signed in", Username: sess.User.Username,
			CSRF: w.o.CSRFToken(sess), SignedIn: true}, "")
		return
	}
	if sess != nil {
		w.totpPage(rw, r, sess, page{CSRF: w.o.CSRFToken(sess), SignedIn: true}, "", "")
		return
	}
	w.render(rw, http.StatusOK, "signin.html", page{Title: "Sign in"}, "")
}

// Session returns the complete signed-in session of a request (second
// factor done), nil when there is none: the workspace's pages share the
// authorization server's session.
func (w *Web) Session(r *http.Request) (*oauth.Session, error) {
	sess, err := w.session(r)
	if err != nil || sess == nil || !sess.MFADone() {
		return nil, err
	}
	return sess, nil
}

// SignInPage answers with the sign-in page, or the second-factor step of
// a session that still needs it; the form continues to Home.
func (w *Web) SignInPage(rw http.ResponseWriter, r *http.Request, message string) {
	sess, err := w.session(r)
	if err != nil {
		w.serverError(rw, r, err)
		return
	}
	if sess != nil && !sess.MFADone() {
		w.totpPage(rw, r, sess, page{CSRF: w.o.CSRFToken(sess), SignedIn: true}, "", "")
		return
	}
	w.render(rw, http.StatusOK, "signin.html", page{Title: "Sign in", Message: message}, "")
}

func (w *Web) signin(rw http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		w.render(rw, http.StatusBadRequest, "error.html", page{Title: "Bad request", Error: "The form cannot be read."}, "")
		return
	}
	username, q := r.PostForm.Get("username"), r.PostForm.Get("q")
	sess, err := w.o.SignIn(r.Context(), username, r.PostForm.Get("password"), addr(r))
	if errors.Is(err, oauth.ErrSignIn) {
		w.render(rw, http.StatusUnauthorized, "signin.html", page{Title: "Sign in", Q: q, Username: username,
			Error: "Sign-in failed: " + err.Error() + "."}, "")
		return
	}
	if err != nil {
		w.serverError(rw, r, err)
		return
	}
	// A sign-in always starts a new session (no session fixation); the
	// browser's previous one, if any, ends.
	if old, err := r.Cookie(w.cookieName()); err == nil && old.Value != "" {
		_ = w.o.SignOut(r.Context(), old.Value)
	}
	w.setCookie(rw, sess.Cookie, 0)
	w.continueTo(rw, r, q)
}

// sessionForm checks the session and the anti-forgery token of a page's
// form post; it answers the request itself when they fail.
func (w *Web) sessionForm(rw http.ResponseWriter, r *http.Request) *oauth.Session {
	if err := r.ParseForm(); err != nil {
		w.render(rw, http.StatusBadRequest, "error.html", page{Title: "Bad request", Error: "The form cannot be read."}, "")
		return nil
	}
	sess, err := w.session(r)
	if err != nil {
		w.serverError(rw, r, err)
		return nil
	}
	if sess == nil {
		w.render(rw, http.StatusUnauthorized, "signin.html", page{Title: "Sign in", Q: r.PostForm.Get("q"),
			Error: "Your session has ended. Please sign in again."}, "")
		return nil
	}
	if !w.o.CheckCSRF(sess, r.PostForm.Get("csrf")) {
		w.render(rw, http.StatusForbidden, "error.html", page{Title: "Request refused",
			Error: "This form has expired or did not come from this site. Go back and try again."}, "")
		return nil
	}
	return sess
}

func (w *Web) totp(rw http.ResponseWriter, r *http.Request) {
	sess := w.sessionForm(rw, r)
	if sess == nil {
		return
	}
	q := r.PostForm.Get("q")
	code := strings.ReplaceAll(strings.TrimSpace(r.PostForm.Get("code")), " ", "")
	if err := w.o.VerifyTOTP(r.Context(), sess, code, addr(r)); err != nil {
		if errors.Is(err, oauth.ErrTOTP) {
			w.totpPage(rw, r, sess, page{Q: q, CSRF: w.o.CSRFToken(sess), SignedIn: true}, err.Error(), "")
			return
		}
		w.serverError(rw, r, err)
		return
	}
	w.continueTo(rw, r, q)
}

// consent takes the patient picker's choice (no decision yet: show the
// consent page) and the consent page's Allow or Deny.
func (w *Web) consent(rw http.ResponseWriter, r *http.Request) {
	sess := w.sessionForm(rw, r)
	if sess == nil {
		return
	}
	f := r.PostForm
	q, err := url.ParseQuery(f.Get("q"))
	if err != nil {
		w.render(rw, http.StatusBadRequest, "error.html", page{Title: "Bad request", Error: "The request cannot be read."}, "")
		return
	}
	decision := f.Get("decision")
	if decision == "" {
		w.flow(rw, r, q, f.Get("patient"))
		return
	}
	a, err := w.o.CheckAuthorize(r.Context(), oauth.AuthorizeRequestFrom(q))
	if err != nil || !sess.MFADone() {
		w.flow(rw, r, q, "") // shows the error, or the step still missing
		return
	}
	if decision != "allow" {
		http.Redirect(rw, r, w.o.Deny(r.Context(), a, sess, addr(r)), http.StatusSeeOther)
		return
	}
	target, err := w.o.Approve(r.Context(), a, sess, oauth.Decision{Scopes: f["scope"], Patient: f.Get("patient"), Addr: addr(r)})
	var oe *oauth.Error
	switch {
	case errors.As(err, &oe):
		w.render(rw, http.StatusBadRequest, "error.html", page{Title: "Cannot continue", Error: oe.Description}, "")
		return
	case err != nil:
		w.serverError(rw, r, err)
		return
	}
	http.Redirect(rw, r, target, http.StatusSeeOther)
}

func (w *Web) signout(rw http.ResponseWriter, r *http.Request) {
	sess := w.sessionForm(rw, r)
	if sess == nil {
		return
	}
	if err := w.o.SignOut(r.Context(), sess.Cookie); err != nil {
		w.serverError(rw, r, err)
		return
	}
	w.setCookie(rw, "", -1)
	w.render(rw, http.StatusOK, "signin.html", page{Title: "Sign in", Message: "You are signed out."}, "")
}

// Describe says in plain language what a scope lets an app do, for the
// consent page.
func Describe(sc auth.Scope) string {
	switch sc.Kind {
	case auth.OpenIDScope:
		return "Know who you are (your account id)"
	case auth.FHIRUserScope:
		return "Know which person you are in the record (your practitioner or patient record)"
	case auth.ProfileScope:
		return "See your username"
	case auth.LaunchScope:
		return "Open with the patient and visit you are working on"
	case auth.LaunchContextScope:
		switch strings.ToLower(sc.LaunchType) {
		case "patient":
			return "Know which patient you choose"
		case "encounter":
			return "Know which visit you are working on"
		}
		return "Know which " + words(sc.LaunchType) + " you are working on"
	case auth.OfflineAccessScope:
		return "Keep this access after you sign out, until you or an administrator revoke it"
	case auth.OnlineAccessScope:
		return "Keep this access while you stay signed in"
	case auth.ResourceScope:
		var verbs []string
		for _, p := range []struct {
			perm auth.Permission
			verb string
		}{{auth.Read, "read"}, {auth.Search, "search"}, {auth.Create, "create"}, {auth.Update, "change"}, {auth.Delete, "delete"}} {
			if sc.Perms.Has(p.perm) {
				verbs = append(verbs, p.verb)
			}
		}
		what := "all kinds of records"
		if sc.Type != "*" {
			what = words(sc.Type) + " records"
		}
		whose := ""
		switch sc.Context {
		case auth.PatientContext:
			whose = " of the selected patient only"
		case auth.UserContext:
			whose = " that you are allowed to see"
		case auth.SystemContext:
			whose = " across the organization"
		}
		s := capitalize(joinWords(verbs)) + " " + what + whose
		for _, p := range sc.Params {
			s += ", limited to " + p.Name + " " + p.Value
		}
		return s
	}
	return sc.String()
}

func joinWords(ws []string) string {
	switch len(ws) {
	case 0:
		return ""
	case 1:
		return ws[0]
	}
	return strings.Join(ws[:len(ws)-1], ", ") + " and " + ws[len(ws)-1]
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// words splits a resource type into lower-case words: MedicationRequest →
// "medication request".
func words(typ string) string {
	var b strings.Builder
	for i, r := range typ {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte(' ')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
