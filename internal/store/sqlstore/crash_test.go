package sqlstore

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/store"
)

// crashEnv tells the test binary, started again by TestCrash, to be the
// writer that gets killed.
const crashEnv = "CONTINUUM_CRASH_CHILD"

// TestCrash is the durability test: a child process writes from several
// goroutines and prints the id of every write as soon as Update returns
// (the acknowledgement), the parent kills it with SIGKILL mid-stream, reopens
// the store and checks that every acknowledged write is there.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		crash(t, "sqlite:"+dir, func() *DB { return openSQLite(t, dir) })
	})
	t.Run("postgres", func(t *testing.T) {
		db, u := openPostgres(t)
		_ = db.Close()
		crash(t, "postgres:"+u, func() *DB {
			db, err := OpenPostgres(context.Background(), u, Options{})
			if err != nil {
				t.Fatal(err)
			}
			return db
		})
	})
}

func crash(t *testing.T, target string, reopen func() *DB) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+target)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	sc := bufio.NewScanner(out)
	killed := false
	deadline := time.Now().Add(20 * time.Second)
	for sc.Scan() {
		line := sc.Text()
		if id, ok := strings.CutPrefix(line, "ACK "); ok {
			acked = append(acked, id)
		}
		if !killed && (len(acked) >= 300 || time.Now().After(deadline)) {
			// Mid-stream: writers are inside Update right now.
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	_ = cmd.Wait()
	if !killed {
		t.Fatalf("the writer exited on its own after %d acknowledged writes", len(acked))
	}
	db := reopen()
	defer db.Close()
	ctx := context.Background()
	missing := 0
	err = db.View(ctx, func(tx store.ReadTx) error {
		for _, id := range acked {
			if _, err := tx.Read(ctx, "Patient", id); err != nil {
				missing++
				if missing < 5 {
					t.Errorf("acknowledged write Patient/%s lost: %v", id, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged writes lost", missing, len(acked))
	}
	t.Logf("%d acknowledged writes, all present after SIGKILL", len(acked))
	// The store still takes writes.
	if err := db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Create(ctx, store.Write{Resource: mustParse(t, `{"resourceType":"Patient"}`), Org: "o"})
		return err
	}); err != nil {
		t.Errorf("write after recovery: %v", err)
	}
}

// TestCrashChild is the writer of TestCrash; it does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	target := os.Getenv(crashEnv)
	if target == "" {
		t.Skip("run by TestCrash")
	}
	ctx := context.Background()
	var db *DB
	var err error
	switch kind, arg, _ := strings.Cut(target, ":"); kind {
	case "sqlite":
		db, err = OpenSQLite(ctx, arg, Options{})
	case "postgres":
		db, err = OpenPostgres(ctx, arg, Options{})
	}
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	for g := 0; g < 4; g++ {
		go func() {
			for i := 0; ; i++ {
				var v *store.Version
				err := db.Update(ctx, func(tx store.Tx) (err error) {
					res := mustParse(t, fmt.Sprintf(`{"resourceType":"Patient","identifier":[{"value":"%d-%d"}]}`, g, i))
					v, err = tx.Create(ctx, store.Write{Resource: res, Org: "o"})
					return err
				})
				if err != nil {
					fmt.Fprintln(os.Stderr, "child write:", err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Fprintf(w, "ACK %s\n", v.ID)
				w.Flush()
				mu.Unlock()
			}
		}()
	}
	select {} // until killed
}
