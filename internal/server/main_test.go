package server

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestMain fails the package when a test leaves a server goroutine running:
// every goroutine needs an owner and an exit (style.md §15; after Go's
// net/http main_test.go).
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := waitForLeaks(5 * time.Second); len(leaked) > 0 {
			fmt.Fprintf(os.Stderr, "leaked goroutines:\n%s\n", strings.Join(leaked, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

// waitForLeaks returns the stacks of goroutines still serving after d.
func waitForLeaks(d time.Duration) []string {
	deadline := time.Now().Add(d)
	for {
		leaked := serving()
		if len(leaked) == 0 || time.Now().After(deadline) {
			return leaked
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func serving() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "net/http.(*Server).Serve") ||
			strings.Contains(g, "net/http.(*conn).serve") ||
			strings.Contains(g, "internal/server.(*Server).Run") {
			out = append(out, g)
		}
	}
	sort.Strings(out)
	return out
}
