//go:build unix

package main

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBinary builds the binary as the README says, runs `continuum serve` in
// an empty directory with default settings (but a free port), waits for
// /healthz, sends SIGTERM and checks for a clean exit.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t, "-ldflags", "-X github.com/continuum-ehr/continuum/internal/app.version=v0.0.0-test")
	dir := t.TempDir()

	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "continuum v0.0.0-test") {
		t.Errorf("continuum version = %q, %v", out, err)
	}

	work := filepath.Join(dir, "work") // an "empty machine": no data directory yet
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0")
	cmd.Dir = work
	cmd.Env = cleanEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	// Read the log; the start line names the address bound.
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	addrRE := regexp.MustCompile(`msg="continuum listening" url=http://(127\.0\.0\.1:\d+)`)
	var addr string
	var logs []string
	timeout := time.After(20 * time.Second)
	for addr == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("serve exited before listening:\n%s", strings.Join(logs, "\n"))
			}
			logs = append(logs, l)
			if m := addrRE.FindStringSubmatch(l); m != nil {
				addr = m[1]
			}
		case <-timeout:
			t.Fatalf("serve did not start:\n%s", strings.Join(logs, "\n"))
		}
	}

	if err := waitHealthy("http://" + addr + "/healthz"); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(work, "continuum-data")); err != nil || !st.IsDir() {
		t.Errorf("./continuum-data was not created: %v", err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for l := range lines { // drain until the process closes stderr
		logs = append(logs, l)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM:\n%s", err, strings.Join(logs, "\n"))
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not exit after SIGTERM:\n%s", strings.Join(logs, "\n"))
	}
	if !strings.Contains(strings.Join(logs, "\n"), "msg=stopped") {
		t.Errorf("no clean stop in the log:\n%s", strings.Join(logs, "\n"))
	}
}

func waitHealthy(url string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && string(b) == "ok" {
				return nil
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cleanEnv is the test's environment without CONTINUUM_* settings, so
// serve runs on its defaults.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CONTINUUM_") {
			env = append(env, kv)
		}
	}
	return env
}
