// Package app is Continuum's composition root: the only package that wires
// components together, and the only one cmd/continuum imports
// (architecture.md §2).
//
// Main dispatches to subcommands through the table in commands. Each command
// lives in its own file (serve.go, validate.go, …) as a function returning a
// command; adding one is that file plus one line in the table. A command
// parses its own flags, registering the config flag groups it needs, and
// builds the components it uses with their own options structs.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/continuum-ehr/continuum/internal/config"
)

// Exit codes of every command.
const (
	exitOK    = 0
	exitFail  = 1 // the command ran and failed (or found errors)
	exitUsage = 2 // bad arguments, flags or configuration
)

// commands is the table of subcommands, in the order help lists them.
func commands() []command {
	return []command{
		serveCommand(),
		validateCommand(),
		fhirpathCommand(),
		orgCommand(),
		userCommand(),
		clientCommand(),
		launchCommand(),
		importCommand(),
		synthCommand(),
		auditCommand(),
		versionCommand(),
		helpCommand(),
	}
}

// command is one subcommand.
type command struct {
	name    string
	summary string                                                          // one line, for the command list
	usage   string                                                          // synopsis after "continuum ", e.g. "validate [flags] FILE…"
	help    string                                                          // what the command does, printed above its flags
	run     func(ctx context.Context, c command, e *env, args []string) int // c is this command
}

// env is what a command may touch of the process: its standard streams and
// environment. Tests substitute buffers.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	lookupEnv      config.LookupEnv
}

// Main runs the command named by args[0] (the arguments after the program
// name) and returns the process exit code. ctx is cancelled on SIGINT or
// SIGTERM.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, lookupEnv: os.LookupEnv}
	if len(args) == 0 {
		overview(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		name = "help"
	case "-version", "--version":
		name = "version"
	}
	cmd, ok := lookup(name)
	if !ok {
		fmt.Fprintf(stderr, "continuum: unknown command %q\n\n", name)
		overview(stderr)
		return exitUsage
	}
	return cmd.run(ctx, cmd, e, args[1:])
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// flags returns an empty flag set for the command. Parse errors are
// reported by parseFlags, not by the flag package.
func (c command) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("continuum "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: continuum %s\n\n%s\n", c.usage, strings.TrimSpace(c.help))
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintf(fs.Output(), "\nflags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args into fs and, when cfg is not nil, fills and
// validates the config (flags, then CONTINUUM_* environment). It prints help
// to stdout for -h, and errors to stderr; ok is false when the command must
// return code.
func (c command) parseFlags(e *env, fs *flag.FlagSet, cfg *config.Config, args []string) (code int, ok bool) {
	var err error
	if cfg != nil {
		err = cfg.Parse(fs, args, e.lookupEnv)
	} else {
		err = fs.Parse(args)
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(e.stdout)
		fs.Usage()
		return exitOK, false
	case err != nil:
		return c.usageError(e, err.Error()), false
	}
	return 0, true
}

// usageError reports a usage problem and returns exitUsage.
func (c command) usageError(e *env, msg string) int {
	fmt.Fprintf(e.stderr, "continuum %s: %s\nrun 'continuum help %s' for usage\n", c.name, msg, c.name)
	return exitUsage
}
