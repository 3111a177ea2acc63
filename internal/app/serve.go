package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/continuum-ehr/continuum/internal/config"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/operation"
	"github.com/continuum-ehr/continuum/internal/rest"
	"github.com/continuum-ehr/continuum/internal/server"
	"github.com/continuum-ehr/continuum/internal/validate"
)

func serveCommand() command {
	return command{
		name:    "serve",
		summary: "run the server (FHIR API under /fhir, /healthz)",
		usage:   "serve [flags]",
		help: `Runs Continuum until interrupted (SIGINT or SIGTERM, which shut it down gracefully).
The FHIR R4 API is under <base-url>/fhir (GET /fhir/metadata for what it offers) and
GET /healthz answers 200 when the server is ready. Logs go to standard error.`,
		run: runServe,
	}
}

func runServe(ctx context.Context, c command, e *env, args []string) int {
	cfg := config.Default()
	fs := c.flags()
	cfg.StorageFlags(fs)
	cfg.ServeFlags(fs)
	cfg.LimitFlags(fs)
	cfg.LogFlags(fs)
	if code, ok := c.parseFlags(e, fs, &cfg, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return c.usageError(e, fmt.Sprintf("unexpected arguments %q", fs.Args()))
	}
	log := newLogger(cfg, e.stderr)
	if err := serve(ctx, cfg, log); err != nil {
		log.Error("serve failed", "err", err)
		return exitFail
	}
	return exitOK
}

// serve starts every component in order, serves until ctx is done, and
// stops them in reverse order.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	// Settings that name components of later issues fail clearly instead
	// of being accepted and ignored.
	if cfg.DatabaseURL != "" {
		return errors.New("PostgreSQL storage (--database-url) is not available yet; run with the embedded store (--data DIR) for now")
	}
	if cfg.MLLPAddr != "" {
		return errors.New("the HL7 v2 MLLP listener (--mllp-addr) is not available yet")
	}

	// Storage: the data directory holds clinical data, so only its owner may
	// read it. The embedded store itself arrives with the storage issue.
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return fmt.Errorf("creating the data directory: %w", err)
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close() // after Run it is closed already; this covers the error paths
	if cfg.BaseURL == "" {
		// From the address actually bound, so that --addr HOST:0 works.
		cfg.BaseURL = config.DefaultBaseURL(ln.Addr().String(), cfg.TLS())
	}

	srv, err := newServer(cfg, log, time.Now())
	if err != nil {
		return err
	}
	b := readBuild()
	log.Info("continuum listening", "url", cfg.BaseURL, "fhir", cfg.BaseURL+"/fhir", "addr", ln.Addr().String(),
		"data", cfg.Data, "version", b.version)
	log.Debug("configuration", "config", cfg) // redacted by config.Config.LogValue
	if cfg.Demo {
		log.Info("demo mode: the demo organization, clinicians and patients arrive with later issues; no demo data is loaded yet")
	}

	err = srv.Run(ctx, ln)
	log.Info("stopped")
	return err
}

// newServer assembles the HTTP server: definitions → validator → $validate
// → REST API → server.
func newServer(cfg config.Config, log *slog.Logger, started time.Time) (*server.Server, error) {
	r4 := spec.R4()
	v := validate.New(r4, validate.Options{MaxBytes: int(cfg.MaxBytes), MaxDepth: validate.DefaultMaxDepth})
	api := rest.New(rest.Options{
		BaseURL:  cfg.BaseURL,
		Spec:     r4,
		Validate: operation.NewValidate(v, validate.DefaultMaxDepth),
		Software: rest.Software{Name: "Continuum", Version: readBuild().version},
		Started:  started,
		Logger:   log,
	})
	return server.New(server.Options{
		Handler:      api.Handler(),
		Logger:       log,
		ErrorWriter:  api.WriteError,
		MaxBodyBytes: cfg.MaxBytes,
		TLSCert:      cfg.TLSCert,
		TLSKey:       cfg.TLSKey,
	})
}
