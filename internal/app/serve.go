package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/authweb"
	"github.com/continuum-ehr/continuum/internal/config"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/index"
	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/operation"
	"github.com/continuum-ehr/continuum/internal/rest"
	"github.com/continuum-ehr/continuum/internal/server"
	"github.com/continuum-ehr/continuum/internal/store"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore"
	"github.com/continuum-ehr/continuum/internal/ui"
	"github.com/continuum-ehr/continuum/internal/validate"
)

func serveCommand() command {
	return command{
		name:    "serve",
		summary: "run the server (FHIR API under /fhir, /healthz)",
		usage:   "serve [flags]",
		help: `Runs Continuum until interrupted (SIGINT or SIGTERM, which shut it down gracefully).
The FHIR R4 API is under <base-url>/fhir (GET /fhir/metadata for what it offers) and
GET /healthz answers 200 when the server is ready. Every FHIR request but metadata needs a
bearer token and is audited; the audit checkpoints are signed with --audit-key-file
(created on first start). Logs go to standard error.`,
		run: runServe,
	}
}

func runServe(ctx context.Context, c command, e *env, args []string) int {
	cfg := config.Default()
	fs := c.flags()
	cfg.StorageFlags(fs)
	cfg.ServeFlags(fs)
	cfg.AuditFlags(fs)
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
	if cfg.MLLPAddr != "" {
		return errors.New("the HL7 v2 MLLP listener (--mllp-addr) is not available yet")
	}

	// Storage: the data directory holds clinical data, so only its owner may
	// read it. It also holds the embedded store unless --database-url names
	// PostgreSQL.
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return fmt.Errorf("creating the data directory: %w", err)
	}
	st, err := initStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close() // after the server has stopped: no request uses it any more
	// Resources stored before the search index existed, or indexed by an
	// older extractor, are indexed before the server takes traffic, so that
	// searches and conditional writes see every resource.
	if n, err := st.ReindexStale(ctx, 500); err != nil {
		return fmt.Errorf("indexing stored resources for search: %w", err)
	} else if n > 0 {
		log.Info("search index rebuilt", "resources", n)
		if err := st.Analyze(ctx); err != nil {
			return err
		}
	}
	secret, err := loadSecretKey(cfg, log)
	if err != nil {
		return err
	}

	// The audit trail: its checkpoint key lives in a file, outside the
	// database (docs/security.md).
	trail, err := openTrail(cfg, st, log)
	if err != nil {
		return err
	}
	defer trail.Close() // before the store closes: flushes the last group

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close() // after Run it is closed already; this covers the error paths
	if cfg.BaseURL == "" {
		// From the address actually bound, so that --addr HOST:0 works.
		cfg.BaseURL = config.DefaultBaseURL(ln.Addr().String(), cfg.TLS())
	}

	idp, err := newIdentity(cfg, st, secret, log)
	if err != nil {
		return err
	}
	srv, err := newServer(cfg, st, trail, idp, nil, log, time.Now())
	if err != nil {
		return err
	}
	b := readBuild()
	log.Info("continuum listening", "url", cfg.BaseURL, "fhir", cfg.BaseURL+"/fhir", "addr", ln.Addr().String(),
		"data", cfg.Data, "version", b.version)
	log.Debug("configuration", "config", cfg) // redacted by config.Config.LogValue
	// The demo population loads while the server runs (it takes seconds);
	// the store closes only after the load has stopped.
	var demo sync.WaitGroup
	defer demo.Wait()
	if cfg.Demo {
		log.Info("demo mode: loading the demo organizations, clinicians and patients into an empty store")
		demo.Go(func() {
			if err := loadDemo(ctx, newInteractions(cfg, st, trail), st, log, demoPopulation()); err != nil && ctx.Err() == nil {
				log.Error("demo mode: loading the demo data failed", "err", err)
			}
		})
	}

	err = srv.Run(ctx, ln)
	demo.Wait()
	log.Info("stopped")
	return err
}

// openTrail loads (or on first start creates) the audit key and starts the
// audit trail over st.
func openTrail(cfg config.Config, st store.Store, log *slog.Logger) (*audit.Trail, error) {
	key, created, err := audit.LoadOrCreateKey(cfg.AuditKey())
	if err != nil {
		return nil, err
	}
	if created {
		log.Warn("created the audit signing key; back it up apart from the database", "file", cfg.AuditKey())
	}
	return audit.NewTrail(audit.TrailOptions{Store: st, Key: key, Logger: log})
}

// openStore opens the store the configuration names, migrating an empty one:
// PostgreSQL with --database-url, else SQLite under --data.
func openStore(ctx context.Context, cfg config.Config) (*sqlstore.DB, error) {
	// The search index reads dates without a zone in the clinic's zone,
	// as searches do (interaction.Options.Search).
	x, err := index.NewWithOptions(spec.R4(), index.Options{Zone: cfg.Location})
	if err != nil {
		return nil, err
	}
	opts := sqlstore.Options{Extractor: x}
	if cfg.DatabaseURL != "" {
		return sqlstore.OpenPostgres(ctx, cfg.DatabaseURL, opts)
	}
	return sqlstore.OpenSQLite(ctx, cfg.Data, opts)
}

// newServer assembles the HTTP server: definitions → validator → $validate
// and, over st, the interactions → REST API → server. st nil leaves the
// resource interactions out; idp nil leaves out the authorization server.
// authn says who calls the FHIR API: idp's bearer tokens when nil; with
// neither, every FHIR request but metadata answers 401 — never an open API.
func newServer(cfg config.Config, st store.Store, trail interaction.Auditor, idp *authweb.Web, authn rest.Authenticator, log *slog.Logger, started time.Time) (*server.Server, error) {
	r4 := spec.R4()
	v := validate.New(r4, validate.Options{MaxBytes: int(cfg.MaxBytes), MaxDepth: validate.DefaultMaxDepth})
	var svc *interaction.Service
	if st != nil {
		svc = interaction.New(interaction.Options{Store: st, Validator: v, Spec: r4,
			Search: interaction.SearchDefaults{Location: cfg.Location}, Audit: trail,
			Server: cfg.BaseURL + "/fhir", Site: cfg.BaseURL})
	}
	if authn == nil && idp != nil {
		authn = idp
	}
	api := rest.New(rest.Options{
		BaseURL:       cfg.BaseURL,
		Spec:          r4,
		Validate:      operation.NewValidate(v, validate.DefaultMaxDepth),
		Interactions:  svc,
		Authenticator: authn,
		Software:      rest.Software{Name: "Continuum", Version: readBuild().version},
		Started:       started,
		Logger:        log,
	})
	var handler http.Handler = api.Handler()
	if idp != nil {
		// The authorization server's routes beside the FHIR API: the more
		// specific patterns (discovery under /fhir/.well-known) win.
		mux := http.NewServeMux()
		mux.Handle("/", authweb.CORS(api.Handler()))
		for _, p := range idp.Patterns() {
			mux.Handle(p, idp.Handler())
		}
		if svc != nil {
			// The clinician workspace at the root URL, sharing the
			// authorization server's browser session.
			ws := ui.New(ui.Options{Interactions: svc, OAuth: idp.OAuth(), Sessions: idp, Logger: log, Idle: cfg.SessionIdle})
			for _, p := range ws.Patterns() {
				mux.Handle(p, ws.Handler())
			}
		}
		handler = mux
	}
	return server.New(server.Options{
		Handler:      handler,
		Logger:       log,
		ErrorWriter:  api.WriteError,
		MaxBodyBytes: cfg.MaxBytes,
		TLSCert:      cfg.TLSCert,
		TLSKey:       cfg.TLSKey,
	})
}
