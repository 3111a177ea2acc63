package authweb

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/continuum-ehr/continuum/internal/oauth"
)

func TestAuthorizeRefusals(t *testing.T) {
	h := newHarness(t)
	h.client(oauth.ClientSpec{ID: "app", RedirectURIs: []string{appRedirect}})
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	good := url.Values{"response_type": {"code"}, "client_id": {"app"}, "redirect_uri": {appRedirect}, "scope": {"openid patient/*.rs launch/patient"},
		"state": {"xyz"}, "aud": {h.fhir}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	with := func(k, v string) url.Values {
		q := url.Values{}
		for kk, vv := range good {
			q[kk] = vv
		}
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
		return q
	}
	for _, tc := range []struct {
		name string
		q    url.Values
		// wantError is the error sent to the redirect URI; "" means a 400
		// page and no redirect at all.
		wantError string
	}{
		{"unknown client", with("client_id", "nobody"), ""},
		{"redirect not registered", with("redirect_uri", "https://evil.example.org/cb"), ""},
		{"redirect prefix", with("redirect_uri", appRedirect+"/more"), ""},
		{"redirect with extra query", with("redirect_uri", appRedirect+"?next=https://evil.example.org"), ""},
		{"no redirect", with("redirect_uri", ""), ""},
		{"plain PKCE", with("code_challenge_method", "plain"), "invalid_request"},
		{"no PKCE", with("code_challenge", ""), "invalid_request"},
		{"no PKCE method", with("code_challenge_method", ""), "invalid_request"},
		{"wrong aud", with("aud", "https://other.example.org/fhir"), "invalid_request"},
		{"no aud", with("aud", ""), "invalid_request"},
		{"implicit", with("response_type", "token"), "unsupported_response_type"},
		{"launch scope without launch", with("scope", "launch openid"), "invalid_request"},
		{"unknown launch", with("launch", "forged"), "invalid_request"},
		{"malformed scope", with("scope", "patient/Observation.xyz"), "invalid_scope"},
		{"no state", with("state", ""), "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, page := h.do(h.browser(), "GET", h.base+"/auth/authorize?"+tc.q.Encode(), nil)
			loc := resp.Header.Get("Location")
			if tc.wantError == "" {
				if resp.StatusCode != 400 || loc != "" || !strings.Contains(page, "not valid") {
					t.Errorf("%d, Location %q; want a 400 page and no redirect", resp.StatusCode, loc)
				}
				return
			}
			u, _ := url.Parse(loc)
			if resp.StatusCode != 303 || !strings.HasPrefix(loc, appRedirect+"?") || u.Query().Get("error") != tc.wantError ||
				u.Query().Get("state") != tc.q.Get("state") {
				t.Errorf("%d to %q; want %s back to the app with the state", resp.StatusCode, loc, tc.wantError)
			}
		})
	}
	// The good request reaches the sign-in page.
	if resp, page := h.do(h.browser(), "GET", h.base+"/auth/authorize?"+good.Encode(), nil); resp.StatusCode != 200 || !strings.Contains(page, "Sign in") {
		t.Errorf("the valid request: %d", resp.StatusCode)
	}
	// So does the same request POSTed (SMART authorize-post).
	if resp, page := h.do(h.browser(), "POST", h.base+"/auth/authorize", good); resp.StatusCode != 200 || !strings.Contains(page, "Sign in") {
		t.Errorf("the valid request POSTed: %d", resp.StatusCode)
	}
}

// codeFor runs a launch to the code and returns it with the verifier.
func (h *harness) codeFor(conf *oauth2.Config) (code, verifier string) {
	h.t.Helper()
	verifier = oauth2.GenerateVerifier()
	loc := h.authorize(h.browser(), conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("aud", h.fhir)), "", nil)
	return loc.Query().Get("code"), verifier
}

func exchangeForm(code, verifier, redirect string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
		"redirect_uri": {redirect}, "client_id": {"app"}}
}

func TestCodeRefusals(t *testing.T) {
	h := newHarness(t)
	h.client(oauth.ClientSpec{ID: "app", RedirectURIs: []string{appRedirect, "http://localhost:9999/other"}})
	h.client(oauth.ClientSpec{ID: "app2", RedirectURIs: []string{appRedirect}})
	conf := h.appConfig("app", "openid", "user/*.rs", "offline_access")

	t.Run("reuse revokes", func(t *testing.T) {
		code, v := h.codeFor(conf)
		status, tok := h.post("/auth/token", exchangeForm(code, v, appRedirect), "", "")
		if status != 200 {
			t.Fatalf("first exchange: %d %v", status, tok)
		}
		if s, _ := h.whoami(tok["access_token"].(string)); s != 200 {
			t.Fatalf("token before reuse: %d", s)
		}
		status, body := h.post("/auth/token", exchangeForm(code, v, appRedirect), "", "")
		if status != 400 || body["error"] != "invalid_grant" {
			t.Errorf("second exchange: %d %v", status, body)
		}
		if s, _ := h.whoami(tok["access_token"].(string)); s != 401 {
			t.Errorf("the first exchange's access token survives the code's reuse: %d", s)
		}
		status, body = h.post("/auth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {"app"}}, "", "")
		if status != 400 || body["error"] != "invalid_grant" {
			t.Errorf("the first exchange's refresh token survives the code's reuse: %d %v", status, body)
		}
	})
	for _, tc := range []struct {
		name string
		form func(code, v string) url.Values
	}{
		{"PKCE mismatch", func(code, _ string) url.Values { return exchangeForm(code, oauth2.GenerateVerifier(), appRedirect) }},
		{"no verifier", func(code, _ string) url.Values { return exchangeForm(code, "", appRedirect) }},
		{"redirect mismatch", func(code, v string) url.Values { return exchangeForm(code, v, "http://localhost:9999/other") }},
		{"another client", func(code, v string) url.Values {
			f := exchangeForm(code, v, appRedirect)
			f.Set("client_id", "app2")
			return f
		}},
		{"forged code", func(_, v string) url.Values { return exchangeForm("forged", v, appRedirect) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, v := h.codeFor(conf)
			status, body := h.post("/auth/token", tc.form(code, v), "", "")
			if status != 400 || body["error"] != "invalid_grant" {
				t.Errorf("%d %v, want invalid_grant", status, body)
			}
		})
	}
	t.Run("expired code", func(t *testing.T) {
		code, v := h.codeFor(conf)
		h.clock.Advance(2 * time.Minute)
		status, body := h.post("/auth/token", exchangeForm(code, v, appRedirect), "", "")
		if status != 400 || body["error"] != "invalid_grant" {
			t.Errorf("%d %v", status, body)
		}
	})
	t.Run("repeated parameter", func(t *testing.T) {
		f := exchangeForm("a", "b", appRedirect)
		f.Add("code", "c")
		if status, body := h.post("/auth/token", f, "", ""); status != 400 || body["error"] != "invalid_request" {
			t.Errorf("%d %v", status, body)
		}
	})
	t.Run("unsupported grant", func(t *testing.T) {
		if status, body := h.post("/auth/token", url.Values{"grant_type": {"password"}, "client_id": {"app"}}, "", ""); status != 400 || body["error"] != "unsupported_grant_type" {
			t.Errorf("%d %v", status, body)
		}
	})
}

func TestBearerRefusals(t *testing.T) {
	h := newHarness(t)
	h.client(oauth.ClientSpec{ID: "app", RedirectURIs: []string{appRedirect}})
	conf := h.appConfig("app", "openid", "fhirUser", "user/*.rs")
	code, v := h.codeFor(conf)
	_, tok := h.post("/auth/token", exchangeForm(code, v, appRedirect), "", "")
	at := tok["access_token"].(string)
	parts := strings.Split(at, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	widened := strings.Replace(string(payload), `"scope":"openid fhirUser user/*.rs"`, `"scope":"openid fhirUser user/*.cruds"`, 1)
	if widened == string(payload) {
		t.Fatalf("test setup: scope claim not found in %s", payload)
	}
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(widened)) + "." + parts[2]
	sig := []byte(parts[2])
	sig[10] ^= 1
	badSig := parts[0] + "." + parts[1] + "." + string(sig)
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt"}`)) + "." + parts[1] + "."

	// A token signed by a stranger's key that claims our kid.
	stranger, _ := rsa.GenerateKey(rand.Reader, 2048)
	var hdr struct {
		KID string `json:"kid"`
	}
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	_ = json.Unmarshal(hb, &hdr)
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: stranger, KeyID: hdr.KID}}, nil)
	var claims map[string]any
	_ = json.Unmarshal(payload, &claims)
	forged, _ := jwt.Signed(signer).Claims(claims).Serialize()

	if s, _ := h.whoami(at); s != 200 {
		t.Fatalf("the genuine token: %d", s)
	}
	for name, token := range map[string]string{
		"missing": "", "malformed": "not-a-token", "tampered claims": tampered, "tampered signature": badSig,
		"alg none": none, "stranger's key": forged, "id_token (wrong audience)": tok["id_token"].(string),
	} {
		if s, _ := h.whoami(token); s != 401 {
			t.Errorf("%s: %d, want 401", name, s)
		}
	}
	req, _ := http.NewRequest("GET", h.fhir+"/whoami", nil)
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("doc:correct horse")))
	if _, err := h.web.Authenticate(req); err == nil {
		t.Error("Basic credentials authenticated a FHIR request")
	}

	h.clock.Advance(5*time.Minute + time.Minute)
	if s, _ := h.whoami(at); s != 401 {
		t.Errorf("expired token: %d", s)
	}
}

func TestRevocation(t *testing.T) {
	h := newHarness(t)
	h.client(oauth.ClientSpec{ID: "app", RedirectURIs: []string{appRedirect}})
	h.client(oauth.ClientSpec{ID: "app2", RedirectURIs: []string{appRedirect}})
	conf := h.appConfig("app", "user/*.rs", "offline_access")
	code, v := h.codeFor(conf)
	_, tok := h.post("/auth/token", exchangeForm(code, v, appRedirect), "", "")
	at := tok["access_token"].(string)
	// Another client cannot revoke it (the answer is the same 200).
	if status, _ := h.post("/auth/revoke", url.Values{"token": {at}, "client_id": {"app2"}}, "", ""); status != 200 {
		t.Errorf("revocation by another client: %d", status)
	}
	if s, _ := h.whoami(at); s != 200 {
		t.Fatalf("another client revoked the token: %d", s)
	}
	if status, _ := h.post("/auth/revoke", url.Values{"token": {tok["refresh_token"].(string)}, "client_id": {"app"}}, "", ""); status != 200 {
		t.Errorf("revocation: %d", status)
	}
	if s, _ := h.whoami(at); s != 401 {
		t.Errorf("revoking the refresh token left its access token working: %d", s)
	}
	if status, _ := h.post("/auth/revoke", url.Values{"token": {"unknown"}, "client_id": {"app"}}, "", ""); status != 200 {
		t.Errorf("revoking an unknown token: %d, want 200 (RFC 7009 §2.2)", status)
	}
}

// assertion signs a client assertion for the token endpoint.
func assertion(t *testing.T, key any, alg jose.SignatureAlgorithm, kid, clientID, aud, jti string, exp time.Time) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: clientID, Subject: clientID, Audience: jwt.Audience{aud},
		ID: jti, Expiry: jwt.NewNumericDate(exp)}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func jwksOf(t *testing.T, keys map[string]any) string {
	t.Helper()
	var set jose.JSONWebKeySet
	for kid, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k, KeyID: kid, Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBackendServices(t *testing.T) {
	h := newHarness(t)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	h.client(oauth.ClientSpec{ID: "bulk", Scopes: "system/*.rs", Orgs: []string{"org-a"},
		JWKS: jwksOf(t, map[string]any{"r1": rsaKey.Public(), "e1": ecKey.Public()})})
	// The same service registered by JWKS URL, served over loopback.
	jwksSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(jwksOf(t, map[string]any{"r1": rsaKey.Public()})))
	}))
	defer jwksSrv.Close()
	h.client(oauth.ClientSpec{ID: "bulk-url", Scopes: "system/*.rs", JWKSURL: jwksSrv.URL})
	tokenURL := h.base + "/auth/token"
	now := h.clock.Now()
	grant := func(client, a, scope string) (int, map[string]any) {
		return h.post("/auth/token", url.Values{"grant_type": {"client_credentials"}, "scope": {scope},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}}, "", "")
	}
	rs384 := assertion(t, rsaKey, jose.RS384, "r1", "bulk", tokenURL, "j1", now.Add(4*time.Minute))
	status, tok := grant("bulk", rs384, "system/*.rs system/Patient.cruds patient/*.rs")
	if status != 200 || tok["scope"] != "system/*.rs" || tok["refresh_token"] != nil {
		t.Fatalf("RS384 assertion: %d %v", status, tok)
	}
	if s, who := h.whoami(tok["access_token"].(string)); s != 200 || who.Kind != "backend" || who.Client != "bulk" ||
		len(who.Orgs) != 1 || who.Orgs[0] != "org-a" || who.User != "" {
		t.Errorf("backend principal: %d %+v", s, who)
	}
	if status, tok := grant("bulk", assertion(t, ecKey, jose.ES384, "e1", "bulk", tokenURL, "j2", now.Add(time.Minute)), "system/Observation.rs"); status != 200 || tok["scope"] != "system/Observation.rs" {
		t.Errorf("ES384 assertion: %d %v", status, tok)
	}
	if status, tok := grant("bulk-url", assertion(t, rsaKey, jose.RS384, "r1", "bulk-url", tokenURL, "j1", now.Add(time.Minute)), "system/*.rs"); status != 200 {
		t.Errorf("assertion checked against a JWKS URL: %d %v", status, tok)
	}
	// A jku header naming another key set is refused.
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS384, Key: jose.JSONWebKey{Key: rsaKey, KeyID: "r1"}},
		(&jose.SignerOptions{}).WithHeader("jku", "https://evil.example.org/jwks"))
	jku, _ := jwt.Signed(signer).Claims(jwt.Claims{Issuer: "bulk", Subject: "bulk", Audience: jwt.Audience{tokenURL}, ID: "j11",
		Expiry: jwt.NewNumericDate(now.Add(time.Minute))}).Serialize()
	for _, tc := range []struct {
		name, assertion, scope, want string
	}{
		{"foreign jku", jku, "system/*.rs", "invalid_client"},
		{"replayed jti", rs384, "system/*.rs", "invalid_client"},
		{"wrong audience", assertion(t, rsaKey, jose.RS384, "r1", "bulk", h.fhir, "j3", now.Add(time.Minute)), "system/*.rs", "invalid_client"},
		{"expired", assertion(t, rsaKey, jose.RS384, "r1", "bulk", tokenURL, "j4", now.Add(-time.Minute)), "system/*.rs", "invalid_client"},
		{"exp too far ahead", assertion(t, rsaKey, jose.RS384, "r1", "bulk", tokenURL, "j5", now.Add(time.Hour)), "system/*.rs", "invalid_client"},
		{"unregistered key", assertion(t, other, jose.RS384, "r1", "bulk", tokenURL, "j6", now.Add(time.Minute)), "system/*.rs", "invalid_client"},
		{"RS256 not allowed", assertion(t, rsaKey, jose.RS256, "r1", "bulk", tokenURL, "j7", now.Add(time.Minute)), "system/*.rs", "invalid_client"},
		{"unknown client", assertion(t, rsaKey, jose.RS384, "r1", "nobody", tokenURL, "j8", now.Add(time.Minute)), "system/*.rs", "invalid_client"},
		{"no system scope", assertion(t, rsaKey, jose.RS384, "r1", "bulk", tokenURL, "j9", now.Add(time.Minute)), "patient/*.rs user/*.rs", "invalid_scope"},
		{"scope beyond registration", assertion(t, rsaKey, jose.RS384, "r1", "bulk", tokenURL, "j10", now.Add(time.Minute)), "system/Patient.c", "invalid_scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := grant("bulk", tc.assertion, tc.scope)
			if body["error"] != tc.want || status == 200 {
				t.Errorf("%d %v, want %s", status, body, tc.want)
			}
		})
	}
}

func TestOperatorGrant(t *testing.T) {
	h := newHarness(t)
	h.client(oauth.ClientSpec{ID: "ops", Secret: "operator-secret-0123", Scopes: "system/*.cruds"})
	h.client(oauth.ClientSpec{ID: "app", RedirectURIs: []string{appRedirect}})
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.cruds"}}
	status, tok := h.post("/auth/token", form, "ops", "operator-secret-0123")
	if status != 200 || tok["token_type"] != "Bearer" || tok["scope"] != "system/*.cruds" {
		t.Fatalf("operator grant: %d %v", status, tok)
	}
	if s, who := h.whoami(tok["access_token"].(string)); s != 200 || who.Kind != "backend" || who.Client != "ops" {
		t.Errorf("operator principal: %d %+v", s, who)
	}
	req, _ := http.NewRequest("POST", h.base+"/auth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("ops", "wrong-secret-0123456")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("wrong secret: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	post := url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.cruds"}, "client_id": {"ops"}, "client_secret": {"operator-secret-0123"}}
	if status, body := h.post("/auth/token", post, "", ""); status != 400 || body["error"] != "unauthorized_client" {
		t.Errorf("operator grant with client_secret_post: %d %v", status, body)
	}
	if status, body := h.post("/auth/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"}, "client_id": {"app"}}, "", ""); status != 400 || body["error"] != "unauthorized_client" {
		t.Errorf("client_credentials for a public app: %d %v", status, body)
	}
	// The SMART configuration does not advertise the operator grant's
	// symmetric client_credentials; it lists what SMART apps use.
	resp, err = http.Get(h.fhir + "/.well-known/smart-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&cfg)
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" || cfg["token_endpoint"] != h.base+"/auth/token" ||
		!strings.Contains(toJSON(cfg["code_challenge_methods_supported"]), `"S256"`) || strings.Contains(toJSON(cfg["code_challenge_methods_supported"]), "plain") {
		t.Errorf("smart-configuration: %v", cfg)
	}
	_ = context.Background
}

func toJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestCORSPreflight(t *testing.T) {
	h := newHarness(t)
	req, _ := http.NewRequest("OPTIONS", h.base+"/auth/token", nil)
	req.Header.Set("Origin", "https://app.example.org")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}

// TestTokenHeaders: token responses, successful or not, are never cached
// (RFC 6749 §5.1).
func TestTokenHeaders(t *testing.T) {
	h := newHarness(t)
	h.client(oauth.ClientSpec{ID: "ops", Secret: "operator-secret-0123", Scopes: "system/*.rs"})
	for _, secret := range []string{"operator-secret-0123", "wrong-secret-0123456"} {
		req, _ := http.NewRequest("POST", h.base+"/auth/token", strings.NewReader("grant_type=client_credentials&scope=system%2F*.rs"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("ops", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%d: headers %v", resp.StatusCode, resp.Header)
		}
	}
}

// TestDisabledUser: disabling an account revokes its apps' tokens at once
// and refuses its sign-in like any failed one.
func TestDisabledUser(t *testing.T) {
	h := newHarness(t)
	h.client(oauth.ClientSpec{ID: "app", RedirectURIs: []string{appRedirect}})
	code, v := h.codeFor(h.appConfig("app", "user/*.rs", "offline_access"))
	_, tok := h.post("/auth/token", exchangeForm(code, v, appRedirect), "", "")
	at := tok["access_token"].(string)
	if s, _ := h.whoami(at); s != 200 {
		t.Fatalf("before: %d", s)
	}
	u, err := h.db.UserByUsername(context.Background(), "doc")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.db.SetDisabled(context.Background(), u.ID, true, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if s, _ := h.whoami(at); s != 401 {
		t.Errorf("a disabled user's access token: %d", s)
	}
	if status, body := h.post("/auth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {"app"}}, "", ""); status != 400 {
		t.Errorf("a disabled user's refresh: %d %v", status, body)
	}
	if _, err := h.o.SignIn(context.Background(), "doc", "correct horse", ""); !errors.Is(err, oauth.ErrSignIn) {
		t.Errorf("a disabled user's sign-in: %v", err)
	}
}
