// Command continuum is the Continuum electronic health record: one binary
// with subcommands (serve, validate, version, help, …). Run
// `continuum help` for the list; internal/app holds everything else.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/continuum-ehr/continuum/internal/app"
)

func main() {
	// SIGINT (Ctrl-C) and SIGTERM (service managers, containers) cancel the
	// context; serve then shuts down gracefully. A second signal kills the
	// process the default way, since stop restores default handling once
	// the context is done.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
