package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/continuum-ehr/continuum/internal/audit"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/authweb"
	"github.com/continuum-ehr/continuum/internal/config"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/oauth"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore"
	"github.com/continuum-ehr/continuum/internal/validate"
)

// defaultOrg is the deployment's default organization: users created
// without --org and clients without --org belong to it. initStore creates
// it (it is also the organization REST writes were owned by before
// principals: defaultOrg).
const defaultOrg = "default"

// secretKeyFile is where the SQLite deployment keeps its generated secret
// key when --secret-key-file is not given.
const secretKeyFile = "secret.key"

// initStore opens the store and initializes an empty one, exactly as every
// command that touches data does (architecture.md §6): migrations, then the
// default Organization.
func initStore(ctx context.Context, cfg config.Config) (*sqlstore.DB, error) {
	if cfg.DatabaseURL == "" {
		if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
			return nil, fmt.Errorf("creating the data directory: %w", err)
		}
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := ensureDefaultOrg(ctx, cfg, st); err != nil {
		_ = st.Close()
		return nil, err
	}
	return st, nil
}

// systemInteractions returns the interactions as the server itself sees
// them, for the CLI's writes of directory resources: validated and
// audited like any other write, with the system principal.
// done closes the audit trail (flushing it and signing a checkpoint).
func systemInteractions(ctx context.Context, cfg config.Config, st store.Store) (sctx context.Context, svc *interaction.Service, done func(), err error) {
	key, _, err := audit.LoadOrCreateKey(cfg.AuditKey())
	if err != nil {
		return nil, nil, nil, err
	}
	trail, err := audit.NewTrail(audit.TrailOptions{Store: st, Key: key})
	if err != nil {
		return nil, nil, nil, err
	}
	r4 := spec.R4()
	v := validate.New(r4, validate.Options{MaxBytes: 1 << 20, MaxDepth: validate.DefaultMaxDepth})
	svc = interaction.New(interaction.Options{Store: st, Validator: v, Spec: r4, Audit: trail, Site: "continuum CLI"})
	return auth.NewContext(ctx, auth.NewSystem()), svc, func() { _ = trail.Close() }, nil
}

func ensureDefaultOrg(ctx context.Context, cfg config.Config, st store.Store) error {
	_, err := st.Read(ctx, "Organization", defaultOrg)
	if err == nil {
		return nil
	}
	if oe := outcome.As(err); oe == nil || oe.Kind != outcome.NotFound {
		return err
	}
	sctx, svc, done, err := systemInteractions(ctx, cfg, st)
	if err != nil {
		return err
	}
	defer done()
	_, err = svc.Update(sctx, interaction.UpdateRequest{Type: "Organization", ID: defaultOrg,
		Body: organization(defaultOrg, "Default organization")})
	return err
}

func organization(id, name string) []byte {
	return fmt.Appendf(nil, `{"resourceType":"Organization","id":%q,"active":true,"name":%q}`, id, name)
}

// loadSecretKey reads --secret-key-file; without it the deployment uses
// <data>/secret.key, generated (0600) on first start, so that `serve` starts
// with one command on SQLite and on PostgreSQL alike. Several nodes sharing
// one PostgreSQL database must share the key, so with --database-url the
// generated key comes with a warning to pass the same --secret-key-file to
// every node (a node with another key cannot open the signing keys).
func loadSecretKey(cfg config.Config, log *slog.Logger) ([]byte, error) {
	name := cfg.SecretKeyFile
	if name == "" {
		if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
			return nil, fmt.Errorf("creating the data directory: %w", err)
		}
		name = filepath.Join(cfg.Data, secretKeyFile)
		if _, err := os.Stat(name); errors.Is(err, os.ErrNotExist) {
			var b [32]byte
			_, _ = rand.Read(b[:])
			if err := os.WriteFile(name, []byte(hex.EncodeToString(b[:])+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("creating the secret key: %w", err)
			}
			log.Info("generated the secret key that seals signing keys and second-factor seeds; back it up with the data", "file", name)
		}
		if cfg.DatabaseURL != "" {
			log.Warn("no --secret-key-file: using the data directory's key; every node serving this database must use the same key file", "file", name)
		}
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("reading the secret key: %w", err)
	}
	b = bytes.TrimSpace(b)
	if len(b) < oauth.MinSecretKey {
		return nil, fmt.Errorf("the secret key file %s holds %d bytes; it needs at least %d", name, len(b), oauth.MinSecretKey)
	}
	return b, nil
}

// newIdentity assembles the authorization server and its transport.
func newIdentity(cfg config.Config, st *sqlstore.DB, secret []byte, log *slog.Logger) (*authweb.Web, error) {
	o, err := oauth.New(oauth.Options{
		Identity: st, Store: st, BaseURL: cfg.BaseURL, SecretKey: secret,
		FetchJWKS: authweb.FetchJWKS, Logger: log, SessionIdle: cfg.SessionIdle,
	})
	if err != nil {
		return nil, err
	}
	return authweb.New(authweb.Options{OAuth: o, Logger: log, SecureCookies: strings.HasPrefix(cfg.BaseURL, "https://"), Home: "/"}), nil
}

// readSecretFile reads a password or client secret from a file ("-" is
// standard input), dropping one trailing newline.
func readSecretFile(e *env, name string) (string, error) {
	var b []byte
	var err error
	if name == "-" {
		b, err = io.ReadAll(io.LimitReader(e.stdin, 4096))
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return "", err
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		return "", fmt.Errorf("%s is empty", name)
	}
	return s, nil
}
