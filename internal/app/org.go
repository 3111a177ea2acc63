package app

import (
	"context"
	"fmt"
	"time"

	"github.com/continuum-ehr/continuum/internal/config"
	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/store"
)

func orgCommand() command {
	return command{
		name:    "org",
		summary: "create an organization (org create --id ID --name NAME)",
		usage:   "org create --id ID --name NAME [--data DIR | --database-url URL]",
		help: `Creates the Organization resource with the id and name given (or renames it when it
exists). Organizations are the tenancy unit: users belong to organizations, and every
clinical record is owned by one. Works whether the server runs or not; an empty store
is initialized first, as serve would.`,
		run: runOrg,
	}
}

// storeTimeout bounds a CLI command's work on the store (it waits up to
// this long for a running server's write lock).
const storeTimeout = time.Minute

func runOrg(ctx context.Context, c command, e *env, args []string) int {
	args, code, ok := subcommand(c, e, args, "create")
	if !ok {
		return code
	}
	cfg := config.Default()
	fs := c.flags()
	cfg.StorageFlags(fs)
	cfg.AuditFlags(fs)
	id := fs.String("id", "", "the Organization `ID` (letters, digits, '-' and '.')")
	name := fs.String("name", "", "the organization's `NAME`")
	if code, ok := c.parseFlags(e, fs, &cfg, args); !ok {
		return code
	}
	switch {
	case fs.NArg() > 0:
		return c.usageError(e, fmt.Sprintf("unexpected arguments %q", fs.Args()))
	case !store.ValidID(*id):
		return c.usageError(e, "--id must be 1 to 64 letters, digits, '-' or '.'")
	case *name == "":
		return c.usageError(e, "--name is required")
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	st, err := initStore(ctx, cfg)
	if err != nil {
		return fail(e, c, err)
	}
	defer st.Close()
	sctx, svc, done, err := systemInteractions(ctx, cfg, st)
	if err != nil {
		return fail(e, c, err)
	}
	defer done()
	res, err := svc.Update(sctx, interaction.UpdateRequest{Type: "Organization", ID: *id, Body: organization(*id, *name)})
	if err != nil {
		return fail(e, c, err)
	}
	fmt.Fprintf(e.stdout, "Organization/%s (version %s)\n", *id, res.Version.VersionID)
	return exitOK
}

// subcommand checks that args start with one of names and returns the rest.
func subcommand(c command, e *env, args []string, names ...string) ([]string, int, bool) {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fs := c.flags()
		fs.SetOutput(e.stdout)
		fs.Usage()
		return nil, exitOK, false
	}
	for _, n := range names {
		if len(args) > 0 && args[0] == n {
			return args[1:], 0, true
		}
	}
	return nil, c.usageError(e, fmt.Sprintf("expected a subcommand: %v", names)), false
}

// fail reports an error of a command and returns exitFail.
func fail(e *env, c command, err error) int {
	fmt.Fprintf(e.stderr, "continuum %s: %v\n", c.name, err)
	return exitFail
}

// strs is a repeatable string flag.
type strs []string

func (s *strs) String() string     { return fmt.Sprint([]string(*s)) }
func (s *strs) Set(v string) error { *s = append(*s, v); return nil }
