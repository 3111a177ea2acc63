package app

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is the release version, set at link time:
//
//	go build -ldflags "-X github.com/continuum-ehr/continuum/internal/app.version=v1.2.3" ./cmd/continuum
//
// Without it the version comes from the module (go install …@v1.2.3) or is
// "devel".
var version string

func versionCommand() command {
	return command{
		name:    "version",
		summary: "print the version and build information",
		usage:   "version",
		help:    "Prints the version, the source revision it was built from (when known) and the Go version.",
		run:     runVersion,
	}
}

func runVersion(_ context.Context, c command, e *env, args []string) int {
	fs := c.flags()
	if code, ok := c.parseFlags(e, fs, nil, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return c.usageError(e, "version takes no arguments")
	}
	b := readBuild()
	fmt.Fprintf(e.stdout, "continuum %s", b.version)
	if b.revision != "" {
		fmt.Fprintf(e.stdout, " (%s", b.revision)
		if b.time != "" {
			fmt.Fprintf(e.stdout, ", %s", b.time)
		}
		if b.modified {
			fmt.Fprint(e.stdout, ", modified")
		}
		fmt.Fprint(e.stdout, ")")
	}
	fmt.Fprintf(e.stdout, " %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}

// build describes the running binary.
type build struct {
	version  string // v1.2.3, or devel
	revision string // VCS revision, when the build recorded it
	time     string // commit time
	modified bool   // built from a tree with uncommitted changes
}

func readBuild() build {
	b := build{version: version}
	info, ok := debug.ReadBuildInfo()
	if ok {
		if b.version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				b.revision = s.Value
				if len(b.revision) > 12 {
					b.revision = b.revision[:12]
				}
			case "vcs.time":
				b.time = s.Value
			case "vcs.modified":
				b.modified = s.Value == "true"
			}
		}
	}
	if b.version == "" {
		b.version = "devel"
	}
	return b
}
