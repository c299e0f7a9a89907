package hostroot_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

// procDirNames are the names every ProcDir test asks, relative to the
// process directory: files, magic links read and followed, directories,
// missing names and names a ProcDir must refuse.
var procDirNames = []string{
	"stat", "cmdline", "exe", "cwd", "root", "root/etc/hostname", "cwd/etc/hostname",
	"fd", "fd/0", "ns", "ns/net", "ns/missing", "task/1/stat", "task/1/exe", "task/1/root/etc/hostname",
	"missing", "missing/x", "stat/x",
	"", "/stat", "./stat", "../1/stat", "ns/../stat", "stat/", "ns//net", "a\x00b",
}

// askProcDir is ask for a ProcDir name: op is read or readlink.
func askProcDir(d *hostroot.ProcDir, op, name string) outcome {
	var o outcome
	var err error
	switch op {
	case "read":
		var b []byte
		b, err = d.AppendFile(nil, name, 4096)
		o.Content = string(b)
	case "readlink":
		o.Content, err = d.Readlink(name)
	}
	o.Err = errKey(err)
	var pe *fs.PathError
	if err != nil && (!errors.As(err, &pe) || pe.Path != "/proc/1/"+name) {
		o.Err += " (not a PathError naming /proc/1/" + name + ")"
	}
	return o
}

// TestProcDirConformance: on every kind of Root that reads by name, a
// ProcDir answers exactly as the Root does for the same host-absolute
// name, and the same everywhere. Names the Root would clean or resolve
// differently are refused with ErrInvalid.
func TestProcDirConformance(t *testing.T) {
	es := append(procFixture(), entry{"/proc/1/task/1/stat", "file", "1 (init) S"},
		entry{"/proc/1/task/1/exe", "symlink", "/usr/lib/systemd/systemd"}, entry{"/proc/1/cmdline", "file", "init\x00"})
	roots := rootVariants(t, es)
	ref := roots["in-memory (hostroottest)"]
	refDir, err := ref.OpenProc(1)
	if err != nil {
		t.Fatal(err)
	}
	defer refDir.Close()
	for _, name := range procDirNames {
		for _, op := range []string{"read", "readlink"} {
			want := askProcDir(refDir, op, name)
			if validName(name) {
				// The Root's own answer for the name.
				rootAnswer := ask(ref, query{op, "/proc/1/" + name})
				rootAnswer.Type, rootAnswer.Size = "", 0
				if diff := cmp.Diff(rootAnswer, want); diff != "" {
					t.Errorf("%s %q: ProcDir differs from the Root (-Root +ProcDir):\n%s", op, name, diff)
				}
			} else if want.Err != fs.ErrInvalid.Error() {
				t.Errorf("%s %q = %+v, want ErrInvalid", op, name, want)
			}
			for label, r := range roots {
				d, err := r.OpenProc(1)
				if err != nil {
					t.Fatalf("%s: OpenProc(1): %v", label, err)
				}
				got := askProcDir(d, op, name)
				d.Close()
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s %q: %s differs from in-memory (-memory +%s):\n%s", op, name, label, label, diff)
				}
			}
		}
	}
	for label, r := range roots {
		d, err := r.OpenProc(1)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if b, err := d.AppendStat(nil, 0); err != nil || string(b) != "1 (init) S 0 1 1 0 -1 4194560\n" || d.Gone() {
				t.Errorf("%s: AppendStat = %q, %v; Gone %v", label, b, err, d.Gone())
			}
		}
		d.Close()
		if _, err := d.AppendStat(nil, 0); !errors.Is(err, fs.ErrClosed) {
			t.Errorf("%s: AppendStat after Close = %v, want ErrClosed", label, err)
		}
		if _, err := r.OpenProc(2); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: OpenProc(2) = %v, want ErrNotExist", label, err)
		}
		if _, err := r.OpenProc(0); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("%s: OpenProc(0) = %v, want ErrInvalid", label, err)
		}
	}
}

func validName(name string) bool {
	if name == "" || strings.Contains(name, "\x00") {
		return false
	}
	for _, c := range strings.Split(name, "/") {
		if c == "" || c == "." || c == ".." {
			return false
		}
	}
	return true
}

// TestProcDirLive: on the machine's procfs, a ProcDir of a live process
// answers as the Root does; once the process is reaped AppendStat fails
// with ENOENT and Gone says so, while a zombie is not gone.
func TestProcDirLive(t *testing.T) {
	r, err := hostroot.Native()
	if err != nil {
		t.Skipf("no native root: %v", err)
	}
	defer r.Close()
	cmd := exec.Command("sleep", "3600")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start sleep: %v", err)
	}
	pid := cmd.Process.Pid
	reaped := false
	defer func() {
		if !reaped {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	waitExec(t, r, pid, "sleep\x003600\x00")
	d, err := r.OpenProc(pid)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	for _, name := range []string{"cmdline", "exe", "cwd", "root", "root/etc/hostname", "fd", "fd/0", "ns", "ns/net",
		"ns/missing", "task/" + strconv.Itoa(pid) + "/cmdline", "task/" + strconv.Itoa(pid) + "/exe",
		"task/" + strconv.Itoa(pid) + "/root/etc/hostname", "missing", "stat/x", "../1/stat"} {
		for _, op := range []string{"read", "readlink"} {
			var got, want outcome
			switch op {
			case "read":
				b, err := d.AppendFile(nil, name, 4096)
				got = outcome{Content: string(b), Err: errKey(err)}
				b, err = r.AppendFile(nil, dir+name, 4096)
				want = outcome{Content: string(b), Err: errKey(err)}
			case "readlink":
				s, err := d.Readlink(name)
				got = outcome{Content: s, Err: errKey(err)}
				s, err = r.Readlink(dir + name)
				want = outcome{Content: s, Err: errKey(err)}
			}
			if name == "../1/stat" {
				want = outcome{Err: fs.ErrInvalid.Error()}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s %q: ProcDir differs from the Root (-Root +ProcDir):\n%s", op, name, diff)
			}
		}
	}
	if d.Gone() {
		t.Fatal("Gone() of a sleeping process = true")
	}

	// A zombie is not gone: its stat still reads.
	cmd.Process.Kill()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := d.AppendStat(nil, 0)
		if err != nil {
			t.Fatalf("stat of the dying process: %v", err)
		}
		if strings.Contains(string(b), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the process did not become a zombie: %q", b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if d.Gone() {
		t.Error("Gone() of a zombie = true")
	}

	cmd.Wait()
	reaped = true
	if _, err := d.AppendStat(nil, 0); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), dir+"stat") {
		t.Errorf("AppendStat of a reaped process = %v, want ENOENT naming %s", err, dir+"stat")
	}
	// By name, the files are gone too, unless the PID was reused already.
	for _, name := range []string{"stat", "status", "cmdline", "ns/net"} {
		if _, err := d.AppendFile(nil, name, 0); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), dir+name) {
			t.Errorf("read %s of a reaped process = %v, want ENOENT naming %s", name, err, dir+name)
		}
	}
	for _, name := range []string{"exe", "ns/net"} {
		if _, err := d.Readlink(name); !errors.Is(err, syscall.ENOENT) {
			t.Errorf("readlink %s of a reaped process = %v, want ENOENT", name, err)
		}
	}
	if !d.Gone() {
		t.Error("Gone() of a reaped process = false")
	}
	if _, err := r.OpenProc(pid); !errors.Is(err, fs.ErrNotExist) && err == nil {
		// The PID may already be reused; a fresh ProcDir then reads the
		// new process, which is fine. It must not fail otherwise.
		t.Errorf("OpenProc of a reaped PID = %v", err)
	}
	d.Close()
	if _, err := d.AppendFile(nil, "stat", 0); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("read after Close = %v, want ErrClosed", err)
	}
}

// TestProcDirAllocations: reading a file of a process into a reused buffer
// allocates nothing; reading a link allocates its text.
func TestProcDirAllocations(t *testing.T) {
	d := selfProcDir(t)
	buf := make([]byte, 0, 64<<10)
	var err error
	if n := testing.AllocsPerRun(50, func() {
		buf, err = d.AppendFile(buf[:0], "stat", 0)
		if err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("AppendFile: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(50, func() {
		buf, err = d.AppendStat(buf[:0], 0)
		if err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("AppendStat: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(50, func() {
		if _, err := d.Readlink("exe"); err != nil {
			t.Fatal(err)
		}
	}); n != 1 {
		t.Errorf("Readlink: %v allocations, want 1", n)
	}
}

// TestProcDirReusedInMemory: on a Root read by name, a file read after the
// PID's directory was replaced (another process, a new inode) is the new
// process's; AppendStat and Gone then say the ProcDir's process is gone, so
// the reader discards what it read. A new ProcDir reads the new process.
func TestProcDirReusedInMemory(t *testing.T) {
	h := hostroottest.New().File("/proc/300/stat", "300 (first) S").File("/proc/300/status", "Name:\tfirst\n")
	r := hostroottest.MustRoot(t, h)
	d, err := r.OpenProc(300)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if b, err := d.AppendStat(nil, 0); err != nil || string(b) != "300 (first) S" || d.Gone() {
		t.Fatalf("stat = %q, %v; Gone %v", b, err, d.Gone())
	}
	if _, err := d.AppendFile(nil, "missing", 0); !errors.Is(err, fs.ErrNotExist) || d.Gone() {
		t.Fatalf("missing file: %v, Gone %v; want ENOENT, not gone", err, d.Gone())
	}
	if err := h.RemoveAll("/proc/300"); err != nil {
		t.Fatal(err)
	}
	h.File("/proc/300/stat", "300 (second) S").File("/proc/300/status", "Name:\tsecond\n")
	if b, err := d.AppendFile(nil, "status", 0); err != nil || string(b) != "Name:\tsecond\n" {
		t.Fatalf("status by name = %q, %v; want the second process's", b, err)
	}
	if b, err := d.AppendStat(nil, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stat after reuse = %q, %v; want ENOENT", b, err)
	}
	if !d.Gone() {
		t.Error("Gone() after reuse = false")
	}
	d2, err := r.OpenProc(300)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if b, err := d2.AppendStat(nil, 0); err != nil || string(b) != "300 (second) S" {
		t.Errorf("a new ProcDir reads %q, %v; want the second process", b, err)
	}
}

// waitExec waits until process pid has finished exec-ing the command whose
// cmdline is want. Start returns once the child is forked, and until its
// execve completes its cmdline, exe and comm are those of the test binary,
// changing between two reads. The binary loader sets up the argument area
// last, so once cmdline reads as want the comm and exe have changed too.
func waitExec(t *testing.T, r *hostroot.Root, pid int, want string) {
	t.Helper()
	name := "/proc/" + strconv.Itoa(pid) + "/cmdline"
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := r.ReadFile(name)
		if err == nil && string(b) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d did not exec %q within 10s: cmdline %q, %v", pid, want, b, err)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestProcDirAppendStatConcurrent: AppendStat reads the held file with
// pread, so goroutines sharing a ProcDir, and repeated calls, each get the
// whole of stat.
func TestProcDirAppendStatConcurrent(t *testing.T) {
	d := selfProcDir(t)
	prefix := strconv.Itoa(os.Getpid()) + " ("
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			var buf []byte
			for range 200 {
				b, err := d.AppendStat(buf[:0], 0)
				if err != nil {
					errs <- err
					return
				}
				if !strings.HasPrefix(string(b), prefix) || !strings.HasSuffix(string(b), "\n") {
					errs <- fmt.Errorf("AppendStat read %q, not the whole stat", b)
					return
				}
				buf = b
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// selfProcDir opens the test process's own directory of the native /proc,
// closed when the test ends.
func selfProcDir(t testing.TB) *hostroot.ProcDir {
	t.Helper()
	r, err := hostroot.Native()
	if err != nil {
		t.Skipf("no native root: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	d, err := r.OpenProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}
