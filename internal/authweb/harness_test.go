package authweb

import (
	"context"
	"encoding/json"
	"html"
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

	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/oauth"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
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

// harness is a real authorization server on real SQLite behind an
// httptest server, with a protected endpoint that answers the principal
// Authenticate finds, as the FHIR API will.
type harness struct {
	t     *testing.T
	srv   *httptest.Server
	web   *Web
	o     *oauth.Server
	db    *sqlstore.DB
	clock *clock
	base  string
	fhir  string
}

func newHarness(t *testing.T) *harness { return newHarnessOn(t, sqltest.Backends()[0]) }

// newHarnessOn runs the harness on the store backend b.
func newHarnessOn(t *testing.T, b sqltest.Backend) *harness {
	t.Helper()
	h := &harness{t: t, db: b.Open(t), clock: &clock{t: time.Now().UTC().Truncate(time.Second)}}
	var handler http.Handler
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(h.srv.Close)
	h.base = h.srv.URL
	h.fhir = h.base + "/fhir"
	o, err := oauth.New(oauth.Options{Identity: h.db, Store: h.db, BaseURL: h.base, Now: h.clock.Now,
		SecretKey: []byte("0123456789abcdef0123456789abcdef-test"), FetchJWKS: FetchJWKS, FailureFloor: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h.o = o
	h.web = New(Options{OAuth: o, Logger: slog.New(slog.DiscardHandler)})
	mux := http.NewServeMux()
	for _, p := range h.web.Patterns() {
		mux.Handle(p, h.web.Handler())
	}
	mux.Handle("GET /fhir/whoami", CORS(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := h.web.Authenticate(r)
		if err != nil {
			oe := outcome.As(err)
			w.Header().Set("WWW-Authenticate", `Bearer realm="continuum"`)
			w.WriteHeader(oe.Kind.HTTPStatus())
			_, _ = io.WriteString(w, oe.Error())
			return
		}
		writeJSON(w, http.StatusOK, principalView(p))
	})))
	handler = mux
	h.seed()
	return h
}

// principalView is what the tests compare of a principal.
type view struct {
	Kind, User, UserKind, FHIRUser, Client, Scopes, Patient, Encounter string
	Orgs                                                               []string
}

func principalView(p auth.Principal) view {
	v := view{Kind: p.Kind.String(), User: p.User.ID, FHIRUser: p.User.FHIRUser, Client: p.ClientID,
		Scopes: p.Scopes.String(), Patient: p.Patient, Encounter: p.Encounter, Orgs: p.Organizations}
	if p.User.Kind != auth.Anonymous {
		v.UserKind = p.User.Kind.String()
	}
	for _, m := range p.User.Memberships {
		v.Orgs = append(v.Orgs, m.Organization+":"+string(m.Role))
	}
	return v
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

// seed: two organizations with a patient each, a physician at org-a.
func (h *harness) seed() {
	h.put("", `{"resourceType":"Organization","id":"org-a","name":"A"}`)
	h.put("", `{"resourceType":"Organization","id":"org-b","name":"B"}`)
	h.put("org-a", `{"resourceType":"Patient","id":"pa","name":[{"given":["Amy"],"family":"Shaw"}]}`)
	h.put("org-a", `{"resourceType":"Patient","id":"pa2","name":[{"use":"official","text":"Zoe Ng"}]}`)
	h.put("org-a", `{"resourceType":"Encounter","id":"ea","status":"in-progress","class":{"code":"AMB"},"subject":{"reference":"Patient/pa"}}`)
	h.put("org-b", `{"resourceType":"Patient","id":"pb","name":[{"given":["Bob"],"family":"Other"}]}`)
	h.put("", `{"resourceType":"Practitioner","id":"dr"}`)
	if _, err := oauth.CreateUser(context.Background(), h.db, oauth.UserSpec{Username: "doc", Password: "correct horse",
		Kind: "practitioner", FHIRUser: "Practitioner/dr", Memberships: []store.Membership{{Org: "org-a", Role: "physician"}}}, h.clock.Now()); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) client(spec oauth.ClientSpec) {
	h.t.Helper()
	if err := oauth.RegisterClient(context.Background(), h.db, spec, h.clock.Now()); err != nil {
		h.t.Fatal(err)
	}
}

// browser is a user agent with cookies that follows redirects within the
// server and stops at the app's redirect URI.
func (h *harness) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	host := strings.TrimPrefix(h.base, "http://")
	return &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != host {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

func (h *harness) do(c *http.Client, method, u string, form url.Values) (*http.Response, string) {
	h.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-z]+)" value="([^"]*)">`)

// hidden returns the hidden fields of a page's first form.
func hidden(page string) url.Values {
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		if v.Get(m[1]) == "" {
			v.Set(m[1], html.UnescapeString(m[2]))
		}
	}
	return v
}

// whoami calls the protected endpoint with a bearer token.
func (h *harness) whoami(token string) (int, view) {
	h.t.Helper()
	req, _ := http.NewRequest("GET", h.fhir+"/whoami", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var v view
	if resp.StatusCode == 200 {
		_ = json.NewDecoder(resp.Body).Decode(&v)
	}
	return resp.StatusCode, v
}

// tokenCall posts a form to the token endpoint (or another) and decodes
// the JSON answer.
func (h *harness) post(path string, form url.Values, basicID, basicSecret string) (int, map[string]any) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}
