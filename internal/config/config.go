// Package config is Continuum's typed configuration: command-line flags with
// CONTINUUM_* environment fallbacks, *_FILE variants for secrets, validation
// with messages that name the flag, and a redacted form for logs.
//
// Precedence is flag, then environment, then default. A flag's environment
// variable is CONTINUUM_ followed by its name in upper case with '-' as '_'
// (--base-url → CONTINUUM_BASE_URL). A secret (the database URL, which may
// hold a password) can instead be read from the file named by the variable
// with a _FILE suffix (CONTINUUM_DATABASE_URL_FILE), the convention of
// container secret mounts.
//
// There is no global configuration: a command builds a Config, registers the
// flag groups it needs on its own FlagSet, and passes the values down in
// each component's own options struct. docs/config.md lists every setting.
package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// EnvPrefix starts every environment variable Continuum reads.
const EnvPrefix = "CONTINUUM_"

// Config holds every setting of every command. A command registers only the
// groups it uses; the other fields keep their defaults.
type Config struct {
	// Storage (StorageFlags).
	Data        string // directory of the embedded store and local files
	DatabaseURL string // postgres://…; secret: may hold a password

	// Serving (ServeFlags).
	Addr          string         // HTTP listen address
	BaseURL       string         // public base of absolute URLs; "" until resolved with DefaultBaseURL
	Demo          bool           // load demo data on first start
	MLLPAddr      string         // HL7 v2 MLLP listen address; "" disables
	Timezone      string         // IANA zone of the clinic, or "Local"
	Location      *time.Location // Timezone, loaded by Validate
	SessionIdle   time.Duration  // idle timeout of signed-in sessions
	TLSCert       string         // PEM certificate chain file; with TLSKey enables native TLS
	TLSKey        string         // PEM private key file
	SecretKeyFile string         // file holding the key that encrypts signing keys at rest

	// Audit (AuditFlags).
	AuditKeyFile string // ed25519 key signing audit checkpoints; "" means <data>/audit.key

	// Limits (LimitFlags).
	MaxBytes int64 // largest accepted request body or input file

	// Logging (LogFlags).
	LogFormat string     // text | json
	LogLevel  slog.Level // debug | info | warn | error
}

// Defaults.
const (
	DefaultAddr        = "127.0.0.1:8080"
	DefaultData        = "./continuum-data"
	DefaultTimezone    = "Local"
	DefaultSessionIdle = 15 * time.Minute
	DefaultMaxBytes    = 64 << 20
)

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Data:        DefaultData,
		Addr:        DefaultAddr,
		Timezone:    DefaultTimezone,
		Location:    time.Local,
		SessionIdle: DefaultSessionIdle,
		MaxBytes:    DefaultMaxBytes,
		LogFormat:   "text",
		LogLevel:    slog.LevelInfo,
	}
}

// StorageFlags registers --data and --database-url, which every command that
// touches data accepts (architecture.md §6).
func (c *Config) StorageFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Data, "data", c.Data, usage("data", "`DIR` of the embedded SQLite store and local files, created if missing"))
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, usage("database-url", "PostgreSQL `URL` (postgres://user:pass@host/db); replaces the embedded store"))
}

// ServeFlags registers the settings of the server.
func (c *Config) ServeFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", c.Addr, usage("addr", "HTTP listen address `HOST:PORT`"))
	fs.StringVar(&c.BaseURL, "base-url", c.BaseURL, usage("base-url", "public base `URL` of every absolute URL the server emits (default http://<addr>, https with TLS)"))
	fs.BoolVar(&c.Demo, "demo", c.Demo, usage("demo", "load a demo organization, clinicians and patients on first start"))
	fs.StringVar(&c.MLLPAddr, "mllp-addr", c.MLLPAddr, usage("mllp-addr", "HL7 v2 MLLP listen address `HOST:PORT` (off when empty)"))
	fs.StringVar(&c.Timezone, "timezone", c.Timezone, usage("timezone", "IANA time `ZONE` of the clinic, e.g. Europe/Berlin"))
	fs.DurationVar(&c.SessionIdle, "session-idle", c.SessionIdle, usage("session-idle", "sign out sessions idle for this `DURATION`"))
	fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, usage("tls-cert", "PEM certificate chain `FILE`; with --tls-key serves HTTPS"))
	fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, usage("tls-key", "PEM private key `FILE`"))
	fs.StringVar(&c.SecretKeyFile, "secret-key-file", c.SecretKeyFile, usage("secret-key-file", "`FILE` holding the key that encrypts signing keys at rest"))
}

// AuditFlags registers --audit-key-file.
func (c *Config) AuditFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.AuditKeyFile, "audit-key-file", c.AuditKeyFile, usage("audit-key-file",
		"`FILE` of the ed25519 key that signs audit checkpoints, kept outside the database; created 0600 if missing (default <data>/audit.key)"))
}

// AuditKey returns the audit key file: AuditKeyFile, or audit.key in the
// data directory.
func (c Config) AuditKey() string {
	if c.AuditKeyFile != "" {
		return c.AuditKeyFile
	}
	return filepath.Join(c.Data, "audit.key")
}

// LimitFlags registers --max-bytes.
func (c *Config) LimitFlags(fs *flag.FlagSet) {
	fs.Var((*byteSize)(&c.MaxBytes), "max-bytes", usage("max-bytes", "largest accepted request body or input file: a `SIZE` such as 1048576, 512KiB or 64MiB"))
}

// LogFlags registers --log-format and --log-level.
func (c *Config) LogFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, usage("log-format", "log `FORMAT`: text or json"))
	fs.TextVar(&c.LogLevel, "log-level", c.LogLevel, usage("log-level", "minimum log `LEVEL`: debug, info, warn or error"))
}

// secret reports whether a flag's value must never be logged, and may be
// read from a file named by the _FILE variant of its environment variable.
func secret(flagName string) bool { return flagName == "database-url" }

// EnvName returns the environment variable of a flag.
func EnvName(flagName string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func usage(flagName, text string) string {
	if secret(flagName) {
		return fmt.Sprintf("%s (env %s or %s_FILE)", text, EnvName(flagName), EnvName(flagName))
	}
	return fmt.Sprintf("%s (env %s)", text, EnvName(flagName))
}

// LookupEnv reads an environment variable; os.LookupEnv in production, a map
// in tests.
type LookupEnv func(name string) (string, bool)

// Parse parses args into fs (whose flags were registered by c's *Flags
// methods), fills every flag not given on the command line from its
// environment variable, and validates the result. Errors name the flag or
// variable at fault; flag.ErrHelp is returned as is.
func (c *Config) Parse(fs *flag.FlagSet, args []string, env LookupEnv) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := applyEnv(fs, env); err != nil {
		return err
	}
	return c.Validate()
}

func applyEnv(fs *flag.FlagSet, env LookupEnv) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		name := EnvName(f.Name)
		v, ok := env(name)
		if secret(f.Name) {
			file, fok := env(name + "_FILE")
			switch {
			case ok && fok:
				errs = append(errs, fmt.Errorf("%s and %s_FILE are both set; use one", name, name))
				return
			case fok:
				b, err := os.ReadFile(file)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s_FILE: %w", name, err))
					return
				}
				// Secret files usually end with a newline that is not part of the secret.
				v, ok = strings.TrimRight(string(b), "\r\n"), true
				name += "_FILE"
			}
		}
		if !ok {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			if secret(f.Name) {
				err = errors.New("invalid value") // the parse error could quote the secret
			}
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	})
	return errors.Join(errs...)
}

// Validate checks every setting and loads Location. It reports all problems
// at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(flagName, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--%s: %s", flagName, fmt.Sprintf(format, args...)))
	}
	if c.Data == "" {
		bad("data", "must not be empty")
	}
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			// Never quote the value: it may hold a password.
			bad("database-url", "must be a postgres:// or postgresql:// URL")
		}
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr", "%q is not HOST:PORT", c.Addr)
	}
	if c.MLLPAddr != "" {
		if _, _, err := net.SplitHostPort(c.MLLPAddr); err != nil {
			bad("mllp-addr", "%q is not HOST:PORT", c.MLLPAddr)
		}
	}
	if c.BaseURL != "" {
		b, err := CheckBaseURL(c.BaseURL)
		if err != nil {
			bad("base-url", "%v", err)
		}
		c.BaseURL = b
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil || c.Timezone == "" {
		bad("timezone", "unknown time zone %q (want an IANA name such as Europe/Berlin, or Local)", c.Timezone)
	} else {
		c.Location = loc
	}
	if c.SessionIdle < time.Minute || c.SessionIdle > 24*time.Hour {
		bad("session-idle", "%v is outside 1m…24h", c.SessionIdle)
	}
	switch {
	case (c.TLSCert == "") != (c.TLSKey == ""):
		errs = append(errs, errors.New("--tls-cert and --tls-key go together: give both or neither"))
	case c.TLSCert != "":
		if err := readable(c.TLSCert); err != nil {
			bad("tls-cert", "%v", err)
		}
		if err := readable(c.TLSKey); err != nil {
			bad("tls-key", "%v", err)
		}
	}
	if c.SecretKeyFile != "" {
		if err := readable(c.SecretKeyFile); err != nil {
			bad("secret-key-file", "%v", err)
		}
	}
	if c.MaxBytes < 1<<10 {
		bad("max-bytes", "%d is below the minimum of 1KiB", c.MaxBytes)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log-format", "%q is not text or json", c.LogFormat)
	}
	return errors.Join(errs...)
}

func readable(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", name)
	}
	return nil
}

// TLS reports whether the server serves HTTPS itself.
func (c *Config) TLS() bool { return c.TLSCert != "" }
