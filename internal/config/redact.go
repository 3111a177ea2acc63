package config

import (
	"log/slog"
	"net/url"
)

// Redacted returns a copy of c that is safe to log: the database URL's
// password (in the user info or a password= query parameter, both of which
// libpq accepts) is replaced by "xxxxx".
func (c Config) Redacted() Config {
	c.DatabaseURL = redactURL(c.DatabaseURL)
	return c
}

func redactURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable, redacted)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// LogValue makes a Config safe to pass to slog directly: it is always logged
// redacted.
func (c Config) LogValue() slog.Value {
	r := c.Redacted()
	return slog.GroupValue(
		slog.String("data", r.Data),
		slog.String("database_url", r.DatabaseURL),
		slog.String("addr", r.Addr),
		slog.String("base_url", r.BaseURL),
		slog.Bool("demo", r.Demo),
		slog.String("mllp_addr", r.MLLPAddr),
		slog.String("timezone", r.Timezone),
		slog.Duration("session_idle", r.SessionIdle),
		slog.Bool("tls", r.TLS()),
		slog.Bool("secret_key_file", r.SecretKeyFile != ""),
		slog.String("audit_key_file", r.AuditKey()),
		slog.Int64("max_bytes", r.MaxBytes),
		slog.String("log_format", r.LogFormat),
		slog.String("log_level", r.LogLevel.String()),
	)
}
