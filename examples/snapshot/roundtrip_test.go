package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// psFields are the fields of examples/ps --json that describe what a
// process is, none of which a snapshot may change. (state, and the fields
// ps may add later, legitimately differ between two reads.)
var psFields = []string{"pid", "ppid", "comm", "cmdline", "exe", "uid", "start_time", "nspid", "container"}

// The round trip: examples/ps --json on the live machine and on a
// snapshot of it agree for every process that lived through the capture.
// ps runs once before and once after the capture; a process present in
// both with the same start time lived through it, and the snapshot's line
// for it must equal one of the two (a process may exec or be reparented
// while the capture runs).
func TestPSRoundTrip(t *testing.T) {
	if _, err := os.Stat(filepath.Join("..", "ps")); err != nil {
		t.Skip("examples/ps not yet in the tree")
	}
	root := nativeRoot(t)
	ps := buildPS(t)

	before := runPS(t, ps)
	file, sum, _ := captureFile(t, root, nil)
	after := runPS(t, ps)
	dir := extract(t, file)
	snap := runPS(t, ps, "--root", dir)
	t.Logf("ps: %d processes before, %d after, %d in the snapshot (%d captured)", len(before), len(after), len(snap), sum.Processes)

	compared := 0
	for pid, b := range before {
		a, ok := after[pid]
		if !ok || !cmp.Equal(b["start_time"], a["start_time"]) {
			continue // did not live through the capture
		}
		s, ok := snap[pid]
		if !ok {
			t.Errorf("PID %d lived through the capture and is not in the snapshot's ps output", pid)
			continue
		}
		compared++
		if cmp.Equal(s, b) || cmp.Equal(s, a) {
			continue
		}
		t.Errorf("PID %d: snapshot differs from the live machine (-live after +snapshot):\n%s", pid, cmp.Diff(a, s))
	}
	if compared == 0 {
		t.Error("no process lived through the capture: nothing compared")
	}
}

// buildPS compiles examples/ps once into the test's temporary directory.
func buildPS(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ps")
	// go test puts its own toolchain first in PATH.
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build examples/ps")
	}
	cmd := exec.Command(goBin, "build", "-o", bin, "../ps")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building examples/ps: %v\n%s", err, out)
	}
	return bin
}

// runPS runs ps --json --no-posture and returns psFields of each line by
// PID. The HOST_* variables are cleared so that, without --root, ps reads
// this machine. A snapshot does not hold what a container's posture reads
// (uid_map, cap_last_cap, a process's root directory), so the posture is
// left out of the comparison.
func runPS(t *testing.T, bin string, args ...string) map[int]map[string]any {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--json", "--no-posture"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOST_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", bin, args, err, stderr.String())
	}
	procs := map[int]map[string]any{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 16<<20)
	for line := 1; sc.Scan(); line++ {
		var all map[string]any
		if err := json.Unmarshal(sc.Bytes(), &all); err != nil {
			t.Fatalf("ps %q line %d: %v: %s", args, line, err, sc.Bytes())
		}
		pid, ok := all["pid"].(float64)
		if !ok {
			t.Fatalf("ps %q line %d: no numeric pid: %s", args, line, sc.Bytes())
		}
		kept := map[string]any{}
		for _, f := range psFields {
			kept[f] = all[f]
		}
		// A workqueue worker's comm carries the work it runs now.
		if c, ok := kept["comm"].(string); ok {
			kept["comm"] = stableComm(c)
		}
		procs[int(pid)] = kept
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return procs
}

// extract unpacks a snapshot into a temporary directory, for programs that
// take a --root directory. Symlinks are created as they are (they only
// resolve through a hostroot.Root, inside the directory); names climbing
// out of it are refused.
func extract(t *testing.T, archive string) string {
	t.Helper()
	dir := t.TempDir()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return dir
		}
		if err != nil {
			t.Fatal(err)
		}
		rel := filepath.FromSlash(strings.TrimSuffix(hdr.Name, "/"))
		if !filepath.IsLocal(rel) {
			t.Fatalf("archive entry %q outside the root", hdr.Name)
		}
		p := filepath.Join(dir, rel)
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(p, 0o755)
		case tar.TypeReg:
			var b []byte
			if b, err = io.ReadAll(tr); err == nil {
				err = os.WriteFile(p, b, 0o644)
			}
		case tar.TypeSymlink:
			err = os.Symlink(hdr.Linkname, p)
		default:
			err = fmt.Errorf("unexpected entry type %q", hdr.Typeflag)
		}
		if err != nil {
			t.Fatalf("extracting %s: %v", hdr.Name, err)
		}
	}
}
