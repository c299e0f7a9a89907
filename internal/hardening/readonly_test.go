package hardening

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hostscope/hostscope/internal/testctr"
	"golang.org/x/sys/unix"
)

// mutating are the system calls that change a file system; a reader must
// never make one, not even one that fails.
var mutating = []string{
	"creat", "truncate", "ftruncate", "unlink", "unlinkat", "rename", "renameat", "renameat2",
	"mkdir", "mkdirat", "rmdir", "link", "linkat", "symlink", "symlinkat", "chmod", "fchmod",
	"fchmodat", "fchmodat2", "chown", "fchown", "fchownat", "lchown", "utimensat", "utimes",
	"mknod", "mknodat", "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr",
	"fremovexattr", "fallocate", "mount", "umount2",
}

// writeFlags are the open flags that allow or cause a change.
var writeFlags = []string{"O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND", "O_TMPFILE"}

var traceLine = regexp.MustCompile(`^(?:\[pid +\d+\] |\d+ +)?([a-z0-9_]+)\((.*)`)

// TestTraceEveryOpenReadOnly runs every reader of the library (the
// helper's exercise mode: an inventory with every field and resources,
// devices, udev, mount tables, cgroup layout, runtime state, ProcRoot, the
// io/fs and afero views) under strace, natively and with HOST_PROC on a
// bind mount of /proc, and checks every system call that opens or changes
// a file: every open is read-only, nothing is created, removed, renamed or
// chmod-ed, and the only writes go to stdout, stderr and the Go runtime's
// eventfd.
func TestTraceEveryOpenReadOnly(t *testing.T) {
	requireRoot(t)
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed (CI installs it)")
	}
	bin := helperBinary(t)
	bind := t.TempDir()
	testctr.LockHostMounts(t)
	if err := unix.Mount("/proc", bind, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind-mounting /proc: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(bind, unix.MNT_DETACH) })

	syscalls := append([]string{"open", "openat", "openat2", "write", "pwrite64", "writev", "pwritev", "pwritev2"}, mutating...)
	for label, env := range map[string][]string{
		"native":            {"HOST_PROC="},
		"HOST_PROC on bind": {"HOST_PROC=" + bind},
	} {
		t.Run(label, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "trace")
			// "?" lets a strace that does not know a call (fchmodat2 is
			// recent) trace the others.
			cmd := exec.Command(strace, "-f", "-qq", "-y", "-o", out, "-e", "trace=?"+strings.Join(syscalls, ",?"), bin, "exercise")
			cmd.Env = append(os.Environ(), env...)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("strace %v: %v\n%s", cmd.Args, err, b)
			}
			f, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var opens, writes int
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				line := sc.Text()
				m := traceLine.FindStringSubmatch(line)
				if m == nil || strings.Contains(line, "resumed>") {
					continue
				}
				call, args := m[1], m[2]
				switch {
				case call == "open" || call == "openat" || call == "openat2":
					opens++
					for _, fl := range writeFlags {
						if strings.Contains(args, fl) {
							t.Errorf("an open with %s: %s", fl, line)
						}
					}
				case strings.HasPrefix(call, "write") || strings.HasPrefix(call, "pwrite"):
					writes++
					if !strings.HasPrefix(args, "1<") && !strings.HasPrefix(args, "2<") && !strings.Contains(args, "anon_inode:[eventfd]") {
						t.Errorf("a write to a file: %s", line)
					}
				default:
					t.Errorf("a call that changes a file system: %s", line)
				}
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
			if opens < 500 {
				t.Errorf("only %d opens traced: the exercise did not run", opens)
			}
			t.Logf("%s: %d opens and %d writes traced, all read-only or to stdout/stderr", label, opens, writes)
		})
	}
}
