package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
	"github.com/hostscope/hostscope/internal/testctr"
)

// psFields are the fields of examples/ps --json that describe what a
// process is, none of which a snapshot may change. (state, and the fields
// ps may add later, legitimately differ between two reads.) container
// carries the container's posture; sockets are compared on their own.
var psFields = []string{"pid", "ppid", "comm", "cmdline", "exe", "uid", "start_time", "nspid", "container"}

// The round trip: examples/ps --json --sockets on the live machine
// and on a snapshot of it agree for every process that lived through the
// capture, sockets and container posture included.
func TestPSRoundTrip(t *testing.T) {
	if _, err := os.Stat(filepath.Join("..", "ps")); err != nil {
		t.Skip("examples/ps not yet in the tree")
	}
	// The test's own sockets, which live through the capture.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	_, snap, compared := psRoundTrip(t, nativeRoot(t), buildPS(t))
	self := os.Getpid()
	if !compared[self] {
		t.Fatalf("the test process %d was not compared", self)
	}
	if !hasSocket(snap[self], "tcp", "127.0.0.1", port, "LISTEN") {
		t.Errorf("the snapshot lacks the test's listener on 127.0.0.1:%d: %v", port, snap[self].sockets)
	}
}

// hasSocket reports whether l holds a socket of protocol on addr:port in
// state.
func hasSocket(l psLine, protocol, addr string, port int, state string) bool {
	for _, s := range l.sockets {
		var j struct {
			Protocol     string `json:"protocol"`
			LocalAddress string `json:"local_address"`
			LocalPort    int    `json:"local_port"`
			State        string `json:"state"`
		}
		if json.Unmarshal([]byte(s), &j) == nil && j.Protocol == protocol && j.LocalAddress == addr && j.LocalPort == port && j.State == state {
			return true
		}
	}
	return false
}

// A container's processes, sockets and posture survive the round trip:
// busybox httpd listening on 8080, with a device beyond the defaults and
// the host's /etc mounted read-only, so its posture has devices, a host
// mount and findings. ps compares all but the devices (see
// withoutDevices); the snapshot loaded with LoadArchive, as a maintainer
// would, gives the live posture whole, devices included.
func TestPSRoundTripContainer(t *testing.T) {
	testctr.RequireRoot(t)
	checkRoundTripContainer(t, testctr.Docker(t))
}

// The same with podman, whose state (containers/storage) and container
// layout (conmon beside the container, the spec's annotations) differ.
func TestPSRoundTripContainerPodman(t *testing.T) {
	testctr.RequireRoot(t)
	checkRoundTripContainer(t, testctr.Podman(t))
}

func checkRoundTripContainer(t *testing.T, rt *testctr.Runtime) {
	ps := buildPS(t)
	sfx := testctr.Suffix(t)
	image := "localhost/hostscope-snapshot:" + sfx
	rt.Image(t, testctr.BusyboxTar(t, nil), image)
	id := rt.MustRun(t, "run", "-d", "--name", "hostscope-snapshot-"+sfx,
		"--device", "/dev/null:/dev/extra-null", "-v", "/etc:/host-etc:ro",
		image, "httpd", "-f", "-p", "8080", "-h", "/")
	rt.CleanupContainer(t, id)
	root := nativeRoot(t)
	ctx := context.Background()
	opts := &hostscope.Options{Posture: true, Sockets: true}
	deadline := time.Now().Add(30 * time.Second)
	for {
		inv, err := hostscope.TakeInventory(ctx, root, opts)
		if err != nil {
			t.Fatal(err)
		}
		if c := containerByID(inv, id); c != nil && len(c.Listening) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the container's httpd did not listen within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}

	file, snap, compared := psRoundTrip(t, root, ps)
	members := 0
	for pid, l := range snap {
		c, _ := l.fields["container"].(map[string]any)
		if c == nil || c["id"] != id {
			continue
		}
		members++
		if !compared[pid] {
			t.Errorf("container process %d was not compared", pid)
		}
		p, _ := c["posture"].(map[string]any)
		if p == nil || p["error"] != "" || len(p["host_mounts"].([]any)) == 0 {
			t.Errorf("container process %d: posture %v, want one read whole with the /etc mount", pid, p)
		}
		if !hasSocket(l, "tcp6", "::", 8080, "LISTEN") && !hasSocket(l, "tcp", "0.0.0.0", 8080, "LISTEN") {
			t.Errorf("container process %d: no listener on 8080 in the snapshot: %v", pid, l.sockets)
		}
	}
	if members == 0 {
		t.Fatalf("container %s not in the snapshot's ps output", id)
	}

	live, err := hostscope.TakeInventory(ctx, root, opts)
	if err != nil {
		t.Fatal(err)
	}
	h := hostroottest.New()
	if err := h.LoadArchive(file); err != nil {
		t.Fatal(err)
	}
	loaded, err := hostscope.TakeInventory(ctx, hostroottest.MustRoot(t, h), opts)
	if err != nil {
		t.Fatal(err)
	}
	lc, sc := containerByID(live, id), containerByID(loaded, id)
	if lc == nil || sc == nil {
		t.Fatalf("container %s: live %v, snapshot %v", id, lc != nil, sc != nil)
	}
	if sc.PostureErr != nil || lc.PostureErr != nil {
		t.Errorf("posture errors: snapshot %v, live %v", sc.PostureErr, lc.PostureErr)
	}
	if diff := cmp.Diff(lc.Posture, sc.Posture); diff != "" {
		t.Errorf("posture (-live +snapshot):\n%s", diff)
	}
	if sc.Posture == nil || !slices.Contains(sc.Posture.Devices, "/dev/extra-null") {
		t.Errorf("the snapshot's posture lacks /dev/extra-null: %+v", sc.Posture)
	}
	// The runtime's state files came along: the container's name and
	// image, and its declared configuration.
	if sc.Name != lc.Name || sc.Image != lc.Image || sc.Name == "" {
		t.Errorf("snapshot names the container %q (image %q), live %q (%q)", sc.Name, sc.Image, lc.Name, lc.Image)
	}
	if sc.Posture == nil || sc.Posture.Declared == nil || sc.Posture.Declared.Source == "" {
		t.Errorf("the snapshot's posture has no declared configuration: %+v", sc.Posture)
	}
}

// containerByID returns the container of inv with the given ID, or nil.
func containerByID(inv *hostscope.Inventory, id string) *hostscope.Container {
	for _, c := range inv.Containers {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// psRoundTrip runs ps once before and once after the capture; a process
// present in both with the same start time lived through it, and each
// field of the snapshot's line for it must equal that field in one of the
// two. Field by field, because a process may exec and be reparented in
// turn while the capture runs (a container's runc init, reparented and
// then exec-ing its command, failed a full-suite run), and the capture
// reads a process's files one after the other, so its stat can predate an
// exec that its cmdline follows. Of its sockets, every one that
// both reads show must be in the snapshot, and every one of the
// snapshot's that a read shows (by inode) must be as that read shows it;
// a socket that only the snapshot has was opened and closed during the
// capture (seen under load: a socketpair of a short-lived connection),
// and no live read can vouch for it. It returns the snapshot file, the
// snapshot's lines and the PIDs compared.
func psRoundTrip(t *testing.T, root *hostroot.Root, ps string) (string, map[int]psLine, map[int]bool) {
	t.Helper()
	before := runPS(t, ps)
	file, sum, _ := captureFile(t, root, nil)
	after := runPS(t, ps)
	dir := extract(t, file)
	snap := runPS(t, ps, "--root", dir)
	t.Logf("ps: %d processes before, %d after, %d in the snapshot (%d captured)", len(before), len(after), len(snap), sum.Processes)

	beforeM, afterM, snapM := members(before), members(after), members(snap)
	compared := map[int]bool{}
	for pid, b := range before {
		a, ok := after[pid]
		if !ok || !cmp.Equal(b.fields["start_time"], a.fields["start_time"]) {
			continue // did not live through the capture
		}
		s, ok := snap[pid]
		if !ok {
			t.Errorf("PID %d lived through the capture and is not in the snapshot's ps output", pid)
			continue
		}
		compared[pid] = true
		if id := containerID(s); id != "" && (!cmp.Equal(posture(b), posture(a)) ||
			!slices.Equal(beforeM[id], afterM[id]) || !slices.Equal(snapM[id], afterM[id])) {
			// The container's posture joins what its members were when
			// each was read; with members coming and going during the
			// capture (a runc init with every capability before it
			// drops them, a docker exec) there is no live read to hold
			// the snapshot's to, so only the container's identity is.
			b, a, s = withoutPosture(b), withoutPosture(a), withoutPosture(s)
		}
		for _, f := range psFields {
			if !cmp.Equal(s.fields[f], b.fields[f]) && !cmp.Equal(s.fields[f], a.fields[f]) {
				t.Errorf("PID %d: %s in the snapshot is neither before's nor after's (-live after +snapshot):\n%s", pid, f, cmp.Diff(a.fields[f], s.fields[f]))
			}
		}
		for _, sock := range b.sockets {
			if slices.Contains(a.sockets, sock) && !slices.Contains(s.sockets, sock) {
				t.Errorf("PID %d: socket %s, there before and after the capture, is not in the snapshot: %v", pid, sock, s.sockets)
			}
		}
		for _, sock := range s.sockets {
			if slices.Contains(b.sockets, sock) || slices.Contains(a.sockets, sock) {
				continue
			}
			ino := socketInode(sock)
			if slices.ContainsFunc(b.sockets, func(x string) bool { return socketInode(x) == ino }) ||
				slices.ContainsFunc(a.sockets, func(x string) bool { return socketInode(x) == ino }) {
				t.Errorf("PID %d: snapshot socket %s is neither as it was before (%v) nor after (%v) the capture", pid, sock, b.sockets, a.sockets)
			}
			// Else a socket opened and closed during the capture, which
			// neither live read saw.
		}
	}
	if len(compared) == 0 {
		t.Error("no process lived through the capture: nothing compared")
	}
	return file, snap, compared
}

// psLine is what the round trip compares of one ps line: psFields, and
// the sockets, each as its JSON text, sorted.
type psLine struct {
	fields  map[string]any
	sockets []string
}

// members lists each container's PIDs, by container ID.
func members(lines map[int]psLine) map[string][]int {
	m := map[string][]int{}
	for pid, l := range lines {
		if id := containerID(l); id != "" {
			m[id] = append(m[id], pid)
		}
	}
	for _, pids := range m {
		slices.Sort(pids)
	}
	return m
}

// containerID returns the ID of l's container, "" when it has none.
func containerID(l psLine) string {
	c, _ := l.fields["container"].(map[string]any)
	id, _ := c["id"].(string)
	return id
}

// posture returns l's container's posture object, nil when it has none.
func posture(l psLine) any {
	c, _ := l.fields["container"].(map[string]any)
	return c["posture"]
}

// withoutPosture returns l with its container's posture left out.
func withoutPosture(l psLine) psLine {
	c, ok := l.fields["container"].(map[string]any)
	if !ok {
		return l
	}
	out := psLine{fields: maps.Clone(l.fields), sockets: l.sockets}
	c = maps.Clone(c)
	delete(c, "posture")
	out.fields["container"] = c
	return out
}

// socketInode returns the inode of a socket's JSON text, 0 if it has none.
func socketInode(sock string) uint64 {
	var j struct {
		Inode uint64 `json:"inode"`
	}
	json.Unmarshal([]byte(sock), &j)
	return j.Inode
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

// runPS runs ps --json --sockets and returns each line's psLine by PID.
// The HOST_* variables are cleared so that, without --root, ps reads this
// machine. The posture's devices are left out (see withoutDevices).
func runPS(t *testing.T, bin string, args ...string) map[int]psLine {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--json", "--sockets"}, args...)...)
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
	procs := map[int]psLine{}
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
		l := psLine{fields: map[string]any{}}
		for _, f := range psFields {
			l.fields[f] = all[f]
		}
		// A workqueue worker's comm carries the work it runs now.
		if c, ok := l.fields["comm"].(string); ok {
			l.fields["comm"] = stableComm(c)
		}
		if c, ok := l.fields["container"].(map[string]any); ok {
			if p, ok := c["posture"].(map[string]any); ok {
				withoutDevices(p)
			}
		}
		socks, ok := all["sockets"].([]any)
		if !ok {
			t.Fatalf("ps %q line %d: sockets is not a list: %s", args, line, sc.Bytes())
		}
		for _, s := range socks {
			b, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			l.sockets = append(l.sockets, string(b))
		}
		slices.Sort(l.sockets)
		procs[int(pid)] = l
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return procs
}

// withoutDevices drops from a ps posture object what it says of the
// container's /dev: its devices, their finding and the reason they could
// not be read. A snapshot holds a container's /dev (hostroottest maps it
// as the process's root), but ps reads the extracted snapshot through a
// directory Root, and an operating-system Root enters a process's root
// only through a real procfs, so ps on the snapshot cannot list them.
// TestPostureRoundTrip compares the devices through LoadArchive instead.
func withoutDevices(p map[string]any) {
	delete(p, "devices")
	if fs, ok := p["findings"].([]any); ok {
		kept := []any{}
		for _, f := range fs {
			if m, ok := f.(map[string]any); ok && m["rule"] == string(hostscope.RuleDevices) {
				continue
			}
			kept = append(kept, f)
		}
		p["findings"] = kept
	}
	if e, ok := p["error"].(string); ok {
		var kept []string
		for _, line := range strings.Split(e, "\n") {
			if line != "" && !strings.HasPrefix(line, "devices: ") {
				kept = append(kept, line)
			}
		}
		p["error"] = strings.Join(kept, "\n")
	}
}

// extract unpacks a snapshot into a temporary directory, for programs that
// take a --root directory. Symlinks are created as they are (they only
// resolve through a hostroot.Root, inside the directory); names climbing
// out of it are refused; device nodes and FIFOs are left out.
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
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			// Not made on disk: they are a container's /dev, which ps
			// cannot enter in a directory (see withoutDevices).
		default:
			err = fmt.Errorf("unexpected entry type %q", hdr.Typeflag)
		}
		if err != nil {
			t.Fatalf("extracting %s: %v", hdr.Name, err)
		}
	}
}
