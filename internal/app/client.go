package app

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/continuum-ehr/continuum/internal/config"
	"github.com/continuum-ehr/continuum/internal/oauth"
)

func clientCommand() command {
	return command{
		name:    "client",
		summary: "register an OAuth client: a SMART app, backend service or operator script",
		usage: `client create --id ID [--secret-file F] [--scope "…"] [--redirect-uri URI]… [--launch-uri URI]
       [--jwks-url URL | --jwks-file F] [--name NAME] [--org ORG-ID]…`,
		help: `Registers a client of the authorization server.
  - A SMART app: --redirect-uri (repeatable) and, for EHR launches, --launch-uri. Without
    a secret or keys it is a public client (PKCE protects it); with --secret-file a
    confidential symmetric one; with --jwks-url or --jwks-file an asymmetric one.
  - A backend service: --jwks-url or --jwks-file and --scope "system/…"; it gets tokens
    with client_credentials and a signed assertion (private_key_jwt).
  - An operator client for scripts and tests: --secret-file and --scope "system/…"; it gets
    tokens with client_credentials and HTTP Basic (not advertised to SMART apps).
--scope lists what the client may be granted (default for apps: every user-facing scope;
the user's role and organization still limit what a token reaches). --org enables the
client at an organization (default: the deployment's default organization). The secret
is read from the file F and stored hashed. Works whether the server runs or not.`,
		run: runClient,
	}
}

func runClient(ctx context.Context, c command, e *env, args []string) int {
	rest, code, ok := subcommand(c, e, args, "create")
	if !ok {
		return code
	}
	cfg := config.Default()
	fs := c.flags()
	cfg.StorageFlags(fs)
	var spec oauth.ClientSpec
	var redirects, orgs strs
	fs.StringVar(&spec.ID, "id", "", "the client_id")
	fs.StringVar(&spec.Name, "name", "", "the `NAME` shown to users on the consent page (default: the id)")
	secretFile := fs.String("secret-file", "", "`FILE` holding the client secret (- for standard input)")
	fs.StringVar(&spec.Scopes, "scope", "", "space-separated `SCOPES` the client may be granted")
	fs.Var(&redirects, "redirect-uri", "a redirect `URI` (repeatable; exact match)")
	fs.StringVar(&spec.LaunchURI, "launch-uri", "", "the app's EHR launch `URI`")
	fs.StringVar(&spec.JWKSURL, "jwks-url", "", "`URL` of the client's public keys (JWK Set)")
	jwksFile := fs.String("jwks-file", "", "`FILE` holding the client's public keys (JWK Set)")
	fs.Var(&orgs, "org", "`ORG-ID` of an organization the client is enabled for (repeatable)")
	if code, ok := c.parseFlags(e, fs, &cfg, rest); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return c.usageError(e, fmt.Sprintf("unexpected arguments %q", fs.Args()))
	}
	if spec.ID == "" {
		return c.usageError(e, "--id is required")
	}
	if *jwksFile != "" && spec.JWKSURL != "" {
		return c.usageError(e, "give --jwks-url or --jwks-file, not both")
	}
	if *secretFile != "" {
		s, err := readSecretFile(e, *secretFile)
		if err != nil {
			return c.usageError(e, "--secret-file: "+err.Error())
		}
		spec.Secret = s
	}
	if *jwksFile != "" {
		b, err := os.ReadFile(*jwksFile)
		if err != nil {
			return c.usageError(e, "--jwks-file: "+err.Error())
		}
		spec.JWKS = strings.TrimSpace(string(b))
	}
	spec.RedirectURIs, spec.Orgs = redirects, orgs
	if len(spec.Orgs) == 0 {
		spec.Orgs = []string{defaultOrg}
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	st, err := initStore(ctx, cfg)
	if err != nil {
		return fail(e, c, err)
	}
	defer st.Close()
	for _, o := range spec.Orgs {
		if _, err := st.Read(ctx, "Organization", o); err != nil {
			return fail(e, c, fmt.Errorf("cannot use Organization/%s: %w", o, err))
		}
	}
	if err := oauth.RegisterClient(ctx, st, spec, time.Now()); err != nil {
		return fail(e, c, err)
	}
	kind := "public app"
	switch {
	case spec.JWKS != "" || spec.JWKSURL != "":
		kind = "asymmetric (private_key_jwt)"
	case spec.Secret != "" && len(spec.RedirectURIs) > 0:
		kind = "confidential app (client secret)"
	case spec.Secret != "":
		kind = "operator client (client_credentials with HTTP Basic)"
	}
	fmt.Fprintf(e.stdout, "client %s registered: %s\n", spec.ID, kind)
	return exitOK
}
