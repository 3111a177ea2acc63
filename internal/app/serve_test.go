package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/config"
	"github.com/continuum-ehr/continuum/internal/outcome"
)

func TestServeRefuses(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	data := filepath.Join(t.TempDir(), "data")
	for _, tc := range []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"postgres unreachable", []string{"--database-url", "postgres://u:hunter2@127.0.0.1:1/continuum?connect_timeout=5"}, 1, "cannot connect to PostgreSQL"},
		{"mllp not yet", []string{"--mllp-addr", "127.0.0.1:2575"}, 1, "MLLP listener (--mllp-addr) is not available yet"},
		{"address in use", []string{"--addr", busy.Addr().String()}, 1, "address already in use"},
		{"bad base url", []string{"--base-url", "ehr.example.org"}, 2, "--base-url"},
		{"bad timezone", []string{"--timezone", "Nowhere/Special"}, 2, "--timezone"},
		{"bad database scheme", []string{"--database-url", "mysql://h/db"}, 2, "--database-url"},
		{"tls half", []string{"--tls-cert", "x.pem"}, 2, "--tls-key go together"},
		{"extra argument", []string{"now"}, 2, "unexpected arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, "", append([]string{"serve", "--data", data, "--addr", "127.0.0.1:0"}, tc.args...)...)
			if code != tc.wantCode || !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, tc.wantCode, tc.wantStderr)
			}
			if strings.Contains(stderr, "hunter2") {
				t.Errorf("stderr leaks the database password:\n%s", stderr)
			}
		})
	}
}

var listeningURL = regexp.MustCompile(`msg="continuum listening" url=(\S+)`)

// TestServe runs `continuum serve` in process on a free port, with the base
// URL from the environment, and stops it by cancelling its context as
// SIGTERM does.
func TestServe(t *testing.T) {
	t.Setenv("CONTINUUM_BASE_URL", "https://ehr.example.org/")
	data := filepath.Join(t.TempDir(), "new", "data")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--demo"}, strings.NewReader(""), &stdout, &stderr)
	}()

	// The log names the public URL; the address bound is in addr=.
	var addr string
	deadline := time.Now().Add(10 * time.Second)
	for addr == "" {
		if m := regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`).FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d:\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if m := listeningURL.FindStringSubmatch(stderr.String()); m == nil || m[1] != "https://ehr.example.org" {
		t.Errorf("start log does not name the base URL:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "demo mode") {
		t.Errorf("--demo is not acknowledged:\n%s", stderr.String())
	}
	if st, err := os.Stat(data); err != nil || !st.IsDir() || st.Mode().Perm() != 0o700 {
		t.Errorf("data directory: %v, %v; want a new 0700 directory", st, err)
	}

	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "ok" {
		t.Errorf("/healthz: %d %q", resp.StatusCode, b)
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/fhir/metadata", nil)
	req.Host = "spoofed.example"
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"url": "https://ehr.example.org/fhir"`) || strings.Contains(string(b), "spoofed") {
		t.Errorf("metadata does not use the configured base URL:\n%s", b)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited with %d after cancel:\n%s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after cancel")
	}
	if !strings.Contains(stderr.String(), "msg=stopped") {
		t.Errorf("no stop line:\n%s", stderr.String())
	}
}

// TestStack checks the assembled server (newServer, as serve builds it) for
// what only the whole stack shows: 413 as an OperationOutcome, request ids
// and security headers on FHIR errors.
func TestStack(t *testing.T) {
	cfg := config.Default()
	cfg.MaxBytes = 1 << 10
	cfg.BaseURL = "http://127.0.0.1:8080"
	srv, err := newServer(cfg, nil, nil, nil, anyBearer{}, slog.New(slog.DiscardHandler), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	big := `{"resourceType":"Basic","id":"` + strings.Repeat("a", 2000) + `"}`
	for _, tc := range []struct {
		name       string
		method     string
		path       string
		body       io.Reader
		chunked    bool
		header     map[string]string
		wantStatus int
		wantBody   string
	}{
		{name: "oversized declared", method: "POST", path: "/fhir/$validate", body: strings.NewReader(big), wantStatus: 413, wantBody: `"too-long"`},
		{name: "oversized chunked", method: "POST", path: "/fhir/$validate", body: io.MultiReader(strings.NewReader(big)), chunked: true, wantStatus: 413, wantBody: `"too-long"`},
		{name: "within limit", method: "POST", path: "/fhir/Patient/$validate", body: strings.NewReader(validPatient), wantStatus: 200, wantBody: "All OK"},
		{name: "unknown path", method: "GET", path: "/fhir/Unknown/x/y/z", wantStatus: 404, wantBody: `"not-found"`},
		{name: "xml", method: "GET", path: "/fhir/metadata", header: map[string]string{"Accept": "application/fhir+xml"}, wantStatus: 406, wantBody: "OperationOutcome"},
		{name: "request id echoed", method: "GET", path: "/fhir/metadata", header: map[string]string{"X-Request-Id": "abc-123"}, wantStatus: 200, wantBody: "CapabilityStatement"},
		{name: "no token", method: "GET", path: "/fhir/Patient/x", header: map[string]string{"Authorization": ""}, wantStatus: 401, wantBody: `"login"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, ts.URL+tc.path, tc.body)
			if tc.chunked {
				req.ContentLength = -1
			}
			req.Header.Set("Authorization", "Bearer test")
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			if req.Header.Get("Authorization") == "" {
				req.Header.Del("Authorization")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus || !strings.Contains(string(b), tc.wantBody) {
				t.Errorf("%d %s, want %d with %q", resp.StatusCode, b, tc.wantStatus, tc.wantBody)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/fhir+json; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			id := resp.Header.Get("X-Request-Id")
			if want := tc.header["X-Request-Id"]; (want != "" && id != want) || id == "" {
				t.Errorf("X-Request-Id = %q, want %q (or a generated one)", id, want)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("missing security headers: %v", resp.Header)
			}
		})
	}
}

// anyBearer authenticates any bearer token as the system principal: the
// stack test is about the HTTP layers, not authorization.
type anyBearer struct{}

func (anyBearer) Authenticate(r *http.Request) (auth.Principal, error) {
	if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		return auth.NewSystem(), nil
	}
	return auth.Principal{}, outcome.New(outcome.Unauthorized, "login", "no access token")
}
