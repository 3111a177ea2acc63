package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// fhirclientVersion is the official SMART JavaScript client the browser
// test runs (https://github.com/smart-on-fhir/client-js).
const fhirclientVersion = "2.6.3"

// needTool skips the test when a tool is missing, or fails it in CI, which
// must run it.
func needTool(t *testing.T, what string, ok bool) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but %s is missing: CI must run the SMART browser test", what)
	}
	t.Skipf("%s is missing; the SMART browser test needs it", what)
}

// smartApp installs fhirclient under testdata/smartapp (once) and serves the
// test app from there.
func smartApp(t *testing.T) *httptest.Server {
	t.Helper()
	dir, _ := filepath.Abs(filepath.Join("testdata", "smartapp"))
	bundle := filepath.Join(dir, "node_modules", "fhirclient", "build", "fhir-client.js")
	if _, err := os.Stat(bundle); err != nil {
		_, err := exec.LookPath("npm")
		needTool(t, "npm", err == nil)
		cmd := exec.Command("npm", "install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--prefix", dir, "fhirclient@"+fhirclientVersion)
		if out, err := cmd.CombinedOutput(); err != nil {
			needTool(t, "npm install fhirclient@"+fhirclientVersion+" ("+strings.TrimSpace(string(out))+")", false)
		}
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return srv
}

func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CONTINUUM_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	needTool(t, "chromium (/usr/bin/chromium; or set CONTINUUM_CHROMIUM)", false)
	return ""
}

// startServe runs `continuum serve` on a free port over data and returns
// its base URL; it stops when the test ends.
func startServe(t *testing.T, data string, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data}, extra...), strings.NewReader(""), io.Discard, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if m := listeningURL.FindStringSubmatch(stderr.String()); m != nil {
			return m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", stderr.String())
		}
	}
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := run(t, "", args...)
	if code != 0 {
		t.Fatalf("%v: exit %d\n%s%s", args, code, stdout, stderr)
	}
	return stdout
}

// operatorToken gets a token with the operator grant.
func operatorToken(t *testing.T, base, id, secret string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/auth/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.cruds"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	if tok.AccessToken == "" {
		t.Fatalf("operator grant: %d", resp.StatusCode)
	}
	return tok.AccessToken
}

func putResource(t *testing.T, base, token, path, body string) {
	t.Helper()
	req, _ := http.NewRequest("PUT", base+"/fhir/"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("PUT %s: %d %s", path, resp.StatusCode, b)
	}
}

// appResult is what the test app reports after a launch.
type appResult struct {
	Patient, Encounter, Family, FHIRUser, IDToken, Scope string
	Banner                                               *bool
}

// TestSMARTAppInBrowser: the official SMART JavaScript client (npm
// fhirclient) completes an EHR launch and a standalone launch against the
// assembled server in headless Chromium, driven through the pages by their
// labels, and the id_token it receives verifies against the JWKS.
func TestSMARTAppInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	exe := chromium(t)
	app := smartApp(t)

	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	pw := writeFile(t, dir, "pw", "correct horse battery\n")
	secret := writeFile(t, dir, "secret", "operator-secret-0123456789\n")
	mustRun(t, "user", "create", "--data", data, "--username", "doc", "--password-file", pw, "--role", "physician")
	mustRun(t, "client", "create", "--data", data, "--id", "ops", "--secret-file", secret, "--scope", "system/*.cruds")
	mustRun(t, "client", "create", "--data", data, "--id", "smartapp", "--redirect-uri", app.URL+"/index.html", "--launch-uri", app.URL+"/launch.html")
	base := startServe(t, data)
	fhirBase := base + "/fhir"
	tok := operatorToken(t, base, "ops", "operator-secret-0123456789")
	putResource(t, base, tok, "Patient/p1", `{"resourceType":"Patient","id":"p1","name":[{"given":["Amy"],"family":"Shaw"}]}`)
	putResource(t, base, tok, "Encounter/e1", `{"resourceType":"Encounter","id":"e1","status":"in-progress","class":{"code":"AMB"},"subject":{"reference":"Patient/p1"}}`)
	launchURL := strings.TrimSpace(mustRun(t, "launch", "--data", data, "--base-url", base, "--client", "smartapp", "--patient", "p1", "--encounter", "e1"))

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.Headless,
		chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	// The first action starts the browser; it must not run under a
	// timeout (that would stop the browser). Later phases get their own.
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()

	// By label, like a screen-reader user.
	field := func(label string) string {
		return `//input[@id=//label[normalize-space()="` + label + `"]/@for]`
	}
	button := func(name string) string { return `//button[normalize-space()="` + name + `"]` }
	result := func() appResult {
		t.Helper()
		// Poll by hand: the page navigates (redirects) while we wait, which
		// ends a chromedp.Poll.
		var out string
		for deadline := time.Now().Add(30 * time.Second); out == ""; time.Sleep(100 * time.Millisecond) {
			out, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById("out") || {}).textContent || ""`))
			if time.Now().After(deadline) {
				page, _ := chromedp.Run(ctx, chromedp.OuterHTML("html"))
				t.Fatalf("the app did not finish:\n%s", page)
			}
		}
		if strings.HasPrefix(out, "ERROR") {
			t.Fatalf("the app failed: %s", out)
		}
		var r appResult
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("app output %q: %v", out, err)
		}
		return r
	}

	start := time.Now()
	// EHR launch: sign in, allow.
	err := chromedp.Do(ctx,
		chromedp.Navigate(launchURL),
		chromedp.WaitVisible(field("Username")),
		chromedp.SendKeys(field("Username"), "doc"),
		chromedp.SendKeys(field("Password"), "correct horse battery"),
		chromedp.Click(button("Sign in")),
		chromedp.WaitVisible(button("Allow")),
		chromedp.Click(button("Allow")),
	)
	if err != nil {
		page, _ := chromedp.Run(ctx, chromedp.OuterHTML("html"))
		t.Fatalf("EHR launch: %v\n%s", err, page)
	}
	ehr := result()
	if ehr.Patient != "p1" || ehr.Encounter != "e1" || ehr.Family != "Shaw" || ehr.Banner == nil || *ehr.Banner ||
		!strings.HasPrefix(ehr.FHIRUser, "Practitioner/") {
		t.Errorf("EHR launch: %+v", ehr)
	}
	verifyIDToken(t, base, ehr.IDToken, "smartapp", fhirBase)

	t.Logf("EHR launch done in %v", time.Since(start))
	cancel()
	ctx, cancel = context.WithTimeout(bctx, 60*time.Second)
	defer cancel()

	// Standalone launch in the same browser: single sign-on, then the
	// patient picker, where the patient is a button named with their name.
	err = chromedp.Do(ctx,
		chromedp.Navigate(app.URL+"/launch.html?server="+url.QueryEscape(fhirBase)),
		chromedp.WaitVisible(button("Amy Shaw")),
		chromedp.Click(button("Amy Shaw")),
		chromedp.WaitVisible(button("Allow")),
		chromedp.Click(button("Allow")),
	)
	if err != nil {
		pctx, pcancel := context.WithTimeout(bctx, 5*time.Second)
		defer pcancel()
		page, _ := chromedp.Run(pctx, chromedp.OuterHTML("html"))
		loc, _ := chromedp.Run(pctx, chromedp.Location())
		t.Fatalf("standalone launch: %v\nat %s\n%s", err, loc, page)
	}
	sa := result()
	if sa.Patient != "p1" || sa.Encounter != "" || sa.Family != "Shaw" || sa.Banner == nil || !*sa.Banner {
		t.Errorf("standalone launch: %+v", sa)
	}
	verifyIDToken(t, base, sa.IDToken, "smartapp", fhirBase)
}

// verifyIDToken checks an id_token's signature against the server's JWKS,
// found through OIDC discovery, and its claims.
func verifyIDToken(t *testing.T, base, raw, clientID, fhirBase string) {
	t.Helper()
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	getJSON(t, base+"/.well-known/openid-configuration", &disc)
	var set jose.JSONWebKeySet
	getJSON(t, disc.JWKSURI, &set)
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("id_token: %v", err)
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("the id_token's key is not in the JWKS")
	}
	var c struct {
		jwt.Claims
		FHIRUser string `json:"fhirUser"`
	}
	if err := tok.Claims(keys[0].Key, &c); err != nil {
		t.Fatalf("id_token signature: %v", err)
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: disc.Issuer, AnyAudience: jwt.Audience{clientID}, Time: time.Now()}, time.Minute); err != nil {
		t.Errorf("id_token claims: %v", err)
	}
	if !strings.HasPrefix(c.FHIRUser, fhirBase+"/Practitioner/") || c.Subject == "" {
		t.Errorf("id_token fhirUser %q sub %q", c.FHIRUser, c.Subject)
	}
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}
