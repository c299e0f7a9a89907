package hostroot_test

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
	"github.com/hostscope/hostscope/internal/testctr"
	"golang.org/x/sys/unix"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: chroot and mount namespaces (CI runs this as root)")
	}
}

// startChrooted builds testdata/waiter as a static binary into dir/bin,
// starts it chroot-ed into dir in its own mount namespace, and returns its
// PID once it runs.
func startChrooted(t *testing.T, dir string) int {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "bin", "child"), "./testdata/waiter")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the waiter: %v\n%s", err, out)
	}
	cmd := exec.Command("/bin/child")
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: dir, Unshareflags: syscall.CLONE_NEWNS}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("child did not start: %q, %v", line, err)
	}
	return cmd.Process.Pid
}

func writeTree(t *testing.T, dir string, files map[string]string, links map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, target := range links {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
}

// TestProcRootLive enters a real chroot-ed process's root through
// /proc/PID/root: its files are read, and its absolute symlinks resolve
// inside it, not on the host.
func TestProcRootLive(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	const inside = "inside-the-chroot\n"
	writeTree(t, dir,
		map[string]string{"etc/hostname": inside, "etc/passwd": "chroot-passwd\n"},
		map[string]string{
			"etc/abs":     "/etc/hostname",
			"up":          "../../../../../etc/passwd",
			"etc/viaproc": "/proc/self/root/etc/hostname",
		})
	pid := startChrooted(t, dir)

	check := func(t *testing.T, host *hostroot.Root) {
		pr, err := host.ProcRoot(pid)
		if err != nil {
			t.Fatalf("ProcRoot(%d): %v", pid, err)
		}
		defer pr.Close()
		for name, want := range map[string]string{
			"/etc/hostname": inside,
			"/etc/abs":      inside,
			"/up":           "chroot-passwd\n",
		} {
			b, err := pr.ReadFile(name)
			if err != nil || string(b) != want {
				t.Errorf("ReadFile(%s) inside the process root = %q, %v; want %q", name, b, err, want)
			}
		}
		if _, err := pr.ReadFile("/etc/viaproc"); err == nil {
			t.Errorf("ReadFile(/etc/viaproc) succeeded; the process has no /proc, and magic links are never followed")
		}
		if s, err := pr.Readlink("/etc/abs"); err != nil || s != "/etc/hostname" {
			t.Errorf("Readlink(/etc/abs) = %q, %v", s, err)
		}
		names, err := pr.ReadDirNames("/")
		slices.Sort(names)
		if err != nil || !slices.Equal(names, []string{"bin", "etc", "up"}) {
			t.Errorf("ReadDirNames(/) = %v, %v; want [bin etc up]", names, err)
		}
		// The host's own view is untouched: its /etc/passwd is not the chroot's.
		b, err := host.ReadFile("/proc/" + strconv.Itoa(pid) + "/root/etc/passwd")
		if err == nil {
			t.Errorf("reading through /proc/PID/root implicitly succeeded: %q", b)
		}
	}

	t.Run("native", func(t *testing.T) {
		host, err := hostroot.Native()
		if err != nil {
			t.Fatal(err)
		}
		defer host.Close()
		check(t, host)
	})

	// The DaemonSet layout: the host's /proc seen through a bind mount at
	// another path, named by HOST_PROC.
	t.Run("HOST_PROC bind mount", func(t *testing.T) {
		mnt := t.TempDir()
		testctr.LockHostMounts(t)
		if err := unix.Mount("/proc", mnt, "", unix.MS_BIND, ""); err != nil {
			t.Skipf("cannot bind-mount /proc: %v", err)
		}
		t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })
		host, err := hostroot.FromEnvLookup(func(k string) (string, bool) {
			if k == "HOST_PROC" {
				return mnt, true
			}
			return "", false
		})
		if err != nil {
			t.Fatal(err)
		}
		defer host.Close()
		check(t, host)
	})
}

// TestProcRootRefusesFakeProc: a directory tree that only looks like /proc
// must not be entered, since its "root" could be a plain symlink anywhere.
func TestProcRootRefusesFakeProc(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"proc/42/stat": "42 (x) S"}, map[string]string{"proc/42/root": "/"})
	r, err := hostroot.Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.ProcRoot(42); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("ProcRoot on a fake /proc: err = %v, want ErrUnsupported", err)
	}
}

func TestProcRootMemory(t *testing.T) {
	h := hostroottest.New().
		File("/etc/hostname", "host\n").
		File("/proc/7/stat", "7 (app) S 1").
		File("/containers/c1/etc/hostname", "container\n").
		Symlink("/containers/c1/etc/abs", "/etc/hostname").
		Symlink("/containers/c1/escape", "../../../etc/hostname").
		ProcRoot(7, "/containers/c1")
	r := hostroottest.MustRoot(t, h)
	pr, err := r.ProcRoot(7)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"/etc/hostname": "container\n", "/etc/abs": "container\n"} {
		if b, err := pr.ReadFile(name); err != nil || string(b) != want {
			t.Errorf("ReadFile(%s) = %q, %v; want %q", name, b, err, want)
		}
	}
	// "../../../etc/hostname" climbs to the process root and stops there.
	if b, err := pr.ReadFile("/escape"); err != nil || string(b) != "container\n" {
		t.Errorf("ReadFile(/escape) = %q, %v; want the container's own /etc/hostname", b, err)
	}
	if _, err := r.ProcRoot(8); err == nil {
		t.Error("ProcRoot(8) with no /proc/8 succeeded")
	}
	if _, err := r.ProcRoot(-1); err == nil {
		t.Error("ProcRoot(-1) succeeded")
	}
}

func TestNativeReadsPseudoFiles(t *testing.T) {
	r, err := hostroot.Native()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Stat says 0 bytes for /proc files; the read must not trust it.
	self := "/proc/" + strconv.Itoa(os.Getpid())
	fi, err := r.Stat(self + "/status")
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.ReadFile(self + "/status")
	if err != nil || len(b) == 0 || fi.Size() != 0 {
		t.Errorf("status: %d bytes, Stat size %d, err %v", len(b), fi.Size(), err)
	}
	want, err := os.ReadFile(self + "/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.ReadFile(self + "/cmdline")
	if err != nil || string(got) != string(want) {
		t.Errorf("cmdline = %q, %v; want %q", got, err, want)
	}
	exe, _ := os.Executable()
	if s, err := r.Readlink(self + "/exe"); err != nil || s != exe {
		t.Errorf("Readlink(exe) = %q, %v; want %q", s, err, exe)
	}
	if _, err := r.ReadFile(self + "/root/etc/hostname"); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("through /proc/PID/root: err = %v, want ELOOP", err)
	}
	if _, err := r.ReadFile("/proc/self/cwd/go.mod"); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("through /proc/self/cwd: err = %v, want ELOOP", err)
	}
	if _, err := r.ReadFile("/dev/null"); !errors.Is(err, hostroot.ErrNotRegular) {
		t.Errorf("/dev/null: err = %v, want ErrNotRegular", err)
	}
	names, err := r.ReadDirNames("/proc")
	if err != nil || !slices.Contains(names, strconv.Itoa(os.Getpid())) {
		t.Errorf("ReadDirNames(/proc) misses our own PID: %v", err)
	}
	pfs, err := r.ProcFS()
	if err != nil {
		t.Fatal(err)
	}
	p, err := pfs.Proc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st, err := p.Stat(); err != nil || st.PID != os.Getpid() {
		t.Errorf("procfs bridge: %+v, %v", st, err)
	}
	if _, err := r.SysFS(); err != nil {
		t.Errorf("SysFS: %v", err)
	}
	mem := hostroottest.MustRoot(t, hostroottest.New())
	if _, err := mem.ProcFS(); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("ProcFS in memory: err = %v, want ErrUnsupported", err)
	}
	if _, err := mem.SysFS(); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("SysFS in memory: err = %v, want ErrUnsupported", err)
	}
}
