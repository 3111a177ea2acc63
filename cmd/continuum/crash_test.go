//go:build unix

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
)

// TestCrashServe is the durability test at the process level
// (docs/storage.md, "Durability"): it starts `continuum serve`, runs
// concurrent HTTP writers (creates, updates and transaction Bundles), records
// every write the server acknowledged (200/201 with an ETag), kills the
// process with SIGKILL while they write, starts it again on the same data
// and checks that every acknowledged write is there, at the acknowledged
// version or later. On SQLite always, on PostgreSQL when
// CONTINUUM_TEST_DATABASE_URL is set (CI).
func TestCrashServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it")
	}
	bin := buildBinary(t)
	t.Run("sqlite", func(t *testing.T) {
		crashServe(t, bin, []string{"--data", t.TempDir()})
	})
	t.Run("postgres", func(t *testing.T) {
		u := sqltest.PostgresSchemaURL(t)
		crashServe(t, bin, []string{"--data", t.TempDir(), "--database-url", u})
	})
}

// buildBinary builds ./cmd/continuum into a temporary directory.
func buildBinary(t *testing.T, args ...string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the binary: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "continuum")
	build := exec.Command(goBin, append(append([]string{"build", "-o", bin}, args...), ".")...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// served is a running `continuum serve`.
type served struct {
	cmd     *exec.Cmd
	bin     string
	storage []string // --data / --database-url, for other commands on the same store
	base    string   // http://127.0.0.1:port
	exited  chan struct{}
	mu      sync.Mutex
	log     []string
}

func (s *served) logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.log, "\n")
}

// startServe starts `continuum serve` on a free port with the storage flags
// and waits until /healthz answers.
func startServe(t *testing.T, bin string, storage []string) *served {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, storage...)...)
	cmd.Env = cleanEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &served{cmd: cmd, bin: bin, storage: storage, exited: make(chan struct{})}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.exited
	})
	addr := make(chan string, 1)
	addrRE := regexp.MustCompile(`msg="continuum listening" url=http://(127\.0\.0\.1:\d+)`)
	go func() {
		defer func() {
			_ = cmd.Wait()
			close(s.exited)
		}()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			l := sc.Text()
			s.mu.Lock()
			s.log = append(s.log, l)
			s.mu.Unlock()
			if m := addrRE.FindStringSubmatch(l); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case a := <-addr:
		s.base = "http://" + a
	case <-s.exited:
		t.Fatalf("serve exited before listening:\n%s", s.logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start:\n%s", s.logs())
	}
	if err := waitHealthy(s.base + "/healthz"); err != nil {
		t.Fatalf("%v\n%s", err, s.logs())
	}
	return s
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *served) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the process did not die after SIGKILL")
	}
}

// fhirClient talks to the FHIR API of a served process. It is the one place
// that sets up HTTP access: when the server publishes SMART discovery
// (/fhir/.well-known/smart-configuration), the API wants a bearer token, and
// the client gets one as an operator would (architecture.md §6): `continuum
// client create` with a system scope, then client_credentials with
// client_secret_basic at the discovered token endpoint. A server without
// discovery serves the API without authentication.
type fhirClient struct {
	base  string
	http  *http.Client
	token string
}

func newFHIRClient(t *testing.T, s *served) *fhirClient {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 32
	t.Cleanup(tr.CloseIdleConnections)
	c := &fhirClient{base: s.base + "/fhir", http: &http.Client{Transport: tr, Timeout: 20 * time.Second}}

	resp, body, err := c.do(context.Background(), "GET", "/.well-known/smart-configuration", "")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusNotFound {
		// No authorization server: the API refuses everyone (deny by
		// default, docs/security.md), so there is nothing to write with.
		probe, _, err := c.do(context.Background(), "GET", "/Patient/probe", "")
		if err != nil {
			t.Fatal(err)
		}
		if probe.StatusCode == http.StatusUnauthorized {
			t.Skip("the FHIR API needs a bearer token and this server publishes no SMART discovery to get one")
		}
		return c
	}
	var disco struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &disco) != nil || disco.TokenEndpoint == "" {
		t.Fatalf("SMART configuration: %d %s", resp.StatusCode, body)
	}
	id := fmt.Sprintf("crash-test-%d", time.Now().UnixNano())
	secret := fmt.Sprintf("s-%d-%d", time.Now().UnixNano(), os.Getpid())
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	create := exec.Command(s.bin, append([]string{"client", "create", "--id", id, "--secret-file", secretFile,
		"--scope", "system/*.cruds"}, s.storage...)...)
	create.Env = cleanEnv()
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("continuum client create: %v\n%s", err, out)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.cruds"}}
	req, err := http.NewRequest("POST", disco.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret)) // RFC 6749 §2.3.1
	tresp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer tresp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	tb, _ := io.ReadAll(tresp.Body)
	if tresp.StatusCode != 200 || json.Unmarshal(tb, &tok) != nil || tok.AccessToken == "" {
		t.Fatalf("token endpoint: %d %s", tresp.StatusCode, tb)
	}
	c.token = tok.AccessToken
	return c
}

func (c *fhirClient) do(ctx context.Context, method, path, body string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, strings.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	req.Header.Set("Accept", "application/fhir+json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// acks records acknowledged writes: "Type/id" → the highest version
// acknowledged.
type acks struct {
	mu sync.Mutex
	v  map[string]int
	n  int
}

func (a *acks) add(ref string, version int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if version > a.v[ref] {
		a.v[ref] = version
	}
	a.n++
}

func (a *acks) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}

var etagRE = regexp.MustCompile(`^W/"(\d+)"$`)

func etagVersion(etag string) (int, bool) {
	m := etagRE.FindStringSubmatch(etag)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// locationRef turns a Location (…/fhir/Type/id/_history/n) or a Bundle
// response location (Type/id/_history/n) into "Type/id".
func locationRef(loc string) (string, bool) {
	loc = loc[strings.LastIndex(loc, "/fhir/")+1:]
	loc = strings.TrimPrefix(loc, "fhir/")
	parts := strings.Split(loc, "/")
	if len(parts) != 4 || parts[2] != "_history" {
		return "", false
	}
	return parts[0] + "/" + parts[1], true
}

// writer writes until ctx ends or the server stops answering, recording
// what is acknowledged. It owns the patients it creates, so their versions
// only grow.
func writer(ctx context.Context, c *fhirClient, w int, acked *acks) {
	var mine []string // ids of this writer's patients
	for i := 0; ctx.Err() == nil; i++ {
		switch {
		case i%3 == 1 && len(mine) > 0:
			id := mine[i%len(mine)]
			resp, _, err := c.do(ctx, "PUT", "/Patient/"+id,
				fmt.Sprintf(`{"resourceType":"Patient","id":%q,"identifier":[{"system":"urn:crash","value":"%d-%d"}],"active":true}`, id, w, i))
			if err != nil {
				return
			}
			if v, ok := etagVersion(resp.Header.Get("ETag")); ok && resp.StatusCode == 200 {
				acked.add("Patient/"+id, v)
			}
		case i%3 == 2:
			resp, body, err := c.do(ctx, "POST", "", fmt.Sprintf(`{"resourceType":"Bundle","type":"transaction","entry":[
				{"fullUrl":"urn:uuid:%[1]s","resource":{"resourceType":"Patient","identifier":[{"system":"urn:crash","value":"tx-%[2]d-%[3]d"}]},
				 "request":{"method":"POST","url":"Patient"}},
				{"resource":{"resourceType":"Observation","status":"final","code":{"text":"crash %[2]d-%[3]d"},"subject":{"reference":"urn:uuid:%[1]s"}},
				 "request":{"method":"POST","url":"Observation"}}]}`, fmt.Sprintf("%08d-0000-4000-8000-%012d", w, i), w, i))
			if err != nil {
				return
			}
			if resp.StatusCode != 200 {
				continue
			}
			var b struct {
				Entry []struct {
					Response struct {
						Location, Etag string
					}
				}
			}
			if json.Unmarshal(body, &b) != nil {
				continue
			}
			for _, e := range b.Entry {
				ref, ok1 := locationRef(e.Response.Location)
				v, ok2 := etagVersion(e.Response.Etag)
				if ok1 && ok2 {
					acked.add(ref, v)
				}
			}
		default:
			resp, _, err := c.do(ctx, "POST", "/Patient",
				fmt.Sprintf(`{"resourceType":"Patient","identifier":[{"system":"urn:crash","value":"%d-%d"}]}`, w, i))
			if err != nil {
				return
			}
			v, ok1 := etagVersion(resp.Header.Get("ETag"))
			ref, ok2 := locationRef(resp.Header.Get("Location"))
			if resp.StatusCode == 201 && ok1 && ok2 {
				acked.add(ref, v)
				mine = append(mine, strings.TrimPrefix(ref, "Patient/"))
			}
		}
	}
}

func crashServe(t *testing.T, bin string, storage []string) {
	first := startServe(t, bin, storage)
	c := newFHIRClient(t, first)
	acked := &acks{v: map[string]int{}}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	const writers = 8
	for w := range writers {
		wg.Go(func() { writer(ctx, c, w, acked) })
	}
	// Kill mid-stream: once a good number of writes is acknowledged (or a
	// time limit passes on a slow machine), with writers still busy.
	deadline := time.Now().Add(5 * time.Second)
	for acked.count() < 400 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	first.kill(t)
	cancel()
	wg.Wait()
	want := acked.v // the writers are done: no more changes
	if len(want) < 20 {
		t.Fatalf("only %d resources acknowledged before the kill:\n%s", len(want), first.logs())
	}

	second := startServe(t, bin, storage)
	c = newFHIRClient(t, second)
	ctx = context.Background()
	missing := 0
	for ref, v := range want {
		resp, body, err := c.do(ctx, "GET", "/"+ref, "")
		if err != nil {
			t.Fatal(err)
		}
		got, ok := etagVersion(resp.Header.Get("ETag"))
		if resp.StatusCode != 200 || !ok || got < v {
			missing++
			if missing <= 10 {
				t.Errorf("%s: acknowledged version %d, after restart %d ETag %q: %.200s", ref, v, resp.StatusCode, resp.Header.Get("ETag"), body)
			}
			continue
		}
		// The acknowledged version itself is readable too.
		resp, _, err = c.do(ctx, "GET", fmt.Sprintf("/%s/_history/%d", ref, v), "")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 {
			t.Errorf("%s/_history/%d: %d after restart", ref, v, resp.StatusCode)
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged resources lost", missing, len(want))
	}
	updated := 0
	for _, v := range want {
		if v > 1 {
			updated++
		}
	}
	t.Logf("%d acknowledged writes (%d resources, %d of them updated) survived SIGKILL", acked.count(), len(want), updated)
}
