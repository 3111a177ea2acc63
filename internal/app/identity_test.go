package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestIdentityCommands runs org, user, client and launch on an empty data
// directory, as an operator would before the first serve, then serve on
// it: the operator grant gets a token and the server accepts it.
func TestIdentityCommands(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	pw := writeFile(t, dir, "pw", "correct horse battery\n")
	short := writeFile(t, dir, "short", "abc\n")
	secret := writeFile(t, dir, "secret", "operator-secret-0123456789\n")

	for _, tc := range []struct {
		args     []string
		wantCode int
		want     string // in stdout (code 0) or stderr
	}{
		{[]string{"user", "create", "--data", data, "--username", "alice", "--password-file", pw, "--role", "physician"}, 0, "linked to Practitioner/"},
		{[]string{"user", "create", "--data", data, "--username", "alice", "--password-file", pw, "--role", "nurse"}, 1, "taken"},
		{[]string{"user", "create", "--data", data, "--username", "bob", "--password-file", pw, "--role", "surgeon"}, 2, "unknown role"},
		{[]string{"user", "create", "--data", data, "--username", "bob", "--password-file", short, "--role", "nurse"}, 2, "shorter than 8"},
		{[]string{"user", "create", "--data", data, "--username", "bob", "--password-file", pw, "--role", "nurse", "--org", "nowhere"}, 1, "Organization/nowhere"},
		{[]string{"org", "create", "--data", data, "--id", "acme", "--name", "Acme Clinic"}, 0, "Organization/acme (version 1)"},
		{[]string{"org", "create", "--data", data, "--id", "bad id", "--name", "X"}, 2, "--id"},
		{[]string{"user", "create", "--data", data, "--username", "bob", "--password-file", pw, "--role", "admin", "--org", "acme"}, 0, "linked to Practitioner/"},
		{[]string{"user", "create", "--data", data, "--username", "pat", "--password-file", pw, "--patient", "nope"}, 1, "Patient/nope"},
		{[]string{"user", "passwd", "--data", data, "--username", "alice", "--password-file", pw}, 0, "lockout is lifted"},
		{[]string{"user", "passwd", "--data", data, "--username", "ghost", "--password-file", pw}, 1, "no user"},
		{[]string{"user", "disable", "--data", data, "--username", "bob"}, 0, "bob is disabled"},
		{[]string{"user", "enable", "--data", data, "--username", "bob"}, 0, "bob is enabled"},
		{[]string{"user", "disable", "--data", data, "--username", "ghost"}, 1, "no user"},
		{[]string{"client", "create", "--data", data, "--id", "ops", "--secret-file", secret, "--scope", "system/*.cruds"}, 0, "operator client"},
		{[]string{"client", "create", "--data", data, "--id", "ops", "--secret-file", secret, "--scope", "system/*.cruds"}, 1, "exists already"},
		{[]string{"client", "create", "--data", data, "--id", "app", "--redirect-uri", "http://localhost:9000/cb", "--launch-uri", "http://localhost:9000/launch"}, 0, "public app"},
		{[]string{"client", "create", "--data", data, "--id", "evil", "--redirect-uri", "http://evil.example.org/cb"}, 1, "https"},
		{[]string{"client", "create", "--data", data, "--id", "nos", "--secret-file", secret}, 1, "--scope"},
		{[]string{"launch", "--data", data, "--client", "app", "--patient", "nope"}, 1, "Patient/nope"},
		{[]string{"launch", "--data", data, "--client", "ops", "--patient", "nope"}, 1, "no launch URI"},
		{[]string{"org", "frobnicate"}, 2, "subcommand"},
	} {
		code, stdout, stderr := run(t, "", tc.args...)
		out := stdout
		if tc.wantCode != 0 {
			out = stderr
		}
		if code != tc.wantCode || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d\nstdout: %s\nstderr: %s\nwant exit %d and %q", tc.args, code, stdout, stderr, tc.wantCode, tc.want)
		}
	}
	if st, err := os.Stat(data); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("the data directory the first command created: %v %v", st, err)
	}

	// serve on the same data directory.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", data}, strings.NewReader(""), io.Discard, &stderr)
	}()
	var base string
	for deadline := time.Now().Add(20 * time.Second); base == ""; time.Sleep(10 * time.Millisecond) {
		if m := listeningURL.FindStringSubmatch(stderr.String()); m != nil {
			base = m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", stderr.String())
		}
	}
	defer func() {
		cancel()
		<-done
	}()
	if st, err := os.Stat(filepath.Join(data, secretKeyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("generated secret key: %v %v", st, err)
	}
	resp, err := http.Get(base + "/fhir/.well-known/smart-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var smart struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&smart)
	resp.Body.Close()
	if smart.TokenEndpoint != base+"/auth/token" {
		t.Fatalf("token endpoint %q", smart.TokenEndpoint)
	}
	req, _ := http.NewRequest("POST", smart.TokenEndpoint, strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("ops", "operator-secret-0123456789")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		Scope       string `json:"scope"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != 200 || tok.AccessToken == "" || tok.Scope != "system/*.rs" {
		t.Fatalf("operator grant: %d %+v", resp.StatusCode, tok)
	}

	// CORS for browser apps on the FHIR API and discovery (SMART 2.2
	// app-launch.html#considerations-for-cross-origin-resource-sharing-cors-support).
	for _, path := range []string{"/fhir/metadata", "/fhir/.well-known/smart-configuration"} {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Origin", "https://app.example.org")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("GET %s from another origin: %d, ACAO %q", path, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	}
	pre, _ := http.NewRequest("OPTIONS", base+"/fhir/Patient/x", nil)
	pre.Header.Set("Origin", "https://app.example.org")
	pre.Header.Set("Access-Control-Request-Method", "PUT")
	pre.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	if resp, err := http.DefaultClient.Do(pre); err != nil || resp.StatusCode != 204 ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight of a FHIR write: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// launch while the server runs: a patient written through the API.
	preq, _ := http.NewRequest("PUT", base+"/fhir/Patient/p1", strings.NewReader(`{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}]}`))
	preq.Header.Set("Content-Type", "application/fhir+json")
	preq.Header.Set("Authorization", "Bearer "+operatorToken(t, base, "ops", "operator-secret-0123456789")) // system/*.cruds
	if resp, err := http.DefaultClient.Do(preq); err != nil || resp.StatusCode >= 300 {
		t.Fatalf("PUT Patient: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	code, stdout, errOut := run(t, "", "launch", "--data", data, "--base-url", base, "--client", "app", "--patient", "p1")
	if code != 0 || !regexp.MustCompile(`^http://localhost:9000/launch\?iss=`+regexp.QuoteMeta(url.QueryEscape(base+"/fhir"))+`&launch=[A-Za-z0-9_-]{43}\n$`).MatchString(stdout) {
		t.Errorf("launch: exit %d %q %s", code, stdout, errOut)
	}
}
