package app

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"

	"github.com/continuum-ehr/continuum/internal/audit"
	"github.com/continuum-ehr/continuum/internal/config"
)

func auditCommand() command {
	return command{
		name:    "audit",
		summary: "check the audit trail",
		usage:   "audit verify [--data DIR | --database-url URL] [--audit-key-file FILE]",
		help: `audit verify checks the whole audit trail of the store: every record against its digest,
the hash chain, and every signed checkpoint against the audit key (the public half of
--audit-key-file, which must exist). It works whether the server runs or not.
It prints "intact" with the counts and exits 0, or names the first broken record — its
position and AuditEvent id — and exits 1. Exit status 2: usage errors.`,
		run: runAudit,
	}
}

func runAudit(ctx context.Context, c command, e *env, args []string) int {
	if len(args) == 0 || args[0] != "verify" {
		return c.usageError(e, "want a subcommand: verify")
	}
	cfg := config.Default()
	fs := c.flags()
	cfg.StorageFlags(fs)
	cfg.AuditFlags(fs)
	if code, ok := c.parseFlags(e, fs, &cfg, args[1:]); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return c.usageError(e, fmt.Sprintf("unexpected arguments %q", fs.Args()))
	}
	b, err := os.ReadFile(cfg.AuditKey())
	if err != nil {
		fmt.Fprintf(e.stderr, "continuum audit verify: cannot read the audit key: %v\n", err)
		return exitFail
	}
	key, _, err := audit.ParseKey(b)
	if err != nil {
		fmt.Fprintf(e.stderr, "continuum audit verify: %s: %v\n", cfg.AuditKey(), err)
		return exitFail
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		fmt.Fprintf(e.stderr, "continuum audit verify: %v\n", err)
		return exitFail
	}
	defer st.Close()
	pub := key.Public().(ed25519.PublicKey)
	rep, err := audit.VerifyStore(ctx, st, map[string]ed25519.PublicKey{audit.KeyID(pub): pub})
	if err != nil {
		fmt.Fprintf(e.stderr, "continuum audit verify: %v\n", err)
		return exitFail
	}
	if rep.Broken != nil {
		id := ""
		if rep.BrokenID != "" {
			id = " (AuditEvent/" + rep.BrokenID + ")"
		}
		fmt.Fprintf(e.stdout, "BROKEN: audit record %d%s: %s\n", rep.Broken.Seq, id, rep.Broken.Reason)
		return exitFail
	}
	fmt.Fprintf(e.stdout, "intact: %d audit records, %d signed checkpoints\n", rep.Entries, rep.Checkpoints)
	return exitOK
}
