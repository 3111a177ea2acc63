package app

import (
	"context"
	"fmt"
	"io"
	"strings"
)

func helpCommand() command {
	return command{
		name:    "help",
		summary: "show the commands, or one command's flags",
		usage:   "help [COMMAND]",
		help:    "Without an argument, lists the commands; with one, shows that command's usage and flags.",
		run:     runHelp,
	}
}

func runHelp(ctx context.Context, _ command, e *env, args []string) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		overview(e.stdout)
		return exitOK
	}
	c, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(e.stderr, "continuum help: unknown command %q\n\n", args[0])
		overview(e.stderr)
		return exitUsage
	}
	if c.name == "help" {
		fs := c.flags()
		fs.SetOutput(e.stdout)
		fs.Usage()
		return exitOK
	}
	return c.run(ctx, c, e, []string{"-h"})
}

// overview lists the commands.
func overview(w io.Writer) {
	fmt.Fprintf(w, "Continuum is an electronic health record built on FHIR R4.\n\nusage: continuum COMMAND [flags] [arguments]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'continuum help COMMAND' for a command's flags. Every flag can also be set with a\nCONTINUUM_* environment variable (--base-url: CONTINUUM_BASE_URL); see docs/config.md.\n")
}
