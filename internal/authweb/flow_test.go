package authweb

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/continuum-ehr/continuum/internal/oauth"
	"github.com/continuum-ehr/continuum/internal/store"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
)

const appRedirect = "http://localhost:9999/cb"

func (h *harness) appConfig(id string, scopes ...string) *oauth2.Config {
	return &oauth2.Config{ClientID: id, RedirectURL: appRedirect, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: h.base + "/auth/authorize", TokenURL: h.base + "/auth/token", AuthStyle: oauth2.AuthStyleInParams}}
}

// authorize drives the browser part of a launch: sign in, pick (when
// asked), consent with the scopes left ticked (nil: all), and returns the
// redirect to the app.
func (h *harness) authorize(b *http.Client, authURL, patientName string, keep func(scope string) bool) *url.URL {
	h.t.Helper()
	resp, page := h.do(b, "GET", authURL, nil)
	if resp.StatusCode != 200 || !strings.Contains(page, `<label for="username">Username</label>`) ||
		!strings.Contains(page, `<label for="password">Password</label>`) || !strings.Contains(page, `<button type="submit">Sign in</button>`) {
		h.t.Fatalf("sign-in page: %d\n%s", resp.StatusCode, page)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		h.t.Errorf("sign-in page Cache-Control %q", cc)
	}
	f := hidden(page)
	f.Set("username", "doc")
	f.Set("password", "correct horse")
	resp, page = h.do(b, "POST", h.base+"/auth/signin", f)
	if patientName != "" {
		if !strings.Contains(page, ">"+patientName+"</button>") {
			h.t.Fatalf("patient picker without a button named %q: %d\n%s", patientName, resp.StatusCode, page)
		}
		if strings.Contains(page, "Bob Other") {
			h.t.Fatal("the picker offers a patient of another organization")
		}
		f = hidden(page)
		for _, id := range []string{"pa", "pa2"} {
			if strings.Contains(page, `value="`+id+`">`+patientName) {
				f.Set("patient", id)
			}
		}
		resp, page = h.do(b, "POST", h.base+"/auth/consent", f)
	}
	if resp.StatusCode != 200 || !strings.Contains(page, `value="allow">Allow</button>`) || !strings.Contains(page, `value="deny" formnovalidate>Deny</button>`) {
		h.t.Fatalf("consent page: %d\n%s", resp.StatusCode, page)
	}
	if patientName != "" && !strings.Contains(page, "Patient: <strong>"+patientName+"</strong>") {
		h.t.Errorf("the consent page does not name the chosen patient %q", patientName)
	}
	f = hidden(page)
	f.Set("decision", "allow")
	for _, m := range scopeBoxRE.FindAllStringSubmatch(page, -1) {
		if keep == nil || keep(m[1]) {
			f.Add("scope", m[1])
		}
	}
	resp, _ = h.do(b, "POST", h.base+"/auth/consent", f)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc.String(), appRedirect) {
		h.t.Fatalf("after Allow: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc
}

var scopeBoxRE = regexpMust(`type="checkbox" id="scope-\d+" name="scope" value="([^"]+)"`)

// verifyIDToken checks an id_token's signature against the server's JWKS
// (fetched over HTTP, as an app does) and returns its claims.
func (h *harness) verifyIDToken(raw string) map[string]any {
	h.t.Helper()
	resp, err := http.Get(h.base + "/.well-known/openid-configuration")
	if err != nil {
		h.t.Fatal(err)
	}
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	resp, err = http.Get(disc.JWKSURI)
	if err != nil {
		h.t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	_ = json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		h.t.Fatalf("id_token: %v", err)
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		h.t.Fatalf("id_token's kid %q is not in the JWKS", tok.Headers[0].KeyID)
	}
	claims := map[string]any{}
	if err := tok.Claims(keys[0].Key, &claims); err != nil {
		h.t.Fatalf("id_token signature: %v", err)
	}
	if claims["iss"] != disc.Issuer {
		h.t.Errorf("id_token iss %v, discovery issuer %s", claims["iss"], disc.Issuer)
	}
	return claims
}

// TestStandaloneLaunch runs on SQLite and PostgreSQL: the whole state of
// the flow (sessions, codes, grants, refresh tokens, keys) is in the store.
func TestStandaloneLaunch(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, b sqltest.Backend) { testStandaloneLaunch(t, newHarnessOn(t, b)) })
}

func testStandaloneLaunch(t *testing.T, h *harness) {
	h.client(oauth.ClientSpec{ID: "app", Name: "Chart Viewer", RedirectURIs: []string{appRedirect}})
	h.client(oauth.ClientSpec{ID: "rs", Secret: "resource-server-secret", Scopes: "system/*.rs"})
	ctx := context.Background()
	conf := h.appConfig("app", "openid", "fhirUser", "profile", "launch/patient", "patient/*.rs", "offline_access")
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("st-123", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("aud", h.fhir), oauth2.SetAuthURLParam("nonce", "n-456"))
	b := h.browser()
	loc := h.authorize(b, authURL, "Amy Shaw", nil)
	if loc.Query().Get("state") != "st-123" {
		t.Errorf("state not echoed: %s", loc)
	}
	tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.Extra("patient") != "pa" || tok.Extra("need_patient_banner") != true || tok.RefreshToken == "" ||
		tok.Extra("scope") != "openid fhirUser profile launch/patient patient/*.rs offline_access" {
		t.Errorf("token response: patient %v banner %v refresh %q scope %v", tok.Extra("patient"),
			tok.Extra("need_patient_banner"), tok.RefreshToken, tok.Extra("scope"))
	}
	claims := h.verifyIDToken(tok.Extra("id_token").(string))
	if claims["aud"] != "app" || claims["nonce"] != "n-456" || claims["fhirUser"] != h.fhir+"/Practitioner/dr" ||
		claims["preferred_username"] != "doc" || claims["sub"] == "" {
		t.Errorf("id_token claims %v", claims)
	}
	status, who := h.whoami(tok.AccessToken)
	if status != 200 || who.Kind != "app" || who.UserKind != "practitioner" || who.Patient != "pa" || who.Client != "app" ||
		who.FHIRUser != "Practitioner/dr" || len(who.Orgs) != 1 || who.Orgs[0] != "org-a:physician" {
		t.Fatalf("principal of the access token: %d %+v", status, who)
	}

	// Userinfo.
	req, _ := http.NewRequest("GET", h.base+"/auth/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var ui map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&ui)
	resp.Body.Close()
	if ui["sub"] != claims["sub"] || ui["fhirUser"] != h.fhir+"/Practitioner/dr" {
		t.Errorf("userinfo %v", ui)
	}

	// Refresh rotates the refresh token; the new access token works.
	old := tok.RefreshToken
	tok.Expiry = h.clock.Now().Add(-1)
	refreshed, err := conf.TokenSource(ctx, tok).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if refreshed.RefreshToken == "" || refreshed.RefreshToken == old || refreshed.AccessToken == tok.AccessToken {
		t.Fatalf("refresh did not rotate: %+v", refreshed)
	}
	if s, _ := h.whoami(refreshed.AccessToken); s != 200 {
		t.Fatalf("refreshed access token: %d", s)
	}

	// Introspection by a resource server (a confidential client).
	status, intro := h.post("/auth/introspect", url.Values{"token": {refreshed.AccessToken}}, "rs", "resource-server-secret")
	if status != 200 || intro["active"] != true || intro["patient"] != "pa" || intro["client_id"] != "app" || intro["scope"] == "" {
		t.Errorf("introspection: %d %v", status, intro)
	}
	if status, _ := h.post("/auth/introspect", url.Values{"token": {refreshed.AccessToken}}, "", ""); status != 401 {
		t.Errorf("introspection without client authentication: %d", status)
	}

	// Reusing the rotated refresh token revokes the whole grant.
	status, body := h.post("/auth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old}, "client_id": {"app"}}, "", "")
	if status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("reused refresh token: %d %v", status, body)
	}
	if s, _ := h.whoami(refreshed.AccessToken); s != 401 {
		t.Errorf("after refresh-token reuse the grant's access token still works: %d", s)
	}
	_, intro = h.post("/auth/introspect", url.Values{"token": {refreshed.AccessToken}}, "rs", "resource-server-secret")
	if intro["active"] != false || len(intro) != 1 {
		t.Errorf("introspection of a revoked token: %v", intro)
	}
}

// TestSingleSignOn: a second app in the same browser needs no second
// sign-in; unticking a scope on the consent page removes it from the grant.
func TestSingleSignOnAndUntick(t *testing.T) {
	h := newHarness(t)
	h.client(oauth.ClientSpec{ID: "app", RedirectURIs: []string{appRedirect}})
	b := h.browser()
	conf := h.appConfig("app", "openid", "fhirUser", "launch/patient", "patient/*.rs", "offline_access")
	v := oauth2.GenerateVerifier()
	h.authorize(b, conf.AuthCodeURL("s1", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("aud", h.fhir)), "Zoe Ng", nil)

	v2 := oauth2.GenerateVerifier()
	resp, page := h.do(b, "GET", conf.AuthCodeURL("s2", oauth2.S256ChallengeOption(v2), oauth2.SetAuthURLParam("aud", h.fhir)), nil)
	if resp.StatusCode != 200 || !strings.Contains(page, ">Zoe Ng</button>") {
		t.Fatalf("second launch did not go straight to the picker: %d\n%s", resp.StatusCode, page)
	}
	f := hidden(page)
	f.Set("patient", "pa2")
	_, page = h.do(b, "POST", h.base+"/auth/consent", f)
	f = hidden(page)
	f.Set("decision", "allow")
	f.Add("scope", "patient/*.rs") // offline_access unticked
	resp, _ = h.do(b, "POST", h.base+"/auth/consent", f)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	tok, err := conf.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(v2))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "" || tok.Extra("scope") != "openid fhirUser launch/patient patient/*.rs" || tok.Extra("patient") != "pa2" {
		t.Errorf("unticked offline_access still granted: scope %v refresh %q", tok.Extra("scope"), tok.RefreshToken)
	}
}

func TestEHRLaunch(t *testing.T) {
	h := newHarness(t)
	h.client(oauth.ClientSpec{ID: "app", Secret: "app-secret-0123456789", RedirectURIs: []string{appRedirect}, LaunchURI: "https://app.example.org/launch"})
	ctx := context.Background()
	launchURL, err := oauth.MintLaunch(ctx, h.db, h.db, oauth.LaunchSpec{ClientID: "app", Patient: "pa", Encounter: "ea", FHIRBase: h.fhir}, h.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	lu, _ := url.Parse(launchURL)
	if !strings.HasPrefix(launchURL, "https://app.example.org/launch?") || lu.Query().Get("iss") != h.fhir || lu.Query().Get("launch") == "" {
		t.Fatalf("launch URL %s", launchURL)
	}
	conf := h.appConfig("app", "launch", "openid", "fhirUser", "patient/*.rs", "user/Practitioner.rs")
	conf.ClientSecret = "app-secret-0123456789"
	conf.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	v := oauth2.GenerateVerifier()
	loc := h.authorize(h.browser(), conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("aud", lu.Query().Get("iss")),
		oauth2.SetAuthURLParam("launch", lu.Query().Get("launch"))), "", nil)
	tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	fc, _ := json.Marshal(tok.Extra("fhirContext"))
	if tok.Extra("patient") != "pa" || tok.Extra("encounter") != "ea" || string(fc) != `[{"reference":"Encounter/ea"}]` ||
		tok.Extra("need_patient_banner") != false || tok.Extra("smart_style_url") != h.base+"/auth/smart-style.json" {
		t.Errorf("EHR launch context: patient %v encounter %v fhirContext %s banner %v style %v", tok.Extra("patient"),
			tok.Extra("encounter"), fc, tok.Extra("need_patient_banner"), tok.Extra("smart_style_url"))
	}
	if _, who := h.whoami(tok.AccessToken); who.Encounter != "ea" || who.Patient != "pa" {
		t.Errorf("principal %+v", who)
	}
	// A confidential client must authenticate: without the secret, no token.
	status, body := h.post("/auth/token", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {"app"}}, "", "")
	if status != 401 || body["error"] != "invalid_client" {
		t.Errorf("confidential client without its secret: %d %v", status, body)
	}
}

func TestDenyAndSignOut(t *testing.T) {
	h := newHarness(t)
	h.client(oauth.ClientSpec{ID: "app", RedirectURIs: []string{appRedirect}})
	b := h.browser()
	conf := h.appConfig("app", "openid", "user/*.rs")
	v := oauth2.GenerateVerifier()
	_, page := h.do(b, "GET", conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("aud", h.fhir)), nil)
	f := hidden(page)
	f.Set("username", "doc")
	f.Set("password", "correct horse")
	_, page = h.do(b, "POST", h.base+"/auth/signin", f)
	f = hidden(page)
	f.Set("decision", "deny")
	resp, _ := h.do(b, "POST", h.base+"/auth/consent", f)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "s" {
		t.Errorf("deny redirected to %s", loc)
	}
	// Sign out needs the session's token; then the next request asks to sign in.
	resp, _ = h.do(b, "POST", h.base+"/auth/signout", url.Values{"csrf": {"forged"}})
	if resp.StatusCode != 403 {
		t.Errorf("sign-out with a forged token: %d", resp.StatusCode)
	}
	resp, _ = h.do(b, "POST", h.base+"/auth/signout", url.Values{"csrf": {f.Get("csrf")}})
	if resp.StatusCode != 200 {
		t.Errorf("sign-out: %d", resp.StatusCode)
	}
	_, page = h.do(b, "GET", conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("aud", h.fhir)), nil)
	if !strings.Contains(page, "Sign in</button>") {
		t.Error("after sign-out the session still works")
	}
}

// TestCrossSiteFormRefused: the pages' forms accept same-origin posts only.
func TestCrossSiteFormRefused(t *testing.T) {
	h := newHarness(t)
	req, _ := http.NewRequest("POST", h.base+"/auth/signin", strings.NewReader("username=doc&password=correct+horse"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) > 0 {
		t.Errorf("cross-site sign-in post: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
}

// TestPatientUserLaunch: a patient signing in to a standalone app gets
// their own record in context, without a picker.
func TestPatientUserLaunch(t *testing.T) {
	h := newHarness(t)
	h.client(oauth.ClientSpec{ID: "app", RedirectURIs: []string{appRedirect}})
	if _, err := oauth.CreateUser(context.Background(), h.db, oauth.UserSpec{Username: "amy", Password: "amy's password",
		Kind: "patient", FHIRUser: "Patient/pa"}, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	conf := h.appConfig("app", "openid", "fhirUser", "launch/patient", "patient/*.rs")
	v := oauth2.GenerateVerifier()
	b := h.browser()
	_, page := h.do(b, "GET", conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("aud", h.fhir)), nil)
	f := hidden(page)
	f.Set("username", "amy")
	f.Set("password", "amy's password")
	resp, page := h.do(b, "POST", h.base+"/auth/signin", f)
	if resp.StatusCode != 200 || strings.Contains(page, "Choose a patient") || !strings.Contains(page, ">Allow</button>") {
		t.Fatalf("a patient user should go straight to consent: %d\n%s", resp.StatusCode, page)
	}
	f = hidden(page)
	f.Set("decision", "allow")
	f.Set("patient", "pb") // a forged choice is ignored: a patient user's patient is their own
	f.Add("scope", "patient/*.rs")
	resp, _ = h.do(b, "POST", h.base+"/auth/consent", f)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	tok, err := conf.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Extra("patient") != "pa" {
		t.Errorf("patient in context %v, want pa", tok.Extra("patient"))
	}
	if s, who := h.whoami(tok.AccessToken); s != 200 || who.UserKind != "patient" || who.Patient != "pa" || who.FHIRUser != "Patient/pa" {
		t.Errorf("principal %d %+v", s, who)
	}
	if claims := h.verifyIDToken(tok.Extra("id_token").(string)); claims["fhirUser"] != h.fhir+"/Patient/pa" {
		t.Errorf("fhirUser %v", claims["fhirUser"])
	}
}

// TestPractitionerCannotPickOutsideOrg: a forged patient choice outside the
// user's organizations is refused.
func TestPractitionerCannotPickOutsideOrg(t *testing.T) {
	h := newHarness(t)
	h.client(oauth.ClientSpec{ID: "app", RedirectURIs: []string{appRedirect}})
	conf := h.appConfig("app", "launch/patient", "patient/*.rs")
	v := oauth2.GenerateVerifier()
	b := h.browser()
	_, page := h.do(b, "GET", conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("aud", h.fhir)), nil)
	f := hidden(page)
	f.Set("username", "doc")
	f.Set("password", "correct horse")
	_, page = h.do(b, "POST", h.base+"/auth/signin", f)
	f = hidden(page)
	f.Set("patient", "pb")
	f.Set("decision", "allow")
	f.Add("scope", "patient/*.rs")
	resp, page := h.do(b, "POST", h.base+"/auth/consent", f)
	if resp.StatusCode != 400 || resp.Header.Get("Location") != "" || !strings.Contains(page, "pick one of the patients") {
		t.Errorf("forged patient of another organization: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestRefreshRules: a refresh token is bound to its client; a refresh may
// narrow the scopes, never widen them; without scope it keeps them.
func TestRefreshRules(t *testing.T) {
	h := newHarness(t)
	h.client(oauth.ClientSpec{ID: "app", RedirectURIs: []string{appRedirect}})
	h.client(oauth.ClientSpec{ID: "app2", RedirectURIs: []string{appRedirect}})
	conf := h.appConfig("app", "user/*.rs", "user/Observation.cruds", "offline_access")
	code, v := h.codeFor(conf)
	_, tok := h.post("/auth/token", exchangeForm(code, v, appRedirect), "", "")
	rt := tok["refresh_token"].(string)
	refresh := func(client, scope string) (int, map[string]any) {
		f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {client}}
		if scope != "" {
			f.Set("scope", scope)
		}
		return h.post("/auth/token", f, "", "")
	}
	if status, body := refresh("app2", ""); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("another client's refresh: %d %v", status, body)
	}
	if status, body := refresh("app", "user/*.cruds"); status != 400 || body["error"] != "invalid_scope" {
		t.Errorf("widening refresh: %d %v", status, body)
	}
	status, body := refresh("app", "user/Observation.rs")
	if status != 200 || body["scope"] != "user/Observation.rs" || body["expires_in"] != float64(300) || body["token_type"] != "Bearer" {
		t.Fatalf("narrowing refresh: %d %v", status, body)
	}
	rt = body["refresh_token"].(string)
	status, body = refresh("app", "")
	if status != 200 || body["scope"] != "user/*.rs user/Observation.cruds offline_access" {
		t.Errorf("refresh without scope keeps the grant's scopes: %d %v", status, body)
	}
}

// TestOnlineAccess: an online_access refresh token works while the user's
// session lasts and stops when the user signs out.
func TestOnlineAccess(t *testing.T) {
	h := newHarness(t)
	h.client(oauth.ClientSpec{ID: "app", RedirectURIs: []string{appRedirect}})
	conf := h.appConfig("app", "user/*.rs", "online_access")
	v := oauth2.GenerateVerifier()
	b := h.browser()
	loc := h.authorize(b, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("aud", h.fhir)), "", nil)
	_, tok := h.post("/auth/token", exchangeForm(loc.Query().Get("code"), v, appRedirect), "", "")
	rt, _ := tok["refresh_token"].(string)
	if rt == "" {
		t.Fatalf("no refresh token for online_access: %v", tok)
	}
	status, body := h.post("/auth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"app"}}, "", "")
	if status != 200 {
		t.Fatalf("refresh while signed in: %d %v", status, body)
	}
	_, page := h.do(b, "GET", h.base+"/auth/signin", nil)
	if resp, _ := h.do(b, "POST", h.base+"/auth/signout", hidden(page)); resp.StatusCode != 200 {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	status, body = h.post("/auth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}, "client_id": {"app"}}, "", "")
	if status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("refresh after sign-out: %d %v", status, body)
	}
}

// TestDiscovery checks the SMART configuration and OIDC discovery documents
// (https://hl7.org/fhir/smart-app-launch/STU2.2/conformance.html).
func TestDiscovery(t *testing.T) {
	h := newHarness(t)
	req, _ := http.NewRequest("GET", h.fhir+"/.well-known/smart-configuration", nil)
	req.Header.Set("Accept", "application/fhir+xml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("smart-configuration: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, k := range []string{"issuer", "jwks_uri", "authorization_endpoint", "token_endpoint", "introspection_endpoint", "revocation_endpoint", "userinfo_endpoint"} {
		if u, _ := cfg[k].(string); !strings.HasPrefix(u, h.base+"/") && u != h.base {
			t.Errorf("%s = %v: not an absolute URL of this server", k, cfg[k])
		}
	}
	caps := toJSON(cfg["capabilities"])
	for _, c := range []string{"launch-ehr", "launch-standalone", "client-public", "client-confidential-symmetric", "client-confidential-asymmetric",
		"sso-openid-connect", "context-ehr-patient", "context-ehr-encounter", "context-standalone-patient", "permission-offline",
		"permission-online", "permission-patient", "permission-user", "permission-v1", "permission-v2", "authorize-post"} {
		if !strings.Contains(caps, `"`+c+`"`) {
			t.Errorf("capability %s missing", c)
		}
	}
	for _, c := range []string{"context-standalone-encounter", "smart-app-state"} {
		if strings.Contains(caps, `"`+c+`"`) {
			t.Errorf("capability %s listed but not implemented", c)
		}
	}
	if toJSON(cfg["token_endpoint_auth_signing_alg_values_supported"]) != `["RS384","ES384"]` {
		t.Errorf("signing algs %v", cfg["token_endpoint_auth_signing_alg_values_supported"])
	}
	resp, err = http.Get(h.base + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var oidc map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&oidc)
	resp.Body.Close()
	if oidc["issuer"] != cfg["issuer"] || oidc["jwks_uri"] != cfg["jwks_uri"] || toJSON(oidc["id_token_signing_alg_values_supported"]) != `["RS256"]` {
		t.Errorf("openid-configuration %v", oidc)
	}
	// The JWKS holds bare public keys.
	resp, err = http.Get(cfg["jwks_uri"].(string))
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	_ = json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	if len(set.Keys) == 0 || !set.Keys[0].IsPublic() || set.Keys[0].Algorithm != "RS256" {
		t.Errorf("JWKS %+v", set)
	}
}

// totpNow computes the current RFC 6238 code of a base32 seed, as an
// authenticator app would.
func totpNow(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	seed, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		t.Fatal(err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(at.Unix()/30))
	m := hmac.New(sha1.New, seed)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[off:off+4])&0x7fffffff)%1000000)
}

var setupKeyRE = regexpMust(`id="setup-key" type="text" readonly value="([A-Z2-7]+)"`)

// TestAdminSecondFactorPages: an administrator enrols an authenticator at
// first sign-in, through the pages, and needs a code at the next sign-in.
func TestAdminSecondFactorPages(t *testing.T) {
	h := newHarness(t)
	h.client(oauth.ClientSpec{ID: "app", RedirectURIs: []string{appRedirect}})
	if _, err := oauth.CreateUser(context.Background(), h.db, oauth.UserSpec{Username: "root", Password: "admin password",
		Kind: "practitioner", FHIRUser: "Practitioner/dr", Memberships: []store.Membership{{Org: "org-a", Role: "admin"}}}, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	conf := h.appConfig("app", "openid", "user/*.rs")
	signIn := func(b *http.Client) string {
		v := oauth2.GenerateVerifier()
		_, page := h.do(b, "GET", conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("aud", h.fhir)), nil)
		f := hidden(page)
		f.Set("username", "root")
		f.Set("password", "admin password")
		_, page = h.do(b, "POST", h.base+"/auth/signin", f)
		return page
	}
	b := h.browser()
	page := signIn(b)
	m := setupKeyRE.FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, `<label for="code">Verification code</label>`) || !strings.Contains(page, "otpauth://totp/") {
		t.Fatalf("first sign-in of an administrator: no enrolment page\n%s", page)
	}
	f := hidden(page)
	f.Set("code", "000000")
	if totpNow(t, m[1], h.clock.Now()) == "000000" {
		f.Set("code", "111111")
	}
	resp, page := h.do(b, "POST", h.base+"/auth/totp", f)
	if resp.StatusCode != 401 || !strings.Contains(page, "not correct") {
		t.Fatalf("wrong code: %d", resp.StatusCode)
	}
	f = hidden(page)
	f.Set("code", totpNow(t, m[1], h.clock.Now()))
	resp, page = h.do(b, "POST", h.base+"/auth/totp", f)
	if resp.StatusCode != 200 || !strings.Contains(page, ">Allow</button>") {
		t.Fatalf("right code: %d\n%s", resp.StatusCode, page)
	}
	// Next sign-in (another browser): a code, no enrolment.
	page = signIn(h.browser())
	if setupKeyRE.MatchString(page) || !strings.Contains(page, "Verification code") {
		t.Errorf("second sign-in: enrolment shown again or no code asked\n%s", page)
	}
}

// TestClientEnabledPerOrganization: an app enabled at org-b cannot be used
// by a user of org-a; an app enabled at org-a carries only the user's
// org-a roles.
func TestClientEnabledPerOrganization(t *testing.T) {
	h := newHarness(t)
	h.client(oauth.ClientSpec{ID: "b-app", RedirectURIs: []string{appRedirect}, Orgs: []string{"org-b"}})
	h.client(oauth.ClientSpec{ID: "a-app", RedirectURIs: []string{appRedirect}, Orgs: []string{"org-a"}})
	if _, err := oauth.CreateUser(context.Background(), h.db, oauth.UserSpec{Username: "both", Password: "both password",
		Kind: "practitioner", FHIRUser: "Practitioner/dr", Memberships: []store.Membership{{Org: "org-a", Role: "nurse"}, {Org: "org-b", Role: "physician"}}}, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	// doc (org-a only) and the org-b app: denied.
	conf := h.appConfig("b-app", "user/*.rs")
	v := oauth2.GenerateVerifier()
	b := h.browser()
	_, page := h.do(b, "GET", conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("aud", h.fhir)), nil)
	f := hidden(page)
	f.Set("username", "doc")
	f.Set("password", "correct horse")
	_, page = h.do(b, "POST", h.base+"/auth/signin", f)
	f = hidden(page)
	f.Set("decision", "allow")
	f.Add("scope", "user/*.rs")
	resp, _ := h.do(b, "POST", h.base+"/auth/consent", f)
	if loc, _ := url.Parse(resp.Header.Get("Location")); loc == nil || loc.Query().Get("error") != "access_denied" {
		t.Errorf("an app of another organization: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A user of both organizations through the org-a app: only the org-a role.
	conf = h.appConfig("a-app", "user/*.rs")
	v = oauth2.GenerateVerifier()
	b = h.browser()
	_, page = h.do(b, "GET", conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("aud", h.fhir)), nil)
	f = hidden(page)
	f.Set("username", "both")
	f.Set("password", "both password")
	_, page = h.do(b, "POST", h.base+"/auth/signin", f)
	f = hidden(page)
	f.Set("decision", "allow")
	f.Add("scope", "user/*.rs")
	resp, _ = h.do(b, "POST", h.base+"/auth/consent", f)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	tok, err := conf.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	if _, who := h.whoami(tok.AccessToken); len(who.Orgs) != 1 || who.Orgs[0] != "org-a:nurse" {
		t.Errorf("memberships carried by the org-a app's token: %v", who.Orgs)
	}
}

// TestSignInReplacesSession: signing in again ends the browser's previous
// session, so a cookie planted before sign-in (session fixation) or left
// behind is worthless afterwards.
func TestSignInReplacesSession(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	signIn := func() string {
		f := url.Values{"username": {"doc"}, "password": {"correct horse"}}
		if resp, _ := h.do(b, "POST", h.base+"/auth/signin", f); resp.StatusCode != 200 {
			t.Fatalf("sign-in: %d", resp.StatusCode)
		}
		u, _ := url.Parse(h.base)
		for _, c := range b.Jar.Cookies(u) {
			if c.Name == "continuum_session" {
				return c.Value
			}
		}
		t.Fatal("no session cookie")
		return ""
	}
	first := signIn()
	second := signIn()
	if first == second {
		t.Fatal("a second sign-in kept the session id")
	}
	if _, err := h.o.Session(context.Background(), first); err == nil {
		t.Error("the previous session survives a new sign-in")
	}
	if _, err := h.o.Session(context.Background(), second); err != nil {
		t.Errorf("the new session: %v", err)
	}
}

// TestAccountPage: a user changes their password (the current one is
// required) and sets up an optional second factor, which later sign-ins ask
// for.
func TestAccountPage(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	if resp, _ := h.do(b, "POST", h.base+"/auth/signin", url.Values{"username": {"doc"}, "password": {"correct horse"}}); resp.StatusCode != 200 {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	resp, page := h.do(b, "GET", h.base+"/auth/account", nil)
	for _, label := range []string{`<label for="current">Current password</label>`, `<label for="new">New password</label>`,
		`<label for="confirm">Confirm new password</label>`, `>Change password</button>`, `>Set up a second factor</button>`} {
		if !strings.Contains(page, label) {
			t.Fatalf("account page (%d) lacks %s\n%s", resp.StatusCode, label, page)
		}
	}
	csrf := hidden(page).Get("csrf")
	change := func(current, next string) (int, string) {
		resp, page := h.do(b, "POST", h.base+"/auth/password", url.Values{"csrf": {csrf}, "current": {current}, "new": {next}, "confirm": {next}})
		return resp.StatusCode, page
	}
	if status, page := change("wrong one", "a new password"); status != 401 || !strings.Contains(page, "current password is not correct") {
		t.Errorf("wrong current password: %d", status)
	}
	if status, _ := change("correct horse", "short"); status != 400 {
		t.Errorf("too short a new password: %d", status)
	}
	if status, page := change("correct horse", "a new password"); status != 200 || !strings.Contains(page, "Your password is changed") {
		t.Fatalf("change: %d", status)
	}
	if _, err := h.o.SignIn(context.Background(), "doc", "correct horse", ""); err == nil {
		t.Error("the old password still works")
	}
	// Optional second factor.
	resp, page = h.do(b, "POST", h.base+"/auth/mfa", url.Values{"csrf": {csrf}})
	m := setupKeyRE.FindStringSubmatch(page)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("enrolment page: %d", resp.StatusCode)
	}
	f := hidden(page)
	f.Set("code", totpNow(t, m[1], h.clock.Now()))
	if resp, _ := h.do(b, "POST", h.base+"/auth/totp", f); resp.StatusCode != 200 {
		t.Fatalf("confirming the code: %d", resp.StatusCode)
	}
	sess, err := h.o.SignIn(context.Background(), "doc", "a new password", "")
	if err != nil || sess.MFADone() {
		t.Errorf("after enrolment a sign-in must ask for the code: %v, done %v", err, sess != nil && sess.MFADone())
	}
}

var secretRE = regexpMust(`id="new-secret" type="text" readonly value="([A-Za-z0-9_-]+)"`)

// TestAdminClientsPage: an administrator (with their second factor) lists
// and registers apps; the new app's secret is shown once and works; other
// users are refused.
func TestAdminClientsPage(t *testing.T) {
	h := newHarness(t)
	h.client(oauth.ClientSpec{ID: "b-only", RedirectURIs: []string{appRedirect}, Orgs: []string{"org-b"}})
	h.client(oauth.ClientSpec{ID: "a-app", RedirectURIs: []string{appRedirect}, Orgs: []string{"org-a"}})
	if _, err := oauth.CreateUser(context.Background(), h.db, oauth.UserSpec{Username: "root", Password: "admin password",
		Kind: "practitioner", FHIRUser: "Practitioner/dr", Memberships: []store.Membership{{Org: "org-a", Role: "admin"}}}, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	// A physician is refused.
	doc := h.browser()
	h.do(doc, "POST", h.base+"/auth/signin", url.Values{"username": {"doc"}, "password": {"correct horse"}})
	if resp, _ := h.do(doc, "GET", h.base+"/auth/admin/clients", nil); resp.StatusCode != 403 {
		t.Errorf("a physician on the apps page: %d", resp.StatusCode)
	}
	// The administrator signs in with their second factor.
	b := h.browser()
	_, page := h.do(b, "POST", h.base+"/auth/signin", url.Values{"username": {"root"}, "password": {"admin password"}})
	m := setupKeyRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no enrolment:\n%s", page)
	}
	f := hidden(page)
	f.Set("code", totpNow(t, m[1], h.clock.Now()))
	h.do(b, "POST", h.base+"/auth/totp", f)
	resp, page := h.do(b, "GET", h.base+"/auth/admin/clients", nil)
	if resp.StatusCode != 200 || !strings.Contains(page, `<th scope="row">a-app</th>`) || strings.Contains(page, "b-only") {
		t.Fatalf("apps page: %d (org-a's apps only)\n%s", resp.StatusCode, page)
	}
	for _, label := range []string{`<label for="id">Client ID</label>`, `<label for="redirect_uris">Redirect URIs (one per line)</label>`, `>Register app</button>`} {
		if !strings.Contains(page, label) {
			t.Errorf("the form lacks %s", label)
		}
	}
	csrf := hidden(page).Get("csrf")
	resp, page = h.do(b, "POST", h.base+"/auth/admin/clients", url.Values{"csrf": {csrf}, "id": {"viewer"}, "name": {"Chart Viewer"},
		"redirect_uris": {"https://viewer.example.org/cb\r\nhttp://localhost:3000/cb\r\n"}, "confidential": {"yes"}})
	sm := secretRE.FindStringSubmatch(page)
	if resp.StatusCode != 200 || sm == nil || !strings.Contains(page, `<th scope="row">viewer</th>`) {
		t.Fatalf("registering: %d\n%s", resp.StatusCode, page)
	}
	c, err := h.db.Client(context.Background(), "viewer")
	if err != nil || len(c.RedirectURIs) != 2 || len(c.Orgs) != 1 || c.Orgs[0] != "org-a" || strings.Contains(c.SecretHash, sm[1]) {
		t.Fatalf("stored client %+v %v", c, err)
	}
	if status, _ := h.post("/auth/introspect", url.Values{"token": {"x"}}, "viewer", sm[1]); status != 200 {
		t.Errorf("the shown secret does not authenticate the client: %d", status)
	}
	if resp, page := h.do(b, "POST", h.base+"/auth/admin/clients", url.Values{"csrf": {csrf}, "id": {"evil"},
		"redirect_uris": {"http://evil.example.org/cb"}}); resp.StatusCode != 400 || !strings.Contains(page, "cannot be registered") {
		t.Errorf("an http redirect URI off loopback: %d", resp.StatusCode)
	}
}
