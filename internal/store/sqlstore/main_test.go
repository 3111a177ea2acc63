package sqlstore

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the package when a test leaves a connection pool open: its
// database/sql goroutines would still be running (style.md §15, like
// net/http's main_test.go).
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leak := poolGoroutines(); leak != "" {
			fmt.Fprintf(os.Stderr, "goroutines of an unclosed database/sql pool remain:\n%s\n", leak)
			code = 1
		}
	}
	os.Exit(code)
}

func poolGoroutines() string {
	var leak string
	// Pools close asynchronously; give them a moment.
	for range 50 {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		leak = ""
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "database/sql.(*DB).connectionOpener") {
				leak = g
				break
			}
		}
		if leak == "" {
			return ""
		}
		time.Sleep(20 * time.Millisecond)
	}
	return leak
}
