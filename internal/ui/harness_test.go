package ui

import (
	"context"
	"crypto/ed25519"
	crand "crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/authweb"
	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/oauth"
	"github.com/continuum-ehr/continuum/internal/store"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
	"github.com/continuum-ehr/continuum/internal/validate"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const idle = 15 * time.Minute

// harness is the workspace and the authorization server on a real store
// behind an httptest server, with users doc and doc2 at org-a and other at
// org-b.
type harness struct {
	t     testing.TB
	srv   *httptest.Server
	db    *sqlstore.DB
	ui    *UI
	clock *clock
}

func newHarness(t testing.TB, b sqltest.Backend) *harness {
	t.Helper()
	h := &harness{t: t, db: b.Open(t), clock: &clock{t: time.Now().UTC().Truncate(time.Second)}}
	var handler http.Handler
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(h.srv.Close)
	log := slog.New(slog.DiscardHandler)
	o, err := oauth.New(oauth.Options{Identity: h.db, Store: h.db, BaseURL: h.srv.URL, Now: h.clock.Now, SessionIdle: idle,
		SecretKey: []byte("0123456789abcdef0123456789abcdef-test"), FetchJWKS: authweb.FetchJWKS, FailureFloor: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	web := authweb.New(authweb.Options{OAuth: o, Logger: log, Home: "/"})
	r4 := spec.R4()
	v := validate.New(r4, validate.Options{})
	h.ui = New(Options{Interactions: interaction.New(interaction.Options{Store: h.db, Validator: v, Spec: r4, Audit: testTrail(t, h.db)}),
		OAuth: o, Sessions: web, Logger: log, Idle: idle, Now: h.clock.Now})
	mux := http.NewServeMux()
	for _, p := range web.Patterns() {
		mux.Handle(p, web.Handler())
	}
	for _, p := range h.ui.Patterns() {
		mux.Handle(p, h.ui.Handler())
	}
	handler = mux
	ctx := context.Background()
	for _, org := range []string{"org-a", "org-b"} {
		h.put("", `{"resourceType":"Organization","id":"`+org+`","name":"`+org+`"}`)
	}
	for _, u := range []struct{ name, prac, org string }{{"doc", "dr", "org-a"}, {"doc2", "dr2", "org-a"}, {"other", "dr3", "org-b"}} {
		h.put("", `{"resourceType":"Practitioner","id":"`+u.prac+`","name":[{"family":"`+strings.ToUpper(u.name)+`","given":["Pat"]}]}`)
		if _, err := oauth.CreateUser(ctx, h.db, oauth.UserSpec{Username: u.name, Password: "correct horse battery", Kind: "practitioner",
			FHIRUser: "Practitioner/" + u.prac, Memberships: []store.Membership{{Org: u.org, Role: "physician"}}}, h.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func (h *harness) put(org, body string) {
	h.t.Helper()
	v, err := fhir.Parse([]byte(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.db.Update(context.Background(), func(tx store.Tx) error {
		_, err := tx.Put(context.Background(), store.Write{Resource: &v, Org: org})
		return err
	}); err != nil {
		h.t.Fatal(err)
	}
}

// browser is a signed-in user agent that does not follow redirects.
type browser struct {
	h    *harness
	c    *http.Client
	csrf string
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{h: h, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (h *harness) signIn(username string) *browser {
	h.t.Helper()
	b := h.browser()
	resp, _ := b.post("/auth/signin", url.Values{"username": {username}, "password": {"correct horse battery"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		h.t.Fatalf("sign-in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body := b.get("/")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		h.t.Fatalf("no anti-forgery token on the workspace:\n%s", body)
	}
	b.csrf = m[1]
	return b
}

func (b *browser) get(path string) (*http.Response, string) {
	b.h.t.Helper()
	return b.do("GET", path, nil, nil)
}

// post posts a form with the session's anti-forgery token (unless the
// form has its own csrf value) from the same origin.
func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.h.t.Helper()
	if _, ok := form["csrf"]; !ok && b.csrf != "" {
		form.Set("csrf", b.csrf)
	}
	return b.do("POST", path, form, map[string]string{"Origin": b.h.srv.URL, "Sec-Fetch-Site": "same-origin"})
}

func (b *browser) do(method, path string, form url.Values, hdr map[string]string) (*http.Response, string) {
	b.h.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.h.srv.URL+path, body)
	if err != nil {
		b.h.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.h.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, string(out)
}

// register registers a patient and returns its id.
func (b *browser) register(given, family, birthDate string) string {
	b.h.t.Helper()
	resp, body := b.post("/patients/new", url.Values{"given": {given}, "family": {family}, "birthDate": {birthDate}, "sex": {"female"},
		"confirm": {"different-person"}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/patients/") {
		b.h.t.Fatalf("register: %d %q\n%.2000s", resp.StatusCode, loc, body)
	}
	return strings.TrimPrefix(loc, "/patients/")
}

// testTrail is an audit trail over st with a throwaway key.
func testTrail(t testing.TB, st store.Store) *audit.Trail {
	t.Helper()
	_, key, err := ed25519.GenerateKey(crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := audit.NewTrail(audit.TrailOptions{Store: st, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}
