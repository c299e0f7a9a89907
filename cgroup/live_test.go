package cgroup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hostscope/hostscope/hostroot"
)

// Magic numbers of statfs(2) for the cgroup file systems: the test's oracle
// for the mode DetectLayout finds from the mount table.
const (
	cgroupSuperMagic  = 0x27e0eb
	cgroup2SuperMagic = 0x63677270
)

func fsMagic(path string) int64 {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0
	}
	return int64(st.Type)
}

// TestDetectLayoutLive checks DetectLayout on this machine against statfs.
func TestDetectLayoutLive(t *testing.T) {
	r, err := hostroot.Native()
	if err != nil {
		t.Skipf("no native root: %v", err)
	}
	defer r.Close()
	l, err := DetectLayout(context.Background(), r)
	if err != nil {
		t.Skipf("no cgroup layout on this machine: %v", err)
	}
	want := V1
	switch {
	case fsMagic("/sys/fs/cgroup") == cgroup2SuperMagic:
		want = V2
	case fsMagic("/sys/fs/cgroup/unified") == cgroup2SuperMagic:
		want = Hybrid
	}
	if l.Mode != want || l.Probed {
		t.Errorf("DetectLayout: mode %q (probed %v), statfs says %q", l.Mode, l.Probed, want)
	}
	for _, h := range l.Hierarchies {
		magic := int64(cgroupSuperMagic)
		if h.Version == 2 {
			magic = cgroup2SuperMagic
		}
		if got := fsMagic(h.MountPoint); got != magic {
			t.Errorf("hierarchy %+v: statfs magic %#x, want %#x", h, got, magic)
		}
	}
}

// TestResourcesLive creates cgroups on this machine, sets limits, moves a
// busy child process into them and reads its figures back.
func TestResourcesLive(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("creating cgroups needs root")
	}
	r, err := hostroot.Native()
	if err != nil {
		t.Skipf("no native root: %v", err)
	}
	defer r.Close()
	l, err := DetectLayout(context.Background(), r)
	if err != nil {
		t.Skipf("no cgroup layout: %v", err)
	}

	// The child waits to be moved, then allocates (v1 charges pages to the
	// cgroup current at allocation) and spins into its CPU quota.
	child := exec.Command("sh", "-c", `sleep 0.2; x=$(head -c 2000000 /dev/zero | tr '\0' a); while :; do :; done`)
	if err := child.Start(); err != nil {
		t.Skipf("cannot start a child: %v", err)
	}
	defer func() {
		child.Process.Kill()
		child.Wait()
	}()
	pid := strconv.Itoa(child.Process.Pid)
	name := fmt.Sprintf("hostscope-test-%d", os.Getpid())

	// dirs to remove once the child has gone, deepest first.
	var dirs []string
	t.Cleanup(func() {
		child.Process.Kill()
		child.Wait()
		for i := len(dirs) - 1; i >= 0; i-- {
			for try := 0; try < 50; try++ {
				if err := os.Remove(dirs[i]); err == nil || errors.Is(err, os.ErrNotExist) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	})
	mk := func(dir string, files ...string) {
		t.Helper()
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Skipf("cannot create cgroup %s: %v", dir, err)
		}
		dirs = append(dirs, dir)
		for i := 0; i+1 < len(files); i += 2 {
			if err := os.WriteFile(filepath.Join(dir, files[i]), []byte(files[i+1]), 0); err != nil {
				if errors.Is(err, os.ErrNotExist) {
					// v2: the parent does not delegate this controller
					// (a container's own cgroup namespace, say).
					t.Skipf("controller of %s not enabled in %s", files[i], dir)
				}
				t.Fatalf("setting %s/%s: %v", dir, files[i], err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(pid), 0); err != nil {
			t.Fatalf("moving the child into %s: %v", dir, err)
		}
	}

	const memLimit = 64 << 20
	switch l.Mode {
	case V1, Hybrid:
		for _, h := range l.Hierarchies {
			if h.Version != 1 || h.Root != "/" {
				continue
			}
			var files []string
			for _, c := range h.Controllers {
				switch c {
				case "memory":
					files = append(files, "memory.limit_in_bytes", strconv.Itoa(memLimit))
				case "pids":
					files = append(files, "pids.max", "50")
				case "cpu":
					files = append(files, "cpu.cfs_period_us", "100000", "cpu.cfs_quota_us", "10000")
				}
			}
			if len(files) > 0 || hasAny(h.Controllers, "cpuacct") {
				mk(filepath.Join(h.MountPoint, name), files...)
			}
		}
	case V2:
		top := l.Hierarchies[0].MountPoint
		for _, h := range l.Hierarchies {
			if h.Version == 2 {
				top = h.MountPoint
			}
		}
		mk(filepath.Join(top, name), "memory.max", strconv.Itoa(memLimit), "pids.max", "50", "cpu.max", "10000 100000")
	default:
		t.Skipf("mode %q", l.Mode)
	}
	time.Sleep(700 * time.Millisecond) // let the child allocate and run into its CPU quota

	data, err := r.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := ParseEntries(data, "/proc/"+pid+"/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	s, err := l.Resources(r, entries)
	if err != nil {
		t.Fatalf("Resources: %v", err)
	}
	t.Logf("mode %s, stats: memory %+v, cpu %+v (throttling %+v), pids %+v", l.Mode, s.Memory, s.CPU, throttling(s.CPU), s.Pids)
	if s.Memory == nil || s.Memory.Limit != memLimit || s.Memory.Usage == 0 {
		t.Errorf("memory = %+v, want limit %d and some usage", s.Memory, memLimit)
	}
	if s.Pids == nil || s.Pids.Max != 50 || s.Pids.Current < 1 {
		t.Errorf("pids = %+v, want max 50 and at least the child", s.Pids)
	}
	if s.CPU == nil || s.CPU.Usage <= 0 || s.CPU.Throttling == nil || s.CPU.Throttling.Periods == 0 {
		t.Errorf("cpu = %+v (throttling %+v), want usage and elapsed periods", s.CPU, throttling(s.CPU))
	}

	// On a hybrid host, read the unified hierarchy's cpu.stat too.
	if l.Mode == Hybrid {
		var unified Hierarchy
		for _, h := range l.Hierarchies {
			if h.Version == 2 {
				unified = h
			}
		}
		mk(filepath.Join(unified.MountPoint, name))
		data, _ := r.ReadFile("/proc/" + pid + "/cgroup")
		entries, _ := ParseEntries(data, "x")
		v2 := &Layout{Mode: V2, Hierarchies: []Hierarchy{unified}}
		c, err := v2.CPU(r, entries)
		if err != nil {
			t.Fatalf("CPU on the unified hierarchy: %v", err)
		}
		if c.Usage < 0 {
			t.Errorf("unified cpu.stat: %+v", c)
		}
		t.Logf("unified cpu.stat: %+v", c)
	}
}

func hasAny(list []string, names ...string) bool {
	for _, n := range names {
		for _, c := range list {
			if c == n {
				return true
			}
		}
	}
	return false
}

func throttling(c *CPU) *Throttling {
	if c == nil {
		return nil
	}
	return c.Throttling
}
