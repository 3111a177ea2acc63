package app

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is an io.Writer safe for a command writing from several
// goroutines (serve's logger) while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// run calls Main like the binary does and returns its exit code and output.
func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb lockedBuffer
	code = Main(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestMainCommands(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{"no command", nil, 2, nil, []string{"usage: continuum COMMAND", "serve", "validate"}},
		{"unknown command", []string{"frobnicate"}, 2, nil, []string{`unknown command "frobnicate"`}},
		{"help", []string{"help"}, 0, []string{"serve", "validate", "version", "help"}, nil},
		{"--help", []string{"--help"}, 0, []string{"commands:"}, nil},
		{"help serve", []string{"help", "serve"}, 0, []string{"usage: continuum serve", "-addr", "CONTINUUM_ADDR", "-base-url", "-database-url", "CONTINUUM_DATABASE_URL_FILE"}, nil},
		{"serve -h", []string{"serve", "-h"}, 0, []string{"usage: continuum serve"}, nil},
		{"help validate", []string{"help", "validate"}, 0, []string{"usage: continuum validate", "-quiet"}, nil},
		{"help help", []string{"help", "help"}, 0, []string{"usage: continuum help"}, nil},
		{"help unknown", []string{"help", "nope"}, 2, nil, []string{`unknown command "nope"`}},
		{"version", []string{"version"}, 0, []string{"continuum ", "go1."}, nil},
		{"--version", []string{"--version"}, 0, []string{"continuum "}, nil},
		{"version extra", []string{"version", "x"}, 2, nil, []string{"takes no arguments"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "", tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, stdout, stderr)
			}
			for _, s := range tc.wantStdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tc.wantStderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
		})
	}
}

func TestVersionFromLinker(t *testing.T) {
	old := version
	t.Cleanup(func() { version = old })
	version = "v9.8.7"
	if _, out, _ := run(t, "", "version"); !strings.HasPrefix(out, "continuum v9.8.7") {
		t.Errorf("version output %q, want the -ldflags version", out)
	}
}
