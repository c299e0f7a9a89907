package hardening

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hostscope/hostscope/mounts"
)

// nobody is the unprivileged user the scans run as.
const nobody = 65534

// scanResult and scanProcess mirror what testdata/helper's scan mode prints.
type scanResult struct {
	UID        int
	ListBefore []int
	ListAfter  []int
	ListErr    string
	ScanErr    string
	Processes  []scanProcess
	Facade     bool
}

type scanProcess struct {
	PID          int
	Comm         string
	State        string
	KernelThread bool
	UID          uint32
	Exe          string
	ContainerID  string
	Name         string
	Missing      map[string]string
}

// runScan runs cmd (the helper, in scan mode or a mode that ends in one)
// and decodes what it printed.
func runScan(t *testing.T, cmd *exec.Cmd) scanResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatalf("%v: %v", cmd.Args, err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%v: %v\n%s", cmd.Args, err, stderr.String())
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("%v did not finish in two minutes", cmd.Args)
	}
	var res scanResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("%v printed %q: %v\n%s", cmd.Args, stdout.String(), err, stderr.String())
	}
	return res
}

func asUser(uid int) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
}

// privCounts tallies, for the log, what a scan without privileges got.
type privCounts struct {
	listed, visible, fieldsDenied, processesWithDenied int
}

func (c privCounts) String() string {
	return fmt.Sprintf("%d processes visible to ls, %d listed by the scan, %d fields denied on %d processes",
		c.visible, c.listed, c.fieldsDenied, c.processesWithDenied)
}

// checkVisible holds a scan to what an independent listing showed the same
// user: every PID present before and after the scan is listed, the scan
// did not fail, and every field it could not read is marked as denied
// (or, where allowed, absent), never as vanished.
func checkVisible(t *testing.T, res scanResult, allowed map[string]string) privCounts {
	t.Helper()
	if res.ScanErr != "" || res.ListErr != "" {
		t.Fatalf("scan failed: %s %s", res.ScanErr, res.ListErr)
	}
	got := map[int]scanProcess{}
	for _, p := range res.Processes {
		got[p.PID] = p
	}
	c := privCounts{listed: len(res.Processes)}
	for _, pid := range res.ListBefore {
		if !slices.Contains(res.ListAfter, pid) {
			continue
		}
		c.visible++
		if _, ok := got[pid]; !ok {
			t.Errorf("PID %d was visible before and after the scan but not listed", pid)
		}
	}
	for _, p := range res.Processes {
		if len(p.Missing) > 0 {
			c.processesWithDenied++
		}
		for field, class := range p.Missing {
			c.fieldsDenied++
			if class != "permission" && allowed[field] != class {
				t.Errorf("PID %d (%s): Missing[%s] is %q, want permission denied", p.PID, p.Comm, field, class)
			}
		}
	}
	if c.visible == 0 {
		t.Error("no process was visible: the scan proves nothing")
	}
	return c
}

// TestUnprivilegedScan runs a scan with every field as nobody through the
// machine's own /proc: every process is listed, other users' links (exe,
// cwd, ns) are marked denied per field, nobody's own are read.
func TestUnprivilegedScan(t *testing.T) {
	requireRoot(t)
	cmd := exec.Command(helperBinary(t), "scan", "/proc", "proc")
	cmd.SysProcAttr = asUser(nobody)
	cmd.Env = append(os.Environ(), "HOST_PROC=")
	res := runScan(t, cmd)
	if res.UID != nobody {
		t.Fatalf("the scan ran as uid %d", res.UID)
	}
	c := checkVisible(t, res, nil)
	var rootDenied, own int
	for _, p := range res.Processes {
		if p.KernelThread || p.State == "Z" || p.State == "X" {
			continue
		}
		switch p.UID {
		case 0:
			if p.Missing["exe"] != "permission" || p.Exe != "" {
				// It may have exited between the scan and now.
				if _, err := os.Stat("/proc/" + strconv.Itoa(p.PID)); err == nil {
					t.Errorf("root's PID %d (%s): Exe %q, Missing %v; want exe denied", p.PID, p.Comm, p.Exe, p.Missing)
				}
				continue
			}
			rootDenied++
		case nobody:
			if p.Exe == "" || p.Missing["exe"] != "" {
				t.Errorf("nobody's own PID %d (%s): Exe %q, Missing %v", p.PID, p.Comm, p.Exe, p.Missing)
			}
			own++
		}
	}
	if rootDenied == 0 || own == 0 {
		t.Errorf("%d root processes with exe denied, %d of nobody's own: want some of each", rootDenied, own)
	}
	t.Logf("as nobody: %s; exe denied on %d of root's processes", c, rootDenied)
}

// TestHidepidScan mounts a procfs with hidepid in a private mount namespace
// and scans it as nobody through FromEnv (HOST_PROC). hidepid=invisible
// hides other users' processes: the scan lists exactly nobody's. hidepid=
// noaccess shows every PID but denies their files: each is listed, every
// field marked denied. subset=pid drops /proc/stat: start times are
// marked missing, nothing fails.
func TestHidepidScan(t *testing.T) {
	requireRoot(t)
	bin := helperBinary(t)
	for _, opts := range []string{"hidepid=invisible", "hidepid=noaccess", "hidepid=invisible,subset=pid"} {
		t.Run(opts, func(t *testing.T) {
			dir := publicTempDir(t)
			cmd := exec.Command(bin, "hidepid", dir, opts, strconv.Itoa(nobody), "proc")
			cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
			res := runScan(t, cmd)
			allowed := map[string]string{}
			if strings.Contains(opts, "subset=pid") {
				allowed["starttime"] = "notexist" // no /proc/stat, no boot time
			}
			c := checkVisible(t, res, allowed)
			var others int
			for _, p := range res.Processes {
				if p.UID != nobody {
					others++
				}
			}
			switch {
			case strings.Contains(opts, "invisible"):
				if others > 0 || len(res.Processes) < 2 {
					t.Errorf("listed %d processes, %d of other users; want only nobody's (at least the scan and a sleeper)", len(res.Processes), others)
				}
			case c.visible < 10 || c.processesWithDenied < c.visible-5:
				t.Errorf("noaccess: %s; want every other user's process listed with its fields denied", c)
			}
			t.Logf("%s as nobody: %s", opts, c)
		})
	}
}

// TestFacadeUnprivileged runs the hostscope facade as nobody over a host
// whose docker state is readable by root only, with a real process in a
// cgroup named as docker's cgroupfs driver names a container's: the
// process is attributed to the container, its name stays empty, nothing
// fails. The same scan as root names it, which shows the state file is
// found when it can be read.
func TestFacadeUnprivileged(t *testing.T) {
	requireRoot(t)
	bin := helperBinary(t)
	const id = "4a3f9c1be0d2a7c65f8e9b0d1c2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e"
	cg := dockerCgroup(t, id)

	sleeper := startHelper(t, exec.Command(bin, "sleep"))
	pid := sleeper.cmd.Process.Pid
	if err := os.WriteFile(filepath.Join(cg, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
		t.Fatalf("moving the sleeper into %s: %v", cg, err)
	}
	t.Cleanup(func() {
		sleeper.stop(t)
		os.Remove(cg)
	})

	// A host root holding only docker's state, readable by root alone as
	// on a real node; /proc and /sys are the machine's.
	host := publicTempDir(t)
	state := filepath.Join(host, "var/lib/docker/containers", id)
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"var/lib/docker", "var/lib/docker/containers"} {
		os.Chmod(filepath.Join(host, d), 0o700)
	}
	config := fmt.Sprintf(`{"ID":%q,"Name":"/hardening-web","Config":{"Image":"busybox:latest"},"State":{"Running":true,"Pid":%d}}`, id, pid)
	if err := os.WriteFile(filepath.Join(state, "config.v2.json"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "HOST_ROOT="+host, "HOST_PROC=/proc", "HOST_SYS=/sys")

	for _, who := range []struct {
		uid      int
		wantName string
	}{{0, "hardening-web"}, {nobody, ""}} {
		cmd := exec.Command(bin, "scan", "/proc", "facade")
		cmd.Env = env
		if who.uid != 0 {
			cmd.SysProcAttr = asUser(who.uid)
		}
		res := runScan(t, cmd)
		c := checkVisible(t, res, nil)
		var found *scanProcess
		for i := range res.Processes {
			if res.Processes[i].PID == pid {
				found = &res.Processes[i]
			}
		}
		switch {
		case found == nil:
			t.Errorf("uid %d: the container's process %d was not listed", who.uid, pid)
		case found.ContainerID != id || found.Name != who.wantName:
			t.Errorf("uid %d: process %d in container %q named %q; want %s named %q", who.uid, pid, found.ContainerID, found.Name, id, who.wantName)
		}
		t.Logf("facade as uid %d: %s", who.uid, c)
	}
}

// dockerCgroup creates the cgroup /docker/ID in a hierarchy of this
// machine (the unified one if mounted, else a v1 pids or freezer one) and
// returns its directory.
func dockerCgroup(t *testing.T, id string) string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := mounts.Parse(data, "/proc/self/mountinfo", nil)
	if err != nil {
		t.Fatal(err)
	}
	var dir string
	for _, m := range ms {
		if m.FSType == "cgroup2" && m.Root == "/" {
			dir = m.MountPoint
			break
		}
		if m.FSType == "cgroup" && m.Root == "/" && dir == "" &&
			(slices.Contains(m.SuperOptions, "pids") || slices.Contains(m.SuperOptions, "freezer")) {
			dir = m.MountPoint
		}
	}
	if dir == "" {
		t.Skip("no cgroup hierarchy to create a container's cgroup in")
	}
	parent := filepath.Join(dir, "docker")
	_, err = os.Stat(parent)
	madeParent := os.IsNotExist(err)
	cg := filepath.Join(parent, id)
	if err := os.MkdirAll(cg, 0o755); err != nil {
		t.Skipf("cannot create a cgroup: %v", err)
	}
	if madeParent {
		// Runs after the caller's cleanup has emptied and removed cg.
		t.Cleanup(func() { os.Remove(parent) })
	}
	return cg
}
