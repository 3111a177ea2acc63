package config

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// parse registers every flag group, like serve, and parses args with env.
func parse(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	c := Default()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.StorageFlags(fs)
	c.ServeFlags(fs)
	c.LimitFlags(fs)
	c.LogFlags(fs)
	err := c.Parse(fs, args, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	return c, err
}

func TestDefaults(t *testing.T) {
	c, err := parse(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.Data != "./continuum-data" || c.BaseURL != "" || c.MaxBytes != 64<<20 ||
		c.SessionIdle != 15*time.Minute || c.LogFormat != "text" || c.LogLevel != slog.LevelInfo || c.Location == nil {
		t.Errorf("defaults = %+v", c)
	}
}

func TestPrecedence(t *testing.T) {
	env := map[string]string{
		"CONTINUUM_ADDR":         "127.0.0.1:9000",
		"CONTINUUM_DATA":         "/env/data",
		"CONTINUUM_DEMO":         "true",
		"CONTINUUM_BASE_URL":     "https://ehr.example.org/",
		"CONTINUUM_TIMEZONE":     "Europe/Berlin",
		"CONTINUUM_SESSION_IDLE": "30m",
		"CONTINUUM_MAX_BYTES":    "2MiB",
		"CONTINUUM_LOG_FORMAT":   "json",
		"CONTINUUM_LOG_LEVEL":    "debug",
		"CONTINUUM_DATABASE_URL": "postgres://u:pw@db/continuum",
	}
	c, err := parse(t, []string{"--addr", "127.0.0.1:7000"}, env)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, got, want string }{
		{"flag beats env", c.Addr, "127.0.0.1:7000"},
		{"data from env", c.Data, "/env/data"},
		{"base url trailing slash trimmed", c.BaseURL, "https://ehr.example.org"},
		{"timezone", c.Location.String(), "Europe/Berlin"},
		{"log format", c.LogFormat, "json"},
		{"database url", c.DatabaseURL, "postgres://u:pw@db/continuum"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	if !c.Demo || c.SessionIdle != 30*time.Minute || c.MaxBytes != 2<<20 || c.LogLevel != slog.LevelDebug {
		t.Errorf("demo=%v idle=%v max=%d level=%v", c.Demo, c.SessionIdle, c.MaxBytes, c.LogLevel)
	}
}

func TestSecretFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "dburl")
	if err := os.WriteFile(f, []byte("postgres://u:s3cret@db/x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := parse(t, nil, map[string]string{"CONTINUUM_DATABASE_URL_FILE": f})
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != "postgres://u:s3cret@db/x" {
		t.Errorf("DatabaseURL = %q", c.DatabaseURL)
	}
	_, err = parse(t, nil, map[string]string{"CONTINUUM_DATABASE_URL_FILE": f, "CONTINUUM_DATABASE_URL": "postgres://x"})
	if err == nil || !strings.Contains(err.Error(), "both set") {
		t.Errorf("both variables: err = %v, want 'both set'", err)
	}
	_, err = parse(t, nil, map[string]string{"CONTINUUM_DATABASE_URL_FILE": filepath.Join(t.TempDir(), "missing")})
	if err == nil || !strings.Contains(err.Error(), "CONTINUUM_DATABASE_URL_FILE") {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestInvalid(t *testing.T) {
	dir := t.TempDir()
	cert := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(cert, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string // substring of the error
	}{
		{"addr", []string{"--addr", "8080"}, nil, "--addr"},
		{"base url relative", []string{"--base-url", "/fhir"}, nil, "--base-url: must be an absolute"},
		{"base url ftp", []string{"--base-url", "ftp://x"}, nil, "--base-url: must be an absolute"},
		{"base url query", []string{"--base-url", "https://x/?a=b"}, nil, "--base-url: must not contain a query"},
		{"base url empty query", []string{"--base-url", "https://x/?"}, nil, "--base-url: must not contain a query"},
		{"base url fragment", []string{"--base-url", "https://x/#f"}, nil, "--base-url: must not contain a fragment"},
		{"base url user", []string{"--base-url", "https://u:p@x/"}, nil, "--base-url: must not contain user info"},
		{"base url no host", []string{"--base-url", "http://"}, nil, "--base-url: must name a host"},
		{"timezone", []string{"--timezone", "Mars/Olympus"}, nil, "--timezone"},
		{"session idle", []string{"--session-idle", "1s"}, nil, "--session-idle"},
		{"tls half", []string{"--tls-cert", cert}, nil, "give both or neither"},
		{"tls missing key", []string{"--tls-cert", cert, "--tls-key", filepath.Join(dir, "nokey")}, nil, "--tls-key"},
		{"secret key file", []string{"--secret-key-file", dir}, nil, "--secret-key-file"},
		{"database scheme", []string{"--database-url", "mysql://u:hunter2@h/db"}, nil, "--database-url: must be a postgres://"},
		{"log format", []string{"--log-format", "xml"}, nil, "--log-format"},
		{"log level", []string{"--log-level", "loud"}, nil, "log-level"},
		{"max bytes", []string{"--max-bytes", "12"}, nil, "--max-bytes"},
		{"max bytes syntax", []string{"--max-bytes", "lots"}, nil, "max-bytes"},
		{"env names variable", nil, map[string]string{"CONTINUUM_SESSION_IDLE": "soon"}, "CONTINUUM_SESSION_IDLE"},
		{"env base url validated", nil, map[string]string{"CONTINUUM_BASE_URL": "example.org"}, "--base-url"},
		{"unknown flag", []string{"--nope"}, nil, "not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.args, tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	if _, err := parse(t, []string{"-h"}, nil); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("err = %v, want flag.ErrHelp", err)
	}
}

func TestDefaultBaseURL(t *testing.T) {
	for _, tc := range []struct {
		addr string
		tls  bool
		want string
	}{
		{"127.0.0.1:8080", false, "http://127.0.0.1:8080"},
		{"127.0.0.1:8443", true, "https://127.0.0.1:8443"},
		{":8080", false, "http://localhost:8080"},
		{"0.0.0.0:80", false, "http://localhost:80"},
		{"[::]:8080", false, "http://localhost:8080"},
		{"[::1]:8080", false, "http://[::1]:8080"},
		{"ehr.local:8080", false, "http://ehr.local:8080"},
	} {
		if got := DefaultBaseURL(tc.addr, tc.tls); got != tc.want {
			t.Errorf("DefaultBaseURL(%q, %v) = %q, want %q", tc.addr, tc.tls, got, tc.want)
		}
	}
}

func TestRedacted(t *testing.T) {
	for _, in := range []string{
		"postgres://continuum:hunter2@db.example.org:5432/continuum?sslmode=require",
		"postgres://db.example.org/continuum?user=continuum&password=hunter2",
	} {
		c := Default()
		c.DatabaseURL = in
		r := c.Redacted()
		if strings.Contains(r.DatabaseURL, "hunter2") || !strings.Contains(r.DatabaseURL, "db.example.org") {
			t.Errorf("Redacted(%q).DatabaseURL = %q", in, r.DatabaseURL)
		}
		var b strings.Builder
		slog.New(slog.NewTextHandler(&b, nil)).Info("config", "config", c)
		if strings.Contains(b.String(), "hunter2") {
			t.Errorf("logging the config leaks the password: %s", b.String())
		}
		if c.DatabaseURL != in {
			t.Errorf("Redacted modified the original")
		}
	}
}

func TestByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		str  string
	}{
		{"1024", 1024, "1KiB"},
		{"64MiB", 64 << 20, "64MiB"},
		{"1 GiB", 1 << 30, "1GiB"},
		{"1MB", 1e6, "1000000"},
		{"1500", 1500, "1500"},
	} {
		var b byteSize
		if err := b.Set(tc.in); err != nil || int64(b) != tc.want || b.String() != tc.str {
			t.Errorf("Set(%q) = %d (%s), %v; want %d (%s)", tc.in, b, b.String(), err, tc.want, tc.str)
		}
	}
	for _, in := range []string{"", "-1", "1TiB", "x", "99999999999GiB"} {
		var b byteSize
		if err := b.Set(in); err == nil {
			t.Errorf("Set(%q) = nil error", in)
		}
	}
}
