package hardening

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// helperDir holds the helper binary, in a directory every user may search,
// so that children running as other users can execute it.
var (
	helperOnce sync.Once
	helperDir  string
	helperErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if helperDir != "" {
		os.RemoveAll(helperDir)
	}
	os.Exit(code)
}

func requireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root: namespaces, mounts and other users' credentials (CI runs this as root)")
	}
}

// helperBinary builds testdata/helper statically, once per test binary.
func helperBinary(tb testing.TB) string {
	tb.Helper()
	helperOnce.Do(func() {
		helperDir, helperErr = os.MkdirTemp("", "hardening-helper-")
		if helperErr != nil {
			return
		}
		if helperErr = os.Chmod(helperDir, 0o755); helperErr != nil {
			return
		}
		build := exec.Command("go", "build", "-o", filepath.Join(helperDir, "helper"), "./testdata/helper")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			helperErr = fmt.Errorf("building testdata/helper: %v\n%s", err, out)
		}
	})
	if helperErr != nil {
		tb.Fatal(helperErr)
	}
	return filepath.Join(helperDir, "helper")
}

// publicTempDir is a fresh directory that every user may search (t.TempDir
// is private to root), removed when the test ends.
func publicTempDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "hardening-")
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// running is a helper process that printed "ready" and runs until its
// stdin is closed.
type running struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr strings.Builder
	done   bool
}

// startHelper starts cmd and waits, at most a minute, for its "ready" line.
// The helper is stopped when the test ends if stop was not called.
func startHelper(tb testing.TB, cmd *exec.Cmd) *running {
	tb.Helper()
	h := &running{cmd: cmd}
	var err error
	if h.stdin, err = cmd.StdinPipe(); err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	h.stdout = bufio.NewReader(out)
	cmd.Stderr = &h.stderr
	if err := cmd.Start(); err != nil {
		tb.Fatalf("starting %v: %v", cmd.Args, err)
	}
	tb.Cleanup(func() {
		if !h.done {
			h.stdin.Close()
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	ready := make(chan string, 1)
	go func() {
		line, _ := h.stdout.ReadString('\n')
		ready <- line
	}()
	select {
	case line := <-ready:
		if line != "ready\n" {
			cmd.Process.Kill()
			cmd.Wait()
			h.done = true
			tb.Fatalf("%v did not start: %q\n%s", cmd.Args, line, h.stderr.String())
		}
	case <-time.After(time.Minute):
		tb.Fatalf("%v did not start within a minute", cmd.Args)
	}
	return h
}

// stop closes the helper's stdin, waits for it and returns the rest of
// its output.
func (h *running) stop(tb testing.TB) string {
	tb.Helper()
	h.stdin.Close()
	rest, _ := io.ReadAll(h.stdout)
	err := h.cmd.Wait()
	h.done = true
	if err != nil {
		tb.Fatalf("%v: %v\n%s", h.cmd.Args, err, h.stderr.String())
	}
	return string(rest)
}
