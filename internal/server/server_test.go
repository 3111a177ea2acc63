package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/reqid"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// lines returns the JSON log records written so far.
func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testErrorWriter stands in for rest.WriteError.
func testErrorWriter(w http.ResponseWriter, r *http.Request, err error) {
	oe := outcome.As(err)
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(oe.Kind.HTTPStatus())
	_, _ = w.Write(oe.OperationOutcome())
}

func newTestServer(t *testing.T, maxBody int64) (*httptest.Server, *syncBuffer) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok/{id}", func(w http.ResponseWriter, r *http.Request) {
		slog.New(reqid.Handler(slog.NewJSONHandler(io.Discard, nil))).InfoContext(r.Context(), "x")
		_, _ = w.Write([]byte("hello"))
	})
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) {
		panic("boom at secret-internal-place")
	})
	mux.HandleFunc("GET /late-panic", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("partial"))
		panic("late boom")
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			testErrorWriter(w, r, outcome.New(outcome.TooLarge, "too-long", "too large"))
			return
		}
		_, _ = w.Write(b)
	})
	mux.HandleFunc("GET /header", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
	})
	logs := &syncBuffer{}
	log := slog.New(reqid.Handler(slog.NewJSONHandler(logs, nil)))
	s, err := New(Options{Handler: mux, Logger: log, ErrorWriter: testErrorWriter, MaxBodyBytes: maxBody})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv, logs
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestRequestID(t *testing.T) {
	srv, logs := newTestServer(t, 0)
	for _, tc := range []struct {
		name, sent string
		echoed     bool
	}{
		{"generated", "", false},
		{"echoed", "client-id.42", true},
		{"too long replaced", strings.Repeat("a", 65), false},
		{"bad characters replaced", "a b<script>", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+"/ok/1", nil)
			if tc.sent != "" {
				req.Header.Set("X-Request-Id", tc.sent)
			}
			resp, _ := do(t, req)
			got := resp.Header.Get("X-Request-Id")
			if tc.echoed && got != tc.sent {
				t.Errorf("X-Request-Id = %q, want %q", got, tc.sent)
			}
			if !tc.echoed && (got == tc.sent || !reqid.Valid(got)) {
				t.Errorf("X-Request-Id = %q, want a fresh valid id", got)
			}
			found := false
			for _, l := range logs.lines(t) {
				if l["msg"] == "http request" && l["request_id"] == got {
					found = true
				}
			}
			if !found {
				t.Errorf("no access log line with request_id %q:\n%s", got, logs)
			}
		})
	}
}

func TestAccessLogHasNoPHI(t *testing.T) {
	srv, logs := newTestServer(t, 0)
	req, _ := http.NewRequest("GET", srv.URL+"/ok/pat-jane?name=Jane+Doe&birthdate=1970-01-01", nil)
	do(t, req)
	req, _ = http.NewRequest("GET", srv.URL+"/nowhere?name=Jane", nil)
	do(t, req)
	out := logs.String()
	for _, phi := range []string{"Jane", "1970", "pat-jane", "name="} {
		if strings.Contains(out, phi) {
			t.Errorf("log contains %q:\n%s", phi, out)
		}
	}
	var routes []string
	for _, l := range logs.lines(t) {
		if l["msg"] != "http request" {
			continue
		}
		routes = append(routes, l["route"].(string))
		for _, k := range []string{"method", "status", "duration", "bytes", "request_id"} {
			if _, ok := l[k]; !ok {
				t.Errorf("access log line lacks %s: %v", k, l)
			}
		}
	}
	if want := []string{"GET /ok/{id}", "unmatched"}; strings.Join(routes, "|") != strings.Join(want, "|") {
		t.Errorf("routes = %q, want %q", routes, want)
	}
}

func TestPanicRecovery(t *testing.T) {
	srv, logs := newTestServer(t, 0)
	req, _ := http.NewRequest("GET", srv.URL+"/panic", nil)
	resp, body := do(t, req)
	if resp.StatusCode != 500 || !strings.Contains(body, "OperationOutcome") || strings.Contains(body, "secret-internal-place") || strings.Contains(body, "goroutine") {
		t.Errorf("status %d body %s: want 500 OperationOutcome without panic details", resp.StatusCode, body)
	}
	if !strings.Contains(logs.String(), "secret-internal-place") || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("the log lacks the panic and its stack:\n%s", logs)
	}
	// A panic after the response started cannot become a 500: the
	// connection is cut instead of passing a truncated body as success.
	req, _ = http.NewRequest("GET", srv.URL+"/late-panic", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Errorf("late panic: body read cleanly, want a broken response")
		}
	}
	// The server still serves.
	req, _ = http.NewRequest("GET", srv.URL+"/ok/1", nil)
	if resp, _ := do(t, req); resp.StatusCode != 200 {
		t.Errorf("after panics: status %d", resp.StatusCode)
	}
}

func TestSecurityHeaders(t *testing.T) {
	srv, _ := newTestServer(t, 0)
	req, _ := http.NewRequest("GET", srv.URL+"/ok/1", nil)
	resp, _ := do(t, req)
	for k, want := range map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
		"X-Frame-Options":         "DENY",
		"Cache-Control":           "no-store",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if resp.Header.Get("Strict-Transport-Security") != "" {
		t.Errorf("HSTS on plain HTTP")
	}
	req, _ = http.NewRequest("GET", srv.URL+"/header", nil)
	if resp, _ := do(t, req); resp.Header.Get("Content-Security-Policy") != "default-src 'self'" {
		t.Errorf("a handler cannot replace the CSP: %q", resp.Header.Get("Content-Security-Policy"))
	}
}

func TestBodyLimit(t *testing.T) {
	srv, _ := newTestServer(t, 1024)
	big := strings.Repeat("x", 1025)
	for _, tc := range []struct {
		name    string
		body    io.Reader
		want    int
		chunked bool
	}{
		{"at limit", strings.NewReader(big[:1024]), 200, false},
		{"declared over limit", strings.NewReader(big), 413, false},
		{"chunked over limit", io.MultiReader(strings.NewReader(big)), 413, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", srv.URL+"/echo", tc.body)
			if tc.chunked {
				req.ContentLength = -1
			}
			resp, body := do(t, req)
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			if tc.want == 413 && !strings.Contains(body, "too-long") {
				t.Errorf("413 body is not the OperationOutcome: %s", body)
			}
		})
	}
}

// TestRunGracefulShutdown starts Run on a real listener, cancels its context
// while a request is in flight, and checks that the request completes, Run
// returns nil and the port is closed.
func TestRunGracefulShutdown(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		_, _ = w.Write([]byte("done"))
	})
	s, err := New(Options{Handler: mux, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx, ln) }()

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{string(b), err}
	}()
	<-started
	cancel()
	time.Sleep(50 * time.Millisecond) // let Shutdown close the listener
	close(release)
	if r := <-got; r.err != nil || r.body != "done" {
		t.Errorf("in-flight request: %q, %v; want it to finish", r.body, r.err)
	}
	select {
	case err := <-runErr:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Errorf("still accepting connections after shutdown")
	}
}

func TestNewBadTLS(t *testing.T) {
	_, err := New(Options{Handler: http.NewServeMux(), Logger: slog.New(slog.DiscardHandler), TLSCert: "/nonexistent/cert", TLSKey: "/nonexistent/key"})
	if err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("err = %v, want a TLS key pair error", err)
	}
}
