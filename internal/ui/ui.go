package ui

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/oauth"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/reqid"
)

//go:embed templates/*.html templates/*.css templates/*.js
var files embed.FS

// Sessions is what the workspace needs of the authorization server's web
// transport (*authweb.Web): the shared browser session and its sign-in page.
type Sessions interface {
	// Session returns the complete signed-in session, nil when none.
	Session(r *http.Request) (*oauth.Session, error)
	// SignInPage answers with the sign-in page (message shown above it).
	SignInPage(rw http.ResponseWriter, r *http.Request, message string)
}

// Options configure a UI. All fields but Now are required.
type Options struct {
	Interactions *interaction.Service
	OAuth        *oauth.Server // anti-forgery tokens of the session
	Sessions     Sessions
	Logger       *slog.Logger
	// Idle is the session idle timeout (--session-idle): pages reload after
	// it so that a forgotten screen stops showing patient data.
	Idle time.Duration
	Now  func() time.Time
}

// UI serves the clinician workspace.
type UI struct {
	opts   Options
	log    *slog.Logger
	rec    *records
	finder *finder
	pages  map[string]*template.Template
	cop    *http.CrossOriginProtection
	mux    *http.ServeMux
}

// New returns the workspace.
func New(opts Options) *UI {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	u := &UI{opts: opts, log: opts.Logger, cop: http.NewCrossOriginProtection()}
	u.rec = &records{svc: opts.Interactions}
	u.finder = newFinder(u.rec)
	u.pages = parsePages()
	u.mux = u.routes()
	return u
}

// Handler returns the handler of every route in routes.go.
func (u *UI) Handler() http.Handler { return u.mux }

// Patterns lists the route patterns, for the composition root to mount.
func (u *UI) Patterns() []string { return patterns }

var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format("2006-01-02 15:04")
	},
	"join": strings.Join,
}

// parsePages parses each page with the layout: one template set per page,
// so that every page defines its own "content".
func parsePages() map[string]*template.Template {
	names, err := files.ReadDir("templates")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		if !strings.HasSuffix(n.Name(), ".html") || n.Name() == "layout.html" {
			continue
		}
		out[n.Name()] = template.Must(template.New("").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/"+n.Name()))
	}
	return out
}

// user is the signed-in clinician of a request.
type user struct {
	sess      *oauth.Session
	principal auth.Principal
	Name      string // the username, shown in the header
	Org       string // the organization the user works for in the workspace
	Ref       string // "Practitioner/…"
	CSRF      string
}

// page is what every template gets.
type page struct {
	Title   string
	User    *user
	Error   string
	Message string
	Idle    int // seconds until the page reloads (auto-logoff)
	Data    any
	// FormOrigins are other origins the page's forms may redirect to.
	FormOrigins []string
}

// securityHeaders are those of every workspace page: nothing from other
// origins, no framing (clickjacking), no caching (patient data).
// formOrigins are other origins a form on the page may end up at: the
// launch URIs of the chart's apps (form-action applies to redirects).
func securityHeaders(h http.Header, formOrigins ...string) {
	formAction := "'self'"
	for _, o := range formOrigins {
		if o != "" && !strings.ContainsAny(o, " ;,'") {
			formAction += " " + o
		}
	}
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
}

func (u *UI) render(rw http.ResponseWriter, r *http.Request, status int, name string, p page) {
	h := rw.Header()
	securityHeaders(h, p.FormOrigins...)
	h.Set("Content-Type", "text/html; charset=utf-8")
	if p.User != nil {
		p.Idle = int(u.opts.Idle/time.Second) + 5
	}
	t := u.pages[name]
	if t == nil {
		u.log.ErrorContext(r.Context(), "no such page template", "page", name)
		http.Error(rw, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	rw.WriteHeader(status)
	if err := t.ExecuteTemplate(rw, "layout", p); err != nil {
		u.log.ErrorContext(r.Context(), "cannot render a page", "page", name, "err", err)
	}
}

// handler is a page handler of a signed-in user; it returns the error the
// one error function (fail) turns into a page.
type handler func(rw http.ResponseWriter, r *http.Request, usr *user) error

// signedIn runs h for a signed-in clinician with the principal in the
// context, and answers with the sign-in page otherwise. Posts must pass the
// cross-origin check and carry the session's anti-forgery token.
func (u *UI) signedIn(h handler) http.Handler {
	inner := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		sess, err := u.opts.Sessions.Session(r)
		if err != nil {
			u.fail(rw, r, nil, err)
			return
		}
		if sess == nil {
			securityHeaders(rw.Header())
			msg := ""
			if r.Method == http.MethodPost {
				msg = "Your session has ended. Please sign in again."
			}
			u.opts.Sessions.SignInPage(rw, r, msg)
			return
		}
		usr, err := u.userOf(sess)
		if err != nil {
			u.fail(rw, r, nil, err)
			return
		}
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				u.fail(rw, r, usr, outcome.New(outcome.Invalid, "invalid", "The form cannot be read."))
				return
			}
			if !u.opts.OAuth.CheckCSRF(sess, r.PostForm.Get("csrf")) {
				u.render(rw, r, http.StatusForbidden, "error.html", page{Title: "Request refused", User: usr,
					Error: "This form has expired or did not come from this site. Go back, reload the page and try again."})
				return
			}
		}
		ctx := auth.NewContext(r.Context(), usr.principal)
		if err := h(rw, r.WithContext(ctx), usr); err != nil {
			u.fail(rw, r, usr, err)
		}
	})
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			u.cop.Handler(inner).ServeHTTP(rw, r)
			return
		}
		inner.ServeHTTP(rw, r)
	})
}

// userOf builds the user and principal of a session.
func (u *UI) userOf(sess *oauth.Session) (*user, error) {
	su := sess.User
	if su.Kind != "practitioner" || !strings.HasPrefix(su.FHIRUser, "Practitioner/") {
		return nil, outcome.New(outcome.Forbidden, "forbidden", "The clinician workspace is for practitioner accounts.")
	}
	if len(su.Memberships) == 0 {
		return nil, outcome.New(outcome.Forbidden, "forbidden", "Your account belongs to no organization; ask an administrator to add you to one.")
	}
	var ms []auth.Membership
	for _, m := range su.Memberships {
		ms = append(ms, auth.Membership{Organization: m.Org, Role: auth.Role(m.Role)})
	}
	p := auth.NewPractitionerSession(su.ID, strings.TrimPrefix(su.FHIRUser, "Practitioner/"), ms...)
	return &user{sess: sess, principal: p, Name: su.Username, Org: su.Memberships[0].Org, Ref: su.FHIRUser,
		CSRF: u.opts.OAuth.CSRFToken(sess)}, nil
}

// fail is the one function that turns a handler's error into a page: a
// resource that does not exist or is not the user's to see is the same
// not-found page (no leak of existence); a fault is logged with the
// request id, which the page shows, and never described.
func (u *UI) fail(rw http.ResponseWriter, r *http.Request, usr *user, err error) {
	e := outcome.As(err)
	if errors.Is(err, context.Canceled) {
		return
	}
	switch e.Kind {
	case outcome.NotFound, outcome.Private, outcome.Gone:
		u.render(rw, r, http.StatusNotFound, "error.html", page{Title: "Not found", User: usr,
			Error: "There is no such record, or you do not have access to it."})
	case outcome.Forbidden, outcome.Unauthorized:
		u.render(rw, r, http.StatusForbidden, "error.html", page{Title: "Not allowed", User: usr, Error: firstDiagnostics(e)})
	case outcome.Invalid, outcome.Conflict, outcome.Precondition, outcome.TooCostly, outcome.NotSupported, outcome.TooLarge:
		u.render(rw, r, e.Kind.HTTPStatus(), "error.html", page{Title: "Cannot do that", User: usr, Error: firstDiagnostics(e)})
	default:
		id := reqid.From(r.Context())
		u.log.ErrorContext(r.Context(), "workspace page failure", "err", err, "request_id", id)
		u.render(rw, r, http.StatusInternalServerError, "error.html", page{Title: "Something went wrong", User: usr,
			Error: fmt.Sprintf("The server could not complete this request (reference %s). Please try again.", id)})
	}
}

func firstDiagnostics(e *outcome.Error) string {
	var msgs []string
	for _, is := range e.Issues {
		if is.Diagnostics != "" {
			msgs = append(msgs, is.Diagnostics)
		}
	}
	if len(msgs) == 0 {
		return e.Error()
	}
	return strings.Join(msgs, " ")
}
